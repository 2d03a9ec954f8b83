"""schedule.yaml loading and the scheduler's claim / coalesce / retry logic.

The scheduler's bookkeeping lives in the real operational SQLite store. ``_execute`` (which
spawns ``painel etl run``) is replaced here by a recorder; it runs for real in
tests/integration/test_schedule_processes.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from painel.config import PROJECT_ENV, Paths
from painel.opstate import iso, parse_iso, utcnow
from painel.schedule import JobSchedule, Outcome, ScheduleError, Scheduler, load_schedule
from painel_testing import write_etl_notebook as write_notebook

SP = "America/Sao_Paulo"
# 2026-03-10 09:00 in São Paulo (UTC-3); "30 5 * * *" last fired at 05:30 local = 08:30 UTC
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIRE = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "project"
    for job in ("job_a", "job_b"):
        write_notebook(root / "notebooks" / "etl" / f"{job}.ipynb")
    write_notebook(root / "notebooks" / "etl" / "_helper.ipynb")  # not a job
    (root / "parameters").mkdir()
    monkeypatch.setenv(PROJECT_ENV, str(root))
    return root


@pytest.fixture
def paths(project, tmp_path) -> Paths:
    return Paths(home=tmp_path / "home", project=project)


def write_schedule(paths: Paths, text: str) -> Path:
    path = paths.parameters / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Recorder(Scheduler):
    """A scheduler whose runs are recorded instead of spawned; outcomes come from a script."""

    def __init__(self, paths: Paths, script: list[str] | None = None, reason: str = "run failed"):
        super().__init__(paths)
        self.calls: list[tuple[str, int, str]] = []
        self.script = list(script or [])
        self.reason = reason

    def _execute(self, job: JobSchedule, attempt: int, trigger: str) -> Outcome:
        self.calls.append((job.name, attempt, trigger))
        status = self.script.pop(0) if self.script else "succeeded"
        if status == "failed":
            return Outcome(job.name, "failed", "RuntimeError: boom (cell 2)", self.reason)
        if status == "skipped":
            return Outcome(job.name, "skipped", "job is already running", "busy")
        return Outcome(job.name, "succeeded")


def state(paths: Paths, job: str) -> dict:
    sched = Scheduler(paths)
    with sched.opstate.connect() as con:
        row = con.execute("SELECT * FROM schedule_state WHERE job = ?", [job]).fetchone()
    return dict(row) if row else {}


DAILY = f"""
timezone: {SP}
jobs:
  job_a:
    cron: "30 5 * * *"
"""


# ---- load_schedule ----------------------------------------------------------------------------
def test_missing_file_means_no_jobs(paths):
    assert load_schedule(paths) == []


def test_defaults_and_overrides(paths):
    write_schedule(
        paths,
        f"""
timezone: {SP}
defaults:
  retries: 4
  retry_backoff_s: 60
  timeout_s: 900
  catch_up: false
jobs:
  job_a:
    cron: "30 5 * * *"
  job_b:
    cron: "0 * * * *"
    timezone: UTC
    retries: 0
    catch_up: true
    grace_s: 30
