"""Viewers side by side (issue 13): painel's Progresso page against the same page in Streamlit.

``python -m bench viewers [--levels 1,10,50] [--systems painel,streamlit] [--painel-config F.json]
[--label NAME]`` (also ``python -m bench.viewers ...``; part of ``make bench``).

**The two systems**, on one demo data directory (``prepare_demo_home``, then 12 weeks of
progress history by the real ``progress`` job, as ``make demo``), on loopback:

- *painel*: ``painel serve`` started as the tests start it (``start_server``: preheated pools
  full), with two settings layered over voila.json: ``PainelVoila.max_kernels_per_user`` =
  max level + 4 (one person holds all the N pages here, and the default cap of 4 would shut
  the older ones down) and ``MappingKernelManager.cull_idle_timeout`` = 0 (every one of the N
  pages keeps its kernel until it is measured: voila.json pauses a page idle for 5 minutes,
  which would pause the first of 50 pages before the last opens, so that the figure would
  depend on how fast the machine opens them; what an idle page costs once paused is another
  question). Over those, the file given by ``--painel-config`` (e.g.
  ``{"PainelVoila": {"fork_kernels": false}}``; it may set either back). The page:
  ``/voila/render/progresso.ipynb``, logged in through the login form as the demo tutor
  ``tutora.ana`` (classes 5001 and 5003);
- *streamlit*: ``bench/streamlit_progress.py`` (the same page written for Streamlit; see its
  docstring for what differs) run by ``streamlit run`` from ``.venv-streamlit`` (created on
  first use from ``bench/streamlit-requirements.txt`` with ``-c constraints.txt``, never
  touching ``.venv``), over the same published DuckDB file, restricted to the same tutor's
  classes. **No login**: Streamlit has none; its figures carry no login, no session and no
  per-query access check.

**A level** (N = 1, 10, 50): for each system in turn, a fresh server (so "idle" is before any
page of that level); one warm-up page opened until usable and closed (the first visitor's
one-off costs: Streamlit's first script run imports plotly and opens the file; painel's
first render compiles its templates), then, once settled, the idle figures; then N pages
opened one after another in one browser context of one headless chromium (Debian's, through
Playwright), each kept open. Per open:

- **time to usable**: from the navigation's start (``performance.timeOrigin``) to the moment
  the page, polled every 20 ms and on every DOM change, meets its readiness condition (timed
  by the page itself, so Playwright's round trips do not count):

  - painel: Voilà's loading screen gone; the five filters (Semana, Trilha, Turma, Curso,
    Ritmo esperado) drawn as enabled ``<select>`` elements with options; the six KPI cards
    filled; both charts drawn by plotly (the one over the weeks, and the situation chart with
    the week's title "… · ritmo …"). The widgets exist only once the kernel's comms answered,
    and the cards and the situation chart only once the kernel's first refresh ran: the page
    is interactive;
  - Streamlit: the app connected (``data-test-connection-state=CONNECTED``) and its script
    run over (``data-test-script-state=notRunning``: Streamlit's "running" indicator gone);
    no stale element; five enabled select boxes; six ``st.metric`` cards; the same two plotly
    charts, titled as painel's;

- **server CPU of the open**: user + system CPU of the server's process tree (painel: the
  server, every kernel, any zygote, found as descendants or by their ``PAINEL_HOME``;
  Streamlit: its one process and any child), counting processes that ended through their
  parents' reaped-children times, from just before the navigation until the tree is quiet
  again (painel: its pools full again, i.e. the kernel that replaces the one taken has been
  started and preheated, which is the open's cost too), minus the idle rate measured just
  before the open times the time it took. "Quiet": the tree's CPU over the last second below
  0.04 + 0.003 x (open pages) of a core, at least 1 s after usable, deadline 90 s (an open
  that never settles is counted as it is and flagged).

After the N pages are open and settled: **PSS** (``psutil.memory_full_info().pss``, what the
processes really hold with shared pages divided among their sharers) and RSS of the whole
tree, and per additional page = (with N open − idle before any page) / N. Then **filter
latency at N**: on the last page opened, the Semana filter (the same on both systems)
changed 10 times (weeks 2, 3, … of its list, cycling), the visitor reading 0.4 s between
changes once the page is quiet. Timed in the page from the choice (the ``change`` event of
painel's ``<select>``; the pointer down on Streamlit's option) to:

- ``chart``: the situation chart redrawn with the new week (its plotly title names the week:
  painel's ``Chart`` draws title and data in one ``Plotly.react``), both systems;
- ``run end`` (Streamlit): its script run over and the chart redrawn (issue 13's Streamlit
  figure); painel's page has no such end (the table follows the chart over the websocket):
  its figure is ``chart``, as in issue 13;
- ``settled``: the last DOM change before 500 ms without any (the KPIs and the table too).

Then the pages are closed (navigated away, which sends painel's kernel-shutdown beacon, and
closed) and the servers stopped; every wait has a deadline. **Ratios** painel/Streamlit are
taken per level within the run. Results: a table, ``bench/results/latest-viewers.json``
(and ``viewers-<label>.json`` with ``--label``).

Assumptions: one person with N tabs stands for N visitors (the server sees N pages and N
websockets either way; painel's sessions table holds one session instead of N); chromium's
own CPU is on the same two cores, so times to usable include the browser's drawing under
the load of the N pages already open, on both systems alike; painel's pool refill after an
open is the open's CPU (a pool that did not refill would make the next visitor wait).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tests") not in sys.path:  # painel_testing (as bench/__main__)
    sys.path.insert(0, str(REPO / "tests"))

from painel_testing import (  # noqa: E402
    Server,
    browser_login,
    free_port,
    painel,
    prepare_demo_home,
    start_server,
)

LEVELS = (1, 10, 50)
SYSTEMS = ("painel", "streamlit")
FILTER_CHANGES = 10
READ_PAUSE_S = 0.4
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TUTOR, TUTOR_PASSWORD, TUTOR_NAME = "tutora.ana", "demo-tutora-ana", "Tutora Ana"
STREAMLIT_VENV = REPO / ".venv-streamlit"
STREAMLIT_REQUIREMENTS = REPO / "bench" / "streamlit-requirements.txt"
STREAMLIT_APP = REPO / "bench" / "streamlit_progress.py"
CONSTRAINTS = REPO / "constraints.txt"
USABLE_TIMEOUT_MS = 90_000
SETTLE_DEADLINE_S = 90.0
QUIET_BASE, QUIET_PER_PAGE = 0.04, 0.003  # cores: the tree's CPU over 1 s that counts as quiet

# ---- in the page ---------------------------------------------------------------------------------
# Both: window.benchUsable = performance.now() (ms since the navigation started) once usable.
_WATCH = """(() => {
  if (!__WHERE__) return;
  const ready = () => { __READY__ };
  let done = false, timer = null;
  const seen = new MutationObserver(() => check());
  function check() {
    if (done) return;
    let ok = false;
    try { ok = ready(); } catch (e) { ok = false; }
    if (!ok) return;
    done = true;
    window.benchUsable = performance.now();
    seen.disconnect();
    clearInterval(timer);
  }
  seen.observe(document, { subtree: true, childList: true, characterData: true });
  timer = setInterval(check, 20);
})();"""
_TITLES = """
  const titles = [...document.querySelectorAll('.js-plotly-plot .gtitle')].map((t) => t.textContent);
  if (!titles.some((t) => t.includes(' · ritmo ')) || !titles.some((t) => t.startsWith('Progresso médio')))
    return false;"""
PAINEL_READY = _WATCH.replace("__WHERE__", "location.pathname.includes('/voila/render/')").replace(
    "__READY__",
    """
  if (document.readyState === 'loading' || document.getElementById('loading')) return false;
  const boxes = [...document.querySelectorAll('.widget-dropdown')];
  for (const name of ['Semana:', 'Trilha:', 'Turma:', 'Curso:', 'Ritmo esperado:']) {
    const box = boxes.find((b) => (b.querySelector('label') || {}).textContent === name);
    const sel = box && box.querySelector('select');
    if (!sel || sel.disabled || !sel.options.length) return false;
  }
  if (document.querySelectorAll('.painel-kpi').length < 6) return false;"""
    + _TITLES
    + "\n  return true;",
)
STREAMLIT_READY = _WATCH.replace("__WHERE__", "location.protocol.startsWith('http')").replace(
    "__READY__",
    """
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.dataset.testScriptState !== 'notRunning'
      || app.dataset.testConnectionState !== 'CONNECTED') return false;
  if (document.querySelector('[data-stale=true]')) return false;
  const boxes = [...document.querySelectorAll('[data-testid=stSelectbox]')];
  if (boxes.length < 5 || boxes.some((b) => b.querySelector('input:disabled, [data-disabled]')))
    return false;
  if (document.querySelectorAll('[data-testid=stMetric]').length < 6) return false;"""
    + _TITLES
    + "\n  return true;",
)
# Filter latency: called with [label, trigger, streamlit], it leaves window.benchFilter, a promise
# of {chart, runEnd, settled} (ms from the choice). trigger: the event that is the visitor's choice ('change' on painel's
# <select>, 'pointerdown' on Streamlit's option), caught before the page's own handlers.
FILTER_WATCH = """(args) => {
  const [label, trigger, streamlit] = args;
  const norm = (s) => (s || '').replace(/\\u00a0/g, ' ');
  window.benchResult = null;
  window.benchFilter = new Promise((resolve, reject) => {
    let t0 = null, chart = null, runEnd = null, last = null, quiet = null, running = false;
    const app = document.querySelector('[data-testid=stApp]');
    const state = () => (app ? app.dataset.testScriptState : 'notRunning');
    const finish = () => {
      seen.disconnect(); runs.disconnect();
      clearTimeout(quiet); clearTimeout(limit); clearInterval(poll);
      resolve({ chart: chart - t0, runEnd: runEnd === null ? null : runEnd - t0, settled: last - t0 });
    };
    const check = () => {
      if (t0 === null) return;
      const now = performance.now();
      if (chart === null && [...document.querySelectorAll('.js-plotly-plot .gtitle')]
          .some((t) => norm(t.textContent).startsWith(label))) chart = now;
      if (streamlit && runEnd === null) {
        if (state() !== 'notRunning') running = true;
        else if (running || chart !== null) runEnd = now;
      }
      if (quiet === null && over()) arm();
    };
    const over = () => chart !== null && (!streamlit || (runEnd !== null
      && !document.querySelector('[data-stale=true]')));
    // finished once over and 500 ms passed without a DOM change
    const arm = () => { clearTimeout(quiet); quiet = setTimeout(finish, 500); };
    const seen = new MutationObserver(() => {
      last = performance.now();
      check();
      if (over()) arm();
    });
    const runs = new MutationObserver(check);
    const poll = setInterval(check, 20);
    const limit = setTimeout(() => {
      seen.disconnect(); runs.disconnect(); clearInterval(poll);
      reject(new Error('chart not redrawn with ' + label + ' in 30 s'));
    }, 30000);
    const chosen = (e) => {
      if (t0 !== null || (streamlit && !(e.target.closest && e.target.closest('[role=option]'))))
        return;
      document.removeEventListener(trigger, chosen, true);
      t0 = performance.now(); last = t0;
      seen.observe(document.body, { subtree: true, childList: true, characterData: true });
      if (app) runs.observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
    };
    document.addEventListener(trigger, chosen, true);
  }).then((r) => { window.benchResult = r; return r; });
}"""


# ---- processes -----------------------------------------------------------------------------------
class Tree:
    """A server's processes: ``root`` and its descendants, plus (``home``) any process whose
    ``PAINEL_HOME`` is that data directory (a kernel that left the tree)."""

    def __init__(self, root: int, home: Path | None = None):
        self.root, self.home = root, str(home) if home else None
        self._marked: dict[tuple[int, float], bool] = {}
        self._mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}

    def processes(self) -> list[psutil.Process]:
        procs: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.root)
            procs[root.pid] = root
            for child in root.children(recursive=True):
                procs[child.pid] = child
        if self.home:  # escaped the tree: not a descendant of this bench any more
            mine = self._mine | {c.pid for c in psutil.Process().children(recursive=True)}
            for p in psutil.process_iter():
                if p.pid in procs or p.pid in mine:
                    continue
                try:
                    key = (p.pid, p.create_time())
                    if key not in self._marked:
                        self._marked[key] = p.environ().get("PAINEL_HOME") == self.home
                except psutil.Error:
                    continue
                if self._marked[key]:
                    procs[p.pid] = p
        return list(procs.values())

    def cpu(self) -> float:
        """User + system seconds of every process, with those of their reaped children."""
        total = 0.0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def memory(self) -> dict[str, float]:
        pss = rss = 0
        count = 0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                m = p.memory_full_info()
                pss += m.pss
                rss += m.rss
                count += 1
        return {"pss_mb": pss / 2**20, "rss_mb": rss / 2**20, "processes": count}


@dataclass
class Quiet:
    cpu: float  # the tree's CPU seconds at the end of the wait
    at: float  # monotonic time of that reading
    rate: float  # cores over the last second
    waited_s: float
    settled: bool


def settle(
    tree: Tree,
    open_pages: int,
    ready: Callable[[], bool] = lambda: True,
    minimum_s: float = 1.0,
    deadline_s: float = SETTLE_DEADLINE_S,
) -> Quiet:
    """Until the tree's CPU over the last second is below the quiet threshold and ``ready()``."""
    threshold = QUIET_BASE + QUIET_PER_PAGE * open_pages
    start = time.monotonic()
    samples = [(start, tree.cpu())]
    while True:
        time.sleep(0.25)
        now = time.monotonic()
        samples.append((now, tree.cpu()))
        old = [s for s in samples if now - s[0] >= 1.0]
        if old:
            t_old, c_old = old[-1]
            rate = (samples[-1][1] - c_old) / (now - t_old)
            samples = [s for s in samples if s[0] >= t_old]
            if now - start >= minimum_s and rate <= threshold and ready():
                return Quiet(samples[-1][1], now, rate, now - start, True)
            if now - start > deadline_s:
                return Quiet(samples[-1][1], now, rate, now - start, False)


