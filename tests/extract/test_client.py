"""The Go1 client against a scripted stub server (``tests/stub_server.py``) in the test process.

Backoff waits go to an injected ``sleep`` so no test really waits for them.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

import pytest

from extract import AuthError, ExtractError, Go1Client, RetryPolicy, ScrollExpired
from go1sync.settings import load_config
from tests.stub_server import Action, FakeClock, ScriptedStub, Seen, json_answer

TOKEN_PATH = "/oauth/token"
CLIENT_ID = "stub-client"
CLIENT_SECRET = "stub-secret-7f3a9c"


def go1_error(status: int, code: str, message: str,
              headers: dict[str, str] | None = None) -> Action:
    return json_answer(status, {"error_code": code, "message": message}, headers)


class StubGo1(ScriptedStub):
    """Go1's form-encoded token call and bearer checks; any other call answers one hit."""

    token_path = TOKEN_PATH

    def __init__(self) -> None:
        super().__init__(expires_in=43200)

    def _token(self, seen: Seen) -> Action:
        form = dict(parse_qsl(seen.body))
        with self._lock:
            if self.token_script:
                return self.token_script.popleft()
            if (form.get("client_id"), form.get("client_secret"), form.get("grant_type")) != (
                    CLIENT_ID, CLIENT_SECRET, "client_credentials"):
                return go1_error(401, "AUTH_TOKEN_INVALID", "Invalid credentials.")
            return self.issue(lambda n: f"tok-{n}-{CLIENT_ID}")

    def _api(self, seen: Seen) -> Action:
        with self._lock:
            if not self.bearer_is_valid(seen):
                return go1_error(401, "AUTH_TOKEN_INVALID", "Invalid or expired token.")
            if self.api_script:
                return self.api_script.popleft()
        return json_answer(200, {"total": 1, "hits": [{"id": "1"}]})

    @staticmethod
    def _respond(handler: BaseHTTPRequestHandler, action: Action) -> None:
        """The base's answers, plus ``("chunked", status, bytes)``: a body sent in chunks with
        no Content-Length, so the client learns its size only by reading it."""
        if action[0] != "chunked":
            ScriptedStub._respond(handler, action)
            return
        _, status, data = action
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(data), 1 << 16):
            chunk = data[start:start + (1 << 16)]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[StubGo1]:
    server = StubGo1()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


MakeClient = Callable[..., Go1Client]


@pytest.fixture
def make_client(stub: StubGo1, sleeps: list[float]) -> Iterator[MakeClient]:
    clients: list[Go1Client] = []

    def make(*, secret: str = CLIENT_SECRET, max_in_flight: int = 4,
             env: dict[str, str] | None = None, **kwargs: Any) -> Go1Client:
        config = load_config(env={
            "GO1_AUTH_URL": stub.url + TOKEN_PATH, "GO1_API_URL": stub.url,
            "GO1_CLIENT_ID": CLIENT_ID, "GO1_CLIENT_SECRET": secret,
            "GO1SYNC_MAX_IN_FLIGHT": str(max_in_flight), **(env or {})})
        settings = config.go1()
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("timeout", (2.0, 5.0))
        kwargs.setdefault("limits", config.http_limits())
        client = Go1Client(settings, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- token ------------------------------------------------------------------------------------


def test_one_token_serves_many_calls(stub: StubGo1, make_client: MakeClient) -> None:
    client = make_client()
    for _ in range(5):
        client.get("/learning-objects")
    assert len(stub.token_calls()) == 1
    assert len(stub.api_calls()) == 5
    stats = client.stats.snapshot()
    assert (stats.token_fetches, stats.requests, stats.retries) == (1, 5, 0)


def test_headers_form_and_parameter_order(stub: StubGo1, make_client: MakeClient) -> None:
    client = make_client()
    params = [("collection", "library"), ("type[]", "course"), ("type[]", "video"),
              ("include[]", "core"), ("type[]", "audio")]
    page = client.get("/learning-objects", params)

    token_call = stub.token_calls()[0]
    assert token_call.method == "POST"
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(token_call.body)) == {
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET}
    call = stub.api_calls()[0]
    assert call.headers["Api-Version"] == "2025-01-01"
    assert call.headers["Authorization"] == f"Bearer tok-1-{CLIENT_ID}"
    assert call.headers["User-Agent"] == "go1sync/0.1"
    assert token_call.headers["User-Agent"] == "go1sync/0.1"
    assert parse_qsl(call.query) == params  # repeated keys keep their order
    assert page.url == f"/learning-objects?{call.query}"
    assert page.status == 200
    assert page.data == json.loads(page.text) == {"total": 1, "hits": [{"id": "1"}]}
    assert client.stats.bytes == len(page.text)


