"""The errors of the extract package.

Every failure of a Go1 call surfaces as one :class:`ExtractError` (or a subclass), so ``cli.py``
needs a single handler that prints the message on one line. Messages say what failed and what to
do; they never carry the client secret or a token (the client scrubs both before raising).
"""

from __future__ import annotations


class ExtractError(Exception):
    """Go1 could not be read. ``status`` and ``error_code`` are Go1's answer, when there was one."""

    def __init__(self, message: str, *, status: int | None = None,
                 error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class AuthError(ExtractError):
    """The credentials were refused, or a fresh token was refused too: retrying cannot help."""


class ScrollExpired(ExtractError):
    """A ``scroll_id`` is no longer known (Go1 keeps them 5 minutes): restart the scroll."""


class ScopeError(ExtractError):
    """Go1 answered 401 "Missing scopes", even to a freshly issued token: the integration lacks
    an OAuth scope. ``scope`` names the one the endpoint needs (extract/endpoints.py); the other
    endpoints may still work, so this stops one stream, not the whole extract."""

    def __init__(self, message: str, *, status: int | None = None,
                 error_code: str | None = None, scope: str | None = None) -> None:
        super().__init__(message, status=status, error_code=error_code)
        self.scope = scope
