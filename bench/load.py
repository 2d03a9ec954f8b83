"""The load generator at the peak day (issue 12): virtual users that log in, open school panels
and change their filters the way the browser's frontend does, against a real ``painel serve``.

**A virtual user** is a distinct person (``carga.NNN``, made in the bench's data directory with
the demo accounts' kinds of grants: 1 in 20 central office, 3 in 20 an SRE, the rest one
school's staff, as the generated usage history mixes them). Its session:

1. logs in like the login form (GET /login for the ``_xsrf`` cookie, POST the form, then the
   landing page);
2. opens a panel (GET /voila/render/<panel>.ipynb, which hands it a kernel; then
   /painel/api/me as the page does), connects to the kernel's channels websocket, asks
   ``kernel_info`` and every widget's state (ipywidgets' control comm) as the frontend does;
3. makes its interactions, one event each: a ``comm_msg`` "update" of a filter's ``index``
   (Etapa, Turno, Modalidade, Bimestre…, a displayed selection widget with at least two
   options; a new valid option each time), after a think time. **Interaction latency**: from
   sending the update until the kernel reports idle for it; its widget and chart updates
   arrive before that, on the same websocket, and are read and applied to the page's state;
4. leaves the panel like a browser tab does (websocket closed, the unload beacon
   POST /voila/api/shutdown/<kernel>), or, for a share of leaves (``abandon``), without the
   beacon, as a tab closed by a crash or a sleeping laptop: that kernel waits for the culler;
5. opens its second panel and does the same.

**The mix** (the seed's): 2 panels per user (random among the ``rede_*`` panels its role may
open, the second different from the first) and 28 interactions (14 per panel). **Session
length**: the seed's pages stay open ~10 minutes each, so a real visitor thinks ~40 s between
interactions (600 s / 15 gaps); the bench compresses that by ``REAL_THINK_S / think_s``
(default think time 2.5 s mean, uniform 0.5–1.5x: a 16x compression, a session of ~80 s).
Load per concurrent session scales with 1/think time, memory per session does not: N
sessions here load the CPU like N x compression real ones, and hold N pages' kernels.

**A level** holds N sessions at once in a closed loop (:func:`run_steady`): N slots, each
beginning a session at a random stage of the mix (so that opens and interactions are spread as
in a steady state, not all at once), slot k after k x 0.25 s, and starting the next user's
session whenever one ends. After a warm-up (the ramp's logins and first opens, and the
pools' refills) comes the measured **window** (60 s): interaction p50/p95/max and
interactions per second (and per core) of the interactions sent in it, page open (HTML
complete) and usable (+ websocket and widget states) p50/p95 of its opens, the server's and
its kernels' CPU over it, what a kernel start costs (the CPU of a pooled kernel nobody
took), and the machine's other CPU users (the generator itself, anything else); over the
whole level: errors (refused or failed opens, kernel errors, closed websockets, timeouts),
logins refused at once (503, retried after Retry-After like a person), peak RSS and PSS
(psutil ``memory_full_info``) of the server with all its kernels, per session (peak minus
the level's start, over N) and of a session's own kernel. Levels run until the first that
**breaks**: interaction p95 > 300 ms, or any error or refused kernel.

``python -m bench load``: a demo data directory (``prepare_demo_home``: school data at scale
0.01) unless ``PAINEL_LOAD_HOME`` names one (e.g. state-scale data: its newest school version
is used, load users are added to it); ``PAINEL_LOAD_LEVELS`` (default ``4,8,12,16,20,24,32``),
``PAINEL_LOAD_THINK`` (mean think time, s), ``PAINEL_LOAD_WINDOW`` (s),
``PAINEL_LOAD_TUNED_LEVELS`` (default: the last held level and the first broken one). The
server runs first with the repository's ``voila.json``, then with :func:`tuned_config`
layered over it (``painel serve --config``). Results: a table, bench/results/load.json and,
through ``python -m bench``, bench/results/latest-load.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import resource
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tests") not in sys.path:  # painel_testing, kernel_client (as bench/__main__)
    sys.path.insert(0, str(REPO / "tests"))

from kernel_client import AsyncKernelChannel, KernelGone  # noqa: E402

P95_TARGET_S = 0.300
REAL_PAGE_S = 600.0  # the seed: a page stays open ~10 minutes
PANELS_PER_USER = 2
INTERACTIONS_PER_PANEL = 14
REAL_THINK_S = REAL_PAGE_S / (INTERACTIONS_PER_PANEL + 1)  # ~40 s between two interactions
THINK_S = 2.5
LEVELS = (4, 8, 12, 16, 20, 24, 32)
WINDOW_S = 60.0  # a level's steady state, after its ramp and warm-up
PASSWORD = "carga-senha-{:03d}"
# The filters a school panel's visitor changes, in the order of preference: the frame's own
# (painel.school.pages.frame); a panel without them (Ficha do Estudante) offers its pickers.
FILTERS = ("Etapa:", "Turno:", "Modalidade:", "Bimestre:")
SELECTORS = {"DropdownModel", "ToggleButtonsModel", "SelectModel", "RadioButtonsModel"}
KERNEL_ID = re.compile(r'kernelId"?\s*[:=]\s*"([0-9a-f-]{36})"')
KERNEL_FILE = re.compile(r"kernel-([0-9a-f-]{36})\.json")


# ---- users ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadUser:
    username: str
    password: str
    role: str
    grants: tuple[str, ...]


def school_scopes(home: Path) -> tuple[list[int], list[int]]:
    """(SRE ids, school ids) of the home's current school version."""
    import duckdb

    from painel.store import Store

    path = Store(home / "store").current_path("school")
    con = duckdb.connect(str(path), read_only=True)
    try:
        sql = "SELECT DISTINCT sre_id FROM escolas ORDER BY 1"
        sres = [int(r[0]) for r in con.execute(sql).fetchall()]
        sql = "SELECT school_id FROM escolas ORDER BY 1"
        schools = [int(r[0]) for r in con.execute(sql).fetchall()]
    finally:
        con.close()
    return sres, schools


