"""The ``progress`` ETL end to end: the real ``painel etl run progress`` (Papermill, kernel, store)
in child processes, against the Cademi simulator served from this test process.

Every run gets ``-p base_url=<simulator>`` and the key in ``CADEMI_API_KEY``; tags are registered
beforehand (``painel tags add`` where the registration itself is under test, else in-process with
the simulator's tag list, which leaves the simulator's rate windows untouched). Expectations are
computed from the simulator's deterministic world at its clock (``sim.as_of``).

Most tests start from a copy of one module-wide data directory in which last week (W-1) is
already published, so "nothing published" means CURRENT is still that version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import pytest
import yaml

from painel.opstate import OpState
from painel.progress.cademi import CademiClient, CademiError
from painel.progress.simulator import CademiSimulator, Faults, World
from painel.progress.tags import TagRegistry
from painel_testing import REPO, copy_project, free_port, without_progress

TZ = ZoneInfo("America/Sao_Paulo")
KEY = "cademi-it-key-Q7vX3pL9mZ2w"  # distinctive: grepped for in every failed run's traces
WRONG_KEY = "wrong-key-Hk4Tn8Rq1Yc6"
OPEN = {"per_second": 5000.0, "per_minute": 300_000}  # server limits no test reaches by accident
RUN_TIMEOUT = 150  # one run takes ~5-10 s; this only bounds a hang

PUBLISHED = re.compile(r"published (progress)@(\S+)$", re.M)
RUN_ID = re.compile(r"^run (\S+) of progress succeeded", re.M)

_CONFIG = yaml.safe_load((REPO / "parameters" / "progress.yaml").read_text(encoding="utf-8"))
TRACK_PRODUCTS: dict[str, list[int]] = {
    k: list(t["products"]) for k, t in _CONFIG["tracks"].items()
}
TRACK_NAMES: dict[str, str] = {k: t["name"] for k, t in _CONFIG["tracks"].items()}
MAX_FAILED_SHARE = float(_CONFIG["max_failed_share"])

TODAY = dt.datetime.now(TZ).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
TAGS = [
    (5001, "analista", 1),
    (5002, "cientista", 2),
]  # the two running classes of a classes=2 world


def week(offset: int) -> tuple[str, dt.date]:
    """The ISO week ``offset`` weeks from this one (São Paulo) and its Monday."""
    monday = MONDAY + dt.timedelta(weeks=offset)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}", monday


def clock(offset: int, days: int = 2, hour: int = 12) -> dt.datetime:
    """A simulator clock inside week ``offset`` (Wednesday noon by default)."""
    return dt.datetime.combine(week(offset)[1] + dt.timedelta(days=days), dt.time(hour), TZ)


W1, W1_MONDAY = week(-1)
W0, W0_MONDAY = week(0)


# ---- helpers --------------------------------------------------------------------------------
def etl_args(base_url: str, week_label: str, *params: str) -> list[str]:
    """``etl run progress`` against ``base_url`` with fast limits; later ``params`` win."""
    args = ["etl", "run", "progress"]
    for p in (
        f"base_url={base_url}",
        "api_key_env=CADEMI_API_KEY",
        f"week={week_label}",
        "allow_past_week=true",
        "per_second=5000",
        "per_minute=300000",
        "backoff_s=0.05",
        *params,
    ):
        args += ["-p", p]
    return args


def run_ok(cli: Any, *args: str, timeout: float = RUN_TIMEOUT) -> tuple[str, str]:
    """A run that must succeed: (run id, version published)."""
    result = cli.run(*args, timeout=timeout)
    assert result.returncode == 0, (result.stdout, result.stderr)
    run_id = RUN_ID.search(result.stdout)
    published = PUBLISHED.findall(result.stdout)
    assert run_id and len(published) == 1, result.stdout
    return run_id.group(1), published[0][1]


def run_fails(
    cli: Any, *args: str, timeout: float = RUN_TIMEOUT
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """A run that must fail with one line on stderr and exit 1 or 2: (that line, the result)."""
    result = cli.run(*args, timeout=timeout)
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    assert without_progress(result.stdout) == ""
    return cli.one_line_error(result.stderr), result


def register(
    home: Path,
    world: World,
    tags: list[tuple[int, str, int]] = TAGS,
    listed: list[dict[str, Any]] | None = None,
) -> None:
    """Register class tags in-process, validated against the world's GET /tag (no HTTP)."""
    items = listed if listed is not None else [{"id": t, "nome": n} for t, n in world.tags]
    registry = TagRegistry(OpState(home / "painel.sqlite"))
    for tag_id, track, number in tags:
        registry.add(tag_id, track, number, "test", TRACK_NAMES, lambda: items)


