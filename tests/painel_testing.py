"""Shared helpers for tests that run the real CLI and a real ``painel serve``.

``Cli(home, project)`` runs ``python -m painel.cli ...`` with ``PAINEL_HOME`` and
``PAINEL_PROJECT`` set; every call has a timeout, and processes started with ``popen`` are
killed (with their process group) by ``cleanup()``. ``painel(home, ...)`` is a one-shot
``Cli.run`` that raises unless the command succeeds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
FIXTURE_PROJECT = REPO / "tests" / "fixtures" / "project"
CLI_TIMEOUT = 120  # one papermill run takes a few seconds; this only bounds a hang
DEMO_PASSWORDS = {
    "admin": "demo-admin",
    "analista": "demo-analista",
    "central": "demo-central",
    "sre.metropolitana": "demo-sre-metropolitana",
    "sre.uberlandia": "demo-sre-uberlandia",
    "escola.31212401": "demo-escola-dom-pedro",
}
DEMO_PANEL = "rede_visao_geral.ipynb"  # a panel every demo login may open


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(home: Path, project: Path = REPO, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAINEL_", "JUPYTER_PATH"))}
    env.update({"PAINEL_HOME": str(home), "PAINEL_PROJECT": str(project), **extra})
    return env


# The kernel logs a warning of its own on the stderr it inherits; it is not painel's output.
KERNEL_LOG_PREFIXES = ("[IPKernelApp]",)


def painel_lines(stderr: str) -> list[str]:
    """stderr without the kernel's own log lines."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(KERNEL_LOG_PREFIXES)
    ]


def one_line_error(stderr: str) -> str:
    """painel's error message, asserting it is exactly one line."""
    lines = painel_lines(stderr)
    assert len(lines) == 1, f"expected one line of error, got:\n{stderr}"
    assert lines[0].startswith("painel: "), lines[0]
    return lines[0]


def pid_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


PROGRESS_LINE = re.compile(r"^[\w-]+: \d+/\d+\b")  # what `painel etl run` prints off a terminal


