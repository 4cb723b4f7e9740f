"""The one root of the errors go1sync expects.

Every failure a user can act on is a :class:`Go1SyncError`: its message says what failed and
what to do, on one line, and it knows the exit code it ends a command with (1: the work failed;
2: bad usage or configuration, as click's own usage errors). The CLI's one boundary
(``cli.py``) turns any of them into one red line; anything else is a bug and keeps its
traceback. The families hang below it: settings (:class:`settings.SettingsError`), the
warehouse (:class:`warehouse.errors.WarehouseError`), and the two APIs
(:class:`apiclient.errors.ApiError`: :class:`extract.errors.ExtractError` for Go1,
:class:`load.errors.LoadError` for 360Learning).
"""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_USAGE = 2
#: ``reconcile`` found drift that needs action (not an error: the report is complete), so
#: cron and CI can alert on it; 0 means nothing needs action.
EXIT_DRIFT = 3


class Go1SyncError(Exception):
    """A failure with a message for the user. ``code`` is the API's own error code (Go1's
    ``error_code``, 360Learning's ``error.code``), when there was one."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class UsageError(Go1SyncError):
    """Bad configuration or options: nothing was tried (exit 2)."""

    exit_code = EXIT_USAGE
