"""``Go1Sandbox``: a seeded Go1 portal served over HTTP in-process, with knobs for tests.

Tests and benchmarks point the real extract code at :attr:`Go1Sandbox.url` (``sb.env()`` gives
the settings' environment variables), change data between runs through the methods below (each
change sets the object's ``updated_time`` to :meth:`Go1Sandbox.now`, as Go1 would), inject
faults through :attr:`Go1Sandbox.faults`, take a scope away through :attr:`Go1Sandbox.scopes`,
and assert on :attr:`Go1Sandbox.requests`.

Learning objects are changed copy-on-write (a section dict is replaced, never edited in place),
so a response being serialised on another thread never sees half a change.

Webhooks: a client registers them over HTTP (``/webhooks``, see :mod:`sandbox.go1.app`), and
some changes then send each ACTIVE webhook subscribed to their event type a signed delivery
(body, signature, retries and order: :mod:`sandbox.go1.webhooks`):

- :meth:`~Go1Sandbox.complete_enrollment`: ``enrollment.complete``, ``data`` ``{"id",
  "lo_id", "user_id"}``;
- :meth:`~Go1Sandbox.start_enrollment` and :meth:`~Go1Sandbox.reenroll`: ``enrollment.create``,
  the same ``data``, of the new enrollment;
- :meth:`~Go1Sandbox.add_to_library`: ``content.add``, ``data`` ``{"id": "con_…", "lo_id"}``;
- :meth:`~Go1Sandbox.remove_from_library`: ``content.remove``, the same;
- :meth:`~Go1Sandbox.retire` and :meth:`~Go1Sandbox.remove`: ``content.decommission``, the same.

Every call fires, whether or not it changed anything (adding what the library holds already
still touches ``updated_time``); no other change fires. ``user_id`` is the enrollment's
``user_account_id``; ``id`` is an id ``GET /enrollments/{id}`` or ``GET /learning-objects/{id}``
answers for. Knobs and records (all on :class:`Go1Sandbox`): :attr:`~Go1Sandbox.webhooks`,
:attr:`~Go1Sandbox.deliveries`, :meth:`~Go1Sandbox.wait_deliveries`,
:attr:`~Go1Sandbox.delivery_retry_delays`, :attr:`~Go1Sandbox.duplicate_deliveries`,
:attr:`~Go1Sandbox.delivery_data_fields`, :attr:`~Go1Sandbox.delivery_envelope_fields`,
:meth:`~Go1Sandbox.emit`, :meth:`~Go1Sandbox.pause_deliveries` and
:meth:`~Go1Sandbox.resume_deliveries`. :meth:`~Go1Sandbox.stop` stops the sender too.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sandbox.go1.app import (
    GATEWAY_ENROLLMENTS_PATH,
    RAW_RECORD_KINDS,
    USER_LIST_SHAPES,
    Go1App,
    error_response,
)
from sandbox.go1.data import Go1Seed, gc_paused, generate
from sandbox.go1.model import stamp
from sandbox.go1.store import EnrollmentsView, Go1Store
from sandbox.go1.timefmt import STYLE_Z, format_us, style_for, to_us, truncate
from sandbox.go1.webhooks import EVENT_TYPES, Deliveries, DeliveryAttempt
from sandbox.httpserver import ApiServer, ServedApi

DEFAULT_INCLUDES = ("core", "relevance", "lifecycle", "provider", "topics")


class Go1Sandbox(ServedApi):
    """A local Go1 API (token, learning objects, enrollments, user accounts, webhooks) on
    seeded data, which sends webhook deliveries when its data changes."""

    _app: Go1App

    def __init__(self, seed: Go1Seed | None = None, client_id: str = "sandbox-go1-client",
                 client_secret: str = "sandbox-go1-secret",
                 portal_url: str = "https://acme.mygo1.com",
                 enrollments_path: str = GATEWAY_ENROLLMENTS_PATH) -> None:
        self.seed = seed or Go1Seed()
        self.client_id = client_id
        self.client_secret = client_secret
        self.portal_url = portal_url
        with gc_paused():
            self._store = Go1Store(generate(self.seed))
        self._app = Go1App(self._store, lambda: to_us(self.now()), client_id, client_secret,
                           enrollments_path)
        self._server = ApiServer(self._app.router, error_response, clock=self.now)
        self._deliveries = Deliveries(clock=self.now)

    # serving ----------------------------------------------------------------------------
    @property
    def auth_url(self) -> str:
        """The token endpoint (``GO1_AUTH_URL``)."""
        return self.url + "/oauth/token"

    def env(self) -> dict[str, str]:
        """The settings' environment variables that point a client at this sandbox."""
        return {"GO1_AUTH_URL": self.auth_url, "GO1_API_URL": self.url,
                "GO1_PORTAL_URL": self.portal_url, "GO1_CLIENT_ID": self.client_id,
                "GO1_CLIENT_SECRET": self.client_secret}

    def stop(self) -> None:
        """Stop serving, and stop the webhook sender (queued deliveries are dropped)."""
        self._deliveries.stop()
        super().stop()

    @property
    def enrollments_path(self) -> str:
        """Where the enrollment list answers: ``/enrollments`` unless the constructor moved it
        (``enrollments_path=OPENAPI_SERVER_ENROLLMENTS_PATH`` models a gateway that follows the
        OpenAPI's relative ``servers:`` entry; ``/enrollments`` then answers 404)."""
        return self._app.enrollments_path

    # knobs ------------------------------------------------------------------------------
    @property
    def scroll_ttl_seconds(self) -> int:
        return self._app.scroll_ttl_seconds

    @scroll_ttl_seconds.setter
    def scroll_ttl_seconds(self, value: int) -> None:
        self._app.scroll_ttl_seconds = value

    @property
    def user_list_shape(self) -> str:
        """``GET /user-accounts`` hits: ``"short"`` (``{"id", "status"}``, as public client
        fixtures show them) or ``"long"`` (the full account objects). The shape is undocumented,
        so a client that reads only ids from the list works with either."""
        return self._app.user_list_shape

    @user_list_shape.setter
    def user_list_shape(self, value: str) -> None:
        if value not in USER_LIST_SHAPES:
            raise ValueError(f"user_list_shape must be one of {USER_LIST_SHAPES}, got {value!r}")
        self._app.user_list_shape = value

    def serve_raw(self, kind: str, key: str, text: str | None) -> None:
        """Serve ``text`` verbatim in place of one record's JSON, in every list and by id
        (``None``: its own JSON again). ``kind`` is ``learning_object`` (by ``lo_id``),
        ``enrollment`` or ``user_account`` (by ``id``). The record is still filtered, sorted
        and counted as its data says: a torture test plants a number, a list, or an object
        holding a lone surrogate escape without moving any other record."""
        if kind not in RAW_RECORD_KINDS:
            raise ValueError(f"kind must be one of {RAW_RECORD_KINDS}, got {kind!r}")
        if text is None:
            self._app.raw_records.pop((kind, key), None)
        else:
            self._app.raw_records[(kind, key)] = text

    def short_enrollment_pages(self, times: int | None = 1, drop: int = 1,
                               offset: int | None = None) -> None:
        """The next ``times`` enrollment list pages (``None``: all, ``0``: none again) answer
        ``drop`` hits fewer than they hold, their ``total`` unchanged; only pages asked at
        ``offset`` when it is given (see :meth:`Go1App.short_enrollment_pages`)."""
        self._app.short_enrollment_pages(times, drop, offset)

    # webhooks ---------------------------------------------------------------------------
    @property
    def webhooks(self) -> list[dict[str, Any]]:
        """The registered webhooks as ``GET /webhooks`` serves them, oldest first (copies)."""
        return self._app.webhooks.all()

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every delivery attempt so far, oldest first (a copy): event id, event type, webhook
        id, url, attempt number, status answered or error text, when, whether a duplicate,
        and the exact body sent."""
        return self._deliveries.attempts

    def clear_deliveries(self) -> None:
        """Forget the attempts recorded so far (queued deliveries still go)."""
        self._deliveries.clear_attempts()

    def wait_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is queued, in flight or waiting for a retry; ``False`` if
        ``timeout`` seconds passed first (a paused queue holding events never settles)."""
        return self._deliveries.wait(timeout)

    @property
    def delivery_retry_delays(self) -> tuple[float, ...]:
        """Seconds before attempts 2, 3, … of a delivery that failed (non-2xx or no answer);
        the event is given up after ``1 + len(...)`` attempts. Default ``(1, 2, 4, 8, 16)``."""
        return self._deliveries.retry_delays

    @delivery_retry_delays.setter
    def delivery_retry_delays(self, value: tuple[float, ...]) -> None:
        self._deliveries.retry_delays = value

    @property
    def duplicate_deliveries(self) -> bool:
        """Send every successful delivery a second time (attempt number 1 again, the same
        event id), as an at-least-once sender may. Default ``False``."""
        return self._deliveries.duplicate

    @duplicate_deliveries.setter
    def duplicate_deliveries(self, value: bool) -> None:
        self._deliveries.duplicate = bool(value)

    @property
    def delivery_data_fields(self) -> tuple[str, ...] | None:
        """Only these members of the change events' ``data`` (from ``id``, ``lo_id``,
        ``user_id``; ``None``: all). Public code confirms only ``id`` and ``lo_id``."""
        return self._deliveries.data_fields

    @delivery_data_fields.setter
    def delivery_data_fields(self, value: tuple[str, ...] | None) -> None:
        self._deliveries.data_fields = value

    @property
    def delivery_envelope_fields(self) -> tuple[str, ...] | None:
        """Only these members of every delivery body (from ``id``, ``event_type``,
        ``webhook_version``, ``sent``, ``attempt_number``, ``webhook_id``, ``data``; ``None``:
        all). Public code confirms only ``event_type`` and ``data``."""
        return self._deliveries.envelope_fields

    @delivery_envelope_fields.setter
    def delivery_envelope_fields(self, value: tuple[str, ...] | None) -> None:
        self._deliveries.envelope_fields = value

    def emit(self, event_type: str, data: Any) -> str:
        """Queue an arbitrary event now, ``data`` sent as given (any JSON value; the data
        fields knob does not trim it); returns its id. It goes to the active webhooks
        subscribed to ``event_type``, or, for a type no webhook can subscribe to (outside the
        OpenAPI's enum), to every active webhook."""
        registry = self._app.webhooks
        targets = registry.active(event_type if event_type in EVENT_TYPES else None)
        return self._deliveries.publish(event_type, data, targets, own=False)

    def pause_deliveries(self) -> None:
        """Hold every delivery, first attempts and retries, until :meth:`resume_deliveries`
        (events keep being queued, in order)."""
        self._deliveries.pause()

    def resume_deliveries(self) -> None:
        self._deliveries.resume()

    def _fire(self, event_type: str, data: dict[str, Any]) -> None:
        """A change's event, to the active webhooks subscribed to it (none: nothing queued)."""
        targets = self._app.webhooks.active(event_type)
        if targets:
            self._deliveries.publish(event_type, data, targets)

    def _fire_enrollment(self, event_type: str, enrollment_id: str) -> None:
        doc = self._store.enrollment(enrollment_id)
        if doc is not None:
            self._fire(event_type, {"id": doc["id"], "lo_id": doc["lo_id"],
                                    "user_id": doc["user_account_id"]})

    def _fire_content(self, event_type: str, lo_id: str) -> None:
        with self._store.lock:
            content_id = self._store.learning_objects[lo_id]["id"]
        self._fire(event_type, {"id": content_id, "lo_id": lo_id})

    # data -------------------------------------------------------------------------------
    @property
    def learning_objects(self) -> dict[str, dict[str, Any]]:
        """``lo_id`` -> the full v3 object (every section), live."""
        return self._store.learning_objects

    @property
    def library(self) -> set[str]:
        """The ``lo_id``s in the portal's My Library (``collection=library``), live."""
        return self._store.library

    @property
    def enrollments(self) -> EnrollmentsView:
        """Listed enrollment id -> the object as served (rendered on access)."""
        return self._store.enrollments

    @property
    def archived_enrollments(self) -> EnrollmentsView:
        """Enrollments archived by a re-enrolment: never listed any more."""
        return self._store.archived_enrollments

    @property
    def user_accounts(self) -> dict[str, dict[str, Any]]:
        """User account id -> the object ``GET /user-accounts/{id}`` serves."""
        return self._store.user_accounts

    @property
    def deleted_user_ids(self) -> list[str]:
        """User account ids some enrollments refer to but that answer 404."""
        return list(self._store.deleted_user_ids)

    def served_learning_object(self, lo_id: str,
                               includes: tuple[str, ...] = DEFAULT_INCLUDES) -> dict[str, Any]:
        """The exact hit JSON served for ``lo_id`` with those ``include[]`` values (a copy)."""
        with self._store.lock:
            doc = self._store.learning_objects[lo_id]
            return copy.deepcopy(self._store.project(doc, tuple(includes)))

    # changes: enrollments -----------------------------------------------------------------
    def _now_us(self) -> int:
        return to_us(self.now())

    def bulk_update_day(self, day: datetime) -> None:
        """Every listed enrollment updated during the UTC day starting at ``day`` (a bulk
        assignment): one day holding far more updates than offset paging reaches."""
        start = to_us(day)
        self._store.spread_updates(start, start + 86_400 * 1_000_000)

    def complete_enrollment(self, enrollment_id: str, passed: bool | None = True) -> None:
        """Mark completed now, with ``pass`` (result 100 if passed, 40 if failed)."""
        self._store.complete(enrollment_id, passed, self._now_us())
        self._fire_enrollment("enrollment.complete", enrollment_id)

    def start_enrollment(self, lo_id: str, user_account_id: str) -> str:
        """A new in-progress, self-directed enrollment; returns its id."""
        new_id = self._store.start(lo_id, user_account_id, self._now_us())
        self._fire_enrollment("enrollment.create", new_id)
        return new_id

    def reenroll(self, enrollment_id: str, status: str = "in-progress") -> str:
        """Archive the enrollment (no longer listed) and create a new one; returns the new id."""
        new_id = self._store.reenroll(enrollment_id, self._now_us(), status)
        self._fire_enrollment("enrollment.create", new_id)
        return new_id

    # changes: user accounts ---------------------------------------------------------------
    def add_user_account(self, user_account_id: str, email: str | None) -> None:
        """A new active learner with any id (an id holding ``/`` or ``?`` tests how a client
        builds ``/user-accounts/{id}``); listed after the seeded accounts."""
        self._store.add_user(user_account_id, email, stamp(self._now_us(), STYLE_Z))

    def edit_email(self, user_account_id: str, email: str | None) -> None:
        """Change a learner's email in Go1 (``None``: the account has none)."""
        with self._store.lock:
            person = self._store.user_accounts[user_account_id]["user"]
            if email is None:
                person.pop("email", None)
            else:
                person["email"] = email

    # changes: learning objects ------------------------------------------------------------
    def _change(self, lo_id: str, section: str | None = None, value: Any = None,
                metadata: bool = False) -> None:
        store = self._store
        with store.lock:
            doc = store.learning_objects[lo_id]
            if section is not None:
                doc[section] = value
            store.touch_learning_object(lo_id, self._now_us(), metadata)

    def _lifecycle(self, lo_id: str, state: str) -> None:
        lifecycle: dict[str, Any] = {"state": state}
        if state in ("retired", "removed"):
            style = style_for(int(lo_id))
            when = format_us(truncate(self._now_us(), style), style)
            lifecycle["pending_state"] = {f"{state}_time": when}
        self._change(lo_id, "lifecycle", lifecycle)

    def retire(self, lo_id: str) -> None:
        self._lifecycle(lo_id, "retired")
        self._fire_content("content.decommission", lo_id)

    def remove(self, lo_id: str) -> None:
        self._lifecycle(lo_id, "removed")
        self._fire_content("content.decommission", lo_id)

    def publish(self, lo_id: str) -> None:
        self._lifecycle(lo_id, "published")

    def remove_from_library(self, lo_id: str) -> None:
        with self._store.lock:
            self._store.library.discard(lo_id)
            self._change(lo_id)
        self._fire_content("content.remove", lo_id)

    def add_to_library(self, lo_id: str) -> None:
        with self._store.lock:
            if lo_id not in self._store.learning_objects:
                raise KeyError(lo_id)
            self._store.library.add(lo_id)
            self._change(lo_id)
        self._fire_content("content.add", lo_id)

    def edit_title(self, lo_id: str, title: str) -> None:
        with self._store.lock:
            core = dict(self._store.learning_objects[lo_id]["core"], title=title)
            self._change(lo_id, "core", core, metadata=True)
