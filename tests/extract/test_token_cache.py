"""The token rules both API clients share: one fetch for all threads, renewal before expiry,
a 401 drops the token once, recent tokens are known for scrubbing."""

from __future__ import annotations

import threading
import time

import pytest

from apiclient.token_cache import TokenCache, token_lifetime


class Issuer:
    def __init__(self, lifetime: float = 3600.0, delay: float = 0.0) -> None:
        self.issued = 0
        self.lifetime = lifetime
        self.delay = delay

    def __call__(self) -> tuple[str, float]:
        time.sleep(self.delay)
        self.issued += 1
        return f"tok-{self.issued}", self.lifetime


def test_one_fetch_serves_every_waiting_thread() -> None:
    issuer = Issuer(delay=0.05)
    cache = TokenCache(issuer, time.monotonic)
    seen: list[tuple[str, int]] = []
    threads = [threading.Thread(target=lambda: seen.append(cache.current())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert issuer.issued == 1
    assert set(seen) == {("tok-1", 1)}


def test_renewed_a_margin_before_it_expires() -> None:
    now = [0.0]
    cache = TokenCache(Issuer(lifetime=3600.0), lambda: now[0])
    assert cache.current() == ("tok-1", 1)
    now[0] = 3600.0 - 300.0 - 0.001  # the margin is 300 s (a tenth of a shorter lifetime)
    assert cache.current() == ("tok-1", 1)
    now[0] = 3600.0 - 300.0
    assert cache.current() == ("tok-2", 2)


def test_a_401_drops_the_token_once_for_a_burst() -> None:
    issuer = Issuer()
    cache = TokenCache(issuer, time.monotonic)
    _, generation = cache.current()
    cache.drop(generation)
    assert cache.current() == ("tok-2", 2)
    cache.drop(generation)  # a late 401 of the same burst: the new token stays
    assert cache.current() == ("tok-2", 2)
    assert issuer.issued == 2


def test_recent_tokens_are_known_even_after_close() -> None:
    cache = TokenCache(Issuer(), time.monotonic)
    for _ in range(6):
        _, generation = cache.current()
        cache.drop(generation)
    cache.forget()
    assert cache.known() == ["tok-3", "tok-4", "tok-5", "tok-6"]


def test_a_failing_fetch_can_still_name_the_known_tokens() -> None:
    """The client's error message scrubs tokens while the fetch holds the lock."""
    cache: TokenCache

    def failing() -> tuple[str, float]:
        raise RuntimeError(f"refused; known {cache.known()}")

    cache = TokenCache(failing, time.monotonic)
    with pytest.raises(RuntimeError, match=r"known \[\]"):
        cache.current()


@pytest.mark.parametrize(("value", "expected"), [
    (43200, 43200.0), ("3600", 3600.0), (0, 0.0), (None, 60.0), ("soon", 60.0), (-5, 60.0),
    ("inf", 60.0), (float("nan"), 60.0),
])
def test_lifetime_is_read_leniently(value: object, expected: float) -> None:
    assert token_lifetime(value, 60.0) == expected
