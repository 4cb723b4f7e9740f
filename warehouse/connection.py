"""Opening the DuckDB file: UTC session, migrations applied, local faults explained.

Every local fault becomes one true line (:func:`warehouse.errors.fault_error`): a lock held by
another process, a corrupt file, a full disk, a folder that cannot be written are each told as
what they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from go1sync.settings import memory_bytes, setting_default
from warehouse.errors import WarehouseError, fault_error, file_in_the_way, os_failure
from warehouse.migrations import apply_migrations, warehouse_schemas

DEFAULT_MEMORY_LIMIT = setting_default("warehouse.memory_limit")  # owned by the setting
# Each DuckDB thread needs memory of its own that does not spill: DuckDB's advice against
# out-of-memory errors is fewer threads first, and at least 128 MB of the limit per thread.
# Measured here: building the statistics records' JSON within 64 MB fails on two threads
# and passes on one. DuckDB's default (a thread per core) would give a 16-core server 16 MB
# a thread under the 256 MB default, and a run that fails where a laptop passes.
MEMORY_PER_THREAD = 128 * 10**6  # 128 MB, as DuckDB reads "MB"


def thread_count(memory_limit: str) -> int:
    """DuckDB's threads under ``memory_limit``: one per :data:`MEMORY_PER_THREAD`, at most one
    per core this process may run on, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)
    return max(1, min(cores, memory_bytes(memory_limit) // MEMORY_PER_THREAD))


def connect(path: Path | str, *, read_only: bool = False,
            memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A connection whose session speaks UTC, so TIMESTAMPTZ values never shift on display.

    DuckDB would otherwise cache up to 80% of the machine's memory; a fixed limit (it spills
    to a temporary directory beside the file past it) keeps a run's memory flat whatever the
    number of enrollments, with threads to match it (:func:`thread_count`). Results keep no
    insertion order unless a query asks for one (every query whose order matters has its
    ORDER BY), which lets DuckDB stream them instead of holding a materialised result in
    memory (DuckDB's own advice when it runs out).
    """
    target = warehouse_target(path)
    if not read_only:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_failure(target, target.parent, exc, "create the folder") from None
    elif not target.exists():
        if (blocker := file_in_the_way(target)) is not None:
            raise WarehouseError(f"no warehouse at {target}: {blocker} is a file, not a folder")
        raise WarehouseError(f"no warehouse at {target}: run `python cli.py extract` first")
    try:
        con = duckdb.connect(str(target), read_only=read_only,
                             config={"memory_limit": memory_limit,
                                     "threads": thread_count(memory_limit),
                                     "preserve_insertion_order": False})
    except duckdb.Error as exc:
        known = fault_error(target, exc)
        if known is None:
            raise WarehouseError(f"cannot open the warehouse {target}: "
                                 f"{' '.join(str(exc).split())}") from None
        raise known from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def warehouse_target(path: Path | str) -> Path:
    """The warehouse file ``path`` names, ``~`` expanded as DuckDB expands it (the lock file
    must sit beside the very file DuckDB opens); a folder is refused here, before DuckDB
    reads it as a database and fails with a lock or read error that would not say so."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise WarehouseError(f"the warehouse path {target} is a folder, not a DuckDB file: give "
                             f"the path of a file, such as {target / 'go1sync.duckdb'}")
    # DuckDB names the file's catalog after its stem: raw.duckdb makes every ``raw.x`` an
    # "ambiguous reference" between the catalog and the schema, at the first query
    if target.stem.lower() in warehouse_schemas():
        raise WarehouseError(f"the warehouse file {target} is named like one of its schemas "
                             f"({target.stem}), which DuckDB cannot tell apart: name it "
                             f"otherwise, such as {target.with_name('go1sync.duckdb')}")
    return target


def open_warehouse(path: Path | str, *, read_only: bool = False,
                   memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Connect and bring the schema up to date (migrations need a writable file)."""
    con = connect(path, read_only=read_only, memory_limit=memory_limit)
    if not read_only:
        try:
            apply_migrations(con, warehouse=warehouse_target(path))
        except BaseException:
            close_quietly(con)
            raise
    return con


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK, whatever it says: after a COMMIT that failed (a full disk) DuckDB has already
    ended the transaction, or invalidated the database, and refuses the ROLLBACK; that refusal
    must never replace the error that made it necessary."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def close_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Close while another error is on its way up: a checkpoint the full disk refuses must not
    hide it (what was committed is in the WAL, which the next open replays)."""
    with suppress(duckdb.Error):
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction: committed when the block ends, rolled back on any exception
    (Ctrl-C included) or a failed COMMIT, and the original error goes on up. The push and the
    read-back write each step this way, so a step cut short leaves what was committed before
    it and nothing of itself."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        # the COMMIT itself may have failed (a full disk): the ROLLBACK is then refused, and
        # the COMMIT's error is the one that goes on up
        rollback_quietly(con)
        raise
