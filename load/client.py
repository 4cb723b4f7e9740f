"""The 360Learning API v2 client: the shared core (``apiclient``) plus 360Learning's own rules.

Each call either returns a :class:`Response` or fails with one :class:`LoadError` that says what
to do. The core holds the token, the retries and the scrubbing; this module adds the JSON token
request, the ``360-api-version`` header, two rate limiters (reads and writes, as 360Learning
counts them per platform), ``Link`` paging, and 360Learning's error shapes (``invalid_scope``,
whose message need not name the scope, is named from ``load/endpoints.py``).

One rule is this API's own: a write that must not run twice (any bulk submit, which starts an
operation, and any ``POST``) is sent again only when it provably did not take effect: a failure
before the request left (no connection could be made) or an answer that refuses it (429, 503).
After a read timeout, a dropped connection or a 500/502/504 it may have been carried out, and
the client raises :class:`SubmitUncertain` instead of starting a second operation: the API has
no idempotency key.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from apiclient.client import ApiClient, ApiProfile, ClientStats, ErrorFamily, TokenRequest
from apiclient.endpoints import scope_of
from apiclient.paging import next_link, origin
from apiclient.retry import Attempts, RetryPolicy
from apiclient.text import json_object
from apiclient.transport import Answer, Transport
from go1sync.settings import DEFAULT_HTTP_LIMITS, HttpLimits, L360Settings
from load.endpoints import ENDPOINTS
from load.errors import AuthError, LoadError, NotFound, ScopeError, SubmitUncertain
from load.limiter import RateLimiter

API_VERSION = "v2.0"
TOKEN_PATH = "/api/v2/oauth2/token"
BULK_PREFIX = "/api/v2/bulk/"
DEFAULT_TOKEN_LIFETIME = 3600.0  # "access … for 1 hour"; used when expires_in is unreadable
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_HINTS = {
    400: "check the request against 360Learning's OpenAPI",
    404: "check L360_API_URL and the ids in the path",
    409: "the resource is in a state that does not allow this",
    422: "check the request against 360Learning's OpenAPI",
}

Params = Sequence[tuple[str, str]] | Mapping[str, str]


class JsonText(str):
    """A JSON document already encoded (a statistics record as the warehouse built it), sent
    as it is. Each record used to be decoded from the warehouse, then encoded again for the
    ledger and for the request body: JSON decoding and encoding were 30% of the samples of a
    500,000-attempt push (py-spy)."""

    __slots__ = ()


@dataclass(frozen=True)
class Response:
    """One successful answer. ``data`` is the parsed JSON (None for an empty body, e.g. 202)."""

    status: int
    data: Any
    headers: Mapping[str, str]  # case-insensitive
    url: str  # path and query, never a host's credentials


@dataclass
class L360Stats(ClientStats):
    """The core's counters, with ``reads`` and ``writes`` apart: every attempt sent, as the
    rate limits count them (token calls excluded)."""

    reads: int = 0
    writes: int = 0


def is_repeatable(method: str, path: str) -> bool:
    """Whether a request may be sent again after it may have reached the server.

    Reads are; ``PUT``, ``PATCH`` and ``DELETE`` of a single resource are idempotent. Every bulk
    call starts a new operation (even a ``PUT``), and a ``POST`` creates something: neither is.
    """
    method = method.upper()
    if method == "GET":
        return True
    if path.startswith(BULK_PREFIX):
        return False
    return method != "POST"


def error_fields(body: bytes) -> tuple[str | None, str | None]:
    """360Learning's error code and message from either body shape.

    ``{"error": "invalid_token"}`` (401, core 429) or ``{"error": {"code", "message"}}`` (most
    others, bulk 429); OAuth-style ``error_description`` and bare ``code``/``message`` too.
    """
    data = json_object(body)
    error = data.get("error")
    code: str | None = None
    message: str | None = None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
    elif isinstance(error, str) and error:
        code = error
    if code is None and isinstance(data.get("code"), str):
        code = data["code"]
    if message is None:
        message = next((v for k in ("message", "error_description")
                        if isinstance(v := data.get(k), str) and v), None)
    return code or None, message or None


class L360Client(ApiClient):
    """Blocking calls, safe from several threads; reads and writes kept under the rate limits."""

    profile = ApiProfile("360Learning", ("360-api-version", API_VERSION), "L360", "L360_API_URL",
                         ErrorFamily(LoadError, AuthError, ScopeError), DEFAULT_TOKEN_LIFETIME,
                         "check that the L360_CLIENT_ID API client is active")
    log = logging.getLogger("go1sync.load")
    # Reads and writes of several threads at once (bulk polls, results pages, the read-back's
    # lists side by side): a connection each.
    connections = 4
    _stats: L360Stats

    def __init__(self, settings: L360Settings, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 transport: Transport | None = None,
                 reads_per_second: int = 50, writes_per_second: int = 10,
                 limits: HttpLimits = DEFAULT_HTTP_LIMITS) -> None:
        super().__init__(settings, timeout=timeout, retry=retry, sleep=sleep, clock=clock,
                         transport=transport, connections=self.connections, limits=limits,
                         stats=L360Stats())
        self._l360 = settings
        self.read_limiter = RateLimiter(reads_per_second, clock=clock, sleep=sleep)
        self.write_limiter = RateLimiter(writes_per_second, clock=clock, sleep=sleep)
        self._origin = origin(settings.api_url)

    # -- hooks ------------------------------------------------------------------------------

    def token_request(self) -> TokenRequest:
        settings = self._l360
        body = json.dumps({"grant_type": "client_credentials", "client_id": settings.client_id,
                           "client_secret": settings.client_secret.reveal()}).encode()
        return TokenRequest(settings.api_url + TOKEN_PATH, "application/json", body)

    def error_fields(self, body: bytes) -> tuple[str | None, str | None]:
        return error_fields(body)

    def before_send(self, method: str) -> None:
        """Wait for the rate limit this request counts against, and count it."""
        reading = method == "GET"
        (self.read_limiter if reading else self.write_limiter).acquire()
        self._stats.add(reads=int(reading), writes=int(not reading))

    # -- public -----------------------------------------------------------------------------

    @property
    def stats(self) -> L360Stats:
        return self._stats

    def get(self, path: str, params: Params = ()) -> Response:
        """GET ``path`` with ``params`` in order (``mail[eq]=…``), retried, authorised."""
        return self.request("GET", path, params=params)

    def get_all(self, path: str, params: Params = (), *,
                key: str | None = None) -> Iterator[Any]:
        """Every item of a paginated list: follows ``Link: <url>; rel="next"`` until none.

        The OpenAPI's paginated endpoints answer a JSON array; ``key`` names the list for an
        endpoint that wraps it in an object. A next link to another host is refused: the token
        is only ever sent to ``L360_API_URL``.
        """
        self._check_path(path)
        url = self.api_url + path
        pairs = _pairs(params)
        visited: set[str] = set()
        while True:
            response = self._call("GET", url, pairs, None, repeatable=True)
            yield from self._items(response, key)
            target = next_link(response.headers.get("Link"))
            if target is None:
                return
            current = url + (f"?{urlencode(pairs)}" if pairs else "")
            url, pairs = urljoin(current, target), []
            if origin(url) != self._origin:
                raise LoadError(self.scrub(
                    f"360Learning's next-page link for GET {urlsplit(current).path} points to "
                    f"another host ({origin(url)[1]}): not followed, the token is only sent to "
                    "L360_API_URL"))
            if url in visited:
                raise LoadError(self.scrub(
                    f"360Learning's next-page links for GET {path} loop back to a page already "
                    "read: stopped"))
            visited.add(url)

    def post(self, path: str, json: Any = None, *, repeatable: bool | None = None) -> Response:
        return self.request("POST", path, json=json, repeatable=repeatable)

    def put(self, path: str, json: Any = None, *, repeatable: bool | None = None) -> Response:
        return self.request("PUT", path, json=json, repeatable=repeatable)

    def patch(self, path: str, json: Any = None, *, repeatable: bool | None = None) -> Response:
        return self.request("PATCH", path, json=json, repeatable=repeatable)

    def delete(self, path: str, json: Any = None, *, repeatable: bool | None = None
               ) -> Response:
        return self.request("DELETE", path, json=json, repeatable=repeatable)

    def request(self, method: str, path: str, *, params: Params = (), json: Any = None,
                repeatable: bool | None = None) -> Response:
        """One call. ``repeatable`` overrides :func:`is_repeatable` (whether the call may be
        sent again after it may have reached the server); a 2xx answer or a ``LoadError``."""
        method = method.upper()
        if method != "GET" and method not in WRITE_METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}")
        self._check_path(path)
        if repeatable is None:
            repeatable = is_repeatable(method, path)
        return self._call(method, self.api_url + path, _pairs(params), json,
                          repeatable=repeatable)

    def __enter__(self) -> L360Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _check_path(self, path: str) -> None:
        if not path.startswith("/"):
            raise ValueError(f"360Learning path must start with '/': {path!r}")
        self.check_open()

    def _call(self, method: str, url: str, pairs: list[tuple[str, str]], payload: Any, *,
              repeatable: bool) -> Response:
        path = urlsplit(url).path
        if pairs:
            url = f"{url}?{urlencode(pairs)}"
        attempts = Attempts(self._retry, f"{method} {path}", self._clock)
        body = None if payload is None else (
            payload if isinstance(payload, JsonText)
            else json.dumps(payload, allow_nan=False)).encode()

        def uncertain(cause: str, status: int | None, answer_body: bytes,
                      sent_at: datetime) -> SubmitUncertain:
            code, _ = error_fields(answer_body)
            return SubmitUncertain(
                self.scrub(f"{method} {path} may have reached 360Learning, but no answer said "
                           f"so ({cause}): not sent again, since a repeat could run it twice "
                           "(there is no idempotency key); settle it from what 360Learning "
                           f"shows after {sent_at:%Y-%m-%dT%H:%M:%SZ}"),
                method=method, path=path, payload=payload, sent_at=sent_at, status=status,
                code=code)

        answer = self.call(attempts, method, url, body=body,
                           content_type=None if body is None else "application/json",
                           uncertain=None if repeatable else uncertain)
        return self._response(method, url, answer)

    def _response(self, method: str, full_url: str, answer: Answer) -> Response:
        status, body = answer.status, answer.body
        parts = urlsplit(full_url)
        path = parts.path
        url = f"{path}?{parts.query}" if parts.query else path
        if 200 <= status < 300:
            data = self.json_body(method, path, status, body)[1] if body.strip() else None
            self.log.debug("%s %s: HTTP %d, %d bytes", method, url, status, len(body))
            return Response(status=status, data=data, headers=answer.headers, url=url)
        if 300 <= status < 400:
            raise self.redirected(method, path, answer)
        code, message = error_fields(body)
        detail = self.error_detail(body)
        if status == 403 and code == "invalid_scope":
            scope = _scope(method, path, message)
            needs = f"the scope {scope}" if scope else "the scope this endpoint requires"
            raise self.error(
                ScopeError, f"360Learning refused {method} {path}: HTTP 403{detail} (give the "
                f"L360_CLIENT_ID API client {needs} in 360Learning's API settings)", status, body,
                scope=scope)
        if status == 403:
            hint = "check the API client's scopes and the ids in the path"
        else:
            hint = _HINTS.get(status, "see 360Learning's message")
        cls = NotFound if status == 404 else LoadError
        raise self.error(cls, f"360Learning refused {method} {path}: HTTP {status}{detail} "
                         f"({hint})", status, body)

    def _items(self, response: Response, key: str | None) -> list[Any]:
        data = response.data
        if key is not None and isinstance(data, dict):
            data = data.get(key)
        if not isinstance(data, list):
            what = f"a list under {key!r}" if key else "a JSON array"
            raise LoadError(self.scrub(
                f"360Learning answered GET {response.url.split('?', 1)[0]} without {what}: "
                "check the path"), status=response.status)
        return data


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(key), str(value)) for key, value in items]


def _scope(method: str, path: str, message: str | None) -> str | None:
    """The scope named in 360Learning's message, else the one the endpoint documents."""
    if message:
        named = re.search(r"\b([A-Za-z]+:(?:read|write|bulk|internal))\b", message)
        if named:
            return named.group(1)
    return scope_of(ENDPOINTS, method, path)
