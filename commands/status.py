"""``python cli.py status``: what the warehouse says about recent runs and what waits."""

from __future__ import annotations

from settings import Config
from warehouse.status import Status, read_status


def run_status(config: Config, runs: int = 10) -> Status:
    """Read-only: safe at any time (DuckDB refuses it while a run writes; it says so)."""
    return read_status(config.warehouse_path(), runs)
