"""Accounts: users, their passwords and sessions (all in the operational store).

- Passwords are stored as argon2id hashes (argon2-cffi's defaults, rehashed on login when
  the parameters change).
- Roles, grants and the viewer are values in :mod:`painel.access`; this module stores them.
- A **session** is a random id kept by the browser in a signed cookie; only its SHA-256 is
  stored. Sessions end on logout, after ``IDLE`` without use or ``ABSOLUTE`` after login,
  and when the user is disabled or changes password.
- **Login throttling** slows the guesser, not the owner (:meth:`Users.authenticate`):

  - per client (an address; an IPv6 /64): ``CLIENT_FREE_FAILURES`` failed logins in
    ``CLIENT_WINDOW``, to any usernames, then each next attempt waits twice as long after the
    client's last failure as the one before (``CLIENT_BACKOFF_FIRST`` … ``CLIENT_BACKOFF_MAX``);
  - per account: after ``MAX_FAILURES`` failures in ``FAILURE_WINDOW`` (from anywhere) the
    account only takes attempts from clients with fewer than ``CLEAN_CLIENT_FAILURES``
    failures of their own in that window, so its owner still gets in and the guessers do not;
  - an attempt is recorded as a failure *before* its password is checked, so concurrent
    attempts, on any replica, see each other; a success forgives that client's failures on
    that account (not other clients');
  - failures older than ``FAILURE_RETENTION`` are deleted.

  The state is the ``login_failures`` table of the operational store: it survives restarts
  and is shared by every server process.

Only the server and the command line import this module: dashboard kernels never need
password hashing.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .access import AuthError, Grant, UnknownRole, Viewer, load_viewer, roles, validate_role
from .domain import DemoUser
from .opstate import OpState, iso, parse_iso, utcnow

__all__ = [
    "AuthError",
    "Grant",
    "LoginThrottled",
    "Sessions",
    "UnknownRole",
    "Users",
    "Viewer",
    "add_demo_users",
    "roles",
    "validate_role",
]

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD = 8
MAX_USERNAME = 64
NO_PASSWORD = "!sso"  # stored instead of a hash: no password matches (single sign-on only)

# ---- login throttling (README: "Login throttling") -------------------------------------------
MAX_FAILURES = 10  # failures on one username in FAILURE_WINDOW: the account turns guessers away
FAILURE_WINDOW = timedelta(minutes=15)
CLEAN_CLIENT_FAILURES = 2  # ... but still takes clients with fewer failures than this in the window
CLIENT_FREE_FAILURES = 10  # failures one client may have in CLIENT_WINDOW before it must wait
CLIENT_WINDOW = timedelta(hours=1)
CLIENT_BACKOFF_FIRST = timedelta(seconds=1)  # then 2 s, 4 s, ... after each further failure
CLIENT_BACKOFF_MAX = timedelta(minutes=15)
FAILURE_RETENTION = timedelta(days=1)  # older failures are deleted

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")  # at most MAX_USERNAME
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that timing does not reveal usernames."""
    return _hasher.hash(secrets.token_urlsafe(16))


def validate_username(name: str) -> str:
    if not _USERNAME.match(name):
        raise AuthError(
            f"invalid username {name!r}: 2-64 of lowercase letters, digits, '.', '_', '@', '-'"
        )
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")
    return password


def _email(username: str, email: str) -> str:
    """A user's address, checked (:func:`painel.mail.validate_address`); '' for none."""
    from .mail import AddressError, validate_address

    if not email.strip():
        return ""
    try:
        return validate_address(email)
    except AddressError as exc:
        raise AuthError(f"user {username!r}: {exc}") from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def client_key(address: str) -> str:
    """The unit login throttling counts a client by: its IP address, or its IPv6 /64.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6 addresses would
    give one guesser billions of fresh starts. An IPv4-mapped IPv6 address is its IPv4
    address; a value that is no IP address at all is kept as it is (shortened).
    """
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class LoginThrottled(AuthError):
    """A login refused before its password was checked; ``retry_after`` in whole seconds.

    ``reason`` is ``"client"`` (this client failed too often lately: it waits) or
    ``"account"`` (the account is being guessed at and this client is one of the guessers).
    """

    def __init__(self, reason: str, retry_after: float):
        super().__init__("too many failed attempts; try again in a few minutes")
        self.reason = reason
        self.retry_after = max(1, math.ceil(retry_after))


