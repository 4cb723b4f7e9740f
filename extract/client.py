"""The Go1 HTTP client: token, headers, retries, bounded concurrency.

Streams ask for pages; this module makes sure each page either arrives whole or fails with one
:class:`ExtractError` that says what to do. It keeps three pieces of shared state, each behind
its own lock: the access token (one fetch serves every thread, and a burst of 401s triggers one
new fetch, not one per thread), the counters, and the pool of worker threads. Every thread
sends through one :class:`~extract.transport.Transport`, whose connections are kept alive.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3.exceptions

from extract.endpoints import (
    ENDPOINTS,
    ENROLLMENTS_OPENAPI_SERVER_PATH,
    ENROLLMENTS_PATH,
    scope_of,
)
from extract.errors import AuthError, ExtractError, ScopeError, ScrollExpired
from extract.http_text import Counters, error_detail
from extract.http_text import clip as _clip
from extract.http_text import describe as _describe
from extract.http_text import json_object as _json_object
from extract.http_text import one_line as _one_line
from extract.retry import Attempts, RetryPolicy, is_retryable_exception, is_retryable_status
from extract.token_cache import TokenCache, token_lifetime
from extract.transport import Answer, PoolTransport, Transport
from settings import Go1Settings

API_VERSION = "2025-01-01"
USER_AGENT = "go1sync/0.1"
DEFAULT_TOKEN_LIFETIME = 43200.0  # the contract's expires_in, used if Go1 leaves it out

log = logging.getLogger("go1sync.extract")

# What a request can raise besides an answer: urllib3's errors, and a few from http.client and
# the socket that can leak while the body is read.
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)

_HINTS = {
    400: "check the request parameters",
    403: "check that the integration may read this portal",
    404: "check GO1_API_URL and the path",
}
# Go1's 403 on the enrollment list, in the OpenAPI's words.
_ENROLLMENTS_403 = ("only portal administrators can query another user's enrollments: the "
                    "GO1_CLIENT_ID integration must act for a portal administrator")
_MISSING_SCOPES = "missing scope"  # Go1's 401 body: {"message": "Missing scopes"}


@dataclass(frozen=True)
class Page:
    """One successful answer, kept as text because the warehouse lands the body verbatim."""

    url: str  # path and query, never a host's credentials
    status: int
    text: str
    data: Any
    elapsed: float  # seconds the caller waited, retries included


@dataclass
class ClientStats(Counters):
    """Counters for the run record. ``requests`` (every attempt sent) and ``bytes`` (bodies
    received) cover API calls, not token calls; ``retries`` covers both; ``token_fetches``
    counts tokens obtained."""

    requests: int = 0
    retries: int = 0
    token_fetches: int = 0
    bytes: int = 0


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """Go1's ``error_code`` and ``message``, tolerating the other shapes gateways send."""
    data = _json_object(body)
    code = next((v for k in ("error_code", "code", "error")
                 if isinstance(v := data.get(k), str) and v), None)
    message = next((v for k in ("message", "error_description")
                    if isinstance(v := data.get(k), str) and v), None)
    return code, message


def _error_detail(body: bytes, *, full: bool = True) -> str:
    """Go1's error as " CODE message", or a clipped body when it is not Go1's JSON."""
    return error_detail(body, _error_fields(body), full=full)


def _is_missing_scopes(body: bytes) -> bool:
    _, message = _error_fields(body)
    return bool(message) and _MISSING_SCOPES in str(message).lower()