def test_connections_are_kept_alive(stub: StubGo1, make_client: MakeClient) -> None:
    client = make_client()
    for _ in range(4):
        client.get("/learning-objects")
    assert len({call.client for call in stub.calls()}) == 1


def test_token_is_fetched_again_after_expiry(stub: StubGo1, make_client: MakeClient) -> None:
    stub.expires_in = 3600
    clock = FakeClock()
    client = make_client(clock=clock, sleep=clock.sleep)
    client.get("/a")
    clock.now = 3000  # inside the lifetime less the safety margin
    client.get("/a")
    assert len(stub.token_calls()) == 1
    clock.now = 3400  # past it: renewed before Go1 would refuse it
    client.get("/a")
    assert len(stub.token_calls()) == 2
    assert stub.api_calls()[-1].headers["Authorization"] == f"Bearer tok-2-{CLIENT_ID}"


def test_expires_in_as_a_string_is_understood(stub: StubGo1, make_client: MakeClient) -> None:
    stub.expires_in = "3600"
    clock = FakeClock()
    client = make_client(clock=clock, sleep=clock.sleep)
    client.get("/a")
    clock.now = 3000
    client.get("/a")
    assert len(stub.token_calls()) == 1


def test_a_401_fetches_one_new_token_and_retries(stub: StubGo1,
                                                 make_client: MakeClient) -> None:
    client = make_client()
    client.get("/a")
    stub.valid_tokens.clear()  # revoked before its expiry
    page = client.get("/a")
    assert page.status == 200
    assert len(stub.token_calls()) == 2
    assert [c.headers["Authorization"] for c in stub.api_calls()] == [
        f"Bearer tok-1-{CLIENT_ID}", f"Bearer tok-1-{CLIENT_ID}", f"Bearer tok-2-{CLIENT_ID}"]


def test_simultaneous_401s_fetch_one_new_token(stub: StubGo1,
                                               make_client: MakeClient) -> None:
    client = make_client(max_in_flight=4)
    client.get("/a")
    stub.valid_tokens.clear()
    stub.delay = 0.2  # the four calls are all out with the old token before any 401 returns
    futures = [client.submit("/a") for _ in range(4)]
    assert all(f.result(timeout=10).status == 200 for f in futures)
    assert len(stub.token_calls()) == 2
    assert client.stats.token_fetches == 2


def test_a_second_401_in_a_row_is_an_auth_error(stub: StubGo1,
                                                make_client: MakeClient) -> None:
    stub.api_script.extend([go1_error(401, "AUTH_TOKEN_INVALID", "Invalid or expired token.")] * 2)
    client = make_client()
    with pytest.raises(AuthError) as caught:
        client.get("/learning-objects")
    assert "GET /learning-objects" in str(caught.value)
    assert caught.value.status == 401
    assert caught.value.code == "AUTH_TOKEN_INVALID"
    assert len(stub.token_calls()) == 2
    assert len(stub.api_calls()) == 2


