"""The client-side rate limit: a sliding-window limiter for every documented window.

Every attempt (retries included) takes a slot before it is sent; windows are stretched by a
small margin so that the server, which counts arrivals, never sees more than the limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``n`` acquisitions in any sliding window of ``seconds``, for every (n, seconds).

    Windows are stretched by ``margin`` (2 % by default) so that the server, which counts
    arrivals rather than departures, never sees more than the limit. Thread-safe.
    """

    def __init__(
        self,
        limits: list[tuple[int, float]],
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not limits or any(n < 1 or s <= 0 for n, s in limits):
            raise ValueError("limits must be (calls >= 1, seconds > 0) pairs")
        self.limits = [(int(n), float(s) * (1 + margin)) for n, s in limits]
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque(maxlen=max(n for n, _ in self.limits))
        self._lock = threading.Lock()
        self.waited_s = 0.0

    @classmethod
    def per(cls, per_second: float, per_minute: int, margin: float = 0.02) -> RateLimiter:
        """Cademi's two limits. A server counting a sliding second allows floor(rate) calls in
        any second, so 2.5/s becomes 2 per second; below 1/s, one call per 1/rate seconds."""
        if per_second >= 1:
            n, window = int(per_second), 1.0
        else:
            n, window = 1, 1 / per_second
        return cls([(n, window), (int(per_minute), 60.0)], margin=margin)

    def _wait_needed(self, now: float) -> float:
        wait = 0.0
        sent = self._sent
        for n, window in self.limits:
            if len(sent) >= n:
                oldest_in_window = sent[-n]
                wait = max(wait, oldest_in_window + window - now)
        return wait

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                self.waited_s += wait
                self._sleep(wait)
