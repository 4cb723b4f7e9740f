"""API readings: what the live platform answered where the documents leave a choice open.

Each one is checked once, on the platform itself, and remembered in ``meta.api_readings`` per
API base URL, so a later run takes the same path without asking again, and ``status`` shows
what go1sync found. A reading written inside a stream's transaction commits with its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class Reading:
    api: str
    base_url: str
    reading: str
    value: str
    detail: str | None
    checked_at: datetime


def get_reading(con: duckdb.DuckDBPyConnection, api: str, base_url: str,
                reading: str) -> str | None:
    row = con.execute("SELECT value FROM meta.api_readings WHERE api = ? AND base_url = ? "
                      "AND reading = ?", [api, base_url, reading]).fetchone()
    return None if row is None else str(row[0])


def set_reading(con: duckdb.DuckDBPyConnection, api: str, base_url: str, reading: str,
                value: str, detail: str | None = None, run_id: int | None = None) -> None:
    con.execute("INSERT OR REPLACE INTO meta.api_readings VALUES (?, ?, ?, ?, ?, ?, now())",
                [api, base_url, reading, value, detail, run_id])


def all_readings(con: duckdb.DuckDBPyConnection) -> list[Reading]:
    return [Reading(*row) for row in con.execute(
        "SELECT api, base_url, reading, value, detail, checked_at FROM meta.api_readings "
        "ORDER BY api, reading, base_url").fetchall()]
