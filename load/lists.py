"""360Learning's paged lists, landed verbatim in ``raw.l360_*``.

The push lists the platform's users to match learners by email (:func:`land_users`); the
reconciliation's read-back lists users, courses and attempts the same way (reconcile reads
them with :func:`land_list`). Each item lands as it came, with the run that read it and a few
keys pulled out for joins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
from sqlglot import exp

from load.client import L360Client
from warehouse.connection import transaction


@dataclass(frozen=True)
class RawList:
    """A list endpoint and the raw table it lands in; ``columns`` are filled from ``fields``
    of each item."""

    table: str
    path: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()


USERS = RawList("raw.l360_users", "/api/v2/users", ("user_id", "mail"), ("_id", "mail"))
# The integration's courses are external ones: the filter keeps a platform's native courses
# out of the pages (500 a page: the read-back's floor for a large catalog). The SCORM imports
# are listed too, into the same table: reconcile looks there for Go1 content imported twice.
COURSES = RawList("raw.l360_courses", "/api/v2/courses", ("course_id",), ("_id",),
                  (("type[eq]", "external"),))
SCORM_COURSES = RawList("raw.l360_courses", "/api/v2/courses", ("course_id",), ("_id",),
                        (("type[eq]", "elearning standard"),))
COURSE_STATS = RawList("raw.l360_course_stats", "/api/v2/courses/stats",
                       ("course_id", "user_id"), ("courseId", "userId"))


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
                rows: list[tuple[Any, ...]]) -> None:
    """Insert ``(_run_id, _extracted_at, *columns, record)`` rows in one set-based statement,
    a list per column (``executemany`` goes row by row: 12 s for 20,000 users)."""
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


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def land_list(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int, now: datetime,
              raw: RawList, landing: Callable[[int], None] = lambda landed: None) -> int:
    """Land every item of a paged list as this run's rows; return how many. ``landing``
    hears the count so far after each chunk (a progress bar)."""
    landed = 0
    for chunk in _chunks(client.get_all(raw.path, list(raw.params))):
        insert_rows(con, raw.table, raw.columns, [
            (run_id, now, *(_text(item.get(f)) for f in raw.fields), json.dumps(item))
            for item in chunk])
        landed += len(chunk)
        landing(landed)
    return landed


def land_users(con: duckdb.DuckDBPyConnection, client: L360Client, run_id: int) -> int:
    """360Learning's users, every page, as the current listing; older listings are dropped
    (a platform's whole user list per run would grow the warehouse for nothing).

    In one transaction: a listing cut short by a failure leaves the previous one in place.
    """
    with transaction(con):
        landed = land_list(con, client, run_id, datetime.now(UTC), USERS)
        con.execute("DELETE FROM raw.l360_users WHERE _run_id < ?", [run_id])
    return landed
