"""A writing command's session: run lock, migrated warehouse, and a run record that always ends.

Every command that writes (extract, transform, push, run) goes through :func:`run_session`, so
each one is refused while another runs, and each leaves a row in ``meta.runs`` with its outcome,
even when it fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from warehouse.connection import (
    DEFAULT_MEMORY_LIMIT,
    close_quietly,
    open_warehouse,
    rollback_quietly,
    warehouse_target,
)
from warehouse.errors import fault_error, query_interrupted
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
    lock: RunLock | None = None
    _noted: tuple[str, float] = ("", 0.0)

    def note(self, stage: str, detail: str = "") -> None:
        """What the run does now, for ``status`` while the warehouse is locked: written at
        each new stage, and at most once a second within one."""
        now = time.monotonic()
        if self.lock is None or (stage == self._noted[0] and now - self._noted[1] < 1.0):
            return
        self._noted = (stage, now)
        self.lock.note(run_id=self.run_id, stage=stage, detail=detail)


@contextmanager
def run_session(path: Path | str, command: str, options: Mapping[str, Any],
                memory_limit: str = DEFAULT_MEMORY_LIMIT,
                lock_wait: float = 0.0) -> Iterator[RunSession]:
    """Yield a session; its run record is finished with ``session.status`` or ``failed``.

    ``lock_wait``: seconds to wait for another run to finish before being refused.

    What goes wrong is told once, truly: a local fault anywhere in the command (a full disk at
    a COMMIT, a corrupt block read by a model) becomes the :class:`WarehouseError` that says
    so, whichever layer met it and whatever it was wrapped in; Ctrl-C during a DuckDB query,
    which DuckDB turns into its own error, goes on up as the ``KeyboardInterrupt`` it is. The
    failed run's record is written if the warehouse still takes it, and never replaces the
    error."""
    target = warehouse_target(path)
    with RunLock(target, command, lock_wait) as lock:
        try:
            con = open_warehouse(target, memory_limit=memory_limit)
        except BaseException as exc:
            _raise_told(target, exc)
        try:
            try:
                close_abandoned_runs(con)
                session = RunSession(con, start_run(con, command, options), command,
                                     lock=lock)
            except BaseException as exc:  # Ctrl-C here leaves the run `running`: the next run
                _raise_told(target, exc)  # closes it as interrupted
            try:
                yield session
            except BaseException as exc:
                rollback_quietly(con)
                with suppress(duckdb.Error):  # a full or broken disk takes no record either
                    finish_run(con, session.run_id, "failed", session.counts,
                               session.error or _one_line(exc))
                _raise_told(target, exc)
            try:
                finish_run(con, session.run_id, session.status, session.counts,
                           session.error)
            except duckdb.Error as exc:
                _raise_told(target, exc)
        except BaseException:
            close_quietly(con)
            raise
        try:
            con.close()
        except duckdb.Error as exc:
            _raise_told(target, exc)


def _raise_told(target: Path, exc: BaseException) -> NoReturn:
    """Raise what ``exc`` means: Ctrl-C as Ctrl-C, a local fault as its one line, anything
    else as it is (a bug keeps its traceback)."""
    if interrupted(exc) and not isinstance(exc, KeyboardInterrupt):
        raise KeyboardInterrupt from exc
    known = None if isinstance(exc, KeyboardInterrupt) else fault_error(target, exc)
    if known is None:
        raise exc
    raise known from exc


def interrupted(exc: BaseException) -> bool:
    """Whether Ctrl-C is behind ``exc``, along its chain (a stage may have wrapped it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt) or query_interrupted(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _one_line(exc: BaseException) -> str:
    if interrupted(exc):
        return "interrupted (Ctrl-C): this run's open transaction was rolled back"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
