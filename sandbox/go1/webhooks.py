"""Go1 webhooks in the sandbox: the registered subscriptions, and the signed deliveries.

Read from ``sandbox/contracts/go1-openapi.yml`` (``/webhooks``, ``/webhooks/{id}``) and the
contract README ("Webhooks"), strictly; where both are silent the choice is named here. The
signing is this module's own reading of those documents: it shares no code with go1sync's
receiver, so a misreading on either side shows as a failed verification.

Subscriptions (:class:`WebhookRegistry`, served by the app's ``/webhooks`` routes):

- A body is validated against the OpenAPI's request schema: a JSON object, ``url`` (an
  absolute ``http``/``https`` URL with a host) and ``event_types`` (a non-empty array, each
  item from the request enum :data:`EVENT_TYPES`) required on create; ``name``,
  ``secret_key``, ``auth_type``, ``integration_system_id`` (strings) and ``oauth2`` (an object)
  optional; ``status`` (``active`` or ``inactive``) on update only. A member the schema does
  not declare, or a value of another type, is refused (:class:`InvalidWebhook`).
- The request enum holds twelve event types, the response enum seven (no
  ``enrollment.delete`` and none of the ``content.library.*`` four): a record echoes what it
  was given, so it may hold a type the response enum does not list.
- A record carries the response schema's members in its order: ``id`` (12 URL-safe
  characters), ``portal_id``, ``name``, ``url``, ``secret_key``, ``event_types``, ``status``
  (``active`` on create), ``created_by``, ``created_time``, ``updated_by``, ``updated_time``
  (``…T…:…:….mmmZ``, as the OpenAPI's examples), then ``auth_type``, ``oauth2``,
  ``integration_system_id``. An optional member not given is absent (not ``null``).
  ``created_by``/``updated_by`` are :data:`API_USER_ID` (the OpenAPI's example user: a
  client-credentials token names no user). ``secret_key`` is served back, as the OpenAPI's
  response schemas say Go1 does.
- An update sent as ``application/merge-patch+json`` follows RFC 7396: ``null`` removes an
  optional member (``"secret_key": null`` makes the webhook unsigned) and ``oauth2`` is merged
  member by member; ``null`` for ``url``, ``event_types`` or ``status`` is refused. As
  ``application/json`` a ``null`` is a value of the wrong type, and ``oauth2`` is replaced.

Deliveries (:class:`Deliveries`):

- Body: ``{"id", "event_type", "webhook_version": "1", "sent", "attempt_number",
  "webhook_id", "data"}``, compact JSON in UTF-8. ``id`` is a UUID4 per event, the same for
  every webhook the event goes to and across attempts; ``sent`` is the event's time on the
  sandbox clock, also the same across attempts.
- Headers: ``Content-Type: application/json`` and, when the webhook has a non-empty
  ``secret_key``, ``Go1-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret_key,
  "<t>.<raw body>")>``. Each attempt is serialised again (its ``attempt_number``) and signed
  again with a fresh ``t``. ``t`` is read from the sandbox clock too, so a test that freezes
  it (``set_now``) sends signatures that old: a receiver's staleness check can be tested that
  way, and a test that freezes the clock for other reasons must expect it.
- A webhook's ``url`` and ``secret_key`` are taken when the event is queued: a later update
  or delete does not change the attempts of events already queued.
- One background thread sends, started by the first delivery and stopped by :meth:`stop`
  (events still queued are then dropped). First attempts go in the order of the events;
  a non-2xx answer or a connection error schedules the next attempt ``retry_delays[n-1]``
  seconds after attempt ``n`` failed, and the events behind it do not wait for it (so a
  retry may arrive after later events: the contract README says never to rely on order).
  After ``1 + len(retry_delays)`` attempts the event is given up for that webhook.
- Sent with urllib3, no redirects followed, a 5 s connect and read timeout.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import hmac
import itertools
import json
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import urllib3

from sandbox.go1.model import PORTAL_ID
from sandbox.go1.timefmt import STYLE_MILLIS, format_us, to_us, truncate

#: ``event_types`` a request may subscribe to (the OpenAPI's request enum)
EVENT_TYPES = ("enrollment.complete", "enrollment.create", "enrollment.delete",
               "content.decommission", "content.decommission.pending", "content.add",
               "content.remove", "content.library.sync.request", "content.library.add",
               "content.library.remove", "content.library.update",
               "content.library.decommission")
#: the response schemas' enum of ``event_types`` (narrower than the request's)
RECORD_EVENT_TYPES = ("enrollment.complete", "enrollment.create", "content.decommission",
                      "content.decommission.pending", "content.add", "content.remove",
                      "content.library.sync.request")
STATUSES = ("active", "inactive")
#: a webhook record's members, in the response schema's order
RECORD_FIELDS = ("id", "portal_id", "name", "url", "secret_key", "event_types", "status",
                 "created_by", "created_time", "updated_by", "updated_time", "auth_type",
                 "oauth2", "integration_system_id")
#: optional request members that are strings / objects
_TEXT_FIELDS = ("name", "secret_key", "auth_type", "integration_system_id")
_OBJECT_FIELDS = ("oauth2",)
CREATE_FIELDS = ("name", "url", "secret_key", "event_types", "auth_type", "oauth2",
                 "integration_system_id")
UPDATE_FIELDS = (*CREATE_FIELDS, "status")
#: members of a record that a merge patch may not remove
_REQUIRED = ("url", "event_types", "status")
#: who created or updated a webhook (the OpenAPI's example user id)
API_USER_ID = "19491473"
WEBHOOK_VERSION = "1"
#: a delivery body's members, in order
ENVELOPE_FIELDS = ("id", "event_type", "webhook_version", "sent", "attempt_number",
                   "webhook_id", "data")
#: the members of ``data`` the sandbox builds for its own events (enrollment events carry
#: all three, content events ``id`` and ``lo_id``)
DATA_FIELDS = ("id", "lo_id", "user_id")
SIGNATURE_HEADER = "Go1-Signature"
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16)
SEND_TIMEOUT_SECONDS = 5.0


class InvalidWebhook(ValueError):
    """A create or update body the OpenAPI's schema does not allow (the app answers 400)."""