def role_of(i: int) -> str:
    """The generated usage history's mix (painel.usage_history.person): 1 in 20 central,
    3 in 20 SRE, the rest a school's director, secretary or pedagogue."""
    k = i % 20
    if k == 0:
        return "school_central"
    if k in (1, 2, 3):
        return "school_sre"
    if k in (4, 5, 6, 7, 8):
        return "school_secretary"
    if k in (9, 10, 11):
        return "school_pedagogue"
    return "school_director"


def load_users(home: Path, n: int, seed: int = 12) -> list[LoadUser]:
    """``carga.001`` … ``carga.<n>`` in ``home`` (added if missing), each with one scope of the
    home's school data, like the demo accounts (central, sre.*, escola.*)."""
    from painel.auth import AuthError, Users
    from painel.config import Paths
    from painel.opstate import OpState

    sres, schools = school_scopes(home)
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        role = role_of(i)
        if role == "school_central":
            grants: tuple[str, ...] = ("school:*",)
        elif role == "school_sre":
            grants = (f"school:sre:{rng.choice(sres)}",)
        else:
            grants = (f"school:school:{rng.choice(schools)}",)
        out.append(LoadUser(f"carga.{i:03d}", PASSWORD.format(i), role, grants))
    users = Users(OpState(Paths.from_env(home).ensure().opstate))
    for u in out:
        with contextlib.suppress(AuthError):  # made by an earlier run
            users.add(u.username, u.password, u.role, list(u.grants), f"Carga {u.username[-3:]}")
    return out


