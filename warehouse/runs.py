"""Run records: one row per command in ``meta.runs``, so every change has a when and a why."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import duckdb


def start_run(con: duckdb.DuckDBPyConnection, command: str,
              options: Mapping[str, Any]) -> int:
    """Record a run as ``running`` and return its id; committed at once so a crash is visible."""
    row = con.execute(
        "INSERT INTO meta.runs (run_id, command, options, started_at, status, pid) "
        "VALUES (nextval('meta.run_ids'), ?, ?, now(), 'running', ?) RETURNING run_id",
        [command, json.dumps(dict(options), default=str), os.getpid()],
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, status: str,
               counts: Mapping[str, Any] | None = None, error: str | None = None) -> None:
    con.execute(
        "UPDATE meta.runs SET finished_at = now(), status = ?, counts = ?, error = ? "
        "WHERE run_id = ?",
        [status, json.dumps(dict(counts or {}), default=str), error, run_id],
    )


def close_abandoned_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs left ``running`` by a process that died; only called under the run lock."""
    rows = con.execute(
        "UPDATE meta.runs SET status = 'failed', finished_at = coalesce(finished_at, now()), "
        "error = coalesce(error, 'interrupted: the process ended before the run finished') "
        "WHERE status = 'running' RETURNING run_id"
    ).fetchall()
    return len(rows)
