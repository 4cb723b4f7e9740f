"""The Go1 routes: token, learning objects (offset and scroll paging), enrollments, users,
webhooks.

Behaviour follows ``sandbox/contracts/go1-openapi.yml`` and the contract README, read strictly:
the sandbox serves only the calls those documents describe, each with the scope Go1 asks for.
Where both are silent the choice is made here and named, so a client author can see it.

Routes (:data:`ROUTE_SCOPES` is the one list of them, with their scopes); any other path answers
404 ``NOT_FOUND``, as an unknown route does:

- ``POST /oauth/token``: the OpenAPI's ``tokenUrl`` (``https://auth.go1.com/oauth/token``),
  served on this host; it needs no scope.
- From the OpenAPI: ``GET /learning-objects``, ``GET /learning-objects/{id}``,
  ``GET /enrollments`` (the list) and ``GET /enrollments/{id}``.
- The two known undocumented calls, absent from the OpenAPI: ``GET /user-accounts/{id}`` (the
  contract README's "Users": where a learner's email comes from, and what a webhook delivery's
  details are read with) and ``GET /user-accounts`` (the contract README; its hits are
  ``{"id", "status"}`` only, as public client fixtures show them: no ``user.email``).
- Webhooks: ``GET /webhooks`` (``{"total", "hits"}``, oldest first), ``POST /webhooks`` (201,
  the record) and ``PATCH /webhooks/{id}`` (200, the record; ``application/json`` or
  ``application/merge-patch+json``) from the OpenAPI; ``GET /webhooks/{id}`` (200) and
  ``DELETE /webhooks/{id}`` (204, no body) from the contract README, which lists
  ``GET/PATCH/DELETE /webhooks/{id}`` where the OpenAPI has only ``PATCH``. Bodies are checked
  against the OpenAPI's request schemas (a body before the id it names), records and the
  deliveries that follow a change are :mod:`sandbox.go1.webhooks`'s; ``secret_key`` is served
  back in every answer, as the OpenAPI's response schemas say Go1 does.

The enrollment list is ``GET /enrollments`` (:data:`GATEWAY_ENROLLMENTS_PATH`), as Go1's
published collections and the contract show. The OpenAPI gives that operation its own relative
``servers: [{url: /report-data/enrolment}]``; OpenAPI resolves a relative server URL against the
document's own location, so it is no evidence for another gateway path. A sandbox built with
``enrollments_path=OPENAPI_SERVER_ENROLLMENTS_PATH`` models a gateway that did follow it: the
list answers there and ``GET /enrollments`` answers 404 (``GET /enrollments/{id}`` stays).

Scopes (Go1's scope page; Totara's Go1 plugin asks for the same): ``lo.read`` for learning
objects, ``enrollment.read`` for enrollments, ``user.read`` for user accounts, ``webhook.read``
for ``GET`` on the webhook routes and ``webhook.write`` for the others (the OpenAPI's security
entries for the documented three; the same split for the README's ``GET``/``DELETE
/webhooks/{id}``). All five are granted by default. The scopes the token carries are
:attr:`Go1App.scopes`, read at each request, so a test that removes one changes what tokens
already issued may do.

Errors are ``{"error_code", "message"}`` (the OpenAPI's shape), except a missing scope. Codes:

====  ===========================  ==========================================================
401   ``AUTH_TOKEN_INVALID``       no, unknown or expired bearer token; wrong client
                                   credentials; a token request that is not form-encoded
401   (no ``error_code``)          the token lacks the route's scope (:data:`ROUTE_SCOPES`):
                                   the body is exactly ``{"message": "Missing scopes"}``, as
                                   Go1 answers, without ``WWW-Authenticate``; checked after
                                   the token and before anything else
400   ``INVALID_API_VERSION``      ``Api-Version`` missing or not ``2025-01-01`` (checked after
                                   the token and the scope)
400   ``INVALID_REQUEST``          token request without ``grant_type``, ``client_id`` or
                                   ``client_secret``
400   ``UNSUPPORTED_GRANT_TYPE``   ``grant_type`` other than ``client_credentials``
400   ``INVALID_PARAMETER``        a query value out of range or outside its enum, an
                                   unparseable date-time, ``retired``/``removed`` combined with
                                   another state; a webhook body that is not JSON, not sent as
                                   a media type its operation takes, or not what its schema
                                   allows (a member missing, unknown or of the wrong type)
400   ``RESULT_WINDOW_TOO_LARGE``  ``limit + offset > 10,000`` (offset paging)
400   ``INVALID_SCROLL_ID``        a ``scroll_id`` that is not one this API could have issued
404   ``SCROLL_ID_NOT_FOUND``      a scroll id that expired (``scroll_ttl_seconds`` after its
                                   last use) or is unknown
404   ``USER_ACCOUNT_NOT_FOUND``, ``ENROLLMENT_NOT_FOUND``, ``LEARNING_OBJECT_NOT_FOUND``,
      ``WEBHOOK_NOT_FOUND``, ``NOT_FOUND`` (no such route), 405 ``METHOD_NOT_ALLOWED``
403   ``FORBIDDEN`` (the ``"403"`` fault only; the OpenAPI documents 403 without a body)
429   ``TOO_MANY_REQUESTS``; 500 ``INTERNAL_SERVER_ERROR``; 503 ``SERVICE_UNAVAILABLE``;
502   an HTML page, as a gateway in front of the API sends one (clients must not assume JSON)
====  ===========================  ==========================================================

Other choices: query parameters this sandbox does not model (``providers[]``, ``language[]`` …)
are ignored; a scroll remembers its first request's filters, ``include[]`` and ``limit`` and
ignores any other parameter sent with ``scroll_id``; the listing's default order is title
ascending (``sort`` given without ``order`` is descending, the OpenAPI default);
``GET /user-accounts`` pages like the enrollment list: ``limit`` 1..50 (default 20), ``offset``,
``limit + offset <= 10,000``, in id order; its hits are short (``{"id", "status"}``) unless
:attr:`Go1App.user_list_shape` is ``"long"`` (the full accounts: the hit shape is undocumented,
so a client must cope with either).

Served text: JSON is written UTF-8 as Go1 writes it, except that a lone UTF-16 surrogate in a
string (a title cut in the middle of an emoji, ``"\\ud83d"``) is written as its ``\\uXXXX``
escape: valid JSON to many parsers, refused by others (DuckDB), which a client must survive.
Knobs for such records and for short pages (see :class:`Go1App`): :attr:`Go1App.raw_records`
serves a given text in place of one record's JSON wherever the record is served (a number, a
list, a string with a lone surrogate …); :meth:`Go1App.short_enrollment_pages` has the next
enrollment list pages answer fewer hits than their ``total`` promises, the total unchanged.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.go1 import vocab
from sandbox.go1.store import EnrollmentQuery, Go1Store, LearningObjectQuery
from sandbox.go1.timefmt import US_PER_SECOND, parse_us
from sandbox.go1.webhooks import InvalidWebhook, UnknownWebhook, WebhookRegistry
from sandbox.httpserver import Handler, HttpError, Request, Response, Router

API_VERSION = "2025-01-01"
#: the enrollment list as the gateway serves it (Go1's collections, the contract README)
GATEWAY_ENROLLMENTS_PATH = "/enrollments"
#: the list where the OpenAPI's relative ``servers:`` entry would put it, read as gateway-relative
OPENAPI_SERVER_ENROLLMENTS_PATH = "/report-data/enrolment/enrollments"
#: Every route served, ``(method, path pattern) -> the scope its token must carry`` (``None``:
#: none). The enrollment list is keyed by :data:`GATEWAY_ENROLLMENTS_PATH` and served at the
#: app's ``enrollments_path``. A route missing here is not served at all, so this is also the
#: list of what the documents describe (see the module docstring).
ROUTE_SCOPES: dict[tuple[str, str], str | None] = {
    ("POST", "/oauth/token"): None,
    ("GET", "/learning-objects"): "lo.read",
    ("GET", "/learning-objects/{id}"): "lo.read",
    ("GET", GATEWAY_ENROLLMENTS_PATH): "enrollment.read",
    ("GET", "/enrollments/{id}"): "enrollment.read",
    ("GET", "/user-accounts"): "user.read",
    ("GET", "/user-accounts/{id}"): "user.read",
    ("GET", "/webhooks"): "webhook.read",
    ("POST", "/webhooks"): "webhook.write",
    ("GET", "/webhooks/{id}"): "webhook.read",
    ("PATCH", "/webhooks/{id}"): "webhook.write",
    ("DELETE", "/webhooks/{id}"): "webhook.write",
}
#: what the integration's token carries unless a test removes some (Go1's scope page)
DEFAULT_SCOPES = frozenset({"lo.read", "enrollment.read", "user.read", "webhook.read",
                            "webhook.write"})
#: ``GET /user-accounts`` hits: ``{"id", "status"}`` (public fixtures) or the full account
USER_LIST_SHAPES = ("short", "long")
RESULT_WINDOW = 10_000
INCLUDES = ("core", "relevance", "pricing", "lifecycle", "skills", "quality", "revisions",
            "provider", "playback_behavior", "topics", "images", "preview", "tags", "offerings",
            "presentation", "accessibility")
ENROLLMENT_STATUSES = ("completed", "in-progress", "not-started", "assigned")
_SCROLL_ID = re.compile(r"^[A-Za-z0-9_-]{64}$")
# The OpenAPI documents 403 ("insufficient roles") without a body; FORBIDDEN is this sandbox's
# code for the "403" fault. A missing scope is not a 403 on Go1: see ``_MISSING_SCOPES``.
_STATUS_CODES = {401: "AUTH_TOKEN_INVALID", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED",
                 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR",
                 503: "SERVICE_UNAVAILABLE"}
_MISSING_SCOPES = {"message": "Missing scopes"}  # Go1's exact body: no error_code
_BAD_GATEWAY = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
                "Gateway</h1></center></body></html>\n")


#: what :attr:`Go1App.raw_records` is keyed by: the kind of record and its id
RAW_RECORD_KINDS = ("learning_object", "enrollment", "user_account")


def _served(text: str, status: int = 200) -> Response:
    """JSON text as UTF-8 (a 200 unless told); a lone surrogate goes out as its ``\\uXXXX``
    escape (``backslashreplace`` spells it exactly so), where plain UTF-8 cannot carry it."""
    return Response(status, text.encode("utf-8", "backslashreplace"))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class _ShortPages:
    """Enrollment list pages still to answer short: how many, by how many hits, where."""

    remaining: int | None  # None: every page, until cleared
    drop: int
    offset: int | None  # only pages asked at this offset; None: any page with enough hits


def error(status: int, code: str, message: str) -> HttpError:
    """A Go1-shaped error to raise from a handler."""
    return HttpError(Response(status, {"error_code": code, "message": message}))


def error_response(status: int, message: str) -> Response:
    """Errors raised below the routes (faults, unknown routes) in Go1's shape."""
    if status == 502:
        return Response(502, _BAD_GATEWAY, content_type="text/html")
    response = Response(status, {"error_code": _STATUS_CODES.get(status, "ERROR"),
                                 "message": message})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _check_enrollments_path(path: str) -> str:
    """A path the router can serve and that takes no other route's place."""
    if not path.startswith("/") or path == "/" or path.endswith("/") or \
            any(c in path for c in "{}?#"):
        raise ValueError(f"enrollments_path must be a plain absolute path like "
                         f"{GATEWAY_ENROLLMENTS_PATH!r}, got {path!r}")
    if path != GATEWAY_ENROLLMENTS_PATH and any(pattern == path for _, pattern in ROUTE_SCOPES):
        raise ValueError(f"enrollments_path {path!r} is another route's path")
    return path