def test_wrong_secret_is_an_auth_error_that_hides_it(stub: StubGo1, make_client: MakeClient,
                                                     sleeps: list[float]) -> None:
    wrong = "not-the-secret-5521"
    client = make_client(secret=wrong)
    with pytest.raises(AuthError) as caught:
        client.get("/learning-objects")
    message = str(caught.value)
    assert message == ("Go1 refused the client credentials (check GO1_CLIENT_ID and "
                       "GO1_CLIENT_SECRET): AUTH_TOKEN_INVALID Invalid credentials.")
    assert wrong not in message
    assert len(stub.token_calls()) == 1  # not retried
    assert sleeps == []
    assert stub.api_calls() == []


def test_secret_echoed_back_by_go1_is_scrubbed(stub: StubGo1, make_client: MakeClient,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="go1sync.extract")
    stub.token_script.append(go1_error(503, "UNAVAILABLE", f"echo {CLIENT_SECRET}"))
    stub.token_script.append(go1_error(400, "INVALID", f"bad secret {CLIENT_SECRET}"))
    client = make_client()
    with pytest.raises(AuthError) as caught:
        client.get("/a")
    assert CLIENT_SECRET not in str(caught.value)
    assert "***" in str(caught.value)
    assert CLIENT_SECRET not in caplog.text
    assert "echo" not in caplog.text  # the token call's bodies are never logged


def test_token_call_is_retried_on_503(stub: StubGo1, make_client: MakeClient,
                                      sleeps: list[float]) -> None:
    stub.token_script.append(go1_error(503, "UNAVAILABLE", "try later"))
    client = make_client()
    assert client.get("/a").status == 200
    assert len(stub.token_calls()) == 2
    assert len(sleeps) == 1
    assert client.stats.token_fetches == 1
    assert client.stats.retries == 1


def test_token_call_exhausted_says_so(stub: StubGo1, make_client: MakeClient) -> None:
    stub.token_script.extend([go1_error(503, "UNAVAILABLE", "try later")] * 2)
    client = make_client(retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ExtractError) as caught:
        client.get("/a")
    assert str(caught.value).startswith(
        "Go1 token request POST /oauth/token failed after 2 attempts in ")
    assert not isinstance(caught.value, AuthError)


# -- retries ----------------------------------------------------------------------------------


def test_429_honours_retry_after(stub: StubGo1, make_client: MakeClient,
                                 sleeps: list[float]) -> None:
    stub.api_script.append(go1_error(429, "TOO_MANY_REQUESTS", "slow down", {"Retry-After": "1"}))
    client = make_client()
    assert client.get("/a").status == 200
    assert len(sleeps) == 1
    assert sleeps[0] >= 1
    assert client.stats.retries == 1
    assert client.stats.requests == 2


def test_429_without_retry_after_backs_off(stub: StubGo1, make_client: MakeClient,
                                           sleeps: list[float]) -> None:
    stub.api_script.append(go1_error(429, "TOO_MANY_REQUESTS", "slow down"))
    client = make_client()
    assert client.get("/a").status == 200
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= RetryPolicy().base_delay


@pytest.mark.parametrize("statuses", [(500,), (503,), (500, 503, 502, 504)])
def test_5xx_answers_are_retried(stub: StubGo1, make_client: MakeClient, sleeps: list[float],
                                 statuses: tuple[int, ...]) -> None:
    stub.api_script.extend(go1_error(s, "SERVER_ERROR", "oops") for s in statuses)
    client = make_client()
    assert client.get("/a").status == 200
    assert len(stub.api_calls()) == len(statuses) + 1
    assert len(sleeps) == client.stats.retries == len(statuses)


def test_dropped_connection_is_retried(stub: StubGo1, make_client: MakeClient,
                                       sleeps: list[float]) -> None:
    stub.api_script.append(("drop",))
    client = make_client()
    assert client.get("/a").status == 200
    assert len(stub.api_calls()) == 2
    assert len(sleeps) == 1
    assert client.stats.requests == 2


