"""The comparison's result as a report: every category with its rows, and the trend.

The comparison is ``models/reconcile/differences.sql``; the categories' kind (needs action or
excluded by design), severity, titles, likely causes, columns and whether a push can repair
them are the seed ``models/seeds/reconcile_categories.csv``. This module turns their rows into
a :class:`reconcile.report.Report`, with the counts of past reconcile runs for the trend and,
against the keys the previous reconcile found (``meta.reconcile_keys``), which rows are new
and how many were resolved (``commands.reconcile`` runs the whole command).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from reconcile.report import HISTORY_RUNS, Category, Context, HistoryPoint, Report
from warehouse.connection import transaction

#: The fields of a difference row (``reconcile.differences``), in the order the exports write
#: them; the seed's ``columns`` picks those worth showing for each category.
COLUMNS = ["go1_key", "external_course_id", "course_title", "user_email", "go1_value",
           "l360_value", "detail"]

# Each row of one category, with whether the previous reconcile found its key ($keyed: whether
# that is known at all). An anti-join rather than NOT IN: no NULL can turn it false.
_ROWS = (
    f"SELECT {', '.join('d.' + c for c in COLUMNS)}, d.row_key, "
    "CASE WHEN $keyed THEN k.row_key IS NULL END AS new "
    "FROM reconcile.differences AS d "
    "LEFT JOIN (SELECT DISTINCT row_key FROM meta.reconcile_keys "
    "           WHERE run_id = $previous AND category = $category) AS k "
    "    ON k.row_key = d.row_key "
    "WHERE d.category = $category "
    "ORDER BY d.external_course_id NULLS LAST, d.user_email NULLS LAST, d.go1_key, d.row_key")
_RESOLVED = (
    "SELECT k.row_key FROM (SELECT DISTINCT row_key FROM meta.reconcile_keys "
    "                       WHERE run_id = $previous AND category = $category) AS k "
    "WHERE NOT EXISTS (SELECT 1 FROM reconcile.differences AS d "
    "                  WHERE d.category = $category AND d.row_key = k.row_key) "
    "ORDER BY 1")


def build_report(con: duckdb.DuckDBPyConnection, run_id: int, profile: str | None = None,
                 platform_url: str | None = None) -> Report:
    """Every category of the seed with its rows of ``reconcile.differences`` (a category
    without rows stays: "none" is the news a person wants to read), each compared with the
    previous successful reconcile run."""
    past = history(con)
    previous = past[-1] if past else None
    recorded = previous is not None and _keys_recorded(con, previous.run_id)
    categories = []
    for key, kind, severity, title, cause, shown in con.execute(
            "SELECT category, kind, severity, title, cause_and_fix, columns "
            "FROM seeds.reconcile_categories ORDER BY severity, category").fetchall():
        before = None if previous is None else previous.counts.get(str(key), 0)
        # keys are known when the previous run recorded them, or found none to record
        keyed = before is not None and (recorded or before == 0)
        params = {"category": key, "keyed": keyed,
                  "previous": previous.run_id if previous else -1}
        cursor = con.execute(_ROWS, params)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if not keyed:
            for row in rows:
                row.pop("new")
        resolved_keys: list[str] = []
        resolved: int | None = None
        if keyed and before:
            resolved_keys = [str(k) for (k,) in con.execute(
                _RESOLVED, {"category": key, "previous": params["previous"]}).fetchall()]
            resolved = len(resolved_keys)
        elif before is not None and (before == 0 or not rows):
            resolved = before  # none before, or all of them gone
        categories.append(Category(
            str(key), str(title), str(cause), _columns(shown), rows, kind=str(kind),
            severity=int(severity), previous=before, resolved=resolved,
            resolved_keys=resolved_keys, keyed=keyed))
    return Report(run_id, datetime.now(UTC), categories, past,
                  context=read_context(con, profile, platform_url),
                  previous_run_id=previous.run_id if previous else None)


def _columns(shown: Any) -> list[str]:
    """The seed's ``columns`` (space-separated row fields); all of them when it names none."""
    picked = str(shown or "").split()
    unknown = [c for c in picked if c not in COLUMNS]
    if unknown:
        raise ValueError(f"models/seeds/reconcile_categories.csv names unknown columns "
                         f"{unknown}: choose among {COLUMNS}")
    return picked or list(COLUMNS)


def _keys_recorded(con: duckdb.DuckDBPyConnection, run_id: int) -> bool:
    row = con.execute("SELECT count(*) > 0 FROM meta.reconcile_keys WHERE run_id = ?",
                      [run_id]).fetchone()
    return bool(row and row[0])


def read_context(con: duckdb.DuckDBPyConnection, profile: str | None,
                 platform_url: str | None) -> Context:
    """The report's context: the settings it ran with, when Go1 was last extracted (the last
    stream that succeeded) and when 360Learning was read back (the latest read-back)."""
    extracted = con.execute(
        "SELECT max(coalesce(finished_at, started_at)) FROM meta.stream_runs "
        "WHERE status = 'success'").fetchone()
    read = con.execute(
        "SELECT max(_extracted_at) FROM (SELECT _extracted_at FROM raw.l360_users "
        "UNION ALL SELECT _extracted_at FROM raw.l360_courses)").fetchone()
    coverage = con.execute(
        "WITH run AS (SELECT max(_run_id) AS id FROM raw.l360_courses) "
        "SELECT (SELECT count(*) FROM meta.pushed_courses AS p JOIN raw.l360_courses AS l "
        "        ON l.course_id = p.course_id AND l._run_id = (SELECT id FROM run)), "
        "       (SELECT count(*) FROM raw.l360_integration_courses "
        "        WHERE _run_id = (SELECT id FROM run)), (SELECT id FROM run)").fetchone()
    listed, one_by_one = ((int(coverage[0]), int(coverage[1]))
                          if coverage and coverage[2] is not None else (None, None))
    return Context(profile, platform_url, extracted[0] if extracted else None,
                   read[0] if read else None, listed, one_by_one)


def remember_keys(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Keep the keys this run found, in place of the last run's: the next report compares
    with them."""
    with transaction(con):
        con.execute("DELETE FROM meta.reconcile_keys")
        con.execute("INSERT INTO meta.reconcile_keys (run_id, category, row_key) "
                    "SELECT DISTINCT ?, category, row_key FROM reconcile.differences", [run_id])


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
