"""The run lock: one writing go1sync process per warehouse at a time.

DuckDB's own file lock would refuse a second writer with a stack trace; this lock is taken
first and says who holds it. It is an ``flock`` on ``<warehouse>.lock``, so it vanishes with
the process that held it, even after a crash: a stale file never blocks the next run.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from warehouse.errors import WarehouseError


class RunLock:
    def __init__(self, warehouse_path: Path | str, command: str) -> None:
        self.path = Path(f"{warehouse_path}.lock")
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(fd)
            os.close(fd)
            raise WarehouseError(f"another run is in progress ({holder})") from None
        started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        info = {"pid": os.getpid(), "started": started, "command": self.command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

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