""",
    )
    jobs = {j.name: j for j in load_schedule(paths)}
    assert jobs["job_a"] == JobSchedule("job_a", "30 5 * * *", SP, 4, 60.0, 900.0, False, 300.0)
    assert jobs["job_b"] == JobSchedule("job_b", "0 * * * *", "UTC", 0, 60.0, 900.0, True, 30.0)


def test_builtin_defaults(paths):
    write_schedule(paths, "jobs:\n  job_a:\n    cron: '0 6 * * *'\n")
    (job,) = load_schedule(paths)
    assert (
        job.timezone,
        job.retries,
        job.retry_backoff_s,
        job.timeout_s,
        job.catch_up,
        job.grace_s,
    ) == (SP, 2, 300.0, 3600.0, True, 300.0)


def test_project_schedule_file_loads(paths):
    """The checked-in parameters/schedule.yaml is valid against its own jobs."""
    real = Paths(home=paths.home, project=Path(__file__).resolve().parents[2])
    jobs = load_schedule(real)
    assert [j.name for j in jobs] == [
        "school",
        "progress",
        "procurement",
        "procurement_mail",
        "report:rede_escola",
    ]
    assert all(j.timezone == SP for j in jobs)
    progress = jobs[1]
    assert progress.cron == "0 6 * * 1"  # weekly, Mondays
    # 20,000 calls at Cademi's 2 calls/s take ~2.8 h: the run must not be killed before that
    assert progress.timeout_s >= 20_000 / 2
    # a day of the state's purchases: ~2,700 result calls alone at PNCP's 2 s pace
    assert jobs[2].cron == "0 3 * * *" and jobs[2].timeout_s >= 2_700 * 2
    # the digests at 07:00 (procurement.md §6), after the 03:00 crawl; a hung SMTP is cut short
    assert jobs[3].cron == "0 7 * * *" and jobs[3].timeout_s <= 900
    # the report burst on Mondays after the 05:00 load; 3,543 reports took 27 min on 2 cores
    assert jobs[4].cron == "0 7 * * 1" and jobs[4].timeout_s >= 2 * 27 * 60


def test_broken_yaml_names_file_and_line(paths):
    path = write_schedule(
        paths, f'timezone: {SP}\njobs:\n  job_a:\n    cron: "0 6 * * *"\n   retries: 2\n'
    )
    with pytest.raises(ScheduleError) as err:
        load_schedule(paths)
    msg = str(err.value)
    assert str(path) in msg
    assert "line 5" in msg
    assert "broken YAML" in msg


def test_unknown_job(paths):
    path = write_schedule(paths, "jobs:\n  ghost:\n    cron: '0 6 * * *'\n")
    with pytest.raises(
        ScheduleError, match=r"job 'ghost': no notebook notebooks/etl/ghost\.ipynb"
    ) as err:
        load_schedule(paths)
    assert str(path) in str(err.value)


def test_underscore_notebook_is_not_a_job(paths):
    write_schedule(paths, "jobs:\n  _helper:\n    cron: '0 6 * * *'\n")
    with pytest.raises(ScheduleError, match="_helper"):
        load_schedule(paths)


@pytest.mark.parametrize("cron", ["0 25 * * *", "61 * * * *", "* * * *", "every day"])
def test_invalid_cron(paths, cron):
    path = write_schedule(paths, f"jobs:\n  job_a:\n    cron: '{cron}'\n")
    with pytest.raises(ScheduleError) as err:
        load_schedule(paths)
    msg = str(err.value)
    assert str(path) in msg and "job 'job_a'" in msg
    assert f"invalid cron expression {cron!r}" in msg


def test_job_without_cron(paths):
    write_schedule(paths, "jobs:\n  job_a:\n    retries: 1\n")
    with pytest.raises(ScheduleError, match="job 'job_a': needs a 'cron' expression"):
        load_schedule(paths)


def test_unknown_job_keys(paths):
    path = write_schedule(
        paths, "jobs:\n  job_a:\n    cron: '0 6 * * *'\n    retry: 3\n    when: x\n"
    )
    with pytest.raises(ScheduleError) as err:
        load_schedule(paths)
    msg = str(err.value)
    assert str(path) in msg and "job 'job_a'" in msg
    assert "unknown keys ['retry', 'when']" in msg


def test_unknown_top_level_keys(paths):
    path = write_schedule(paths, "job:\n  job_a:\n    cron: '0 6 * * *'\n")
    with pytest.raises(ScheduleError, match=r"unknown keys \['job'\]") as err:
        load_schedule(paths)
    assert str(path) in str(err.value)


def test_unknown_timezone(paths):
    path = write_schedule(
        paths, "timezone: America/Sao_Pablo\njobs:\n  job_a:\n    cron: '0 6 * * *'\n"
    )
    with pytest.raises(ScheduleError, match="unknown timezone 'America/Sao_Pablo'") as err:
        load_schedule(paths)
    assert str(path) in str(err.value)


def test_not_a_mapping(paths):
    write_schedule(paths, "- job_a\n")
    with pytest.raises(ScheduleError, match="must be a mapping"):
        load_schedule(paths)


def test_bad_value_type_names_the_job(paths):
    write_schedule(paths, "jobs:\n  job_a:\n    cron: '0 6 * * *'\n    retries: many\n")
    with pytest.raises(ScheduleError, match="job 'job_a'"):
        load_schedule(paths)


def test_unknown_job_timezone_is_refused_when_loading(paths):
    """BUG: a job-level ``timezone`` is not validated; the typo surfaces only later, as a
    ZoneInfoNotFoundError traceback inside the scheduler loop."""
    write_schedule(
        paths, "jobs:\n  job_a:\n    cron: '0 6 * * *'\n    timezone: America/Sao_Pablo\n"
    )
    with pytest.raises(ScheduleError, match="America/Sao_Pablo"):
        load_schedule(paths)


def test_unknown_defaults_keys_are_refused(paths):
    """BUG: a typo under ``defaults`` (here ``retires``) is silently ignored, while the same
    typo under a job is an error."""
    write_schedule(paths, "defaults:\n  retires: 5\njobs:\n  job_a:\n    cron: '0 6 * * *'\n")
    with pytest.raises(ScheduleError, match="retires"):
        load_schedule(paths)


def test_jobs_not_a_mapping_is_a_schedule_error(paths):
    """BUG: ``jobs:`` written as a list crashes with AttributeError instead of ScheduleError
    (the CLI then prints a traceback instead of a one-line message)."""
    write_schedule(paths, "jobs:\n  - job_a\n")
    with pytest.raises(ScheduleError, match="jobs"):
        load_schedule(paths)


# ---- fire times ---------------------------------------------------------------------------------
def job(cron: str = "30 5 * * *", tz: str = SP, **kw) -> JobSchedule:
    base = {
        "retries": 2,
        "retry_backoff_s": 300.0,
        "timeout_s": 3600.0,
        "catch_up": True,
        "grace_s": 300.0,
    }
    return JobSchedule("job_a", cron, tz, **{**base, **kw})


def test_latest_fire_in_sao_paulo():
    j = job()
    assert j.latest_fire(NOW) == FIRE
    assert j.latest_fire(NOW).utcoffset() == timedelta(0)
    # exactly at the fire time, it is the latest fire
    assert j.latest_fire(FIRE) == FIRE
    # a microsecond before, the previous day's
    assert j.latest_fire(FIRE - timedelta(microseconds=1)) == FIRE - timedelta(days=1)
    # 02:00 local (05:00 UTC) is still before 05:30 local
    assert j.latest_fire(datetime(2026, 3, 10, 5, 0, tzinfo=UTC)) == FIRE - timedelta(days=1)
    assert j.next_fire(NOW) == FIRE + timedelta(days=1)
    # the same cron read in UTC fires three hours earlier
    assert job(tz="UTC").latest_fire(NOW) == datetime(2026, 3, 10, 5, 30, tzinfo=UTC)


def test_latest_fire_follows_historical_dst():
    # São Paulo had daylight saving time (UTC-2) until 2019
    j = job()
    assert j.latest_fire(datetime(2019, 1, 15, 12, 0, tzinfo=UTC)) == datetime(
        2019, 1, 15, 7, 30, tzinfo=UTC
    )
    assert j.latest_fire(datetime(2019, 6, 15, 12, 0, tzinfo=UTC)) == datetime(
        2019, 6, 15, 8, 30, tzinfo=UTC
    )


def test_latest_fire_accepts_non_utc_now():
    local = NOW.astimezone(__import__("zoneinfo").ZoneInfo(SP))
    assert job().latest_fire(local) == FIRE


# ---- claims ---------------------------------------------------------------------------------------
def test_due_job_is_claimed_once(paths):
    write_schedule(paths, DAILY)
    first = Recorder(paths)
    assert [o.status for o in first.run_once(NOW)] == ["succeeded"]
    assert first.calls == [("job_a", 1, "schedule")]
    assert state(paths, "job_a")["last_fire_at"] == iso(FIRE)
    # the same scheduler again: already claimed
    assert first.run_once(NOW) == []
    assert first.run_once(NOW + timedelta(hours=1)) == []
    # a second scheduler on the same data directory at the same moment
    second = Recorder(paths)
    assert second.run_once(NOW) == []
    assert second.calls == []
    assert len(first.calls) == 1


def test_second_scheduler_first_wins(paths):
    write_schedule(paths, DAILY)
    a, b = Recorder(paths), Recorder(paths)
    b.run_once(NOW)
    a.run_once(NOW)
    assert b.calls == [("job_a", 1, "schedule")]
    assert a.calls == []


def test_concurrent_claims_give_one_winner(paths):
    write_schedule(paths, DAILY)
    (j,) = load_schedule(paths)
    schedulers = [Scheduler(paths) for _ in range(8)]
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(schedulers))

    def claim(s: Scheduler) -> None:
        barrier.wait()
        claimed, _fire = s._claim_fire(j, NOW)
        with lock:
            results.append(claimed)

    threads = [threading.Thread(target=claim, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]


def test_next_fire_time_is_claimed_again(paths):
    write_schedule(paths, DAILY)
    s = Recorder(paths)
    s.run_once(NOW)
    s.run_once(NOW + timedelta(days=1))
    assert s.calls == [("job_a", 1, "schedule")] * 2
    assert state(paths, "job_a")["last_fire_at"] == iso(FIRE + timedelta(days=1))


def test_not_due_before_the_first_fire_of_a_new_day(paths):
    write_schedule(paths, DAILY)
    s = Recorder(paths)
    s.run_once(NOW)
    s.run_once(FIRE + timedelta(days=1) - timedelta(seconds=1))
    assert len(s.calls) == 1


def test_missed_fire_times_coalesce_into_one_run(paths):
    write_schedule(paths, DAILY)
    s = Recorder(paths)
    s.run_once(NOW)
    later = NOW + timedelta(days=5, hours=1)  # five fire times missed
    outcomes = s.run_once(later)
    assert len(outcomes) == 1
    assert s.calls == [("job_a", 1, "schedule")] * 2
    assert state(paths, "job_a")["last_fire_at"] == iso(FIRE + timedelta(days=5))
    assert s.run_once(later + timedelta(minutes=5)) == []
    assert Recorder(paths).run_once(later) == []


def test_first_ever_run_is_one_run(paths):
    write_schedule(paths, "jobs:\n  job_a:\n    cron: '*/5 * * * *'\n")
    s = Recorder(paths)
    s.run_once(NOW + timedelta(minutes=1))
    assert len(s.calls) == 1
    assert state(paths, "job_a")["last_fire_at"] == iso(NOW)


def test_catch_up_false_skips_a_stale_fire(paths):
    write_schedule(
        paths, DAILY.replace('cron: "30 5 * * *"', 'cron: "30 5 * * *"\n    catch_up: false')
    )
    s = Recorder(paths)
    assert s.run_once(FIRE + timedelta(hours=2)) == []
    assert s.calls == []
    # the stale fire was still claimed, so no other scheduler runs it either
    assert state(paths, "job_a")["last_fire_at"] == iso(FIRE)
    assert Recorder(paths).run_once(FIRE + timedelta(hours=2)) == []
    # the next fire, seen within grace_s, runs
    s.run_once(FIRE + timedelta(days=1, seconds=60))
    assert s.calls == [("job_a", 1, "schedule")]


def test_catch_up_false_skips_after_several_missed_days(paths):
    write_schedule(
        paths, DAILY.replace('cron: "30 5 * * *"', 'cron: "30 5 * * *"\n    catch_up: false')
    )
    s = Recorder(paths)
    s.run_once(FIRE + timedelta(seconds=10))
    assert len(s.calls) == 1
    s.run_once(FIRE + timedelta(days=3, minutes=6))  # 6 min late > grace 300 s
    assert len(s.calls) == 1


def test_catch_up_false_respects_grace(paths):
    write_schedule(
        paths,
        DAILY.replace(
            'cron: "30 5 * * *"', 'cron: "30 5 * * *"\n    catch_up: false\n    grace_s: 7200'
        ),
    )
    s = Recorder(paths)
    s.run_once(FIRE + timedelta(hours=1))
    assert len(s.calls) == 1


def test_catch_up_true_runs_a_stale_fire(paths):
    write_schedule(paths, DAILY)
    s = Recorder(paths)
    s.run_once(FIRE + timedelta(hours=20))
    assert s.calls == [("job_a", 1, "schedule")]


def test_every_due_job_runs(paths):
    write_schedule(paths, DAILY + "  job_b:\n    cron: '0 9 * * *'\n")
    s = Recorder(paths)
    outcomes = s.run_once(NOW)  # 09:00 local
    assert sorted(o.job for o in outcomes) == ["job_a", "job_b"]


def test_stopped_scheduler_runs_nothing(paths):
    write_schedule(paths, DAILY)
    s = Recorder(paths)
    s.stop()
    assert s.run_once(NOW) == []
    assert state(paths, "job_a") == {}


# ---- retries ------------------------------------------------------------------------------------
# A cron that last fired in 2024 and fires next in 2028: only retries can be due in between.
RARE = "jobs:\n  job_a:\n    cron: '0 0 29 2 *'\n    retries: {retries}\n    retry_backoff_s: 100\n"


def test_failed_run_retries_with_doubling_backoff_then_stops(paths):
    write_schedule(paths, RARE.format(retries=2))
    s = Recorder(paths, script=["failed", "failed", "failed"])

    before = utcnow()
    assert [o.status for o in s.run_once(before)] == ["failed"]
    after = utcnow()
    st = state(paths, "job_a")
    retry_at = parse_iso(st["retry_at"])
    assert before + timedelta(seconds=100) <= retry_at <= after + timedelta(seconds=100)
    assert st["retry_attempt"] == 2

    # not due a moment before retry_at
    assert s.run_once(retry_at - timedelta(microseconds=1)) == []
    assert len(s.calls) == 1

    before = utcnow()
    s.run_once(retry_at)
    after = utcnow()
    assert s.calls[-1] == ("job_a", 2, "retry")
    st = state(paths, "job_a")
    retry_at = parse_iso(st["retry_at"])
    assert before + timedelta(seconds=200) <= retry_at <= after + timedelta(seconds=200)  # doubled
    assert st["retry_attempt"] == 3

    # a second scheduler does not take the same retry twice
    other = Recorder(paths)
    s.run_once(retry_at)
    other.run_once(retry_at)
    assert s.calls[-1] == ("job_a", 3, "retry")
    assert other.calls == []

    # retries: 2 -> three attempts in all, then no more
    st = state(paths, "job_a")
    assert st["retry_at"] is None
    assert st["retry_attempt"] == 0
    assert s.run_once(retry_at + timedelta(days=7)) == []
    assert len(s.calls) == 3


def test_no_retry_when_retries_is_zero(paths):
    write_schedule(paths, RARE.format(retries=0))
    s = Recorder(paths, script=["failed"])
    s.run_once(utcnow())
    assert state(paths, "job_a")["retry_at"] is None
    assert s.run_once(utcnow() + timedelta(days=1)) == []


def test_bad_input_is_not_retried(paths):
    write_schedule(paths, RARE.format(retries=2))
    s = Recorder(paths, script=["failed"], reason="bad input")
    s.run_once(utcnow())
    assert state(paths, "job_a")["retry_at"] is None


def test_busy_skip_is_not_retried(paths):
    write_schedule(paths, RARE.format(retries=2))
    s = Recorder(paths, script=["skipped"])
    assert [o.status for o in s.run_once(utcnow())] == ["skipped"]
    assert state(paths, "job_a")["retry_at"] is None


def test_success_on_retry_clears_the_retry(paths):
    write_schedule(paths, RARE.format(retries=3))
    s = Recorder(paths, script=["failed", "succeeded"])
    s.run_once(utcnow())
    retry_at = parse_iso(state(paths, "job_a")["retry_at"])
    s.run_once(retry_at)
    assert s.calls == [("job_a", 1, "schedule"), ("job_a", 2, "retry")]
    st = state(paths, "job_a")
    assert st["retry_at"] is None and st["retry_attempt"] == 0
    assert s.run_once(retry_at + timedelta(hours=10)) == []


def test_next_wakeup(paths):
    write_schedule(paths, "jobs:\n  job_a:\n    cron: '0 * * * *'\n")
    s = Scheduler(paths, poll_s=30)
    top = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert s.next_wakeup(top - timedelta(minutes=10)) == 30
    assert s.next_wakeup(top - timedelta(seconds=10)) == pytest.approx(10)
    assert s.next_wakeup(top - timedelta(milliseconds=100)) == 0.5
    with s.opstate.connect() as con:
        con.execute(
            "INSERT INTO schedule_state (job, retry_at, retry_attempt) VALUES ('job_a', ?, 2)",
            [iso(top - timedelta(minutes=10) + timedelta(seconds=4))],
        )
    assert s.next_wakeup(top - timedelta(minutes=10)) == pytest.approx(4)
