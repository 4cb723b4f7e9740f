"""The warehouse package's one error type, a family of go1sync's error root."""

from go1sync.errors import Go1SyncError


class WarehouseError(Go1SyncError):
    """The warehouse cannot be opened, migrated or locked; the message says what to do."""
