"""``painel etl run``: execute an ETL notebook with Papermill, record and archive the run.

A run: resolve and validate parameters (before any kernel starts) -> take the job's lock
(one run per job at a time, across processes) -> record the run as ``running`` -> execute
``notebooks/etl/<job>.ipynb`` into ``<home>/runs/<job>/<run_id>.ipynb`` (the kernel process's
own stderr, if any, into ``<run_id>.kernel.log`` beside it) -> record the
outcome, the error's one-line summary and the versions the notebook published -> if the run
failed, mail ``support`` (:func:`painel.mail.notify_run_failed`; a mail problem never changes
the run's outcome).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import HOME_ENV, PROJECT_ENV, Paths
from .launch import spawn
from .opstate import OpState, iso, utcnow
from .params import ParameterError, load_yaml_params, notebook_parameters, parse_cli_pairs, resolve
from .runctx import RunContext, new_run_id
from .store import Store, pid_alive


class RunError(Exception):
    """A run that could not start or did not succeed; the message is one line."""


class JobBusy(RunError):
    pass


@dataclass
class RunResult:
    run_id: str
    job: str
    status: str
    error: str | None
    notebook_out: Path
    published: list[str]
    duration_s: float


def list_jobs(paths: Paths) -> list[str]:
    return sorted(p.stem for p in paths.etl_notebooks.glob("*.ipynb") if not p.stem.startswith("_"))


def job_notebook(paths: Paths, job: str) -> Path:
    notebook = paths.etl_notebooks / f"{job}.ipynb"
    if "/" in job or not notebook.is_file():
        known = ", ".join(list_jobs(paths)) or "none"
        raise RunError(f"unknown job {job!r} (known jobs: {known})")
    return notebook


def resolve_parameters(
    paths: Paths, job: str, files: Sequence[str] = (), pairs: Sequence[str] = ()
) -> dict[str, Any]:
    """The job's validated parameters: notebook defaults < parameters/<job>.yaml <
    parameters/<profile>/<job>.yaml < -f < -p."""
    notebook = job_notebook(paths, job)
    schema = notebook_parameters(notebook)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (str(f.relative_to(paths.project)), load_yaml_params(f)) for f in paths.parameter_files(job)
    ]
    for f in files:
        layers.append((f"-f {f}", load_yaml_params(f)))
    if pairs:
        layers.append(("-p", parse_cli_pairs(list(pairs))))
    return resolve(schema, layers, job)


def validate_job_parameters(notebook: Path, parameters: dict[str, Any]) -> None:
    """Run the job's own checks of its values before anything starts.

    A notebook may name one in its metadata, ``{"painel": {"validate": "module:function"}}``;
    the function raises ``ValueError`` (or a subclass) with a message naming the parameter.
    """
    import importlib

    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except ValueError:
        return
    target = (meta.get("painel") or {}).get("validate")
    if not target:
        return
    module, _, name = str(target).partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise RunError(
            f"{notebook.name}: metadata painel.validate names {target!r}, which does not exist"
        ) from None
    try:
        fn(parameters)
    except ValueError as exc:
        raise ParameterError(f"job {notebook.stem!r}: {exc}") from None


@contextlib.contextmanager
def job_lock(paths: Paths, job: str) -> Iterator[None]:
    """Exclusive, non-blocking, released by the kernel even if the process is killed."""
    paths.locks.mkdir(parents=True, exist_ok=True)
    lock_path = paths.locks / f"job-{job}.lock"
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the duration of the run
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise JobBusy(f"job {job!r} is already running ({holder})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield
    finally:
        fh.close()


def reap_dead_runs(opstate: OpState, paths: Paths | None = None) -> int:
    """Mark ``running`` runs whose process is gone (killed, machine restarted) as failed, and
    queue their failure mails to support (not sent here: this runs in dashboard kernels too;
    ``painel mail send`` or the scheduler sends them). ``paths`` finds ``mail.yaml``
    (default: from the environment)."""
    host = socket.gethostname()
    reaped = []
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT run_id, pid, host, started_at FROM runs WHERE status = 'running'"
        ).fetchall()
        for row in rows:
            if row["host"] == host and row["pid"] and not pid_alive(row["pid"]):
                cur = con.execute(
                    "UPDATE runs SET status = 'failed', finished_at = ?, "
                    "error = 'run process died (killed?) before finishing' "
                    "WHERE run_id = ? AND status = 'running'",
                    [iso(utcnow()), row["run_id"]],
                )
                if cur.rowcount == 1:  # this process reaped it: it tells support, once
                    reaped.append(row["run_id"])
    for run_id in reaped:
        _mail_support(opstate, paths, run_id, deliver_now=False)
    return len(reaped)


def recent_runs(opstate: OpState, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    reap_dead_runs(opstate)
    sql = "SELECT * FROM runs"
    args: list[Any] = []
    if job:
        sql += " WHERE job = ?"
        args.append(job)
    sql += " ORDER BY started_at DESC LIMIT ?"
    args.append(limit)
    with opstate.connect() as con:
        return [dict(r) for r in con.execute(sql, args).fetchall()]


def summarize_exception(exc: BaseException) -> str:
    """One line naming what failed, for the run log and the terminal."""
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()
    if isinstance(exc, PapermillExecutionError):
        evalue = (exc.evalue or "").strip().splitlines()
        first = evalue[0] if evalue else ""
        return f"{exc.ename}: {first} (cell {exc.exec_count})"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_job(
    paths: Paths,
    job: str,
    files: Sequence[str] = (),
    pairs: Sequence[str] = (),
    trigger: str = "manual",
    attempt: int = 1,
    run_id: str | None = None,
) -> RunResult:
    """Run ``job``; raises ParameterError/RunError before starting, returns the outcome after."""

    paths.ensure()
    notebook = job_notebook(paths, job)
    parameters = resolve_parameters(paths, job, list(files), list(pairs))
    validate_job_parameters(notebook, parameters)
    opstate = OpState(paths.opstate)
    reap_dead_runs(opstate, paths)
    run_id = run_id or new_run_id()
    out_dir = paths.runs / job
    out_dir.mkdir(parents=True, exist_ok=True)
    notebook_out = out_dir / f"{run_id}.ipynb"
    rel_notebook = str(notebook.relative_to(paths.project))

    with job_lock(paths, job):
        started = utcnow()
        with opstate.connect() as con:
            con.execute(
                "INSERT INTO runs (run_id, job, status, trigger_, attempt, started_at, parameters, "
                "notebook_out, pid, host) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    job,
                    trigger,
                    attempt,
                    iso(started),
                    json.dumps(parameters, default=str),
                    str(notebook_out),
                    os.getpid(),
                    socket.gethostname(),
                ],
            )
        ctx = RunContext(run_id=run_id, job=job, notebook=rel_notebook, parameters=parameters)
        kernel_env = {**ctx.env(), HOME_ENV: str(paths.home), PROJECT_ENV: str(paths.project)}
        previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
        t0 = time.monotonic()
        error: str | None = None
        try:
            execute(
                notebook,
                notebook_out,
                parameters,
                cwd=paths.project,
                env=kernel_env,
                kernel_log=notebook_out.with_suffix(".kernel.log"),
            )
        except BaseException as exc:
            error = summarize_exception(exc)
            if not isinstance(exc, Exception):  # interrupted: queue the mail, send it later
                _finish(opstate, run_id, "failed", error, t0, [])
                _mail_support(opstate, paths, run_id, deliver_now=False)
                raise
        finally:
            kernel_log = notebook_out.with_suffix(".kernel.log")
            with contextlib.suppress(OSError):
                if kernel_log.stat().st_size == 0:
                    kernel_log.unlink()
            signal.signal(signal.SIGTERM, previous_term)
        published = Store(paths.store).published_by(run_id)
        status = "failed" if error else "succeeded"
        duration = _finish(opstate, run_id, status, error, t0, published)
    if status == "failed":  # the lock is released: a slow mail server holds up no next run
        _mail_support(opstate, paths, run_id)
    return RunResult(run_id, job, status, error, notebook_out, published, duration)


def execute(
    notebook: Path,
    out: Path,
    parameters: Mapping[str, Any],
    *,
    cwd: Path,
    env: Mapping[str, str],
    kernel_log: Path,
    report_mode: bool = False,
) -> None:
    """Papermill on ``notebook`` into ``out``, the one way painel runs a notebook (ETL runs,
    report bursts): the kernel's own log stays quiet so a failure's stderr is one painel
    line; ``env`` reaches the kernel through its manager, and what the kernel process writes
    to stderr (tornado/zmq noise at shutdown) goes to ``kernel_log``."""
    import papermill

    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=dict(parameters),
        cwd=str(cwd),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        report_mode=report_mode,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        kernel_manager_class=_job_kernel_manager(kernel_log, env),
    )


def _mail_support(
    opstate: OpState, paths: Paths | None, run_id: str, deliver_now: bool = True
) -> None:
    """The failure mail to ``support`` (parameters/mail.yaml); never raises."""
    from .mail import notify_run_failed

    notify_run_failed(opstate, paths, run_id, deliver_now=deliver_now)


def _job_kernel_manager(log_path: Path, env: Mapping[str, str]) -> type:
    """A kernel manager whose kernel gets the run's variables (``env``) over this process's
    environment, and writes its own stderr to ``log_path``; this process's environment is
    never changed."""
    from jupyter_client.manager import AsyncKernelManager

    class JobKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["env"] = {**(kw.get("env") or os.environ), **env}
            with open(log_path, "ab") as fh:  # the child keeps its own copy of the descriptor
                kw["stderr"] = fh
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return JobKernelManager


def _raise_terminated(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")


def _finish(
    opstate: OpState, run_id: str, status: str, error: str | None, t0: float, published: list[str]
) -> float:
    duration = time.monotonic() - t0
    with opstate.connect() as con:
        con.execute(
            "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, error = ?, published = ? "
            "WHERE run_id = ?",
            [status, iso(utcnow()), round(duration, 3), error, json.dumps(published), run_id],
        )
    return duration


__all__ = [
    "JobBusy",
    "ParameterError",
    "RunError",
    "RunResult",
    "job_notebook",
    "list_jobs",
    "recent_runs",
    "resolve_parameters",
    "run_job",
    "spawn",
]
