"""Login over a real ``painel serve``: guessers are slowed per client and per account, the owner
still gets in, passwords are checked off the event loop, and next= never breaks the redirect.

The module's server trusts 127.0.0.1 as its reverse proxy
(``PainelIdentityProvider.trusted_proxies``), so each test plays its own clients through
``X-Forwarded-For``; one test starts a server that trusts no proxy.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from painel import auth
from painel.opstate import iso, utcnow
from painel_testing import DEMO_PASSWORDS, Server, painel, start_server

pytestmark = [pytest.mark.timeout(240)]

TRUST_LOOPBACK = {"PainelIdentityProvider": {"trusted_proxies": ["127.0.0.1", "::1"]}}
TIMEOUT = 20  # every request's deadline; a login is ~0.3 s of CPU on a busy test machine


def demo_home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    home = tmp_path_factory.mktemp(name)
    painel(home, "demo", "prepare", "--no-data")  # the logins; no data is needed here
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_home(tmp_path_factory, "home")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    srv = start_server(home, config=TRUST_LOOPBACK, preheat=False)
    yield srv
    srv.stop()


def xsrf(server: Server) -> str:
    r = requests.get(server.base + "/login", timeout=TIMEOUT)
    assert r.status_code == 200
    return r.cookies["_xsrf"]


def post_login(
    server: Server,
    username: str,
    password: str,
    client: str | None = None,
    next_url: str | None = None,
    token: str | None = None,
    timeout: float = TIMEOUT,
) -> requests.Response:
    """One login form post, as from ``client`` (X-Forwarded-For through the trusted proxy)."""
    token = token or xsrf(server)
    data = {"_xsrf": token, "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return requests.post(
        server.base + "/login",
        data=data,
        cookies={"_xsrf": token},
        headers={"X-Forwarded-For": client} if client else {},
        allow_redirects=False,
        timeout=timeout,
    )


def assert_logged_in(server: Server, r: requests.Response) -> None:
    assert r.status_code == 302, (r.status_code, r.text[-400:])
    assert "painel_session" in r.cookies
    landing = requests.get(
        server.base + "/", cookies=r.cookies, allow_redirects=False, timeout=TIMEOUT
    )
    assert landing.status_code == 200 and 'id="painel-logout"' in landing.text


def failures(home: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(home / "painel.sqlite", timeout=30) as con:
        return [tuple(r) for r in con.execute("SELECT username, at, remote_ip FROM login_failures")]


# ---- per client -------------------------------------------------------------------------
def test_one_client_spraying_usernames_is_slowed_down(server: Server) -> None:
    """Before: counted per username only, one client had 10 tries on every username."""
    attacker, owner = "198.51.100.11", "203.0.113.11"
    token = xsrf(server)
    for i in range(auth.CLIENT_FREE_FAILURES):
        r = post_login(server, f"guess{i}", "not-the-password", attacker, token=token)
        assert r.status_code == 401 and "Usuário ou senha inválidos" in r.text
    r = post_login(server, "guess-next", "not-the-password", attacker, token=token)
    assert r.status_code == 429
    assert "Muitas tentativas sem sucesso a partir deste endereço" in r.text
    assert "Aguarde 1 segundo e tente de novo" in r.text
    assert r.headers["Retry-After"] == "1"
    assert "painel_session" not in r.cookies
    # while it waits, that client gets nowhere, not even with a right password ...
    r = post_login(server, "admin", DEMO_PASSWORDS["admin"], attacker, token=token)
    assert r.status_code == 429
    # ... and everyone else is not slowed down
    assert_logged_in(server, post_login(server, "admin", DEMO_PASSWORDS["admin"], owner))
    # the wait doubles with each further failure
    time.sleep(1.1)
    assert post_login(server, "guess-late", "nope-nope", attacker, token=token).status_code == 401
    r = post_login(server, "guess-later", "nope-nope", attacker, token=token)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    recorded = {(name, client) for name, _, client in failures(server.home)}
    assert ("guess0", attacker) in recorded and ("guess-late", attacker) in recorded


def test_forwarded_addresses_are_ignored_unless_from_a_trusted_proxy(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = demo_home(tmp_path_factory, "untrusted")
    direct = start_server(home, preheat=False)  # trusts no proxy
    try:
        token = xsrf(direct)
        for i in range(auth.CLIENT_FREE_FAILURES):  # a new "address" each time: no fresh start
            r = post_login(direct, f"guess{i}", "not-the-password", f"192.0.2.{i}", token=token)
            assert r.status_code == 401
        r = post_login(direct, "guess-next", "not-the-password", "192.0.2.200", token=token)
        assert r.status_code == 429
        assert {client for _, _, client in failures(home)} == {"127.0.0.1"}
        log = direct.log()
        assert log.count("carries X-Forwarded-For/X-Real-Ip, ignored") == 1, log[-2000:]
        assert "trusted_proxies" in log
    finally:
        direct.stop()


# ---- per account --------------------------------------------------------------------------
def test_a_guessed_account_still_admits_its_owner(server: Server) -> None:
    """Before: 10 bad tries from anyone and even the right password got 429 for 15 minutes."""
    per = auth.CLEAN_CLIENT_FAILURES
    attackers = [f"198.51.100.{20 + i}" for i in range(-(-auth.MAX_FAILURES // per))]
    token = xsrf(server)
    for client in attackers:
        for _ in range(per):
            r = post_login(server, "analista", "not-the-password", client, token=token)
            assert r.status_code == 401
    for client in attackers:  # the guessers are turned away, whatever they send
        r = post_login(server, "analista", DEMO_PASSWORDS["analista"], client, token=token)
        assert r.status_code == 429, r.status_code
        assert "Muitas tentativas sem sucesso para este usuário" in r.text
        assert "painel_session" not in r.cookies
    # the owner, from where they usually log in, gets in; so does anyone else who knows it
    owner = post_login(server, "analista", DEMO_PASSWORDS["analista"], "203.0.113.21")
    assert_logged_in(server, owner)
    # the guessers are still turned away after the owner's login
    r = post_login(server, "analista", "another-guess", attackers[0], token=token)
    assert r.status_code == 429


def test_throttling_is_shared_by_replicas_through_the_store(server: Server) -> None:
    replica = start_server(server.home, config=TRUST_LOOPBACK, preheat=False)
    try:
        client = "198.51.100.40"
        for i in range(auth.CLIENT_FREE_FAILURES):
            assert post_login(server, f"rep{i}", "not-the-password", client).status_code == 401
        r = post_login(replica, "rep-next", "not-the-password", client)
        assert r.status_code == 429 and "Aguarde" in r.text
    finally:
        replica.stop()


def test_old_failures_are_purged(server: Server) -> None:
    old = iso(utcnow() - auth.FAILURE_RETENTION - timedelta(minutes=5))
    with sqlite3.connect(server.home / "painel.sqlite", timeout=30) as con:
        con.executemany(
            "INSERT INTO login_failures (username, at, remote_ip) VALUES (?, ?, ?)",
            [(f"nobody{i}", old, f"192.0.2.{i}") for i in range(200)],
        )
    r = post_login(server, "someone", "not-the-password", "198.51.100.50")
    assert r.status_code == 401
    left = failures(server.home)
    assert not [row for row in left if row[1] == old]
    assert ("someone", "198.51.100.50") in {(name, client) for name, _, client in left}


# ---- off the event loop -------------------------------------------------------------------
def test_pages_stay_fast_while_bad_logins_pour_in(server: Server) -> None:
    """Before: argon2 ran on the event loop; six clients' bad logins made every request slow."""
    token = xsrf(server)
    stop = threading.Event()
    outcomes: list[int] = []
    errors: list[BaseException] = []

    def hammer(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            client = f"10.{worker}.{n // 250}.{n % 250 + 1}"  # a new client each time
            try:
                r = post_login(server, f"w{worker}-{n}", "not-the-password", client, token=token)
                outcomes.append(r.status_code)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    workers = [threading.Thread(target=hammer, args=(w,), daemon=True) for w in range(6)]
    for w in workers:
        w.start()
    latencies = []
    try:
        time.sleep(1.0)  # let the logins pile up
        end = time.monotonic() + 5
        while time.monotonic() < end:
            start = time.monotonic()
            r = requests.get(server.base + "/painel/api/health", timeout=5)
            latencies.append(time.monotonic() - start)
            assert r.status_code == 200
            time.sleep(0.05)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=TIMEOUT + 5)
    assert not errors, errors
    assert not any(w.is_alive() for w in workers)
    # the passwords were checked all along (each login a new client: no throttling)
    assert outcomes.count(401) >= 10 and set(outcomes) <= {401, 503}, outcomes
    latencies.sort()
    median, p90 = statistics.median(latencies), latencies[int(len(latencies) * 0.9)]
    assert median < 0.1 and p90 < 0.3, (median, p90, latencies[-5:])


