"""``painel schedule --once`` as real processes, running real (tiny) notebooks with Papermill."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from painel_testing import write_etl_notebook as write_notebook

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 180  # generous: each run starts a kernel


def make_project(root: Path, job: str, body: str, schedule: str) -> Path:
    write_notebook(
        root / "notebooks" / "etl" / f"{job}.ipynb",
        "sleep_s: float = 2.0  # seconds the job takes",
        body,
    )
    (root / "parameters").mkdir(parents=True)
    (root / "parameters" / "schedule.yaml").write_text(schedule, encoding="utf-8")
    return root


def env_for(home: Path, project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAINEL_")}
    env["PAINEL_HOME"] = str(home)
    env["PAINEL_PROJECT"] = str(project)
    return env


def start_once(home: Path, project: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "painel.cli", "schedule", "--once"],
        cwd=project,
        env=env_for(home, project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_once(home: Path, project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "painel.cli", "schedule", "--once"],
        cwd=project,
        env=env_for(home, project),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def query(home: Path, sql: str, args=()) -> list[sqlite3.Row]:
    con = sqlite3.connect(home / "painel.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def working_for(home: Path) -> list[psutil.Process]:
    """Live processes whose environment points at ``home`` (runs, kernels)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if (
                proc.environ().get("PAINEL_HOME") == str(home)
                and proc.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def away_from_minute_boundary() -> None:
    """Start well inside a minute, so both processes see the same '* * * * *' fire time."""
    second = datetime.now(UTC).second
    if second > 40:
        time.sleep(62 - second)


def test_two_schedulers_run_a_due_job_once(tmp_path):
    home = tmp_path / "home"
    project = make_project(
        tmp_path / "project",
        "slow_job",
        "import time\ntime.sleep(sleep_s)",
        'timezone: America/Sao_Paulo\njobs:\n  slow_job:\n    cron: "* * * * *"\n    catch_up: true\n',
    )
    away_from_minute_boundary()
    started = datetime.now(UTC)
    procs = [start_once(home, project), start_once(home, project)]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=RUN_TIMEOUT)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert [rc for rc, _, _ in results] == [0, 0], results
    outputs = sorted(out.strip() for _, out, _ in results)
    # one ran the job, the other found its fire time already claimed
    assert outputs == ["nothing due", "slow_job: succeeded"], results

    runs = query(home, "SELECT * FROM runs")
    assert len(runs) == 1
    run = runs[0]
    assert (run["job"], run["status"], run["trigger_"], run["attempt"]) == (
        "slow_job",
        "succeeded",
        "schedule",
        1,
    )
    assert run["duration_s"] >= 2.0  # the notebook really ran its sleep
    assert Path(run["notebook_out"]).is_file()

    (st,) = query(home, "SELECT * FROM schedule_state WHERE job = 'slow_job'")
    fire = datetime.fromisoformat(st["last_fire_at"])
    assert fire == started.replace(second=0, microsecond=0)
    assert st["retry_at"] is None


def test_failing_job_exits_1_and_schedules_a_retry(tmp_path):
    home = tmp_path / "home"
    project = make_project(
        tmp_path / "project",
        "bad_job",
        'raise RuntimeError("boom from the fixture")',
        # fires once a year: after the first (caught-up) run only retries can be due
        "jobs:\n  bad_job:\n    cron: '0 0 1 1 *'\n    retries: 1\n    retry_backoff_s: 2\n",
    )
    before = datetime.now(UTC)
    first = run_once(home, project)
    after = datetime.now(UTC)
    assert first.returncode == 1, (first.stdout, first.stderr)
    assert "bad_job: failed" in first.stdout
    assert "RuntimeError: boom from the fixture" in first.stdout

    (st,) = query(home, "SELECT * FROM schedule_state WHERE job = 'bad_job'")
    assert st["retry_at"] is not None
    retry_at = datetime.fromisoformat(st["retry_at"])
    assert before + timedelta(seconds=2) <= retry_at <= after + timedelta(seconds=2)
    assert st["retry_attempt"] == 2

    (run,) = query(home, "SELECT * FROM runs")
    assert (run["status"], run["trigger_"], run["attempt"]) == ("failed", "schedule", 1)
    assert "RuntimeError: boom from the fixture" in run["error"]

    # once retry_at has passed, the next --once runs attempt 2 as a retry
    time.sleep(max(0.0, (retry_at - datetime.now(UTC)).total_seconds()) + 0.2)
    second = run_once(home, project)
    assert second.returncode == 1, (second.stdout, second.stderr)
    runs = query(home, "SELECT trigger_, attempt, status FROM runs ORDER BY started_at")
    assert [tuple(r) for r in runs] == [("schedule", 1, "failed"), ("retry", 2, "failed")]
    (st,) = query(home, "SELECT * FROM schedule_state WHERE job = 'bad_job'")
    assert st["retry_at"] is None  # retries: 1 is spent
    assert st["retry_attempt"] == 0

    third = run_once(home, project)
    assert third.returncode == 0
    assert third.stdout.strip() == "nothing due"


def test_timeout_kills_the_run_and_schedules_a_retry(tmp_path):
    home = tmp_path / "home"
    project = make_project(
        tmp_path / "project",
        "stuck_job",
        "import time\ntime.sleep(120)",
        # the timeout leaves room for papermill's import and the kernel's start (~4 s here)
        "jobs:\n  stuck_job:\n    cron: '0 0 1 1 *'\n    timeout_s: 10\n    retry_backoff_s: 600\n",
    )
    t0 = time.monotonic()
    proc = start_once(home, project)
    try:
        # while it runs, the kernel executing the notebook works for this data directory
        kernel_seen = False
        while not kernel_seen and proc.poll() is None and time.monotonic() - t0 < 60:
            kernel_seen = any("ipykernel" in cmdline(p) for p in working_for(home))
            time.sleep(0.2)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert kernel_seen
    assert proc.returncode == 1, (out, err)
    assert "stuck_job: failed (killed after timeout of 10s)" in out
    assert time.monotonic() - t0 < 60

    (st,) = query(home, "SELECT * FROM schedule_state WHERE job = 'stuck_job'")
    assert st["retry_at"] is not None and st["retry_attempt"] == 2

    # nothing of the run survives it: no process still works for this data directory
    # (the kernel runs in its own session and exits when its parent is gone)
    deadline = time.monotonic() + 15
    left = working_for(home)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = working_for(home)
    assert left == []

    # the killed run is reported as failed, not left 'running'
    from painel.opstate import OpState
    from painel.runner import recent_runs

    (run,) = recent_runs(OpState(home / "painel.sqlite"))
    assert run["status"] == "failed"
    assert "died" in run["error"]