def expected_rows(
    world: World, as_of: dt.datetime, tags: list[tuple[int, str, int]] = TAGS
) -> dict[tuple[int, int, int], tuple[float, int, int]]:
    """(student, tag, product) -> (pct, watched, completed) as Cademi answers at ``as_of``."""
    out = {}
    for tag_id, track, _ in tags:
        for member in world.members(tag_id, as_of):
            for product in TRACK_PRODUCTS[track]:
                out[(member["id"], tag_id, product)] = world.progress(member["id"], product, as_of)
    return out


def progress_pairs(
    world: World, as_of: dt.datetime, tags: list[tuple[int, str, int]] = TAGS
) -> set[tuple[int, int]]:
    """The (student, product) progress calls a run needs."""
    return {(s, p) for s, _t, p in expected_rows(world, as_of, tags)}


def published_rows(cli: Any, week_label: str) -> dict[tuple[int, int, int], tuple[float, int, int]]:
    """The published week, asserting one row per (week, student, tag, product)."""
    with cli.store.connect("progress") as con:
        rows = con.execute(
            "SELECT student_id, tag_id, product_id, progress_pct, lessons_watched, lessons_completed "
            "FROM progress_weekly WHERE week = ?",
            [week_label],
        ).fetchall()
    out = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}
    assert len(out) == len(rows), "duplicate (week, student, tag, product) rows"
    return out


def week_rows_raw(cli: Any, week_label: str) -> list[tuple]:
    with cli.store.connect("progress") as con:
        return con.execute(
            "SELECT week, week_start, student_id, tag_id, product_id, progress_pct, lessons_watched, "
            "lessons_completed, collected_at::VARCHAR FROM progress_weekly WHERE week = ? "
            "ORDER BY student_id, tag_id, product_id",
            [week_label],
        ).fetchall()


def latest_run(cli: Any) -> dict[str, Any]:
    runs = cli.runs()
    assert runs, "no run recorded"
    return runs[0]


def assert_no_secret(cli: Any, *texts: str, secrets: tuple[str, ...] = (KEY,)) -> None:
    """The key appears in none of ``texts`` and in no file of the data directory."""
    for secret in secrets:
        for text in texts:
            assert secret not in text
        for path in cli.home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"the API key leaked into {path}"


def assert_failed_and_unpublished(cli: Any, version: str, message: str) -> dict[str, Any]:
    """The run is recorded as failed with the message's error; CURRENT still ``version``."""
    assert cli.current("progress") == version
    assert [v.version for v in cli.store.versions("progress")] == [version]
    run = latest_run(cli)
    assert run["status"] == "failed" and run["job"] == "progress"
    assert json.loads(run["published"]) == []
    assert run["error"] and run["error"] in message
    assert Path(run["notebook_out"]).is_file()
    return run


def assert_refused_before_the_run(
    cli: Any, baseline: Any, result: Any, message: str, expected: str, runs_before: int
) -> None:
    """The job's own parameter checks (notebook metadata painel.validate) refuse the values with
    exit 2 before any run is recorded or kernel started; nothing published."""
    assert result.returncode == 2, result.stderr
    assert message.startswith(f"painel: job 'progress': {expected}"), message
    assert cli.current("progress") == baseline.version
    assert len(cli.recorded_runs()) == runs_before  # no run recorded, no kernel started


