"""The DuckDB warehouse: connection, migrations, run records, cursors, the run lock."""

from warehouse.connection import open_warehouse
from warehouse.errors import WarehouseError
from warehouse.lock import RunLock

__all__ = ["RunLock", "WarehouseError", "open_warehouse"]