def without_progress(stdout: str) -> str:
    """``painel etl run``'s stdout less its progress lines (runctx.describe)."""
    return "".join(ln for ln in stdout.splitlines(keepends=True) if not PROGRESS_LINE.match(ln))


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Cli:
    """The real command line in child processes, for one data directory and project.

    Commands run in ``cwd`` (default: the data directory), with ``extra_env`` exported."""

    home: Path
    project: Path = REPO
    cwd: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _procs: list[subprocess.Popen[str]] = field(default_factory=list)
    _pids: list[int] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return cli_env(self.home, self.project, **self.extra_env)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "painel.cli", *map(str, args)]

    def run(
        self,
        *args: str,
        timeout: float = CLI_TIMEOUT,
        stdin: str | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``painel ARGS`` to completion; with ``check``, fail unless it exits 0."""
        proc = subprocess.run(
            self.argv(*args),
            env=self.env(),
            cwd=self.cwd or self.home,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"painel {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.argv(*args),
            env=self.env(),
            cwd=self.cwd or self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._procs.append(proc)
        return proc

    def track_pid(self, pid: int) -> None:
        """A process (a kernel) to make sure is gone when the test ends."""
        self._pids.append(pid)

    def cleanup(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
        for pid in self._pids:
            with contextlib.suppress(AssertionError):
                wait_for(lambda pid=pid: not pid_running(pid), 10, f"pid {pid}", interval=0.1)
            if pid_running(pid):  # pragma: no cover - the kernel's parent poller failed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    # ---- reading the data directory directly -------------------------------------------
    @property
    def store(self) -> Any:
        from painel.store import Store

        return Store(self.home / "store")

    def current(self, dataset: str) -> str | None:
        return self.store.current_version(dataset)

    def staging(self, dataset: str) -> Path:
        return self.home / "store" / dataset / "staging"

    def runs(self) -> list[dict[str, Any]]:
        result = self.run("runs", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def recorded_runs(self) -> list[dict[str, Any]]:
        """The run log read straight from the operational database (no CLI, no reaping)."""
        from painel.opstate import OpState

        if not (self.home / "painel.sqlite").exists():
            return []
        with OpState(self.home / "painel.sqlite").connect() as con:
            return [dict(r) for r in con.execute("SELECT * FROM runs").fetchall()]

    # ---- the module's helpers, reachable from the fixture ----------------------------------
    one_line_error = staticmethod(one_line_error)
    painel_lines = staticmethod(painel_lines)
    pid_running = staticmethod(pid_running)
    wait_for = staticmethod(wait_for)

    def seed_demo(self) -> str:
        return seed_demo(self.home)

    def seed_fixture(self, rows: int = 3, dataset: str = "fixture") -> str:
        return seed_fixture(self.home, rows, dataset)


def painel(
    home: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = CLI_TIMEOUT,
    project: Path = REPO,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``painel ARGS`` once in the project folder; by default fail unless it exits 0."""
    cli = Cli(home, project, cwd=project)
    return cli.run(*args, stdin=stdin, timeout=timeout, check=check)


def seed_demo(home: Path) -> str:
    """Publish the school demo's newest dump (scale 0.01) in-process (no papermill, no FTP):
    the data the demo logins (SREs 22 and 45, school 31212401) have rows in."""
    from painel.config import Paths
    from painel.runctx import RunContext
    from painel.school import demo
    from painel.school.etl import job as school

    saved = os.environ.get("PAINEL_HOME")
    os.environ["PAINEL_HOME"] = str(home)
    try:
        paths = Paths.from_env().ensure()
        demo.write_dumps(paths, history=False)
        job = school.prepare(
            paths,
            {"source": "local", "directory": str(demo.folder(paths)), "stable_wait_s": 0.0},
            log=lambda _line: None,
        )
        job.run = RunContext(run_id="seed-demo", job="seed")
        build = school.new_build(job)
        job.build(build)
        return job.publish(build)
    finally:
        if saved is None:
            os.environ.pop("PAINEL_HOME", None)
        else:
            os.environ["PAINEL_HOME"] = saved


def seed_fixture(home: Path, rows: int = 3, dataset: str = "fixture") -> str:
    """Publish a version of the fixture notebooks' dataset in-process: table t with ``rows`` rows."""
    from painel.runctx import RunContext
    from painel.store import Store

    build = Store(home / "store").build(
        dataset, {"t": "public"}, run=RunContext(run_id="seed-fixture", job="seed")
    )
    build.con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({int(rows)})")
    return build.publish()


def browser_login(page: Any, server: Server, username: str, password: str) -> None:
    """Log in through the login form of a Playwright page and wait for the landing page."""
    page.goto(server.base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(server.base + "/")


def copy_project(dest: Path, cademi_base_url: str | None = None) -> Path:
    """A throwaway project checkout (notebooks, parameters, voila.json) to point PAINEL_PROJECT at;
    with ``cademi_base_url``, the progress job's parameters (production and demo) point at that
    loopback simulator, with the demo's 50x limits (as the repository's progress.yaml once had)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("notebooks", "parameters"):
        shutil.copytree(
            REPO / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
    for name in ("voila.json", "pyproject.toml"):
        shutil.copy(REPO / name, dest / name)
    if cademi_base_url:
        for yaml_path in (
            dest / "parameters" / "progress.yaml",
            dest / "parameters" / "demo" / "progress.yaml",
        ):
            text = yaml_path.read_text(encoding="utf-8")
            text = re.sub(r"(?m)^base_url: .*$", f"base_url: {cademi_base_url}", text)
            text = re.sub(r"(?m)^per_second: .*$", "per_second: 100", text)
            text = re.sub(r"(?m)^per_minute: .*$", "per_minute: 6000", text)
            yaml_path.write_text(text, encoding="utf-8")
    return dest


@contextlib.contextmanager
def progress_demo(
    tmp: Path, weeks: int = 3, config: dict[str, Any] | None = None, enrolment: bool = False
) -> Iterator[tuple[Server, Path, Path, Any]]:
    """The demo's simulated Cademi school (limits as `make demo`: 50x), ``weeks`` weeks of history
    from the real ETL, and ``painel serve`` on a throwaway project: (server, home, project, sim)."""
    from painel.progress import demo
    from painel.progress.simulator import CademiSimulator

    home = tmp / "home"
    home.mkdir(parents=True)
    sim = CademiSimulator(
        seed=demo.SEED,
        students=demo.STUDENTS,
        classes=demo.CLASSES,
        key=demo.KEY,
        per_second=100,
        per_minute=6000,
    )
    sim.start()
    try:
        project = copy_project(tmp / "proj", cademi_base_url=sim.base_url)
        painel(home, "demo", "prepare", "--no-data", project=project)
        painel(
            home, "demo", "progress-history", "--weeks", str(weeks), project=project, timeout=240
        )
        if enrolment:
            seed_demo(home)  # the school panels' data (rede_visao_geral)
        server = start_server(
            home, project=project, env={"CADEMI_API_KEY": demo.KEY}, config=config
        )
        try:
            yield server, home, project, sim
        finally:
            server.stop()
    finally:
        sim.stop()


def prepare_demo_home(home: Path) -> None:
    painel(home, "demo", "prepare", "--no-data")  # the demo logins, the newest school dump
    painel(
        home,
        "etl",
        "run",
        "school",
        "-p",
        "source=local",
        "-p",
        "directory=sources/school",
        "-p",
        "stable_wait_s=0",
        timeout=180,
    )
    painel(
        home,
        "users",
        "add",
        "tutor.ana",
        "--role",
        "tutor",
        "--grant",
        "progress:class:1",
        "--password-stdin",
        stdin="tutor-ana-pass\n",
    )


@dataclass
class Server:
    base: str
    home: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    sessions: list[requests.Session] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def health(self) -> dict[str, Any]:
        """``/painel/api/health``: {"status": "ok", "pools_ready": bool} (no login needed)."""
        r = requests.get(self.base + "/painel/api/health", timeout=10)
        r.raise_for_status()
        return r.json()

    def wait_pools_ready(self, timeout: float = 60) -> None:
        """Until every preheated-kernel pool is full (at once when preheating is off)."""

        def ready() -> bool:
            try:
                return bool(self.health()["pools_ready"])
            except requests.Timeout:  # a server busy starting its kernels: ask again
                return False

        try:
            wait_for(ready, timeout, "full pools", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; painel serve log:\n{self.log()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_server(
    home: Path,
    *,
    config: dict[str, Any] | None = None,
    preheat: bool = True,
    deadline: float = 90,
    project: Path = REPO,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Server:
    port = port or free_port()
    log_path = home / f"serve-{port}.log"
    args = [sys.executable, "-m", "painel.cli", "serve", "--port", str(port)]
    if config:
        cfg = home / f"serve-{port}.json"
        cfg.write_text(json.dumps(config), encoding="utf-8")
        args += ["--config", str(cfg)]
    if not preheat:
        args.append("--no-preheat")
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        args,
        env=cli_env(home, project, **(env or {})),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=project,
    )
    server = Server(f"http://127.0.0.1:{port}", home, proc, log_path)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"painel serve exited {proc.returncode}:\n{server.log()}")
        try:
            if requests.get(server.base + "/login", timeout=5).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
            pass
        time.sleep(0.3)
    else:
        server.stop()
        raise AssertionError(f"painel serve did not answer within {deadline}s:\n{server.log()}")
    if preheat:  # let the pools fill so renders are preheated and deterministic
        try:
            server.wait_pools_ready(max(1.0, end - time.monotonic()))
        except BaseException:  # never leave a server (and its kernels) behind a failed start
            server.stop()
            raise
    return server


def login(server: Server, username: str, password: str | None = None) -> requests.Session:
    """A logged-in session. The deadline leaves room for a server whose preheated kernels
    are still running their notebooks' first cells on a loaded two-core machine."""
    s = requests.Session()
    s.get(server.base + "/login", timeout=30)
    r = s.post(
        server.base + "/login",
        data={
            "_xsrf": s.cookies.get("_xsrf"),
            "username": username,
            "password": password or DEMO_PASSWORDS[username],
        },
        timeout=30,
    )
    assert r.status_code == 200, f"login of {username} failed: {r.status_code}"
    assert "painel_session" in s.cookies
    server.sessions.append(s)
    return s


KERNEL_ID = re.compile(r'kernelId"?\s*[:=]\s*"([0-9a-f-]{36})"')


def render(
    s: requests.Session, server: Server, notebook: str, **kw: Any
) -> tuple[requests.Response, str | None]:
    r = s.get(f"{server.base}/voila/render/{notebook}", timeout=90, allow_redirects=False, **kw)
    m = KERNEL_ID.search(r.text)
    return r, m.group(1) if m else None


def page_kernel(s: requests.Session, server: Server, notebook: str) -> str:
    """Render ``notebook`` and return its kernel id; a failure says what the page and the
    server's log ended with (a CI run shows nothing else of a server it has stopped)."""
    r, kernel_id = render(s, server, notebook)
    if r.status_code != 200 or kernel_id is None:
        raise AssertionError(
            f"{notebook}: HTTP {r.status_code}, kernel {kernel_id}\n"
            f"--- the page's last 1500 characters:\n{r.text[-1500:]}\n"
            f"--- the server log's last 6000 characters:\n{server.log()[-6000:]}"
        )
    return kernel_id


# The kernel websocket client lives in kernel_client (the load generator in bench/ uses it
# too); its names stay importable from here.
from kernel_client import KernelChannel, cookie_header  # noqa: E402, F401


def widget_text(states: dict[str, dict[str, Any]]) -> str:
    """Every HTML widget value, chart (layout and text alternative) and Output widget html/plotly
    content, as one string."""
    parts = []
    for state in states.values():
        if state.get("_model_name") == "HTMLModel":
            parts.append(str(state.get("value", "")))
        if isinstance(state.get("spec"), dict):  # a dash.Chart
            parts.append(json.dumps(state["spec"].get("layout", {}), ensure_ascii=False))
            parts.append(str(state.get("alt", "")))
        for out in state.get("outputs", []) or []:
            data = out.get("data", {})
            parts.append(str(data.get("text/html", "")))
            parts.append(
                json.dumps(data.get("application/vnd.plotly.v1+json", {}), ensure_ascii=False)
            )
    return "\n".join(parts)


def write_etl_notebook(
    path: Path, params: str = 'label: str = "x"  # a label', body: str = "pass"
) -> Path:
    """A tiny ETL notebook: one ``parameters`` cell and one body cell, python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
