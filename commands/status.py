"""``python cli.py status``: what the warehouse says about recent runs and what waits."""

from __future__ import annotations

from pathlib import Path

from go1sync.settings import Config
from warehouse.errors import WarehouseError
from warehouse.lock import run_in_progress
from warehouse.status import Status, read_status


def run_status(config: Config, runs: int = 10) -> Status:
    """Read-only: safe at any time. While a run writes, DuckDB lets no other process read the
    warehouse: then what the run tells in its lock file is shown instead. The webhook inbox,
    when there is one, is read either way (its files need no lock to be read)."""
    path = config.warehouse_path()
    try:
        found = read_status(path, runs)
    except WarehouseError:
        running = run_in_progress(path)
        if running is None:
            raise
        found = Status(in_progress=running)
    found.inbox = _inbox(config.inbox_path())
    return found


def _inbox(path: Path) -> tuple[int, int] | None:
    """(events waiting, events processed the inbox remembers), or None without an inbox."""
    if not path.is_dir():
        return None
    from go1sync.webhooks.inbox import Inbox

    try:
        return Inbox(path).counts()
    except OSError:
        return None
