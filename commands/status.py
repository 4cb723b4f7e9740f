"""``python cli.py status``: what the warehouse says about recent runs and what waits."""

from __future__ import annotations

from go1sync.settings import Config
from warehouse.errors import WarehouseError
from warehouse.lock import run_in_progress
from warehouse.status import Status, read_status


def run_status(config: Config, runs: int = 10) -> Status:
    """Read-only: safe at any time. While a run writes, DuckDB lets no other process read the
    warehouse: then what the run tells in its lock file is shown instead."""
    path = config.warehouse_path()
    try:
        return read_status(path, runs)
    except WarehouseError:
        running = run_in_progress(path)
        if running is None:
            raise
        return Status(in_progress=running)
