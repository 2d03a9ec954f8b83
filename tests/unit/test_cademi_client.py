"""The Cademi API client: rate limiter (fake clock), percentages, and real HTTP against the simulator."""

from __future__ import annotations

import datetime
import math
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from painel.progress.cademi import (
    AuthFailed,
    BusinessError,
    CademiClient,
    CademiError,
    Malformed,
    RateLimiter,
    Unavailable,
    parse_percentage,
)
from painel.progress.simulator import CademiSimulator

ANCHOR = datetime.date(2025, 3, 10)  # a Monday
AS_OF = datetime.datetime(2025, 3, 12, 15, 30)  # São Paulo local time
KEY = "zz-Distinctive-Key-8c1e-DO-NOT-LEAK"
OPEN = {"per_second": 10_000.0, "per_minute": 1_000_000}  # limits no test here reaches by accident
FAST = {
    "per_second": 1000.0,
    "per_minute": 100_000,
    "backoff_s": 0.01,
    "max_backoff_s": 0.05,
    "timeout_s": 5.0,
}

MakeSim = Callable[..., CademiSimulator]


# --------------------------------------------------------------------------- rate limiter


class FakeClock:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self, start: float = 1000.0):
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.t += seconds


def acquire_times(limiter: RateLimiter, clock: FakeClock, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        limiter.acquire()
        times.append(clock.t)
    return times


def assert_within_limits(times: list[float], limits: list[tuple[int, float]]) -> None:
    """No ``n + 1`` acquisitions inside any window of ``seconds`` (the stretched window)."""
    for n, seconds in limits:
        for i in range(len(times) - n):
            assert times[i + n] - times[i] >= seconds - 1e-9, (
                f"{n + 1} acquisitions within {times[i + n] - times[i]:.4f}s < {seconds}s (limit {n}/{seconds}s)"
            )


def test_limiter_keeps_both_cademi_limits_over_500_calls() -> None:
    clock = FakeClock()
    limiter = RateLimiter([(2, 1.0), (120, 60.0)], clock=clock, sleep=clock.sleep)
    times = acquire_times(limiter, clock, 500)
    # windows stretched by the default 2 % margin
    assert limiter.limits == [(2, pytest.approx(1.02)), (120, pytest.approx(61.2))]
    assert_within_limits(times, [(2, 1.02), (120, 61.2)])
    # and the plain limits the server counts hold too
    assert_within_limits(times, [(2, 1.0), (120, 60.0)])
    # minimal: about calls / (120 per 61.2 s), not more than a few percent above
    total = times[-1] - times[0]
    ideal = (500 - 1) / (120 / 61.2)
    assert ideal * 0.97 <= total <= ideal * 1.03, (total, ideal)
    assert limiter.waited_s == pytest.approx(sum(clock.sleeps))
    assert limiter.waited_s == pytest.approx(total)


def test_limiter_waits_end_exactly_when_a_slot_frees() -> None:
    clock = FakeClock()
    limits = [(2, 1.0), (120, 60.0)]
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    times = acquire_times(limiter, clock, 300)
    stretched = [(n, s * 1.02) for n, s in limits]
    for i in range(1, len(times)):
        if times[i] == times[i - 1]:
            continue  # went through at once
        # it waited: some limit was binding, and it went the instant that window allowed
        assert any(
            i >= n and times[i] - times[i - n] == pytest.approx(s, abs=1e-6) for n, s in stretched
        ), i
    # the first two go through at once
    assert times[0] == times[1] == 1000.0


@pytest.mark.parametrize(
    ("per_second", "per_minute", "calls", "burst", "window"),
    [
        (2.0, 120, 200, 2, 1.0),
        (0.5, 120, 60, 1, 2.0),  # fractional below 1: one call every 2 s
        (0.25, 120, 30, 1, 4.0),
        (2.5, 150, 200, 2, 1.0),  # a sliding second allows floor(rate) calls: 2 per second
        (5.0, 300, 400, 5, 1.0),
        (1.0, 30, 100, 1, 1.0),
    ],
)
def test_limiter_per_handles_fractional_and_integer_rates(
    per_second: float, per_minute: int, calls: int, burst: int, window: float
) -> None:
    clock = FakeClock()
    limiter = RateLimiter.per(per_second, per_minute)
    assert limiter.limits == [
        (burst, pytest.approx(window * 1.02)),
        (per_minute, pytest.approx(61.2)),
    ]
    limiter._clock, limiter._sleep = (
        clock,
        clock.sleep,
    )  # inject the fake clock into the factory's limiter
    times = acquire_times(limiter, clock, calls)
    assert_within_limits(times, [(burst, window * 1.02), (per_minute, 61.2)])
    if True:  # the server's own 1 s window never sees more than the rate
        for i in range(len(times)):
            in_1s = sum(1 for t in times[i:] if t - times[i] < 1.0)
            assert in_1s <= max(1, int(per_second)), (i, in_1s)
    # and close to the allowed rate: the slower of the two, stretched by the 2 % margin
    rate = min(max(1, int(per_second)) if per_second >= 1 else per_second, per_minute / 60.0) / 1.02
    ideal = (calls - 1) / rate
    total = times[-1] - times[0]
    assert ideal * 0.9 <= total <= ideal * 1.04 + window, (total, ideal)


def test_limiter_per_half_a_call_per_second_is_one_call_every_two_seconds() -> None:
    limiter = RateLimiter.per(0.5, 120)
    assert limiter.limits[0] == (1, pytest.approx(2.04))
    clock = FakeClock()
    limiter._clock, limiter._sleep = clock, clock.sleep
    times = acquire_times(limiter, clock, 20)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [pytest.approx(2.04)] * 19


def test_limiter_rejects_bad_limits() -> None:
    for limits in ([], [(0, 1.0)], [(2, 0.0)], [(2, -1.0)]):
        with pytest.raises(ValueError, match="limits"):
            RateLimiter(limits)


def test_limiter_is_thread_safe() -> None:
    clock = FakeClock()
    lock = threading.Lock()
    limiter = RateLimiter([(3, 1.0), (20, 10.0)], clock=clock, sleep=clock.sleep)
    times: list[float] = []

    def worker() -> None:
        for _ in range(40):
            limiter.acquire()
            with lock:
                times.append(clock.t)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(times) == 160
    assert_within_limits(sorted(times), [(3, 1.02), (20, 10.2)])


# --------------------------------------------------------------------------- percentages


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("41.7%", 41.7),
        ("100.0%", 100.0),
        ("0%", 0.0),
        ("7,5%", 7.5),
        (" 12.25 % ", 12.25),
        ("55", 55.0),
        (30, 30.0),
        (0, 0.0),
        (100, 100.0),
        (41.5, 41.5),
    ],
)
def test_parse_percentage_accepts(value: Any, expected: float) -> None:
    assert parse_percentage(value, "progress of student 1 in product 2") == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        "abc%",
        "",
        None,
        "150%",
        "-1%",
        True,
        False,
        "100.1%",
        "1000%",
        -1,
        100.5,
        float("nan"),
        "%",
        [41.7],
    ],
)
def test_parse_percentage_refuses(value: Any) -> None:
    what = "progress of student 1234 in product 2101"
    with pytest.raises(Malformed) as info:
        parse_percentage(value, what)
    assert str(info.value).startswith(what + ": progress 'total'")
    assert repr(value) in str(info.value)


