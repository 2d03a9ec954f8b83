"""Kernel ownership and limits: a kernel belongs to the page view (user and session) that got it.

Voilà does not track who a kernel serves, so by default any logged-in user who learns a
kernel id can attach to it or shut it down. The mixin below records an owner, and the login
session that opened it, when a kernel is handed to a request (a cold start, or a preheated
kernel taken from the pool); the authorizer allows kernel access only to that owner.

The request's identity reaches the kernel manager through a context variable set by the
render handler (:data:`REQUEST_USER`, a :class:`Claimant`): kernels started for the pool (at
start-up or as refills) carry no owner until a request takes them.

Limits, all enforced here and configured on :class:`~painel.web.app.PainelVoila`:

- **kernels per user**: a page view reserves a slot (:meth:`OwnershipMixin.reserve`) before
  any await, so the check and the claim are one step; the reservation counts against the
  cap until the kernel is claimed or the open fails;
- **kernel memory**: a kernel whose resident memory passes the ceiling is shut down, and its
  pages are told why (websocket close code :data:`CLOSE_MEMORY`);
- **access**: a kernel whose session ended or expired, or whose user was disabled or
  deleted, is shut down (close code :data:`CLOSE_ACCESS`);
- **environment**: a kernel starts with only the allowlisted variables of the server's
  environment (:func:`kernel_environment`);
- **idle and dead kernels**: a kernel the idle culler shuts down closes its pages' websockets
  with :data:`CLOSE_IDLE` first, and a kernel that died (never restarted blank under its
  page) with :data:`CLOSE_DIED`: the page pauses, then comes back with its state when its
  viewer does (the painel template, :mod:`painel.dash.memory`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fnmatch
import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async

if TYPE_CHECKING:
    from tornado.web import RequestHandler

    from ..opstate import OpState

log = logging.getLogger("painel.web.kernels")

# Websocket close codes (4000-4999: the application's own) the page maps to a pt-BR message.
CLOSE_MEMORY = 4001  # the kernel used more memory than its ceiling
CLOSE_IDLE = 4002  # paused after an idle while (culled): the page comes back when its viewer does
CLOSE_ACCESS = 4003  # the session ended or expired, or the user was disabled or removed
CLOSE_DIED = 4004  # the kernel died: the page comes back at once (painel.dash.memory)

# What a dashboard kernel always gets from the server's environment (fnmatch patterns): what
# a served dashboard cannot work without. painel's own variables for kernels (painel.wire,
# painel.config) and what Voilà sets for the request (request info, its VOILA_* variables).
REQUIRED_KERNEL_ENV = (
    "PAINEL_HOME",
    "PAINEL_PROJECT",
    "PAINEL_PROFILE",
    "PAINEL_KERNEL_TOKEN",
    "PAINEL_RENDER_TIMEOUT",
    "PAINEL_DUCKDB_*",
    "VOILA_*",
    "HTTP_X_PAINEL_USER",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_*",
)
# ... and, unless PainelVoila.kernel_env_allowlist says otherwise, the system basics and the
# store's retention setting. Secrets (CADEMI_API_KEY, PAINEL_COOKIE_SECRET_FILE, ...) are in
# neither list.
DEFAULT_KERNEL_ENV_ALLOWLIST = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "LD_LIBRARY_PATH",
    "JUPYTER_*",
    "JPY_*",
    "PAINEL_KEEP_VERSIONS",
)


def kernel_environment(environ: Mapping[str, str], allowlist: Iterable[str]) -> dict[str, str]:
    """The variables of ``environ`` whose names match a pattern of ``allowlist`` (fnmatch, exact case)."""
    patterns = tuple(allowlist)
    return {k: v for k, v in environ.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}


def session_key(session_id: str) -> str:
    """The non-secret key a kernel records for the login session that opened it: the
    session id's SHA-256, as the operational store keeps it (``sessions.id_hash``)."""
    from ..auth import _hash_session

    return _hash_session(session_id)


def request_session_key(handler: RequestHandler) -> str | None:
    """The session key of the request's session cookie, if it has a valid signed one."""
    from .auth import COOKIE_NAME

    raw = handler.get_secure_cookie(COOKIE_NAME, max_age_days=1)
    return session_key(raw.decode("ascii", "replace")) if raw else None


