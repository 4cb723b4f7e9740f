"""``python cli.py sql "SELECT …"``: one query against the warehouse, read only.

pip's ``duckdb`` package is the Python library, not the DuckDB shell, so ``duckdb
warehouse/demo.duckdb`` is not there to type after ``pip install``; this is: the warehouse
opened read-only (a query cannot change it) with no file system access (a query cannot read or
write other files, ``COPY … TO`` included), and the result printed by ``console.query``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from go1sync.errors import UsageError
from go1sync.settings import Config
from warehouse.connection import connect


class QueryError(UsageError):
    """DuckDB refused the query (its syntax, a missing table, a write): its message in one
    line (exit 2, as bad usage: nothing was changed)."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(config: Config, sql: str, warehouse: Path | None = None) -> QueryResult:
    """Run ``sql`` on ``warehouse`` (default: the configured one), read-only, and fetch every
    row."""
    path = warehouse or config.warehouse_path()
    con = connect(path, read_only=True, memory_limit=config.memory_limit())
    try:
        # cannot be turned on again by the query itself once off
        con.execute("SET enable_external_access = false")
        try:
            cursor = con.execute(sql)
            columns = [str(d[0]) for d in cursor.description or []]
            rows = cursor.fetchall() if columns else []
        except duckdb.Error as exc:
            message = " ".join(str(exc).split())
            if "read-only mode" in message:
                message += " (`sql` only reads the warehouse)"
            raise QueryError(f"the query failed: {message}") from None
        return QueryResult(columns, rows)
    finally:
        con.close()


def plain(value: Any) -> Any:
    """A DuckDB value as JSON can hold it: numbers stay numbers (a DECIMAL as a float, an
    integer as is), times in ISO 8601, lists and structs as JSON lists and objects."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)