def client_backoff(failures: int) -> timedelta:
    """How long a client with ``failures`` recent failures waits after its last one."""
    if failures < CLIENT_FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - CLIENT_FREE_FAILURES, 32)
    return min(CLIENT_BACKOFF_FIRST * 2**doublings, CLIENT_BACKOFF_MAX)


class Users:
    """Accounts; ``clock`` (UTC-aware) is injectable so throttling is tested without sleeping.
    Every change is an entry of the audit log (:mod:`painel.audit`) by ``actor`` (default:
    the operating-system user running the command, ``cli:<user>``)."""

    def __init__(self, opstate: OpState, clock: Callable[[], datetime] = utcnow, actor: str = ""):
        self.opstate = opstate
        self.clock = clock
        self.actor = actor

    def _audit(self, con: sqlite3.Connection, action: str, username: str, **detail: object) -> None:
        from . import audit

        audit.record(
            con, action, actor=self.actor or audit.cli_actor(), target=username, detail=detail
        )

    def add(
        self,
        username: str,
        password: str | None,
        role: str,
        grants: Sequence[str] = (),
        display_name: str = "",
        email: str = "",
    ) -> None:
        """``password`` None: the account has no password login (single sign-on only)."""
        validate_username(username)
        validate_role(role)
        if password is not None:
            validate_password(password)
        address = _email(username, email)
        parsed = [str(Grant.parse(g)) for g in grants]
        now = iso(utcnow())
        with self.opstate.transaction() as con:
            if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                raise AuthError(f"user {username!r} already exists")
            con.execute(
                "INSERT INTO users (username, password_hash, role, display_name, email, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    username,
                    NO_PASSWORD if password is None else hash_password(password),
                    role,
                    display_name,
                    address,
                    now,
                    now,
                ],
            )
            con.executemany(
                "INSERT OR IGNORE INTO grants (username, grant_) VALUES (?, ?)",
                [(username, g) for g in parsed],
            )
            self._audit(
                con,
                "user_added",
                username,
                papel=role,
                acessos=parsed,
                nome=display_name,
                email=address,
            )

    def _require(self, con: sqlite3.Connection, username: str) -> sqlite3.Row:
        row = con.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise AuthError(f"no such user {username!r}")
        return row

    def get(self, username: str) -> dict[str, object] | None:
        """One user as :meth:`list` gives it, or None."""
        found = self.list(username)
        return found[0] if found else None

    def list(self, username: str | None = None) -> list[dict[str, object]]:
        """Every user (or only ``username``) without the password hash, with the grants."""
        where, params = ("WHERE username = ?", [username]) if username is not None else ("", [])
        with self.opstate.connect() as con:
            users = [
                dict(r)
                for r in con.execute(f"SELECT * FROM users {where} ORDER BY username", params)
            ]
            grants: dict[str, list[str]] = {}
            for r in con.execute(
                f"SELECT username, grant_ FROM grants {where} ORDER BY grant_", params
            ):
                grants.setdefault(r["username"], []).append(r["grant_"])
        for u in users:
            u.pop("password_hash")
            u["grants"] = grants.get(str(u["username"]), [])
        return users

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self.opstate.transaction() as con:
            row = self._require(con, username)
            self._audit(
                con,
                "user_changed",
                username,
                desativado={"de": bool(row["disabled"]), "para": bool(disabled)},
            )
            con.execute(
                "UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?",
                [int(disabled), iso(utcnow()), username],
            )
            if disabled:
                con.execute("DELETE FROM sessions WHERE username = ?", [username])

    def set_password(self, username: str, password: str) -> None:
        validate_password(password)
        with self.opstate.transaction() as con:
            self._require(con, username)
            self._audit(con, "user_changed", username, senha="alterada")
            con.execute(
                "UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?",
                [hash_password(password), iso(utcnow()), username],
            )
            con.execute("DELETE FROM sessions WHERE username = ?", [username])

    def set_email(self, username: str, email: str) -> None:
        """The address painel mails the user at (digests); an empty one clears it."""
        address = _email(username, email)
        with self.opstate.transaction() as con:
            row = self._require(con, username)
            if row["email"] == address:
                return
            self._audit(con, "user_changed", username, email={"de": row["email"], "para": address})
            con.execute(
                "UPDATE users SET email = ?, updated_at = ? WHERE username = ?",
                [address, iso(utcnow()), username],
            )

    def set_display_name(self, username: str, display_name: str) -> None:
        name = str(display_name).strip()[:200]
        with self.opstate.transaction() as con:
            row = self._require(con, username)
            if row["display_name"] == name:
                return
            self._audit(
                con, "user_changed", username, nome={"de": row["display_name"], "para": name}
            )
            con.execute(
                "UPDATE users SET display_name = ?, updated_at = ? WHERE username = ?",
                [name, iso(utcnow()), username],
            )

    def set_role(self, username: str, role: str) -> None:
        validate_role(role)
        with self.opstate.transaction() as con:
            row = self._require(con, username)
            self._audit(con, "user_changed", username, papel={"de": row["role"], "para": role})
            con.execute(
                "UPDATE users SET role = ?, updated_at = ? WHERE username = ?",
                [role, iso(utcnow()), username],
            )

    def grant(self, username: str, grants: Sequence[str]) -> None:
        parsed = [str(Grant.parse(g)) for g in grants]
        with self.opstate.transaction() as con:
            self._require(con, username)
            self._audit(con, "grant", username, acessos=parsed)
            con.executemany(
                "INSERT OR IGNORE INTO grants (username, grant_) VALUES (?, ?)",
                [(username, g) for g in parsed],
            )

    def revoke(self, username: str, grants: Sequence[str]) -> None:
        parsed = [str(Grant.parse(g)) for g in grants]
        with self.opstate.transaction() as con:
            self._require(con, username)
            self._audit(con, "revoke", username, acessos=parsed)
            con.executemany(
                "DELETE FROM grants WHERE username = ? AND grant_ = ?",
                [(username, g) for g in parsed],
            )

    def viewer(self, username: str) -> Viewer:
        """The active user's role and grants; raises AuthError for unknown or disabled users."""
        return load_viewer(self.opstate, username)

    # ---- login ---------------------------------------------------------------------
    def authenticate(self, username: str, password: str, remote_ip: str = "") -> Viewer | None:
        """The viewer for correct credentials of an active user, else None (and a recorded failure).

        ``remote_ip`` is the client's address (see :func:`client_key`). Raises
        :class:`LoginThrottled`, without checking the password, when this client must wait or
        the account is being guessed at by this client (the module's docstring says when).
        Checking the password takes ~0.1-0.3 s of CPU: a server calls this off its event loop.
        """
        client = client_key(remote_ip)
        counted = username[:MAX_USERNAME]  # a longer name is no user's: recorded shortened
        now = self.clock()
        from . import audit

        try:
            with self.opstate.transaction() as con:  # the check and the claim are one step
                self._check_throttle(con, counted, client, now)
                con.execute(
                    "DELETE FROM login_failures WHERE at < ?", [iso(now - FAILURE_RETENTION)]
                )
                con.execute(
                    "INSERT INTO login_failures (username, at, remote_ip) VALUES (?, ?, ?)",
                    [counted, iso(now), client],
                )
                row = con.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
        except LoginThrottled as exc:
            audit.record(
                self.opstate,
                "login_failed",
                actor=counted,
                client=remote_ip,
                detail={"motivo": "tentativas demais", "espera_s": round(exc.retry_after)},
            )
            raise
        stored = row["password_hash"] if row is not None else _dummy_hash()
        try:
            _hasher.verify(stored, password)
            ok = row is not None and not row["disabled"]
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            reason = (
                "usuário desconhecido"
                if row is None
                else "usuário desativado"
                if row["disabled"]
                else "senha errada"
            )
            audit.record(
                self.opstate,
                "login_failed",
                actor=counted,
                client=remote_ip,
                detail={"motivo": reason},
            )
            return None  # the claimed row is the recorded failure
        audit.record(self.opstate, "login", actor=username, client=remote_ip)
        with self.opstate.transaction() as con:
            # this client's own failures on this account (the claim included) are forgiven;
            # other clients' stay: a login by the owner does not reset the guessers' count
            con.execute(
                "DELETE FROM login_failures WHERE username = ? AND remote_ip = ?",
                [counted, client],
            )
            if _hasher.check_needs_rehash(stored):
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    [hash_password(password), username],
                )
        return self.viewer(username)

    def _check_throttle(
        self, con: sqlite3.Connection, username: str, client: str, now: datetime
    ) -> None:
        """Raise LoginThrottled when ``client`` may not try ``username`` now."""
        mine = [
            parse_iso(r[0])
            for r in con.execute(
                "SELECT at FROM login_failures WHERE remote_ip = ? AND at > ? ORDER BY at",
                [client, iso(now - CLIENT_WINDOW)],
            )
        ]
        wait = client_backoff(len(mine))
        if wait and now < mine[-1] + wait:
            raise LoginThrottled("client", (mine[-1] + wait - now).total_seconds())
        account = [
            parse_iso(r[0])
            for r in con.execute(
                "SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at",
                [username, iso(now - FAILURE_WINDOW)],
            )
        ]
        if len(account) < MAX_FAILURES:
            return
        recent = [at for at in mine if at > now - FAILURE_WINDOW]
        if len(recent) < CLEAN_CLIENT_FAILURES:
            return  # the owner (or anyone) who has not been failing here gets a try
        # until enough of this client's failures age out, or the account's do
        client_clean = recent[len(recent) - CLEAN_CLIENT_FAILURES] + FAILURE_WINDOW
        account_open = account[len(account) - MAX_FAILURES] + FAILURE_WINDOW
        raise LoginThrottled("account", (min(client_clean, account_open) - now).total_seconds())