def test_logins_beyond_the_bound_get_503_at_once(server: Server) -> None:
    token = xsrf(server)
    burst = 24  # far more than max_pending_logins (8)
    barrier = threading.Barrier(burst)
    results: list[tuple[int, float, dict[str, Any], str]] = []

    def attempt(i: int) -> None:
        barrier.wait(timeout=TIMEOUT)
        start = time.monotonic()
        r = post_login(server, "admin", DEMO_PASSWORDS["admin"], f"10.99.0.{i + 1}", token=token)
        results.append((r.status_code, time.monotonic() - start, dict(r.headers), r.text))

    threads = [threading.Thread(target=attempt, args=(i,), daemon=True) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT * 2)
    assert len(results) == burst
    codes = [code for code, *_ in results]
    assert set(codes) <= {302, 503} and codes.count(302) >= 2 and codes.count(503) >= 1, codes
    busy = [(elapsed, headers, text) for code, elapsed, headers, text in results if code == 503]
    for _elapsed, headers, text in busy:
        assert "Muitas pessoas estão entrando agora" in text
        assert headers["Retry-After"] == "5"
        assert "painel_session" not in headers.get("Set-Cookie", "")
    # refused at once, not after waiting for a thread
    assert min(elapsed for elapsed, *_ in busy) < 1.0
    # and the server takes logins again right after
    assert_logged_in(server, post_login(server, "admin", DEMO_PASSWORDS["admin"], "10.99.1.1"))