# ---- the systems --------------------------------------------------------------------------------
def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class Running:
    """A started server: where its page is, its process tree, how to log in and stop it."""

    name: str
    url: str
    tree: Tree
    ready_js: str
    stop: Callable[[], None]
    login: Callable[[Any], None] = lambda context: None
    pools_ready: Callable[[], bool] = lambda: True
    trigger: str = "change"
    extra: dict[str, Any] = field(default_factory=dict)


def stop_serve(port: int) -> None:
    """The ``painel serve --port PORT`` this bench started (by its pid), with its group."""
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            argv = p.cmdline()
            if "serve" in argv and "--port" in argv and str(port) in argv:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
                with contextlib.suppress(psutil.TimeoutExpired):
                    p.wait(15)
                if p.is_running():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)


def start_painel(home: Path, config: dict[str, Any], attempts: int = 3) -> Running:
    for attempt in range(attempts):
        port = free_port()
        try:
            server: Server = start_server(home, config=config, port=port, deadline=180)
            break
        except requests.RequestException as exc:
            # start_server asks /login with a 2 s timeout and gives up on a slower answer (a
            # loaded machine) without stopping the server it started
            stop_serve(port)
            if attempt == attempts - 1:
                raise
            print(f"viewers: painel serve answered slowly ({exc}); again", flush=True)

    def login(context: Any) -> None:
        page = context.new_page()
        try:
            browser_login(page, server, TUTOR, TUTOR_PASSWORD)
        finally:
            page.close()

    def pools_ready() -> bool:
        try:
            return bool(server.health()["pools_ready"])
        except (requests.RequestException, KeyError, ValueError):
            return False

    return Running(
        "painel",
        server.base + "/voila/render/progresso.ipynb",
        Tree(server.proc.pid, home),
        PAINEL_READY,
        server.stop,
        login=login,
        pools_ready=pools_ready,
        trigger="change",
        extra={"log": str(server.log_path)},
    )


