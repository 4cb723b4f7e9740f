"""The 360Learning-specific knobs: rate limits, bulk concurrency, failing operations and items.

The gateway-style faults every sandbox shares (a 429, 5xx or dropped connection on the next
request) are :class:`sandbox.httpserver.Faults`; what is here is how 360Learning itself behaves
under load and when a bulk operation goes wrong:

- a sliding one-second window per platform: 50 GET and 10 writes a second by default (the
  token endpoint is not counted); over it, 429 ``{"error": "tooManyRequests"}``;
- at most ``max_running_bulk`` (3) bulk operations not yet finished; a further submit gets 429
  ``bulkOperationsConcurrencyLimitReached``;
- ``operation_delay_s``: how long an operation stays in each of pending, queued and running;
- :meth:`L360Faults.operation_error_next`: the next submitted operations end in ``error``;
- :meth:`L360Faults.item_error`: chosen items of any operation get an ``error`` result;
- :meth:`L360Faults.refuse_batches_with`: a bulk body holding a chosen item is refused whole
  (400 ``invalidInput``), as 360Learning refuses a body one item of which breaks the schema;
- :meth:`L360Faults.stall_next`: the next submitted operations stay ``running`` until
  :meth:`sandbox.l360.L360Sandbox.release_stalled` (an operation stuck on the platform);
- :attr:`L360Faults.resource_ids`: what success results carry as ``resourceId``, which the
  OpenAPI documents only as "the unique ID of the impacted resource": the id of the course (or
  attempt) itself (``"course_id"``, what the sandbox has always answered) or another ObjectId
  (``"opaque"``), so a client that takes it for a courseId without checking is caught.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ItemPredicate = Callable[[dict[str, Any]], bool]
RESOURCE_ID_MODES = ("course_id", "opaque")


def item_keys(item: dict[str, Any]) -> set[str]:
    """The strings an item can be picked by: externalId, course/user identifier values,
    contentId and groupId (whichever the item has)."""
    keys: set[str] = set()
    for name in ("externalId", "contentId", "groupId"):
        if isinstance(item.get(name), str):
            keys.add(item[name])
    for name in ("courseIdentifier", "userIdentifier"):
        value = item.get(name)
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            keys.add(value["value"])
    return keys


@dataclass
class ItemErrorRule:
    predicate: ItemPredicate
    message: str
    remaining: int | None  # None: every matching item until cleared


@dataclass
class OperationErrorPlan:
    after_items: int  # items applied (and reported) before the operation fails
    message: str


class L360Faults:
    """Knobs a test turns; read by the app (limits) and the bulk worker (errors, delays)."""

    def __init__(self) -> None:
        self.rate_limits = True
        self.get_per_second = 50
        self.writes_per_second = 10
        self.rate_limit_retry_after: str | None = None  # unknown whether 360Learning sends one
        self.max_running_bulk = 3
        self.operation_delay_s = 0.02
        self.expires_in_as_string: bool | None = None  # None: decided per token by the seed
        self._resource_ids = "course_id"
        self._lock = threading.Lock()
        self._operation_errors: deque[OperationErrorPlan] = deque()
        self._item_rules: list[ItemErrorRule] = []
        self._stalls = 0
        self._refused: list[ItemPredicate] = []

    @property
    def resource_ids(self) -> str:
        """``resourceId`` of every success result: ``"course_id"`` (default) the id of what the
        item touched (a course upsert's or archive's courseId, a statistic's attempt); ``"opaque"``
        a different 24-hex ObjectId, the same for the same resource every time and never a
        courseId (sharing it answers "Course not found"), whatever the operation. Read when an
        operation's items are applied."""
        return self._resource_ids

    @resource_ids.setter
    def resource_ids(self, value: str) -> None:
        if value not in RESOURCE_ID_MODES:
            raise ValueError(f"resource_ids must be one of {RESOURCE_ID_MODES}, not {value!r}")
        self._resource_ids = value

    def operation_error_next(self, n: int = 1, after_items: int = 0,
                             message: str = "The bulk operation failed unexpectedly.") -> None:
        """The next ``n`` bulk operations submitted end in status ``error``, each after
        applying its first ``after_items`` items (those alone get results)."""
        if n < 1 or after_items < 0:
            raise ValueError("n must be at least 1 and after_items at least 0")
        with self._lock:
            self._operation_errors.extend(OperationErrorPlan(after_items, message)
                                          for _ in range(n))

    def item_error(self, match: ItemPredicate | str | Iterable[str],
                   message: str = "Item rejected by the sandbox.",
                   times: int | None = None) -> None:
        """Items that match get ``{"status": "error", "errorMessage": message}`` and change
        nothing. ``match`` is a predicate on the input item, or external ids / emails / content
        ids (see :func:`item_keys`); ``times`` bounds how many items it fails (None: all)."""
        if callable(match):
            predicate: ItemPredicate = match
        else:
            wanted = {match} if isinstance(match, str) else set(match)

            def predicate(item: dict[str, Any]) -> bool:
                return bool(item_keys(item) & wanted)
        with self._lock:
            self._item_rules.append(ItemErrorRule(predicate, message, times))

    def refuse_batches_with(self, match: ItemPredicate) -> None:
        """Bulk bodies holding an item ``match`` picks are refused whole with 400
        ``invalidInput``."""
        with self._lock:
            self._refused.append(match)

    def stall_next(self, n: int = 1) -> None:
        """The next ``n`` bulk operations submitted stay ``running`` until released."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._stalls += n

    def clear(self) -> None:
        """Forget planned operation and item errors (limits and delays stay as set)."""
        with self._lock:
            self._operation_errors.clear()
            self._item_rules.clear()
            self._stalls = 0
            self._refused.clear()

    # used by the sandbox ----------------------------------------------------------------
    def refused_item(self, items: list[Any]) -> dict[str, Any] | None:
        """The first item of a bulk body that makes it refused whole, if any."""
        with self._lock:
            if not self._refused:
                return None
            return next((i for i in items if isinstance(i, dict)
                         and any(match(i) for match in self._refused)), None)

    def take_stall(self) -> bool:
        with self._lock:
            if self._stalls:
                self._stalls -= 1
                return True
            return False

    def take_operation_error(self) -> OperationErrorPlan | None:
        with self._lock:
            return self._operation_errors.popleft() if self._operation_errors else None

    def take_item_error(self, item: dict[str, Any]) -> str | None:
        with self._lock:
            for rule in self._item_rules:
                if rule.predicate(item):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._item_rules.remove(rule)
                    return rule.message
        return None


class SlidingWindow:
    """At most ``limit`` events in any rolling second (rejected requests are not counted)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, limit: int) -> bool:
        now = self.clock()
        with self._lock:
            while self._events and self._events[0] <= now - 1.0:
                self._events.popleft()
            if len(self._events) >= limit:
                return False
            self._events.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
