"""When to try an API call again, and how long to wait first.

Neither API's retry rules are fully published (Go1 publishes no rate limits), so the clients
treat 429 and the gateway-style 5xx answers as passing trouble, and so are timeouts and
connections dropped mid-answer. Waits grow
exponentially with full jitter (AWS's "full jitter": a random wait between 0 and the exponential
step) so that the worker threads that all hit a 429 at once do not come back in step. A
``Retry-After`` sent by the server wins over the computed wait, up to a cap (the setting
``GO1SYNC_MAX_RETRY_AFTER``): a longer one fails the call at once, since a run that sleeps
an hour in silence looks hung, and the user is better told when to run again. Two bounds apply
together: a number of attempts and a total time, so a run never hangs on a sick API.

Why not ``urllib3.util.Retry``: the clients need what it cannot do between two attempts (a new
token after a 401, refusing to repeat a write whose answer was lost, a total time budget with
an injectable clock, logging each wait); they send with ``retries=False`` and keep the policy
here, which is small.
"""

from __future__ import annotations

import http.client
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

import urllib3.exceptions

from apiclient.errors import RetriesSpent, WaitTooLong

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# Failures of the transport (urllib3, under both API clients) that a new connection is likely
# to cure. urllib3's TimeoutError covers a connection refused and a name that did not resolve
# too; a dropped connection or a body cut short is a ProtocolError. A certificate problem does
# not heal by itself: an SSL error is not retried.
_RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.ProxyError,
    http.client.RemoteDisconnected,
    ConnectionResetError,
)
_NEVER_RETRIED = (urllib3.exceptions.SSLError,)


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def is_retryable_exception(exc: BaseException) -> bool:
    if isinstance(exc, _NEVER_RETRIED):
        return False
    return isinstance(exc, _RETRYABLE_EXCEPTIONS)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date).

    ``None`` when absent or unreadable, so the caller falls back to its own backoff rather than
    trusting a value it cannot read. A date in the past means "now".
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # rejects NaN
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and for how long a single call may be tried."""

    max_attempts: int = 6
    max_total_seconds: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: Literal["full", "none"] = "full"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_total_seconds < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays and budget must not be negative")
        if self.jitter not in ("full", "none"):
            raise ValueError("jitter must be 'full' or 'none'")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based) when the server gave none."""
        step = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return random.uniform(0.0, step) if self.jitter == "full" else step

    def delay(self, attempt: int, retry_after: str | None = None, *,
              elapsed: float = 0.0) -> float:
        """The wait before the next attempt, never past the end of the total budget.

        The server's ``Retry-After`` is honoured even above ``max_delay``: it knows its own
        limits better than we do, and the total budget still bounds the wait.
        """
        wait = parse_retry_after(retry_after)
        if wait is None:
            wait = self.backoff(attempt)
        remaining = max(0.0, self.max_total_seconds - elapsed)
        return min(wait, remaining)


@dataclass
class Attempts:
    """The retry bookkeeping of one logical call (one ``GET``, one token request).

    ``extra`` lets the caller allow one more attempt than the policy does, for the single
    re-authentication after a 401 that the policy should not be charged for.
    """

    policy: RetryPolicy
    label: str
    clock: Callable[[], float] = time.monotonic
    count: int = 0
    extra: int = 0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def next_delay(self, cause: str, retry_after: str | None = None, *,
                   status: int | None = None, max_retry_after: float = math.inf) -> float:
        """The wait before trying again after a retryable failure; :class:`WaitTooLong` when
        the server's ``Retry-After`` asks for more than ``max_retry_after`` seconds (checked
        first: however many attempts are left, the user needs to know when to come back);
        :class:`RetriesSpent` (saying how many attempts in how long, and why) when the budget
        is spent."""
        asked = parse_retry_after(retry_after)
        if asked is not None and asked > max_retry_after:
            raise WaitTooLong(asked, status)
        elapsed = self.elapsed()
        if (self.count >= self.policy.max_attempts + self.extra
                or elapsed >= self.policy.max_total_seconds):
            raise RetriesSpent(
                f"{self.label} failed after {self.count} attempt{'s' * (self.count != 1)} "
                f"in {elapsed:.1f}s: {cause}", status)
        return self.policy.delay(self.count, retry_after, elapsed=elapsed)
