"""A scripted HTTP stub for the API client tests (Go1's and 360Learning's).

The stubs model no data (the sandboxes do): each test queues the exact answers it needs (an
error, a ``Retry-After``, a dropped connection, a stall) and reads back what the client sent.
This base serves on loopback, records every request, answers queued scripts first and sends
the answers; a subclass says how its API issues tokens and answers API calls.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# An answer: ("json", status, body, headers) | ("raw", status, text or bytes, headers)
#            | ("empty", status, headers)
#            | ("drop",) closes the connection unanswered | ("stall", seconds) then drops.
Action = tuple[Any, ...]


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Action:
    return ("json", status, body, headers or {})


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str  # as sent, so the order of repeated keys can be checked
    headers: dict[str, str]
    body: str
    client: tuple[str, int]  # the client's address: one per TCP connection
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body or "null")


class ScriptedStub:
    """Subclasses set ``token_path`` and implement :meth:`_token` and :meth:`_api`."""

    token_path = "/oauth/token"

    def __init__(self, expires_in: Any) -> None:
        self.token_script: deque[Action] = deque()
        self.api_script: deque[Action] = deque()  # answered before anything else
        self.seen: list[Seen] = []
        self.valid_tokens: set[str] = set()
        self.issued = 0
        self.expires_in: Any = expires_in
        self.delay = 0.0  # seconds every API answer waits, to make calls overlap
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body in one write: no Nagle/delayed-ACK stall

            def do_GET(self) -> None:
                stub._handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and left is part of the script

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """Requests received, oldest first; ``path`` matches exactly or as a regex."""
        with self._lock:
            return [s for s in self.seen if (method is None or s.method == method)
                    and (path is None or s.path == path or re.fullmatch(path, s.path))]

    def api_calls(self) -> list[Seen]:
        return [s for s in self.calls() if s.path != self.token_path]

    def token_calls(self) -> list[Seen]:
        return self.calls(path=self.token_path)

    def issue(self, token_for: Callable[[int], str]) -> Action:
        """A new valid token (``token_for(n)`` for the n-th) in the usual OAuth answer; call
        with the lock held."""
        self.issued += 1
        token = token_for(self.issued)
        self.valid_tokens.add(token)
        return json_answer(200, {"token_type": "Bearer", "access_token": token,
                                 "expires_in": self.expires_in})

    def bearer_is_valid(self, seen: Seen) -> bool:
        """Whether the request carries a token this stub issued (call with the lock held)."""
        return seen.headers.get("Authorization", "").removeprefix("Bearer ") in self.valid_tokens

    def _token(self, seen: Seen) -> Action:
        raise NotImplementedError

    def _api(self, seen: Seen) -> Action:
        raise NotImplementedError

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode("utf-8")
        split = urlsplit(handler.path)
        seen = Seen(handler.command, split.path, split.query, dict(handler.headers.items()),
                    body, handler.client_address, time.monotonic())
        with self._lock:
            self.seen.append(seen)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if split.path == self.token_path:
                action = self._token(seen)
            else:
                if self.delay:
                    time.sleep(self.delay)
                action = self._api(seen)
            self._respond(handler, action)
        finally:
            with self._lock:
                self.active -= 1

    @staticmethod
    def _respond(handler: BaseHTTPRequestHandler, action: Action) -> None:
        kind = action[0]
        if kind in ("drop", "stall"):
            if kind == "stall":
                time.sleep(action[1])
            handler.close_connection = True
            return
        if kind == "empty":
            _, status, headers = action
            data = b""
        else:
            _, status, body, headers = action
            data = body if isinstance(body, bytes) else (
                json.dumps(body) if kind == "json" else body).encode("utf-8")
        handler.send_response(status)
        if data:
            handler.send_header("Content-Type",
                                "application/json" if kind == "json" else "text/html")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


class FakeClock:
    """Time that moves only when the code under test sleeps, so budgets and expiry are exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
