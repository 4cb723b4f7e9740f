"""Writing to 360Learning (API v2): the HTTP client, its rate limiters, and bulk operations."""

from apiclient.retry import RetryPolicy
from load.bulk import (
    BATCH_LIMITS,
    BulkOperation,
    BulkOutcome,
    BulkRunner,
    ItemResult,
    batches,
    operation_kind,
)
from load.client import L360Client, L360Stats, Response, is_repeatable
from load.errors import (
    AuthError,
    BulkTimeout,
    LoadError,
    NotFound,
    ScopeError,
    SubmitUncertain,
)
from load.limiter import RateLimiter

__all__ = [
    "BATCH_LIMITS",
    "AuthError",
    "BulkOperation",
    "BulkOutcome",
    "BulkRunner",
    "BulkTimeout",
    "ItemResult",
    "L360Client",
    "L360Stats",
    "LoadError",
    "NotFound",
    "RateLimiter",
    "Response",
    "RetryPolicy",
    "ScopeError",
    "SubmitUncertain",
    "batches",
    "is_repeatable",
    "operation_kind",
]
