"""Drive the real ``painel`` command line in child processes against a throw-away PAINEL_HOME.

``Cli(home, project)`` runs ``python -m painel.cli ...`` with ``PAINEL_HOME`` and
``PAINEL_PROJECT`` set; every call has a timeout, and processes started with ``popen`` are
killed (with their process group) when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from painel.opstate import OpState
from painel.runctx import RunContext
from painel.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURE_PROJECT = REPO / "tests" / "fixtures" / "project"
CLI_TIMEOUT = 120  # one papermill run takes a few seconds; this only bounds a hang

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


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
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
    home: Path
    project: Path
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _pids: list[int] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAINEL_")}
        env["PAINEL_HOME"] = str(self.home)
        env["PAINEL_PROJECT"] = str(self.project)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "painel.cli", *map(str, args)]

    def run(self, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.argv(*args),
            env=self.env(),
            cwd=self.home,
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
            deadline = time.monotonic() + 10
            while pid_running(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_running(pid):  # pragma: no cover - the kernel's parent poller failed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    # ---- reading the data directory directly -------------------------------------------
    @property
    def store(self) -> Store:
        return Store(self.home / "store")

    def current(self, dataset: str) -> str | None:
        return self.store.current_version(dataset)

    def staging(self, dataset: str) -> Path:
        return self.home / "store" / dataset / "staging"

    def runs(self) -> list[dict]:
        result = self.run("runs", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def recorded_runs(self) -> list[dict]:
        """The run log read straight from the operational database (no CLI, no reaping)."""
        if not (self.home / "painel.sqlite").exists():
            return []
        with OpState(self.home / "painel.sqlite").connect() as con:
            return [dict(r) for r in con.execute("SELECT * FROM runs").fetchall()]

    # ---- helpers for test modules (no `from conftest import`: conftest names collide) ------
    one_line_error = staticmethod(one_line_error)
    painel_lines = staticmethod(painel_lines)
    pid_running = staticmethod(pid_running)
    wait_for = staticmethod(wait_for)

    def seed_demo(self) -> str:
        return seed_demo(self.home)

    def seed_fixture(self, rows: int = 3, dataset: str = "fixture") -> str:
        return seed_fixture(self.home, rows, dataset)


def make_cli(home: Path, project: Path) -> Cli:
    home.mkdir(parents=True, exist_ok=True)
    return Cli(home=home, project=project)


@pytest.fixture(scope="session")
def new_cli() -> Iterator[Callable[..., Cli]]:
    """A factory for Clis outliving one test (module fixtures); all cleaned up at the end."""
    made: list[Cli] = []

    def factory(home: Path, project: Path = REPO) -> Cli:
        c = make_cli(home, project)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.cleanup()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI on the real project (/work/main), with an empty data directory."""
    c = make_cli(tmp_path / "home", REPO)
    yield c
    c.cleanup()


@pytest.fixture
def fixture_cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI on tests/fixtures/project (tiny named notebooks), with an empty data directory."""
    c = make_cli(tmp_path / "home", FIXTURE_PROJECT)
    yield c
    c.cleanup()


def seed_demo(home: Path) -> str:
    """Publish a demo version in-process (no papermill), as the demo notebook would."""
    from painel.demo import etl as demo
    from painel.demo import source

    src = source.generate(home / "sources" / "demo")
    build = Store(home / "store").build(
        demo.DATASET, demo.TABLES, run=RunContext(run_id="seed-demo", job="seed")
    )
    demo.load(build, src.parent)
    return build.publish()


def seed_fixture(home: Path, rows: int = 3, dataset: str = "fixture") -> str:
    """Publish a version of the fixture notebooks' dataset in-process: table t with ``rows`` rows."""
    build = Store(home / "store").build(
        dataset, {"t": "public"}, run=RunContext(run_id="seed-fixture", job="seed")
    )
    build.con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({int(rows)})")
    return build.publish()
