"""Users, grants, sessions and the operational store's migrations (real SQLite)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta

import pytest

from painel import auth, opstate
from painel.auth import (
    MAX_FAILURES,
    AuthError,
    Grant,
    LoginThrottled,
    Sessions,
    UnknownRole,
    Users,
    Viewer,
)
from painel.opstate import OpState, iso, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def op(tmp_path) -> OpState:
    return OpState(tmp_path / "painel.sqlite")


@pytest.fixture
def users(op) -> Users:
    u = Users(op)
    u.add("maria", PASSWORD, "school_sre", grants=["demo:regional:1"], display_name="Maria")
    return u


def raw(op: OpState) -> sqlite3.Connection:
    con = sqlite3.connect(op.path)
    con.row_factory = sqlite3.Row
    return con


class FakeClock:
    """A UTC clock for ``Sessions(clock=...)`` that moves only when told to."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


# ---- Users.add validation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["", "a", "Maria", "-maria", "maria silva", "maria/x", "x" * 65, "josé"]
)
def test_add_rejects_bad_username(op, name):
    with pytest.raises(AuthError, match="invalid username"):
        Users(op).add(name, PASSWORD, "school_sre")
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0


@pytest.mark.parametrize("name", ["ab", "maria.silva", "m_s-1", "ana@sre.mg", "0x"])
def test_add_accepts_good_username(op, name):
    Users(op).add(name, PASSWORD, "school_sre")
    assert Users(op).viewer(name).username == name


def test_add_rejects_unknown_role_naming_it(op):
    with pytest.raises(UnknownRole, match="'superuser'"):
        Users(op).add("maria", PASSWORD, "superuser")
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_add_rejects_short_password(op):
    with pytest.raises(AuthError, match="too short"):
        Users(op).add("maria", "x" * (auth.MIN_PASSWORD - 1), "school_sre")
    Users(op).add("maria", "x" * auth.MIN_PASSWORD, "school_sre")


def test_add_rejects_duplicate(users):
    with pytest.raises(AuthError, match="'maria' already exists"):
        users.add("maria", "another password", "admin")
    assert users.viewer("maria").role == "school_sre"


def test_add_rejects_bad_grant_and_stores_nothing(op):
    with pytest.raises(AuthError, match="grant"):
        Users(op).add("maria", PASSWORD, "school_sre", grants=["demo:regional:1", "nonsense"])
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM grants").fetchone()[0] == 0


def test_password_is_stored_as_argon2id_hash(users, op):
    with raw(op) as con:
        stored = con.execute("SELECT password_hash FROM users WHERE username='maria'").fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    # the file on disk (and its WAL) never holds the plain password
    for path in op.path.parent.glob("painel.sqlite*"):
        assert PASSWORD.encode() not in path.read_bytes()


def test_list_hides_hashes_and_shows_grants(users):
    users.add("admin", PASSWORD, "admin")
    rows = {r["username"]: r for r in users.list()}
    assert set(rows) == {"maria", "admin"}
    assert "password_hash" not in rows["maria"]
    assert rows["maria"]["grants"] == ["demo:regional:1"]
    assert rows["admin"]["grants"] == []


# ---- authenticate -----------------------------------------------------------------------------
def test_authenticate_right_password(users):
    v = users.authenticate("maria", PASSWORD)
    assert isinstance(v, Viewer)
    assert v.username == "maria" and v.role == "school_sre" and v.display_name == "Maria"
    assert v.grants == frozenset({Grant("demo", "regional", "1")})


def test_authenticate_wrong_password(users, op):
    assert users.authenticate("maria", PASSWORD + "x", remote_ip="10.0.0.1") is None
    with op.connect() as con:
        rows = con.execute("SELECT username, remote_ip FROM login_failures").fetchall()
    assert [tuple(r) for r in rows] == [("maria", "10.0.0.1")]


def test_authenticate_disabled_user(users):
    users.set_disabled("maria", True)
    assert users.authenticate("maria", PASSWORD) is None
    with pytest.raises(AuthError, match="disabled"):
        users.viewer("maria")
    users.set_disabled("maria", False)
    assert users.authenticate("maria", PASSWORD) is not None


def test_authenticate_unknown_user(users, op):
    assert users.authenticate("ghost", PASSWORD) is None
    with op.connect() as con:
        assert (
            con.execute("SELECT count(*) FROM login_failures WHERE username='ghost'").fetchone()[0]
            == 1
        )


