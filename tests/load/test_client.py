"""The 360Learning client against the scripted stub server (``conftest.StubL360``).

Waits (backoff, rate limits) go to a fake clock that moves only when the client sleeps, so the
tests assert exact waits without waiting for them.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import urllib3.exceptions

from apiclient.paging import next_link
from apiclient.transport import Answer, PoolTransport
from go1sync.settings import HttpLimits, load_config
from load import (
    AuthError,
    L360Client,
    LoadError,
    NotFound,
    RateLimiter,
    RetryPolicy,
    ScopeError,
    SubmitUncertain,
    is_repeatable,
)
from tests.load.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeClock,
    MakeClient,
    StubL360,
    api_error,
    json_answer,
)

INTEGRATION = "64a1b2c3d4e5f6a7b8c9d0e1"
COURSES = f"/api/v2/bulk/integrations/{INTEGRATION}/courses"
COURSE = {"externalId": "lo-1", "name": "A course"}

# -- token and headers ------------------------------------------------------------------------


def test_json_token_and_headers_on_every_call(stub: StubL360, make_client: MakeClient) -> None:
    client = make_client()
    users = client.get("/api/v2/users", [("mail[eq]", "ada@example.com")])
    client.post("/api/v2/integrations", {"externalPlatform": "Go1"})

    [token_call] = stub.token_calls()
    assert token_call.method == "POST"
    assert token_call.headers["Content-Type"] == "application/json"
    assert token_call.json() == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                 "client_secret": CLIENT_SECRET}
    get, post = stub.api_calls()
    for call in (get, post):
        assert call.headers["360-api-version"] == "v2.0"
        assert call.headers["Authorization"] == f"Bearer tok1-{'x' * 24}"
        assert call.headers["Accept"] == "application/json"
    assert get.query == "mail%5Beq%5D=ada%40example.com"
    assert post.headers["Content-Type"] == "application/json"
    assert post.json() == {"externalPlatform": "Go1"}
    assert users.status == 200 and users.data == []
    assert users.url == "/api/v2/users?mail%5Beq%5D=ada%40example.com"
    stats = client.stats.snapshot()
    assert (stats.reads, stats.writes, stats.retries, stats.token_fetches) == (1, 1, 0, 1)


def test_token_is_renewed_before_the_hour_is_up(stub: StubL360, make_client: MakeClient,
                                                clock: FakeClock) -> None:
    stub.expires_in = "3600"  # a string, as 360Learning may send it
    client = make_client()
    client.get("/api/v2/users")
    clock.now = 3000  # inside the hour less the safety margin
    client.get("/api/v2/users")
    assert len(stub.token_calls()) == 1
    clock.now = 3400  # within the margin: renewed before 360Learning would refuse it
    client.get("/api/v2/users")
    assert len(stub.token_calls()) == 2
    assert stub.api_calls()[-1].headers["Authorization"] == f"Bearer tok2-{'x' * 24}"


def test_a_401_fetches_one_new_token_and_retries(stub: StubL360,
                                                 make_client: MakeClient) -> None:
    client = make_client()
    client.get("/api/v2/users")
    stub.valid_tokens.clear()  # revoked before its expiry
    assert client.get("/api/v2/users").status == 200
    assert len(stub.token_calls()) == 2
    assert [c.headers["Authorization"].split("-")[0] for c in stub.api_calls()] == [
        "Bearer tok1", "Bearer tok1", "Bearer tok2"]


def test_a_second_401_in_a_row_is_an_auth_error(stub: StubL360,
                                                make_client: MakeClient) -> None:
    stub.api_script.extend([json_answer(401, {"error": "invalid_token"})] * 2)
    client = make_client()
    with pytest.raises(AuthError) as caught:
        client.put(COURSES, {"input": [COURSE]})
    assert str(caught.value) == (
        f"360Learning refused a freshly issued token for PUT {COURSES} (HTTP 401 invalid_token):"
        " check that the L360_CLIENT_ID API client is active")
    assert (caught.value.status, caught.value.code) == (401, "invalid_token")
    assert len(stub.token_calls()) == 2
    assert len(stub.submits()) == 2  # a 401 was not accepted: sending it again is safe


def test_wrong_secret_is_an_auth_error_that_hides_it(stub: StubL360, make_client: MakeClient,
                                                     clock: FakeClock) -> None:
    wrong = "not-the-secret-5521"
    client = make_client(secret=wrong)
    with pytest.raises(AuthError) as caught:
        client.get("/api/v2/users")
    assert str(caught.value) == ("360Learning refused the client credentials (check "
                                 "L360_CLIENT_ID and L360_CLIENT_SECRET): invalid_client")
    assert len(stub.token_calls()) == 1  # not retried
    assert clock.sleeps == []
    assert stub.api_calls() == []


def test_token_call_is_retried_on_503(stub: StubL360, make_client: MakeClient,
                                      clock: FakeClock) -> None:
    stub.token_script.append(json_answer(503, {"error": "unavailable"}, {"Retry-After": "3"}))
    make_client().get("/api/v2/users")
    assert len(stub.token_calls()) == 2
    assert clock.sleeps == [3.0]


def test_secret_and_token_echoed_back_are_scrubbed(stub: StubL360,
                                                   make_client: MakeClient) -> None:
    client = make_client()
    client.get("/api/v2/users")
    token = next(iter(stub.valid_tokens))
    stub.api_script.append(api_error(400, "invalidInput",
                                     f"bad {CLIENT_SECRET} and\nBearer {token}"))
    with pytest.raises(LoadError) as caught:
        client.get("/api/v2/users")
    message = str(caught.value)
    assert CLIENT_SECRET not in message and token not in message
    assert "\n" not in message
    assert message == ("360Learning refused GET /api/v2/users: HTTP 400 invalidInput bad *** "
                       "and Bearer *** (check the request against 360Learning's OpenAPI)")


# -- errors -----------------------------------------------------------------------------------


def test_403_invalid_scope_names_the_scope(stub: StubL360, make_client: MakeClient) -> None:
    stub.api_script.append(api_error(
        403, "invalid_scope", "The access token lacks the `integrations:bulk` scope."))
    client = make_client()
    with pytest.raises(ScopeError) as caught:
        client.put(COURSES, {"input": [COURSE]})
    assert caught.value.scope == "integrations:bulk"
    assert (caught.value.status, caught.value.code) == (403, "invalid_scope")
    assert "integrations:bulk" in str(caught.value)
    assert len(stub.submits()) == 1


def test_403_without_a_named_scope_falls_back_to_the_documented_one(
        stub: StubL360, make_client: MakeClient) -> None:
    stub.api_script.append(api_error(403, "invalid_scope", "Forbidden."))
    with pytest.raises(ScopeError) as caught:
        make_client().get("/api/v2/bulk/operations/64a1b2c3d4e5f6a7b8c9d0e1")
    assert caught.value.scope == "bulkOperations:read"


def test_404_is_not_found(stub: StubL360, make_client: MakeClient) -> None:
    stub.api_script.append(api_error(404, "integrationNotFound", "No such integration."))
    with pytest.raises(NotFound) as caught:
        make_client().get(f"/api/v2/integrations/{INTEGRATION}/courses/lo-1")
    assert caught.value.code == "integrationNotFound"


def test_a_body_that_is_not_json_is_an_error(stub: StubL360, make_client: MakeClient) -> None:
    stub.api_script.append(("raw", 200, "<html>a proxy's page</html>", {}))
    with pytest.raises(LoadError) as caught:
        make_client().get("/api/v2/users")
    assert str(caught.value) == ("360Learning answered GET /api/v2/users with a body that is "
                                 "not JSON (body: <html>a proxy's page</html>): check L360_API_URL")


# -- retries ----------------------------------------------------------------------------------


def test_core_429_honours_retry_after(stub: StubL360, make_client: MakeClient,
                                      clock: FakeClock) -> None:
    stub.api_script.append(json_answer(429, {"error": "tooManyRequests"}, {"Retry-After": "2"}))
    client = make_client()
    assert client.get("/api/v2/users").status == 200
    assert clock.sleeps == [2.0]
    assert client.stats.retries == 1


def test_bulk_429_on_a_submit_is_retried_honouring_retry_after(
        stub: StubL360, make_client: MakeClient, clock: FakeClock) -> None:
    stub.api_script.append(api_error(429, "bulkOperationsConcurrencyLimitReached",
                                     headers={"Retry-After": "7"}))
    response = make_client().put(COURSES, {"input": [COURSE]})
    assert response.status == 202
    assert len(stub.submits()) == 2  # a 429 says it was not accepted
    assert clock.sleeps == [7.0]


def test_429_without_retry_after_backs_off(stub: StubL360, make_client: MakeClient,
                                           clock: FakeClock) -> None:
    stub.api_script.extend([json_answer(429, {"error": "tooManyRequests"})] * 3)
    client = make_client(retry=RetryPolicy(base_delay=1.0, jitter="none"))
    client.get("/api/v2/users")
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_5xx_answers_to_a_read_are_retried(stub: StubL360, make_client: MakeClient,
                                           clock: FakeClock) -> None:
    stub.api_script.extend([json_answer(502, {}), json_answer(500, {"error": "internal"}),
                            ("json", 504, "<html>gateway</html>", {})])
    client = make_client()
    assert client.get("/api/v2/users").status == 200
    assert len(stub.api_calls()) == 4
    assert client.stats.retries == 3


def test_retries_are_bounded_and_say_so_on_one_line(stub: StubL360, make_client: MakeClient,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    stub.api_script.extend([api_error(503, "bulkAPIDisabled", "Bulk API\ndisabled.")] * 10)
    client = make_client(retry=RetryPolicy(max_attempts=3))
    with caplog.at_level(logging.INFO, logger="go1sync.load"), \
            pytest.raises(LoadError) as caught:
        client.get("/api/v2/bulk/operations")
    assert str(caught.value).startswith(
        "GET /api/v2/bulk/operations failed after 3 attempts in ")
    assert str(caught.value).endswith(
        "HTTP 503 bulkAPIDisabled Bulk API disabled. (360Learning kept failing: run again later)")
    assert (caught.value.status, caught.value.code) == (503, "bulkAPIDisabled")
    assert len(stub.api_calls()) == 3
    assert len([r for r in caplog.records if "trying again" in r.getMessage()]) == 2


def test_a_read_that_times_out_or_is_dropped_is_retried(stub: StubL360,
                                                        make_client: MakeClient) -> None:
    stub.api_script.extend([("stall", 1.0), ("drop",)])
    client = make_client(timeout=(2.0, 0.3))
    assert client.get("/api/v2/users").status == 200
    assert len(stub.api_calls()) == 3


# -- bounds: the size of an answer, its nesting, the wait it asks for -------------------------

MIB = 1024 * 1024
DEEP = 100_000


def one_mib_cap() -> HttpLimits:
    return load_config(env={"GO1SYNC_MAX_RESPONSE_MIB": "1"}).http_limits()


def test_a_body_over_the_cap_fails_in_one_line(stub: StubL360, make_client: MakeClient,
                                               clock: FakeClock) -> None:
    body = b"[" + b'"x",' * (MIB // 4) + b'"x"]'
    stub.api_script.append(("raw", 200, body, {}))
    client = make_client(limits=one_mib_cap())
    with pytest.raises(LoadError) as caught:
        client.get("/api/v2/users")
    assert str(caught.value) == (
        f"GET /api/v2/users failed: 360Learning sent a body larger than the 1 MiB cap (HTTP "
        f"200, Content-Length {len(body)}): raise GO1SYNC_MAX_RESPONSE_MIB if answers this large "
        "are expected")
    assert len(stub.api_calls()) == 1
    assert clock.sleeps == []


def test_a_submit_answered_over_the_cap_is_uncertain(stub: StubL360, make_client: MakeClient
                                                     ) -> None:
    """The submit was answered 202: it started, though its answer could not be read."""
    stub.api_script.append(("raw", 202, b'{"id": "' + b"0" * MIB + b'"}', {}))
    client = make_client(limits=one_mib_cap())
    with pytest.raises(SubmitUncertain) as caught:
        client.put(COURSES, {"input": [COURSE]})
    assert "a body larger than the 1 MiB cap" in str(caught.value)
    assert "GO1SYNC_MAX_RESPONSE_MIB" in str(caught.value)
    assert caught.value.status == 202
    assert len(stub.submits()) == 1


def test_the_default_cap_is_the_settings_default(stub: StubL360,
                                                 make_client: MakeClient) -> None:
    assert make_client().limits == load_config(env={}).http_limits()


@pytest.mark.parametrize("body", ["[" * DEEP + "]" * DEEP,
                                  '{"a":' * DEEP + "1" + "}" * DEEP])
def test_an_answer_nested_too_deep_is_one_line(stub: StubL360, make_client: MakeClient,
                                               body: str) -> None:
    stub.api_script.append(("raw", 200, body, {}))
    with pytest.raises(LoadError) as caught:
        make_client().get("/api/v2/users")
    assert str(caught.value) == ("360Learning answered GET /api/v2/users with a body that nests "
                                 "deeper than 512 levels: check L360_API_URL")


def test_a_retry_after_over_the_cap_fails_at_once_saying_when(
        stub: StubL360, make_client: MakeClient, clock: FakeClock) -> None:
    stub.api_script.append(api_error(429, "bulkOperationsConcurrencyLimitReached",
                                     headers={"Retry-After": "3600"}))
    before = datetime.now(UTC)
    with pytest.raises(LoadError) as caught:
        make_client().put(COURSES, {"input": [COURSE]})
    message = str(caught.value)
    assert not isinstance(caught.value, SubmitUncertain)  # a 429 says it was not accepted
    assert message.startswith(f"PUT {COURSES} failed: 360Learning answered HTTP 429 "
                              "bulkOperationsConcurrencyLimitReached A message. and asks to "
                              "wait 3600 s: run again after ")
    found = re.search(r"run again after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", message)
    assert found
    when = datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert before + timedelta(seconds=3540) <= when <= datetime.now(UTC) + timedelta(hours=1,
                                                                                      minutes=1)
    assert clock.sleeps == []
    assert len(stub.submits()) == 1


def test_a_retry_after_within_the_cap_is_still_waited(stub: StubL360, make_client: MakeClient,
                                                      clock: FakeClock) -> None:
    stub.api_script.append(json_answer(429, {"error": "tooManyRequests"},
                                       {"Retry-After": "120"}))
    assert make_client().get("/api/v2/users").status == 200
    assert clock.sleeps == [120.0]


# -- writes that must not run twice -----------------------------------------------------------


def test_a_submit_that_times_out_after_sending_is_not_retried(
        stub: StubL360, make_client: MakeClient, clock: FakeClock) -> None:
    stub.api_script.append(("stall", 1.0))
    client = make_client(timeout=(2.0, 0.3))
    payload = {"input": [COURSE]}
    with pytest.raises(SubmitUncertain) as caught:
        client.put(COURSES, payload)
    error = caught.value
    assert len(stub.submits()) == 1
    assert (error.method, error.path, error.payload) == ("PUT", COURSES, payload)
    assert error.sent_at.tzinfo is not None
    assert error.status is None
    assert str(error).startswith(f"PUT {COURSES} may have reached 360Learning, but no answer")
    assert "\n" not in str(error)
    assert clock.sleeps == [] and client.stats.retries == 0


@pytest.mark.parametrize("answer", [("drop",), api_error(500, "internal"),
                                    json_answer(502, {}), json_answer(504, {})])
def test_a_submit_answered_ambiguously_is_not_retried(stub: StubL360, make_client: MakeClient,
                                                      answer: tuple[Any, ...]) -> None:
    stub.api_script.append(answer)
    with pytest.raises(SubmitUncertain) as caught:
        make_client().post(f"/api/v2/bulk/integrations/{INTEGRATION}/stats", {"input": [{}]})
    assert len(stub.submits()) == 1
    assert caught.value.status == (None if answer[0] == "drop" else answer[1])


def test_a_submit_refused_with_503_is_retried(stub: StubL360, make_client: MakeClient) -> None:
    stub.api_script.append(api_error(503, "bulkAPIDisabled"))
    assert make_client().put(COURSES, {"input": [COURSE]}).status == 202
    assert len(stub.submits()) == 2


def test_a_post_is_not_retried_after_a_timeout_but_a_put_is(stub: StubL360,
                                                            make_client: MakeClient) -> None:
    client = make_client(timeout=(2.0, 0.3))
    stub.api_script.append(("stall", 1.0))
    with pytest.raises(SubmitUncertain):
        client.post("/api/v2/integrations", {"externalPlatform": "Go1"})
    stub.api_script.append(("stall", 1.0))
    assert client.put("/api/v2/tags/64a1b2c3d4e5f6a7b8c9d0e1", {"name": "x"}).status == 200
    assert client.post("/api/v2/integrations", {}, repeatable=True).status == 200
    assert is_repeatable("GET", "/api/v2/bulk/operations")
    assert not is_repeatable("PUT", COURSES)
    assert not is_repeatable("DELETE", COURSES)
    assert is_repeatable("DELETE", "/api/v2/tags/1")


class FailingFirst:
    """The real transport, but the first send fails before anything leaves, as a refused
    connection does."""

    def __init__(self, url: str) -> None:
        self.inner = PoolTransport(url, 4, max_body_bytes=1 << 20)
        self.error: Exception | None = None

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.inner.send(method, url, **kwargs)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("error", [
    urllib3.exceptions.ConnectTimeoutError("connect timed out"),
    urllib3.exceptions.NewConnectionError(None, "Connection refused"),  # type: ignore[arg-type]
])
def test_a_submit_that_never_left_is_retried(stub: StubL360, make_client: MakeClient,
                                             error: Exception) -> None:
    transport = FailingFirst(stub.url)
    client = make_client(transport=transport)
    client.get("/api/v2/users")  # the token first
    transport.error = error
    assert client.put(COURSES, {"input": [COURSE]}).status == 202
    assert len(stub.submits()) == 1
    assert client.stats.retries == 1


# -- rate limits ------------------------------------------------------------------------------


def test_eleven_writes_in_a_second_make_the_eleventh_wait(stub: StubL360,
                                                          make_client: MakeClient,
                                                          clock: FakeClock) -> None:
    client = make_client()
    for _ in range(10):
        client.put("/api/v2/tags/64a1b2c3d4e5f6a7b8c9d0e1", {"name": "x"})
    for _ in range(50):
        client.get("/api/v2/users")  # reads have their own budget
    assert clock.sleeps == []
    client.put("/api/v2/tags/64a1b2c3d4e5f6a7b8c9d0e1", {"name": "x"})
    assert clock.sleeps == [1.0]
    client.get("/api/v2/users")  # the 51st read, now 1s later: room again
    assert clock.sleeps == [1.0]
    stats = client.stats.snapshot()
    assert (stats.reads, stats.writes) == (51, 11)


def test_fifty_one_reads_in_a_second_make_the_last_wait(stub: StubL360,
                                                        make_client: MakeClient,
                                                        clock: FakeClock) -> None:
    client = make_client(reads_per_second=50)
    for _ in range(51):
        client.get("/api/v2/users")
    assert clock.sleeps == [1.0]


def test_limiter_is_a_sliding_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    for at in (0.0, 0.2, 0.9):
        clock.now = at
        with limiter.slot() as waited:
            assert waited == 0
    clock.now = 1.0
    assert limiter.acquire() == 0  # the call at 0.0 has left the window
    assert limiter.acquire() == pytest.approx(0.2)  # waits for the one at 0.2 to leave
    assert clock.now == pytest.approx(1.2)
    assert limiter.acquire() == pytest.approx(0.7)  # and for the one at 0.9
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_limiter_is_shared_fairly_by_threads() -> None:
    import threading
    import time

    limiter = RateLimiter(5, per=0.2)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert len(starts) == 15
    for i in range(5, 15):  # never more than 5 starts in any 0.2s
        assert starts[i] - starts[i - 5] >= 0.2 - 0.01


# -- paging -----------------------------------------------------------------------------------


def test_link_paging_is_followed_to_the_last_page(stub: StubL360,
                                                  make_client: MakeClient) -> None:
    pages = {
        "": json_answer(200, [{"_id": "u1"}, {"_id": "u2"}],
                        {"Link": f'<{stub.url}/api/v2/users?status%5Beq%5D=active&page=2>; '
                                 'rel="next"'}),
        "2": json_answer(200, [{"_id": "u3"}],
                         {"Link": '</api/v2/users?status%5Beq%5D=active&page=3>; rel="next", '
                                  '</api/v2/users?page=1>; rel="first"'}),
        "3": json_answer(200, [{"_id": "u4"}]),
    }

    def users(seen: Any) -> tuple[Any, ...]:
        from urllib.parse import parse_qs
        return pages[parse_qs(seen.query).get("page", [""])[0]]

    stub.routes[("GET", "/api/v2/users")] = users
    client = make_client()
    items = list(client.get_all("/api/v2/users", {"status[eq]": "active"}))
    assert [i["_id"] for i in items] == ["u1", "u2", "u3", "u4"]
    assert [c.query for c in stub.api_calls()] == [
        "status%5Beq%5D=active", "status%5Beq%5D=active&page=2",
        "status%5Beq%5D=active&page=3"]
    assert client.stats.reads == 3


@pytest.mark.parametrize(("header", "expected"), [
    ('<https://x.example/a?page=2>; rel="next"', "https://x.example/a?page=2"),
    ('<https://x.example/a?page=1>; rel="prev", <https://x.example/a?page=3>; rel=next',
     "https://x.example/a?page=3"),
    ("<https://x.example/a?page=2>; title=\"p, 2\"; rel=\"last next\"",
     "https://x.example/a?page=2"),
    ('<https://x.example/a?page=1>; rel="prev"', None),
    ("", None),
    (None, None),
])
def test_next_link_is_read_from_the_link_header(header: str | None,
                                                expected: str | None) -> None:
    assert next_link(header) == expected


def test_a_redirect_is_not_followed(stub: StubL360, make_client: MakeClient) -> None:
    """The bearer token must not follow a redirect: the user fixes L360_API_URL."""
    stub.api_script.append(json_answer(302, {}, {"Location": "https://elsewhere.example/x"}))
    with pytest.raises(LoadError, match=r"^360Learning redirected GET /api/v2/users \(HTTP 302 "
                       r"to https://elsewhere\.example/x\): check L360_API_URL$"):
        make_client().get("/api/v2/users")
    assert [c.path for c in stub.api_calls()] == ["/api/v2/users"]


def test_a_next_link_to_another_host_is_not_followed(stub: StubL360,
                                                     make_client: MakeClient) -> None:
    stub.api_script.append(json_answer(200, [{"_id": "u1"}], {
        "Link": '<https://evil.example/api/v2/users?page=2>; rel="next"'}))
    with pytest.raises(LoadError, match="points to another host"):
        list(make_client().get_all("/api/v2/users"))
    assert len(stub.api_calls()) == 1


def test_a_listing_that_is_not_a_list_is_an_error(stub: StubL360,
                                                  make_client: MakeClient) -> None:
    stub.api_script.append(json_answer(200, {"users": [{"_id": "u1"}]}))
    stub.api_script.append(json_answer(200, {"users": [{"_id": "u1"}]}))
    client = make_client()
    assert list(client.get_all("/api/v2/users", key="users")) == [{"_id": "u1"}]
    with pytest.raises(LoadError, match="without a JSON array"):
        list(client.get_all("/api/v2/users"))


def test_closed_client_refuses_calls(make_client: MakeClient) -> None:
    client: L360Client
    with make_client() as client:
        pass
    with pytest.raises(RuntimeError):
        client.get("/api/v2/users")
    with pytest.raises(ValueError):
        make_client().get("api/v2/users")
