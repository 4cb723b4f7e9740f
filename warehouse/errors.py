"""The warehouse package's one error type."""


class WarehouseError(Exception):
    """The warehouse cannot be opened, migrated or locked; the message says what to do."""
