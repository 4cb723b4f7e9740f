"""The model runner's errors: one line each, naming the file so an analyst knows where to look."""

from __future__ import annotations

from warehouse.errors import WarehouseError
from warehouse.models.results import AuditResult


class ModelError(WarehouseError):
    """A model cannot be loaded, rendered, parsed or materialised; the message names the file."""


class AuditFailure(ModelError):
    """A blocking audit found bad rows; the run was rolled back.

    ``failures`` holds every audit that failed in the run (blocking or not), so a caller can
    show them all; the message names the blocking ones with a few offending rows.
    """

    def __init__(self, message: str, failures: list[AuditResult]) -> None:
        super().__init__(message)
        self.failures = failures