def test_read_timeout_is_retried(stub: StubGo1, make_client: MakeClient,
                                 sleeps: list[float]) -> None:
    stub.api_script.append(("stall", 0.6))
    client = make_client(timeout=(2.0, 0.2))
    started = time.monotonic()
    assert client.get("/a").status == 200
    assert time.monotonic() - started < 0.6  # gave up on the stalled answer, did not wait it out
    assert len(stub.api_calls()) == 2
    assert len(sleeps) == 1


def test_retries_exhausted_name_the_attempts(stub: StubGo1, make_client: MakeClient,
                                             sleeps: list[float]) -> None:
    stub.api_script.extend([go1_error(503, "UNAVAILABLE", "down for maintenance")] * 3)
    client = make_client(retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ExtractError) as caught:
        client.get("/learning-objects", [("scroll_id", "abc")])
    message = str(caught.value)
    assert message.startswith("GET /learning-objects failed after 3 attempts in ")
    assert "HTTP 503 UNAVAILABLE down for maintenance" in message
    assert caught.value.status == 503
    assert caught.value.code == "UNAVAILABLE"
    assert len(stub.api_calls()) == 3
    assert len(sleeps) == 2


def test_time_budget_bounds_retries(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.extend([go1_error(429, "TOO_MANY_REQUESTS", "wait",
                                      {"Retry-After": "4"})] * 3)
    clock = FakeClock()
    client = make_client(retry=RetryPolicy(max_total_seconds=5), clock=clock, sleep=clock.sleep)
    with pytest.raises(ExtractError, match=r"failed after 3 attempts in 5\.0s"):
        client.get("/a")
    assert clock.sleeps == [4.0, 1.0]  # the second wait is cut to what the budget has left


# -- other answers ----------------------------------------------------------------------------


def test_400_carries_go1_error_code(stub: StubGo1, make_client: MakeClient,
                                    sleeps: list[float]) -> None:
    stub.api_script.append(go1_error(400, "INVALID_PARAMETER", "limit must be at most 50"))
    client = make_client()
    with pytest.raises(ExtractError) as caught:
        client.get("/enrollments", [("limit", "500")])
    assert caught.value.code == "INVALID_PARAMETER"
    assert caught.value.status == 400
    assert str(caught.value) == ("Go1 refused GET /enrollments: HTTP 400 INVALID_PARAMETER limit "
                                 "must be at most 50 (check the request parameters)")
    assert len(stub.api_calls()) == 1
    assert sleeps == []


def test_non_json_error_body_is_shown_clipped(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(("raw", 403, "<html>\n<body>" + "x" * 1000 + "</body></html>", {}))
    client = make_client()
    with pytest.raises(ExtractError) as caught:
        client.get("/a")
    message = str(caught.value)
    assert "HTTP 403 (body: <html> <body>xxx" in message
    assert "\n" not in message
    assert len(message) < 350
    assert caught.value.code is None


def test_non_json_success_is_an_error(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(("raw", 200, "<html>login</html>", {}))
    client = make_client()
    with pytest.raises(ExtractError, match="not JSON"):
        client.get("/a")


def test_body_that_is_not_utf8_is_an_error(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(("raw", 200, b'{"total": 1, "hits": ["caf\xe9"]}', {}))  # Latin-1
    client = make_client()
    with pytest.raises(ExtractError, match="not JSON"):
        client.get("/a")


def test_gzip_is_asked_for_and_unpacked(stub: StubGo1, make_client: MakeClient) -> None:
    """JSON pages shrink several times over the wire: a remote API is asked to compress."""
    page = '{"total": 1, "hits": [{"id": "7"}]}'
    stub.api_script.append(("raw", 200, gzip.compress(page.encode()),
                            {"Content-Encoding": "gzip"}))
    client = make_client()
    result = client.get("/a")
    assert result.text == page
    assert result.data["hits"] == [{"id": "7"}]
    assert "gzip" in stub.api_calls()[0].headers["Accept-Encoding"]


def test_redirect_is_not_followed(stub: StubGo1, make_client: MakeClient) -> None:
    """The token must not follow a redirect to wherever it points: the user fixes the URL."""
    stub.api_script.append(json_answer(301, {}, {"Location": "https://elsewhere.example/a"}))
    client = make_client()
    with pytest.raises(ExtractError, match=r"^Go1 redirected GET /a \(HTTP 301 to "
                       r"https://elsewhere\.example/a\): check GO1_API_URL$"):
        client.get("/a")
    assert [s.path for s in stub.api_calls()] == ["/a"]


def test_expired_scroll_is_scroll_expired(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(go1_error(404, "NOT_FOUND", "Scroll id not found."))
    client = make_client()
    with pytest.raises(ScrollExpired, match="restart the scroll") as caught:
        client.get("/learning-objects", [("use_scroll", "true"), ("scroll_id", "abc")])
    assert caught.value.status == 404


def test_404_without_scroll_is_a_plain_error(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(go1_error(404, "NOT_FOUND", "No route."))
    client = make_client()
    with pytest.raises(ExtractError, match="check GO1_API_URL") as caught:
        client.get("/nowhere")
    assert not isinstance(caught.value, ScrollExpired)


# -- bounds: the size of an answer, its nesting, the wait it asks for -------------------------

MIB = 1024 * 1024


def page_of(size: int) -> bytes:
    """A valid Go1 page of exactly ``size`` bytes."""
    head, tail = b'{"total": 1, "hits": [{"id": "1", "pad": "', b'"}]}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("sent", ["with Content-Length", "chunked", "gzip"])
def test_a_body_over_the_cap_fails_in_one_line(stub: StubGo1, make_client: MakeClient,
                                               sleeps: list[float], sent: str) -> None:
    body = page_of(MIB + 1)
    stub.api_script.append({
        "with Content-Length": ("raw", 200, body, {}),
        "chunked": ("chunked", 200, body),
        # small on the wire, over the cap once unpacked
        "gzip": ("raw", 200, gzip.compress(body), {"Content-Encoding": "gzip"}),
    }[sent])
    client = make_client(env={"GO1SYNC_MAX_RESPONSE_MIB": "1"})
    with pytest.raises(ExtractError) as caught:
        client.get("/learning-objects")
    message = str(caught.value)
    assert message.startswith("GET /learning-objects failed: Go1 sent a body larger than the "
                              "1 MiB cap (HTTP 200")
    assert message.endswith("raise GO1SYNC_MAX_RESPONSE_MIB if answers this large are expected")
    assert "\n" not in message
    assert caught.value.status == 200
    assert len(stub.api_calls()) == 1  # not retried: the next answer would be as large
    assert sleeps == []
    assert client.get("/learning-objects").status == 200  # the client goes on working


def test_a_body_at_the_cap_is_read(stub: StubGo1, make_client: MakeClient) -> None:
    stub.api_script.append(("chunked", 200, page_of(MIB)))
    client = make_client(env={"GO1SYNC_MAX_RESPONSE_MIB": "1"})
    page = client.get("/learning-objects")
    assert len(page.text) == MIB
    assert page.data["total"] == 1


def test_a_token_answer_over_the_cap_fails_in_one_line(stub: StubGo1,
                                                       make_client: MakeClient) -> None:
    stub.token_script.append(("raw", 200, page_of(MIB + 1), {}))
    client = make_client(env={"GO1SYNC_MAX_RESPONSE_MIB": "1"})
    with pytest.raises(ExtractError, match=r"^Go1 token request POST /oauth/token failed: Go1 "
                       r"sent a body larger than the 1 MiB cap \(HTTP 200, Content-Length "
                       r"\d+\): raise GO1SYNC_MAX_RESPONSE_MIB"):
        client.get("/learning-objects")
    assert stub.api_calls() == []


DEEP = 100_000


@pytest.mark.parametrize("body", ["[" * DEEP + "]" * DEEP,
                                  '{"a":' * DEEP + "1" + "}" * DEEP])
def test_a_page_nested_too_deep_is_one_line(stub: StubGo1, make_client: MakeClient,
                                            body: str) -> None:
    stub.api_script.append(("raw", 200, body, {}))
    client = make_client()
    with pytest.raises(ExtractError) as caught:
        client.get("/learning-objects")
    assert str(caught.value) == ("Go1 answered GET /learning-objects with a body that nests "
                                 "deeper than 512 levels: check GO1_API_URL")


def test_nesting_is_counted_outside_strings_only(stub: StubGo1,
                                                 make_client: MakeClient) -> None:
    at_the_limit = "[" * 512 + "]" * 512
    in_a_string = json.dumps({"s": "[{" * 5000 + '\\"[['})
    stub.api_script.extend([("raw", 200, at_the_limit, {}), ("raw", 200, in_a_string, {}),
                            ("raw", 200, "[" + at_the_limit + "]", {})])
    client = make_client()
    assert client.get("/a").text == at_the_limit
    assert client.get("/b").data == json.loads(in_a_string)
    with pytest.raises(ExtractError, match="nests deeper than 512 levels"):
        client.get("/c")


def test_an_error_body_nested_too_deep_is_shown_clipped(stub: StubGo1,
                                                        make_client: MakeClient) -> None:
    stub.api_script.append(("raw", 400, "[" * DEEP + "]" * DEEP, {}))
    client = make_client()
    with pytest.raises(ExtractError) as caught:
        client.get("/a")
    assert str(caught.value).startswith("Go1 refused GET /a: HTTP 400 (body: [[[[")
    assert caught.value.code is None


def test_a_token_answer_nested_too_deep_is_one_line(stub: StubGo1,
                                                    make_client: MakeClient) -> None:
    stub.token_script.append(("raw", 200, '{"a":' * DEEP + "1" + "}" * DEEP, {}))
    client = make_client()
    with pytest.raises(ExtractError, match=r"^Go1 token request POST /oauth/token answered with "
                       r"a body that nests deeper than 512 levels: check GO1_AUTH_URL$"):
        client.get("/a")


def run_again_after(message: str) -> datetime:
    found = re.search(r"run again after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", message)
    assert found, message
    return datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.mark.parametrize("retry_after", ["3600", "in an hour"])
def test_a_retry_after_over_the_cap_fails_at_once_saying_when(
        stub: StubGo1, make_client: MakeClient, sleeps: list[float], retry_after: str) -> None:
    if retry_after == "in an hour":  # the HTTP-date form
        retry_after = (datetime.now(UTC) + timedelta(hours=1)).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
    stub.api_script.append(go1_error(429, "TOO_MANY_REQUESTS", "quota spent",
                                     {"Retry-After": retry_after}))
    client = make_client()
    before = datetime.now(UTC)
    with pytest.raises(ExtractError) as caught:
        client.get("/enrollments")
    after = datetime.now(UTC)
    message = str(caught.value)
    assert message.startswith("GET /enrollments failed: Go1 answered HTTP 429 TOO_MANY_REQUESTS "
                              "quota spent and asks to wait ")
    assert re.search(r"asks to wait (3600|359\d) s: run again after ", message), message
    assert message.endswith("(GO1SYNC_MAX_RETRY_AFTER is 120 s)")
    when = run_again_after(message)
    assert before + timedelta(seconds=3540) <= when <= after + timedelta(seconds=3660)
    assert sleeps == []
    assert len(stub.api_calls()) == 1
    assert caught.value.status == 429
    assert caught.value.code == "TOO_MANY_REQUESTS"


def test_a_retry_after_within_the_cap_is_waited_and_logged(
        stub: StubGo1, make_client: MakeClient, sleeps: list[float],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="go1sync.extract")
    stub.api_script.extend([go1_error(429, "TOO_MANY_REQUESTS", "wait", {"Retry-After": "120"}),
                            go1_error(429, "TOO_MANY_REQUESTS", "wait", {"Retry-After": "30"})])
    client = make_client(env={"GO1SYNC_MAX_RETRY_AFTER": "120"})
    assert client.get("/a").status == 200
    assert sleeps == [120.0, 30.0]
    assert "trying again in 120.0s, as Retry-After asks" in caplog.text


def test_the_retry_after_cap_is_a_setting(stub: StubGo1, make_client: MakeClient,
                                          sleeps: list[float]) -> None:
    stub.api_script.append(go1_error(429, "TOO_MANY_REQUESTS", "wait", {"Retry-After": "30"}))
    client = make_client(env={"GO1SYNC_MAX_RETRY_AFTER": "10"})
    with pytest.raises(ExtractError, match=r"asks to wait 30 s: run again after .* UTC "
                       r"\(GO1SYNC_MAX_RETRY_AFTER is 10 s\)$"):
        client.get("/a")
    assert sleeps == []


def test_a_token_call_asked_to_wait_too_long_fails_at_once(stub: StubGo1,
                                                           make_client: MakeClient,
                                                           sleeps: list[float]) -> None:
    stub.token_script.append(go1_error(503, "UNAVAILABLE", "maintenance",
                                       {"Retry-After": "3600"}))
    client = make_client()
    with pytest.raises(ExtractError, match=r"^Go1 token request POST /oauth/token failed: Go1 "
                       r"answered HTTP 503 UNAVAILABLE and asks to wait 3600 s: run again after "):
        client.get("/a")
    assert sleeps == []


# -- concurrency and lifecycle ----------------------------------------------------------------


def test_max_in_flight_is_reached_and_respected(stub: StubGo1,
                                                make_client: MakeClient) -> None:
    client = make_client(max_in_flight=4)
    client.get("/warm-up")  # the token first, so the peak counts API calls only
    stub.delay = 0.1
    futures = [client.submit("/a", [("offset", str(i * 50))]) for i in range(12)]
    assert sum(not f.done() for f in futures) > 4  # more submitted than run at once
    pages = [f.result(timeout=10) for f in futures]
    assert [p.url for p in pages] == [f"/a?offset={i * 50}" for i in range(12)]
    assert stub.peak == 4
    connections = {seen.client for seen in stub.api_calls()}
    assert 4 <= len(connections) <= 5  # kept alive: one per request in flight, plus the caller's


def test_direct_gets_from_many_threads_are_bounded(stub: StubGo1,
                                                   make_client: MakeClient) -> None:
    client = make_client(max_in_flight=2)
    client.get("/warm-up")
    stub.delay = 0.1
    threads = [threading.Thread(target=client.get, args=("/a",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert stub.peak == 2
    assert len(stub.api_calls()) == 7


def test_retries_are_logged_with_path_and_cause_only(stub: StubGo1, make_client: MakeClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="go1sync.extract")
    stub.api_script.append(go1_error(503, "UNAVAILABLE", "busy"))
    client = make_client()
    client.get("/learning-objects")
    retries = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == 1
    assert "GET /learning-objects" in retries[0]
    assert "HTTP 503 UNAVAILABLE busy" in retries[0]
    assert "tok-" not in caplog.text
    assert "Bearer" not in caplog.text
    assert CLIENT_SECRET not in caplog.text


def test_close_waits_and_then_refuses(stub: StubGo1, make_client: MakeClient) -> None:
    stub.delay = 0.05
    with make_client() as client:
        future = client.submit("/a")
    assert future.result(timeout=0).status == 200
    with pytest.raises(RuntimeError):
        client.submit("/a")
    with pytest.raises(RuntimeError):
        client.get("/a")