def test_success_forgives_that_clients_failures_on_that_account(users, op):
    for _ in range(auth.CLIENT_FREE_FAILURES - 2):
        assert users.authenticate("maria", "wrong password", remote_ip="10.0.0.1") is None
    users.add("jose", PASSWORD, "school_sre")
    assert users.authenticate("maria", "wrong password", remote_ip="10.0.0.2") is None
    assert users.authenticate("jose", "wrong password", remote_ip="10.0.0.1") is None
    assert users.authenticate("maria", PASSWORD, remote_ip="10.0.0.1") is not None
    with op.connect() as con:
        left = con.execute("SELECT username, remote_ip FROM login_failures ORDER BY username")
        # another client's failures on maria, and this client's on jose, are still counted
        assert [tuple(r) for r in left] == [("jose", "10.0.0.1"), ("maria", "10.0.0.2")]
    # the count starts again from there: the owner is not made to wait
    for _ in range(auth.CLIENT_FREE_FAILURES - 2):
        assert users.authenticate("maria", "wrong password", remote_ip="10.0.0.1") is None
    assert users.authenticate("maria", PASSWORD, remote_ip="10.0.0.1") is not None


def test_client_backoff_doubles_up_to_its_cap():
    free = auth.CLIENT_FREE_FAILURES
    assert auth.client_backoff(0) == auth.client_backoff(free - 1) == timedelta(0)
    assert auth.client_backoff(free) == auth.CLIENT_BACKOFF_FIRST
    assert auth.client_backoff(free + 1) == 2 * auth.CLIENT_BACKOFF_FIRST
    assert auth.client_backoff(free + 3) == 8 * auth.CLIENT_BACKOFF_FIRST
    assert auth.client_backoff(free + 40) == auth.client_backoff(10**6) == auth.CLIENT_BACKOFF_MAX


def test_one_client_spraying_usernames_must_wait(op):
    """Before: failures were counted per username only, so 20 usernames x 10 tries a window."""
    clock = FakeClock()
    users = Users(op, clock=clock)
    users.add("maria", PASSWORD, "school_sre")
    attacker = "198.51.100.7"
    for i in range(auth.CLIENT_FREE_FAILURES):
        assert users.authenticate(f"user{i}", "guess", remote_ip=attacker) is None
    with pytest.raises(LoginThrottled) as caught:
        users.authenticate("user-new", "guess", remote_ip=attacker)
    assert caught.value.reason == "client" and caught.value.retry_after == 1
    # while it waits, not even a right password from that client is checked
    with pytest.raises(LoginThrottled):
        users.authenticate("maria", PASSWORD, remote_ip=attacker)
    # other clients are not slowed down
    assert users.authenticate("maria", PASSWORD, remote_ip="203.0.113.5") is not None
    # each further failure doubles the wait; throttled attempts do not count as failures
    for expected in (1, 2, 4, 8):
        clock.advance(timedelta(seconds=expected))
        assert users.authenticate(f"next{expected}", "guess", remote_ip=attacker) is None
        with pytest.raises(LoginThrottled) as caught:
            users.authenticate("another", "guess", remote_ip=attacker)
        assert caught.value.retry_after == 2 * expected
    # once its failures are older than the window, the client starts afresh
    clock.advance(auth.CLIENT_WINDOW)
    assert users.authenticate("maria", PASSWORD, remote_ip=attacker) is not None


def guess_account(users: Users, username: str, clients: int, per_client: int) -> list[str]:
    """``clients`` addresses fail ``per_client`` times each on ``username``; the addresses."""
    addresses = [f"198.51.100.{i + 1}" for i in range(clients)]
    for address in addresses:
        for _ in range(per_client):
            assert users.authenticate(username, "guess", remote_ip=address) is None
    return addresses


