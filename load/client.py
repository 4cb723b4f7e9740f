"""The 360Learning API v2 client: token, headers, rate limits, retries, ``Link`` paging.

Each call either returns a :class:`Response` or fails with one :class:`LoadError` that says what
to do. Shared state sits behind locks: the access token (one fetch serves every thread, and a
burst of 401s triggers one new fetch), the counters, and two rate limiters (reads and writes,
as 360Learning counts them per platform). Each thread gets its own ``requests.Session``, since
sessions are not thread-safe.

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
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from extract.errors import ExtractError
from extract.http_text import clip as _clip
from extract.http_text import describe as _describe
from extract.http_text import json_object as _json_object
from extract.http_text import one_line as _one_line
from extract.retry import Attempts, RetryPolicy, is_retryable_exception, is_retryable_status
from extract.token_cache import TokenCache, token_lifetime
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

_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError,
                     http.client.HTTPException, OSError)

# The OAuth scope each endpoint the connector uses requires (from the OpenAPI descriptions),
# named in a ScopeError when 360Learning's message does not name it.
_SCOPES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), scope) for method, pattern, scope in (
        ("*", r"/api/v2/bulk/integrations/[^/]+/(courses|stats)", "integrations:bulk"),
        ("*", r"/api/v2/bulk/groups/(catalog|library|memberships)", "groups:bulk"),
        ("GET", r"/api/v2/bulk/operations(/[^/]+(/results)?)?", "bulkOperations:read"),
        ("GET", r"/api/v2/integrations(/.*)?", "integrations:read"),
        ("*", r"/api/v2/integrations(/[^/]+)?", "integrations:write"),
        ("GET", r"/api/v2/users(/[^/]+)?", "users:read"),
        ("GET", r"/api/v2/courses/stats", "courseStats:read"),
        ("GET", r"/api/v2/groups(/[^/]+)?", "groups:read"),
    ))

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
class ClientStats:
    """Counters for the run record. ``reads`` and ``writes`` count API requests sent (every
    attempt, as the rate limits count them; token calls excluded); ``retries`` covers token
    calls too; ``token_fetches`` counts tokens obtained."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    token_fetches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                  compare=False)

    def add(self, *, reads: int = 0, writes: int = 0, retries: int = 0, tokens: int = 0) -> None:
        with self._lock:
            self.reads += reads
            self.writes += writes
            self.retries += retries
            self.token_fetches += tokens

    def snapshot(self) -> ClientStats:
        """A consistent copy, so a report does not mix counts from different moments."""
        with self._lock:
            return replace(self)


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
    """The error as " code message", or a clipped body when it is not 360Learning's JSON.

    Not ``full`` (the token call, whose body is never logged): the code alone.
    """
    code, message = error_fields(body)
    if not full:
        return f" {_clip(code)}" if code else ""
    if code or message:
        return " " + _clip(" ".join(p for p in (code, message) if p))
    if body.strip():
        return f" (body: {_clip(body.decode('utf-8', errors='replace'))})"
    return ""


def _may_have_been_sent(exc: BaseException) -> bool:
    """False only when the failure provably came before the request left: no connection."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        # NewConnectionError (refused, DNS) is a ConnectTimeoutError in urllib3 2.
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            return False
    return not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def next_link(value: str | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, or None (the last page has none)."""
    if not value:
        return None
    for link in requests.utils.parse_header_links(value):
        rels = link.get("rel", "").split()
        if "next" in rels and link.get("url"):
            return link["url"]
    return None


def settle_environment(session: requests.Session, url: str) -> requests.Session:
    """Read proxies and the CA bundle from the environment once, not on every request.

    requests scans every environment variable per call when ``trust_env`` is on (half a
    millisecond, a third of a client's CPU per page); what it would find is the same each
    time, so it is fixed on the session once and the scan is turned off. The API's host's
    proxy rules are used for every call of the session (token host included).
    """
    if not session.trust_env:
        return session
    for scheme, proxy in requests.utils.get_environ_proxies(url).items():
        session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False
    return session


