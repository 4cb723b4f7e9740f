"""A transport that answers from an in-process sandbox, without sockets.

The HTTP scenarios are bound by two Python HTTP stacks (the sandbox's server and the client's)
sharing two cores; this one removes both to show what go1sync's own paging and landing reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from urllib3 import HTTPHeaderDict

from apiclient.transport import Answer
from sandbox.go1 import Go1Sandbox
from sandbox.httpserver import Headers, Request


class SandboxTransport:
    def __init__(self, sandbox: Go1Sandbox) -> None:
        self.sandbox = sandbox

    def send(self, method: str, url: str, *, headers: Mapping[str, str],
             body: bytes | None = None, timeout: tuple[float, float]) -> Answer:
        parts = urlsplit(url)
        answer = self.sandbox.handle(Request(
            method=method, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
            headers=Headers(headers.items()), body=body or b""))
        if answer is None:
            raise ConnectionResetError("dropped by the sandbox")
        return Answer(answer.status, HTTPHeaderDict(answer.headers), answer.encode())

    def close(self) -> None:
        pass