def ended_claims(
    opstate: OpState,
    claims: Mapping[str, tuple[str, str | None]],
    idle: timedelta,
    now: datetime,
) -> dict[str, str]:
    """Of ``claims`` (kernel id -> (username, session key)), those whose access has ended,
    each with why: ``"user"`` (disabled or removed) or ``"session"`` (ended, or expired:
    past its absolute expiry or ``idle`` since its last use). Read-only: it neither touches
    nor deletes sessions (``Sessions.lookup`` does both)."""
    from ..opstate import parse_iso

    if not claims:
        return {}
    users = sorted({u for u, _ in claims.values()})
    active: set[str] = set()
    live: dict[str, str] = {}  # session key -> username
    with opstate.connect() as con:
        for start in range(0, len(users), 500):
            chunk = users[start : start + 500]
            marks = ",".join("?" * len(chunk))
            active.update(
                r["username"]
                for r in con.execute(
                    f"SELECT username FROM users WHERE disabled = 0 AND username IN ({marks})",
                    chunk,
                )
            )
            for r in con.execute(
                "SELECT id_hash, username, last_seen_at, expires_at FROM sessions"
                f" WHERE username IN ({marks})",
                chunk,
            ):
                if parse_iso(r["expires_at"]) > now and parse_iso(r["last_seen_at"]) + idle > now:
                    live[r["id_hash"]] = r["username"]
    out = {}
    for kernel_id, (username, key) in claims.items():
        if username not in active:
            out[kernel_id] = "user"
        elif key is not None and live.get(key) != username:
            out[kernel_id] = "session"
    return out


@dataclass(eq=False)
class Slot:
    """A kernel reserved for one page view of ``username``, until claimed or released."""

    username: str
    kernel_id: str | None = None


@dataclass
class Claimant:
    """Who a page view is for: what the render handler puts in :data:`REQUEST_USER`."""

    username: str
    session_key: str | None = None
    slot: Slot | None = None


REQUEST_USER: contextvars.ContextVar[Claimant | None] = contextvars.ContextVar(
    "painel_request_user", default=None
)
# the kernel the idle culler is shutting down in this task (its pages are told why)
_CULLING: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "painel_culling", default=None
)


