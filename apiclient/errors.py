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


class ResponseTooLarge(Exception):
    """Internal to the core: an answer's body is larger than the cap (``limit`` bytes), as its
    ``Content-Length`` declared (``declared``) or as it was read. The client turns it into its
    API's error, naming the call and the setting."""

    def __init__(self, limit: int, status: int, declared: int | None = None) -> None:
        super().__init__(f"HTTP {status} with a body over {limit} bytes")
        self.limit = limit
        self.status = status
        self.declared = declared


class WaitTooLong(Exception):
    """Internal to the core: the server asks to wait ``seconds`` before the next attempt,
    longer than a run waits out. The client turns it into its API's error, saying when to
    run again."""

    def __init__(self, seconds: float, status: int | None = None) -> None:
        super().__init__(f"asks to wait {seconds:.0f} s")
        self.seconds = seconds
        self.status = status
