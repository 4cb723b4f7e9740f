"""Progress of long work, on stderr: bars with totals and ETA on a terminal, plain lines when not.

Why rich: a bar per stream (the catalog runs beside the enrollments), totals, rates and ETA,
thread-safe redraws and a terminal's width handled; hand-written ``\\r`` lines could show one
counter at a time, without a total. When stderr is not a terminal (cron, a pipe, a CI log)
there is no redraw: one plain line per task every :data:`PLAIN_EVERY` seconds, so a log
shows that a long run was moving (the command's summary follows at the end).
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

PLAIN_EVERY = 15.0  # seconds between two plain lines of one task


class Progress:
    """Tasks by name, each a count of ``unit`` against a total once known."""

    def __init__(self, stream: IO[str] | None = None, *, live: bool | None = None,
                 clock: Any = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._clock = clock
        self._lock = threading.Lock()
        self._tasks: dict[str, Any] = {}
        self._plain: dict[str, float] = {}  # name -> when its last plain line was printed
        self._bars: Any = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bars

            self._bars = Bars(TextColumn("{task.description:<16}"), BarColumn(),
                              MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                              TimeElapsedColumn(), TimeRemainingColumn(),
                              TextColumn("{task.fields[detail]}"),
                              console=Console(file=self.stream), transient=False)
            self._bars.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def update(self, name: str, done: int, total: int | None = None, unit: str = "",
               detail: str = "") -> None:
        """Where task ``name`` stands: ``done`` of ``total`` (None: not known yet)."""
        if self._bars is not None:
            with self._lock:
                task = self._tasks.get(name)
                if task is None:
                    task = self._tasks[name] = self._bars.add_task(
                        name, total=total, unit=unit, detail=detail)
                self._bars.update(task, completed=done, total=total, unit=unit, detail=detail)
            return
        of = f" of {total:,}" if total is not None else ""
        line = f"{name}: {done:,}{of} {unit}".rstrip() + (f" ({detail})" if detail else "")
        now = self._clock()
        with self._lock:
            printed = self._plain.setdefault(name, now)
            if now - printed >= PLAIN_EVERY:
                print(line, file=self.stream, flush=True)
                self._plain[name] = now
