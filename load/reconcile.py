"""``python cli.py reconcile``: read 360Learning back, compare in SQL, explain each difference.

The comparison is ``models/reconcile/differences.sql``; the categories' titles and likely
causes are the seed ``models/seeds/reconcile_categories.csv``. This module reads back, runs
those models, and turns their rows into a :class:`warehouse.report.Report`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from load.client import L360Client
from load.errors import LoadError
from load.readback import read_back
from settings import Config
from warehouse.models import load_project, run_project
from warehouse.report import Category, HistoryPoint, Report
from warehouse.session import run_session
from warehouse.transform import MODELS_DIR

COLUMNS = ["go1_key", "external_course_id", "user_email", "go1_value", "l360_value", "detail"]
COURSE_CATEGORIES = ("course_missing", "archived_in_360_published_in_go1",
                     "live_in_360_archived_in_go1", "course_fields_differ")
ATTEMPT_CATEGORIES = ("attempt_missing", "attempt_values_differ",
                      "open_in_360_completed_in_go1")


def run_reconcile(config: Config, requeue: bool = False) -> tuple[Report, int]:
    """Read back, compare, and (with ``requeue``) mark the differing rows to be sent again;
    return the report and how many rows were requeued."""
    settings = config.l360()
    project = load_project(MODELS_DIR, variables=config.model_variables())
    with run_session(config.warehouse_path(), "reconcile", {"requeue": requeue},
                     config.memory_limit()) as session:
        con = session.con
        target = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
        if target is None:
            raise LoadError("nothing was pushed from this warehouse yet: run `python cli.py "
                            "push` (or run) first")
        with L360Client(settings) as client:
            read_back(con, client, str(target[0]), session.run_id)
        run_project(con, project, session.run_id)
        report = build_report(con, session.run_id)
        requeued = _requeue(con) if requeue else 0
        session.counts = {c.key: c.count for c in report.categories} | {"requeued": requeued}
        report.history.append(HistoryPoint(session.run_id, report.generated_at,
                                           {c.key: c.count for c in report.categories}))
        return report, requeued


def build_report(con: duckdb.DuckDBPyConnection, run_id: int) -> Report:
    categories = []
    for key, title, cause in con.execute(
            "SELECT category, title, cause_and_fix FROM seeds.reconcile_categories "
            "ORDER BY position").fetchall():
        cursor = con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM reconcile.differences WHERE category = ? "
            "ORDER BY external_course_id NULLS LAST, user_email NULLS LAST, go1_key", [key])
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        categories.append(Category(str(key), str(title), str(cause), COLUMNS, rows))
    return Report(run_id, datetime.now(UTC), categories, _history(con))


def _history(con: duckdb.DuckDBPyConnection) -> list[HistoryPoint]:
    points = []
    for run_id, at, counts in con.execute(
            "SELECT run_id, started_at, counts FROM meta.runs WHERE command = 'reconcile' "
            "AND status = 'success' ORDER BY run_id DESC LIMIT 30").fetchall():
        found: dict[str, Any] = json.loads(counts) if counts else {}
        points.append(HistoryPoint(int(run_id), at,
                                   {k: int(v) for k, v in found.items() if k != "requeued"}))
    return list(reversed(points))


def _requeue(con: duckdb.DuckDBPyConnection) -> int:
    """Make the next push send the differing rows again (the diff sees them as changed)."""
    # A course archived in 360Learning but published in Go1 is marked archived, so the push
    # restores it (an upsert alone does not); the others are marked live, so a course live
    # there but archived in Go1 is archived again and the rest are upserted.
    courses = con.execute(
        "UPDATE meta.pushed_courses AS p SET payload_hash = 'requeued', "
        "archived = d.restore "
        "FROM (SELECT go1_key, bool_or(category = 'archived_in_360_published_in_go1') AS "
        "      restore FROM reconcile.differences "
        "      WHERE category IN (SELECT unnest($c)) GROUP BY go1_key) AS d "
        "WHERE p.external_id = d.go1_key RETURNING 1",
        {"c": list(COURSE_CATEGORIES)}).fetchall()
    attempts = con.execute(
        "DELETE FROM meta.pushed_attempts WHERE go1_enrollment_id IN "
        "(SELECT go1_key FROM reconcile.differences WHERE category IN (SELECT unnest($c))) "
        "RETURNING 1", {"c": list(ATTEMPT_CATEGORIES)}).fetchall()
    return len(courses) + len(attempts)