def school_panels(project: Path = REPO) -> dict[str, list[str]]:
    """``rede_*`` panel -> the roles that may open it (the notebooks' metadata)."""
    out = {}
    for path in sorted((project / "notebooks" / "dashboards").glob("rede_*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["painel"]
        out[path.name] = list(meta["roles"])
    return out


# ---- one virtual user ---------------------------------------------------------------------------
@dataclass
class Interaction:
    user: str
    panel: str
    widget: str
    latency_s: float | None  # None: it failed (see error)
    updates: int = 0
    error: str = ""
    at: float = 0.0  # perf_counter at the send


@dataclass
class PageOpen:
    user: str
    panel: str
    html_s: float | None
    usable_s: float | None
    status: int = 0
    kernel_id: str = ""
    error: str = ""
    filters: int = 0  # filter widgets offered
    abandoned: bool = False
    at: float = 0.0  # perf_counter at the request


@dataclass
class SessionLog:
    user: str
    login_s: float | None = None
    opens: list[PageOpen] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    login_refusals: int = 0  # 503 "too many logins at once", retried as a person would


@dataclass
class Mix:
    panels_per_user: int = PANELS_PER_USER
    interactions_per_panel: int = INTERACTIONS_PER_PANEL
    think_s: float = THINK_S  # mean; each think is uniform in [0.5, 1.5] x this
    abandon: float = 0.0  # share of page leaves without the unload beacon
    timeout_s: float = 60.0  # any single step (login, open, interaction)
    panels: dict[str, list[str]] | None = None  # panel -> roles (default: school_panels())


class Browser:
    """Cookies and requests of one visitor (tornado's HTTP client)."""

    def __init__(self, base: str, client: Any, timeout: float):
        self.base, self.client, self.timeout = base, client, timeout
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def fetch(
        self, path: str, method: str = "GET", form: dict[str, str] | None = None
    ) -> Any:
        from tornado.httpclient import HTTPClientError, HTTPRequest

        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = HTTPRequest(
            self.base + path,
            method=method,
            headers=headers,
            body=body,
            follow_redirects=False,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
        )
        try:
            response = await self.client.fetch(request, raise_error=False)
        except HTTPClientError as exc:  # pragma: no cover - raise_error=False returns most
            response = exc.response
            if response is None:
                raise
        for header in response.headers.get_list("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response

    async def login(self, username: str, password: str, log: SessionLog) -> None:
        """The login form; a 503 ("Muitas pessoas estão entrando agora. Tente de novo em
        alguns segundos.") is tried again after its Retry-After, up to three times."""
        await self.fetch("/login")
        for _ in range(4):
            xsrf = self.cookies.get("_xsrf", "")
            r = await self.fetch(
                "/login",
                "POST",
                {"_xsrf": xsrf, "username": username, "password": password, "next": ""},
            )
            if r.code != 503:
                break
            log.login_refusals += 1
            await asyncio.sleep(float(r.headers.get("Retry-After", "5")))
        if r.code not in (302, 303) or "painel_session" not in self.cookies:
            raise RuntimeError(f"login HTTP {r.code}")
        r = await self.fetch("/")  # the landing page, where the visitor picks a panel
        if r.code != 200:
            raise RuntimeError(f"landing page HTTP {r.code}")


def shown_filters(states: dict[str, dict[str, Any]]) -> list[str]:
    """The model ids of the selection widgets a visitor can change on the page: displayed
    (a box's child, its layout not hidden), enabled, with two options or more; the school
    frame's filters when there are any."""
    children: set[str] = set()
    for state in states.values():
        for child in state.get("children", ()) or ():
            if isinstance(child, str):
                children.add(child.removeprefix("IPY_MODEL_"))
    out, preferred = [], []
    for model_id, state in states.items():
        if state.get("_model_name") not in SELECTORS or model_id not in children:
            continue
        if state.get("disabled") or len(state.get("_options_labels", ()) or ()) < 2:
            continue
        layout = states.get(str(state.get("layout", "")).removeprefix("IPY_MODEL_"), {})
        if layout.get("display") == "none":
            continue
        out.append(model_id)
        if state.get("description") in FILTERS:
            preferred.append(model_id)
    return sorted(preferred or out, key=lambda m: str(states[m].get("description")))


async def session(
    base: str,
    client: Any,
    user: LoadUser,
    mix: Mix,
    rng: random.Random,
    start: int = 0,
    until: float | None = None,
) -> SessionLog:
    """One visitor's session (see the module); never raises. ``start``: the position in the
    session's interactions to begin at (a session already under way when a level's steady
    state begins: it opens the panel it is on, with that panel's remaining interactions);
    ``until``: a ``time.perf_counter()`` after which it leaves at its next step."""
    log = SessionLog(user.username)
    browser = Browser(base, client, mix.timeout_s)
    panels = mix.panels if mix.panels is not None else school_panels()
    allowed = [p for p, roles in panels.items() if user.role in roles]
    chosen = rng.sample(allowed, min(mix.panels_per_user, len(allowed)))
    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(browser.login(user.username, user.password, log), 3 * mix.timeout_s)
    except Exception as exc:  # noqa: BLE001 - recorded
        log.errors.append(f"login: {type(exc).__name__}: {exc}")
        return log
    log.login_s = time.perf_counter() - t0
    per_panel = mix.interactions_per_panel
    for k, panel in enumerate(chosen):
        skip = min(max(start - k * per_panel, 0), per_panel)
        if skip == per_panel:
            continue  # this panel's part of the session was over before the level
        if until is not None and time.perf_counter() >= until:
            break
        await visit(browser, user, panel, per_panel - skip, mix, rng, log, until)
    return log


def think(mix: Mix, rng: random.Random) -> float:
    return mix.think_s * rng.uniform(0.5, 1.5)


async def visit(
    browser: Browser,
    user: LoadUser,
    panel: str,
    interactions: int,
    mix: Mix,
    rng: random.Random,
    log: SessionLog,
    until: float | None = None,
) -> None:
    """Open ``panel``, make ``interactions`` on it (fewer once ``until`` is past), leave it."""
    page = PageOpen(user.username, panel, None, None, at=time.perf_counter())
    log.opens.append(page)
    t0 = page.at
    try:
        r = await browser.fetch(f"/voila/render/{panel}")
    except Exception as exc:  # noqa: BLE001 - recorded
        page.error = f"open: {type(exc).__name__}: {exc}"
        log.errors.append(page.error)
        return
    page.status = r.code
    body = (r.body or b"").decode("utf-8", "replace")
    match = KERNEL_ID.search(body)
    if r.code != 200 or match is None:
        page.error = f"open: HTTP {r.code}" + ("" if match else ", no kernel")
        log.errors.append(page.error)
        return
    page.html_s = time.perf_counter() - t0
    page.kernel_id = match.group(1)
    channel: AsyncKernelChannel | None = None
    try:
        await browser.fetch("/painel/api/me")
        channel = await AsyncKernelChannel.connect(
            browser.base, browser.cookie_header(), page.kernel_id, mix.timeout_s
        )
        await channel.request("kernel_info_request", {}, mix.timeout_s)
        states = await channel.widget_states(mix.timeout_s)
        page.usable_s = time.perf_counter() - t0
        page.filters = len(shown_filters(states))
        for _ in range(interactions):
            await asyncio.sleep(think(mix, rng))
            if until is not None and time.perf_counter() >= until:
                break
            candidates = shown_filters(channel.states)
            if not candidates:
                log.errors.append(f"{panel}: no filter to change")
                break
            model_id = rng.choice(candidates)
            state = channel.states[model_id]
            options = len(state.get("_options_labels", ()))
            current = state.get("index")
            index = rng.choice([i for i in range(options) if i != current])
            item = Interaction(
                user.username, panel, str(state.get("description")), None, at=time.perf_counter()
            )
            log.interactions.append(item)
            try:
                latency, reply = await channel.update(model_id, {"index": index}, mix.timeout_s)
            except TimeoutError:
                item.error = "interaction: no idle within the deadline"
                log.errors.append(f"{panel}: {item.error}")
                continue
            item.latency_s, item.updates = latency, reply.updates
            if reply.errors:
                item.error = "; ".join(reply.errors)[:300]
                log.errors.append(f"{panel}: {item.error}")
        if until is None or time.perf_counter() < until:
            await asyncio.sleep(think(mix, rng))  # reads the last result, then goes elsewhere
        if channel.stray_errors:
            log.errors.append(f"{panel}: {'; '.join(channel.stray_errors)[:300]}")
    except KernelGone as exc:
        page.error = str(exc)
        log.errors.append(f"{panel}: {exc}")
    except Exception as exc:  # noqa: BLE001 - recorded
        page.error = f"{type(exc).__name__}: {exc}"
        log.errors.append(f"{panel}: {page.error}")
    finally:
        if channel is not None:
            await channel.close()
    if rng.random() < mix.abandon:
        page.abandoned = True  # the tab died: no beacon, the culler will find the kernel
        return
    try:  # the page's unload beacon
        await browser.fetch(
            f"/voila/api/shutdown/{page.kernel_id}",
            "POST",
            {"_xsrf": browser.cookies.get("_xsrf", "")},
        )
    except Exception as exc:  # noqa: BLE001 - recorded
        log.errors.append(f"{panel}: shutdown: {type(exc).__name__}: {exc}")


def http_client(concurrency: int) -> Any:
    """Tornado's client, allowed as many requests at once as the visitors make (its default
    of 10 would queue them in the generator and count the queue as the server's time)."""
    from tornado.httpclient import AsyncHTTPClient

    return AsyncHTTPClient(force_instance=True, max_clients=max(10, 2 * concurrency))


async def run_sessions(
    base: str, users: Sequence[LoadUser], mix: Mix, seed: int = 0, spread_s: float | None = None
) -> list[SessionLog]:
    """Every user's whole session at once (starts spread over ``spread_s``, default one
    think time)."""
    client = http_client(len(users))
    spread = mix.think_s if spread_s is None else spread_s
    rng = random.Random(seed)

    async def one(i: int, user: LoadUser) -> SessionLog:
        await asyncio.sleep(spread * i / max(1, len(users)))
        return await session(base, client, user, mix, random.Random(rng.random()))

    try:
        return list(await asyncio.gather(*(one(i, u) for i, u in enumerate(users))))
    finally:
        client.close()


@dataclass
class Window:
    """A level's steady state: [start, end] in ``time.perf_counter()`` seconds."""

    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at <= self.end


async def run_steady(
    base: str,
    users: Sequence[LoadUser],
    n: int,
    mix: Mix,
    window_s: float,
    seed: int = 0,
    ramp_step_s: float = 0.25,
    warmup_s: float = 10.0,
    on_window: Callable[[Window], None] | None = None,
) -> tuple[list[SessionLog], Window]:
    """``n`` sessions at once, held for ``window_s`` of steady state (a closed loop).

    Each of ``n`` slots begins a session at a random position of the mix (so the steady
    state's sessions are at every stage: opening a first or a second panel, or half way
    through), slot k after k x ``ramp_step_s``, and starts a new session (the next user)
    whenever its session ends, until the window is over. The window begins ``warmup_s``
    after the last slot started (its login and first page open, and the pools' refills of
    the ramp, fall before it). ``on_window`` is told the window as the slots start."""
    client = http_client(n)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    ramp = n * ramp_step_s
    window = Window(t0 + ramp + warmup_s, t0 + ramp + warmup_s + window_s)
    if on_window is not None:
        on_window(window)
    total = mix.panels_per_user * mix.interactions_per_panel
    queue = iter(range(10**9))

    async def slot(k: int) -> list[SessionLog]:
        await asyncio.sleep(k * ramp_step_s)
        out = []
        start = rng.randrange(total)
        while time.perf_counter() < window.end:
            user = users[next(queue) % len(users)]
            out.append(
                await session(
                    base, client, user, mix, random.Random(rng.random()), start, window.end
                )
            )
            start = 0
        return out

    try:
        logs = [lg for part in await asyncio.gather(*(slot(k) for k in range(n))) for lg in part]
    finally:
        client.close()
    return logs, window


# ---- the server's processes ------------------------------------------------------------------------
class ServerWatch:
    """The server process and its kernels (its descendants): CPU used, memory sampled in a
    thread (RSS every second, PSS every few), and which process is which kernel."""

    def __init__(self, pid: int, interval: float = 1.0, pss_every: int = 4):
        import psutil

        self.proc = psutil.Process(pid)
        self.interval, self.pss_every = interval, pss_every
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.kernel_pss: dict[str, int] = {}  # kernel id -> its last PSS
        self.kernel_uss: dict[str, int] = {}  # ... its memory no other process shares
        self.kernel_rss: dict[str, int] = {}
        self.kernel_cpu: dict[str, tuple[float, float]] = {}  # id -> (CPU s, born at)

    def processes(self) -> list[Any]:
        return [self.proc, *self.proc.children(recursive=True)]

    def cpu_s(self) -> tuple[float, float]:
        """(server's own CPU seconds, its kernels' CPU seconds: live and reaped).

        Reaped kernels count through whoever reaped them: the server (kernels it started) or
        the zygote (kernels forked from it, painel.forkkernel)."""
        import psutil

        t = self.proc.cpu_times()
        kernels = t.children_user + t.children_system
        for p in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                c = p.cpu_times()
                kernels += c.user + c.system + c.children_user + c.children_system
        return t.user + t.system, kernels

    def memory(self, pss: bool) -> dict[str, Any]:
        import psutil

        out: dict[str, Any] = {"t": time.monotonic(), "rss": 0, "pss": 0, "kernels": 0}
        for p in self.processes():
            try:
                kernel = KERNEL_FILE.search(" ".join(p.cmdline()))
                if pss:
                    info = p.memory_full_info()
                    out["pss"] += info.pss
                    rss = info.rss
                    if kernel:
                        self.kernel_pss[kernel.group(1)] = info.pss
                        self.kernel_uss[kernel.group(1)] = info.uss
                else:
                    rss = p.memory_info().rss
                out["rss"] += rss
                if kernel:
                    out["kernels"] += 1
                    self.kernel_rss[kernel.group(1)] = rss
                    c = p.cpu_times()
                    self.kernel_cpu[kernel.group(1)] = (c.user + c.system, p.create_time())
            except psutil.Error:
                continue
        if not pss:
            out.pop("pss")
        return out

    def start(self) -> None:
        self.samples = []
        self._stop.clear()

        def loop() -> None:
            n = 0
            while not self._stop.is_set():
                with contextlib.suppress(Exception):
                    self.samples.append(self.memory(pss=n % self.pss_every == 0))
                n += 1
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="load-memory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def settle(self, quiet_cores: float = 0.15, timeout: float = 90) -> float:
        """Wait until the server and its kernels use under ``quiet_cores`` (pool refills,
        culls and shutdowns done); returns the seconds waited."""
        t0 = time.monotonic()
        last = sum(self.cpu_s())
        while time.monotonic() - t0 < timeout:
            time.sleep(2.0)
            now = sum(self.cpu_s())
            if (now - last) / 2.0 < quiet_cores:
                break
            last = now
        return time.monotonic() - t0

    def kernel_start_cpu_s(self, used: set[str], min_age_s: float = 20.0) -> float | None:
        """What starting a kernel costs: the median CPU of the pooled kernels nobody took
        (they have run their imports and warm-up and wait for a visitor)."""
        now = time.time()
        idle = [
            cpu
            for kernel_id, (cpu, born) in self.kernel_cpu.items()
            if kernel_id not in used and now - born >= min_age_s
        ]
        return statistics.median(idle) if idle else None


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (every process, every core)."""
    import psutil

    t = psutil.cpu_times()  # guest time is inside user already; steal is not this machine's
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0))


def own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def ms(v: float | None) -> float | None:
    return None if v is None else round(1000 * v, 1)


def r2(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


# ---- a level -------------------------------------------------------------------------------------
@dataclass
class Meter:
    """CPU counters read at a window's start and end."""

    watch: ServerWatch | None
    values: dict[str, float] = field(default_factory=dict)

    def read(self) -> dict[str, float]:
        out = {"machine": machine_busy_s(), "own": own_cpu_s(), "t": time.perf_counter()}
        if self.watch is not None:
            out["server"], out["kernels"] = self.watch.cpu_s()
        return out

    async def around(self, window: Window) -> None:
        await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
        first = self.read()
        await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
        last = self.read()
        self.values = {k: last[k] - first[k] for k in last}


def run_level(
    base: str,
    users: Sequence[LoadUser],
    n: int,
    mix: Mix,
    watch: ServerWatch | None = None,
    seed: int = 0,
    log_path: Path | None = None,
    window_s: float = 60.0,
) -> dict[str, Any]:
    """``n`` sessions held for ``window_s`` of steady state (:func:`run_steady`); the figures
    of the level (see the module): latency, throughput and CPU over the window, memory at
    its peak, errors over the whole level."""
    cores = os.cpu_count() or 1
    log_offset = log_path.stat().st_size if log_path is not None else 0
    before: dict[str, Any] = {}
    if watch is not None:
        before = watch.memory(pss=True)
        watch.start()
    meter = Meter(watch)

    async def level() -> tuple[list[SessionLog], Window]:
        metering: list[asyncio.Future[None]] = []

        def on(window: Window) -> None:
            metering.append(asyncio.ensure_future(meter.around(window)))

        logs, window = await run_steady(base, users, n, mix, window_s, seed=seed, on_window=on)
        await asyncio.gather(*metering)
        return logs, window

    t0 = time.perf_counter()
    logs, window = asyncio.run(level())
    wall = time.perf_counter() - t0
    span = meter.values.get("t", window.end - window.start)
    out: dict[str, Any] = {"sessions": n, "window_s": round(span, 1), "level_s": round(wall, 1)}
    out.update(summarize(logs, mix, window, span, cores))
    used = {p.kernel_id for lg in logs for p in lg.opens if p.kernel_id}
    if watch is not None:
        watch.stop()
        server_cpu, kernel_cpu = meter.values.get("server", 0.0), meter.values.get("kernels", 0.0)
        peak_rss = max((s["rss"] for s in watch.samples), default=before["rss"])
        peak_pss = max((s["pss"] for s in watch.samples if "pss" in s), default=before["pss"])
        krss = [watch.kernel_rss[k] for k in used if k in watch.kernel_rss]
        kpss = [watch.kernel_pss[k] for k in used if k in watch.kernel_pss]
        kuss = [watch.kernel_uss[k] for k in used if k in watch.kernel_uss]
        done = out["interactions"]
        start_cpu = watch.kernel_start_cpu_s(used)
        out.update(
            {
                "server_cores": r2(server_cpu / span),
                "kernels_cores": r2(kernel_cpu / span),
                "server_and_kernels_cores": r2((server_cpu + kernel_cpu) / span),
                "cpu_s_per_interaction": round((server_cpu + kernel_cpu) / done, 3)
                if done
                else None,
                "kernel_start_cpu_s": r2(start_cpu),
                "kernel_starts_share_of_cpu": r2(
                    out["window_opens"] * start_cpu / (server_cpu + kernel_cpu)
                )
                if start_cpu and server_cpu + kernel_cpu > 0
                else None,
                "baseline_rss_mb": round(before["rss"] / 2**20),
                "baseline_pss_mb": round(before["pss"] / 2**20),
                "baseline_kernels": before["kernels"],
                "peak_rss_mb": round(peak_rss / 2**20),
                "peak_pss_mb": round(peak_pss / 2**20),
                "peak_kernels": max((s["kernels"] for s in watch.samples), default=0),
                "rss_mb_per_session": round((peak_rss - before["rss"]) / 2**20 / n, 1),
                "pss_mb_per_session": round((peak_pss - before["pss"]) / 2**20 / n, 1),
                "session_kernel_rss_mb_p50": round(statistics.median(krss) / 2**20)
                if krss
                else None,
                "session_kernel_pss_mb_p50": round(statistics.median(kpss) / 2**20)
                if kpss
                else None,
                "session_kernel_uss_mb_p50": round(statistics.median(kuss) / 2**20)
                if kuss
                else None,
            }
        )
    machine, own = meter.values.get("machine", 0.0), meter.values.get("own", 0.0)
    out["machine_busy_cores"] = r2(machine / span)
    out["generator_cores"] = r2(own / span)
    if "server_and_kernels_cores" in out:
        out["other_cores"] = r2(
            max(0.0, machine / span - own / span - out["server_and_kernels_cores"])
        )
    if log_path is not None:
        text = log_path.read_bytes()[log_offset:].decode("utf-8", "replace")
        out["pooled_opens"] = text.count("Using pre-heated kernel")
        out["server_log_errors"] = sum(
            1 for line in text.splitlines() if re.match(r"\[E ", line) or "Traceback" in line
        )
    out["breaks"] = breaks(out)
    out["_logs"] = logs
    return out


def summarize(
    logs: Sequence[SessionLog], mix: Mix, window: Window, span: float, cores: int
) -> dict[str, Any]:
    inter = [i for lg in logs for i in lg.interactions if window.holds(i.at)]
    lat = [i.latency_s for i in inter if i.latency_s is not None]
    opens = [p for lg in logs for p in lg.opens]
    steady = [p for p in opens if window.holds(p.at)]
    html = [p.html_s for p in steady if p.html_s is not None]
    usable = [p.usable_s for p in steady if p.usable_s is not None]
    errors = [e for lg in logs for e in lg.errors]
    kinds = Counter(re.sub(r"[0-9a-f-]{36}", "<id>", e.split(": ", 1)[-1])[:80] for e in errors)
    logins = [lg.login_s for lg in logs if lg.login_s is not None]
    return {
        "interactions": len(lat),
        "interaction_ms_p50": ms(pct(lat, 0.50)),
        "interaction_ms_p95": ms(pct(lat, 0.95)),
        "interaction_ms_max": ms(max(lat) if lat else None),
        "interactions_per_s": r2(len(lat) / span),
        "interactions_per_s_per_core": r2(len(lat) / span / cores),
        "window_opens": len(steady),
        "opens": len(opens),
        "refused_opens": sum(1 for p in opens if p.status in (429, 503)),
        "failed_opens": sum(1 for p in opens if p.error),
        "open_html_s_p50": r2(pct(html, 0.5)),
        "open_html_s_p95": r2(pct(html, 0.95)),
        "open_usable_s_p50": r2(pct(usable, 0.5)),
        "open_usable_s_p95": r2(pct(usable, 0.95)),
        "sessions_run": len(logs),
        "login_s_p50": r2(statistics.median(logins)) if logins else None,
        "login_refusals_retried": sum(lg.login_refusals for lg in logs),
        "abandoned_pages": sum(1 for p in opens if p.abandoned),
        "errors": len(errors),
        "error_kinds": dict(kinds.most_common(5)),
        "think_s": mix.think_s,
    }


def breaks(level: dict[str, Any]) -> str:
    """Why the level breaks the target ('' when it holds)."""
    why = []
    p95 = level.get("interaction_ms_p95")
    if p95 is None or p95 > 1000 * P95_TARGET_S:
        why.append(f"interaction p95 {p95} ms > {1000 * P95_TARGET_S:.0f} ms")
    if level.get("refused_opens"):
        why.append(f"{level['refused_opens']} kernels refused")
    if level.get("errors"):
        why.append(f"{level['errors']} errors")
    return "; ".join(why)


def bottleneck(level: dict[str, Any], cores: int) -> str:
    """What ran out first at a broken level, from its figures."""
    import psutil

    parts = []
    if (level.get("machine_busy_cores") or 0) >= 0.85 * cores:
        parts.append(
            f"CPU: the machine was busy {level['machine_busy_cores']} of {cores} cores "
            f"(server {level.get('server_cores')}, kernels {level.get('kernels_cores')}, "
            f"generator {level.get('generator_cores')}, other processes "
            f"{level.get('other_cores')}); kernel starts took "
            f"{level.get('kernel_starts_share_of_cpu')} of the server's and kernels' CPU"
        )
    if level.get("refused_opens"):
        parts.append("the per-user kernel cap")
    opens = level.get("opens") or 0
    if opens and level.get("pooled_opens", opens) < opens:
        parts.append(
            f"the pools: {opens - level.get('pooled_opens', 0)} of {opens} opens started "
            "a kernel cold"
        )
    if level.get("login_refusals_retried"):
        parts.append(f"logins: {level['login_refusals_retried']} refused at once (503), retried")
    peak = (level.get("peak_rss_mb") or 0) * 2**20
    if peak > 0.8 * (psutil.virtual_memory().available + peak):
        parts.append("memory")
    return "; ".join(parts) or "latency without saturation (see the figures)"


# ---- the bench --------------------------------------------------------------------------------------
def tuned_config(school_pool: int = 1) -> dict[str, Any]:
    """The settings tried after the first ramp (docs/capacity.md): preheated kernels only for
    the school panels the peak day uses (``school_pool`` each; every other dashboard starts
    its kernel when opened), and idle kernels culled after 5 minutes, not 30.

    Tried before and left out (docs/capacity.md): ``fill_delay`` 0 (the refill then competes
    with the page it replaces: open p50 0.25-0.38 s instead of 0.12-0.20 s) and
    ``MALLOC_ARENA_MAX=2`` in kernels (no change in a kernel's RSS or PSS)."""
    pools: dict[str, Any] = {"default": {"pool_size": 0}}
    for name in school_panels():
        pools[name] = {"pool_size": school_pool}
    return {
        "VoilaKernelManager": {"kernel_pools_config": pools},
        "MappingKernelManager": {"cull_idle_timeout": 300, "cull_interval": 30},
    }


def env_levels(name: str, default: Sequence[int]) -> list[int]:
    raw = os.environ.get(name, "").strip()
    return [int(x) for x in raw.split(",") if x.strip()] if raw else list(default)


def ramp(
    server: Any,
    users: Sequence[LoadUser],
    levels: Sequence[int],
    mix: Mix,
    label: str,
    stop_at_break: bool = True,
    window_s: float = 60.0,
) -> list[dict[str, Any]]:
    watch = ServerWatch(server.proc.pid)
    out = []
    for n in levels:
        waited = watch.settle()
        print(f"load {label}: {n} sessions (settled {waited:.0f} s) ...", flush=True)
        level = run_level(server.base, users, n, mix, watch, n, server.log_path, window_s=window_s)
        level.pop("_logs")
        level["settle_s"] = round(waited, 1)
        if level["breaks"]:
            level["bottleneck"] = bottleneck(level, os.cpu_count() or 1)
        print_level(label, level)
        out.append(level)
        if level["breaks"] and stop_at_break:
            break
    return out


COLUMNS = (
    ("sessions", "N"),
    ("interaction_ms_p50", "p50 ms"),
    ("interaction_ms_p95", "p95 ms"),
    ("interaction_ms_max", "max ms"),
    ("interactions_per_s", "int/s"),
    ("interactions_per_s_per_core", "/core"),
    ("open_html_s_p50", "open p50"),
    ("open_html_s_p95", "open p95"),
    ("open_usable_s_p95", "usable p95"),
    ("errors", "err"),
    ("server_and_kernels_cores", "srv cores"),
    ("machine_busy_cores", "busy"),
    ("other_cores", "other"),
    ("peak_rss_mb", "RSS MB"),
    ("peak_pss_mb", "PSS MB"),
    ("rss_mb_per_session", "RSS/sess"),
    ("pss_mb_per_session", "PSS/sess"),
)


def print_level(label: str, level: dict[str, Any]) -> None:
    cells = " ".join(f"{h}={level.get(k)}" for k, h in COLUMNS)
    print(f"  {label}: {cells}", flush=True)
    if level.get("breaks"):
        print(f"  {label}: BREAKS: {level['breaks']} — {level.get('bottleneck')}", flush=True)
        if level.get("error_kinds"):
            print(f"  {label}: errors: {level['error_kinds']}", flush=True)


def table(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
    heads = ["run", *(h for _, h in COLUMNS)]
    body = [[label, *(str(level.get(k, "")) for k, _ in COLUMNS)] for label, level in rows]
    widths = [max(len(r[i]) for r in [heads, *body]) for i in range(len(heads))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [heads, *body]]
    return "\n".join(lines)


def held(levels: Sequence[dict[str, Any]]) -> int:
    ok = [lv["sessions"] for lv in levels if not lv["breaks"]]
    return max(ok) if ok else 0


def stray_servers() -> list[Any]:
    """``painel serve`` processes this process started that are still running."""
    import psutil

    out = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "painel.cli" in child.cmdline() and "serve" in child.cmdline():
                out.append(child)
    return out


def serve(home: Path, config: dict[str, Any] | None, env: dict[str, str] | None) -> Any:
    """``start_server``, tried twice: a server that starts 30 preheated kernels on a busy
    machine can miss its readiness probe's 2 s read timeout; the failed one (and its kernels)
    is stopped before the second try."""
    import signal

    from painel_testing import start_server

    for attempt in range(2):
        before = {p.pid for p in stray_servers()}
        try:
            return start_server(home, config=config, env=env, deadline=600)
        except Exception:  # retried once, then raised
            for proc in stray_servers():
                if proc.pid not in before:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGTERM)
                    with contextlib.suppress(Exception):
                        proc.wait(30)
            if attempt:
                raise
            print("load: the server did not come up; trying again", flush=True)
    raise AssertionError("unreachable")


def run(work: Path) -> dict[str, Any]:
    from painel_testing import prepare_demo_home

    levels = env_levels("PAINEL_LOAD_LEVELS", LEVELS)
    think_s = float(os.environ.get("PAINEL_LOAD_THINK", THINK_S))
    mix = Mix(think_s=think_s, abandon=0.1)
    given = os.environ.get("PAINEL_LOAD_HOME", "").strip()
    if given:
        home = Path(given)
    else:
        home = work / "load-home"
        home.mkdir(parents=True, exist_ok=True)
        print("load: preparing a demo data directory (school data at scale 0.01) ...", flush=True)
        prepare_demo_home(home)
    window_s = float(os.environ.get("PAINEL_LOAD_WINDOW", WINDOW_S))
    # distinct people: a slot starts a new session (the next user) whenever one ends
    top = max([*levels, *env_levels("PAINEL_LOAD_TUNED_LEVELS", [])])
    users = load_users(home, 3 * top)
    results: dict[str, Any] = {
        "setup": {
            "home": "PAINEL_LOAD_HOME" if given else "demo (scale 0.01)",
            "cores": os.cpu_count(),
            "think_s_mean": think_s,
            "compression": round(REAL_THINK_S / think_s, 1),
            "panels_per_user": mix.panels_per_user,
            "interactions_per_panel": mix.interactions_per_panel,
            "abandon": mix.abandon,
            "levels": levels,
            "window_s": window_s,
        }
    }
    rows: list[tuple[str, dict[str, Any]]] = []
    runs: list[tuple[str, dict[str, Any] | None, dict[str, str] | None, list[int]]] = [
        ("baseline", None, None, levels)
    ]
    for label, config, env, wanted in runs:
        print(f"load {label}: starting painel serve ...", flush=True)
        t0 = time.monotonic()
        server = serve(home, config, env)
        started = time.monotonic() - t0
        try:
            measured = ramp(server, users, wanted, mix, label, window_s=window_s)
        finally:
            server.stop()
        results[f"{label}_server_start_s"] = {"seconds": round(started, 1)}
        for level in measured:
            results[f"{label}.n{level['sessions']:03d}"] = level
            rows.append((label, level))
        if label == "baseline":
            tuned_levels = env_levels("PAINEL_LOAD_TUNED_LEVELS", [])
            if not tuned_levels:
                last_ok = held(measured)
                broken = [lv["sessions"] for lv in measured if lv["breaks"]]
                tuned_levels = [n for n in (last_ok, *broken[:1]) if n]
            runs.append(("tuned", tuned_config(), None, tuned_levels))
    base_levels = [lv for label, lv in rows if label == "baseline"]
    tuned_levels_r = [lv for label, lv in rows if label == "tuned"]
    first_break = next((lv for lv in base_levels if lv["breaks"]), None)
    results["summary"] = {
        "baseline_sessions_held": held(base_levels),
        "tuned_sessions_held": held(tuned_levels_r),
        "baseline_first_break": first_break["sessions"] if first_break else None,
        "baseline_break_why": first_break["breaks"] if first_break else "",
        "baseline_bottleneck": first_break.get("bottleneck", "") if first_break else "",
        "real_sessions_equivalent_cpu": held(base_levels) * round(REAL_THINK_S / think_s, 1),
    }
    for label, measured_levels in (("baseline", base_levels), ("tuned", tuned_levels_r)):
        best = [lv for lv in measured_levels if lv["sessions"] == held(measured_levels)]
        if not best:
            continue
        lv = best[0]  # the largest level held: what capacity planning starts from
        for key in (
            "interactions_per_s",
            "interactions_per_s_per_core",
            "cpu_s_per_interaction",
            "server_and_kernels_cores",
            "kernel_start_cpu_s",
            "session_kernel_rss_mb_p50",
            "session_kernel_pss_mb_p50",
            "session_kernel_uss_mb_p50",
            "pss_mb_per_session",
            "baseline_rss_mb",
            "baseline_pss_mb",
        ):
            results["summary"][f"{label}_held_{key}"] = lv.get(key)
    print(table(rows), flush=True)
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    name = "load-home.json" if given else "load.json"  # PAINEL_LOAD_HOME's figures apart
    (out_dir / name).write_text(json.dumps(results, indent=2, default=str))
    return results
