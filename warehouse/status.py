"""What ``python cli.py status`` shows: recent runs, cursors, open operations, rejects; and the
few counts of the marts the demo prints.

Read-only: it never changes the warehouse, so it is safe to run at any time (DuckDB refuses a
second process while a run writes; the connection says so in one line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.connection import connect, warehouse_target
from warehouse.errors import WarehouseError, fault_error
from warehouse.readings import Reading, all_readings


@dataclass
class Status:
    runs: list[dict[str, Any]] = field(default_factory=list)
    cursors: list[tuple[str, Any]] = field(default_factory=list)
    unconfirmed: list[tuple[str, str, int, Any]] = field(default_factory=list)
    # rows whose submit's answer was lost, by kind: (kind, rows, since)
    uncertain: list[tuple[str, int, Any]] = field(default_factory=list)
    rejects: list[tuple[str, str, int]] = field(default_factory=list)
    unpushed: list[tuple[str, str, int]] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    without_account: list[tuple[str, int, Any]] = field(default_factory=list)
    without_account_total: int = 0
    # the run writing the warehouse now, as its lock file tells (then nothing else is known)
    in_progress: dict[str, Any] | None = None
    # the webhook inbox beside the warehouse: (events waiting, events done), None: no inbox
    inbox: tuple[int, int] | None = None


def _has(con: Any, schema: str, table: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables "
                      "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchone()
    return bool(row and row[0])


@contextmanager
def _reading(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection whose local faults are told in one line: DuckDB reads a table's
    blocks only when a query needs them, so a corrupt or truncated file may open and fail at
    the first SELECT; and a DuckDB file that holds no go1sync warehouse is told as such."""
    target = warehouse_target(path)
    con = connect(target, read_only=True)
    try:
        if not _has(con, "meta", "runs"):
            raise WarehouseError(f"{target} is a DuckDB file but no go1sync warehouse (it has no "
                                 "meta.runs): check GO1SYNC_WAREHOUSE, or run "
                                 "`python cli.py extract` to make one")
        yield con
    except duckdb.Error as exc:
        known = fault_error(target, exc)
        if known is None:
            raise
        raise known from exc
    finally:
        con.close()


def read_status(path: Path, runs: int = 10) -> Status:
    with _reading(path) as con:
        status = Status()
        cursor = con.execute(
            "SELECT run_id, command, status, started_at, finished_at, counts, error "
            "FROM meta.runs ORDER BY run_id DESC LIMIT ?", [runs])
        names = [d[0] for d in cursor.description]
        status.runs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        status.cursors = [(str(s), c) for s, c in con.execute(
            "SELECT stream, cursor_value FROM meta.cursors ORDER BY stream").fetchall()]
        if _has(con, "meta", "bulk_operations"):
            status.unconfirmed = [(str(a), str(b), int(c), d) for a, b, c, d in con.execute(
                "SELECT operation_id, kind, items, submitted_at FROM meta.bulk_operations "
                "WHERE status = 'submitted' ORDER BY submitted_at").fetchall()]
        if _has(con, "meta", "push_ledger"):
            status.uncertain = [(str(a), int(b), c) for a, b, c in con.execute(
                "SELECT kind, count(*), min(updated_at) FROM meta.push_ledger "
                "WHERE status = 'uncertain' GROUP BY 1 ORDER BY 3").fetchall()]
        if _has(con, "marts", "rejects"):
            status.rejects = [(str(a), str(b), int(c)) for a, b, c in con.execute(
                "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL "
                "ORDER BY 3 DESC").fetchall()]
        if _has(con, "meta", "push_ledger"):
            status.unpushed = [(str(a), str(b), int(c)) for a, b, c in con.execute(
                "SELECT kind, coalesce(error, status), count(*) FROM meta.push_ledger AS l "
                "WHERE run_id = (SELECT max(run_id) FROM meta.push_ledger WHERE kind = l.kind) "
                "AND status <> 'success' GROUP BY ALL ORDER BY 3 DESC LIMIT 20").fetchall()]
        if _has(con, "meta", "api_readings"):
            status.readings = all_readings(con)
        if _has(con, "meta", "learners_without_account"):
            status.without_account = [(str(a), int(b), c) for a, b, c in con.execute(
                "SELECT user_email, attempts, first_seen_at FROM meta.learners_without_account "
                "ORDER BY attempts DESC, user_email LIMIT 20").fetchall()]
            row = con.execute("SELECT count(*) FROM meta.learners_without_account").fetchone()
            status.without_account_total = int(row[0]) if row else 0
        return status


@dataclass(frozen=True)
class MartsSummary:
    live_courses: int
    archived_courses: int
    open_attempts: int
    closed_attempts: int
    rejects: int


def read_marts_summary(path: Path) -> MartsSummary:
    """What the mapping made of Go1 in a few numbers (the demo shows them after each run)."""
    with _reading(path) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM marts.content_360 WHERE NOT archived),"
            " (SELECT count(*) FROM marts.content_360 WHERE archived),"
            " (SELECT count(*) FROM marts.attempts_360 WHERE attempt_state = 'open'),"
            " (SELECT count(*) FROM marts.attempts_360 WHERE attempt_state = 'closed'),"
            " (SELECT count(*) FROM marts.rejects)").fetchone()
    return MartsSummary(*(int(v) for v in (row or (0, 0, 0, 0, 0))))
