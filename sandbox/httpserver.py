"""A small threaded HTTP/1.1 JSON server on which the API stand-ins are built.

API-agnostic on purpose: the Go1 sandbox and the 360Learning sandbox both sit on it and differ
only in their routes and in how their errors look (the ``error_response`` callable). What it
gives them:

- a route table by method and path pattern (``/user-accounts/{id}``), 404 and 405 for the rest;
- JSON responses with ``Content-Length`` over keep-alive connections (``protocol_version`` is
  HTTP/1.1, Nagle is off) so that a client's connection pool is exercised as in production;
- a thread-safe request log (:class:`LoggedRequest`), so tests assert what a client really sent
  and what it was answered (status and headers: ``Link``, ``Location``, ``Retry-After`` …);
- a global latency and scripted or seeded-random faults (:class:`Faults`), applied before routing,
  the way a gateway in front of the real API fails: 429, 500, 502, 503, a dropped connection, or
  a 401 for one request.

Stdlib only: the sandbox must run wherever the project's tests run.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import shlex
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Protocol, Self
from urllib.parse import parse_qs, unquote, urlsplit

FAULT_KINDS = ("429", "500", "502", "503", "504", "drop", "stall", "401", "403")
DROPPED = 0  #: the status logged for a request whose connection was dropped without an answer


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup (keys are stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((key.lower(), value) for key, value in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it, with the status it answered (0 when dropped).

    ``response_headers`` are the headers the API answered with (``Link``, ``Location``,
    ``Retry-After``, ``WWW-Authenticate`` …; empty for a dropped connection), looked up in any
    case: a test can tell a request that followed a server-issued next-page link by finding
    its URL in an earlier answer's ``Link``. ``Content-Type`` and ``Content-Length``, which
    the HTTP layer adds to every answer, are not repeated there. Last field, with a default,
    so positional constructions written before it still work.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    form: dict[str, str] | None
    status: int
    at: datetime
    body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    raw_path: str | None = None  # as sent, percent-encoded (``path`` is decoded)

    def json(self) -> Any:
        """The request body parsed as JSON (for APIs that take JSON bodies)."""
        return json.loads(self.body or b"null")


@dataclass
class Request:
    """What a route handler receives."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    # the path as sent, still percent-encoded: routes match on it, so an id holding an
    # encoded "/" or "?" stays one segment, as on a real API
    raw_path: str | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a repeatable query parameter (``type[]=a&type[]=b``)."""
        return self.query.get(name, [])

    @property
    def form(self) -> dict[str, str] | None:
        """The body as a form when it was sent form-encoded, else ``None``."""
        content_type = self.headers.get("content-type", "")
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return None
        pairs = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in pairs.items()}

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body or b"null")


@dataclass
class Response:
    """A handler's answer: a JSON value, or ``str``/``bytes`` sent as they are."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class HttpError(Exception):
    """Raised by a handler to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Fault:
    """A fault to inject: what, where (a path prefix, or any path), how often, Retry-After."""

    kind: str
    path: str | None = None
    remaining: int | None = 1  # None: forever
    retry_after: str | None = None
    probability: float = 1.0
    rng: random.Random | None = None
    # handled first, then the answer replaced by the fault: the request was carried out and
    # the client cannot know (a 5xx from a gateway, a reset, a read timeout after the work)
    after_handling: bool = False

    def applies_to(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class Faults:
    """Scripted and random faults, plus a latency every request pays first.

    Scripted faults (:meth:`add`) fire in the order they were added, each ``times`` times on
    requests whose path starts with ``path``; random ones (:meth:`random`) fire with a seeded
    probability, so a benchmark or a demo is reproducible. ``"drop"`` closes the connection
    without answering; ``"stall"`` holds the request :attr:`stall_s` seconds first (a client's
    read timeout), then drops it; ``"401"`` rejects the request's token just once (the token
    stays valid). With ``after_handling`` the request is carried out first and only its answer
    is lost: how a write 360Learning accepted can look failed to the client.
    """

    def __init__(self) -> None:
        self.latency_ms: float = 0.0
        self.stall_s: float = 2.0
        self._lock = threading.Lock()
        self._scripted: list[Fault] = []
        self._random: list[Fault] = []

    @staticmethod
    def _check(kind: str) -> str:
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        return kind

    @staticmethod
    def _retry_after(value: float | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return str(int(value)) if float(value).is_integer() else str(value)

    def add(self, kind: str, path: str | None = None, times: int | None = 1,
            retry_after: float | str | None = None, after_handling: bool = False) -> None:
        """Fail the next ``times`` matching requests (``None``: every one, until :meth:`clear`)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        fault = Fault(self._check(kind), path, times, self._retry_after(retry_after),
                      after_handling=after_handling)
        with self._lock:
            self._scripted.append(fault)

    def random(self, kind: str, probability: float, seed: int = 0, path: str | None = None,
               retry_after: float | str | None = None) -> None:
        """Fail each matching request with ``probability``, drawn from ``Random(seed)``."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        fault = Fault(self._check(kind), path, None, self._retry_after(retry_after),
                      probability, random.Random(seed))
        with self._lock:
            self._random.append(fault)

    def clear(self) -> None:
        """Remove every fault and the latency."""
        with self._lock:
            self._scripted.clear()
            self._random.clear()
            self.latency_ms = 0.0

    @property
    def pending(self) -> list[Fault]:
        """Scripted faults that have not fired yet (for a test's own checks)."""
        with self._lock:
            return list(self._scripted)

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, if any; scripted faults are consumed."""
        with self._lock:
            for fault in self._scripted:
                if fault.applies_to(path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._scripted.remove(fault)
                    return fault
            for fault in self._random:
                if fault.applies_to(path) and fault.rng is not None and \
                        fault.rng.random() < fault.probability:
                    return fault
        return None


Handler = Callable[[Request], Response]
_PARAM = re.compile(r"\{(\w+)\}")


class Router:
    """Routes by method and path; ``{name}`` in a pattern matches one path segment."""

    def __init__(self) -> None:
        self._static: dict[tuple[str, str], Handler] = {}
        self._patterns: list[tuple[str, re.Pattern[str], Handler]] = []
        self._routes: list[tuple[str, str]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), pattern))
        if "{" not in pattern:
            self._static[(method.upper(), pattern)] = handler
            return
        regex = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", pattern) + "$")
        self._patterns.append((method.upper(), regex, handler))

    def routes(self) -> list[tuple[str, str]]:
        """Every ``(METHOD, pattern)`` routed, in the order added (a test checks them against
        the API's published operations)."""
        return list(self._routes)

    def match(self, method: str, path: str,
              raw_path: str | None = None) -> tuple[Handler, dict[str, str]] | str:
        """``(handler, params)``, or ``"404"``/``"405"`` when nothing (or no method) matches.

        Patterns match ``raw_path`` (percent-encoded, when given) segment by segment, and each
        parameter is decoded afterwards."""
        handler = self._static.get((method, path))
        if handler is not None:
            return handler, {}
        other_method = any(p == path for _, p in self._static)
        for route_method, regex, route_handler in self._patterns:
            found = regex.match(path if raw_path is None else raw_path)
            if found is None:
                continue
            if route_method == method:
                params = found.groupdict()
                if raw_path is not None:
                    params = {name: unquote(value) for name, value in params.items()}
                return route_handler, params
            other_method = True
        return "405" if other_method else "404"


def default_error(status: int, message: str) -> Response:
    """The error body used when an API does not say how its errors look."""
    return Response(status, {"error": {"status": status, "message": message}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    api: ApiServer

    def __init__(self, address: tuple[str, int], api: ApiServer) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    # A buffered wfile: the head and a body of up to 64 KiB leave in one send() when
    # handle_one_request flushes after each request, instead of one send() each (with Nagle
    # off, two segments); a syscall less on this side, a wake-up less on the client's.
    # Error answers sent by the stdlib (send_error) close the connection, and finish() flushes.
    wbufsize = 64 * 1024
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the request log is the record, stderr stays clean for test output."""

    def handle_expect_100(self) -> bool:
        """``100 Continue`` must reach the client now, not sit in the buffer until the answer
        (the client waits for it before sending the body)."""
        accepted = super().handle_expect_100()
        self.wfile.flush()
        return accepted

    def _read_chunked(self) -> bytes:
        """A ``Transfer-Encoding: chunked`` body (what requests sends for a generator body)."""
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _dispatch(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        raw_path = parts.path
        if len(raw_path) > 1 and raw_path.endswith("/"):
            raw_path = raw_path.rstrip("/")
        request = Request(self.command, unquote(raw_path),
                          parse_qs(parts.query, keep_blank_values=True),
                          Headers(self.headers.items()), body, raw_path=raw_path)
        response = self.server.api.handle(request)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type + "; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class ApiServer:
    """A router served over HTTP in a daemon thread, with faults, latency and a request log."""

    def __init__(self, router: Router,
                 error_response: Callable[[int, str], Response] = default_error,
                 clock: Callable[[], datetime] | None = None, log_limit: int = 200_000) -> None:
        self.router = router
        self.error_response = error_response
        self.clock = clock or (lambda: datetime.now(UTC))
        self.faults = Faults()
        self._log: deque[LoggedRequest] = deque(maxlen=log_limit)
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self.host = ""
        self.port = 0

    # serving --------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ApiServer:
        """Start serving in a daemon thread; ``port=0`` picks a free port."""
        if self._server is not None:
            raise RuntimeError("already serving")
        self._server = _Server((host, port), self)
        self.host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.port = self._server.server_address[1]
        self._stopped.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"sandbox-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("not serving: call serve() first")
        return f"http://{self.host}:{self.port}"

    @property
    def serving(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Stop accepting, and cut open keep-alive connections so nothing answers afterwards."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            open_connections = list(server.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._stopped.set()

    def wait(self) -> None:
        """Block until :meth:`stop` (polls, so that signal handlers still run meanwhile)."""
        while not self._stopped.wait(0.2):
            pass

    # requests -------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | None:
        """Latency, then faults, then the route; ``None`` means drop the connection."""
        arrived = self.clock()
        if self.faults.latency_ms > 0:
            time.sleep(self.faults.latency_ms / 1000.0)
        fault = self.faults.take(request.path)
        response: Response | None
        if fault is None:
            response = self._route(request)
        else:
            if fault.after_handling:
                self._route(request)
            response = self._fault_response(fault)
        status = DROPPED if response is None else response.status
        answered = Headers() if response is None else Headers(response.headers.items())
        entry = LoggedRequest(request.method, request.path, request.query, request.headers,
                              request.form, status, arrived, request.body, answered,
                              request.raw_path)
        with self._log_lock:
            self._log.append(entry)
        return response

    def _fault_response(self, fault: Fault) -> Response | None:
        if fault.kind == "stall":
            time.sleep(self.faults.stall_s)
        if fault.kind in ("drop", "stall"):
            return None
        messages = {"401": "Invalid credentials.", "429": "Too many requests.",
                    "403": "The access token does not have the required scope.",
                    "500": "Internal server error.", "502": "Bad gateway.",
                    "503": "Service unavailable.", "504": "Gateway timeout."}
        response = self.error_response(int(fault.kind), messages[fault.kind])
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    def _route(self, request: Request) -> Response:
        found = self.router.match(request.method, request.path, request.raw_path)
        if found == "404":
            return self.error_response(404, f"No route for {request.method} {request.path}.")
        if found == "405":
            return self.error_response(405, f"Method {request.method} not allowed here.")
        assert not isinstance(found, str)
        handler, request.params = found
        try:
            return handler(request)
        except HttpError as error:
            return error.response
        except Exception:  # a sandbox bug must show, and must not kill the connection
            traceback.print_exc(file=sys.stderr)
            return self.error_response(500, "Internal server error.")

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the request log, oldest first (the last ``log_limit`` requests)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()


class TokenIssuer(Protocol):
    """What a sandbox's app offers for its tokens."""

    token_ttl_seconds: int
    scopes: set[str]

    def expire_tokens(self) -> None: ...


class ServedApi:
    """What every sandbox does with its :class:`ApiServer`: serve it (in a thread or in the
    foreground), stop it, wait on it, answer without HTTP, expose its URL, faults and request
    log, keep its clock and age its tokens. Subclasses set ``self._server`` and ``self._app``
    and say in :meth:`env` which variables point go1sync at them."""

    _server: ApiServer
    _app: TokenIssuer
    _fixed_now: datetime | None = None

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def now(self) -> datetime:
        """The sandbox clock: real UTC time unless :meth:`set_now` froze it."""
        return self._fixed_now or datetime.now(UTC)

    def set_now(self, moment: datetime | None) -> None:
        """Freeze the clock (token expiry, change times); ``None`` unfreezes it. A naive
        moment is taken as UTC."""
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self._fixed_now = moment

    def expire_tokens(self) -> None:
        """Every token issued so far is rejected from now on (an early expiry)."""
        self._app.expire_tokens()

    @property
    def token_ttl_seconds(self) -> int:
        return self._app.token_ttl_seconds

    @token_ttl_seconds.setter
    def token_ttl_seconds(self, value: int) -> None:
        self._app.token_ttl_seconds = value

    @property
    def scopes(self) -> set[str]:
        """The OAuth scopes the client's token carries, live: every call checks its own at each
        request, tokens already issued included, so ``sb.scopes.discard("user.read")`` takes a
        scope away at once. Each API refuses in its own words (Go1: 401 ``Missing scopes``;
        360Learning: 403 ``invalid_scope``)."""
        return self._app.scopes

    @scopes.setter
    def scopes(self, value: set[str] | frozenset[str]) -> None:
        self._app.scopes = set(value)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Start the HTTP server in a daemon thread (``port=0``: any free port)."""
        self._server.serve(host, port)
        return self

    def stop(self) -> None:
        self._server.stop()

    def wait(self) -> None:
        """Block until :meth:`stop` is called (for a foreground server)."""
        self._server.wait()

    def serve_in_foreground(self, host: str, port: int, url_variable: str) -> None:
        """The process mode (``python -m sandbox.go1``): serve until SIGTERM or SIGINT.

        Prints ``URL_VARIABLE=url`` first (a parent process waits for that line), then one
        ``export VAR=value`` line per setting of :meth:`env`.
        """
        self.serve(host, port)

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        print(f"{url_variable}={self.url}", flush=True)
        for name, value in self.env().items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
        self.wait()

    def handle(self, request: Request) -> Response | None:
        """Answer one request without HTTP (latency and faults included; ``None``: dropped).

        Benchmarks use it to measure go1sync's side alone, without two HTTP stacks sharing
        the machine's cores.
        """
        return self._server.handle(request)

    def __enter__(self) -> Self:
        if not self._server.serving:
            self.serve()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base URL (loopback)."""
        return self._server.url

    @property
    def faults(self) -> Faults:
        return self._server.faults

    @property
    def requests(self) -> list[LoggedRequest]:
        return self._server.requests

    def clear_requests(self) -> None:
        self._server.clear_requests()
