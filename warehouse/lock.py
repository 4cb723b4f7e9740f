"""The run lock: one writing go1sync process per warehouse at a time.

DuckDB's own file lock would refuse a second writer with a stack trace; this lock is taken
first and says who holds it. It is an ``flock`` on ``<warehouse>.lock``, so it vanishes with
the process that held it, even after a crash: a stale file never blocks the next run.

The lock file also says what the run is doing (:meth:`RunLock.note`): DuckDB lets no other
process read the warehouse while a run writes it, so ``status`` reads this small file instead
(:func:`run_in_progress`) and shows the run's stage and counts.

A run may ``wait`` for the lock instead of being refused at once: the scheduled jobs do, so the
08:00 statistics run follows a 07:40 catalog run still going at 08:00 rather than being lost
until 13:00.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from warehouse.connection import warehouse_target
from warehouse.errors import WarehouseError, os_failure

log = logging.getLogger("go1sync.warehouse")
POLL_SECONDS = 1.0


class RunInProgress(WarehouseError):
    """Another go1sync process holds the warehouse: nothing is wrong, it is busy."""


class RunLock:
    """``wait``: seconds to wait for a run in progress to finish before giving up (0: none)."""

    def __init__(self, warehouse_path: Path | str, command: str, wait: float = 0.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.warehouse = Path(warehouse_path).expanduser()
        self.path = Path(f"{self.warehouse}.lock")
        self.command = command
        self.wait = wait
        self._clock = clock
        self._sleep = sleep
        self._fd: int | None = None
        self._info: dict[str, object] = {}

    def acquire(self) -> RunLock:
        """Take the lock (waiting up to ``wait``); a folder that cannot hold the lock file
        is one :class:`WarehouseError` naming the warehouse and the cause, never a traceback."""
        warehouse_target(self.warehouse)  # a folder given as the warehouse is refused first
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_failure(self.warehouse, self.path.parent, exc, "create the folder") \
                from None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            doing = "open the lock file" if self.path.exists() else "create the lock file"
            raise os_failure(self.warehouse, self.path, exc, doing) from None
        deadline = self._clock() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _describe(fd)
                left = deadline - self._clock()
                if left <= 0:
                    os.close(fd)
                    waited = f"; waited {self.wait:.0f}s for it" if self.wait > 0 else ""
                    raise RunInProgress(f"another run is in progress ({holder}){waited}") \
                        from None
                if not told:
                    log.warning("another run is in progress (%s): waiting up to %ds for it "
                                "to finish", holder, round(left))
                    told = True
                self._sleep(min(POLL_SECONDS, left))
            except OSError as exc:  # a file system without flock (some network mounts, say)
                os.close(fd)
                raise os_failure(self.warehouse, self.path, exc, "lock the lock file") from None
        started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        info = {"pid": os.getpid(), "started": started, "command": self.command}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError as exc:
            os.close(fd)  # the flock goes with it
            raise os_failure(self.warehouse, self.path, exc, "write the lock file") from None
        self._fd = fd
        self._info = info
        return self

    def note(self, **progress: object) -> None:
        """Say what the run is doing now (its stage, counts), for ``status`` to read while the
        warehouse is locked. Best effort: a file that cannot be written loses only the note."""
        if self._fd is None:
            return
        self._info = {**self._info, **progress,
                      "updated": datetime.now(UTC).isoformat(timespec="seconds")
                      .replace("+00:00", "Z")}
        data = json.dumps(self._info).encode()
        try:
            os.pwrite(self._fd, data, 0)
            os.ftruncate(self._fd, len(data))
        except OSError:
            log.debug("could not write the run's progress to %s", self.path)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def run_in_progress(warehouse_path: Path | str) -> dict[str, object] | None:
    """What the run holding the warehouse's lock says it is doing, or None when no run holds
    it (the lock is free, or there is no lock file)."""
    path = Path(f"{Path(warehouse_path).expanduser()}.lock")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: a run is writing
            try:
                info = json.loads(os.pread(fd, 65536, 0) or b"{}")
            except (OSError, ValueError):
                info = {}
            return info if isinstance(info, dict) else {}
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _describe(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        info = {}
    started = info.get("started", "at an unknown time")
    pid = info.get("pid", "unknown")
    command = info.get("command")
    suffix = f", command {command}" if command else ""
    return f"started {started} by pid {pid}{suffix}"
