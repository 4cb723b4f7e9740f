"""Opening the DuckDB file: UTC session, migrations applied, lock conflicts explained."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError
from warehouse.migrations import apply_migrations

_PID = re.compile(r"PID (\d+)")


DEFAULT_MEMORY_LIMIT = "256MB"


def connect(path: Path | str, *, read_only: bool = False,
            memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A connection whose session speaks UTC, so TIMESTAMPTZ values never shift on display.

    DuckDB would otherwise cache up to 80% of the machine's memory; a fixed limit (it spills
    to a temporary directory beside the file past it) keeps a run's memory flat whatever the
    number of enrollments.
    """
    target = Path(path)
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    elif not target.exists():
        raise WarehouseError(f"no warehouse at {target}: run `python cli.py extract` first")
    try:
        con = duckdb.connect(str(target), read_only=read_only,
                             config={"memory_limit": memory_limit})
    except duckdb.IOException as exc:
        pid = _PID.search(str(exc))
        holder = f" (pid {pid[1]})" if pid else ""
        raise WarehouseError(
            f"the warehouse {target} is open in another process{holder}; "
            "close it (a DuckDB shell, say) or wait for it to finish"
        ) from None
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def open_warehouse(path: Path | str, *, read_only: bool = False,
                   memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Connect and bring the schema up to date (migrations need a writable file)."""
    con = connect(path, read_only=read_only, memory_limit=memory_limit)
    if not read_only:
        apply_migrations(con)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction: committed when the block ends, rolled back on any exception
    (Ctrl-C included), which goes on up. The push and the read-back write each step this way,
    so a step cut short leaves what was committed before it and nothing of itself."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
