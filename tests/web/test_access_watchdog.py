"""Open pages lose their kernel when their access ends, within the watchdog's interval.

A kernel records the login session that opened it. Every ``access_check_interval`` seconds
the server shuts down each kernel whose session ended (a logout elsewhere, another replica's
logout) or expired (idle, absolute), or whose user was disabled or removed; the page's kernel
websocket closes with code 4003 (the page says in pt-BR that its session or access ended).
Other sessions of the same user keep their kernels.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from tornado.web import decode_signed_value

from painel.opstate import iso, utcnow
from painel.web.kernels import CLOSE_ACCESS, session_key
from painel_testing import KernelChannel, Server, login, painel, render, wait_for, widget_text

pytestmark = [pytest.mark.timeout(240)]

INTERVAL = 1.0
MARGIN = 15.0  # the interval, the shutdown, a loaded machine


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    return {"PainelVoila": {"access_check_interval": INTERVAL, "session_touch_interval": 1.0}}


def new_user(server: Server) -> tuple[str, str]:
    name, password = f"tmp.{uuid.uuid4().hex[:8]}", "tmp-user-pass"
    painel(
        server.home,
        "users",
        "add",
        name,
        "--role",
        "school_sre",
        "--grant",
        "school:sre:45",
        "--password-stdin",
        stdin=password + "\n",
    )
    return name, password


def session_id(server: Server, s: requests.Session) -> str:
    """The session id inside the browser's signed session cookie."""
    secret = (server.home / "secrets" / "cookie_secret").read_bytes()
    cookie = s.cookies["painel_session"].strip('"')  # requests keeps the quotes
    raw = decode_signed_value(secret, "painel_session", cookie, max_age_days=1)
    assert raw
    return raw.decode("ascii")


def opstate_db(server: Server) -> sqlite3.Connection:
    """The operational store, written directly: what another replica or an expiry would do."""
    return sqlite3.connect(Path(server.home) / "painel.sqlite", timeout=30, isolation_level=None)


class Page:
    """A dashboard opened by a session, with its kernel websocket."""

    def __init__(self, server: Server, s: requests.Session):
        r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
        assert r.status_code == 200 and kernel_id
        self.server, self.session, self.kernel_id = server, s, kernel_id
        self.ch = KernelChannel(server, s, kernel_id)
        assert "Uberlândia" in widget_text(self.ch.widget_states())

    def alive(self) -> bool:
        """The kernel still answers over the page's websocket."""
        return "Uberlândia" in widget_text(self.ch.widget_states(timeout=20))

    def closed_with(self, timeout: float = INTERVAL + MARGIN) -> int | None:
        """The close code the server ended the page's websocket with (None: still open)."""
        return self.ch.close_code(time.monotonic() + timeout)

    def close(self) -> None:
        self.ch.close()


def all_kernels(server: Server) -> dict[str, str | None]:
    admin = login(server, "admin")
    r = admin.get(server.base + "/painel/api/kernels", timeout=10)
    assert r.status_code == 200
    return {k["id"]: k["owner"] for k in r.json()["kernels"]}


def assert_ended(page: Page) -> None:
    assert page.closed_with() == CLOSE_ACCESS
    wait_for(lambda: page.kernel_id not in all_kernels(page.server), 10, "the kernel's shutdown")
    r = page.session.get(f"{page.server.base}/api/kernels/{page.kernel_id}", timeout=10)
    assert r.status_code in (302, 403, 404)


def test_disabling_a_user_ends_their_open_pages(server: Server) -> None:
    name, password = new_user(server)
    page = Page(server, login(server, name, password))
    bystander = Page(server, login(server, "sre.uberlandia"))
    try:
        t0 = time.monotonic()
        painel(server.home, "users", "disable", name)
        assert_ended(page)
        assert time.monotonic() - t0 < INTERVAL + MARGIN
        assert bystander.alive()
        assert f"access of {name} to kernel {page.kernel_id} ended" in server.log()
    finally:
        page.close()
        bystander.close()


def test_a_removed_user_loses_their_pages(server: Server) -> None:
    name, password = new_user(server)
    page = Page(server, login(server, name, password))
    try:
        with opstate_db(server) as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("DELETE FROM users WHERE username = ?", [name])
        assert_ended(page)
    finally:
        page.close()


