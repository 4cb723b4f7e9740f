"""The 360Learning API v2 client: token, headers, rate limits, retries, ``Link`` paging.

Each call either returns a :class:`Response` or fails with one :class:`LoadError` that says what
to do. Shared state sits behind locks: the access token (one fetch serves every thread, and a
burst of 401s triggers one new fetch), the counters, and two rate limiters (reads and writes,
as 360Learning counts them per platform). Every thread sends through one
:class:`~extract.transport.Transport`, as the Go1 client does.

Retries follow :mod:`extract.retry` (bounded attempts and total time, full-jitter backoff,
``Retry-After`` honoured) with one rule of this API on top: a write that must not run twice (any
bulk submit, which starts an operation, and any ``POST``) is sent again only when it provably
did not take effect: a failure before the request left (no connection could be made) or an
answer that refuses it (429, 503). After a read timeout, a dropped connection or a 500/502/504
it may have been carried out, and the client raises :class:`SubmitUncertain` instead of
starting a second operation: the API has no idempotency key.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3.exceptions

from extract.endpoints import scope_of
from extract.errors import ExtractError
from extract.http_text import Counters, error_detail
from extract.http_text import clip as _clip
from extract.http_text import describe as _describe
from extract.http_text import json_object as _json_object
from extract.http_text import one_line as _one_line
from extract.retry import Attempts, RetryPolicy, is_retryable_exception, is_retryable_status
from extract.token_cache import TokenCache, token_lifetime
from extract.transport import Answer, PoolTransport, Transport
from load.endpoints import ENDPOINTS
from load.errors import AuthError, LoadError, NotFound, ScopeError, SubmitUncertain
from load.limiter import RateLimiter
from settings import L360Settings

API_VERSION = "v2.0"
TOKEN_PATH = "/api/v2/oauth2/token"
BULK_PREFIX = "/api/v2/bulk/"
USER_AGENT = "go1sync/0.1"
DEFAULT_TOKEN_LIFETIME = 3600.0  # "access … for 1 hour"; used when expires_in is unreadable
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Answers that prove a write was not carried out (rate or concurrency limit, bulk API disabled).
NOT_ACCEPTED_STATUSES = frozenset({429, 503})

log = logging.getLogger("go1sync.load")

_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)

_HINTS = {
    400: "check the request against 360Learning's OpenAPI",
    404: "check L360_API_URL and the ids in the path",
    409: "the resource is in a state that does not allow this",
    422: "check the request against 360Learning's OpenAPI",
}


@dataclass(frozen=True)
class Response:
    """One successful answer. ``data`` is the parsed JSON (None for an empty body, e.g. 202)."""

    status: int
    data: Any
    headers: Mapping[str, str]  # case-insensitive
    url: str  # path and query, never a host's credentials


@dataclass
class ClientStats(Counters):
    """Counters for the run record. ``reads`` and ``writes`` count API requests sent (every
    attempt, as the rate limits count them; token calls excluded); ``retries`` covers token
    calls too; ``token_fetches`` counts tokens obtained."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    token_fetches: int = 0


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
    data = _json_object(body)
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


def _error_detail(body: bytes, *, full: bool = True) -> str:
    """360Learning's error as " code message", or a clipped body when it is not its JSON."""
    return error_detail(body, error_fields(body), full=full)