def test_a_guessed_account_still_admits_its_owner(op):
    """Before: after MAX_FAILURES even the right password got 429, so anyone could lock anyone out."""
    clock = FakeClock()
    users = Users(op, clock=clock)
    users.add("admin", PASSWORD, "admin")
    per = auth.CLEAN_CLIENT_FAILURES
    attackers = guess_account(users, "admin", -(-MAX_FAILURES // per), per)
    # the guessers may not try again, even with the right password
    for address in attackers:
        with pytest.raises(LoginThrottled) as caught:
            users.authenticate("admin", PASSWORD, remote_ip=address)
        assert caught.value.reason == "account"
        assert caught.value.retry_after == auth.FAILURE_WINDOW.total_seconds()
    # the owner, from a client that has not been failing, gets in
    viewer = users.authenticate("admin", PASSWORD, remote_ip="203.0.113.10")
    assert viewer is not None and viewer.username == "admin"
    # ... and their login does not unlock the account for the guessers
    with pytest.raises(LoginThrottled):
        users.authenticate("admin", "guess", remote_ip=attackers[0])
    # a fresh client may mistype once, then it counts among the guessers
    assert users.authenticate("admin", "typo", remote_ip="203.0.113.11") is None
    if auth.CLEAN_CLIENT_FAILURES > 1:
        assert users.authenticate("admin", PASSWORD, remote_ip="203.0.113.11") is not None
    # the guessers' other accounts are not locked for them (the client limit still applies)
    users.add("jose", PASSWORD, "school_sre")
    assert users.authenticate("jose", PASSWORD, remote_ip=attackers[0]) is not None
    # when the window has passed, the account takes anyone again
    clock.advance(auth.FAILURE_WINDOW)
    assert users.authenticate("admin", PASSWORD, remote_ip=attackers[0]) is not None


def test_unknown_usernames_are_throttled_like_real_ones(op):
    clock = FakeClock()
    users = Users(op, clock=clock)
    users.add("admin", PASSWORD, "admin")
    per = auth.CLEAN_CLIENT_FAILURES
    for name in ("admin", "ghost"):  # the answers do not tell which account exists
        attackers = guess_account(users, name, -(-MAX_FAILURES // per), per)
        with pytest.raises(LoginThrottled) as caught:
            users.authenticate(name, "guess", remote_ip=attackers[0])
        assert (caught.value.reason, caught.value.retry_after) == ("account", 900)
        assert users.authenticate(name, "guess", remote_ip="203.0.113.99") is None
        clock.advance(auth.FAILURE_WINDOW)


def test_concurrent_attempts_count_before_their_password_is_checked(users, op, monkeypatch):
    """Each attempt is recorded before the (slow) check: a burst cannot slip past the limit."""
    import threading
    import time

    from argon2.exceptions import VerifyMismatchError

    class SlowMismatch:  # argon2's check takes ~0.1-0.3 s; the concurrent attempts overlap
        def verify(self, stored: str, password: str) -> bool:
            time.sleep(0.3)
            raise VerifyMismatchError

    auth._dummy_hash()
    monkeypatch.setattr(auth, "_hasher", SlowMismatch())
    burst = auth.CLIENT_FREE_FAILURES + 3
    barrier = threading.Barrier(burst)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            result = users.authenticate(f"user{i}", "guess", remote_ip="198.51.100.50")
            outcomes.append("failed" if result is None else "in")
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["failed"] * auth.CLIENT_FREE_FAILURES + ["throttled"] * 3


def test_old_failures_are_purged(users, op):
    old = iso(utcnow() - auth.FAILURE_RETENTION - timedelta(minutes=1))
    recent = iso(utcnow() - auth.FAILURE_RETENTION + timedelta(minutes=10))
    with op.connect() as con:
        con.executemany(
            "INSERT INTO login_failures (username, at, remote_ip) VALUES (?, ?, ?)",
            [(f"ghost{i}", old, f"10.1.0.{i}") for i in range(50)]
            + [("maria", old, "10.0.0.1"), ("maria", recent, "10.0.0.1")],
        )
    assert users.authenticate("nobody", "guess", remote_ip="10.0.0.2") is None
    with op.connect() as con:
        left = con.execute("SELECT username, at FROM login_failures ORDER BY at").fetchall()
    assert [r[0] for r in left] == ["maria", "nobody"]
    assert left[0][1] == recent


def test_failure_counts_use_the_indexes(users, op):
    with op.connect() as con:
        plans = {
            sql: " ".join(r[-1] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))
            for sql, args in [
                ("SELECT at FROM login_failures WHERE remote_ip = ? AND at > ?", ["x", "y"]),
                ("DELETE FROM login_failures WHERE at < ?", ["y"]),
            ]
        }
    assert all("USING" in plan and "INDEX" in plan for plan in plans.values()), plans


def test_a_very_long_username_is_recorded_shortened(users, op):
    assert users.authenticate("x" * 5000, "guess", remote_ip="10.0.0.3") is None
    with op.connect() as con:
        (name,) = con.execute("SELECT username FROM login_failures").fetchone()
    assert name == "x" * auth.MAX_USERNAME


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        (" 203.0.113.5 ", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_client_key(address, key):
    assert auth.client_key(address) == key


def test_one_ipv6_subscriber_is_one_client(users):
    for i in range(auth.CLIENT_FREE_FAILURES):
        assert users.authenticate(f"user{i}", "guess", remote_ip=f"2001:db8:0:7::{i + 1}") is None
    with pytest.raises(LoginThrottled):
        users.authenticate("another", "guess", remote_ip="2001:db8:0:7:dead::beef")
    assert users.authenticate("maria", PASSWORD, remote_ip="2001:db8:0:8::1") is not None


# ---- the login page's client address and next= (painel.web.auth) ------------------------------
def test_client_address_trusts_forwarded_headers_only_from_trusted_proxies():
    from painel.web.auth import client_address, parse_networks

    trusted = parse_networks(["10.0.0.0/8", "::1"])
    forged = {"X-Forwarded-For": "1.2.3.4", "X-Real-Ip": "5.6.7.8"}
    # a client talking to painel directly cannot pick its address
    assert client_address("203.0.113.5", forged, trusted) == "203.0.113.5"
    assert client_address("203.0.113.5", forged, []) == "203.0.113.5"
    assert client_address("10.0.0.2", forged, []) == "10.0.0.2"
    # through a trusted proxy: the rightmost hop that is not a trusted proxy
    assert client_address("10.0.0.2", {"X-Forwarded-For": "198.51.100.9"}, trusted) == (
        "198.51.100.9"
    )
    chain = {"X-Forwarded-For": "6.6.6.6, 198.51.100.9, 10.0.0.3"}  # 6.6.6.6 the client wrote
    assert client_address("10.0.0.2", chain, trusted) == "198.51.100.9"
    assert client_address("::1", {"X-Forwarded-For": "2001:db8::5"}, trusted) == "2001:db8::5"
    assert client_address("::ffff:10.0.0.2", {"X-Real-Ip": "198.51.100.4"}, trusted) == (
        "198.51.100.4"
    )
    # nothing usable: the proxy itself
    assert client_address("10.0.0.2", {}, trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", {"X-Forwarded-For": "junk"}, trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", {"X-Real-Ip": "junk"}, trusted) == "10.0.0.2"
    # every hop a trusted proxy: the first one
    assert client_address("10.0.0.2", {"X-Forwarded-For": "10.0.0.7, 10.0.0.3"}, trusted) == (
        "10.0.0.7"
    )


def test_trusted_proxies_must_be_addresses_or_networks():
    from traitlets import TraitError

    from painel.web.auth import PainelIdentityProvider

    idp = PainelIdentityProvider(trusted_proxies=["10.0.0.0/8", "192.168.1.1", "fd00::/8"])
    assert idp.trusted_proxies == ["10.0.0.0/8", "192.168.1.1", "fd00::/8"]
    with pytest.raises(TraitError, match="'proxy.example'"):
        PainelIdentityProvider(trusted_proxies=["proxy.example"])
    with pytest.raises(TraitError):
        PainelIdentityProvider(max_pending_logins=0)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/voila/render/rede_visao_geral.ipynb", "/voila/render/rede_visao_geral.ipynb"),
        ("/voila/render/matr%C3%ADculas.ipynb?x=1", "/voila/render/matr%C3%ADculas.ipynb?x=1"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\r\nSet-Cookie: painel_session=x", "/"),
        ("/voila/render/x.ipynb\n", "/"),
        ("/\tx", "/"),
        ("/x\x00", "/"),
        ("/x\x7f", "/"),
        ("/x\x85", "/"),
        ("/a b", "/"),
        ("/matrículas", "/"),
    ],
)
def test_safe_next(target, expected):
    from types import SimpleNamespace

    from painel.web.auth import safe_next

    assert safe_next(SimpleNamespace(base_url="/"), target) == expected  # type: ignore[arg-type]


def test_password_change(users):
    users.set_password("maria", "a brand new secret")
    assert users.authenticate("maria", PASSWORD) is None
    assert users.authenticate("maria", "a brand new secret") is not None
    with pytest.raises(AuthError, match="too short"):
        users.set_password("maria", "short")
    with pytest.raises(AuthError, match="no such user 'ghost'"):
        users.set_password("ghost", "long enough secret")


def test_role_grant_and_revoke(users):
    users.set_role("maria", "coordinator")
    users.grant("maria", ["demo:school:31003001", "progress:*"])
    v = users.viewer("maria")
    assert v.role == "coordinator"
    assert {str(g) for g in v.grants} == {"demo:regional:1", "demo:school:31003001", "progress:*"}
    users.revoke("maria", ["demo:regional:1"])
    assert {str(g) for g in users.viewer("maria").grants} == {"demo:school:31003001", "progress:*"}
    with pytest.raises(UnknownRole, match="'boss'"):
        users.set_role("maria", "boss")
    with pytest.raises(AuthError, match="no such user"):
        users.grant("ghost", ["*"])


# ---- grants and viewers -----------------------------------------------------------------------
def test_grant_parse_everything():
    g = Grant.parse("*")
    assert g == Grant("*", "*", "*")
    assert str(g) == "*"
    assert g.covers_dataset("demo") and g.covers_dataset("anything")


def test_grant_parse_dataset_wildcard():
    g = Grant.parse(" demo:* ")
    assert g == Grant("demo", "*", "*")
    assert str(g) == "demo:*"
    assert g.covers_dataset("demo")
    assert not g.covers_dataset("other")


def test_grant_parse_kind_and_id():
    g = Grant.parse("school:regional:12")
    assert (g.dataset, g.kind, g.id) == ("school", "regional", "12")
    assert str(g) == "school:regional:12"
    assert not g.covers_dataset("school")
    assert Grant.parse("progress:class:A-4567.b_2").id == "A-4567.b_2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "demo",
        "Demo:*",
        "demo:regional",
        "demo:Regional:1",
        "demo:regional:",
        "demo:regional:1:2",
        "*:*",
        "*:regional:1",
        "1demo:*",
        "demo:*:1",
    ],
)
def test_grant_parse_bad_forms(text):
    with pytest.raises(AuthError, match=r"expected '\*', 'DATASET:\*' or 'DATASET:KIND:ID'"):
        Grant.parse(text)


@pytest.mark.parametrize("ident", ["*", "a b", "x'y", "a;b", "é", "1" * 65])
def test_grant_parse_bad_ids(ident):
    with pytest.raises(AuthError, match="the id must be"):
        Grant.parse(f"demo:regional:{ident}")


def test_viewer_sees_all_and_ids():
    admin = Viewer("root", "admin")
    assert admin.sees_all("demo") and admin.sees_all("other")
    star = Viewer("ana", "analyst", frozenset({Grant.parse("*")}))
    assert star.sees_all("demo")
    v = Viewer(
        "maria",
        "school_sre",
        frozenset(
            Grant.parse(g)
            for g in [
                "demo:regional:2",
                "demo:regional:10",
                "demo:school:7",
                "other:*",
                "x:regional:3",
            ]
        ),
    )
    assert v.sees_all("other")
    assert not v.sees_all("demo")
    assert not v.is_admin
    assert v.ids("demo", "regional") == ["10", "2"]
    assert v.ids("demo", "school") == ["7"]
    assert v.ids("demo", "class") == []
    assert v.ids("nope", "regional") == []
    assert v.label() == "maria"
    assert Viewer("maria", "school_sre", display_name="Maria S.").label() == "Maria S."


def test_viewer_unknown_role():
    with pytest.raises(UnknownRole, match="unknown role 'x'"):
        Viewer("maria", "x")


# ---- sessions ---------------------------------------------------------------------------------
def test_session_create_lookup_end(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria", remote_ip="10.0.0.1", user_agent="pytest")
    assert len(sid) >= 40
    assert sessions.lookup(sid) == "maria"
    assert sessions.lookup(sid + "x") is None
    assert sessions.lookup("") is None
    other = sessions.create("maria")
    assert other != sid
    sessions.end(sid)
    assert sessions.lookup(sid) is None
    assert sessions.lookup(other) == "maria"


def test_only_sha256_of_session_id_is_stored(users, op):
    sid = Sessions(op).create("maria")
    with raw(op) as con:
        rows = con.execute("SELECT * FROM sessions").fetchall()
    assert len(rows) == 1
    assert rows[0]["id_hash"] == hashlib.sha256(sid.encode()).hexdigest()
    assert all(sid not in str(v) for v in tuple(rows[0]))
    for path in op.path.parent.glob("painel.sqlite*"):
        assert sid.encode() not in path.read_bytes()
    # the hash itself is not a session id
    assert Sessions(op).lookup(rows[0]["id_hash"]) is None


def test_session_idle_expiry_on_a_fake_clock(users, op):
    clock = FakeClock()
    sessions = Sessions(op, clock=clock)
    sid = sessions.create("maria")
    assert sessions.lookup(sid) == "maria"
    clock.advance(auth.IDLE - timedelta(seconds=1))
    assert sessions.lookup(sid) == "maria"  # still inside the idle window (and touched)
    clock.advance(auth.IDLE)
    assert sessions.lookup(sid) is None
    with op.connect() as con:  # an expired session is deleted
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def test_session_idle_expiry_with_timestamps(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    key = hashlib.sha256(sid.encode()).hexdigest()
    with op.connect() as con:
        con.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?",
            [iso(utcnow() - auth.IDLE - timedelta(seconds=1)), key],
        )
    assert sessions.lookup(sid) is None


def test_session_use_keeps_it_alive(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    key = hashlib.sha256(sid.encode()).hexdigest()
    almost = utcnow() - auth.IDLE + timedelta(minutes=1)
    with op.connect() as con:
        con.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", [iso(almost), key])
    before = utcnow()
    assert sessions.lookup(sid) == "maria"  # still inside the idle window: touched
    with op.connect() as con:
        seen = con.execute("SELECT last_seen_at FROM sessions WHERE id_hash = ?", [key]).fetchone()[
            0
        ]
    assert opstate.parse_iso(seen) >= before


def test_session_absolute_expiry_on_a_fake_clock(users, op):
    clock = FakeClock()
    sessions = Sessions(op, absolute=timedelta(minutes=10), clock=clock)
    sid = sessions.create("maria")
    assert sessions.lookup(sid) == "maria"
    clock.advance(timedelta(minutes=9, seconds=59))
    assert sessions.lookup(sid) == "maria"  # used (and touched) just before the end
    clock.advance(timedelta(seconds=1))
    assert sessions.lookup(sid) is None  # the absolute limit, despite the recent use


def test_session_absolute_expiry_despite_activity(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    key = hashlib.sha256(sid.encode()).hexdigest()
    with op.connect() as con:  # logged in 12 h ago, used a second ago
        con.execute(
            "UPDATE sessions SET created_at = ?, expires_at = ?, last_seen_at = ? WHERE id_hash = ?",
            [
                iso(utcnow() - auth.ABSOLUTE),
                iso(utcnow() - timedelta(seconds=1)),
                iso(utcnow()),
                key,
            ],
        )
    assert sessions.lookup(sid) is None


def test_session_expires_at_is_absolute_after_create(users, op):
    sid = Sessions(op).create("maria")
    with op.connect() as con:
        row = con.execute("SELECT created_at, expires_at FROM sessions").fetchone()
    assert (
        opstate.parse_iso(row["expires_at"]) - opstate.parse_iso(row["created_at"]) == auth.ABSOLUTE
    )
    assert Sessions(op).lookup(sid) == "maria"


def test_session_ends_when_user_disabled(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    users.set_disabled("maria", True)
    assert sessions.lookup(sid) is None
    users.set_disabled("maria", False)
    assert sessions.lookup(sid) is None  # re-enabling does not revive old sessions


def test_session_refused_when_disabled_flag_set_directly(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    with op.connect() as con:
        con.execute("UPDATE users SET disabled = 1 WHERE username = 'maria'")
    assert sessions.lookup(sid) is None


def test_session_ends_when_password_changed(users, op):
    sessions = Sessions(op)
    sid = sessions.create("maria")
    users.add("jose", PASSWORD, "school_sre")
    other = sessions.create("jose")
    users.set_password("maria", "another long secret")
    assert sessions.lookup(sid) is None
    assert sessions.lookup(other) == "jose"


def test_session_for_unknown_user_is_refused(users, op):
    with pytest.raises(sqlite3.IntegrityError):
        Sessions(op).create("ghost")