def test_a_session_ended_or_expired_elsewhere_ends_only_its_own_kernels(server: Server) -> None:
    name, password = new_user(server)
    a, b = login(server, name, password), login(server, name, password)
    page_a, page_b = Page(server, a), Page(server, b)
    try:
        # session A ends (a logout on another replica, or an admin ending it)
        with opstate_db(server) as db:
            db.execute(
                "DELETE FROM sessions WHERE id_hash = ?", [session_key(session_id(server, a))]
            )
        assert_ended(page_a)
        assert page_b.alive()  # the same user's other session keeps its page
        assert page_b.kernel_id in all_kernels(server)
        # then session B passes its absolute expiry
        c = login(server, name, password)
        page_c = Page(server, c)
        try:
            with opstate_db(server) as db:
                db.execute(
                    "UPDATE sessions SET expires_at = ? WHERE id_hash = ?",
                    [iso(utcnow() - timedelta(seconds=1)), session_key(session_id(server, b))],
                )
            assert_ended(page_b)
            assert page_c.alive()
            # and session C sits idle past the idle timeout
            with opstate_db(server) as db:
                db.execute(
                    "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?",
                    [iso(utcnow() - timedelta(hours=3)), session_key(session_id(server, c))],
                )
            assert_ended(page_c)
        finally:
            page_c.close()
    finally:
        page_a.close()
        page_b.close()


def test_logout_ends_that_sessions_kernels_and_no_other(server: Server) -> None:
    name, password = new_user(server)
    a, b = login(server, name, password), login(server, name, password)
    page_a, page_b = Page(server, a), Page(server, b)
    pages = [page_a, page_b]
    try:

        def logout(s: requests.Session) -> None:
            r = s.post(
                server.base + "/logout",
                data={"_xsrf": s.cookies.get("_xsrf")},
                allow_redirects=False,
                timeout=10,
            )
            assert r.status_code == 302

        logout(a)  # A's page ends at once; B's stays
        assert page_a.closed_with(timeout=10) in (CLOSE_ACCESS, 0)
        from painel import audit
        from painel.opstate import OpState

        log = audit.search(OpState(server.home / "painel.sqlite"), actor=name, limit=None)[0]
        assert [e.action for e in reversed(log)] == ["login", "login", "logout"]
        assert log[0].client == "127.0.0.1"
        # the server moves its login events into usage monitoring within seconds
        deadline, logins = time.monotonic() + 30, 0
        while time.monotonic() < deadline and logins < 2:
            with opstate_db(server) as db:
                logins = db.execute(
                    "SELECT coalesce(sum(logins), 0) FROM usage_daily WHERE username = ?", [name]
                ).fetchone()[0]
            time.sleep(0.5)
        assert logins == 2
        assert page_a.kernel_id not in all_kernels(server)
        assert page_b.alive()
        time.sleep(INTERVAL * 2)  # and the watchdog leaves it too
        assert page_b.alive()
        page_c = Page(server, login(server, name, password))
        pages.append(page_c)
        logout(b)  # the other way round: B's page ends, the newer session C's stays
        assert page_b.closed_with(timeout=10) in (CLOSE_ACCESS, 0)
        assert page_b.kernel_id not in all_kernels(server)
        time.sleep(INTERVAL * 2)
        assert page_c.alive()
    finally:
        for page in pages:
            page.close()


def test_a_page_in_use_keeps_its_session_from_expiring_as_idle(server: Server) -> None:
    """Widget messages on the kernel websocket count as use: a visitor who only clicks
    widgets for the idle period keeps the session (and the watchdog leaves the page alone)."""
    name, password = new_user(server)
    s = login(server, name, password)
    page = Page(server, s)
    key = session_key(session_id(server, s))
    long_ago = iso(utcnow() - timedelta(minutes=10))
    try:
        with opstate_db(server) as db:
            db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", [long_ago, key])
        time.sleep(1.5)  # past session_touch_interval since the socket's last refresh
        assert page.alive()  # widget messages, no HTTP request
        with opstate_db(server) as db:
            (seen,) = db.execute(
                "SELECT last_seen_at FROM sessions WHERE id_hash = ?", [key]
            ).fetchone()
        assert seen > long_ago and utcnow() - datetime.fromisoformat(seen) < timedelta(seconds=30)
    finally:
        page.close()
