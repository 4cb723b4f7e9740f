"""The Go1 HTTP client: the shared core (``apiclient``) plus Go1's pool, pages and errors.

Streams ask for pages; this module makes sure each page either arrives whole or fails with one
:class:`ExtractError` that says what to do. The core holds the token (one fetch serves every
thread, a burst of 401s triggers one new fetch), the retries and the scrubbing; this module
adds what is Go1's own: the form-encoded token request, the ``Api-Version`` header, a pool of
worker threads for ``submit`` (at most ``max_in_flight`` requests at once, direct ``get``
calls included), the scroll that expired, and Go1's way of saying a scope is missing (401
``{"message": "Missing scopes"}``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from apiclient.client import ApiClient, ApiProfile, ErrorFamily, TokenRequest
from apiclient.endpoints import scope_of
from apiclient.errors import ApiError
from apiclient.retry import Attempts, RetryPolicy
from apiclient.text import json_object
from apiclient.transport import Answer, Transport
from extract.endpoints import ENDPOINTS, ENROLLMENTS_OPENAPI_SERVER_PATH, ENROLLMENTS_PATH
from extract.errors import AuthError, ExtractError, ScopeError, ScrollExpired
from go1sync.settings import DEFAULT_HTTP_LIMITS, Go1Settings, HttpLimits

API_VERSION = "2025-01-01"
DEFAULT_TOKEN_LIFETIME = 43200.0  # the contract's expires_in, used if Go1 leaves it out

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


def error_fields(body: bytes) -> tuple[str | None, str | None]:
    """Go1's ``error_code`` and ``message``, tolerating the other shapes gateways send."""
    data = json_object(body)
    code = next((v for k in ("error_code", "code", "error")
                 if isinstance(v := data.get(k), str) and v), None)
    message = next((v for k in ("message", "error_description")
                    if isinstance(v := data.get(k), str) and v), None)
    return code, message