class OwnershipMixin:
    """Mixed in above Voilà's (possibly pooling) kernel manager class.

    ``painel_env_allowlist`` (a class attribute the app sets) filters every kernel's
    environment; None leaves it as Voilà and jupyter_client make it.
    """

    painel_env_allowlist: tuple[str, ...] | None = None

    # ---- state -------------------------------------------------------------------------
    def _owner_map(self) -> dict[str, str]:
        if not hasattr(self, "_painel_owners"):
            self._painel_owners: dict[str, str] = {}
            self._painel_session_of: dict[str, str | None] = {}
            self._painel_since: dict[str, float] = {}
            self._painel_slots: set[Slot] = set()
            self._painel_evictions: set[asyncio.Future[Any]] = set()
            self._painel_sockets: dict[str, set[Any]] = {}
            self._painel_watchers: list[Any] = []
        return self._painel_owners

    def owner(self, kernel_id: str) -> str | None:
        return self._owner_map().get(kernel_id)

    def session_of(self, kernel_id: str) -> str | None:
        """The session key recorded when the kernel was claimed (None: not owned)."""
        self._owner_map()
        return self._painel_session_of.get(kernel_id)

    def kernels_of(self, username: str) -> list[str]:
        owners = self._owner_map()
        return [k for k, u in owners.items() if u == username and k in self]  # type: ignore[operator]

    def pending_of(self, username: str) -> int:
        """Page views of ``username`` that reserved a kernel and have not claimed it yet."""
        self._owner_map()
        return sum(1 for s in self._painel_slots if s.username == username)

    # ---- the cap: reserve, claim, release ---------------------------------------------------
    def reserve(self, username: str, cap: int) -> tuple[Slot | None, list[str]]:
        """Reserve one kernel for a page view of ``username``, within ``cap``: (slot, evicted).

        Synchronous on purpose: no other request runs between the count and the reservation.
        The user's kernels and open reservations count against the cap; to make room, the
        least recently used kernels are evicted (they lose their owner at once, so nobody can
        use them any more, and are shut down in the background: the ~0.3 s shutdown stays off
        the new page's critical path). If the cap is all taken by page views still opening,
        nothing is evicted and the slot is None: the caller refuses the request.
        """
        cap = max(cap, 1)
        pending = self.pending_of(username)
        if pending >= cap:
            return None, []
        mine = sorted(self.kernels_of(username), key=self.last_used)
        evicted = []
        while mine and len(mine) + pending >= cap:
            victim = mine.pop(0)
            self._disown(victim)
            self._in_background(self.shutdown_kernel(victim))
            evicted.append(victim)
        slot = Slot(username)
        self._painel_slots.add(slot)
        return slot, evicted

    def release(self, slot: Slot | None) -> None:
        """The page view is over: a reservation it did not use stops counting."""
        if slot is not None:
            self._owner_map()
            self._painel_slots.discard(slot)

    def enforce_cap(self, username: str, cap: int) -> list[str]:
        """Evict the user's least recently used kernels so one more fits under ``cap`` (no
        reservation: :meth:`reserve` is what the render handler uses)."""
        slot, evicted = self.reserve(username, cap)
        self.release(slot)
        return evicted

    def _claim(self, kernel_id: str, claimant: Claimant) -> None:
        if kernel_id not in self._owner_map():
            # A dead dashboard kernel is not restarted (a restarted one has lost its page:
            # KernelRestarter.restart_limit is 0); its pages are told, and reopen.
            with contextlib.suppress(Exception):  # no restarter: nothing to hear from
                self.add_restart_callback(  # type: ignore[attr-defined]
                    kernel_id, lambda: self._in_background(self._died(kernel_id)), "dead"
                )
        self._owner_map()[kernel_id] = claimant.username
        self._painel_session_of[kernel_id] = claimant.session_key
        self._painel_since[kernel_id] = time.monotonic()
        if claimant.slot is not None:
            claimant.slot.kernel_id = kernel_id
            self._painel_slots.discard(claimant.slot)

    def _disown(self, kernel_id: str) -> None:
        self._owner_map().pop(kernel_id, None)
        self._painel_session_of.pop(kernel_id, None)

    def _in_background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._painel_evictions.add(task)
        task.add_done_callback(self._painel_evictions.discard)

    def _log(self) -> logging.Logger:
        """The server's log (the kernel manager's traitlets logger), else this module's."""
        return getattr(self, "log", None) or log

    def last_used(self, kernel_id: str) -> float:
        kernel = self.get_kernel(kernel_id)  # type: ignore[attr-defined]
        activity = getattr(kernel, "last_activity", None)
        return (
            activity.timestamp() if activity is not None else self._painel_since.get(kernel_id, 0.0)
        )

    # ---- Voilà's and jupyter_client's entry points ------------------------------------------
    def pre_start_kernel(self, kernel_name: str | None, kwargs: Any) -> Any:
        """Every kernel start (pooled, cold, restarted from saved arguments) passes here, with
        the launch arguments the kernel process gets: filter its environment."""
        if self.painel_env_allowlist is not None:
            env = kwargs.get("env")
            kwargs["env"] = kernel_environment(
                os.environ if env is None else env, self.painel_env_allowlist
            )
        return super().pre_start_kernel(kernel_name, kwargs)  # type: ignore[misc]

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        claimant = REQUEST_USER.get()
        kernel_id = await ensure_async(super().start_kernel(*args, **kwargs))  # type: ignore[misc]
        if claimant is not None:
            self._claim(kernel_id, claimant)
        return kernel_id

    async def _died(self, kernel_id: str) -> None:
        self._log().warning(
            "dashboard kernel %s of %s died: its page reopens", kernel_id, self.owner(kernel_id)
        )
        self._disown(kernel_id)
        self._close_sockets(kernel_id, CLOSE_DIED, "died")
        try:  # also takes it out of its pool, if it was waiting there
            await self.shutdown_kernel(kernel_id)
        except Exception:  # noqa: BLE001 - removed already by the server
            self._log().debug("shutdown of dead kernel %s", kernel_id, exc_info=True)

    async def cull_kernel_if_idle(self, kernel_id: str) -> Any:
        token = _CULLING.set(kernel_id)
        try:
            return await ensure_async(super().cull_kernel_if_idle(kernel_id))  # type: ignore[misc]
        finally:
            _CULLING.reset(token)

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        claimant = REQUEST_USER.get()
        # the pool refill started inside must not inherit this request's user
        token = REQUEST_USER.set(None)
        try:
            result = await super().get_rendered_notebook(*args, **kwargs)  # type: ignore[misc]
        finally:
            REQUEST_USER.reset(token)
        if claimant is not None:
            self._claim(result[2], claimant)
        return result

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> Any:
        if _CULLING.get() == kernel_id:  # paused: its pages say so and come back later
            self._close_sockets(kernel_id, CLOSE_IDLE, "idle")
        try:
            return await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))  # type: ignore[misc]
        finally:
            self._disown(kernel_id)
            self._painel_since.pop(kernel_id, None)
            self._painel_sockets.pop(kernel_id, None)

    # ---- ending kernels for a reason ------------------------------------------------------
    def add_socket(self, kernel_id: str, handler: Any) -> None:
        """A kernel websocket opened (painel's websocket handler registers itself)."""
        self._owner_map()
        self._painel_sockets.setdefault(kernel_id, set()).add(handler)

    def remove_socket(self, kernel_id: str, handler: Any) -> None:
        self._owner_map()
        sockets = self._painel_sockets.get(kernel_id)
        if sockets is not None:
            sockets.discard(handler)
            if not sockets:
                del self._painel_sockets[kernel_id]

    def _close_sockets(self, kernel_id: str, code: int, why: str) -> None:
        self._owner_map()
        for handler in list(self._painel_sockets.pop(kernel_id, ())):
            try:
                handler.close(code, why)
            except Exception:  # noqa: BLE001 - a socket closing anyway
                self._log().debug("closing a websocket of %s failed", kernel_id, exc_info=True)

    async def end_kernel(self, kernel_id: str, code: int, why: str) -> None:
        """Shut a kernel down and close its pages' websockets with ``code`` first, so each
        page can say why in pt-BR (the painel template maps the code to a message)."""
        self._disown(kernel_id)  # no reconnect, no new websocket from here on
        self._close_sockets(kernel_id, code, why)
        if kernel_id in self:  # type: ignore[operator]
            try:
                await self.shutdown_kernel(kernel_id)
            except Exception:  # noqa: BLE001 - gone already (culled, died) is fine
                self._log().debug("shutdown of %s failed", kernel_id, exc_info=True)

    async def shutdown_session_kernels(self, session_key: str) -> int:
        """End the kernels opened under the login session ``session_key`` (see
        :func:`session_key`); the user's kernels of other sessions stay. Returns how many."""
        self._owner_map()
        mine = [k for k, s in self._painel_session_of.items() if s == session_key]
        for kernel_id in mine:
            await self.end_kernel(kernel_id, CLOSE_ACCESS, "session ended")
        return len(mine)

    async def shutdown_user_kernels(self, username: str) -> int:
        mine = self.kernels_of(username)
        for kernel_id in mine:
            await self.end_kernel(kernel_id, CLOSE_ACCESS, "access ended")
        return len(mine)

    # ---- the watchdogs --------------------------------------------------------------------
    def kernel_rss(self, kernel_id: str) -> int | None:
        """The kernel process's resident memory in bytes (None: no local process)."""
        import psutil

        try:
            kernel = self.get_kernel(kernel_id)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - gone (KeyError, or the server's 404 HTTPError)
            return None
        process = getattr(getattr(kernel, "provisioner", None), "process", None)
        pid = getattr(process, "pid", None)
        if pid is None:
            return None
        try:
            return int(psutil.Process(pid).memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None

    async def check_memory(self, limit: int) -> list[str]:
        """End every owned kernel over ``limit`` bytes of resident memory; returns their ids."""
        ended = []
        for kernel_id in list(self._owner_map()):
            rss = self.kernel_rss(kernel_id)
            if rss is not None and rss > limit:
                self._log().warning(
                    "kernel %s of %s uses %d MiB, over the %d MiB ceiling: shutting it down",
                    kernel_id,
                    self.owner(kernel_id),
                    rss >> 20,
                    limit >> 20,
                )
                await self.end_kernel(kernel_id, CLOSE_MEMORY, "memory")
                ended.append(kernel_id)
        return ended

    async def check_access(self, opstate: OpState, idle: timedelta) -> list[str]:
        """End every owned kernel whose session or user no longer gives access; returns their ids."""
        from ..opstate import utcnow

        owners = self._owner_map()
        claims = {k: (u, self._painel_session_of.get(k)) for k, u in owners.items()}
        if not claims:
            return []
        ended = await asyncio.to_thread(ended_claims, opstate, claims, idle, utcnow())
        out = []
        for kernel_id, why in ended.items():
            if owners.get(kernel_id) != claims[kernel_id][0]:
                continue  # shut down or evicted meanwhile
            self._log().info(
                "access of %s to kernel %s ended (%s): shutting it down",
                claims[kernel_id][0],
                kernel_id,
                why,
            )
            await self.end_kernel(kernel_id, CLOSE_ACCESS, why)
            out.append(kernel_id)
        return out

    def start_watchdogs(
        self,
        opstate: OpState,
        idle: timedelta,
        access_interval: float,
        memory_limit: int,
        memory_interval: float,
    ) -> None:
        """Start the periodic access and memory checks on the current IOLoop (0 = off)."""
        from tornado.ioloop import PeriodicCallback

        self._owner_map()

        def guarded(name: str, check: Any) -> Any:
            async def run() -> None:
                try:
                    await check()
                except Exception:  # noqa: BLE001 - the next round tries again
                    self._log().exception("%s check failed", name)

            return run

        if access_interval > 0:
            self._painel_watchers.append(
                PeriodicCallback(
                    guarded("access", lambda: self.check_access(opstate, idle)),
                    access_interval * 1000,
                )
            )
        if memory_limit > 0 and memory_interval > 0:
            self._painel_watchers.append(
                PeriodicCallback(
                    guarded("memory", lambda: self.check_memory(memory_limit)),
                    memory_interval * 1000,
                )
            )
        for watcher in self._painel_watchers:
            watcher.start()
