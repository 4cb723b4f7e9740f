"""The comparison's result as a report: every category with its rows, and the trend.

The comparison is ``models/reconcile/differences.sql``; the categories' titles, likely causes
and whether a push can repair them are the seed ``models/seeds/reconcile_categories.csv``. This
module turns their rows into a :class:`reconcile.report.Report`, with the counts of past
reconcile runs for the trend (``commands.reconcile`` runs the whole command).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from reconcile.report import HISTORY_RUNS, Category, HistoryPoint, Report

COLUMNS = ["go1_key", "external_course_id", "user_email", "go1_value", "l360_value", "detail"]


def build_report(con: duckdb.DuckDBPyConnection, run_id: int) -> Report:
    """Every category of the seed, in its order, with its rows of ``reconcile.differences``
    (a category without rows stays: "none" is the news a person wants to read)."""
    categories = []
    for key, title, cause in con.execute(
            "SELECT category, title, cause_and_fix FROM seeds.reconcile_categories "
            "ORDER BY position").fetchall():
        cursor = con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM reconcile.differences WHERE category = ? "
            "ORDER BY external_course_id NULLS LAST, user_email NULLS LAST, go1_key", [key])
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        categories.append(Category(str(key), str(title), str(cause), COLUMNS, rows))
    return Report(run_id, datetime.now(UTC), categories, history(con))


def history(con: duckdb.DuckDBPyConnection) -> list[HistoryPoint]:
    """The counts of the last successful reconcile runs, oldest first, as their run records
    stored them (``meta.runs.counts``): the trend needs no table of its own. One fewer than
    :data:`HISTORY_RUNS`: the run being made is added by the command, once it has counted."""
    points = []
    for run_id, at, counts in con.execute(
            "SELECT run_id, started_at, counts FROM meta.runs WHERE command = 'reconcile' "
            "AND status = 'success' ORDER BY run_id DESC LIMIT ?", [HISTORY_RUNS - 1]).fetchall():
        found: dict[str, Any] = (json.loads(counts) if counts else {}).get("reconcile") or {}
        points.append(HistoryPoint(int(run_id), at,
                                   {k: int(v) for k, v in found.items() if k != "requeued"}))
    return list(reversed(points))
