"""Who is looking at this dashboard: learned from the server, never from the browser.

Under Voilà, ``painel serve`` sets the ``X-Painel-User`` request header itself (after
deleting any the client sent) and Voilà hands it to the kernel as ``HTTP_X_PAINEL_USER``:
at kernel start for a cold kernel, or through ``wait_for_request()`` for a preheated one.
Run by nbval or papermill (no Voilà), the notebook takes the test-only variable
``PAINEL_DASHBOARD_USER`` instead; under Voilà that variable is never read.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time

from ..access import AccessChanged, AuthError, Viewer, load_viewer, read_viewer
from ..config import Paths
from ..opstate import OpState
from ..scope import ScopedDataset
from ..store import Store
from ..wire import KERNEL_TOKEN_ENV, TEST_USER_ENV, USER_ENV, USER_HEADER

__all__ = [
    "AccessChanged",
    "KERNEL_TOKEN_ENV",
    "TEST_USER_ENV",
    "USER_ENV",
    "USER_HEADER",
    "IdentityError",
    "check_access",
    "current_viewer",
    "open_dataset",
    "opstate",
    "store",
    "under_voila",
    "view_as",
    "wait_for_request",
]


log = logging.getLogger("painel.dash")


class IdentityError(Exception):
    """No trustworthy identity: the dashboard shows nothing."""


def under_voila() -> bool:
    return "VOILA_PREHEAT" in os.environ


def wait_for_request() -> None:
    """In a preheated kernel, block until a request is assigned and load its info into os.environ.

    The same protocol as ``voila.utils.wait_for_request`` (one JSON message on
    ``/voila/query/<kernel id>``), plus the per-server token ``painel serve`` requires there,
    and without importing ``voila.utils`` (~1.8 s in a kernel).
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return
    from websockets.sync.client import connect

    port = os.environ.get("VOILA_APP_PORT", "8866")
    host = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    server_url = os.environ.get("VOILA_SERVER_URL", "/")
    kernel_id = os.environ["VOILA_KERNEL_ID"]
    token = os.environ.get(KERNEL_TOKEN_ENV, "")
    url = f"ws://{host}:{port}{server_url}voila/query/{kernel_id}?token={token}"
    # A pooled kernel may wait hours for its visitor: if the socket drops meanwhile, connect
    # again (the server keeps a request that arrived while no socket was open, and sends it
    # on the next connection).
    from websockets.exceptions import ConnectionClosed

    failures = 0
    while True:
        try:
            with connect(url, open_timeout=10, max_size=2**20) as ws:
                failures = 0
                payload = ws.recv()
            break
        except (ConnectionClosed, OSError, TimeoutError):
            failures += 1
            if failures >= 5:
                raise
            time.sleep(min(2.0**failures, 10.0))
    for key, value in json.loads(payload).items():
        os.environ[key] = value


def view_as(username: str) -> None:
    """In JupyterLab (``painel lab``), render the next panels as ``username``.

    Refused under Voilà: a served dashboard's identity only ever comes from the login.
    """
    if under_voila():
        raise IdentityError("view_as is for JupyterLab; a served dashboard uses the login")
    load_viewer(opstate(), username)  # an unknown or disabled user fails here, by name
    os.environ[TEST_USER_ENV] = username


def _paths() -> Paths:
    return Paths.from_env()


def opstate() -> OpState:
    return OpState(_paths().opstate)


def store() -> Store:
    return Store(_paths().store)


# A served page's viewer, as it was when the page was built: every later query and click is
# checked against the operational store (``check_access``). One visitor per kernel.
_served: Viewer | None = None
_access_changed = False


def current_viewer() -> Viewer:
    """The logged-in user, with role and grants read fresh from the operational store."""
    global _served
    if under_voila():
        wait_for_request()
        username = os.environ.get(USER_ENV, "")
    else:
        username = os.environ.get(TEST_USER_ENV, "")
    if not username:
        raise IdentityError("no identity from the server")
    try:
        viewer = load_viewer(opstate(), username)
    except AuthError as exc:
        raise IdentityError(str(exc)) from None
    if under_voila():
        _served = viewer
    return viewer


def page_viewer() -> Viewer | None:
    """The viewer this page was built for (a served page's, else JupyterLab's ``view_as``),
    without reading the store again; None when there is none."""
    if _served is not None:
        return _served
    username = os.environ.get(TEST_USER_ENV, "")
    if not username:
        return None
    try:
        return load_viewer(opstate(), username)
    except AuthError:
        return None


def check_access() -> None:
    """Under ``painel serve``: raise :class:`AccessChanged` when the page's viewer was
    disabled, removed, or had their role or grants changed since the page was built.

    A lookup in the operational store on one connection kept by the kernel (two indexed
    reads, tens of microseconds; opening the store each time cost ~2 ms), run before each
    query and each action of a served page. Once access has changed, every later call raises too: the
    page serves nothing more until the visitor reloads it (and gets a page built for their
    access as it is now). Outside ``painel serve`` (JupyterLab, nbval) it checks nothing.
    """
    if _access_changed:
        raise AccessChanged("access changed since the page opened")
    if _served is None:
        return
    try:
        now = read_viewer(_access_reader(), _served.username)
    except AuthError:
        now = None
    except sqlite3.Error:
        _close_access_reader()  # the next check opens the store again
        raise
    if now is None or (now.role, now.grants) != (_served.role, _served.grants):
        _revoke()
        raise AccessChanged(f"access of {_served.username!r} changed since the page opened")


_reader: tuple[str, sqlite3.Connection] | None = None


def _access_reader() -> sqlite3.Connection:
    """The kernel's connection to its operational store (reopened if the home changes)."""
    global _reader
    path = str(_paths().opstate)
    if _reader is None or _reader[0] != path:
        _close_access_reader()
        _reader = (path, OpState(path).reader())
    return _reader[1]


def _close_access_reader() -> None:
    global _reader
    if _reader is not None:
        _reader[1].close()
        _reader = None


def _revoke() -> None:
    global _access_changed
    _access_changed = True
    log.warning(
        "access of %s changed: this page serves nothing more", getattr(_served, "username", "?")
    )


def open_dataset(viewer: Viewer, dataset: str) -> ScopedDataset:
    return ScopedDataset(viewer, dataset, store(), check=check_access)