def _invalid(message: str) -> HttpError:
    return error(400, "INVALID_PARAMETER", message)


def _int(req: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = req.arg(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _invalid(f"{name} must be an integer.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid(f"{name} must be {bound}.")
    return value


def _bool(req: Request, name: str) -> bool | None:
    text = req.arg(name)
    if text is None or text == "":
        return None
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise _invalid(f"{name} must be true or false.")


def _time(req: Request, name: str) -> int | None:
    text = req.arg(name)
    if text is None or text == "":
        return None
    try:
        return parse_us(text)
    except ValueError:
        raise _invalid(f"{name} must be an ISO 8601 date-time in UTC, got {text!r}.") from None


def _choices(values: list[str], name: str, allowed: tuple[str, ...]) -> frozenset[str] | None:
    """A repeatable or comma-separated enum parameter; ``None`` when absent."""
    items = [item for value in values for item in value.split(",") if item != ""]
    if not items:
        return None
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        raise _invalid(f"{name} has unsupported value(s) {', '.join(unknown)}; "
                       f"allowed: {', '.join(allowed)}.")
    return frozenset(items)


def _order(req: Request, default_desc: bool) -> bool:
    order = req.arg("order")
    if order is None or order == "":
        return default_desc
    if order not in ("asc", "desc"):
        raise _invalid("order must be asc or desc.")
    return order == "desc"


@dataclass
class _Scroll:
    ids: list[str]
    position: int
    limit: int
    includes: tuple[str, ...]
    expires_us: int


class Go1App:
    """Route handlers over a :class:`Go1Store`; tokens, scrolls, scopes and knobs live here.

    ``enrollments_path`` is where the enrollment list answers: the gateway's ``/enrollments``
    unless a test models a gateway that follows the OpenAPI's relative server entry
    (:data:`OPENAPI_SERVER_ENROLLMENTS_PATH`); ``/enrollments`` then answers 404.
    """

    def __init__(self, store: Go1Store, now_us: Callable[[], int], client_id: str,
                 client_secret: str, enrollments_path: str = GATEWAY_ENROLLMENTS_PATH) -> None:
        self.store = store
        self.now_us = now_us
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_seconds = 43_200
        self.scroll_ttl_seconds = 300
        #: the scopes every token carries, read at each request (a live, mutable set)
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        #: ``"short"`` or ``"long"`` hits for ``GET /user-accounts`` (see USER_LIST_SHAPES)
        self.user_list_shape = "short"
        #: ``(kind, id) -> text`` served verbatim in place of that record's JSON, in lists and
        #: by id (kinds: :data:`RAW_RECORD_KINDS`); the record is still filtered and counted
        #: as its data says, so totals and paging stay as they were
        self.raw_records: dict[tuple[str, str], str] = {}
        #: the portal's webhook subscriptions (``/webhooks``; see :mod:`sandbox.go1.webhooks`)
        self.webhooks = WebhookRegistry(now_us)
        self._short: _ShortPages | None = None
        self._enrollments_path = _check_enrollments_path(enrollments_path)
        self._tokens: dict[str, int] = {}
        self._scrolls: dict[str, _Scroll] = {}
        self._lock = threading.Lock()  # tokens and scrolls
        handlers: dict[tuple[str, str], Handler] = {
            ("POST", "/oauth/token"): self.token,
            ("GET", "/learning-objects"): self.list_learning_objects,
            ("GET", "/learning-objects/{id}"): self.get_learning_object,
            ("GET", GATEWAY_ENROLLMENTS_PATH): self.list_enrollments,
            ("GET", "/enrollments/{id}"): self.get_enrollment,
            ("GET", "/user-accounts"): self.list_user_accounts,
            ("GET", "/user-accounts/{id}"): self.get_user_account,
            ("GET", "/webhooks"): self.list_webhooks,
            ("POST", "/webhooks"): self.create_webhook,
            ("GET", "/webhooks/{id}"): self.get_webhook,
            ("PATCH", "/webhooks/{id}"): self.update_webhook,
            ("DELETE", "/webhooks/{id}"): self.delete_webhook,
        }
        assert handlers.keys() == ROUTE_SCOPES.keys(), "every route needs its ROUTE_SCOPES row"
        self.router = Router()
        for (method, pattern), scope in ROUTE_SCOPES.items():
            handler = handlers[(method, pattern)]
            path = enrollments_path if pattern == GATEWAY_ENROLLMENTS_PATH else pattern
            self.router.add(method, path,
                            handler if scope is None else self._guard(scope, handler))

    @property
    def enrollments_path(self) -> str:
        """Where the enrollment list answers (fixed at construction: it is a route)."""
        return self._enrollments_path

    # auth -----------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        form = req.form
        if form is None:  # JSON or anything else: the credentials are simply not found
            raise error(401, "AUTH_TOKEN_INVALID", "Invalid credentials.")
        for field in ("grant_type", "client_id", "client_secret"):
            if not form.get(field):
                raise error(400, "INVALID_REQUEST", f"{field} is required.")
        if form["grant_type"] != "client_credentials":
            raise error(400, "UNSUPPORTED_GRANT_TYPE",
                        "Only grant_type=client_credentials is supported.")
        if not (secrets.compare_digest(form["client_id"], self.client_id)
                and secrets.compare_digest(form["client_secret"], self.client_secret)):
            raise error(401, "AUTH_TOKEN_INVALID", "Invalid credentials.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self.now_us() + self.token_ttl_seconds * US_PER_SECOND
        return Response(200, {"token_type": "Bearer", "access_token": token,
                              "expires_in": self.token_ttl_seconds})

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = {}

    def _guard(self, scope: str, handler: Handler) -> Handler:
        """``handler`` behind the checks every API call passes first (see :meth:`_authorize`).

        Wrapping at registration, rather than a call at the top of each handler, means no route
        can be served without its scope.
        """

        def guarded(req: Request) -> Response:
            self._authorize(req, scope)
            return handler(req)

        return guarded

    def _authorize(self, req: Request, scope: str) -> None:
        """The token, then its scope, then ``Api-Version``, the order this sandbox pins: a bad
        token is ``AUTH_TOKEN_INVALID`` whatever the scopes, and a missing scope comes before
        any other fault of the request, so a client (and a test) can tell it from all of them."""
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or self.now_us() >= expires:
            raise HttpError(error_response(401, "Invalid credentials."))
        if scope not in self.scopes:
            raise HttpError(Response(401, dict(_MISSING_SCOPES)))
        version = req.headers.get("api-version")
        if version != API_VERSION:
            raise error(400, "INVALID_API_VERSION",
                        f"Api-Version header must be {API_VERSION}, got {version!r}.")

    # learning objects -------------------------------------------------------------------
    def _includes(self, req: Request) -> tuple[str, ...]:
        chosen = _choices(req.args("include[]"), "include[]", INCLUDES)
        return ("core",) if chosen is None else tuple(i for i in INCLUDES if i in chosen)

    def _lo_query(self, req: Request) -> LearningObjectQuery:
        collection = req.arg("collection") or None
        if collection not in (None, "library", "not_added_to_library", "partner_content",
                              "subscribe"):
            raise _invalid("collection must be library, not_added_to_library, "
                           "partner_content or subscribe.")
        states = _choices(req.args("state[]"), "state[]", vocab.LIFECYCLE_STATES) or \
            frozenset({"published"})
        if len(states) > 1 and states & {"retired", "removed"}:
            raise _invalid("state[] retired and removed must each be requested alone; only "
                           "draft and published can be combined.")
        sort = req.arg("sort") or None
        ids = frozenset(req.args("id[]")) or None
        return LearningObjectQuery(
            collection=collection,
            types=_choices(req.args("type[]"), "type[]", vocab.ALL_TYPES),
            states=states, ids=ids, keyword=req.arg("keyword") or None,
            sort=sort if sort in ("created", "updated_time") else "title",
            descending=_order(req, default_desc=sort is not None),
        )

    def _hits(self, ids: list[str], includes: tuple[str, ...]) -> str:
        """The hits of a learning-object page as a JSON array's text (raw records spliced in)."""
        store, raw = self.store, self.raw_records
        with store.lock:
            hits = [raw.get(("learning_object", lo))
                    or _dumps(store.project(store.learning_objects[lo], includes))
                    for lo in ids if lo in store.learning_objects]
        return "[" + ",".join(hits) + "]"

    @staticmethod
    def _list_page(total: int, hits: str, scroll_id: str | None = None) -> Response:
        tail = "" if scroll_id is None else f',"next_scroll_id":{_dumps(scroll_id)}'
        return _served(f'{{"total":{total:d},"hits":{hits}{tail}}}')

    def list_learning_objects(self, req: Request) -> Response:
        scroll_id = req.arg("scroll_id")
        if scroll_id is not None:
            return self._scroll_page(scroll_id)
        includes = self._includes(req)
        query = self._lo_query(req)
        if _bool(req, "use_scroll"):
            limit = _int(req, "limit", 20, 1, 5000)
            ids = self.store.learning_object_ids(query)
            now = self.now_us()
            scroll_id = secrets.token_urlsafe(48)
            with self._lock:
                self._scrolls = {k: s for k, s in self._scrolls.items() if s.expires_us > now}
                self._scrolls[scroll_id] = _Scroll(ids, limit, limit, includes,
                                                   now + self.scroll_ttl_seconds * US_PER_SECOND)
            return self._list_page(len(ids), self._hits(ids[:limit], includes), scroll_id)
        limit = _int(req, "limit", 20, 1, 50)
        offset = _int(req, "offset", 0, 0, None)
        self._check_window(limit, offset)
        ids = self.store.learning_object_ids(query)
        return self._list_page(len(ids), self._hits(ids[offset:offset + limit], includes))

    def _scroll_page(self, scroll_id: str) -> Response:
        if not _SCROLL_ID.match(scroll_id):
            raise error(400, "INVALID_SCROLL_ID", "scroll_id is not a valid scroll id.")
        now = self.now_us()
        with self._lock:
            scroll = self._scrolls.get(scroll_id)
            if scroll is None or now >= scroll.expires_us:
                self._scrolls.pop(scroll_id, None)
                raise error(404, "SCROLL_ID_NOT_FOUND",
                            "The scroll id has expired or does not exist; start a new scroll.")
            page = scroll.ids[scroll.position:scroll.position + scroll.limit]
            scroll.position += len(page)
            scroll.expires_us = now + self.scroll_ttl_seconds * US_PER_SECOND
        return self._list_page(len(scroll.ids), self._hits(page, scroll.includes), scroll_id)

    def get_learning_object(self, req: Request) -> Response:
        includes = self._includes(req)
        with self.store.lock:
            doc = self.store.find_learning_object(req.params["id"])
            if doc is None:
                raise error(404, "LEARNING_OBJECT_NOT_FOUND",
                            f"Learning object {req.params['id']} not found.")
            raw = self.raw_records.get(("learning_object", doc["lo_id"]))
            return _served(raw or _dumps(self.store.project(doc, includes)))

    # enrollments ----------------------------------------------------------------------
    @staticmethod
    def _check_window(limit: int, offset: int) -> None:
        if limit + offset > RESULT_WINDOW:
            raise error(400, "RESULT_WINDOW_TOO_LARGE",
                        f"limit + offset cannot exceed {RESULT_WINDOW:,}; narrow the request "
                        "(for example by update_time window) to read further.")

    def list_enrollments(self, req: Request) -> Response:
        """The parent enrollments, at :attr:`enrollments_path` (``/enrollments`` by default)."""
        limit = _int(req, "limit", 20, 1, 50)
        offset = _int(req, "offset", 0, 0, None)
        self._check_window(limit, offset)
        sort = req.arg("sort") or "created_time"
        if sort not in ("created_time", "updated_time", "due_date", "assign_date"):
            raise _invalid("sort must be created_time, updated_time, due_date or assign_date.")
        kind = req.arg("enrollment_type") or None
        if kind not in (None, "self-directed", "assigned"):
            raise _invalid("enrollment_type must be self-directed or assigned.")
        numbers = {}
        for name in ("user_account_id", "assigner_account_id"):
            text = req.arg(name) or None
            if text is not None and not text.isdigit():
                raise _invalid(f"{name} must be an integer.")
            numbers[name] = text
        lo_ids = [item for value in req.args("lo_ids") for item in value.split(",") if item]
        query = EnrollmentQuery(
            limit=limit, offset=offset, sort=sort, descending=_order(req, default_desc=True),
            update_gte=_time(req, "update_time_gte"), update_lte=_time(req, "update_time_lte"),
            statuses=_choices(req.args("status"), "status", ENROLLMENT_STATUSES),
            lo_ids=frozenset(lo_ids) or None, user=numbers["user_account_id"],
            assigner=numbers["assigner_account_id"], kind=kind,
            end_gte=_time(req, "end_date_gte"), end_lte=_time(req, "end_date_lte"),
            assign_gte=_time(req, "assign_date_gte"), assign_lte=_time(req, "assign_date_lte"),
            due_gte=_time(req, "due_date_gte"), due_lte=_time(req, "due_date_lte"),
            due_exists=_bool(req, "due_date_exists"),
        )
        raw = {key: text for (kind, key), text in self.raw_records.items()
               if kind == "enrollment"}
        return _served(self.store.enrollment_page_json(query, raw, self._short_for(offset)))

    def short_enrollment_pages(self, times: int | None = 1, drop: int = 1,
                               offset: int | None = None) -> None:
        """The next ``times`` enrollment list pages (``None``: every one) answer ``drop`` fewer
        hits than they hold, their ``total`` unchanged, as a search engine that lost records
        between counting and fetching does. Only pages asked at ``offset`` when it is given,
        else any page holding more than ``drop`` hits. ``times=0`` clears the knob."""
        if drop < 1:
            raise ValueError("drop must be at least 1")
        with self._lock:
            self._short = None if times == 0 else _ShortPages(times, drop, offset)

    def _short_for(self, offset: int) -> Callable[[int], int]:
        """For the page asked at ``offset``: told how many hits it holds, how many to leave
        out (a page that answers short uses the knob up once)."""

        def drop(held: int) -> int:
            with self._lock:
                short = self._short
                if short is None or held <= short.drop or \
                        (short.offset is not None and short.offset != offset):
                    return 0
                if short.remaining is not None:
                    short.remaining -= 1
                    if short.remaining == 0:
                        self._short = None
                return short.drop

        return drop

    def get_enrollment(self, req: Request) -> Response:
        """The slim enrollment; note the OpenAPI spells ``parent_enrollment_id`` here."""
        doc = self.store.enrollment(req.params["id"])
        if doc is None:
            raise error(404, "ENROLLMENT_NOT_FOUND", f"Enrollment {req.params['id']} not found.")
        doc["parent_enrollment_id"] = doc.pop("parent_enrolment_id")
        return _served(self.raw_records.get(("enrollment", doc["id"])) or _dumps(doc))

    # users ----------------------------------------------------------------------------
    def list_user_accounts(self, req: Request) -> Response:
        """Not in the OpenAPI (see the module docstring): ids and statuses, to discover accounts."""
        limit = _int(req, "limit", 20, 1, 50)
        offset = _int(req, "offset", 0, 0, None)
        self._check_window(limit, offset)
        short = self.user_list_shape == "short"
        total, hits = self.store.user_page(limit, offset, short=short)
        texts = [(None if short else self.raw_records.get(("user_account", str(hit["id"]))))
                 or _dumps(hit) for hit in hits]
        return self._list_page(total, "[" + ",".join(texts) + "]")

    def get_user_account(self, req: Request) -> Response:
        """Not in the OpenAPI either: the full account, the one source of a learner's email."""
        account = self.store.user_account(req.params["id"])
        if account is None:
            raise error(404, "USER_ACCOUNT_NOT_FOUND",
                        f"User account {req.params['id']} not found.")
        return _served(self.raw_records.get(("user_account", req.params["id"]))
                       or _dumps(account))

    # webhooks -------------------------------------------------------------------------
    @staticmethod
    def _webhook_body(req: Request, media_types: tuple[str, ...]) -> Any:
        """The JSON body of a webhook write, sent as one of ``media_types``."""
        media_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in media_types:
            raise _invalid(f"The body must be sent as {' or '.join(media_types)}, "
                           f"got {media_type or 'no Content-Type'}.")
        try:
            return req.json()
        except ValueError:
            raise _invalid("The request body is not valid JSON.") from None

    @staticmethod
    def _webhook_not_found(webhook_id: str) -> HttpError:
        return error(404, "WEBHOOK_NOT_FOUND", f"Webhook {webhook_id} not found.")

    def list_webhooks(self, req: Request) -> Response:
        hits = self.webhooks.all()
        return _served(_dumps({"total": len(hits), "hits": hits}))

    def create_webhook(self, req: Request) -> Response:
        body = self._webhook_body(req, ("application/json",))
        try:
            record = self.webhooks.create(body)
        except InvalidWebhook as exc:
            raise _invalid(str(exc)) from None
        return _served(_dumps(record), 201)

    def get_webhook(self, req: Request) -> Response:
        """Listed by the contract README, absent from the OpenAPI (see the module docstring)."""
        try:
            return _served(_dumps(self.webhooks.get(req.params["id"])))
        except UnknownWebhook:
            raise self._webhook_not_found(req.params["id"]) from None

    def update_webhook(self, req: Request) -> Response:
        """JSON replaces the members sent; merge-patch+json also removes those sent null."""
        body = self._webhook_body(req, ("application/json", "application/merge-patch+json"))
        merge = req.headers.get("content-type", "").split(";")[0].strip().lower() == \
            "application/merge-patch+json"
        try:
            return _served(_dumps(self.webhooks.update(req.params["id"], body, merge)))
        except UnknownWebhook:
            raise self._webhook_not_found(req.params["id"]) from None
        except InvalidWebhook as exc:
            raise _invalid(str(exc)) from None

    def delete_webhook(self, req: Request) -> Response:
        """Listed by the contract README, absent from the OpenAPI: 204 with no body."""
        try:
            self.webhooks.delete(req.params["id"])
        except UnknownWebhook:
            raise self._webhook_not_found(req.params["id"]) from None
        return Response(204, b"")
