"""360Learning bulk operations: submit, poll until done, read the per-item results.

A bulk call answers 202 with a ``Location`` naming the operation; it then goes ``pending →
queued → running → completed | error`` and ``GET …/results`` gives one entry per input item.
A platform runs at most three operations at once (429 ``bulkOperationsConcurrencyLimitReached``
past that), so :class:`BulkRunner` keeps its own count: a submit blocks while three of its
operations have not ended. A blocked submit polls those operations itself, so one thread that
submits a fourth before waiting on the first cannot deadlock; an operation stops counting as
soon as any poll sees it ended, whether or not its results were read yet.

An operation that ends in ``error`` is an outcome, not an exception: the caller decides. What
does raise is a failure to talk to the API (:class:`~load.errors.LoadError`), a submit that may
or may not have started an operation (:class:`~load.errors.SubmitUncertain`, raised by the
client), and an operation still running after ``poll_timeout``
(:class:`~load.errors.BulkTimeout`, settle it later with :meth:`BulkRunner.settle`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from apiclient.paths import segment
from load.client import JsonText, L360Client
from load.errors import BulkTimeout, LoadError, NotFound, SubmitUncertain

log = logging.getLogger("go1sync.load")

T = TypeVar("T")

OPERATIONS_PATH = "/api/v2/bulk/operations"
TERMINAL_STATUSES = frozenset({"completed", "error"})
KNOWN_STATUSES = frozenset({"pending", "queued", "running"}) | TERMINAL_STATUSES
CONCURRENCY_LIMIT_CODE = "bulkOperationsConcurrencyLimitReached"

# Items per call, from the OpenAPI's ``maxItems`` of each body's ``input``.
BATCH_LIMITS: dict[str, int] = {
    "courses_upsert": 10_000,   # PUT    /api/v2/bulk/integrations/{id}/courses
    "courses_archive": 1_000,   # DELETE /api/v2/bulk/integrations/{id}/courses
    "stats": 10_000,            # POST   /api/v2/bulk/integrations/{id}/stats
    "groups": 20_000,           # POST/DELETE /api/v2/bulk/groups/catalog and /library
}

# (method, path) → (the operation ``type`` 360Learning reports, the items allowed per call)
_ENDPOINTS: tuple[tuple[str, re.Pattern[str], str, int], ...] = tuple(
    (method, re.compile(pattern), kind, limit) for method, pattern, kind, limit in (
        ("PUT", r"/api/v2/bulk/integrations/[^/]+/courses", "importExternalCourses",
         BATCH_LIMITS["courses_upsert"]),
        ("DELETE", r"/api/v2/bulk/integrations/[^/]+/courses", "archiveExternalCourses",
         BATCH_LIMITS["courses_archive"]),
        ("POST", r"/api/v2/bulk/integrations/[^/]+/stats", "importExternalStatistics",
         BATCH_LIMITS["stats"]),
        ("POST", r"/api/v2/bulk/groups/catalog", "addContentsToGroupsCatalog",
         BATCH_LIMITS["groups"]),
        ("DELETE", r"/api/v2/bulk/groups/catalog", "removeContentsFromGroupsCatalog",
         BATCH_LIMITS["groups"]),
        ("POST", r"/api/v2/bulk/groups/library", "addContentsToGroupsLibrary",
         BATCH_LIMITS["groups"]),
        ("DELETE", r"/api/v2/bulk/groups/library", "removeContentsFromGroupsLibrary",
         BATCH_LIMITS["groups"]),
    ))

_LOCATION = re.compile(r"/api/v2/bulk/operations/([^/?#]+)/?$")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items, in order (the last one may be shorter)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def operation_kind(method: str, path: str) -> tuple[str, int | None]:
    """The operation type a bulk call starts and its item limit; unknown calls get
    ``"METHOD path"`` and no limit."""
    for wanted, pattern, kind, limit in _ENDPOINTS:
        if wanted == method.upper() and pattern.fullmatch(path):
            return kind, limit
    return f"{method.upper()} {path}", None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def api_time(when: datetime) -> str:
    """360Learning's filter format; "the milliseconds are always set to 0"."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class BulkOperation:
    """An accepted submit: what the ledger records to settle it, even from another process."""

    id: str
    location: str
    kind: str  # the operation type, e.g. importExternalCourses
    submitted_at: datetime  # UTC
    size: int = 0  # items sent


@dataclass(frozen=True)
class ItemResult:
    """One entry of ``…/results``: the input echoed, and a resource id or an error message."""

    input: dict[str, Any]
    ok: bool
    resource_id: str | None
    error: str | None

    @classmethod
    def from_api(cls, entry: Any) -> ItemResult:
        if not isinstance(entry, dict):
            return cls(input={}, ok=False, resource_id=None,
                       error=f"unreadable result entry: {str(entry)[:200]}")
        given = entry.get("input")
        item = given if isinstance(given, dict) else {}
        status = entry.get("status")
        resource = entry.get("resourceId")
        resource_id = str(resource) if resource is not None else None
        if status == "success":
            return cls(input=item, ok=True, resource_id=resource_id, error=None)
        message = entry.get("errorMessage")
        error = str(message) if message else f"result status {status!r} without a message"
        return cls(input=item, ok=False, resource_id=resource_id, error=error)


