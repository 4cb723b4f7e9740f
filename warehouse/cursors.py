"""Per-stream cursors: where the next incremental read starts.

Cursors are written inside the stream's transaction, with its raw rows, so a stream that fails
keeps the cursor it had.
"""

from __future__ import annotations

from datetime import datetime

import duckdb


def get_cursor(con: duckdb.DuckDBPyConnection, stream: str) -> datetime | None:
    row = con.execute(
        "SELECT cursor_value FROM meta.cursors WHERE stream = ?", [stream]
    ).fetchone()
    return None if row is None else row[0]


def set_cursor(con: duckdb.DuckDBPyConnection, stream: str, value: datetime, run_id: int) -> None:
    con.execute(
        "INSERT OR REPLACE INTO meta.cursors VALUES (?, ?, ?, now())", [stream, value, run_id]
    )
