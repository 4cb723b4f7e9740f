"""The retry policy on its own: what is retryable, how long to wait, when to stop."""

from __future__ import annotations

import http.client
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import urllib3.exceptions

from apiclient.errors import RetriesSpent, WaitTooLong
from apiclient.retry import (
    Attempts,
    RetryPolicy,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("value", "expected"), [
    ("1", 1.0), (" 120 ", 120.0), ("0", 0.0), ("1.5", 1.5),
    ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
    ("Sat, 01 Mar 2025 11:59:00 GMT", 0.0),  # already past: go now
    (None, None), ("", None), ("-3", None), ("soon", None), ("nan", None),
])
def test_retry_after_in_seconds_or_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_http_date_helper_round_trips() -> None:
    when = datetime.fromtimestamp(NOW + 7, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), now=NOW) == 7.0


def test_backoff_grows_exponentially_up_to_max_delay() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30, jitter="none")
    assert [policy.backoff(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_full_jitter_stays_between_zero_and_the_step() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30)
    for attempt in (1, 3, 10):
        step = min(30, 0.5 * 2 ** (attempt - 1))
        samples = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= s <= step for s in samples)
        assert len(set(samples)) > 1


def test_retry_after_wins_but_not_past_the_budget() -> None:
    policy = RetryPolicy(max_total_seconds=300, max_delay=30)
    assert policy.delay(1, "60") == 60  # the server's word beats max_delay
    assert policy.delay(1, "60", elapsed=280) == 20
    assert policy.delay(1, None, elapsed=300) == 0
    assert 0 <= policy.delay(2, "garbage") <= 1  # unreadable: own backoff


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize("exc", [
    urllib3.exceptions.ConnectTimeoutError(), urllib3.exceptions.NewConnectionError(
        None, "Connection refused"),  # type: ignore[arg-type]
    urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"),  # type: ignore[arg-type]
    urllib3.exceptions.ProtocolError("Connection aborted."), urllib3.exceptions.ProxyError(
        "proxy down", OSError()), http.client.RemoteDisconnected("closed"),
    ConnectionResetError(),
])
def test_transport_failures_are_retryable(exc: BaseException) -> None:
    assert is_retryable_exception(exc)


@pytest.mark.parametrize("exc", [
    urllib3.exceptions.SSLError(), urllib3.exceptions.LocationParseError("http://["),
    ValueError(),
])
def test_configuration_failures_are_not(exc: BaseException) -> None:
    assert not is_retryable_exception(exc)


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_delay": -1},
                                    {"jitter": "equal"}])
def test_policy_refuses_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_stop_at_the_count_and_allow_an_extra() -> None:
    now = [0.0]
    attempts = Attempts(RetryPolicy(max_attempts=2, jitter="none"), "GET /x", lambda: now[0])
    attempts.count = 1
    assert attempts.next_delay("HTTP 503") == 0.5
    attempts.count = 2
    attempts.extra = 1
    assert attempts.next_delay("HTTP 503") == 1.0
    attempts.count = 3
    now[0] = 2.25
    with pytest.raises(RetriesSpent, match=r"^GET /x failed after 3 attempts in 2\.2s: HTTP 503"):
        attempts.next_delay("HTTP 503", status=503)


def test_a_retry_after_over_the_bound_is_refused_before_the_budget_is_counted() -> None:
    attempts = Attempts(RetryPolicy(max_attempts=1), "GET /x", lambda: 0.0)
    attempts.count = 1  # spent, yet the user is told how long the server asked to wait
    with pytest.raises(WaitTooLong) as refused:
        attempts.next_delay("HTTP 429", "3600", status=429, max_retry_after=120)
    assert (refused.value.seconds, refused.value.status) == (3600.0, 429)
    attempts.count = 0
    assert attempts.next_delay("HTTP 429", "120", max_retry_after=120) == 120.0
