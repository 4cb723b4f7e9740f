"""The sandbox HTTP server writes through a buffer (head and body in one send()).

These tests pin what that must not change: every answer reaches the client whole, including
the ones the stdlib sends itself (a malformed request, an unknown method) and bodies larger
than the buffer, and ``100 Continue`` goes out before the client sends its body.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project is not necessarily installed in the venv
    sys.path.insert(0, str(ROOT))

from sandbox.go1 import Go1Sandbox, Go1Seed  # noqa: E402

SMALL = Go1Seed(seed=11, learning_objects=400, users=30, enrollments=400)


@pytest.fixture(scope="module")
def served() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(SMALL).serve() as sb:
        yield sb


def _form(sb: Go1Sandbox) -> bytes:
    return urlencode({"grant_type": "client_credentials", "client_id": sb.client_id,
                      "client_secret": sb.client_secret}).encode()


def _token(sb: Go1Sandbox) -> str:
    connection = http.client.HTTPConnection(sb._server.host, sb._server.port, timeout=5)
    connection.request("POST", "/oauth/token", body=_form(sb),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    token: str = json.loads(connection.getresponse().read())["access_token"]
    connection.close()
    return token


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_small_and_large_answers_arrive_whole_on_one_keep_alive_connection(
        served: Go1Sandbox) -> None:
    headers = {"Authorization": f"Bearer {_token(served)}", "Api-Version": "2025-01-01"}
    connection = http.client.HTTPConnection(served._server.host, served._server.port, timeout=5)
    large = "/learning-objects?" + urlencode([("use_scroll", "true"), ("limit", "5000"),
                                              *[("include[]", i) for i in ("core", "relevance",
                                                                           "lifecycle", "topics",
                                                                           "provider")]])
    sizes = []
    for path in ("/enrollments?limit=50", large,
                 "/enrollments?limit=1", "/no/such/route", large):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert int(response.headers["Content-Length"]) == len(body)
        json.loads(body)
        sizes.append(len(body))
    connection.close()
    assert max(sizes) > 64 * 1024 > min(sizes)  # larger than the write buffer, and smaller


@pytest.mark.parametrize(("raw", "expected"), [
    (b"NONSENSE\r\n\r\n", b"Error code: 400"),  # no version yet: the stdlib sends no head
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", b"Error code: 505"),
    (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 501 "),
    (b"GET /x\r\n\r\n", b'{"error_code":"NOT_FOUND"'),  # HTTP/0.9: a body, no head
])
def test_answers_before_a_close_are_flushed(served: Go1Sandbox, raw: bytes,
                                            expected: bytes) -> None:
    """The stdlib's own error answers return before ``handle_one_request`` flushes; they close
    the connection, and ``finish()`` must flush them then."""
    with socket.create_connection((served._server.host, served._server.port), timeout=5) as sock:
        sock.sendall(raw)
        answer = _read_all(sock)  # the server closes after each of these
    assert expected in answer


def test_100_continue_is_sent_before_the_body_is(served: Go1Sandbox) -> None:
    body = _form(served)
    head = (b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with socket.create_connection((served._server.host, served._server.port), timeout=5) as sock:
        sock.sendall(head)
        interim = sock.recv(65536)  # times out (fails) if the 100 waits in a buffer
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        answer = interim + _read_all(sock)
    final = answer.split(b"\r\n\r\n", 1)[1]
    assert final.startswith(b"HTTP/1.1 200 ")
    assert b'"access_token"' in final