class L360Client:
    """Blocking calls, safe from several threads; reads and writes kept under the rate limits."""

    def __init__(self, settings: L360Settings, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 session_factory: Callable[[], requests.Session] = requests.Session,
                 reads_per_second: int = 50, writes_per_second: int = 10) -> None:
        self._settings = settings
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._session_factory = session_factory
        self.read_limiter = RateLimiter(reads_per_second, clock=clock, sleep=sleep)
        self.write_limiter = RateLimiter(writes_per_second, clock=clock, sleep=sleep)
        self._stats = ClientStats()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()  # sessions, closed flag
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
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
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

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = settle_environment(self._session_factory(), self._settings.api_url)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "360-api-version": API_VERSION,
                   "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _call(self, method: str, url: str, pairs: list[tuple[str, str]], payload: Any, *,
              repeatable: bool) -> Response:
        path = urlsplit(url).path
        attempts = Attempts(self._retry, f"{method} {path}", self._clock)
        session = self._session()
        response, body, generation = self._authorized(attempts, session, method, url, pairs,
                                                      payload, repeatable)
        if response.status_code == 401:
            # A token can be revoked before its expiry: one new token, one more try.
            log.info("360Learning answered 401 to %s %s: fetching a new token", method, path)
            self._tokens.drop(generation)
            attempts.extra = 1
            response, body, _ = self._authorized(attempts, session, method, url, pairs,
                                                 payload, repeatable)
            if response.status_code == 401:
                raise self._error(
                    AuthError,
                    f"360Learning refused a freshly issued token for {method} {path} (HTTP 401"
                    f"{_error_detail(body)}): check that the L360_CLIENT_ID API client is active",
                    response.status_code, body)
        return self._response(method, path, response, body)

    def _authorized(self, attempts: Attempts, session: requests.Session, method: str, url: str,
                    pairs: list[tuple[str, str]], payload: Any, repeatable: bool
                    ) -> tuple[requests.Response, bytes, int]:
        token, generation = self._tokens.current()
        send = functools.partial(session.request, method, url, params=pairs, json=payload,
                                 headers=self._headers(token), timeout=self._timeout)
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

        response, body = self._send(attempts, send, limiter=limiter,
                                    uncertain=None if repeatable else uncertain)
        return response, body, generation

    def _send(self, attempts: Attempts, send: Callable[[], requests.Response], *,
              limiter: RateLimiter | None,
              uncertain: Callable[[str, int | None, bytes, datetime], LoadError] | None = None
              ) -> tuple[requests.Response, bytes]:
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
                response = send()
                body = response.content  # read here: a connection dropped mid-body is retried
            except _TRANSPORT_ERRORS as exc:
                cause = _describe(exc)
                if uncertain is not None and _may_have_been_sent(exc):
                    raise uncertain(cause, None, b"", sent_at) from None
                if not is_retryable_exception(exc):
                    raise self._error(LoadError, f"{attempts.label} failed: {cause} (check "
                                      "L360_API_URL and the network)") from None
            else:
                status = response.status_code
                if not is_retryable_status(status):
                    return response, body
                retry_after = response.headers.get("Retry-After")
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
        body_json = {"grant_type": "client_credentials", "client_id": settings.client_id,
                     "client_secret": settings.client_secret.reveal()}
        send = functools.partial(self._session().post, settings.api_url + TOKEN_PATH,
                                 json=body_json, headers=self._headers(None),
                                 timeout=self._timeout)
        attempts = Attempts(self._retry, self._token_label, self._clock)
        response, body = self._send(attempts, send, limiter=None)
        status = response.status_code
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
        self._stats.add(tokens=1)
        log.info("fetched a 360Learning access token, valid %ds", int(lifetime))
        return token, lifetime

    def _response(self, method: str, path: str, response: requests.Response,
                  body: bytes) -> Response:
        status = response.status_code
        query = urlsplit(response.url).query if isinstance(response.url, str) else ""
        url = f"{path}?{query}" if query else path
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
            return Response(status=status, data=data,
                            headers=CaseInsensitiveDict(response.headers), url=url)
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
        for wanted, pattern, scope in _SCOPES:
            if wanted in ("*", method) and pattern.fullmatch(path):
                return scope
        return None

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