def _may_have_been_sent(exc: BaseException) -> bool:
    """False only when the failure provably came before the request left: no connection.

    urllib3 raises ConnectTimeoutError for a connection that timed out, and its subclasses for
    one refused or a name that did not resolve.
    """
    return not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def next_link(value: str | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, or None (the last page has none)."""
    if not value:
        return None
    for target, params in _links(value):
        if "next" in params.get("rel", "").split() and target:
            return target
    return None


def _links(value: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``<url>; rel="next", <url>; rel="prev"`` as (url, {param: value}) pairs (RFC 8288)."""
    quotes = " '\""
    for link in re.split(r",\s*(?=<)", value.strip()):
        target, _, rest = link.partition(";")
        params: dict[str, str] = {}
        for param in rest.split(";"):
            key, _, text = param.partition("=")
            if key.strip():
                params[key.strip(quotes).lower()] = text.strip(quotes)
        yield target.strip(" <>"), params


class L360Client:
    """Blocking calls, safe from several threads; reads and writes kept under the rate limits."""

    def __init__(self, settings: L360Settings, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 transport: Transport | None = None,
                 reads_per_second: int = 50, writes_per_second: int = 10) -> None:
        self._settings = settings
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        # Reads and writes of several threads (bulk polls, results pages) at once.
        self._transport = transport or PoolTransport(settings.api_url, 4)
        self.read_limiter = RateLimiter(reads_per_second, clock=clock, sleep=sleep)
        self.write_limiter = RateLimiter(writes_per_second, clock=clock, sleep=sleep)
        self._stats = ClientStats()
        self._lock = threading.Lock()  # closed flag
        self._tokens = TokenCache(self._fetch_token, clock)
        self._closed = False
        self._origin = _origin(settings.api_url)
        self._token_label = f"360Learning token request POST {TOKEN_PATH}"

    # -- public -----------------------------------------------------------------------------

    @property
    def stats(self) -> ClientStats:
        return self._stats

    @property
    def api_url(self) -> str:
        return self._settings.api_url

    def get(self, path: str, params: Sequence[tuple[str, str]] | Mapping[str, str] = ()
            ) -> Response:
        """GET ``path`` with ``params`` in order (``mail[eq]=…``), retried, authorised."""
        return self.request("GET", path, params=params)

    def get_all(self, path: str, params: Sequence[tuple[str, str]] | Mapping[str, str] = (),
                *, key: str | None = None) -> Iterator[Any]:
        """Every item of a paginated list: follows ``Link: <url>; rel="next"`` until none.

        The OpenAPI's paginated endpoints answer a JSON array; ``key`` names the list for an
        endpoint that wraps it in an object. A next link to another host is refused: the token
        is only ever sent to ``L360_API_URL``.
        """
        self._check_path(path)
        url = self._settings.api_url + path
        pairs = self._pairs(params)
        visited: set[str] = set()
        while True:
            response = self._call("GET", url, pairs, None, repeatable=True)
            yield from self._items(response, key)
            target = next_link(response.headers.get("Link"))
            if target is None:
                return
            current = url + (f"?{urlencode(pairs)}" if pairs else "")
            url, pairs = urljoin(current, target), []
            if _origin(url) != self._origin:
                raise LoadError(self._scrub(
                    f"360Learning's next-page link for GET {urlsplit(current).path} points to "
                    f"another host ({_origin(url)[1]}): not followed, the token is only sent to "
                    "L360_API_URL"))
            if url in visited:
                raise LoadError(self._scrub(
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

    def request(self, method: str, path: str, *,
                params: Sequence[tuple[str, str]] | Mapping[str, str] = (), json: Any = None,
                repeatable: bool | None = None) -> Response:
        """One call. ``repeatable`` overrides :func:`is_repeatable` (whether the call may be
        sent again after it may have reached the server); a 2xx answer or a ``LoadError``."""
        method = method.upper()
        if method != "GET" and method not in WRITE_METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}")
        self._check_path(path)
        if repeatable is None:
            repeatable = is_repeatable(method, path)
        return self._call(method, self._settings.api_url + path, self._pairs(params), json,
                          repeatable=repeatable)

    def close(self) -> None:
        """Close every thread's connections and forget the token."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._transport.close()
        self._tokens.forget()

    def __enter__(self) -> L360Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _check_path(self, path: str) -> None:
        if not path.startswith("/"):
            raise ValueError(f"360Learning path must start with '/': {path!r}")
        if self._closed:
            raise RuntimeError("L360Client is closed")

    @staticmethod
    def _pairs(params: Sequence[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
        items = params.items() if isinstance(params, Mapping) else params
        return [(str(key), str(value)) for key, value in items]

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                   "360-api-version": API_VERSION, "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _call(self, method: str, url: str, pairs: list[tuple[str, str]], payload: Any, *,
              repeatable: bool) -> Response:
        path = urlsplit(url).path
        if pairs:
            url = f"{url}?{urlencode(pairs)}"
        attempts = Attempts(self._retry, f"{method} {path}", self._clock)
        answer, generation = self._authorized(attempts, method, url, payload, repeatable)
        if answer.status == 401:
            # A token can be revoked before its expiry: one new token, one more try.
            log.info("360Learning answered 401 to %s %s: fetching a new token", method, path)
            self._tokens.drop(generation)
            attempts.extra = 1
            answer, _ = self._authorized(attempts, method, url, payload, repeatable)
            if answer.status == 401:
                raise self._error(
                    AuthError,
                    f"360Learning refused a freshly issued token for {method} {path} (HTTP 401"
                    f"{_error_detail(answer.body)}): check that the L360_CLIENT_ID API client "
                    "is active", answer.status, answer.body)
        return self._response(method, url, answer)

    def _authorized(self, attempts: Attempts, method: str, url: str, payload: Any,
                    repeatable: bool) -> tuple[Answer, int]:
        token, generation = self._tokens.current()
        headers = self._headers(token)
        body = None
        if payload is not None:
            body = json.dumps(payload, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        send = functools.partial(self._transport.send, method, url, headers=headers, body=body,
                                 timeout=self._timeout)
        limiter = self.read_limiter if method == "GET" else self.write_limiter

        def uncertain(cause: str, status: int | None, body: bytes,
                      sent_at: datetime) -> SubmitUncertain:
            path = urlsplit(url).path
            code, _ = error_fields(body)
            return SubmitUncertain(
                self._scrub(f"{method} {path} may have reached 360Learning, but no answer said "
                            f"so ({cause}): not sent again, since a repeat could run it twice "
                            "(there is no idempotency key); settle it from what 360Learning "
                            f"shows after {sent_at:%Y-%m-%dT%H:%M:%SZ}"),
                method=method, path=path, payload=payload, sent_at=sent_at, status=status,
                code=code)

        answer = self._send(attempts, send, limiter=limiter,
                            uncertain=None if repeatable else uncertain)
        return answer, generation

    def _send(self, attempts: Attempts, send: Callable[[], Answer], *,
              limiter: RateLimiter | None,
              uncertain: Callable[[str, int | None, bytes, datetime], LoadError] | None = None
              ) -> Answer:
        """Send until an answer not worth retrying, or raise when the budget is spent.

        ``limiter`` is None for the token call (not an API call, not rate limited). With
        ``uncertain``, a failure after the request may have been received raises that error
        instead of trying again.
        """
        while True:
            attempts.count += 1
            status: int | None = None
            retry_after: str | None = None
            body = b""
            sent_at = datetime.now(UTC)
            try:
                if limiter is not None:
                    limiter.acquire()
                    sent_at = datetime.now(UTC)
                    is_read = limiter is self.read_limiter
                    self._stats.add(reads=int(is_read), writes=int(not is_read))
                answer = send()  # the body is read here: one dropped mid-body is retried
            except _TRANSPORT_ERRORS as exc:
                cause = _describe(exc)
                if uncertain is not None and _may_have_been_sent(exc):
                    raise uncertain(cause, None, b"", sent_at) from None
                if not is_retryable_exception(exc):
                    raise self._error(LoadError, f"{attempts.label} failed: {cause} (check "
                                      "L360_API_URL and the network)") from None
            else:
                status, body = answer.status, answer.body
                if not is_retryable_status(status):
                    return answer
                retry_after = answer.headers.get("Retry-After")
                cause = f"HTTP {status}{_error_detail(body, full=limiter is not None)}"
                if uncertain is not None and status not in NOT_ACCEPTED_STATUSES:
                    raise uncertain(cause, status, body, sent_at)
            delay = self._next_delay(attempts, cause, retry_after, status,
                                     body if limiter is not None else b"")
            self._stats.add(retries=1)
            log.warning("%s: %s; attempt %d, trying again in %.1fs",
                        attempts.label, self._scrub(cause), attempts.count, delay)
            self._sleep(delay)

    def _next_delay(self, attempts: Attempts, cause: str, retry_after: str | None,
                    status: int | None, body: bytes) -> float:
        try:
            return attempts.next_delay(cause, retry_after, status=status)
        except ExtractError:  # spent: say it in this package's words, with 360Learning's code
            count = attempts.count
            raise self._error(
                LoadError,
                f"{attempts.label} failed after {count} attempt{'s' * (count != 1)} in "
                f"{attempts.elapsed():.1f}s: {cause} (360Learning kept failing: run again later)",
                status, body) from None

    def _fetch_token(self) -> tuple[str, float]:
        settings = self._settings
        form = json.dumps({"grant_type": "client_credentials", "client_id": settings.client_id,
                           "client_secret": settings.client_secret.reveal()}).encode()
        headers = {**self._headers(None), "Content-Type": "application/json"}
        send = functools.partial(self._transport.send, "POST", settings.api_url + TOKEN_PATH,
                                 headers=headers, body=form, timeout=self._timeout)
        attempts = Attempts(self._retry, self._token_label, self._clock)
        answer = self._send(attempts, send, limiter=None)
        status, body = answer.status, answer.body
        if status in (400, 401):
            code, _ = error_fields(body)
            raise self._error(AuthError, "360Learning refused the client credentials (check "
                              "L360_CLIENT_ID and L360_CLIENT_SECRET): "
                              f"{_clip(code) if code else f'HTTP {status}'}", status, body)
        if not 200 <= status < 300:
            raise self._error(LoadError, f"{self._token_label} answered HTTP {status}"
                              f"{_error_detail(body, full=False)}: check L360_API_URL",
                              status, body)
        data = _json_object(body)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise LoadError(f"{self._token_label} gave no access_token: check L360_API_URL",
                            status=status)
        lifetime = token_lifetime(data.get("expires_in"), DEFAULT_TOKEN_LIFETIME)
        self._stats.add(token_fetches=1)
        log.info("fetched a 360Learning access token, valid %ds", int(lifetime))
        return token, lifetime

    def _response(self, method: str, full_url: str, answer: Answer) -> Response:
        status, body = answer.status, answer.body
        parts = urlsplit(full_url)
        path = parts.path
        url = f"{path}?{parts.query}" if parts.query else path
        if 200 <= status < 300:
            data: Any = None
            if body.strip():
                try:
                    data = json.loads(body)
                except (ValueError, UnicodeDecodeError):
                    raise self._error(
                        LoadError, f"360Learning answered {method} {path} with a body that is "
                        f"not JSON (body: {_clip(body.decode('utf-8', 'replace'))}): check "
                        "L360_API_URL", status) from None
            log.debug("%s %s: HTTP %d, %d bytes", method, url, status, len(body))
            return Response(status=status, data=data, headers=answer.headers, url=url)
        if 300 <= status < 400:  # not followed: the bearer token goes to L360_API_URL only
            target = _clip(answer.headers.get("Location") or "nowhere")
            raise self._error(LoadError, f"360Learning redirected {method} {path} (HTTP {status} "
                              f"to {target}): check L360_API_URL", status)
        code, message = error_fields(body)
        detail = _error_detail(body)
        if status == 403 and code == "invalid_scope":
            scope = self._scope(method, path, message)
            needs = f"the scope {scope}" if scope else "the scope this endpoint requires"
            raise ScopeError(
                self._scrub(f"360Learning refused {method} {path}: HTTP 403{detail} (give the "
                            f"L360_CLIENT_ID API client {needs} in 360Learning's API settings)"),
                status=status, code=code, scope=scope)
        if status == 403:
            hint = "check the API client's scopes and the ids in the path"
        else:
            hint = _HINTS.get(status, "see 360Learning's message")
        cls = NotFound if status == 404 else LoadError
        raise self._error(cls, f"360Learning refused {method} {path}: HTTP {status}{detail} "
                          f"({hint})", status, body)

    @staticmethod
    def _scope(method: str, path: str, message: str | None) -> str | None:
        """The scope named in 360Learning's message, else the one the endpoint documents."""
        if message:
            named = re.search(r"\b([A-Za-z]+:(?:read|write|bulk|internal))\b", message)
            if named:
                return named.group(1)
        return scope_of(ENDPOINTS, method, path)

    def _items(self, response: Response, key: str | None) -> list[Any]:
        data = response.data
        if key is not None and isinstance(data, dict):
            data = data.get(key)
        if not isinstance(data, list):
            what = f"a list under {key!r}" if key else "a JSON array"
            raise LoadError(self._scrub(
                f"360Learning answered GET {response.url.split('?', 1)[0]} without {what}: "
                "check the path"), status=response.status)
        return data

    def _scrub(self, text: str) -> str:
        """Take the secret and the tokens out of a message, whatever the API echoed back."""
        for value in (self._settings.client_secret.reveal(), *self._tokens.known()):
            if value:
                text = text.replace(value, "***")
        return _one_line(text)

    def _error(self, cls: type[LoadError], message: str, status: int | None = None,
               body: bytes = b"") -> LoadError:
        code, _ = error_fields(body)
        return cls(self._scrub(message), status=status, code=code)
