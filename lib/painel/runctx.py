"""What an ETL notebook knows about the run executing it, and how it reports progress.

``painel etl run`` passes the run's identity to the notebook's kernel through environment
variables (papermill starts the kernel as a child process). A notebook run by hand in
JupyterLab, or by nbval, gets an ``interactive-...`` run id instead.

A job reports progress through one API, ``run_context().meter(step, total)``: each
``advance()`` updates ``done``, the rate and the ETA on the run's record (what ``painel etl
run`` draws as a progress bar, ``painel runs`` and the pages show) and, every ``every_s``,
prints a line into the run's notebook. Interactive runs only print.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .opstate import OpState

RUN_ID_ENV = "PAINEL_RUN_ID"
JOB_ENV = "PAINEL_JOB"
NOTEBOOK_ENV = "PAINEL_NOTEBOOK"
PARAMETERS_ENV = "PAINEL_PARAMETERS"


def new_run_id(prefix: str = "") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{prefix}{stamp}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunContext:
    run_id: str
    job: str | None = None
    notebook: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def interactive(self) -> bool:
        return self.run_id.startswith("interactive-")

    @classmethod
    def from_env(cls) -> RunContext:
        run_id = os.environ.get(RUN_ID_ENV)
        if not run_id:
            return cls(run_id=new_run_id("interactive-"))
        try:
            params = json.loads(os.environ.get(PARAMETERS_ENV, "{}"))
        except ValueError:
            params = {}
        return cls(
            run_id=run_id,
            job=os.environ.get(JOB_ENV),
            notebook=os.environ.get(NOTEBOOK_ENV),
            parameters=params,
        )

    def meter(
        self,
        step: str,
        total: int,
        unit: str = "",
        every_s: float = 10.0,
        out: Callable[[str], None] | None = print,
        opstate: OpState | None = None,
    ) -> Meter:
        """Progress of one step (``"collect"``) of ``total`` units (``"calls"``) of this run,
        recorded in ``opstate`` (default: the data directory's, from ``PAINEL_HOME``)."""
        return Meter(self, step, total, unit, every_s, out, opstate=opstate)

    def env(self) -> dict[str, str]:
        return {
            RUN_ID_ENV: self.run_id,
            JOB_ENV: self.job or "",
            NOTEBOOK_ENV: self.notebook or "",
            PARAMETERS_ENV: json.dumps(self.parameters, default=str),
        }


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def describe(progress: dict[str, Any]) -> str:
    """``collect: 120/400 calls (30%), ETA 2m20s``: how every place shows a run's progress."""
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    unit = f" {progress['unit']}" if progress.get("unit") else ""
    share = 100 * done / total if total else 100.0
    eta = (
        ""
        if progress.get("eta_s") is None
        else f", ETA {format_duration(float(progress['eta_s']))}"
    )
    return f"{progress.get('step') or 'run'}: {done}/{total}{unit} ({share:.0f}%){eta}"


class Meter:
    """One step's progress: ``done`` of ``total``, the rate so far and the ETA.

    The state goes to the run's record (``runs.progress``) at most every ``RECORD_EVERY_S``
    and at the end; a line is printed every ``every_s`` and at the end. Recording never fails
    the run: a locked or missing operational store costs a message on stderr.
    """

    RECORD_EVERY_S = 1.0

    def __init__(
        self,
        run: RunContext,
        step: str,
        total: int,
        unit: str = "",
        every_s: float = 10.0,
        out: Callable[[str], None] | None = print,
        clock: Callable[[], float] = time.monotonic,
        opstate: OpState | None = None,
    ):
        self.run, self.step, self.total, self.unit = run, step, int(total), unit
        self.opstate = opstate
        self.every_s, self.out = every_s, out
        self.clock = clock
        self.t0 = clock()
        self.done = 0
        self._printed_at = self._recorded_at = float("-inf")
        self._printed = -1
        self.record()

    def state(self) -> dict[str, Any]:
        elapsed = self.clock() - self.t0
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        return {
            "step": self.step,
            "unit": self.unit,
            "done": self.done,
            "total": self.total,
            "rate_per_s": round(rate, 3),
            "eta_s": None if eta is None else round(eta),
            "at": datetime.now(UTC).isoformat(),
        }

    def advance(self, n: int = 1, force: bool = False) -> None:
        self.done += n
        now = self.clock()
        finished = self.done >= self.total
        if force or finished or now - self._recorded_at >= self.RECORD_EVERY_S:
            self.record(now)
        if (
            self.out is not None
            and self._printed != self.done
            and (force or finished or now - self._printed_at >= self.every_s)
        ):
            self._printed, self._printed_at = self.done, now
            st = self.state()
            self.out(f"{describe(st)}, {st['rate_per_s']:.2f}/s")

    def record(self, now: float | None = None) -> None:
        self._recorded_at = self.clock() if now is None else now
        if self.run.interactive:
            return
        from .opstate import OpState

        try:
            if self.opstate is None:
                from .config import Paths

                self.opstate = OpState(Paths.from_env().opstate)
            with self.opstate.connect() as con:
                con.execute(
                    "UPDATE runs SET progress = ? WHERE run_id = ?",
                    [json.dumps(self.state()), self.run.run_id],
                )
        except Exception as exc:  # noqa: BLE001 - progress display must never fail the run
            print(f"painel: could not record progress: {exc}", file=sys.stderr)
