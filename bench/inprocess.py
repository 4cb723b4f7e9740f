"""A requests adapter that answers from an in-process sandbox, without sockets.

The HTTP scenarios are bound by two Python HTTP stacks (the sandbox's server and requests)
sharing two cores; this one removes both to show what go1sync's own paging and landing reach.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sandbox.go1 import Go1Sandbox
from sandbox.httpserver import Headers, Request


class SandboxAdapter(BaseAdapter):
    def __init__(self, sandbox: Go1Sandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        raw_body = body.encode() if isinstance(body, str) else body
        answer = self.sandbox.handle(Request(
            method=request.method or "GET", path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=Headers(request.headers.items()), body=raw_body))
        if answer is None:
            raise requests.ConnectionError("dropped by the sandbox")
        response = requests.Response()
        response.status_code = answer.status
        response._content = answer.encode()
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def session_factory(sandbox: Go1Sandbox) -> Any:
    def make() -> requests.Session:
        session = requests.Session()
        session.mount("http://", SandboxAdapter(sandbox))
        return session
    return make
