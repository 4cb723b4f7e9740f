"""The errors of the load package: the 360Learning family of :class:`apiclient.errors.ApiError`.

Every failure of a 360Learning call surfaces as one :class:`LoadError` (or a subclass), under
go1sync's one error root, so ``cli.py`` has a single handler that prints the message on one
line. Messages say what failed
and what to do; they never carry the client secret or a token (the client scrubs both before
raising). ``status`` is the HTTP status when there was an answer; ``code`` is 360Learning's error
code, read from either of its body shapes (``{"error": "invalid_token"}`` or
``{"error": {"code": "invalid_scope", "message": "…"}}``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apiclient.errors import ApiError, CredentialsRefused, ScopeMissing


class LoadError(ApiError):
    """360Learning could not be written or read."""


class AuthError(LoadError, CredentialsRefused):
    """The credentials were refused, or a freshly issued token was refused too."""


class ScopeError(LoadError, ScopeMissing):
    """403 ``invalid_scope``: the API client lacks an OAuth scope. ``scope`` names it when known
    (from 360Learning's message, else from the endpoint's documented scope)."""


class NotFound(LoadError):
    """404: the resource (an integration, a course, a bulk operation) does not exist."""


class SubmitUncertain(LoadError):
    """A write that is not safe to repeat may have reached 360Learning, but no answer came back.

    Raised instead of retrying when a bulk submit (or a ``POST``) fails after the request may
    have been sent: a read timeout, a connection dropped mid-answer, a 500/502/504. Sending it
    again could start a second operation, since the API has no idempotency key. The caller's
    ledger keeps ``method``, ``path``, ``payload`` and ``sent_at`` and settles the submit later,
    e.g. by listing the bulk operations created since ``sent_at``
    (:meth:`load.bulk.BulkRunner.find_operations`).
    """

    def __init__(self, message: str, *, method: str, path: str, payload: Any,
                 sent_at: datetime, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, status=status, code=code)
        self.method = method
        self.path = path
        self.payload = payload
        self.sent_at = sent_at


class BulkTimeout(LoadError):
    """A bulk operation (or a free slot to submit one) took longer than the runner's
    ``poll_timeout``. ``operation_id`` is set when an operation exists: settle it later."""

    def __init__(self, message: str, *, operation_id: str | None = None) -> None:
        super().__init__(message)
        self.operation_id = operation_id
