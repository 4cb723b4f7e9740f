"""Reading 360Learning back: what the platform holds now.

For the reconciliation report, each pushed course is read through its integration (there is
no endpoint that lists an integration's courses); the platform's courses, attempts and users
are listed page by page. Everything lands verbatim in ``raw.l360_*`` for this run, in one
transaction, so a report always compares one consistent read; the comparison itself is SQL.
The push lists the users too, to match learners by email (``land_users``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
from sqlglot import exp

from load.client import L360Client
from load.course_ids import external_course

_USERS = ("raw.l360_users", "/api/v2/users", ("user_id", "mail"), ("_id", "mail"))
_LISTS = (  # (table, path, id field, extra columns from the record)
    ("raw.l360_courses", "/api/v2/courses", ("course_id",), ("_id",)),
    ("raw.l360_course_stats", "/api/v2/courses/stats", ("course_id", "user_id"),
     ("courseId", "userId")),
    _USERS,
)


@dataclass
class ReadBack:
    counts: dict[str, int] = field(default_factory=dict)


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
            rows: list[tuple[Any, ...]]) -> None:
    """Insert rows in one set-based statement, a list per column (``executemany`` goes row by
    row: 12 s for 20,000 users)."""
    if not rows:
        return
    names = ["_run_id", "_extracted_at", *columns, "record"]
    select = exp.select(*(exp.Unnest(expressions=[exp.Placeholder(this=f"c{i}")]).as_(name)
                          for i, name in enumerate(names)))
    statement = exp.insert(select, exp.to_table(table), columns=names)
    con.execute(statement.sql("duckdb"),
                {f"c{i}": list(values) for i, values in enumerate(zip(*rows, strict=True))})


def _chunks(items: Iterable[dict[str, Any]], size: int = 5000) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_back(con: duckdb.DuckDBPyConnection, client: L360Client, integration_id: str,
              run_id: int) -> ReadBack:
    result = ReadBack()
    now = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        pushed = [str(r[0]) for r in con.execute(
            "SELECT external_id FROM meta.pushed_courses ORDER BY 1").fetchall()]
        rows: list[tuple[Any, ...]] = []
        for external_id in pushed:
            data = external_course(client, integration_id, external_id)
            rows.append((run_id, now, external_id, data is not None,
                         None if data is None else json.dumps(data)))
        _insert(con, "raw.l360_integration_courses", ("external_id", "found"), rows)
        result.counts["integration_courses"] = len(rows)
        for table, path, columns, fields in _LISTS:
            result.counts[table.removeprefix("raw.l360_")] = _land_list(
                con, client, run_id, now, table, path, columns, fields)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _land_list(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int,
               now: datetime, table: str, path: str, columns: tuple[str, ...],
               fields: tuple[str, ...]) -> int:
    """Land every item of a paged list as this run's rows; return how many."""
    landed = 0
    for chunk in _chunks(client.get_all(path)):
        _insert(con, table, columns, [
            (run_id, now, *(_text(item.get(f)) for f in fields), json.dumps(item))
            for item in chunk])
        landed += len(chunk)
    return landed


def land_users(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int) -> int:
    """360Learning's users, every page, as the current listing; older listings are dropped
    (a platform's whole user list per run would grow the warehouse for nothing).

    In one transaction: a listing cut short by a failure leaves the previous one in place.
    """
    table, path, columns, fields = _USERS
    con.execute("BEGIN TRANSACTION")
    try:
        landed = _land_list(con, client, run_id, datetime.now(UTC), table, path, columns,
                            fields)
        con.execute("DELETE FROM raw.l360_users WHERE _run_id < ?", [run_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return landed


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
