"""The report's trend: past reconcile runs, as their run records counted them.

No API here: the run records are written by hand, so which runs the trend takes is pinned.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconcile.compare import history
from reconcile.report import HISTORY_RUNS
from warehouse import open_warehouse


def test_the_trend_takes_the_last_successful_runs_leaving_room_for_this_one(
        tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(1, HISTORY_RUNS + 6):
        status = "failed" if n == HISTORY_RUNS + 3 else "success"
        counts = {"reconcile": {"attempt_missing": n, "course_missing": 0, "requeued": 7}}
        con.execute("INSERT INTO meta.runs (run_id, command, started_at, status, counts) "
                    "VALUES (?, 'reconcile', ?, ?, ?)",
                    [n, start + timedelta(days=n), status, json.dumps(counts)])
    con.execute("INSERT INTO meta.runs (run_id, command, started_at, status, counts) "
                "VALUES (100, 'run', ?, 'success', '{}')", [start])
    points = history(con)
    con.close()
    # the run being made is added by the command: HISTORY_RUNS in all, as the chart draws
    assert len(points) == HISTORY_RUNS - 1
    successful = [n for n in range(1, HISTORY_RUNS + 6) if n != HISTORY_RUNS + 3]
    assert [p.run_id for p in points] == successful[-(HISTORY_RUNS - 1):]
    assert points[-1].counts == {"attempt_missing": HISTORY_RUNS + 5, "course_missing": 0}
