"""Starting a run as a child process: light (no pandas, no DuckDB), so ``painel serve`` can
start the runs dashboard pages ask for (:mod:`painel.service`) without loading them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import HOME_ENV, PROJECT_ENV, Paths

REPORT_PREFIX = "report:"  # schedule.yaml names a report burst "report:NAME"


def spawn(
    paths: Paths,
    job: str,
    trigger: str,
    attempt: int = 1,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start ``painel etl run JOB`` (``painel report burst NAME`` for ``report:NAME``) as a child process in its own session (so a timeout can kill
    it with its kernel): the one way the scheduler and the pages start runs. ``environ``
    (default: this process's) less any dashboard kernel's request state is its environment."""
    from .wire import without_request_state

    env = without_request_state(os.environ if environ is None else environ)
    env.update({HOME_ENV: str(paths.home), PROJECT_ENV: str(paths.project)})
    if job.startswith(REPORT_PREFIX):  # a scheduled report burst (parameters/schedule.yaml)
        command = ["report", "burst", job.removeprefix(REPORT_PREFIX)]
    else:
        command = ["etl", "run", job, "--trigger", trigger, "--attempt", str(attempt)]
    return subprocess.Popen(
        [sys.executable, "-m", "painel.cli", *command],
        env=env,
        cwd=str(paths.project),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead: a kernel orphaned by a killed run may never be reaped in a container
    # whose pid 1 does not reap, and its staging file must still be cleaned
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[-1].split()
    return not fields or fields[0] != "Z"
