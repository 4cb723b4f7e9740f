"""The errors of an API call, whichever API: the root of the Go1 and 360Learning families.

Branched by what to do next, as the Meltano SDK's exception tree is: the credentials are wrong
(:class:`CredentialsRefused`: nothing will work until they are fixed), a scope is missing
(:class:`ScopeMissing`: this endpoint will not work), or the call failed otherwise (the base
class: its message says whether to try again later). Each API's package defines its own
family on these (``extract.errors``, ``load.errors``), so a caller catches the API it called.
"""

from __future__ import annotations

from go1sync.errors import Go1SyncError


class ApiError(Go1SyncError):
    """An API could not be read or written. ``status`` is the HTTP status when there was an
    answer, ``code`` the API's error code (from the body) when there was one."""

    def __init__(self, message: str, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class CredentialsRefused(ApiError):
    """The client credentials were refused, or a freshly issued token was refused too."""


class ScopeMissing(ApiError):
    """The token lacks an OAuth scope; ``scope`` names it when known (from the API's
    endpoint table, since an API's message need not name it)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 scope: str | None = None) -> None:
        super().__init__(message, status=status, code=code)
        self.scope = scope


class RetriesSpent(Exception):
    """Internal to the core: a call's retry budget is spent. The client turns it into its
    API's error, in that API's words."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
