"""The errors of the extract package: the Go1 family of :class:`apiclient.errors.ApiError`.

Every failure of a Go1 call surfaces as one :class:`ExtractError` (or a subclass), under
go1sync's one error root, so ``cli.py`` has a single handler that prints the message on one
line. Messages say what failed and what to do; they never carry the client secret or a token
(the client scrubs both before raising).
"""

from __future__ import annotations

from apiclient.errors import ApiError, CredentialsRefused, ScopeMissing


class ExtractError(ApiError):
    """Go1 could not be read. ``status`` and ``code`` are Go1's answer, when there was one."""


class AuthError(ExtractError, CredentialsRefused):
    """The credentials were refused, or a fresh token was refused too: retrying cannot help,
    and every stream would fail the same way."""


class ScrollExpired(ExtractError):
    """A ``scroll_id`` is no longer known (Go1 keeps them 5 minutes): restart the scroll."""


class ScopeError(ExtractError, ScopeMissing):
    """Go1 answered 401 "Missing scopes", even to a freshly issued token: the integration lacks
    an OAuth scope. ``scope`` names the one the endpoint needs (extract/endpoints.py); the other
    endpoints may still work, so this stops one stream, not the whole extract."""
