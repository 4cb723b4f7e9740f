"""One OAuth access token shared by every thread of an API client (Go1's and 360Learning's).

Both APIs issue client-credentials tokens with an ``expires_in`` and may revoke one early (a
401). The rules are the same on both sides, so they live here once: the token is fetched
under a lock (one fetch serves every thread waiting for it), renewed a margin before it
expires so no call leaves with a dying token, and dropped after a 401 only if no other thread
has replaced it already (a generation number tells), so a burst of 401s costs one new token.
Recent tokens are remembered so that error messages can be scrubbed of them, whatever an API
echoes back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

MAX_MARGIN = 300.0  # renew at most this long before expiry (a tenth of a short lifetime)
_REMEMBERED = 4  # tokens kept for scrubbing: the current one and the last few


def token_lifetime(value: Any, default: float) -> float:
    """``expires_in`` in seconds (APIs send it as a number or a string), else ``default``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if 0 <= seconds < float("inf") else default


class TokenCache:
    """``fetch`` returns ``(token, lifetime in seconds)`` and raises the client's own error."""

    def __init__(self, fetch: Callable[[], tuple[str, float]],
                 clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        # Re-entrant: a failing fetch builds its error message, which scrubs with known().
        self._lock = threading.RLock()
        self._token: str | None = None
        self._expires = 0.0
        self._generation = 0
        self._seen: list[str] = []

    def current(self) -> tuple[str, int]:
        """The shared token and its generation; fetched here, under the lock, when missing."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires:
                asked = self._clock()
                token, lifetime = self._fetch()
                self._token = token
                self._expires = asked + lifetime - min(MAX_MARGIN, lifetime / 10)
                self._generation += 1
                self._seen = [*self._seen[1 - _REMEMBERED:], token]
            return self._token, self._generation

    def drop(self, generation: int) -> None:
        """Forget the token after a 401, unless another thread has already replaced it."""
        with self._lock:
            if generation == self._generation:
                self._token = None

    def forget(self) -> None:
        """The client is closing: no call may use the token again."""
        with self._lock:
            self._token = None

    def known(self) -> list[str]:
        """Every token worth scrubbing from a message: the current one and the last few."""
        with self._lock:
            return list(self._seen)