class Go1Client(ApiClient):
    """Blocking ``get`` for any thread, ``submit`` for up to ``max_in_flight`` at once."""

    profile = ApiProfile("Go1", ("Api-Version", API_VERSION), "GO1", "GO1_AUTH_URL",
                         ErrorFamily(ExtractError, AuthError, ScopeError), DEFAULT_TOKEN_LIFETIME,
                         "check that the GO1_CLIENT_ID integration may read this portal")
    log = logging.getLogger("go1sync.extract")

    def __init__(self, settings: Go1Settings, *, timeout: tuple[float, float] = (5.0, 60.0),
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 transport: Transport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 limits: HttpLimits = DEFAULT_HTTP_LIMITS) -> None:
        # One connection per request in flight, plus the caller's own thread.
        super().__init__(settings, timeout=timeout, retry=retry, sleep=sleep, clock=clock,
                         transport=transport, connections=settings.max_in_flight + 1,
                         limits=limits)
        self._go1 = settings
        # Bounds direct get() calls from the caller's own threads too, not only submit().
        self._slots = threading.BoundedSemaphore(settings.max_in_flight)
        self._lock = threading.Lock()  # the executor
        self._executor: ThreadPoolExecutor | None = None

    # -- hooks ------------------------------------------------------------------------------

    def token_request(self) -> TokenRequest:
        settings = self._go1
        form = urlencode({"grant_type": "client_credentials", "client_id": settings.client_id,
                          "client_secret": settings.client_secret.reveal()}).encode()
        return TokenRequest(settings.auth_url, "application/x-www-form-urlencoded", form)

    def error_fields(self, body: bytes) -> tuple[str | None, str | None]:
        return error_fields(body)

    def refused_fresh_token(self, method: str, path: str, body: bytes) -> ApiError:
        _, message = error_fields(body)
        if not message or _MISSING_SCOPES not in message.lower():
            return super().refused_fresh_token(method, path, body)
        scope = scope_of(ENDPOINTS, method, path)
        needs = f"the scope {scope}" if scope else "a scope this endpoint requires"
        return self.error(
            ScopeError, f"Go1 refused {method} {path}: HTTP 401{self.error_detail(body)}, even "
            f"to a new token: the GO1_CLIENT_ID integration lacks {needs} (grant it in the Go1 "
            "portal's integration settings)", 401, body, scope=scope)

    # -- public -----------------------------------------------------------------------------

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Page:
        """GET ``path`` with ``params`` in order (``type[]`` repeats), retried, authorised."""
        if not path.startswith("/"):
            raise ValueError(f"Go1 path must start with '/': {path!r}")
        self.check_open()
        pairs = [(str(key), str(value)) for key, value in params]
        query = urlencode(pairs)
        attempts = Attempts(self._retry, f"GET {path}", self._clock)
        url = f"{self.api_url}{path}?{query}" if query else self.api_url + path
        with self._slots:
            answer = self.call(attempts, "GET", url)
        return self._page(answer, f"{path}?{query}" if query else path, pairs, attempts)

    def write(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        """``POST``/``PATCH``/``DELETE`` ``path`` with a JSON body; the parsed answer (None for
        an empty one). Not retried once the request may have been received: a lost answer to a
        ``POST /webhooks`` retried blindly would register a second webhook (``webhooks
        register`` finds its webhook by URL, so running it again settles it)."""
        self.check_open()
        body = None if payload is None else json.dumps(payload).encode()
        attempts = Attempts(self._retry, f"{method} {path}", self._clock)

        def lost(cause: str, status: int | None, _body: bytes, _sent: datetime) -> ApiError:
            return self.error(ExtractError, f"{method} {path}: the answer was lost ({cause}); "
                              "Go1 may have done it: run the command again", status)

        with self._slots:
            answer = self.call(attempts, method, self.api_url + path, body=body,
                               content_type=None if body is None else "application/json",
                               uncertain=lost)
        status = answer.status
        if 200 <= status < 300:
            if not answer.body.strip():
                return None
            return self.json_body(method, path, status, answer.body)[1]
        if 300 <= status < 400:
            raise self.redirected(method, path, answer)
        hint = _HINTS.get(status, "see Go1's message")
        raise self.error(ExtractError, f"Go1 refused {method} {path}: HTTP {status}"
                         f"{self.error_detail(answer.body)} ({hint})", status, answer.body)

    def submit(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Future[Page]:
        """Run :meth:`get` on a worker; at most ``max_in_flight`` run at once."""
        pairs = tuple(params)  # the caller may reuse its list before the worker starts
        with self._lock:
            self.check_open()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._go1.max_in_flight, thread_name_prefix="go1sync-extract")
            return self._executor.submit(self.get, path, pairs)

    def close(self) -> None:
        """Wait for running calls, cancel queued ones, close the connections."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        super().close()

    def __enter__(self) -> Go1Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _page(self, answer: Answer, url: str, pairs: list[tuple[str, str]],
              attempts: Attempts) -> Page:
        status, body = answer.status, answer.body
        path = url.split("?", 1)[0]
        if 200 <= status < 300:
            text, data = self.json_body("GET", path, status, body)
            elapsed = attempts.elapsed()
            self.log.debug("GET %s: HTTP %d, %d bytes in %.2fs", url, status, len(body), elapsed)
            return Page(url=url, status=status, text=text, data=data, elapsed=elapsed)
        if 300 <= status < 400:
            raise self.redirected("GET", path, answer)
        detail = self.error_detail(body)
        if status == 404 and any(key == "scroll_id" for key, _ in pairs):
            raise self.error(ScrollExpired, f"Go1 no longer knows the scroll id of GET {path} "
                             f"(HTTP 404{detail}): restart the scroll from its first page",
                             status, body)
        if status == 403 and path in (ENROLLMENTS_PATH, ENROLLMENTS_OPENAPI_SERVER_PATH):
            hint = _ENROLLMENTS_403
        else:
            hint = _HINTS.get(status, "see Go1's message")
        raise self.error(ExtractError, f"Go1 refused GET {path}: HTTP {status}{detail} ({hint})",
                         status, body)
