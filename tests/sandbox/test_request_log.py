"""The sandbox request log keeps what each request was answered: status and headers.

A contract test recognises a request that followed a server-issued next-page link by finding
its URL in an earlier answer's ``Link``; that needs the log to keep the answers' headers
(``Link``, ``Location``, ``Retry-After`` …), for routed answers, injected faults and drops alike.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project is not necessarily installed in the venv
    sys.path.insert(0, str(ROOT))

from sandbox.httpserver import (  # noqa: E402
    DROPPED,
    ApiServer,
    Headers,
    LoggedRequest,
    Request,
    Response,
    Router,
)


def _page(request: Request) -> Response:
    response = Response(200, [1, 2])
    if request.arg("page") != "2":
        response.headers["Link"] = '<http://sandbox/items?page=2>; rel="next"'
    return response


@pytest.fixture
def server() -> Iterator[ApiServer]:
    router = Router()
    router.add("GET", "/items", _page)
    router.add("POST", "/jobs", lambda request: Response(
        202, b"", headers={"Location": "http://sandbox/jobs/1"}))
    served = ApiServer(router).serve()
    try:
        yield served
    finally:
        served.stop()


def test_the_log_keeps_the_headers_each_request_was_answered_with(server: ApiServer) -> None:
    first = requests.get(server.url + "/items", timeout=5)
    requests.get(server.url + "/items", params={"page": "2"}, timeout=5)
    requests.post(server.url + "/jobs", timeout=5)
    server.faults.add("429", path="/items", retry_after=3)
    assert requests.get(server.url + "/items", timeout=5).status_code == 429
    server.faults.add("drop", path="/items")
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/items", timeout=5)
    requests.get(server.url + "/nowhere", timeout=5)
    listed, last, job, limited, dropped, missing = server.requests
    assert listed.response_headers["Link"] == first.headers["Link"]
    assert listed.response_headers["link"] == first.headers["Link"]  # any case
    assert "Link" not in last.response_headers  # the last page has none
    assert (job.status, job.response_headers["Location"]) == (202, "http://sandbox/jobs/1")
    assert (limited.status, limited.response_headers["Retry-After"]) == (429, "3")
    assert (dropped.status, dropped.response_headers) == (DROPPED, {})
    assert missing.status == 404 and "Content-Type" not in missing.response_headers


def test_handling_without_http_logs_the_headers_too(server: ApiServer) -> None:
    answer = server.handle(Request("GET", "/items", {}, Headers()))
    assert answer is not None and "Link" in answer.headers
    [logged] = server.requests
    assert logged.response_headers["Link"] == answer.headers["Link"]


def test_positional_constructions_written_before_the_field_still_work() -> None:
    entry = LoggedRequest("GET", "/items", {}, Headers(), None, 200, datetime.now(UTC), b"")
    assert entry.response_headers == {}