def streamlit_python() -> Path:
    """``.venv-streamlit``'s interpreter, made or brought up to date from the requirements."""
    python = STREAMLIT_VENV / "bin" / "python"
    stamp = STREAMLIT_VENV / ".installed"
    want = hashlib.sha256(
        STREAMLIT_REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes()
    ).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    print(f"viewers: installing Streamlit into {STREAMLIT_VENV.name} ...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(STREAMLIT_VENV)], check=True, timeout=300)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(STREAMLIT_REQUIREMENTS),
            "-c",
            str(CONSTRAINTS),
        ],
        check=True,
        timeout=1200,
    )
    stamp.write_text(want + "\n")
    return python


def tutor_classes() -> list[int]:
    """The demo tutor's classes, from the progress domain's demo users."""
    from painel.progress import DOMAIN

    user = next(u for u in DOMAIN.demo_users if u.username == TUTOR)
    return [int(g.rsplit(":", 1)[1]) for g in user.grants if g.startswith("progress:class:")]


def start_streamlit(work: Path, db: Path, python: Path, deadline: float = 60) -> Running:
    port = free_port()
    run_dir = work / f"streamlit-{port}"
    run_dir.mkdir(parents=True)
    log_path = run_dir / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAINEL_", "STREAMLIT_"))}
    env.update({"HOME": str(run_dir), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    args = [
        str(python),
        "-m",
        "streamlit",
        "run",
        str(STREAMLIT_APP),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--",
        "--db",
        str(db),
        "--classes",
        ",".join(map(str, tutor_classes())),
        "--user",
        TUTOR_NAME,
    ]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        args,
        cwd=run_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def stop() -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()

    end = time.monotonic() + deadline
    while True:
        if proc.poll() is not None:
            stop()
            raise RuntimeError(f"streamlit exited {proc.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/_stcore/health", timeout=2).text.strip() == "ok":
                break
        if time.monotonic() > end:
            stop()
            raise RuntimeError(f"streamlit did not answer in {deadline}s:\n{log_path.read_text()}")
        time.sleep(0.2)
    return Running(
        "streamlit",
        base + "/",
        Tree(proc.pid),
        STREAMLIT_READY,
        stop,
        trigger="pointerdown",
        extra={"log": str(log_path)},
    )


# ---- one level ----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def open_page(context: Any, system: Running) -> tuple[Any, float]:
    """A new page at the system's page, kept open: (page, seconds to usable)."""
    page = context.new_page()
    page.set_default_timeout(USABLE_TIMEOUT_MS)
    page.goto(system.url, wait_until="commit", timeout=USABLE_TIMEOUT_MS)
    page.wait_for_function("() => window.benchUsable !== undefined", timeout=USABLE_TIMEOUT_MS)
    return page, float(page.evaluate("() => window.benchUsable")) / 1000


def close_page(page: Any) -> None:
    """Leave like a closed tab: navigating away runs the page's unload (painel's shutdown beacon)."""
    with contextlib.suppress(Exception):
        page.goto("about:blank", timeout=15_000)
    with contextlib.suppress(Exception):
        page.close()


def week_options(page: Any, system: Running) -> list[str]:
    if system.name == "painel":
        return [
            o.replace("\xa0", " ")
            for o in page.locator(".widget-dropdown")
            .filter(has=page.locator("label", has_text="Semana:"))
            .locator("select option")
            .all_inner_texts()
        ]
    box = page.locator("[data-testid=stSelectbox]").filter(has_text="Semana:")
    box.locator("button[aria-haspopup=listbox]").click()
    options = page.locator("[role=option]")
    options.first.wait_for()
    labels = [o.replace("\xa0", " ").strip() for o in options.all_inner_texts()]
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('[role=option]')", timeout=10_000)
    return labels


def change_week(page: Any, system: Running, index: int, label: str) -> dict[str, Any]:
    """Choose week ``index`` of the Semana filter; the page's timings (ms) of what follows."""
    if system.name == "painel":
        page.evaluate(FILTER_WATCH, [label, system.trigger, False])
        page.locator(".widget-dropdown").filter(
            has=page.locator("label", has_text="Semana:")
        ).locator("select").select_option(index=index)
    else:  # open the select box, then the watch, then the choice
        box = page.locator("[data-testid=stSelectbox]").filter(has_text="Semana:")
        box.locator("button[aria-haspopup=listbox]").click()
        option = page.locator("[role=option]").filter(has_text=label).first
        option.wait_for()
        page.evaluate(FILTER_WATCH, [label, system.trigger, True])
        option.click()
    result: dict[str, Any] = page.evaluate("() => window.benchFilter")
    return result


def filter_latency(page: Any, system: Running, changes: int = FILTER_CHANGES) -> dict[str, Any]:
    labels = week_options(page, system)
    if len(labels) < 2:
        raise RuntimeError(f"{system.name}: the Semana filter offers {labels}")
    chart, run_end, settled = [], [], []
    for i in range(changes):
        index = 1 + i % (len(labels) - 1)
        r = change_week(page, system, index, labels[index])
        chart.append(r["chart"] / 1000)
        settled.append(r["settled"] / 1000)
        if r.get("runEnd") is not None:
            run_end.append(max(r["runEnd"], r["chart"]) / 1000)
        time.sleep(READ_PAUSE_S)
    # issue 13's figures: painel to the chart; Streamlit to its run's end with the chart drawn
    issue = run_end if system.name == "streamlit" else chart
    return {
        "filter_s_p50": statistics.median(issue),
        "filter_s_p95": pct(issue, 0.95),
        "filter_chart_s_p50": statistics.median(chart),
        "filter_chart_s_p95": pct(chart, 0.95),
        "filter_settled_s_p50": statistics.median(settled),
        "filter_changes": changes,
        "filter_s_all": issue,
    }


def wait_processes(tree: Tree, count: int, deadline_s: float = 30) -> None:
    """Until the tree has at most ``count`` processes again (closed pages' kernels ended)."""
    end = time.monotonic() + deadline_s
    while len(tree.processes()) > count and time.monotonic() < end:
        time.sleep(0.25)


def run_level(browser: Any, system: Running, n: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR")
    context.add_init_script(system.ready_js)
    pages: list[Any] = []
    try:
        system.login(context)
        tree = system.tree
        settle(tree, 0, system.pools_ready)
        before = len(tree.processes())
        warm, warm_s = open_page(context, system)  # the first visitor's one-off costs
        close_page(warm)
        wait_processes(tree, before)
        quiet = settle(tree, 0, system.pools_ready, minimum_s=2.0)
        idle = tree.memory()
        usable, cpu, cpu_raw, waits, unsettled = [], [], [], [], 0
        for i in range(n):
            page, seconds = open_page(context, system)
            pages.append(page)
            after = settle(tree, i + 1, system.pools_ready)
            raw = after.cpu - quiet.cpu
            usable.append(seconds)
            cpu_raw.append(raw)
            cpu.append(max(0.0, raw - quiet.rate * (after.at - quiet.at)))
            waits.append(after.waited_s)
            unsettled += not after.settled
            quiet = after
            print(
                f"  {system.name} N={n}: page {i + 1}/{n} usable {seconds:.2f} s, "
                f"CPU {cpu[-1]:.2f} s{'' if after.settled else ' (unsettled)'}",
                flush=True,
            )
        settle(tree, n, system.pools_ready, minimum_s=2.0)
        full = tree.memory()
        filt = filter_latency(pages[-1], system)
        return {
            "n": n,
            "usable_s_p50": statistics.median(usable),
            "usable_s_p95": pct(usable, 0.95),
            "usable_s_max": max(usable),
            "cpu_per_open_s_p50": statistics.median(cpu),
            "cpu_per_open_s_mean": statistics.fmean(cpu),
            "cpu_per_open_raw_s_p50": statistics.median(cpu_raw),
            "pss_per_page_mb": (full["pss_mb"] - idle["pss_mb"]) / n,
            "rss_per_page_mb": (full["rss_mb"] - idle["rss_mb"]) / n,
            "idle_pss_mb": idle["pss_mb"],
            "idle_rss_mb": idle["rss_mb"],
            "open_pss_mb": full["pss_mb"],
            "open_rss_mb": full["rss_mb"],
            "idle_processes": idle["processes"],
            "open_processes": full["processes"],
            "idle_cpu_rate_cores": quiet.rate,
            "settle_s_p50": statistics.median(waits),
            "unsettled_opens": unsettled,
            "warmup_usable_s": warm_s,
            **{k: v for k, v in filt.items()},
            "usable_s_all": usable,
            "cpu_per_open_s_all": cpu,
        }
    finally:
        for page in pages:
            close_page(page)
        with contextlib.suppress(Exception):
            context.close()


# ---- the bench ----------------------------------------------------------------------------------
def prepare_home(home: Path) -> Path:
    """The demo data directory with 12 weeks of progress; the published file it reads."""
    from painel.store import Store

    store = Store(home / "store")
    if store.current_version("progress") is None:
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "painel.sqlite").exists():
            prepare_demo_home(home)
        painel(home, "demo", "progress-history", "--weeks", "12", timeout=900)
    return store.current_path("progress")


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench viewers", description=__doc__)
    parser.add_argument(
        "--levels",
        default=",".join(map(str, LEVELS)),
        help="open pages per level, comma separated (default 1,10,50)",
    )
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help="painel,streamlit (default both)"
    )
    parser.add_argument(
        "--painel-config",
        type=Path,
        help="a voila.json-style file for painel serve --config (over the bench's cap)",
    )
    parser.add_argument("--label", default="", help="a name for this run (results and table)")
    parser.add_argument("--home", type=Path, help="a data directory to use (prepared if needed)")
    args = parser.parse_args(argv or [])
    args.levels = [int(x) for x in str(args.levels).split(",") if x.strip()]
    args.systems = [s.strip() for s in str(args.systems).split(",") if s.strip()]
    unknown = set(args.systems) - set(SYSTEMS)
    if unknown or not args.levels or min(args.levels) < 1:
        parser.error(f"bad --systems {sorted(unknown)} or --levels {args.levels}")
    return args


@contextlib.contextmanager
def started(
    name: str, home: Path, work: Path, db: Path, config: dict[str, Any], python: Path | None
) -> Iterator[Running]:
    system = (
        start_painel(home, config)
        if name == "painel"
        else start_streamlit(work, db, python or streamlit_python())
    )
    try:
        yield system
    finally:
        system.stop()
        for p in system.tree.processes():  # a kernel its server left behind (ours: by pid)
            with contextlib.suppress(psutil.Error):
                p.kill()


def table(results: dict[str, dict[int, dict[str, Any]]], label: str) -> str:
    head = (
        f"{'system':18} {'N':>3} {'usable p50':>10} {'p95':>6} {'CPU/open':>8} "
        f"{'PSS/page':>9} {'RSS/page':>9} {'filter p50':>10} {'p95':>6} {'settled':>7}"
    )
    lines = [head, "-" * len(head)]
    for name, levels in results.items():
        shown = f"{name}[{label}]" if label and name == "painel" else name
        for n, r in levels.items():
            lines.append(
                f"{shown:18} {n:>3} {r['usable_s_p50']:>9.2f}s {r['usable_s_p95']:>5.2f}s "
                f"{r['cpu_per_open_s_p50']:>7.2f}s {r['pss_per_page_mb']:>6.1f} MB "
                f"{r['rss_per_page_mb']:>6.1f} MB {r['filter_s_p50']:>9.3f}s "
                f"{r['filter_s_p95']:>5.3f}s {r['filter_settled_s_p50']:>6.3f}s"
            )
    return "\n".join(lines)


RATIO_FLOOR = {  # the smallest Streamlit figure a ratio is taken over
    "usable_s_p50": 0.001,
    "cpu_per_open_s_p50": 0.001,
    "pss_per_page_mb": 1.0,
    "rss_per_page_mb": 1.0,
    "filter_s_p50": 0.001,
    "filter_chart_s_p50": 0.001,
}
RATIO_KEYS = tuple(RATIO_FLOOR)


def run(work: Path, argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The sections ``python -m bench`` records as ``viewers.<section>``."""
    from playwright.sync_api import sync_playwright

    args = options(argv)
    extra = json.loads(args.painel_config.read_text()) if args.painel_config else {}
    config = deep_merge(
        {
            "PainelVoila": {"max_kernels_per_user": max(args.levels) + 4},
            "MappingKernelManager": {"cull_idle_timeout": 0},
        },
        extra,
    )
    python = streamlit_python() if "streamlit" in args.systems else None
    home = args.home or work / "viewers-home"
    print("viewers: the demo data directory and 12 weeks of progress ...", flush=True)
    db = prepare_home(home)
    results: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in args.systems}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for n in args.levels:
                for name in args.systems:
                    print(f"viewers: {name}, {n} open page(s) ...", flush=True)
                    with started(name, home, work, db, config, python) as system:
                        results[name][n] = run_level(browser, system, n)
        finally:
            browser.close()
    print(table(results, args.label), flush=True)

    pinned = re.search(r"(?m)^streamlit==(\S+)", STREAMLIT_REQUIREMENTS.read_text())
    out: dict[str, dict[str, Any]] = {
        "run": {
            "label": args.label,
            "levels": args.levels,
            "systems": args.systems,
            "painel_config": config,
            "streamlit": pinned.group(1) if pinned else None,
            "login": "painel: the login form (tutor); streamlit: none",
        }
    }
    samples: dict[str, Any] = {}
    for name, levels in results.items():
        for n, r in levels.items():
            out[f"{name}.n{n}"] = {k: v for k, v in r.items() if not k.endswith("_all")}
            for k, v in r.items():
                if k.endswith("_all"):
                    samples[f"{name}.n{n}.{k.removesuffix('_all')}"] = [round(x, 3) for x in v]
    if {"painel", "streamlit"} <= set(results):
        for n in args.levels:
            p, s = results["painel"][n], results["streamlit"][n]
            # a ratio over a figure that is noise (Streamlit's memory per page: under 1 MB,
            # even below zero) says nothing: the difference does
            out[f"ratio.n{n}"] = {
                f"painel_over_streamlit_{k}": (p[k] / s[k] if abs(s[k]) >= RATIO_FLOOR[k] else None)
                for k in RATIO_KEYS
            } | {
                f"painel_minus_streamlit_{k}": p[k] - s[k]
                for k in ("pss_per_page_mb", "rss_per_page_mb")
            }
    out["samples"] = samples
    if args.label:
        (REPO / "bench" / "results").mkdir(exist_ok=True)
        path = REPO / "bench" / "results" / f"viewers-{args.label}.json"
        path.write_text(json.dumps(out, indent=2, default=str))
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(["viewers", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
