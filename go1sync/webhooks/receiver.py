"""The webhook receiver: a WSGI app answering ``POST /go1/webhooks`` and ``GET /healthz``.

A delivery goes through, in this order: its size (over ``max_body``: 413), its signature
(missing, malformed, stale or wrong: 401, the event dropped), its body (not a JSON event: 400),
and the inbox. It is answered 200 only once the inbox has it on disk, ``{"status": "stored"}``
or, for a repeat, ``{"status": "duplicate"}`` (still 2xx, so Go1 stops sending it); when the
inbox cannot be written, 503 ``{"status": "unavailable"}``, so Go1 sends it again later.

Every answer is JSON. A refused delivery is one INFO line on ``go1sync.webhooks`` with the
reason and the peer; the signature header and the secret are never logged nor answered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from go1sync.webhooks.events import EventRefused, parse_event, utc_now
from go1sync.webhooks.inbox import Inbox
from go1sync.webhooks.signature import DEFAULT_TOLERANCE, ENVIRON_KEY, SignatureRefused, verify

log = logging.getLogger("go1sync.webhooks")

WEBHOOK_PATH = "/go1/webhooks"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024 * 1024
_READ_CHUNK = 64 * 1024

StartResponse = Callable[..., Any]


def _noop() -> None:
    pass


class ReceiverApp:
    """The receiver of deliveries signed with ``secret``, storing them in ``inbox``;
    ``on_stored`` is called after each new event is stored (to wake the worker)."""

    def __init__(self, inbox: Inbox, secret: str, clock: Callable[[], float] = time.time,
                 max_body: int = MAX_BODY, tolerance: float = DEFAULT_TOLERANCE,
                 on_stored: Callable[[], None] = _noop) -> None:
        if not secret:
            raise ValueError("the webhook secret is empty: every delivery would be refused")
        self.inbox = inbox
        self._secret = secret
        self.clock = clock
        self.max_body = max_body
        self.tolerance = tolerance
        self.on_stored = on_stored

    def __repr__(self) -> str:  # never the secret
        return f"ReceiverApp(inbox={self.inbox.directory}, max_body={self.max_body})"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if path == WEBHOOK_PATH:
                if method != "POST":
                    return _answer(start_response, 405, {"status": "method not allowed"},
                                   [("Allow", "POST")])
                return self._delivery(environ, start_response)
            if path == HEALTH_PATH:
                if method != "GET":
                    return _answer(start_response, 405, {"status": "method not allowed"},
                                   [("Allow", "GET")])
                return self._health(start_response)
            return _answer(start_response, 404, {"status": "not found"})
        except Exception:
            log.exception("the webhook receiver failed on %s %s", method, path)
            return _answer(start_response, 500, {"status": "error"})

    def _delivery(self, environ: dict[str, Any], start_response: StartResponse
                  ) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR") or "an unknown peer"
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            if not declared.isdecimal():
                return self._refuse(start_response, peer, 400, "invalid",
                                    "the Content-Length is not a number")
            if int(declared) > self.max_body:
                return self._too_large(start_response, peer)
            body = _read(environ["wsgi.input"], int(declared))
            if len(body) < int(declared):
                return self._refuse(start_response, peer, 400, "invalid",
                                    "the body is shorter than its Content-Length")
        else:  # no length given (chunked, say): read one byte past the cap to know
            body = _read(environ["wsgi.input"], self.max_body + 1)
            if len(body) > self.max_body:
                return self._too_large(start_response, peer)
        now = self.clock()
        try:
            verify(environ.get(ENVIRON_KEY), body, self._secret, now, self.tolerance)
        except SignatureRefused as exc:
            return self._refuse(start_response, peer, 401, "refused", exc.reason)
        try:
            event = parse_event(body, received_at=utc_now(now))
        except EventRefused as exc:
            return self._refuse(start_response, peer, 400, "invalid", exc.reason)
        try:
            stored = self.inbox.append(event)
        except OSError as exc:
            log.error("could not store a webhook event (%s %s) from %s in %s: %s; answered "
                      "503 for Go1 to send it again", event.event_type, event.keys[0], peer,
                      self.inbox.directory, exc.strerror or exc)
            return _answer(start_response, 503, {"status": "unavailable"},
                           [("Retry-After", "30")])
        if not stored:
            log.debug("a repeated webhook event (%s %s) from %s: already stored",
                      event.event_type, event.keys[0], peer)
            return _answer(start_response, 200, {"status": "duplicate"})
        log.debug("stored a webhook event (%s %s) from %s", event.event_type, event.keys[0],
                  peer)
        try:
            self.on_stored()
        except Exception:  # the event is stored: its answer stays 200 whatever the hook did
            log.exception("the webhook receiver's on_stored hook failed")
        return _answer(start_response, 200, {"status": "stored"})

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            pending, _ = self.inbox.counts()
        except OSError as exc:
            log.error("could not read the webhook inbox %s: %s", self.inbox.directory,
                      exc.strerror or exc)
            return _answer(start_response, 503, {"status": "unavailable"})
        return _answer(start_response, 200, {"status": "ok", "pending": pending})

    def _too_large(self, start_response: StartResponse, peer: str) -> Iterable[bytes]:
        return self._refuse(start_response, peer, 413, "too large",
                            f"the body is over {self.max_body} bytes")

    def _refuse(self, start_response: StartResponse, peer: str, status: int, word: str,
                reason: str) -> Iterable[bytes]:
        log.info("refused a webhook delivery from %s (HTTP %d): %s", peer, status, reason)
        return _answer(start_response, status, {"status": word, "reason": reason})


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}


def _answer(start_response: StartResponse, status: int, body: dict[str, Any],
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(f"{status} {_REASONS[status]}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                    ("Cache-Control", "no-store"), *(headers or [])])
    return [data]


def _read(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of the request body (fewer when it ends first)."""
    parts: list[bytes] = []
    left = limit
    while left > 0:
        chunk = stream.read(min(left, _READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)
