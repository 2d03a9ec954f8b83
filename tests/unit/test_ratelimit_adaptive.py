"""The Cademi rate limiter on a busy machine: calls counted from their reply, a 429 slows it down.

Every test runs on a fake clock (no real waiting) and judges the calls' arrival times with the
simulator's own server-side windows, the logic that answers 429 in the benchmarks.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from painel.progress import settings as st
from painel.progress.cademi import CademiClient, RateLimiter
from painel.progress.cademi.client import retry_after
from painel.progress.simulator.server import _RateLimiter as ServerWindows


class FakeClock:
    """A monotonic clock that moves only when the limiter sleeps or a test advances it."""

    def __init__(self, start: float = 1000.0):
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.t += seconds


def limiter_on(clock: FakeClock, per_second: float = 2.0, per_minute: int = 120) -> RateLimiter:
    limiter = RateLimiter.per(per_second, per_minute)
    limiter._clock, limiter._sleep = clock, clock.sleep
    return limiter


def arrivals(
    limiter: RateLimiter,
    clock: FakeClock,
    calls: int,
    on_the_way: Callable[[int], float],
    *,
    counted_from_reply: bool = True,
    back: float = 0.005,
) -> list[float]:
    """One call at a time: each spends ``on_the_way(i)`` s before the server counts it (the
    client descheduled, the network), then ``back`` s until its reply. With
    ``counted_from_reply=False`` the slot is taken with ``acquire()``, counted from the send
    (how the limiter worked before)."""
    times = []
    for i in range(calls):
        if counted_from_reply:
            with limiter.call() as call:
                clock.t += on_the_way(i)
                times.append(clock.t)
                clock.t += back
                call.answered()
        else:
            limiter.acquire()
            clock.t += on_the_way(i)
            times.append(clock.t)
            clock.t += back
    return times


def refused_by_server(times: list[float], per_second: float, per_minute: int) -> int:
    server = ServerWindows(per_second, per_minute)
    return sum(not server.try_accept(t) for t in times)


# --------------------------------------------------------------------------- the cause


@pytest.mark.parametrize(("per_second", "per_minute"), [(2.0, 120), (100.0, 6000)])
def test_a_call_stalled_on_its_way_does_not_bunch_up_with_the_next_ones(
    per_second: float, per_minute: int
) -> None:
    """The process is descheduled for 0.3 s between taking a slot and the call reaching the
    server: counted from the send, the calls after it reach the server in the same second."""

    def stall(i: int) -> float:
        return 0.3 if i in (7, 250) else 0.001

    calls = 400
    clock = FakeClock()
    old = arrivals(
        limiter_on(clock, per_second, per_minute), clock, calls, stall, counted_from_reply=False
    )
    assert refused_by_server(old, per_second, per_minute) >= 1, "the stall did not reproduce"
    clock = FakeClock()
    new = arrivals(limiter_on(clock, per_second, per_minute), clock, calls, stall)
    assert refused_by_server(new, per_second, per_minute) == 0


@pytest.mark.parametrize(
    ("per_second", "per_minute", "calls", "hiccup"),
    [(2.0, 120, 300, 0.3), (100.0, 6000, 3000, 0.1), (0.5, 120, 40, 1.0)],
)
def test_no_refusal_whatever_the_delays_on_the_way(
    per_second: float, per_minute: int, calls: int, hiccup: float
) -> None:
    """A busy machine: most calls reach the server in 0.5 ms, one in 20 after a hiccup."""
    rng = random.Random(8)
    delays = [rng.uniform(0.02, hiccup) if rng.random() < 0.05 else 0.0005 for _ in range(calls)]
    clock = FakeClock()
    old = arrivals(
        limiter_on(clock, per_second, per_minute),
        clock,
        calls,
        delays.__getitem__,
        counted_from_reply=False,
        back=0.001,
    )
    assert refused_by_server(old, per_second, per_minute) >= 1
    clock = FakeClock()
    limiter = limiter_on(clock, per_second, per_minute)
    new = arrivals(limiter, clock, calls, delays.__getitem__, back=0.001)
    assert refused_by_server(new, per_second, per_minute) == 0
    assert limiter.factor == 1.0  # nothing was refused: the pace was never cut


def test_after_a_long_stall_no_more_than_the_window_goes_at_once() -> None:
    """Idle time is not banked: after 10 s without calls, 2 go at once, then 2 per 1.02 s."""
    clock = FakeClock()
    limiter = limiter_on(clock)
    arrivals(limiter, clock, 6, lambda i: 0.0, back=0.0)
    clock.t += 10.0  # the process was descheduled, or had nothing to do
    start = clock.t
    times = arrivals(limiter, clock, 8, lambda i: 0.0, back=0.0)
    assert [round(t - start, 6) for t in times] == [0, 0, 1.02, 1.02, 2.04, 2.04, 3.06, 3.06]


def test_calls_in_flight_hold_their_slots() -> None:
    """From several threads: a slot is free again only a window after the reply came."""
    limiter = RateLimiter([(1, 0.05)], margin=0.0)
    replied: list[float] = []
    started = threading.Event()

    def slow_call() -> None:
        with limiter.call() as call:
            started.set()
            time.sleep(0.2)
            call.answered()
            replied.append(time.monotonic())

    thread = threading.Thread(target=slow_call)
    thread.start()
    assert started.wait(5)
    with limiter.call() as call:
        sent = time.monotonic()
        call.answered()
    thread.join(5)
    assert sent >= replied[0] + 0.05 - 0.002


# --------------------------------------------------------------------------- adaptive pace


def starts(limiter: RateLimiter, clock: FakeClock, outcomes: str) -> list[float]:
    """A call per letter: ``a`` answered, ``r`` refused (429), ``-`` no reply (timeout)."""
    out = []
    for o in outcomes:
        with limiter.call() as call:
            out.append(clock.t)
            if o == "a":
                call.answered()
            elif o == "r":
                call.refused()
    return out


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)]


def test_a_429_halves_the_pace_then_answered_calls_bring_it_back() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)  # 2 per 1.02 s: 1.96 calls/s over time
    starts(limiter, clock, "aaaa")
    assert limiter.factor == 1.0
    starts(limiter, clock, "r")
    assert limiter.factor == 0.5
    assert limiter.refusals == 1
    # at half the pace the calls are evenly spaced: one per 1.02 s, no pair at once
    t = starts(limiter, clock, "a" * 10)
    assert gaps(t) == [1.02] * 9
    assert limiter.factor == pytest.approx(0.6)  # 10 answered calls: a tenth of the rate back
    expected = 0.6
    for _ in range(4):
        t = starts(limiter, clock, "a" * 10)
        assert gaps(t) == [pytest.approx(0.51 / expected, abs=1e-6)] * 9
        expected += 0.1
        assert limiter.factor == pytest.approx(expected)
    assert limiter.factor == 1.0  # exactly: back to the configured rate
    t = starts(limiter, clock, "a" * 6)
    # the windows alone decide again: any two calls apart by one are exactly 1.02 s apart
    assert [round(b - a, 6) for a, b in zip(t, t[2:], strict=False)] == [1.02] * 4
    assert min(gaps(t)) < 0.5  # no longer paced at 0.9 x the rate (one per 0.567 s)


def test_each_429_halves_the_pace_down_to_an_eighth() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    factors = []
    for _ in range(5):
        starts(limiter, clock, "r")
        factors.append(limiter.factor)
    assert factors == [0.5, 0.25, 0.125, 0.125, 0.125]
    assert limiter.refusals == 5
    t = starts(limiter, clock, "aaa")
    assert gaps(t) == [pytest.approx(8 * 0.51)] * 2  # 1/8 of 1.96 calls/s


def test_a_429_in_the_recovery_starts_it_again() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    starts(limiter, clock, "r" + "a" * 9 + "r")
    assert limiter.factor == 0.25  # the 9 answered calls were one short of a step
    starts(limiter, clock, "a" * 9 + "-" + "a")
    assert limiter.factor == pytest.approx(0.35)  # a call with no reply neither cuts nor counts


def test_retry_after_holds_every_call() -> None:
    clock = FakeClock()
    limiter = limiter_on(clock)
    with limiter.call() as call:
        refused_at = clock.t
        call.refused(retry_after=7.5)
    (t,) = starts(limiter, clock, "a")
    assert t == pytest.approx(refused_at + 7.5)


def test_the_adaptive_parameters_are_checked() -> None:
    for bad in ({"decrease": 1.0}, {"min_factor": 0.0}, {"increase": 0.0}, {"recover_after": 0}):
        with pytest.raises(ValueError):
            RateLimiter([(2, 1.0)], **bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the client


class Reply:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status_code, self._body, self.headers = status, body, headers or {}

    def json(self) -> Any:
        return self._body


class ScriptedSession:
    """A ``requests.Session`` stand-in answering from a script; each reply takes ``rtt`` s."""

    def __init__(self, clock: FakeClock, replies: list[Reply], rtt: float = 0.1):
        self.headers: dict[str, str] = {}
        self.clock, self.replies, self.rtt = clock, replies, rtt
        self.sent: list[float] = []

    def get(self, url: str, timeout: float) -> Reply:
        self.sent.append(self.clock.t)
        self.clock.t += self.rtt
        return self.replies.pop(0)

    def close(self) -> None:
        pass


TAGS = {"success": True, "code": 200, "data": {"itens": [{"id": 1}]}}
REFUSED = {"success": False, "code": 429, "msg": "Limite de requisições excedido"}


def test_the_client_reports_429_with_retry_after_and_replies_to_its_limiter() -> None:
    clock = FakeClock()
    session = ScriptedSession(
        clock,
        [Reply(200, TAGS), Reply(429, REFUSED, {"Retry-After": "3"}), Reply(200, TAGS)]
        + [Reply(200, TAGS)] * 3,
    )
    client = CademiClient(
        "https://escola.cademi.com.br/api/v1",
        "k",
        backoff_s=0.001,
        max_backoff_s=5.0,
        session=session,  # type: ignore[arg-type]
    )
    client.limiter._clock, client.limiter._sleep = clock, clock.sleep
    assert client.tags() == [{"id": 1}]
    assert client.tags() == [{"id": 1}]  # refused once, then answered
    assert client.stats.by_reason == {"429 rate limit": 1}
    assert client.limiter.refusals == 1
    assert client.limiter.factor == 0.5
    # the retry waited for Retry-After, counted from the refusal's reply
    assert session.sent[2] == pytest.approx(session.sent[1] + 0.1 + 3.0)
    for _ in range(3):
        client.tags()
    # slowed down: one call per 1.02 s, counted from start to start
    assert gaps(session.sent[2:]) == [pytest.approx(1.02)] * 3


def test_retry_after_values() -> None:
    assert retry_after("3", 60) == 3.0
    assert retry_after("0.5", 60) == 0.5
    assert retry_after("3600", 60) == 60  # capped by the client's longest backoff
    assert retry_after("-4", 60) == 0
    assert retry_after(None, 60) is None
    assert retry_after("soon", 60) is None
    assert retry_after("nan", 60) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) == 0  # a date in the past


# --------------------------------------------------------------------------- the setting


def params(**overrides: Any) -> dict[str, Any]:
    return {
        "base_url": "https://escola.cademi.com.br/api/v1",
        "api_key_env": "CADEMI_API_KEY",
        "tracks": {"analista": {"name": "Analista", "products": [2101]}},
        **overrides,
    }


def test_rate_margin_defaults_to_two_percent_and_reaches_the_limiter() -> None:
    assert st.from_parameters(params()).rate_margin == 0.02
    settings = st.from_parameters(params(rate_margin=0.1))
    assert settings.rate_margin == 0.1
    client = CademiClient(settings.base_url, "k", rate_margin=settings.rate_margin)
    assert client.limiter.limits == [(2, pytest.approx(1.1)), (120, pytest.approx(66.0))]
    assert st.from_parameters(params(rate_margin=0)).rate_margin == 0.0
    assert st.from_parameters(params(rate_margin=1)).rate_margin == 1.0


@pytest.mark.parametrize("value", [-0.01, 1.5, "0.1", True, None, float("nan")])
def test_a_bad_rate_margin_is_refused_naming_the_parameter(value: Any) -> None:
    with pytest.raises(st.SettingsError) as info:
        st.from_parameters(params(rate_margin=value))
    assert str(info.value).startswith("parameter 'rate_margin' must be a number from 0 to 1")
    assert repr(value) in str(info.value)


def test_the_limiter_refuses_a_bad_margin() -> None:
    with pytest.raises(ValueError, match=r"^margin must be a number from 0 to 1"):
        RateLimiter.per(2, 120, margin=2)
