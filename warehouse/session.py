"""A writing command's session: run lock, migrated warehouse, and a run record that always ends.

Every command that writes (extract, transform, push, run) goes through :func:`run_session`, so
each one is refused while another runs, and each leaves a row in ``meta.runs`` with its outcome,
even when it fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.connection import DEFAULT_MEMORY_LIMIT, open_warehouse
from warehouse.lock import RunLock
from warehouse.runs import close_abandoned_runs, finish_run, start_run


@dataclass
class RunSession:
    con: duckdb.DuckDBPyConnection
    run_id: int
    command: str
    status: str = "success"
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@contextmanager
def run_session(path: Path | str, command: str, options: Mapping[str, Any],
                memory_limit: str = DEFAULT_MEMORY_LIMIT,
                lock_wait: float = 0.0) -> Iterator[RunSession]:
    """Yield a session; its run record is finished with ``session.status`` or ``failed``.

    ``lock_wait``: seconds to wait for another run to finish before being refused."""
    with RunLock(path, command, lock_wait):
        con = open_warehouse(path, memory_limit=memory_limit)
        try:
            close_abandoned_runs(con)
            session = RunSession(con, start_run(con, command, options), command)
            try:
                yield session
            except BaseException as exc:
                _rollback_quietly(con)
                finish_run(con, session.run_id, "failed", session.counts,
                           session.error or _one_line(exc))
                raise
            finish_run(con, session.run_id, session.status, session.counts, session.error)
        finally:
            con.close()


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):  # no transaction was open
        con.execute("ROLLBACK")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