# ---- next= ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "next_url",
    [
        "/\r\nSet-Cookie: painel_session=forged",
        "/voila/render/rede_visao_geral.ipynb\nX-Injected: 1",
        "/\x0bvertical-tab",
        "/\ttab",
        "/voila/render/matrículas.ipynb",
    ],
)
def test_next_with_control_characters_goes_to_the_landing_page(
    server: Server, next_url: str
) -> None:
    """Before: a successful login with a CR/LF next= answered 500."""
    r = post_login(
        server,
        "sre.uberlandia",
        DEMO_PASSWORDS["sre.uberlandia"],
        "203.0.113.100",
        next_url=next_url,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/", (r.status_code, r.text[-300:])
    assert "forged" not in str(r.headers)
    # a logged-in visitor sent to the login page with such a next= goes home too
    again = requests.get(
        server.base + "/login",
        params={"next": next_url},
        cookies=r.cookies,
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert again.status_code == 302 and again.headers["Location"] == "/"


def test_a_safe_next_is_still_followed(server: Server) -> None:
    r = post_login(
        server,
        "sre.uberlandia",
        DEMO_PASSWORDS["sre.uberlandia"],
        "203.0.113.250",
        next_url="/voila/render/rede_visao_geral.ipynb",
    )
    assert r.status_code == 302 and r.headers["Location"] == "/voila/render/rede_visao_geral.ipynb"