def kernel_pids(pid: int) -> list[int]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for child in children:
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                out.append(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def reset(sim: CademiSimulator, as_of: dt.datetime) -> None:
    sim.faults = Faults()
    sim.unknown_users = set()
    sim.malformed_progress = set()
    sim.empty_tags = set()
    sim.as_of = as_of
    sim.reset_stats()


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def cademi_key() -> Iterator[str]:
    """The key every CLI child process gets (tests override it with monkeypatch)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CADEMI_API_KEY", KEY)
        yield KEY


@pytest.fixture
def make_sim(sim_factory: Any) -> Callable[..., CademiSimulator]:
    def make(**kwargs: Any) -> CademiSimulator:
        return sim_factory(
            **{
                "seed": 11,
                "students": 60,
                "classes": 2,
                "key": KEY,
                "anchor": MONDAY,
                "as_of": clock(-1),
                **OPEN,
                **kwargs,
            }
        )

    return make


@dataclass
class Baseline:
    sim: CademiSimulator
    project: Path
    home: Path
    version: str


@pytest.fixture(scope="module")
def baseline(
    tmp_path_factory: pytest.TempPathFactory, new_cli: Callable[..., Any], cademi_key: str
) -> Iterator[Baseline]:
    """A data directory with tags 5001 and 5002 registered and week W-1 published."""
    root = tmp_path_factory.mktemp("progress-baseline")
    sim = CademiSimulator(
        seed=11, students=60, classes=2, key=KEY, anchor=MONDAY, as_of=clock(-1), **OPEN
    )
    sim.start()
    try:
        project = copy_project(root / "project", cademi_base_url=sim.base_url)
        cli = new_cli(root / "home", project)
        register(cli.home, sim.world)
        _, version = run_ok(cli, *etl_args(sim.base_url, W1))
        assert len(published_rows(cli, W1)) == len(expected_rows(sim.world, clock(-1)))
        yield Baseline(sim, project, cli.home, version)
    finally:
        sim.stop()


@pytest.fixture
def base(baseline: Baseline, cli: Any) -> Iterator[tuple[Any, CademiSimulator]]:
    """(a Cli on a copy of the baseline data directory, the baseline simulator at week W0's clock)."""
    shutil.copytree(baseline.home, cli.home, dirs_exist_ok=True)
    cli.project = baseline.project
    reset(baseline.sim, clock(0))
    yield cli, baseline.sim
    reset(baseline.sim, clock(0))


# ---- 1. the happy path, across pages ------------------------------------------------------------
@dataclass
class HappyRun:
    cli: Any
    sim: CademiSimulator
    run_id: str
    version: str
    stats: dict[str, Any]


@pytest.fixture(scope="module")
def happy(
    tmp_path_factory: pytest.TempPathFactory, new_cli: Callable[..., Any], cademi_key: str
) -> Iterator[HappyRun]:
    root = tmp_path_factory.mktemp("progress-happy")
    sim = CademiSimulator(
        seed=3, students=400, classes=2, key=KEY, anchor=MONDAY, as_of=clock(-1), **OPEN
    )
    sim.start()
    try:
        cli = new_cli(root / "home", copy_project(root / "project", cademi_base_url=sim.base_url))
        for tag_id, track, number in TAGS:
            added = cli.run(
                "tags", "add", str(tag_id), "--track", track, "--class", str(number), timeout=60
            )
            assert added.returncode == 0, added.stderr
        sim.reset_stats()
        run_id, version = run_ok(cli, *etl_args(sim.base_url, W1))
        yield HappyRun(cli, sim, run_id, version, sim.stats())
    finally:
        sim.stop()


@pytest.mark.slow
def test_happy_path_pages_through_a_big_class_and_publishes(happy: HappyRun) -> None:
    assert max(len(happy.sim.world.members(t, clock(-1))) for t, _, _ in TAGS) > 150  # > one page
    by_endpoint = happy.stats["by_endpoint"]
    assert by_endpoint["lista_por_tag"] > len(TAGS)  # at least one class needed a second page
    assert by_endpoint["progresso_por_produto"] == len(progress_pairs(happy.sim.world, clock(-1)))
    assert happy.stats["refused"] == 0

    [run] = happy.cli.runs()
    assert run["run_id"] == happy.run_id
    assert run["status"] == "succeeded"
    assert json.loads(run["published"]) == [f"progress@{happy.version}"]
    assert happy.cli.current("progress") == happy.version


@pytest.mark.slow
def test_happy_path_rows_match_the_simulator(happy: HappyRun) -> None:
    expected = expected_rows(happy.sim.world, clock(-1))
    got = published_rows(happy.cli, W1)
    assert len(got) == sum(
        len(happy.sim.world.members(tag_id, clock(-1))) * len(TRACK_PRODUCTS[track])
        for tag_id, track, _ in TAGS
    )
    assert got == expected  # every value is Cademi's, for every student and product
    assert all(0 <= pct <= 100 for pct, _, _ in got.values())
    assert any(0 < pct < 100 for pct, _, _ in got.values())
    with happy.cli.store.connect("progress") as con:
        assert con.execute("SELECT DISTINCT week, week_start FROM progress_weekly").fetchall() == [
            (W1, W1_MONDAY)
        ]
        assert con.execute("SELECT week, week_start, run_id FROM weeks").fetchall() == [
            (W1, W1_MONDAY, happy.run_id)
        ]
        classes = con.execute(
            "SELECT tag_id, class_number, track, active FROM classes ORDER BY 1"
        ).fetchall()
        assert classes == [(t, n, track, True) for t, track, n in TAGS]
        columns = {r[0] for r in con.execute("DESCRIBE students").fetchall()}
        assert columns == {
            "student_id",
            "tag_id",
            "name",
            "first_week",
            "last_week",
        }  # no CPF, e-mail, phone


@pytest.mark.slow
def test_happy_path_manifest(happy: HappyRun) -> None:
    m = happy.cli.store.manifest("progress")
    assert m["run_id"] == happy.run_id and m["version"] == happy.version
    assert all(c["passed"] for c in m["checks"])
    summary = m["notes"]["collection"]
    pairs = len(progress_pairs(happy.sim.world, clock(-1)))
    assert summary["week"] == W1
    assert summary["progress_calls_needed"] == pairs
    assert summary["fetched_now"] == pairs and summary["failed"] == 0
    assert summary["problems"] == [] and summary["warnings"] == []
    assert m["notes"]["failures"] == []
    assert_no_secret(happy.cli, json.dumps(m))


# ---- 2. injected faults -------------------------------------------------------------------------
@pytest.mark.slow
def test_faults_are_retried_and_the_numbers_are_unchanged(
    make_sim: Callable[..., CademiSimulator], cli: Any, tmp_path: Path
) -> None:
    sim = make_sim(seed=5, students=150, faults=Faults(error_5xx=0.05, drop=0.03, malformed=0.03))
    cli.project = copy_project(tmp_path / "project", cademi_base_url=sim.base_url)
    register(cli.home, sim.world)
    run_ok(cli, *etl_args(sim.base_url, W1, "retries=8"))

    stats = sim.stats()
    assert stats["faults"].get("5xx", 0) > 0
    assert stats["faults"].get("drop", 0) > 0
    assert stats["faults"].get("malformed", 0) > 0
    assert any(500 <= s < 600 for s in stats["by_status"])
    # every fault cost a retry: more progress requests than progress pairs
    pairs = progress_pairs(sim.world, clock(-1))
    assert stats["by_endpoint"]["progresso_por_produto"] > len(pairs)

    assert published_rows(cli, W1) == expected_rows(sim.world, clock(-1))  # as if nothing failed
    notes = cli.store.manifest("progress")["notes"]
    assert notes["collection"]["failed"] == 0 and notes["failures"] == []


# ---- 3. the rate limiter ------------------------------------------------------------------------
@pytest.mark.slow
def test_rate_limiter_keeps_under_both_limits(
    make_sim: Callable[..., CademiSimulator], cli: Any, tmp_path: Path
) -> None:
    # 73 calls (1 /tag, 2 /produto pages, 2 class lists, 68 progress) against 10/s and 60/min:
    # the minute limit binds, so the run has to wait for the minute window to slide
    sim = make_sim(seed=5, students=20, per_second=10, per_minute=60)
    cli.project = copy_project(tmp_path / "project", cademi_base_url=sim.base_url)
    register(cli.home, sim.world)  # in-process: no call enters the simulator's windows
    pairs = progress_pairs(sim.world, clock(-1))
    assert len(pairs) + 5 > 60

    t0 = time.monotonic()
    run_ok(cli, *etl_args(sim.base_url, W1, "per_second=10", "per_minute=60"), timeout=240)
    elapsed = time.monotonic() - t0

    stats = sim.stats()
    assert stats["refused"] == 0, stats
    assert 429 not in stats["by_status"]
    assert stats["accepted"] == len(pairs) + 5
    assert stats["max_in_1s"] <= 10
    assert stats["max_in_60s"] <= 60
    assert elapsed > 60  # the client waited for the minute window rather than being refused
    assert published_rows(cli, W1) == expected_rows(sim.world, clock(-1))


@pytest.mark.slow
def test_client_above_the_server_limit_is_refused_but_retries_through(
    make_sim: Callable[..., CademiSimulator], cli: Any, tmp_path: Path
) -> None:
    sim = make_sim(seed=5, students=20, per_second=20, per_minute=100_000)
    cli.project = copy_project(tmp_path / "project", cademi_base_url=sim.base_url)
    register(cli.home, sim.world)
    run_ok(
        cli,
        *etl_args(
            sim.base_url, W1, "per_second=100", "per_minute=100000", "retries=10", "backoff_s=0.1"
        ),
    )

    stats = sim.stats()
    assert stats["refused"] > 0
    assert stats["by_status"].get(429, 0) == stats["refused"]
    assert stats["max_in_1s"] <= 20  # the server kept its limit
    assert published_rows(cli, W1) == expected_rows(sim.world, clock(-1))
    assert cli.store.manifest("progress")["notes"]["collection"]["failed"] == 0


def test_fractional_per_second_is_kept_too(make_sim: Callable[..., CademiSimulator]) -> None:
    sim = make_sim(per_second=2.5, per_minute=1000)
    client = CademiClient(
        sim.base_url, KEY, per_second=2.5, per_minute=1000, retries=1, backoff_s=0.01
    )
    try:
        for _ in range(8):
            with contextlib.suppress(CademiError):  # refusals are counted by the simulator below
                client.tags()
    finally:
        client.close()
    assert sim.stats()["refused"] == 0


# ---- 4. re-running a week replaces it -----------------------------------------------------------
@pytest.mark.slow
def test_rerunning_a_week_replaces_it_and_keeps_older_weeks(
    base: tuple[Any, CademiSimulator],
) -> None:
    cli, sim = base
    before_w1 = week_rows_raw(cli, W1)
    assert before_w1

    first_clock = clock(0, days=1)
    sim.as_of = first_clock
    run_ok(cli, *etl_args(sim.base_url, W0))
    first = published_rows(cli, W0)
    assert first == expected_rows(sim.world, first_clock)

    second_clock = clock(0, days=4)
    sim.as_of = second_clock
    _, version = run_ok(cli, *etl_args(sim.base_url, W0))
    second = published_rows(cli, W0)  # asserts one row per (week, student, tag, product)
    assert second == expected_rows(sim.world, second_clock)
    assert any(second[k] != first[k] for k in second.keys() & first.keys())  # the values did move
    assert week_rows_raw(cli, W1) == before_w1  # the previous week is untouched

    with cli.store.connect("progress") as con:
        assert con.execute("SELECT week, count(*) FROM weeks GROUP BY 1 ORDER BY 1").fetchall() == [
            (W1, 1),
            (W0, 1),
        ]
        [(dupes,)] = con.execute(
            "SELECT count(*) FROM (SELECT week, student_id, tag_id, product_id FROM progress_weekly "
            "GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()
        assert dupes == 0
        [(w0_rows,)] = con.execute(
            "SELECT sum(students) FROM class_weekly WHERE week = ?", [W0]
        ).fetchall()
        assert w0_rows == len(second)
        students = {
            (r[0], r[1]): (r[2], r[3])
            for r in con.execute(
                "SELECT student_id, tag_id, first_week, last_week FROM students"
            ).fetchall()
        }
    w1_keys = {(s, t) for s, t, _ in published_rows(cli, W1)}
    w0_keys = {(s, t) for s, t, _ in second}
    assert set(students) == w1_keys | w0_keys
    assert w1_keys & w0_keys
    for key in w1_keys & w0_keys:
        assert students[key] == (W1, W0)
    for key in w0_keys - w1_keys:
        assert students[key] == (W0, W0)
    for key in w1_keys - w0_keys:
        assert students[key] == (W1, W1)
    assert cli.store.manifest("progress")["version"] == version


@pytest.mark.slow
def test_removed_tag_is_no_longer_collected_and_keeps_its_history(
    base: tuple[Any, CademiSimulator],
) -> None:
    cli, sim = base
    w1_before = week_rows_raw(cli, W1)
    assert {r[3] for r in w1_before} == {5001, 5002}
    removed = cli.run("tags", "remove", "5002", "--by", "coord.test", timeout=60)
    assert removed.returncode == 0, removed.stderr

    run_ok(cli, *etl_args(sim.base_url, W0))
    assert sim.stats()["by_endpoint"]["lista_por_tag"] == 1  # only 5001 was listed
    assert published_rows(cli, W0) == expected_rows(sim.world, clock(0), TAGS[:1])
    assert week_rows_raw(cli, W1) == w1_before  # 5002's history stays
    with cli.store.connect("progress") as con:
        assert con.execute(
            "SELECT tag_id, active, start_week FROM classes ORDER BY 1"
        ).fetchall() == [(5001, True, W1_MONDAY), (5002, False, W1_MONDAY)]
        assert con.execute(
            "SELECT DISTINCT first_week, last_week FROM students WHERE tag_id = 5002"
        ).fetchall() == [(W1, W1)]


# ---- 5. resume after a kill ---------------------------------------------------------------------
@pytest.mark.slow
def test_killed_run_publishes_nothing_and_the_next_run_resumes(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    pairs = progress_pairs(sim.world, clock(0))
    total = len(pairs)
    sim.faults.slow = 1.0
    sim.faults.slow_seconds = 0.05

    proc = cli.popen(*etl_args(sim.base_url, W0))
    wanted = 60

    def answered() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate(timeout=30)}")
        return sim.stats()["by_endpoint"]["progresso_por_produto"] >= wanted

    cli.wait_for(answered, timeout=90, what=f"{wanted} progress replies")
    kernels = kernel_pids(proc.pid)
    assert kernels, "no kernel under the run"
    for pid in kernels:
        cli.track_pid(pid)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    for pid in kernels:  # the orphaned kernel notices and exits; it must not race the next run
        cli.wait_for(
            lambda pid=pid: not cli.pid_running(pid), timeout=30, what="the orphaned kernel to exit"
        )
    answered_before = sim.stats()["by_endpoint"]["progresso_por_produto"]
    assert wanted <= answered_before < total

    assert cli.current("progress") == baseline.version  # nothing new published
    assert [v.version for v in cli.store.versions("progress")] == [baseline.version]
    killed = latest_run(cli)  # `painel runs` reaps the dead run
    assert killed["status"] == "failed"
    assert "died" in killed["error"]
    assert (cli.home / "work" / "progress" / f"{W0}.sqlite").is_file()  # the journal survived

    reset(sim, clock(0))
    run_id, version = run_ok(cli, *etl_args(sim.base_url, W0))
    again = sim.stats()["by_endpoint"]["progresso_por_produto"]
    # only what was missing: the replies the killed run journaled are not asked again
    # (at most the one in flight at the kill was answered but not journaled)
    assert again < total
    assert total - answered_before <= again <= total - answered_before + 1
    assert published_rows(cli, W0) == expected_rows(sim.world, clock(0))  # complete
    assert cli.current("progress") == version

    summary = cli.store.manifest("progress")["notes"]["collection"]
    assert summary["fetched_now"] == again
    assert summary["from_journal"] == total - again
    notebook = Path(
        next(r for r in cli.runs() if r["run_id"] == run_id)["notebook_out"]
    ).read_text()
    assert (
        f"resuming week {W0}: {total - again} of {total} progress replies already in the journal"
        in notebook
    )
    assert not (
        cli.home / "work" / "progress" / f"{W0}.sqlite"
    ).exists()  # discarded once published


# ---- 6. bad input: one line, exit 1 or 2, nothing published --------------------------------------
def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api/v1"


@pytest.mark.slow
def test_api_down(base: tuple[Any, CademiSimulator], baseline: Baseline) -> None:
    cli, _sim = base
    url = _closed_port_url()
    message, result = run_fails(cli, *etl_args(url, W0, "retries=2", "timeout_s=2"))
    assert result.returncode == 1
    assert (
        f"CollectionFailed: the Cademi API at {url} is unavailable: GET /tag: connection dropped "
        "after 2 attempts" in message
    )
    assert_failed_and_unpublished(cli, baseline.version, message)
    assert_no_secret(cli, result.stderr)


@pytest.mark.slow
def test_wrong_key(
    base: tuple[Any, CademiSimulator], baseline: Baseline, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, sim = base
    monkeypatch.setenv("CADEMI_API_KEY", WRONG_KEY)
    message, result = run_fails(cli, *etl_args(sim.base_url, W0))
    assert (
        "CollectionFailed: GET /tag: Cademi refused the API key (405: invalid token); check the key "
        "(key from $CADEMI_API_KEY)" in message
    )
    assert sim.stats()["by_status"] == {405: 1}  # never retried
    assert_failed_and_unpublished(cli, baseline.version, message)
    assert_no_secret(cli, result.stderr, secrets=(KEY, WRONG_KEY))


@pytest.mark.slow
def test_missing_key_variable(
    base: tuple[Any, CademiSimulator], baseline: Baseline, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, sim = base
    monkeypatch.delenv("CADEMI_API_KEY")
    message, _ = run_fails(cli, *etl_args(sim.base_url, W0))
    assert (
        "SettingsError: the Cademi API key is not set: export it in the environment variable "
        "CADEMI_API_KEY" in message
    )
    assert sim.stats()["requests"] == 0
    assert_failed_and_unpublished(cli, baseline.version, message)

    # the variable's name is a parameter: an unset one names itself
    message, _ = run_fails(cli, *etl_args(sim.base_url, W0, "api_key_env=PAINEL_TEST_NO_SUCH_KEY"))
    assert "environment variable PAINEL_TEST_NO_SUCH_KEY" in message
    assert sim.stats()["requests"] == 0


@pytest.mark.slow
def test_registered_tag_that_cademi_no_longer_has(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    assert not sim.world.has_tag(5005)  # a classes=2 world has 5001-5004
    # registered while it existed (a world with more classes), gone since
    register(
        cli.home,
        sim.world,
        [(5005, "analista", 5)],
        listed=[{"id": 5005, "nome": "Turma 05 - Analista"}],
    )
    message, _ = run_fails(cli, *etl_args(sim.base_url, W0))
    assert (
        "CollectionFailed: registered class tags that Cademi does not have (GET /tag): "
        "5005 (Turma 05, analista); fix or remove them with `painel tags remove TAG`" in message
    )
    assert sim.stats()["by_endpoint"]["progresso_por_produto"] == 0  # stopped before collecting
    assert_failed_and_unpublished(cli, baseline.version, message)


def _members_only_in(
    world: World, tag_id: int, other: int, as_of: dt.datetime
) -> list[dict[str, Any]]:
    others = set(world.member_ids(other, as_of))
    return [m for m in world.members(tag_id, as_of) if m["id"] not in others]


@pytest.mark.slow
def test_students_unknown_to_the_api_over_the_threshold(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    unknown = _members_only_in(sim.world, 5001, 5002, clock(0))[:3]
    sim.unknown_users = {m["id"] for m in unknown}
    total = len(progress_pairs(sim.world, clock(0)))
    failed = 3 * len(TRACK_PRODUCTS["analista"])
    assert failed / total > MAX_FAILED_SHARE

    message, _ = run_fails(cli, *etl_args(sim.base_url, W0))
    assert (
        f"CollectionFailed: week {W0} not published: {failed} of {total} progress calls failed"
        in message
    )
    first = unknown[0]
    assert (
        f"student {first['id']} ({first['nome']}) of tag 5001, product 2101: Cademi answered 409 "
        "'Usuário não encontrado'" in message
    )
    assert "run again to retry only those" in message
    run = assert_failed_and_unpublished(cli, baseline.version, message)
    notebook = Path(run["notebook_out"]).read_text(encoding="utf-8")
    for m in unknown:  # every failure is listed in the run's notebook
        assert f"failed: student {m['id']} " in notebook

    # once Cademi knows them again, the next run asks only for what failed
    reset(sim, clock(0))
    run_ok(cli, *etl_args(sim.base_url, W0))
    assert sim.stats()["by_endpoint"]["progresso_por_produto"] == failed
    assert sim.stats()["by_endpoint"]["lista_por_tag"] == 0  # the class lists came from the journal
    assert published_rows(cli, W0) == expected_rows(sim.world, clock(0))
    summary = cli.store.manifest("progress")["notes"]["collection"]
    assert (summary["fetched_now"], summary["from_journal"], summary["failed"]) == (
        failed,
        total - failed,
        0,
    )


@pytest.mark.slow
def test_malformed_percentages_over_the_threshold(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    students = _members_only_in(sim.world, 5002, 5001, clock(0))[:6]
    sim.malformed_progress = {(m["id"], 2106) for m in students}
    total = len(progress_pairs(sim.world, clock(0)))
    assert 6 / total > MAX_FAILED_SHARE

    message, _ = run_fails(cli, *etl_args(sim.base_url, W0))
    assert f"week {W0} not published: 6 of {total} progress calls failed" in message
    first = students[0]
    assert (
        f"student {first['id']} ({first['nome']}) of tag 5002, product 2106: progress 'total' is not "
        "a percentage: 'abc%'" in message
    )
    assert "(and 1 more, listed in the run's notebook)" in message
    assert_failed_and_unpublished(cli, baseline.version, message)


@pytest.mark.slow
def test_api_stops_answering_mid_run(base: tuple[Any, CademiSimulator], baseline: Baseline) -> None:
    cli, sim = base
    # /tag, 2 pages of /produto and the two class lists answer; then every call is a 5xx
    sim.faults.script.extend(["ok"] * 5)
    sim.faults.error_5xx = 1.0
    message, _ = run_fails(cli, *etl_args(sim.base_url, W0, "retries=2"))
    assert (
        f"week {W0} not published: Cademi stopped answering: 10 calls in a row failed after every "
        "retry" in message
    )
    assert sim.stats()["by_endpoint"]["progresso_por_produto"] == 10 * 2
    assert_failed_and_unpublished(cli, baseline.version, message)


@pytest.mark.slow
def test_empty_tag_warns_and_publishes_the_other_class(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    sim.empty_tags = {5002}
    run_id, version = run_ok(cli, *etl_args(sim.base_url, W0))
    assert version != baseline.version
    assert published_rows(cli, W0) == expected_rows(sim.world, clock(0), TAGS[:1])

    warning = "tag 5002 (Turma 02, cientista): Cademi lists no students in this tag"
    notes = cli.store.manifest("progress")["notes"]
    assert any(warning in w for w in notes["collection"]["warnings"]), notes
    run = next(r for r in cli.runs() if r["run_id"] == run_id)
    assert f"warning: {warning}" in Path(run["notebook_out"]).read_text(encoding="utf-8")


@pytest.mark.slow
def test_failures_under_the_threshold_are_published_and_listed(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    [student] = _members_only_in(sim.world, 5001, 5002, clock(0))[:1]
    sim.malformed_progress = {(student["id"], 2103)}
    total = len(progress_pairs(sim.world, clock(0)))
    assert 1 / total <= MAX_FAILED_SHARE

    run_ok(cli, *etl_args(sim.base_url, W0))
    expected = expected_rows(sim.world, clock(0))
    del expected[(student["id"], 5001, 2103)]
    assert published_rows(cli, W0) == expected

    notes = cli.store.manifest("progress")["notes"]
    assert notes["collection"]["failed"] == 1
    assert notes["collection"]["progress_calls_needed"] == total
    assert notes["failures"] == [
        f"student {student['id']} ({student['nome']}) of tag 5001, product 2103: "
        "progress 'total' is not a percentage: 'abc%'"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (week(2)[0], f"parameter 'week': {week(2)[0]} is in the future (this week is "),
        ("2026-47", "parameter 'week' must be an ISO week like 2026-W07, got '2026-47'"),
        ("2026-W60", "parameter 'week': 2026 has no week 60"),
    ],
    ids=["future week", "not a week label", "no such week"],
)
def test_bad_week(
    base: tuple[Any, CademiSimulator], baseline: Baseline, label: str, expected: str
) -> None:
    cli, sim = base
    runs_before = len(cli.recorded_runs())
    message, result = run_fails(cli, *etl_args(sim.base_url, label))
    assert_refused_before_the_run(cli, baseline, result, message, expected, runs_before)
    assert sim.stats()["requests"] == 0  # refused before any call


@pytest.mark.slow
def test_past_week_needs_allow_past_week(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    runs_before = len(cli.recorded_runs())
    message, result = run_fails(cli, *etl_args(sim.base_url, week(-3)[0], "allow_past_week=false"))
    assert_refused_before_the_run(
        cli,
        baseline,
        result,
        message,
        f"parameter 'week': {week(-3)[0]} is in the past",
        runs_before,
    )
    assert sim.stats()["requests"] == 0


def test_ill_typed_parameter_is_refused_before_the_run(cli: Any, tmp_path: Path) -> None:
    cli.project = copy_project(tmp_path / "project")
    message, result = run_fails(cli, *etl_args(_closed_port_url(), W0, "per_second=fast"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1  # no notebook ran: not even kernel noise
    assert "per_second" in message
    assert cli.recorded_runs() == []  # no run recorded, no kernel started
    assert cli.current("progress") is None


# ---- 7. the key never leaks ---------------------------------------------------------------------
@pytest.mark.slow
def test_the_key_never_leaks_from_a_failed_run(
    base: tuple[Any, CademiSimulator], baseline: Baseline
) -> None:
    cli, sim = base
    # a run that used the key for every call, then failed in collect
    sim.unknown_users = {m["id"] for m in _members_only_in(sim.world, 5001, 5002, clock(0))[:5]}
    message, result = run_fails(cli, *etl_args(sim.base_url, W0))
    assert "not published" in message
    assert sim.stats()["by_endpoint"]["progresso_por_produto"] > 0
    runs = cli.run("runs", "--json")
    table = cli.run("runs", "progress")
    [run] = [r for r in json.loads(runs.stdout) if r["status"] == "failed"]
    notebook = Path(run["notebook_out"]).read_text(encoding="utf-8")
    assert KEY not in notebook and KEY not in run["error"] and KEY not in run["parameters"]
    assert_no_secret(cli, result.stderr, result.stdout, runs.stdout, table.stdout)