class Go1Client:
    """Blocking ``get`` for any thread, ``submit`` for up to ``max_in_flight`` at once."""

    def __init__(self, settings: Go1Settings, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 transport: Transport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        # One connection per request in flight, plus the caller's own thread.
        self._transport = transport or PoolTransport(settings.api_url,
                                                     settings.max_in_flight + 1)
        self._stats = ClientStats()
        self._tokens = TokenCache(self._fetch_token, clock)
        # Bounds direct get() calls from the caller's own threads too, not only submit().
        self._slots = threading.BoundedSemaphore(settings.max_in_flight)
        self._lock = threading.Lock()  # executor, pending count, closed flag
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0
        self._closed = False
        self._auth_label = f"Go1 token request POST {urlsplit(settings.auth_url).path or '/'}"

    # -- public -----------------------------------------------------------------------------

    @property
    def stats(self) -> ClientStats:
        return self._stats

    @property
    def in_flight(self) -> int:
        """Submitted calls not finished yet (queued or running), for callers that pace paging."""
        with self._lock:
            return self._pending

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Page:
        """GET ``path`` with ``params`` in order (``type[]`` repeats), retried, authorised."""
        if not path.startswith("/"):
            raise ValueError(f"Go1 path must start with '/': {path!r}")
        if self._closed:
            raise RuntimeError("Go1Client is closed")
        pairs = [(str(key), str(value)) for key, value in params]
        query = urlencode(pairs)
        attempts = Attempts(self._retry, f"GET {path}", self._clock)
        url = f"{self._settings.api_url}{path}?{query}" if query else self._settings.api_url + path
        with self._slots:
            answer, generation = self._authorized_get(attempts, url)
            if answer.status == 401:
                # A token can be revoked before its expiry: one new token, one more try.
                log.info("Go1 answered 401 to GET %s: fetching a new token", path)
                self._tokens.drop(generation)
                attempts.extra = 1
                answer, _ = self._authorized_get(attempts, url)
                if answer.status == 401 and _is_missing_scopes(answer.body):
                    raise self._scope_error(path, answer.body)
                if answer.status == 401:
                    raise self._error(
                        AuthError,
                        f"Go1 refused a freshly issued token for GET {path} (HTTP 401"
                        f"{_error_detail(answer.body)}): check that the GO1_CLIENT_ID "
                        "integration may read this portal",
                        answer.status, answer.body)
        return self._page(answer, f"{path}?{query}" if query else path, pairs, attempts)

    def submit(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Future[Page]:
        """Run :meth:`get` on a worker; at most ``max_in_flight`` run at once."""
        pairs = tuple(params)  # the caller may reuse its list before the worker starts
        with self._lock:
            if self._closed:
                raise RuntimeError("Go1Client is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._settings.max_in_flight,
                    thread_name_prefix="go1sync-extract")
            future = self._executor.submit(self.get, path, pairs)
            self._pending += 1
        future.add_done_callback(self._finished)
        return future

    def close(self) -> None:
        """Wait for running calls, cancel queued ones, close the connections."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._transport.close()
        self._tokens.forget()

    def __enter__(self) -> Go1Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _finished(self, _future: Future[Page]) -> None:
        with self._lock:
            self._pending -= 1

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                   "Api-Version": API_VERSION, "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _authorized_get(self, attempts: Attempts, url: str) -> tuple[Answer, int]:
        token, generation = self._tokens.current()
        send = functools.partial(self._transport.send, "GET", url, headers=self._headers(token),
                                 timeout=self._timeout)
        return self._send(attempts, send, api_call=True), generation

    def _send(self, attempts: Attempts, send: Callable[[], Answer], *,
              api_call: bool) -> Answer:
        """Send until an answer that is not worth retrying, or raise when the budget is spent.

        The body is read inside the loop: a connection dropped mid-body is retryable too.
        """
        while True:
            attempts.count += 1
            status: int | None = None
            retry_after: str | None = None
            body = b""
            if api_call:
                self._stats.add(requests=1)
            try:
                answer = send()
            except _TRANSPORT_ERRORS as exc:
                if not is_retryable_exception(exc):
                    raise self._error(ExtractError, f"{attempts.label} failed: {_describe(exc)}"
                                      " (check the Go1 URLs and the network)") from None
                cause = _describe(exc)
            else:
                body = answer.body
                if api_call:
                    self._stats.add(bytes=len(body))
                if not is_retryable_status(answer.status):
                    return answer
                status = answer.status
                retry_after = answer.headers.get("Retry-After")
                cause = f"HTTP {status}{_error_detail(body, full=api_call)}"
            try:
                delay = attempts.next_delay(cause, retry_after, status=status)
            except ExtractError as exc:  # spent: same message, scrubbed, with Go1's code
                raise self._error(ExtractError, str(exc), status,
                                  body if api_call else b"") from None
            self._stats.add(retries=1)
            log.warning("%s: %s; attempt %d, trying again in %.1fs",
                        attempts.label, self._scrub(cause), attempts.count, delay)
            self._sleep(delay)

    def _fetch_token(self) -> tuple[str, float]:
        settings = self._settings
        form = urlencode({"grant_type": "client_credentials", "client_id": settings.client_id,
                          "client_secret": settings.client_secret.reveal()}).encode()
        headers = {**self._headers(None), "Content-Type": "application/x-www-form-urlencoded"}
        send = functools.partial(self._transport.send, "POST", settings.auth_url,
                                 headers=headers, body=form, timeout=self._timeout)
        attempts = Attempts(self._retry, self._auth_label, self._clock)
        answer = self._send(attempts, send, api_call=False)
        status, body = answer.status, answer.body
        if status in (400, 401):
            code, message = _error_fields(body)
            detail = _clip(" ".join(p for p in (code, message) if p)) or f"HTTP {status}"
            raise self._error(AuthError, "Go1 refused the client credentials (check "
                              f"GO1_CLIENT_ID and GO1_CLIENT_SECRET): {detail}", status, body)
        if not 200 <= status < 300:
            raise self._error(ExtractError, f"{self._auth_label} answered HTTP {status}"
                              f"{_error_detail(body, full=False)}: check GO1_AUTH_URL",
                              status, body)
        data = _json_object(body)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ExtractError(f"{self._auth_label} gave no access_token: check GO1_AUTH_URL",
                               status=status)
        lifetime = token_lifetime(data.get("expires_in"), DEFAULT_TOKEN_LIFETIME)
        self._stats.add(token_fetches=1)
        log.info("fetched a Go1 access token, valid %ds", int(lifetime))
        return token, lifetime

    def _page(self, answer: Answer, url: str, pairs: list[tuple[str, str]],
              attempts: Attempts) -> Page:
        status, body = answer.status, answer.body
        path = url.split("?", 1)[0]
        if 200 <= status < 300:
            try:
                text = body.decode("utf-8")  # JSON travels as UTF-8 (RFC 8259)
                data = json.loads(text)
            except ValueError:  # UnicodeDecodeError is one
                preview = _clip(body.decode("utf-8", errors="replace"))
                raise self._error(ExtractError, f"Go1 answered GET {path} with a body that is not "
                                  f"JSON (body: {preview}): check GO1_API_URL",
                                  status) from None
            elapsed = attempts.elapsed()
            log.debug("GET %s: HTTP %d, %d bytes in %.2fs", url, status, len(body), elapsed)
            return Page(url=url, status=status, text=text, data=data, elapsed=elapsed)
        if 300 <= status < 400:  # not followed: the bearer token goes to GO1_API_URL only
            target = _clip(answer.headers.get("Location") or "nowhere")
            raise self._error(ExtractError, f"Go1 redirected GET {path} (HTTP {status} to "
                              f"{target}): check GO1_API_URL", status)
        detail = _error_detail(body)
        if status == 404 and any(key == "scroll_id" for key, _ in pairs):
            raise self._error(ScrollExpired, f"Go1 no longer knows the scroll id of GET {path} "
                              f"(HTTP 404{detail}): restart the scroll from its first page",
                              status, body)
        if status == 403 and path in (ENROLLMENTS_PATH, ENROLLMENTS_OPENAPI_SERVER_PATH):
            hint = _ENROLLMENTS_403
        else:
            hint = _HINTS.get(status, "see Go1's message")
        raise self._error(ExtractError, f"Go1 refused GET {path}: HTTP {status}{detail} ({hint})",
                          status, body)

    def _scope_error(self, path: str, body: bytes) -> ScopeError:
        scope = scope_of(ENDPOINTS, "GET", path)
        needs = f"the scope {scope}" if scope else "a scope this endpoint requires"
        code, _ = _error_fields(body)
        return ScopeError(self._scrub(
            f"Go1 refused GET {path}: HTTP 401{_error_detail(body)}, even to a new token: the "
            f"GO1_CLIENT_ID integration lacks {needs} (grant it in the Go1 portal's "
            "integration settings)"), status=401, error_code=code, scope=scope)

    def _scrub(self, text: str) -> str:
        """Take the secret and the token out of a message, whatever Go1 echoed back."""
        for value in (self._settings.client_secret.reveal(), *self._tokens.known()):
            if value:
                text = text.replace(value, "***")
        return _one_line(text)

    def _error(self, cls: type[ExtractError], message: str, status: int | None = None,
               body: bytes = b"") -> ExtractError:
        code, _ = _error_fields(body)
        return cls(self._scrub(message), status=status, error_code=code)
