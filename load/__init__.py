"""Writing to 360Learning (API v2): the HTTP client, its rate limiters, and bulk operations."""

from extract.retry import RetryPolicy
from load.bulk import (
    BATCH_LIMITS,
    BulkOperation,
    BulkOutcome,
    BulkRunner,
    ItemResult,
    batches,
    operation_kind,
)
from load.client import ClientStats, L360Client, Response, is_repeatable
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
    "ClientStats",
    "ItemResult",
    "L360Client",
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
