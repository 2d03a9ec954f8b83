"""``painel schedule``: run ETL jobs when their cron expression is due.

``parameters/schedule.yaml``::

    timezone: America/Sao_Paulo      # cron expressions are read in this zone
    defaults:                        # apply to every job unless it overrides them
      retries: 2                     # extra attempts after a failed run
      retry_backoff_s: 300           # delay before the first retry; doubles each time
      timeout_s: 3600                # a run taking longer is killed (and counts as failed)
      catch_up: true                 # fire times missed while no scheduler ran -> one run
    jobs:
      school:
        cron: "0 5 * * *"

How a due job runs exactly once, however many schedulers run:

- the *fire time* due now is the newest cron time <= now (croniter computes it);
- a scheduler *claims* it with a compare-and-set on ``schedule_state.last_fire_at`` in the
  operational SQLite store; only the scheduler whose UPDATE changed the row runs the job;
- several missed fire times collapse into that newest one (coalesced, never replayed N
  times); with ``catch_up: false`` a fire time older than ``grace_s`` is skipped instead;
- the run itself holds the job's lock, so a manual ``painel etl run`` cannot overlap it;
- a failed run schedules a retry (``retry_at``), claimed the same way;
- after the jobs, each pass marks runs found dead failed (a run killed on timeout; support
  is mailed) and sends the mail outbox's due mail (:func:`painel.mail.deliver`).

Each run is a child process (``painel etl run``), so a timeout can kill it cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from . import exits
from .config import TIMEZONE, Paths
from .launch import REPORT_PREFIX
from .opstate import OpState, iso, parse_iso, utcnow
from .params import yaml_error
from .runner import list_jobs, reap_dead_runs, spawn

DEFAULTS = {
    "retries": 2,
    "retry_backoff_s": 300,
    "timeout_s": 3600,
    "catch_up": True,
    "grace_s": 300,
}


class ScheduleError(Exception):
    """schedule.yaml is broken; the message names the file, job and field."""


@dataclass(frozen=True)
class JobSchedule:
    name: str
    cron: str
    timezone: str
    retries: int
    retry_backoff_s: float
    timeout_s: float
    catch_up: bool
    grace_s: float

    def latest_fire(self, now: datetime) -> datetime:
        """The newest fire time at or before ``now`` (aware, in UTC)."""
        local_now = now.astimezone(ZoneInfo(self.timezone))
        it = croniter(self.cron, local_now + timedelta(microseconds=1))
        return it.get_prev(datetime).astimezone(ZoneInfo("UTC"))

    def next_fire(self, now: datetime) -> datetime:
        local_now = now.astimezone(ZoneInfo(self.timezone))
        return croniter(self.cron, local_now).get_next(datetime).astimezone(ZoneInfo("UTC"))


@dataclass
class Outcome:
    job: str
    status: str  # succeeded | failed | skipped
    error: str | None = None
    reason: str = ""


def load_schedule(paths: Paths, path: Path | None = None) -> list[JobSchedule]:
    path = path or paths.parameters / "schedule.yaml"
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScheduleError(yaml_error(path, exc)) from None
    if not isinstance(data, dict):
        raise ScheduleError(f"{path}: must be a mapping with 'jobs'")
    unknown_top = set(data) - {"timezone", "defaults", "jobs"}
    if unknown_top:
        raise ScheduleError(f"{path}: unknown keys {sorted(unknown_top)}")
    tz = _timezone(data.get("timezone", TIMEZONE), f"{path}")
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        raise ScheduleError(f"{path}: 'defaults' must be a mapping")
    unknown_defaults = set(raw_defaults) - set(DEFAULTS)
    if unknown_defaults:
        raise ScheduleError(f"{path}: unknown keys under 'defaults': {sorted(unknown_defaults)}")
    defaults = {**DEFAULTS, **raw_defaults}
    jobs = data.get("jobs") or {}
    if not isinstance(jobs, dict):
        raise ScheduleError(f"{path}: 'jobs' must be a mapping of job names to their schedule")
    known_jobs = set(list_jobs(paths))
    out = []
    for name, spec in jobs.items():
        where = f"{path}: job {name!r}"
        if str(name).startswith(REPORT_PREFIX):
            report = str(name).removeprefix(REPORT_PREFIX)
            if not (paths.report_notebooks / f"{report}.ipynb").is_file():
                raise ScheduleError(f"{where}: no notebook notebooks/reports/{report}.ipynb")
        elif name not in known_jobs:
            raise ScheduleError(f"{where}: no notebook notebooks/etl/{name}.ipynb")
        if not isinstance(spec, dict) or "cron" not in spec:
            raise ScheduleError(f"{where}: needs a 'cron' expression")
        extra = set(spec) - {"cron", "timezone", *DEFAULTS}
        if extra:
            raise ScheduleError(f"{where}: unknown keys {sorted(extra)}")
        cron = str(spec["cron"])
        if not croniter.is_valid(cron):
            raise ScheduleError(f"{where}: invalid cron expression {cron!r}")
        merged = {**defaults, **{k: v for k, v in spec.items() if k in DEFAULTS}}
        try:
            out.append(
                JobSchedule(
                    name=name,
                    cron=cron,
                    timezone=_timezone(spec.get("timezone", tz), where),
                    retries=int(merged["retries"]),
                    retry_backoff_s=float(merged["retry_backoff_s"]),
                    timeout_s=float(merged["timeout_s"]),
                    catch_up=_bool(merged["catch_up"], f"{where}: catch_up"),
                    grace_s=float(merged["grace_s"]),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ScheduleError(f"{where}: {exc}") from None
    return out


def _timezone(value: object, where: str) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{where}: unknown timezone {value!r}") from None
    return str(value)


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ScheduleError(f"{where} must be true or false (unquoted), got {value!r}")


class Scheduler:
    def __init__(self, paths: Paths, schedule_path: Path | None = None, poll_s: float = 30.0):
        self.paths = paths
        self.schedule_path = schedule_path
        self.poll_s = poll_s
        self.opstate = OpState(paths.opstate)
        self._stop = False
        self._purged_on: Any = None  # the São Paulo day the audit log was last purged

    def jobs(self) -> list[JobSchedule]:
        return load_schedule(self.paths, self.schedule_path)

    # ---- claims -------------------------------------------------------------------------
    def _claim_fire(self, job: JobSchedule, now: datetime) -> tuple[bool, datetime]:
        fire = job.latest_fire(now)
        with self.opstate.transaction() as con:
            con.execute("INSERT OR IGNORE INTO schedule_state (job) VALUES (?)", [job.name])
            row = con.execute(
                "SELECT last_fire_at FROM schedule_state WHERE job = ?", [job.name]
            ).fetchone()
            last = parse_iso(row["last_fire_at"]) if row["last_fire_at"] else None
            if last is not None and last >= fire:
                return False, fire
            stale = (now - fire).total_seconds() > job.grace_s
            cur = con.execute(
                "UPDATE schedule_state SET last_fire_at = ? WHERE job = ? "
                "AND (last_fire_at IS NULL OR last_fire_at < ?)",
                [iso(fire), job.name, iso(fire)],
            )
            claimed = cur.rowcount == 1
        if claimed and stale and not job.catch_up:
            return False, fire  # claimed so no one else runs it, but skipped by policy
        return claimed, fire

    def _claim_retry(self, job: JobSchedule, now: datetime) -> int | None:
        with self.opstate.transaction() as con:
            row = con.execute(
                "SELECT retry_at, retry_attempt FROM schedule_state WHERE job = ?", [job.name]
            ).fetchone()
            if row is None or not row["retry_at"] or parse_iso(row["retry_at"]) > now:
                return None
            cur = con.execute(
                "UPDATE schedule_state SET retry_at = NULL WHERE job = ? AND retry_at = ?",
                [job.name, row["retry_at"]],
            )
            return int(row["retry_attempt"]) if cur.rowcount == 1 else None

    def _after_run(self, job: JobSchedule, attempt: int, outcome: Outcome, now: datetime) -> None:
        with self.opstate.connect() as con:
            if (
                outcome.status == "failed"
                and outcome.reason != "bad input"
                and attempt <= job.retries
            ):
                delay = job.retry_backoff_s * (2 ** (attempt - 1))
                con.execute(
                    "UPDATE schedule_state SET retry_at = ?, retry_attempt = ? WHERE job = ?",
                    [iso(now + timedelta(seconds=delay)), attempt + 1, job.name],
                )
            else:
                con.execute(
                    "UPDATE schedule_state SET retry_at = NULL, retry_attempt = 0 WHERE job = ?",
                    [job.name],
                )

    # ---- running ------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> list[Outcome]:
        """Run every job that is due now (claimed fire times and retries); return their outcomes."""
        outcomes = []
        for job in self.jobs():
            if self._stop:
                break
            moment = now or utcnow()
            attempt = self._claim_retry(job, moment)
            trigger = "retry"
            if attempt is None:
                claimed, _fire = self._claim_fire(job, moment)
                if not claimed:
                    continue
                attempt, trigger = 1, "schedule"
            outcome = self._execute(job, attempt, trigger)
            self._after_run(job, attempt, outcome, utcnow())
            outcomes.append(outcome)
        if not self._stop:
            self.deliver_mail()
            self.purge_audit(now or utcnow())
            self.ingest_usage()
        return outcomes

    def ingest_usage(self) -> None:
        """The panels' usage events into the store, where no server does it (painel.usage)."""
        from . import usage

        try:
            usage.ingest(self.opstate, self.paths.home)
        except Exception as exc:  # noqa: BLE001 - monitoring never stops the scheduler
            print(f"{iso(utcnow())} usage: {type(exc).__name__}: {exc}", flush=True)

    def purge_audit(self, now: datetime) -> None:
        """Once a day: the audit entries older than the retention go (painel.audit.purge), and
        the single usage events older than their retention (painel.usage.purge)."""
        from . import audit

        day = now.date()
        if self._purged_on == day:
            return
        try:
            n = audit.purge(self.opstate, now)
            from . import usage

            usage.purge(self.opstate)
        except Exception as exc:  # noqa: BLE001 - the upkeep never stops the scheduler
            print(f"{iso(utcnow())} audit: {type(exc).__name__}: {exc}", flush=True)
            return
        self._purged_on = day
        if n:
            print(
                f"{iso(utcnow())} audit: {n} entries older than the retention deleted", flush=True
            )

    def deliver_mail(self) -> None:
        """Mark runs found dead (one killed on timeout) failed, which queues their failure
        mails, then send the outbox's due mail, so a scheduler is all a deployment runs; a
        mail problem is a line, never a stop."""
        from .mail import deliver, load_settings

        try:
            reap_dead_runs(self.opstate, self.paths)
            report = deliver(self.opstate, load_settings(self.paths))
        except Exception as exc:  # noqa: BLE001 - mail never stops the scheduler
            print(f"{iso(utcnow())} mail: {type(exc).__name__}: {exc}", flush=True)
            return
        if report.sent or not report.ok:
            print(f"{iso(utcnow())} mail: {report.summary()}", flush=True)

    def _execute(self, job: JobSchedule, attempt: int, trigger: str) -> Outcome:
        proc = spawn(self.paths, job.name, trigger, attempt)
        try:
            _out, err = proc.communicate(timeout=job.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Outcome(
                job.name, "failed", f"killed after timeout of {job.timeout_s:.0f}s", "timeout"
            )
        message = (err or "").strip().splitlines()
        last = message[-1] if message else None
        if proc.returncode == 0:
            return Outcome(job.name, "succeeded")
        if proc.returncode == exits.BUSY:
            return Outcome(job.name, "skipped", last, "busy")
        reason = "bad input" if proc.returncode == exits.USAGE else "run failed"
        return Outcome(job.name, "failed", last, reason)

    def next_wakeup(self, now: datetime) -> float:
        """Seconds until the next fire time or retry (at most ``poll_s``)."""
        waits = [self.poll_s]
        for job in self.jobs():
            waits.append((job.next_fire(now) - now).total_seconds())
        with self.opstate.connect() as con:
            for row in con.execute(
                "SELECT retry_at FROM schedule_state WHERE retry_at IS NOT NULL"
            ):
                waits.append((parse_iso(row["retry_at"]) - now).total_seconds())
        return max(0.5, min(waits))

    def stop(self, *_: Any) -> None:
        self._stop = True

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        print(f"painel schedule: watching {len(self.jobs())} job(s); Ctrl-C to stop", flush=True)
        while not self._stop:
            for outcome in self.run_once():
                print(
                    f"{iso(utcnow())} {outcome.job}: {outcome.status}"
                    + (f" ({outcome.error})" if outcome.error else ""),
                    flush=True,
                )
            deadline = time.monotonic() + self.next_wakeup(utcnow())
            while not self._stop and time.monotonic() < deadline:
                time.sleep(min(1.0, deadline - time.monotonic()))
