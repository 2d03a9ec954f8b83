"""The client-side rate limit: sliding windows counted from replies, slowing down on a 429.

The server counts a call when it reaches its handler: some instant between the moment the
client sends it and the moment the reply comes back. Counting a call from its *send* time
(as this limiter once did, with a 2 % margin: 20 ms in a 1 s window) leaves the two clocks to
agree within the margin, and on a busy machine they do not: a call stalled for 30 ms on its
way (thread descheduled, GIL, network jitter) reaches the server late, the calls after it go
out on time, and the server sees ``n + 1`` calls in its window. So each call holds its slot
until its reply has come back and is counted from then, the latest instant the server can
have counted it: the windows then hold whatever happened on the way, at the cost of one
round trip per ``n`` calls. A call still in flight counts as arriving any moment.

On a 429 anyway (a server counting differently, several clients on one key), the limiter
halves its pace (multiplicative decrease) and holds every call for the reply's Retry-After;
each run of ``recover_after`` answered calls gives back a tenth of the configured rate
(additive increase) until the configured windows alone decide again.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Call:
    """One call's slot, from :meth:`RateLimiter.call`: say how the server answered."""

    __slots__ = ("outcome", "retry_after")

    def __init__(self) -> None:
        self.outcome: str | None = None  # None: no reply (timeout, dropped connection)
        self.retry_after: float | None = None

    def answered(self) -> None:
        """The server answered (anything but 429): counts towards the recovery."""
        self.outcome = "answered"

    def refused(self, retry_after: float | None = None) -> None:
        """The server refused the call with 429 (and maybe a Retry-After in seconds)."""
        self.outcome = "refused"
        self.retry_after = retry_after


class RateLimiter:
    """At most ``n`` calls in any sliding window of ``seconds``, for every (n, seconds).

    Windows are stretched by ``margin`` (2 % by default: 2 calls per 1.02 s). Calls taken
    with :meth:`call` are counted from their reply; :meth:`acquire` counts from the moment it
    returns (a call whose reply is not awaited). ``factor`` is the adaptive share of the
    configured rate (1.0 until a 429). Thread-safe; the clock and sleep are injectable.
    """

    def __init__(
        self,
        limits: list[tuple[int, float]],
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        decrease: float = 0.5,
        min_factor: float = 0.125,
        increase: float = 0.1,
        recover_after: int = 10,
    ):
        if not limits or any(n < 1 or s <= 0 for n, s in limits):
            raise ValueError("limits must be (calls >= 1, seconds > 0) pairs")
        check_margin(margin, "margin")
        if not (0 < decrease < 1 and 0 < min_factor <= 1 and 0 < increase <= 1):
            raise ValueError("decrease must be in (0, 1), min_factor and increase in (0, 1]")
        if recover_after < 1:
            raise ValueError("recover_after must be at least 1")
        self.margin = float(margin)
        self.limits = [(int(n), float(s) * (1 + margin)) for n, s in limits]
        self.rate = min(n / s for n, s in self.limits)  # calls/s the windows allow over time
        self.decrease, self.min_factor = decrease, min_factor
        self.increase, self.recover_after = increase, recover_after
        self._clock, self._sleep = clock, sleep
        self._ends: deque[float] = deque(maxlen=max(n for n, _ in self.limits))
        self._in_flight = 0
        self._last_start = -math.inf
        self._hold_until = -math.inf
        self._streak = 0
        self._cond = threading.Condition()
        self.factor = 1.0
        self.lowest_factor = 1.0  # the slowest pace a 429 brought it to
        self.waited_s = 0.0
        self.refusals = 0  # 429s reported through call()

    @classmethod
    def per(cls, per_second: float, per_minute: int, margin: float = 0.02) -> RateLimiter:
        """Cademi's two limits. A server counting a sliding second allows floor(rate) calls in
        any second, so 2.5/s becomes 2 per second; below 1/s, one call per 1/rate seconds."""
        if per_second >= 1:
            n, window = int(per_second), 1.0
        else:
            n, window = 1, 1 / per_second
        return cls([(n, window), (int(per_minute), 60.0)], margin=margin)

    # ---- taking a slot ---------------------------------------------------------------------
    def _wait_needed(self, now: float) -> float | None:
        """Seconds until a call may go; None while ``n`` calls of some window are in flight."""
        wait = self._hold_until - now
        if self.factor < 1:  # slowed down: calls evenly spaced at factor x the configured rate
            wait = max(wait, self._last_start + 1 / (self.rate * self.factor) - now)
        ends = self._ends
        for n, window in self.limits:
            back = n - self._in_flight  # in-flight calls are the newest: any moment now
            if back <= 0:
                return None
            if len(ends) >= back:
                wait = max(wait, ends[-back] + window - now)
        return wait

    def _take(self) -> float:
        """Wait for a slot and mark a call in flight; the caller holds ``_cond``."""
        while True:
            now = self._clock()
            wait = self._wait_needed(now)
            if wait is None:
                self._cond.wait(timeout=1.0)  # a reply (from another thread) frees a slot
            elif wait <= 0:
                self._in_flight += 1
                self._last_start = now
                return now
            else:  # sleeping with the lock held keeps waiting callers in order
                self.waited_s += wait
                self._sleep(wait)

    def _end(self, now: float) -> None:
        self._in_flight -= 1
        self._ends.append(max(now, self._ends[-1]) if self._ends else now)
        self._cond.notify_all()

    def acquire(self) -> None:
        """Take a slot for a call counted from now (its reply is not awaited)."""
        with self._cond:
            self._end(self._take())

    @contextmanager
    def call(self) -> Iterator[Call]:
        """Hold a slot for one call, counted from when the block ends (its reply)::

        with limiter.call() as call:
            resp = session.get(url)
            call.refused(retry_after) if resp.status_code == 429 else call.answered()
        """
        with self._cond:
            self._take()
        call = Call()
        try:
            yield call
        finally:
            with self._cond:
                now = self._clock()
                self._end(now)
                if call.outcome == "refused":
                    self._slow_down(now, call.retry_after)
                elif call.outcome == "answered":
                    self._recover()

    # ---- adapting to the server ------------------------------------------------------------
    def _slow_down(self, now: float, retry_after: float | None) -> None:
        self.refusals += 1
        self.factor = max(self.min_factor, self.factor * self.decrease)
        self.lowest_factor = min(self.lowest_factor, self.factor)
        self._streak = 0
        if retry_after is not None and retry_after > 0:
            self._hold_until = max(self._hold_until, now + retry_after)

    def _recover(self) -> None:
        if self.factor >= 1:
            return
        self._streak += 1
        if self._streak >= self.recover_after:
            self._streak = 0
            self.factor = min(1.0, round(self.factor + self.increase, 9))


def check_margin(value: object, name: str) -> float:
    """A safety margin: a number from 0 to 1 (the share by which the windows are stretched)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"{name} must be a number from 0 to 1 (the share by which the client stretches "
            f"Cademi's windows, e.g. 0.02 for 2 calls per 1.02 s), got {value!r}"
        )
    return float(value)