@dataclass
class BulkOutcome:
    """An ended operation. ``status`` is ``completed`` or ``error``; ``results`` may be empty
    when it errored before running; ``error_message`` is the operation's own, if any."""

    operation: BulkOperation
    status: str
    results: list[ItemResult] = field(default_factory=list)
    error_message: str | None = None

    @property
    def succeeded(self) -> list[ItemResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if not r.ok]


class BulkRunner:
    """Submits bulk calls with at most ``max_in_flight`` of its operations running."""

    def __init__(self, client: L360Client, *, max_in_flight: int = 3, poll_initial: float = 0.2,
                 poll_max: float = 5.0, poll_timeout: float = 1800,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if poll_initial <= 0 or poll_max < poll_initial or poll_timeout < 0:
            raise ValueError("poll delays must be positive and poll_max at least poll_initial")
        self.client = client
        self.max_in_flight = max_in_flight
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self.poll_timeout = poll_timeout
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._reserved = 0  # slots taken by submits not answered yet
        self._running: dict[str, BulkOperation] = {}  # submitted, not seen ended

    # -- public -----------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._reserved + len(self._running)

    def submit(self, method: str, path: str,
               items: Sequence[dict[str, Any] | JsonText]) -> BulkOperation:
        """Send ``{"input": items}``; blocks for a free slot; waits out 429 concurrency answers.
        ``items`` are objects, or JSON texts sent as they are (:class:`JsonText`).

        Raises ``ValueError`` for an empty or oversized batch (split with :func:`batches`),
        :class:`SubmitUncertain` when the submit may have started an operation that cannot be
        known, :class:`BulkTimeout` when no slot came free within ``poll_timeout``.
        """
        method = method.upper()
        kind, limit = operation_kind(method, path)
        if not items:
            raise ValueError(f"nothing to submit to {method} {path}")
        if limit is not None and len(items) > limit:
            raise ValueError(f"{method} {path} takes at most {limit} items, not {len(items)}: "
                             "split them with load.bulk.batches()")
        deadline = self._clock() + self.poll_timeout
        self._reserve(deadline, f"{method} {path}")
        try:
            response = self._send(method, path, items, deadline)
            submitted_at = datetime.now(UTC)
            location = str(response.headers.get("Location") or "")
            operation_id = self._operation_id(location, response.data)
            if operation_id is None:
                raise SubmitUncertain(
                    f"360Learning accepted {method} {path} (HTTP {response.status}) without a "
                    "Location naming the operation: settle it from the bulk operations list",
                    method=method, path=path, payload={"input": items}, sent_at=submitted_at,
                    status=response.status)
        except BaseException:
            with self._lock:
                self._reserved -= 1
            raise
        operation = BulkOperation(
            id=operation_id, kind=kind, submitted_at=submitted_at, size=len(items),
            location=location or f"{self.client.api_url}{OPERATIONS_PATH}/{operation_id}")
        with self._lock:
            self._reserved -= 1
            self._running[operation.id] = operation
        log.info("submitted %s of %d items: bulk operation %s", kind, len(items), operation.id)
        return operation

    def wait(self, operation: BulkOperation, timeout: float | None = None) -> BulkOutcome:
        """Poll until ``completed`` or ``error``, then read every page of the results;
        :class:`BulkTimeout` after ``timeout`` (default ``poll_timeout``) seconds."""
        limit = self.poll_timeout if timeout is None else max(0.0, timeout)
        deadline = self._clock() + limit
        delay = self.poll_initial
        while True:
            data = self._poll(operation)
            status = data.get("status")
            if status in TERMINAL_STATUSES:
                break
            if status not in KNOWN_STATUSES:
                log.warning("bulk operation %s has an unknown status %r: still polling",
                            operation.id, status)
            if self._clock() >= deadline:
                raise BulkTimeout(
                    f"bulk operation {operation.id} ({operation.kind}) is still {status} after "
                    f"{limit:.0f}s: settle it on a later run",
                    operation_id=operation.id)
            self._sleep(delay)
            delay = min(delay * 2, self.poll_max)
        results = self._results(operation, str(status))
        message = data.get("errorMessage")
        outcome = BulkOutcome(operation=operation, status=str(status), results=results,
                              error_message=str(message) if message else None)
        if status == "completed" and operation.size and len(results) != operation.size:
            log.warning("bulk operation %s gave %d results for %d items", operation.id,
                        len(results), operation.size)
        log.info("bulk operation %s %s: %d ok, %d failed", operation.id, status,
                 len(outcome.succeeded), len(outcome.failed))
        return outcome

    def run(self, method: str, path: str, items: list[dict[str, Any]]) -> BulkOutcome:
        """:meth:`submit` then :meth:`wait`."""
        return self.wait(self.submit(method, path, items))

    def settle(self, operation_id: str, timeout: float | None = None) -> BulkOutcome:
        """Wait on an operation submitted earlier, possibly by a process that has died, at
        most ``timeout`` seconds (:class:`BulkTimeout` past it: leave it for a later run).

        It does not take one of this runner's slots (a 429 covers the platform's count).
        """
        data = self._get_operation(operation_id)
        kind = data.get("type")
        operation = BulkOperation(
            id=operation_id, location=f"{self.client.api_url}{OPERATIONS_PATH}/{operation_id}",
            kind=str(kind) if kind else "unknown",
            submitted_at=_parse_time(data.get("createdAt")) or datetime.now(UTC))
        return self.wait(operation, timeout)

    def find_operations(self, *, kind: str | None = None, since: datetime | None = None,
                        status: str | None = None,
                        slack: timedelta = timedelta(minutes=5)) -> list[dict[str, Any]]:
        """The platform's bulk operations (``GET /api/v2/bulk/operations``, all pages), to
        settle a :class:`SubmitUncertain`: those of ``kind`` created from ``since`` less
        ``slack`` (the two clocks differ) are the candidates."""
        params: list[tuple[str, str]] = []
        if kind:
            params.append(("type[eq]", kind))
        if since is not None:
            params.append(("createdAt[gte]", api_time(since - slack)))
        if status:
            params.append(("status[eq]", status))
        return [item for item in self.client.get_all(OPERATIONS_PATH, params)
                if isinstance(item, dict)]

    # -- internals --------------------------------------------------------------------------

    def _reserve(self, deadline: float, label: str) -> None:
        """Take a slot; while none is free, poll this runner's operations for one that ended."""
        delay = self.poll_initial
        while True:
            with self._lock:
                if self._reserved + len(self._running) < self.max_in_flight:
                    self._reserved += 1
                    return
                running = list(self._running.values())
            if any(self._ended(operation) for operation in running):
                continue
            if self._clock() >= deadline:
                raise BulkTimeout(f"no bulk slot came free for {label} within "
                                  f"{self.poll_timeout:.0f}s ({len(running)} operations running)")
            self._sleep(delay)
            delay = min(delay * 2, self.poll_max)

    def _ended(self, operation: BulkOperation) -> bool:
        try:
            status = self._poll(operation).get("status")
        except NotFound:
            return True  # _poll forgot it
        return status in TERMINAL_STATUSES

    def _send(self, method: str, path: str,
              items: Sequence[dict[str, Any] | JsonText], deadline: float) -> Any:
        delay = self.poll_max
        texts = [item for item in items if isinstance(item, JsonText)]
        body: Any = JsonText('{"input":[' + ",".join(texts) + "]}") \
            if texts and len(texts) == len(items) else {"input": list(items)}
        while True:
            try:
                return self.client.request(method, path, json=body)
            except LoadError as exc:
                if (exc.status != 429 or exc.code != CONCURRENCY_LIMIT_CODE
                        or isinstance(exc, SubmitUncertain)):
                    raise
                if self._clock() >= deadline:
                    raise BulkTimeout(f"360Learning kept refusing {method} {path} for "
                                      f"{self.poll_timeout:.0f}s: 3 bulk operations already "
                                      "running on the platform") from None
                log.info("360Learning runs 3 bulk operations already: %s waits %.1fs",
                         path, delay)
                self._sleep(delay)

    def _poll(self, operation: BulkOperation) -> dict[str, Any]:
        """The operation's state; forgets it (frees its slot) once it has ended or is unknown."""
        try:
            data = self._get_operation(operation.id)
        except NotFound:
            self._forget(operation.id)
            raise
        if data.get("status") in TERMINAL_STATUSES:
            self._forget(operation.id)
        return data

    def _get_operation(self, operation_id: str) -> dict[str, Any]:
        data = self.client.get(f"{OPERATIONS_PATH}/{segment(operation_id)}").data
        if not isinstance(data, dict):
            raise LoadError(f"360Learning answered GET {OPERATIONS_PATH}/{operation_id} "
                            "without an operation object")
        return data

    def _forget(self, operation_id: str) -> None:
        with self._lock:
            self._running.pop(operation_id, None)

    def _results(self, operation: BulkOperation, status: str) -> list[ItemResult]:
        path = f"{OPERATIONS_PATH}/{segment(operation.id)}/results"
        try:
            entries = list(self.client.get_all(path))
        except LoadError as exc:
            # An operation that failed before running has no results (400 bulkOperationNotRun).
            if status == "error" and exc.status in (400, 404):
                log.warning("bulk operation %s errored with no results: %s", operation.id, exc)
                return []
            raise
        return [ItemResult.from_api(entry) for entry in entries]

    @staticmethod
    def _operation_id(location: str, data: Any) -> str | None:
        if location:
            match = _LOCATION.search(urlsplit(location).path)
            if match:
                return match.group(1)
        if isinstance(data, dict) and isinstance(data.get("_id"), str) and data["_id"]:
            return str(data["_id"])
        return None