def _hash_session(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


class Sessions:
    """Server-side sessions; ``clock`` (UTC-aware) is injectable so expiry is tested without sleeping."""

    def __init__(
        self,
        opstate: OpState,
        idle: timedelta = IDLE,
        absolute: timedelta = ABSOLUTE,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.opstate = opstate
        self.idle = idle
        self.absolute = absolute
        self.clock = clock

    def create(self, username: str, remote_ip: str = "", user_agent: str = "") -> str:
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.opstate.connect() as con:
            con.execute(
                "INSERT INTO sessions (id_hash, username, created_at, last_seen_at, expires_at, "
                "remote_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    _hash_session(session_id),
                    username,
                    iso(now),
                    iso(now),
                    iso(now + self.absolute),
                    remote_ip,
                    user_agent[:200],
                ],
            )
            # opportunistic clean-up of expired sessions
            con.execute("DELETE FROM sessions WHERE expires_at < ?", [iso(now)])
        return session_id

    def lookup(self, session_id: str) -> str | None:
        """The username of a live session (touching it), else None."""
        if not session_id:
            return None
        now = self.clock()
        key = _hash_session(session_id)
        with self.opstate.connect() as con:
            row = con.execute(
                "SELECT s.*, u.disabled FROM sessions s JOIN users u USING (username) "
                "WHERE s.id_hash = ?",
                [key],
            ).fetchone()
            if row is None:
                return None
            last_seen = parse_iso(row["last_seen_at"])
            if (
                row["disabled"]
                or parse_iso(row["expires_at"]) <= now
                or last_seen + self.idle <= now
            ):
                con.execute("DELETE FROM sessions WHERE id_hash = ?", [key])
                return None
            if now - last_seen >= TOUCH_EVERY:
                con.execute(
                    "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", [iso(now), key]
                )
            return str(row["username"])

    def end(self, session_id: str) -> None:
        with self.opstate.connect() as con:
            con.execute("DELETE FROM sessions WHERE id_hash = ?", [_hash_session(session_id)])


def add_demo_users(opstate: OpState, accounts: Iterable[DemoUser]) -> list[str]:
    """Create each demo account unless it exists, and give it its address; one line per
    account."""
    users = Users(opstate)
    out = []
    for a in accounts:
        try:
            users.add(
                a.username, a.password, a.role, grants=list(a.grants), display_name=a.display_name
            )
            out.append(f"demo user {a.username} created")
        except AuthError:
            out.append(f"demo user {a.username} already exists")
        if a.email:
            users.set_email(a.username, a.email)  # a bad address names the account and fails
    return out
