"""What both API clients do the same way: headers, the send loop, tokens, scrubbing, closing.

A client is this base plus a few hooks, as dlt's REST client takes an auth object and Meltano's
streams override ``response_error_message``: the token request (Go1's is form-encoded, 360
Learning's JSON), how to read an error body, the setting names a message cites, the error
family to raise, and whatever happens before each request is sent (360Learning's rate
limiters). The send loop retries what :mod:`apiclient.retry` calls passing trouble, within the
policy's budget, and refuses to repeat a write whose answer was lost (``uncertain``); a 401 is
answered with one new token and one more try. Every message that leaves is scrubbed of the
client secret and of every token the client has held, whatever the API echoed back.

Three bounds (:class:`settings.HttpLimits`) hold for every answer, token calls included: a
body larger than the cap fails the call (not retried: the next answer would be as large), a
``Retry-After`` longer than a run waits out fails it at once saying when to run again, and a
JSON body nesting deeper than :data:`apiclient.text.MAX_JSON_DEPTH` is the API's error rather
than a RecursionError.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

import urllib3.exceptions

from apiclient.errors import (
    ApiError,
    CredentialsRefused,
    ResponseTooLarge,
    RetriesSpent,
    ScopeMissing,
    WaitTooLong,
)
from apiclient.retry import (
    Attempts,
    RetryPolicy,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
)
from apiclient.text import (
    Counters,
    JsonTooDeep,
    check_json_depth,
    clip,
    describe,
    error_detail,
    load_json,
    one_line,
)
from apiclient.token_cache import TokenCache, token_lifetime
from apiclient.transport import Answer, PoolTransport, Transport
from go1sync.settings import HttpLimits

USER_AGENT = "go1sync/0.1"

# What a request can raise besides an answer: urllib3's errors, and a few from http.client and
# the socket that can leak while the body is read.
TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class Secretive(Protocol):
    def reveal(self) -> str: ...


class Credentials(Protocol):
    """What the base needs of an API's settings."""

    @property
    def api_url(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def client_secret(self) -> Secretive: ...


@dataclass(frozen=True)
class ErrorFamily:
    """The API's own error classes, so a caller catches the API it called."""

    base: type[ApiError]
    credentials: type[CredentialsRefused]
    scope: type[ScopeMissing]


@dataclass(frozen=True)
class ApiProfile:
    """What tells one API from the other in the shared machinery: its name in messages, its
    version header, the prefix of its settings (``GO1`` names ``GO1_CLIENT_ID``…), the
    setting of its token URL, its error family, the token lifetime to assume when an answer
    gives none, and what to check when a freshly issued token is refused."""

    name: str
    version_header: tuple[str, str]
    prefix: str
    token_url_setting: str
    errors: ErrorFamily
    default_token_lifetime: float
    retoken_hint: str

    @property
    def client_id(self) -> str:
        return f"{self.prefix}_CLIENT_ID"

    @property
    def client_secret(self) -> str:
        return f"{self.prefix}_CLIENT_SECRET"

    @property
    def api_url(self) -> str:
        return f"{self.prefix}_API_URL"

    @property
    def network_hint(self) -> str:
        urls = dict.fromkeys((self.token_url_setting, self.api_url))
        return f"check {' and '.join(urls)}, and the network"


@dataclass(frozen=True)
class TokenRequest:
    url: str
    content_type: str
    body: bytes


@dataclass
class ClientStats(Counters):
    """Counters for the run record. ``requests`` (every attempt sent) and ``bytes`` (bodies
    received) cover API calls, not token calls; ``retries`` covers both; ``token_fetches``
    counts tokens obtained."""

    requests: int = 0
    retries: int = 0
    token_fetches: int = 0
    bytes: int = 0


# Makes an error for a write that may have been carried out although no answer said so:
# (cause, status or None, body, when it was sent).
Uncertain = Callable[[str, int | None, bytes, datetime], ApiError]


class ApiClient:
    """The shared machinery; a subclass sets the class attributes and the hooks below."""

    profile: ClassVar[ApiProfile]
    log: ClassVar[logging.Logger]

    def __init__(self, settings: Credentials, *, timeout: tuple[float, float],
                 retry: RetryPolicy | None, sleep: Callable[[float], None],
                 clock: Callable[[], float], transport: Transport | None,
                 connections: int, limits: HttpLimits,
                 stats: ClientStats | None = None) -> None:
        self._settings = settings
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._limits = limits
        self._transport = transport or PoolTransport(
            settings.api_url, connections, max_body_bytes=limits.max_response_bytes)
        self._stats = stats or ClientStats()
        self._tokens = TokenCache(self._fetch_token, clock)
        self._close_lock = threading.Lock()
        self._closed = False
        self._hidden: list[str] = []

    # -- hooks ------------------------------------------------------------------------------

    def token_request(self) -> TokenRequest:
        """The client-credentials request: where, in which encoding, with which body."""
        raise NotImplementedError

    def error_fields(self, body: bytes) -> tuple[str | None, str | None]:
        """The API's error code and message, from any of the body shapes it sends."""
        raise NotImplementedError

    def before_send(self, method: str) -> None:
        """Called before each attempt of an API call (not of a token call); may block."""

    def refused_fresh_token(self, method: str, path: str, body: bytes) -> ApiError:
        """The error when a freshly issued token is refused too (a subclass may recognise a
        missing scope in the body)."""
        return self.error(
            self.profile.errors.credentials,
            f"{self.profile.name} refused a freshly issued token for {method} {path} (HTTP 401"
            f"{self.error_detail(body)}): {self.profile.retoken_hint}", 401, body)

    # -- public -----------------------------------------------------------------------------

    @property
    def stats(self) -> ClientStats:
        return self._stats

    @property
    def api_url(self) -> str:
        return self._settings.api_url

    @property
    def limits(self) -> HttpLimits:
        return self._limits

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the connections and forget the token; later calls are refused."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._transport.close()
        self._tokens.forget()

    # -- the shared machinery -----------------------------------------------------------------

    def headers(self, token: str | None) -> dict[str, str]:
        name, value = self.profile.version_header
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                   name: value, "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def error_detail(self, body: bytes, *, full: bool = True) -> str:
        """The API's error as " code message", or a clipped body when it is not its JSON."""
        return error_detail(body, self.error_fields(body), full=full)

    def call(self, attempts: Attempts, method: str, url: str, *, body: bytes | None = None,
             content_type: str | None = None, uncertain: Uncertain | None = None) -> Answer:
        """Send an API call with the shared token; after a 401, one new token and one more
        try (a token can be revoked before its expiry). A second 401 raises."""
        answer, generation = self._authorized(attempts, method, url, body, content_type,
                                              uncertain)
        if answer.status != 401:
            return answer
        path = urlsplit(url).path
        self.log.info("%s answered 401 to %s %s: fetching a new token", self.profile.name,
                      method, path)
        self._tokens.drop(generation)
        attempts.extra = 1
        answer, _ = self._authorized(attempts, method, url, body, content_type, uncertain)
        if answer.status == 401:
            raise self.refused_fresh_token(method, path, answer.body)
        return answer

    def _authorized(self, attempts: Attempts, method: str, url: str, body: bytes | None,
                    content_type: str | None,
                    uncertain: Uncertain | None) -> tuple[Answer, int]:
        token, generation = self._tokens.current()
        headers = self.headers(token)
        if content_type is not None:
            headers["Content-Type"] = content_type
        send = functools.partial(self._transport.send, method, url, headers=headers, body=body,
                                 timeout=self._timeout)
        return self.send(attempts, send, method=method, api_call=True,
                         uncertain=uncertain), generation

    def send(self, attempts: Attempts, send: Callable[[], Answer], *, method: str,
             api_call: bool, uncertain: Uncertain | None = None) -> Answer:
        """Send until an answer not worth retrying, or raise when the budget is spent.

        The body is read inside the loop, so a connection dropped mid-body is retried too.
        ``api_call`` is False for the token call: not counted, not rate-limited, and its body
        (which may echo the credentials) never shown. With ``uncertain``, a failure after the
        request may have been received raises that error instead of trying again.
        """
        while True:
            attempts.count += 1
            status: int | None = None
            retry_after: str | None = None
            body = b""
            sent_at = datetime.now(UTC)
            try:
                if api_call:
                    self.before_send(method)
                    sent_at = datetime.now(UTC)
                    self._stats.add(requests=1)
                answer = send()
                if len(answer.body) > self._limits.max_response_bytes:  # another transport
                    raise ResponseTooLarge(self._limits.max_response_bytes, answer.status)
            except ResponseTooLarge as large:
                cause = self._too_large(large)
                if uncertain is not None and not refuses_writes(large.status):
                    raise uncertain(cause, large.status, b"", sent_at) from None
                raise self.error(self.profile.errors.base, f"{attempts.label} failed: {cause}",
                                 large.status) from None
            except TRANSPORT_ERRORS as exc:
                cause = describe(exc)
                if uncertain is not None and _may_have_been_sent(exc):
                    raise uncertain(cause, None, b"", sent_at) from None
                if not is_retryable_exception(exc):
                    raise self.error(self.profile.errors.base, f"{attempts.label} failed: {cause} "
                                     f"({self.profile.network_hint})") from None
            else:
                status, body = answer.status, answer.body
                if api_call:
                    self._stats.add(bytes=len(body))
                if not is_retryable_status(status):
                    return answer
                retry_after = answer.headers.get("Retry-After")
                cause = f"HTTP {status}{self.error_detail(body, full=api_call)}"
                if uncertain is not None and not refuses_writes(status):
                    raise uncertain(cause, status, body, sent_at)
            try:
                delay = attempts.next_delay(cause, retry_after, status=status,
                                            max_retry_after=self._limits.max_retry_after)
            except WaitTooLong as wait:
                raise self.error(self.profile.errors.base,
                                 self._wait_refused(attempts.label, cause, wait.seconds),
                                 status, body if api_call else b"") from None
            except RetriesSpent as spent:
                raise self.error(self.profile.errors.base,
                                 f"{spent} ({self.profile.name} kept failing: run again later)",
                                 status, body if api_call else b"") from None
            self._stats.add(retries=1)
            # passing trouble, handled: shown with -v only (a run that ends well says nothing)
            self.log.info("%s: %s; attempt %d, trying again in %.1fs%s",
                             attempts.label, self.scrub(cause), attempts.count, delay,
                             ", as Retry-After asks" if parse_retry_after(retry_after) is not None
                             else "")
            self._sleep(delay)

    def _too_large(self, large: ResponseTooLarge) -> str:
        """Why a body was refused, naming the cap and the setting that raises it."""
        declared = "" if large.declared is None else f", Content-Length {large.declared}"
        return (f"{self.profile.name} sent a body larger than the {_size(large.limit)} cap "
                f"(HTTP {large.status}{declared}): raise {HttpLimits.response_setting} if "
                "answers this large are expected")

    def _wait_refused(self, label: str, cause: str, seconds: float) -> str:
        """A ``Retry-After`` too long to sit out: when to run again, in UTC, to the minute
        after the wait ends."""
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        if when.second or when.microsecond:
            when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return (f"{label} failed: {self.profile.name} answered {cause} and asks to wait "
                f"{math.ceil(seconds)} s: run again after {when:%Y-%m-%d %H:%M} UTC "
                f"({HttpLimits.retry_after_setting} is {self._limits.max_retry_after:g} s)")

    def _fetch_token(self) -> tuple[str, float]:
        request = self.token_request()
        label = f"{self.profile.name} token request POST {urlsplit(request.url).path or '/'}"
        headers = {**self.headers(None), "Content-Type": request.content_type}
        send = functools.partial(self._transport.send, "POST", request.url, headers=headers,
                                 body=request.body, timeout=self._timeout)
        attempts = Attempts(self._retry, label, self._clock)
        answer = self.send(attempts, send, method="POST", api_call=False)
        status, body = answer.status, answer.body
        if status in (400, 401):
            code, message = self.error_fields(body)
            detail = clip(" ".join(p for p in (code, message) if p)) or f"HTTP {status}"
            profile = self.profile
            raise self.error(profile.errors.credentials,
                             f"{profile.name} refused the client credentials (check "
                             f"{profile.client_id} and {profile.client_secret}): {detail}",
                             status, body)
        if not 200 <= status < 300:
            raise self.error(self.profile.errors.base, f"{label} answered HTTP {status}"
                             f"{self.error_detail(body, full=False)}: check "
                             f"{self.profile.token_url_setting}", status, body)
        try:
            data = load_json(body)
        except JsonTooDeep as exc:  # the body is not shown: it may hold the token
            raise self.profile.errors.base(
                f"{label} answered with a body that {exc}: check "
                f"{self.profile.token_url_setting}", status=status) from None
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.profile.errors.base(
                f"{label} gave no access_token: check {self.profile.token_url_setting}",
                status=status)
        lifetime = token_lifetime(data.get("expires_in"), self.profile.default_token_lifetime)
        self._stats.add(token_fetches=1)
        self.log.info("fetched a %s access token, valid %ds", self.profile.name, int(lifetime))
        return token, lifetime

    def json_body(self, method: str, path: str, status: int, body: bytes) -> tuple[str, Any]:
        """A 2xx body as text (JSON travels as UTF-8, RFC 8259) and parsed; a body that is
        neither, or nests too deep to parse, is an error naming the API URL."""
        profile = self.profile
        try:
            check_json_depth(body)
            text = body.decode("utf-8")
            return text, json.loads(text)
        except JsonTooDeep as exc:
            raise self.error(profile.errors.base, f"{profile.name} answered {method} {path} "
                             f"with a body that {exc}: check {profile.api_url}",
                             status) from None
        except ValueError:  # UnicodeDecodeError is one
            raise self.error(
                profile.errors.base, f"{profile.name} answered {method} {path} with a body that "
                f"is not JSON (body: {clip(body.decode('utf-8', 'replace'))}): check "
                f"{profile.api_url}", status) from None

    def redirected(self, method: str, path: str, answer: Answer) -> ApiError:
        """Redirects are not followed: the bearer token goes to the configured URL only."""
        target = clip(answer.headers.get("Location") or "nowhere")
        profile = self.profile
        return self.error(profile.errors.base, f"{profile.name} redirected {method} {path} "
                          f"(HTTP {answer.status} to {target}): check {profile.api_url}",
                          answer.status)

    def scrub(self, text: str) -> str:
        """Take the secret and the tokens out of a message, whatever the API echoed back."""
        for value in (self._settings.client_secret.reveal(), *self._tokens.known(),
                      *self._hidden):
            if value:
                text = text.replace(value, "***")
        return one_line(text)

    def hide(self, value: str) -> None:
        """Scrub ``value`` too from every message: another secret a call carries (the webhook
        secret in its registration, which Go1 may echo back)."""
        if value and value not in self._hidden:
            self._hidden.append(value)

    def error(self, cls: type[ApiError], message: str, status: int | None = None,
              body: bytes = b"", **fields: Any) -> ApiError:
        """An error of ``cls`` with the API's code from ``body``, its message scrubbed;
        ``fields`` are the class's own (a :class:`ScopeMissing`'s ``scope``)."""
        code, _ = self.error_fields(body)
        return cls(self.scrub(message), status=status, code=code, **fields)

    def check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")


def _size(limit: int) -> str:
    """A cap as the setting gives it (whole MiB), or in bytes when it is not one."""
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"


# Answers that prove a write was not carried out (a rate or concurrency limit, an API down).
NOT_ACCEPTED_STATUSES = frozenset({429, 503})


def refuses_writes(status: int) -> bool:
    return status in NOT_ACCEPTED_STATUSES


def _may_have_been_sent(exc: BaseException) -> bool:
    """False only when the failure provably came before the request left: no connection.

    urllib3 raises ConnectTimeoutError for a connection that timed out, and its subclasses for
    one refused or a name that did not resolve.
    """
    return not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)
