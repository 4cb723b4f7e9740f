"""A thread-safe sliding-window rate limiter: at most ``rate`` starts in any ``per`` seconds.

360Learning counts requests per customer platform (50 GET/s, 10 writes/s). A token bucket of
the same rate would allow nearly twice that inside one second (a full bucket spent, then
refilled), so the limiter keeps the start times of the last ``rate`` calls instead and lets a
call start only once the ``rate``-th call before it is ``per`` seconds old. Each caller reserves
its start time under the lock and waits outside it, so waiting threads neither hold the lock
nor overtake each other (first come, first served). Clock and sleep are injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """``with limiter.slot(): send()`` starts at most ``rate`` sends per ``per`` seconds."""

    def __init__(self, rate: int, per: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        if per <= 0:
            raise ValueError("per must be a positive number of seconds")
        self.rate = rate
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque(maxlen=rate)
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting in total, for reports and tests

    def acquire(self) -> float:
        """Wait until a call may start; the wait in seconds (0 when there was room)."""
        with self._lock:
            now = self._clock()
            start = now
            if len(self._starts) == self.rate:
                start = max(now, self._starts[0] + self.per)
            self._starts.append(start)  # reservations only grow, so the deque stays sorted
            wait = start - now
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    @contextmanager
    def slot(self) -> Iterator[float]:
        """A context in which one call may run; yields the time waited for it."""
        yield self.acquire()