# --------------------------------------------------------------------------- client against the simulator


@pytest.fixture
def make_sim(sim_factory: Any) -> MakeSim:
    def make(**kwargs: Any) -> CademiSimulator:
        return sim_factory(
            **{"students": 60, "key": KEY, "anchor": ANCHOR, "as_of": AS_OF, **OPEN, **kwargs}
        )

    return make


@pytest.fixture
def clients() -> Iterator[Callable[..., CademiClient]]:
    made: list[CademiClient] = []

    def make(sim: CademiSimulator, key: str = KEY, **kwargs: Any) -> CademiClient:
        client = CademiClient(sim.base_url, key, **{**FAST, **kwargs})
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


def test_users_by_tag_follows_three_or_more_pages(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim(students=1000, classes=2)
    expected = sim.world.member_ids(5001, AS_OF)
    assert len(expected) > 300  # three pages of 150 at least
    client = clients(sim)
    users = client.users_by_tag(5001)
    ids = [u["id"] for u in users]
    assert len(ids) == len(set(ids)), "a member came twice"
    assert sorted(ids) == expected
    pages = math.ceil(len(expected) / 150)
    assert pages >= 3
    assert sim.stats()["by_endpoint"]["lista_por_tag"] == pages
    assert client.stats.calls == pages and client.stats.retries == 0


def test_products_follow_pages(make_sim: MakeSim, clients: Callable[..., CademiClient]) -> None:
    sim = make_sim()
    client = clients(sim)
    products = client.products()
    assert [p["id"] for p in products] == [p.id for p in sim.world.products]
    assert len(products) == 20
    assert sim.stats()["by_endpoint"]["produto"] == 2  # 15 per page


def test_tags_and_progress(make_sim: MakeSim, clients: Callable[..., CademiClient]) -> None:
    sim = make_sim()
    client = clients(sim)
    assert {t["id"] for t in client.tags()} == {t for t, _ in sim.world.tags}
    assert client.tag_exists(5001) and not client.tag_exists(4242)
    uid = next(s.id for s in sim.world.students if s.pace > 0)
    p = client.progress(uid, 2101)
    pct, watched, completed = sim.world.progress(uid, 2101, AS_OF)
    assert (p.pct, p.watched, p.completed) == (pytest.approx(pct), watched, completed)


def test_empty_or_malformed_key_is_refused_before_any_call(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    for key in ("", "abc\ndef", "abc def", "abc\x00"):
        with pytest.raises(AuthFailed, match="empty or holds spaces or control characters") as info:
            clients(sim, key=key)
        assert key.strip() == "" or key not in str(info.value)
    assert sim.stats()["requests"] == 0


def test_no_key_header_is_403_auth_failed_and_not_retried(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    client = clients(sim)
    del client.session.headers["Authorization"]
    with pytest.raises(AuthFailed, match=r"^GET /tag: .*403"):
        client.tags()
    assert sim.stats()["requests"] == 1
    assert sim.stats()["by_status"] == {403: 1}
    assert client.stats.calls == 1 and client.stats.retries == 0


def test_header_removed_is_403(make_sim: MakeSim, clients: Callable[..., CademiClient]) -> None:
    sim = make_sim()
    client = clients(sim)
    del client.session.headers["Authorization"]
    with pytest.raises(AuthFailed, match="403"):
        client.tags()
    assert sim.stats()["requests"] == 1


def test_wrong_key_is_405_auth_failed_and_not_retried(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    client = clients(sim, key="not-the-key")
    with pytest.raises(AuthFailed, match=r"405.*check the key"):
        client.users_by_tag(5001)
    assert sim.stats()["requests"] == 1
    assert sim.stats()["by_status"] == {405: 1}
    assert client.stats.retries == 0


def test_unknown_tag_is_business_error_with_cademis_message(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    client = clients(sim)
    with pytest.raises(BusinessError) as info:
        client.users_by_tag(4242)
    assert info.value.msg == "Tag não encontrada"
    assert "GET /usuario/lista_por_tag/4242" in str(info.value)
    assert "409" in str(info.value)
    assert sim.stats()["requests"] == 1  # a business error is not retried


def test_unknown_user_progress_is_business_error(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    uid = sim.world.students[0].id
    sim.unknown_users = {uid}
    client = clients(sim)
    with pytest.raises(BusinessError) as info:
        client.progress(uid, 2101)
    assert info.value.msg == "Usuário não encontrado"
    assert f"progress of student {uid} in product 2101" in str(info.value)


def test_transient_faults_are_retried_until_success(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    sim.faults.script.extend(["5xx", "drop", "malformed", "ok"])
    client = clients(sim)
    items = client.tags()
    assert {t["id"] for t in items} == {t for t, _ in sim.world.tags}
    assert client.stats.retries == 3
    assert client.stats.calls == 4
    reasons = client.stats.by_reason
    assert sum(reasons.values()) == 3
    assert reasons["connection dropped"] == 1
    assert reasons["unreadable reply (not JSON)"] == 1
    assert [r for r in reasons if r.startswith("HTTP 5")], reasons
    assert sim.stats()["requests"] == 4
    assert sim.stats()["faults"] == {"5xx": 1, "drop": 1, "malformed": 1}


def test_timeout_is_retried(make_sim: MakeSim, clients: Callable[..., CademiClient]) -> None:
    sim = make_sim()
    sim.faults.slow_seconds = 1.0
    sim.faults.script.extend(["slow", "ok"])
    client = clients(sim, timeout_s=0.2)
    assert client.tags()
    assert client.stats.by_reason == {"timeout": 1}


def test_retries_exhausted_is_unavailable_naming_the_call(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    uid = sim.world.students[0].id
    sim.faults.script.extend(["5xx", "drop", "5xx"])
    client = clients(sim, retries=3)
    with pytest.raises(Unavailable) as info:
        client.progress(uid, 2101)
    msg = str(info.value)
    assert msg.startswith(f"progress of student {uid} in product 2101: ")
    assert "after 3 attempts" in msg
    assert sim.stats()["requests"] == 3
    assert client.stats.retries == 2  # the last failure is raised, not slept on


def test_client_overrunning_the_server_recovers_from_429(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim(per_second=2, per_minute=1000)
    client = clients(
        sim, per_second=1000, per_minute=100_000, retries=15, backoff_s=0.05, max_backoff_s=0.3
    )
    for _ in range(4):
        assert client.tags()
    stats = sim.stats()
    assert stats["refused"] >= 1, "the client never overran the server: the test proves nothing"
    assert client.stats.by_reason.get("429 rate limit") == stats["refused"]
    assert stats["by_status"][429] == stats["refused"]
    assert stats["by_status"][200] == 4
    assert stats["max_in_1s"] <= 2


def test_client_at_the_servers_limits_is_never_refused(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim(per_second=5, per_minute=300)
    client = clients(sim, per_second=5, per_minute=300, retries=1)
    # open the keep-alive connection first (control routes are neither limited nor counted), so
    # that the first call's TCP handshake does not delay its arrival into the next call's window
    assert client.session.get(f"http://127.0.0.1:{sim.port}/_sim/stats", timeout=5).ok
    for _ in range(20):
        assert client.tags()
    stats = sim.stats()
    assert stats["refused"] == 0
    assert stats["accepted"] == 20
    assert stats["max_in_1s"] <= 5
    assert client.stats.retries == 0
    assert client.limiter.waited_s > 2.0  # it did pace itself (20 calls at 5 per 1.02 s)


# --------------------------------------------------------------------------- the key never leaks


def _assert_no_key(exc: BaseException, key: str) -> None:
    text = "".join(traceback.format_exception(exc))
    assert key not in str(exc)
    assert key not in repr(exc)
    assert key not in text


def test_key_never_in_repr(make_sim: MakeSim, clients: Callable[..., CademiClient]) -> None:
    sim = make_sim()
    client = clients(sim)
    assert KEY not in repr(client)
    assert KEY not in str(client)
    assert sim.base_url in repr(client)


@pytest.mark.parametrize(
    "failure", ["auth", "unavailable", "business", "malformed", "other_host", "no_key"]
)
def test_key_never_in_any_error(
    failure: str, make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    uid = next(s.id for s in sim.world.students if s.pace > 0)
    expected: type[CademiError] = CademiError
    if failure == "auth":
        sim.key = "the-servers-real-key"
        expected = AuthFailed
        call: Callable[[], object] = lambda: clients(sim).tags()  # noqa: E731
    elif failure == "no_key":
        expected = AuthFailed
        call = lambda: clients(sim, key="").tags()  # noqa: E731
    elif failure == "unavailable":
        sim.faults.script.extend(["5xx", "5xx"])
        expected = Unavailable
        call = lambda: clients(sim, retries=2).progress(uid, 2101)  # noqa: E731
    elif failure == "business":
        expected = BusinessError
        call = lambda: clients(sim).users_by_tag(4242)  # noqa: E731
    elif failure == "malformed":
        sim.malformed_progress = {(uid, 2101)}
        expected = Malformed
        call = lambda: clients(sim).progress(uid, 2101)  # noqa: E731
    else:
        call = lambda: clients(sim).get(f"http://evil.example/api/v1/usuario?key={KEY[:4]}")  # noqa: E731
    with pytest.raises(expected) as info:
        call()
    _assert_no_key(info.value, KEY)


# --------------------------------------------------------------------------- page links


def test_page_link_to_another_host_is_refused(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim(students=400, classes=2)
    assert len(sim.world.member_ids(5001, AS_OF)) > 150  # at least two pages
    client = clients(sim)
    # the simulator builds next_page_url from the Host header: make it name another host
    client.session.headers["Host"] = "evil.example:80"
    with pytest.raises(CademiError, match="another host: http://evil.example:80/") as info:
        client.users_by_tag(5001)
    assert type(info.value) is CademiError
    assert sim.stats()["requests"] == 1  # the first page only; the foreign link was never followed


def test_absolute_url_to_another_host_is_refused_before_any_call(
    make_sim: MakeSim, clients: Callable[..., CademiClient]
) -> None:
    sim = make_sim()
    client = clients(sim)
    other = sim.base_url.replace("127.0.0.1", "localhost")  # same server, another host name
    with pytest.raises(CademiError, match="another host"):
        client.get(other + "/tag")
    assert sim.stats()["requests"] == 0
    assert client.stats.calls == 0
    # the API's own absolute URLs are followed
    assert client.get(sim.base_url + "/tag")["itens"]


def test_page_link_downgrading_https_to_http_is_refused(make_sim: MakeSim) -> None:
    sim = make_sim()
    # the client talks https to host:port; the simulator answers plain http on that same host:port
    client = CademiClient(
        sim.base_url.replace("http://", "https://"), KEY, **{**FAST, "retries": 1}
    )
    try:
        with pytest.raises(CademiError):
            client.get(
                sim.base_url + "/tag"
            )  # what a Laravel app behind a TLS proxy may put in next_page_url
        assert sim.stats()["requests"] == 0, "the key was sent over plain http"
    finally:
        client.close()
