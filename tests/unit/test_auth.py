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
    u.add("maria", PASSWORD, "staff", grants=["demo:regional:1"], display_name="Maria")
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
        Users(op).add(name, PASSWORD, "staff")
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0


@pytest.mark.parametrize("name", ["ab", "maria.silva", "m_s-1", "ana@sre.mg", "0x"])
def test_add_accepts_good_username(op, name):
    Users(op).add(name, PASSWORD, "staff")
    assert Users(op).viewer(name).username == name


def test_add_rejects_unknown_role_naming_it(op):
    with pytest.raises(UnknownRole, match="'superuser'"):
        Users(op).add("maria", PASSWORD, "superuser")
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_add_rejects_short_password(op):
    with pytest.raises(AuthError, match="too short"):
        Users(op).add("maria", "x" * (auth.MIN_PASSWORD - 1), "staff")
    Users(op).add("maria", "x" * auth.MIN_PASSWORD, "staff")


def test_add_rejects_duplicate(users):
    with pytest.raises(AuthError, match="'maria' already exists"):
        users.add("maria", "another password", "admin")
    assert users.viewer("maria").role == "staff"


def test_add_rejects_bad_grant_and_stores_nothing(op):
    with pytest.raises(AuthError, match="grant"):
        Users(op).add("maria", PASSWORD, "staff", grants=["demo:regional:1", "nonsense"])
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
    assert v.username == "maria" and v.role == "staff" and v.display_name == "Maria"
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


def test_success_clears_failures(users, op):
    for _ in range(MAX_FAILURES - 1):
        assert users.authenticate("maria", "wrong password") is None
    assert users.authenticate("maria", PASSWORD) is not None
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 0
    # the count starts again from zero
    for _ in range(MAX_FAILURES - 1):
        users.authenticate("maria", "wrong password")
    assert users.authenticate("maria", PASSWORD) is not None


def test_throttled_after_max_failures(users):
    for _ in range(MAX_FAILURES):
        assert users.authenticate("maria", "wrong password") is None
    with pytest.raises(AuthError, match="too many failed attempts"):
        users.authenticate("maria", "wrong password")
    # even the right password is refused while throttled
    with pytest.raises(AuthError, match="too many failed attempts"):
        users.authenticate("maria", PASSWORD)
    # other accounts are not affected
    users.add("jose", PASSWORD, "staff")
    assert users.authenticate("jose", PASSWORD) is not None


def test_throttle_window_expires(users, op):
    old = iso(utcnow() - auth.FAILURE_WINDOW - timedelta(seconds=5))
    with op.connect() as con:
        con.executemany(
            "INSERT INTO login_failures (username, at) VALUES (?, ?)",
            [("maria", old)] * MAX_FAILURES,
        )
    assert users.authenticate("maria", PASSWORD) is not None


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
        "staff",
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
    assert Viewer("maria", "staff", display_name="Maria S.").label() == "Maria S."


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
    users.add("jose", PASSWORD, "staff")
    other = sessions.create("jose")
    users.set_password("maria", "another long secret")
    assert sessions.lookup(sid) is None
    assert sessions.lookup(other) == "jose"


def test_session_for_unknown_user_is_refused(users, op):
    with pytest.raises(sqlite3.IntegrityError):
        Sessions(op).create("ghost")