class UnknownWebhook(LookupError):
    """No webhook with that id (the app answers 404)."""


def stamp(now_us: int) -> str:
    """An instant as the webhook records and deliveries spell it: ``…T…:…:….mmmZ``."""
    return format_us(truncate(now_us, STYLE_MILLIS), STYLE_MILLIS)


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidWebhook("url must be a string.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise InvalidWebhook(f"url must be an absolute http or https URL, got {value!r}.") \
            from None
    if parts.scheme not in ("http", "https") or not parts.hostname or \
            any(c.isspace() for c in value):
        raise InvalidWebhook(f"url must be an absolute http or https URL, got {value!r}.")
    return value


def _check_event_types(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidWebhook("event_types must be a non-empty array of event types.")
    for item in value:
        if not isinstance(item, str):
            raise InvalidWebhook("event_types must hold strings only.")
        if item not in EVENT_TYPES:
            raise InvalidWebhook(f"event_types has unsupported value {item!r}; allowed: "
                                 f"{', '.join(EVENT_TYPES)}.")
    return list(value)


def _check_member(name: str, value: Any) -> Any:
    """A request member's value, checked against its schema type (a copy for objects)."""
    if name == "url":
        return _check_url(value)
    if name == "event_types":
        return _check_event_types(value)
    if name == "status":
        if value not in STATUSES or not isinstance(value, str):
            raise InvalidWebhook("status must be active or inactive.")
        return value
    if name in _OBJECT_FIELDS:
        if not isinstance(value, dict):
            raise InvalidWebhook(f"{name} must be an object.")
        return copy.deepcopy(value)
    if not isinstance(value, str):
        raise InvalidWebhook(f"{name} must be a string.")
    return value


def _check_object(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidWebhook("The request body must be a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidWebhook(f"Unknown field(s) {', '.join(unknown)}; allowed: "
                             f"{', '.join(allowed)}.")
    return body


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7396 ``MergePatch(target, patch)``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged


def _ordered(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in RECORD_FIELDS if key in record}


class WebhookRegistry:
    """The portal's webhooks, ``id -> record``, in creation order; every answer is a copy."""

    def __init__(self, now_us: Callable[[], int]) -> None:
        self.now_us = now_us
        self._records: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def create(self, body: Any) -> dict[str, Any]:
        """A new active webhook from a ``POST /webhooks`` body."""
        _check_object(body, CREATE_FIELDS)
        for name in ("url", "event_types"):
            if name not in body:
                raise InvalidWebhook(f"{name} is required.")
        values = {name: _check_member(name, value) for name, value in body.items()}
        when = stamp(self.now_us())
        record = _ordered({**values, "portal_id": PORTAL_ID, "status": "active",
                           "created_by": API_USER_ID, "created_time": when,
                           "updated_by": API_USER_ID, "updated_time": when})
        with self._lock:
            webhook_id = secrets.token_urlsafe(9)  # 12 characters of [A-Za-z0-9_-]
            while webhook_id in self._records:
                webhook_id = secrets.token_urlsafe(9)
            record = _ordered({**record, "id": webhook_id})
            self._records[webhook_id] = record
            return copy.deepcopy(record)

    def update(self, webhook_id: str, body: Any, merge: bool) -> dict[str, Any]:
        """A ``PATCH /webhooks/{id}`` body applied; ``merge``: sent as merge-patch+json."""
        _check_object(body, UPDATE_FIELDS)
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if value is None and merge:
                if name in _REQUIRED:
                    raise InvalidWebhook(f"{name} cannot be removed.")
                changes[name] = None
            elif merge and name in _OBJECT_FIELDS:
                _check_member(name, value)
                changes[name] = value  # merged below, with the record's own value
            else:
                changes[name] = _check_member(name, value)
        with self._lock:
            current = self._records.get(webhook_id)
            if current is None:
                raise UnknownWebhook(webhook_id)
            record = dict(current)
            for name, value in changes.items():
                if value is None:
                    record.pop(name, None)
                elif merge and name in _OBJECT_FIELDS:
                    record[name] = _merge(record.get(name), value)
                else:
                    record[name] = value
            record.update(updated_by=API_USER_ID, updated_time=stamp(self.now_us()))
            record = _ordered(record)
            self._records[webhook_id] = record
            return copy.deepcopy(record)

    def get(self, webhook_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._records.get(webhook_id)
            if record is None:
                raise UnknownWebhook(webhook_id)
            return copy.deepcopy(record)

    def delete(self, webhook_id: str) -> None:
        with self._lock:
            if self._records.pop(webhook_id, None) is None:
                raise UnknownWebhook(webhook_id)

    def all(self) -> list[dict[str, Any]]:
        """Every webhook, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._records.values()))

    def active(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The active webhooks subscribed to ``event_type`` (``None``: every active one)."""
        with self._lock:
            return copy.deepcopy([r for r in self._records.values() if r["status"] == "active"
                                  and (event_type is None or event_type in r["event_types"])])


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver one event to one webhook, as it went.

    ``status`` is the HTTP status answered (``None`` when no answer came: ``error`` then says
    why); ``duplicate`` marks the extra copy :attr:`Deliveries.duplicate` sends after a
    success; ``body`` is the exact bytes sent (and signed).
    """

    event_id: str
    event_type: str
    webhook_id: str
    url: str
    attempt_number: int
    status: int | None
    error: str | None
    at: datetime
    duplicate: bool = False
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class _Event:
    id: str
    event_type: str
    sent: str
    data: Any
    envelope_fields: tuple[str, ...] | None  # the knob as it was when the event was queued


@dataclass(frozen=True)
class _Job:
    event: _Event
    webhook_id: str
    url: str
    secret_key: str | None
    attempt_number: int = 1
    duplicate: bool = False


def _check_fields(value: Iterable[str] | None, known: tuple[str, ...],
                  what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    fields = tuple(value)
    unknown = [name for name in fields if name not in known]
    if isinstance(value, str) or unknown:
        raise ValueError(f"{what} must be a tuple of names from {known}, got {value!r}")
    return fields


def _encode(value: Any) -> bytes:
    """Compact JSON in UTF-8; a lone surrogate goes out as its ``\\uXXXX`` escape."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def sign(secret_key: str, timestamp: int, body: bytes) -> str:
    """The ``Go1-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret_key,
    "<timestamp>.<body>")>`` (the contract README's reading of Go1's verifier)."""
    message = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Deliveries:
    """The delivery queue and its one sender thread (see the module docstring).

    Knobs: :attr:`data_fields` and :attr:`envelope_fields` apply to the events queued after
    they are set; :attr:`retry_delays`, :attr:`duplicate` and :attr:`timeout` to the attempts
    that follow.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._retry_delays = DEFAULT_RETRY_DELAYS
        self._data_fields: tuple[str, ...] | None = None
        self._envelope_fields: tuple[str, ...] | None = None
        #: send each successful delivery once more (attempt 1 again, the same event id)
        self.duplicate = False
        self.timeout = SEND_TIMEOUT_SECONDS
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, _Job]] = []  # a heap by (monotonic due time, order)
        self._order = itertools.count()
        self._sending = 0  # attempts in flight (one, or two while a stopped thread finishes)
        self._paused = False
        self._generation = 0  # a thread serves while this is its own
        self._thread: threading.Thread | None = None
        self._attempts: list[DeliveryAttempt] = []
        self._pool: urllib3.PoolManager | None = None

    # knobs ----------------------------------------------------------------------------
    @property
    def retry_delays(self) -> tuple[float, ...]:
        """Seconds before attempt 2, 3, …; the event is given up once they are used up."""
        return self._retry_delays

    @retry_delays.setter
    def retry_delays(self, value: Iterable[float]) -> None:
        delays = tuple(float(d) for d in value)
        if any(d < 0 for d in delays):
            raise ValueError(f"retry delays cannot be negative, got {delays}")
        self._retry_delays = delays

    @property
    def data_fields(self) -> tuple[str, ...] | None:
        """Only these members of the sandbox's own events' ``data`` (``None``: all)."""
        return self._data_fields

    @data_fields.setter
    def data_fields(self, value: Iterable[str] | None) -> None:
        self._data_fields = _check_fields(value, DATA_FIELDS, "delivery_data_fields")

    @property
    def envelope_fields(self) -> tuple[str, ...] | None:
        """Only these members of every delivery body (``None``: all of ENVELOPE_FIELDS)."""
        return self._envelope_fields

    @envelope_fields.setter
    def envelope_fields(self, value: Iterable[str] | None) -> None:
        self._envelope_fields = _check_fields(value, ENVELOPE_FIELDS,
                                              "delivery_envelope_fields")

    # queueing -------------------------------------------------------------------------
    def publish(self, event_type: str, data: Any, webhooks: list[dict[str, Any]],
                own: bool = True) -> str:
        """Queue one event for each of ``webhooks``; returns the event's id. ``own``: data
        the sandbox built from a change, which :attr:`data_fields` trims (an emitted event's
        data goes out as given)."""
        if own and self._data_fields is not None and isinstance(data, dict):
            data = {key: value for key, value in data.items() if key in self._data_fields}
        event = _Event(str(uuid.uuid4()), event_type, stamp(to_us(self.clock())),
                       copy.deepcopy(data), self._envelope_fields)
        if not webhooks:
            return event.id
        with self._cond:
            now = time.monotonic()
            for webhook in webhooks:
                job = _Job(event, webhook["id"], webhook["url"], webhook.get("secret_key"))
                heapq.heappush(self._due, (now, next(self._order), job))
            self._start()
            self._cond.notify_all()
        return event.id

    def pause(self) -> None:
        """Hold every delivery (first attempts and retries) until :meth:`resume`."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def attempts(self) -> list[DeliveryAttempt]:
        """Every attempt so far, oldest first (a copy)."""
        with self._cond:
            return list(self._attempts)

    def clear_attempts(self) -> None:
        with self._cond:
            self._attempts.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether nothing is queued, being sent or waiting for a retry within ``timeout``
        seconds (a paused queue with events in it stays busy)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._due and not self._sending, timeout)

    def stop(self) -> None:
        """Stop the sender thread (after the attempt in flight, if any); queued events and
        pending retries are dropped. The next event starts a new thread."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._generation += 1
            self._due.clear()
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 1.0)
        with self._cond:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.clear()

    # sending --------------------------------------------------------------------------
    def _start(self) -> None:
        """The sender thread, started on first use; the caller holds the condition."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, args=(self._generation,),
                                        name="go1-sandbox-webhooks", daemon=True)
        self._thread.start()

    def _next(self, generation: int) -> _Job | None:
        """The next job once it is due; ``None`` when this thread is to stop."""
        with self._cond:
            while True:
                if self._generation != generation:
                    return None
                now = time.monotonic()
                if not self._paused and self._due and self._due[0][0] <= now:
                    job = heapq.heappop(self._due)[2]
                    self._sending += 1
                    return job
                wait = None if self._paused or not self._due else self._due[0][0] - now
                self._cond.wait(wait)

    def _run(self, generation: int) -> None:
        while True:
            job = self._next(generation)
            if job is None:
                return
            attempt: DeliveryAttempt | None = None
            try:
                attempt = self._attempt(job)
            except Exception:  # a sandbox bug must show, and must not stop the sender
                traceback.print_exc(file=sys.stderr)
            finally:
                self._settle(generation, job, attempt)

    def _settle(self, generation: int, job: _Job, attempt: DeliveryAttempt | None) -> None:
        """Record the attempt and queue what follows it, in one step (so that :meth:`wait`
        never sees an idle moment between an attempt and its retry)."""
        with self._cond:
            self._sending -= 1
            if attempt is not None:
                self._attempts.append(attempt)
            if self._generation == generation:
                now = time.monotonic()
                if attempt is not None and attempt.ok:
                    if self.duplicate and not job.duplicate:
                        again = _Job(job.event, job.webhook_id, job.url, job.secret_key, 1, True)
                        heapq.heappush(self._due, (now, next(self._order), again))
                elif job.attempt_number <= len(self._retry_delays):
                    delay = self._retry_delays[job.attempt_number - 1]
                    retry = _Job(job.event, job.webhook_id, job.url, job.secret_key,
                                 job.attempt_number + 1, job.duplicate)
                    heapq.heappush(self._due, (now + delay, next(self._order), retry))
            self._cond.notify_all()

    @staticmethod
    def body(job: _Job) -> bytes:
        envelope = {"id": job.event.id, "event_type": job.event.event_type,
                    "webhook_version": WEBHOOK_VERSION, "sent": job.event.sent,
                    "attempt_number": job.attempt_number, "webhook_id": job.webhook_id,
                    "data": job.event.data}
        fields = job.event.envelope_fields
        if fields is not None:
            envelope = {key: value for key, value in envelope.items() if key in fields}
        return _encode(envelope)

    def _attempt(self, job: _Job) -> DeliveryAttempt:
        at = self.clock()
        body = self.body(job)
        headers = {"Content-Type": "application/json"}
        if job.secret_key:
            headers[SIGNATURE_HEADER] = sign(job.secret_key, int(at.timestamp()), body)
        status: int | None = None
        failure: str | None = None
        with self._cond:
            if self._pool is None:
                self._pool = urllib3.PoolManager(
                    num_pools=8, retries=False,
                    timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout))
            pool = self._pool
        try:
            response = pool.request("POST", job.url, body=body, headers=headers,
                                    redirect=False)
            status = response.status
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
        return DeliveryAttempt(job.event.id, job.event.event_type, job.webhook_id, job.url,
                               job.attempt_number, status, failure, at, job.duplicate, body)
