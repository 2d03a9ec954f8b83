"""``painel etl run`` end to end: the real CLI, Papermill, kernel and store, in child processes.

The demo job runs against the real project; the failure modes use the tiny named notebooks of
tests/fixtures/project (``sleepy``: build, sleep ``sleep_s``, publish; ``raises``: build, raise).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import duckdb
import nbformat
import pytest
import yaml

from painel import school
from painel_testing import REPO

PUBLISHED = re.compile(r"published (\w+)@(\S+)$", re.M)
RUN_ID = re.compile(r"^run (\S+) of ", re.M)


def run_ok(cli: Any, *args: str) -> tuple[str, str]:
    """``painel etl run ARGS`` that must succeed; returns (run id, version it published)."""
    result = cli.run("etl", "run", *args)
    assert result.returncode == 0, result.stderr
    run_id = RUN_ID.search(result.stdout).group(1)
    [(_dataset, version)] = PUBLISHED.findall(result.stdout)
    return run_id, version


def rows(path: str | Path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


# ---- the demo job, once per module ---------------------------------------------------------
# the school job on the dump `painel demo prepare --no-data` writes, read from its folder
# (the demo's parameters fetch it from the demo FTP server, which these tests do not start)
LOCAL = ("-p", "source=local", "-p", "directory=sources/school", "-p", "stable_wait_s=0")
MERGED = {  # what the run records: -p over parameters/demo/school.yaml over parameters/school.yaml
    **yaml.safe_load((REPO / "parameters" / "school.yaml").read_text(encoding="utf-8")),
    **yaml.safe_load((REPO / "parameters" / "demo" / "school.yaml").read_text(encoding="utf-8")),
    "source": "local",
    "directory": "sources/school",
    "stable_wait_s": 0.0,
}


def recorded_as_merged(recorded: dict[str, Any]) -> bool:
    """Every parameter of the job is recorded; those the files and -p set have their values
    (the others keep the notebook's defaults)."""
    from painel.school.etl.job import PARAMETERS

    return set(recorded) == set(PARAMETERS) and all(recorded[k] == v for k, v in MERGED.items())


@dataclass
class DemoRun:
    cli: Any
    prepare: CompletedProcess[str]
    result: CompletedProcess[str]
    run_id: str
    version: str


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, new_cli: Callable[..., Any]) -> DemoRun:
    cli = new_cli(tmp_path_factory.mktemp("demo") / "home")
    prepare = cli.run("demo", "prepare", "--no-data")
    result = cli.run("etl", "run", "school", *LOCAL)
    run_id = RUN_ID.search(result.stdout)
    version = PUBLISHED.search(result.stdout)
    return DemoRun(
        cli, prepare, result, run_id.group(1) if run_id else "", version.group(2) if version else ""
    )


@pytest.mark.slow
def test_demo_prepare_then_run_publishes_demo(demo_run: DemoRun) -> None:
    cli = demo_run.cli
    assert demo_run.prepare.returncode == 0, demo_run.prepare.stderr
    assert list((cli.home / "sources" / "school").glob("simade_*.zip"))
    assert demo_run.result.returncode == 0, demo_run.result.stderr
    assert "of school succeeded" in demo_run.result.stdout
    assert PUBLISHED.findall(demo_run.result.stdout) == [("school", demo_run.version)]
    assert cli.current("school") == demo_run.version
    assert (cli.home / "runs" / "school" / f"{demo_run.run_id}.ipynb").is_file()
    assert cli.store.published_by(demo_run.run_id) == [f"school@{demo_run.version}"]


@pytest.mark.slow
def test_manifest_of_the_published_demo_version(demo_run: DemoRun) -> None:
    m = demo_run.cli.store.manifest("school")
    assert m["version"] == demo_run.version
    assert m["run_id"] == demo_run.run_id
    assert m["job"] == "school"
    assert m["notebook"] == "notebooks/etl/school.ipynb"
    # -p over parameters/demo/school.yaml (the demo profile) over parameters/school.yaml
    assert recorded_as_merged(m["parameters"])
    assert m["source_extracted_at"]
    assert set(m["row_counts"]) == set(school.TABLES)
    assert m["row_counts"]["alunos"] > 0 and m["row_counts"]["escolas"] > 0
    assert m["checks"] and all(c["passed"] for c in m["checks"])


@pytest.mark.slow
def test_runs_shows_the_run_and_its_version(demo_run: DemoRun) -> None:
    cli = demo_run.cli
    table = cli.run("runs")
    assert table.returncode == 0, table.stderr
    [line] = [ln for ln in table.stdout.splitlines() if demo_run.run_id in ln]
    assert "school" in line and "succeeded" in line
    assert f"school@{demo_run.version}" in line

    per_job = cli.run("runs", "school")
    assert (
        f"latest notebook: {cli.home / 'runs' / 'school' / demo_run.run_id}.ipynb" in per_job.stdout
    )

    [run] = [r for r in cli.runs() if r["run_id"] == demo_run.run_id]
    assert run["status"] == "succeeded"
    assert run["error"] is None
    assert json.loads(run["published"]) == [f"school@{demo_run.version}"]
    assert recorded_as_merged(json.loads(run["parameters"]))
    assert Path(run["notebook_out"]).is_file()


@pytest.mark.slow
def test_store_path_prints_a_duckdb_file_that_opens_read_only(demo_run: DemoRun) -> None:
    cli = demo_run.cli
    result = cli.run("store", "path", "school")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.is_file() and path.suffix == ".duckdb"
    assert path.stem == demo_run.version
    assert path.parent == cli.home / "store" / "school" / "versions"
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        assert tables == set(school.TABLES)
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM escolas")
    assert counts == cli.store.manifest("school")["row_counts"]

    status = cli.run("store", "status", "school")
    assert status.returncode == 0, status.stderr
    assert f"school: current {demo_run.version}" in status.stdout
    assert f"by run {demo_run.run_id}" in status.stdout


@pytest.mark.slow
def test_rollback_after_two_runs(cli: Any) -> None:
    assert cli.run("demo", "prepare", "--no-data").returncode == 0
    _, v1 = run_ok(cli, "school", *LOCAL)
    day = cli.store.manifest("school")["notes"]["dump_date"]
    _, v2 = run_ok(cli, "school", *LOCAL, "-p", f"dump_date={day}", "-p", "reload=true")
    assert v1 != v2 and cli.current("school") == v2

    back = cli.run("store", "rollback", "school")
    assert back.returncode == 0, back.stderr
    assert back.stdout.strip() == f"school: current version {v2} -> {v1}"
    assert cli.current("school") == v1
    assert Path(cli.run("store", "path", "school").stdout.strip()).stem == v1
    assert cli.store.history("school")[-1]["action"] == "rollback"
    # both runs and the rollback are in the audit log, by the command line's user
    audited = cli.run("audit", "list", "--json")
    assert audited.returncode == 0, audited.stderr
    log = json.loads(audited.stdout)
    assert [e["action"] for e in log if e["action"] in ("run", "rollback")] == [
        "rollback",
        "run",
        "run",
    ]
    assert log[0]["actor"].startswith("cli:") and log[0]["detail"] == {"de": v2, "para": v1}

    again = cli.run("store", "rollback", "school")
    assert again.returncode == 2
    message = cli.one_line_error(again.stderr)
    assert "'school' has no earlier published version to roll back to" in message
    assert cli.current("school") == v1

    forward = cli.run("store", "rollback", "school", "--to", v2)
    assert forward.returncode == 0, forward.stderr
    assert cli.current("school") == v2

    unknown = cli.run("store", "rollback", "school", "--to", "20990101T000000000000Z-0000")
    assert unknown.returncode == 2
    assert "has no version '20990101T000000000000Z-0000'" in cli.one_line_error(unknown.stderr)
    assert cli.current("school") == v2


# ---- bad input: exit 2, one line naming the culprit, nothing changed ----------------------------
BAD_INPUT: dict[str, tuple[Callable[[Path], list[str]], list[str]]] = {
    "unknown job": (
        lambda tmp: ["etl", "run", "no_such_job"],
        [
            "unknown job 'no_such_job'",
            "known jobs: procurement, procurement_mail, progress, school",
        ],
    ),
    "unknown -p name": (
        lambda tmp: ["etl", "run", "school", "-p", "dias_busca_ativaa=3"],
        ["unknown parameter 'dias_busca_ativaa' for job 'school'", "dias_busca_ativa"],
    ),
    "ill-typed -p value": (
        lambda tmp: ["etl", "run", "school", "-p", "dias_busca_ativa=abc"],
        ["parameter 'dias_busca_ativa' (-p) must be an integer, got 'abc'"],
    ),
    "-p without =": (
        lambda tmp: ["etl", "run", "school", "-p", "dias_busca_ativa"],
        ["-p 'dias_busca_ativa': expected NAME=VALUE"],
    ),
    "broken YAML with -f": (
        lambda tmp: ["etl", "run", "school", "-f", str(tmp / "broken.yaml")],
        ["broken.yaml line 2: broken YAML"],
    ),
    "ill-typed value in -f": (
        lambda tmp: ["etl", "run", "school", "-f", str(tmp / "typed.yaml")],
        ["parameter 'dias_busca_ativa' (-f ", "typed.yaml) must be an integer, got 'lots'"],
    ),
    "missing -f file": (
        lambda tmp: ["etl", "run", "school", "-f", str(tmp / "nowhere.yaml")],
        ["parameter file not found: ", "nowhere.yaml"],
    ),
}


@pytest.fixture
def seeded(cli: Any, tmp_path: Path) -> tuple[Any, str]:
    """The real project with one demo version published (in-process, no notebook run)."""
    version = cli.seed_demo()
    (tmp_path / "broken.yaml").write_text("dias_busca_ativa: 15\ndirectory: sources: school\n")
    (tmp_path / "typed.yaml").write_text("dias_busca_ativa: lots\n")
    return cli, version


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    seeded: tuple[Any, str], tmp_path: Path, case: str
) -> None:
    cli, version = seeded
    make_args, expected = BAD_INPUT[case]
    result = cli.run(*make_args(tmp_path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    message = cli.one_line_error(result.stderr)
    assert result.stderr.count("\n") == 1  # no notebook ran: not even kernel noise
    for part in expected:
        assert part in message
    if case == "broken YAML with -f":
        assert str(tmp_path / "broken.yaml") in message
    assert cli.current("school") == version
    assert [v.version for v in cli.store.versions("school")] == [version]
    assert cli.recorded_runs() == []  # rejected before a run was recorded
    assert not (cli.home / "runs" / "school").exists() or not any(
        (cli.home / "runs" / "school").iterdir()
    )


def test_store_commands_on_bad_datasets_exit_2(seeded: tuple[Any, str]) -> None:
    cli, version = seeded
    missing = cli.run("store", "path", "nothing_here")
    assert missing.returncode == 2
    assert "dataset 'nothing_here' has no published version yet" in cli.one_line_error(
        missing.stderr
    )
    invalid = cli.run("store", "path", "../etc")
    assert invalid.returncode == 2
    assert "invalid dataset name '../etc'" in cli.one_line_error(invalid.stderr)
    only_one = cli.run("store", "rollback", "school")
    assert only_one.returncode == 2
    assert "no earlier published version" in cli.one_line_error(only_one.stderr)
    assert cli.current("school") == version


# ---- runs that start and fail: exit 1 -----------------------------------------------------------
@pytest.mark.slow
def test_missing_source_fails_the_run(seeded: tuple[Any, str], tmp_path: Path) -> None:
    cli, version = seeded
    empty = tmp_path / "empty_source"
    empty.mkdir()
    result = cli.run(
        "etl",
        "run",
        "school",
        "-p",
        "source=local",
        "-p",
        f"directory={empty}",
        "-p",
        "stable_wait_s=0",
    )
    assert result.returncode == 1, result.stderr
    message = cli.one_line_error(result.stderr)
    assert message.startswith("painel: etl run school failed (run ")
    assert f"SchoolJobError: no dump at {empty}" in message

    [run] = cli.runs()
    assert run["status"] == "failed"
    assert run["job"] == "school"
    assert f"no dump at {empty}" in run["error"]
    assert json.loads(run["published"]) == []
    assert run["finished_at"]
    archived = Path(run["notebook_out"])
    assert archived.is_file() and archived.parent == cli.home / "runs" / "school"
    assert f"notebook: {archived}" in message
    nb = nbformat.read(archived, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e["ename"] for e in errors] == ["SchoolJobError"]

    assert cli.current("school") == version
    assert [v.version for v in cli.store.versions("school")] == [version]
    table = cli.run("runs").stdout
    assert "failed" in table and "no dump at" in table


@pytest.mark.slow
def test_notebook_that_raises_fails_the_run(fixture_cli: Any) -> None:
    cli = fixture_cli
    version = cli.seed_fixture(rows=3)
    result = cli.run("etl", "run", "raises", "-p", "message=kaboom 42")
    assert result.returncode == 1, result.stderr
    message = cli.one_line_error(result.stderr)
    assert message.startswith("painel: etl run raises failed (run ")
    assert "RuntimeError: kaboom 42 (cell " in message

    [run] = cli.runs()
    assert run["status"] == "failed"
    assert run["error"].startswith("RuntimeError: kaboom 42")
    assert json.loads(run["parameters"]) == {"message": "kaboom 42"}
    assert Path(run["notebook_out"]).is_file()
    assert "kaboom 42" in Path(run["notebook_out"]).read_text()

    assert cli.current("fixture") == version
    assert rows(cli.store.current_path("fixture"), "t") == 3


# ---- killed runs and overlapping runs ------------------------------------------------------------
def start_sleepy(cli: Any, *params: str) -> tuple[Any, Path, int]:
    """Start ``etl run sleepy``; wait until its build is in staging. Returns (proc, file, kernel pid)."""
    args = ["etl", "run", "sleepy", "-p", "sleep_s=60"]
    for p in params:
        args += ["-p", p]
    proc = cli.popen(*args)
    staging = cli.staging("fixture")

    def staged() -> list[Path]:
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate(timeout=30)}")
        return sorted(staging.glob("*.duckdb")) if staging.is_dir() else []

    [staged_file] = cli.wait_for(staged, timeout=90, what="the staging file")
    owner = staged_file.with_name(staged_file.name.removesuffix(".duckdb") + ".owner")
    kernel = int(owner.read_text())
    cli.track_pid(kernel)
    assert kernel != proc.pid  # the build runs in the notebook's kernel
    return proc, staged_file, kernel


@pytest.mark.slow
def test_sigkill_mid_run_leaves_the_previous_version(fixture_cli: Any) -> None:
    cli = fixture_cli
    v1 = cli.seed_fixture(rows=3)
    proc, staged_file, kernel = start_sleepy(cli, "rows=5")
    killed_version = staged_file.name.removesuffix(".duckdb")

    [running] = cli.runs()
    assert running["status"] == "running"
    assert running["pid"] == proc.pid

    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    # the kernel notices its parent is gone and exits, well before its sleep would end
    cli.wait_for(
        lambda: not cli.pid_running(kernel), timeout=20, what="the orphaned kernel to exit"
    )

    assert cli.current("fixture") == v1
    assert rows(cli.store.current_path("fixture"), "t") == 3
    assert [v.version for v in cli.store.versions("fixture")] == [v1]

    [dead] = cli.runs()  # `painel runs` reaps runs whose process is gone
    assert dead["run_id"] == running["run_id"]
    assert dead["status"] == "failed"
    assert "died" in dead["error"]
    assert dead["finished_at"]

    # the next run cleans the dead build's staging files and publishes normally
    _, v2 = run_ok(cli, "sleepy", "-p", "rows=4")
    assert cli.current("fixture") == v2
    assert rows(cli.store.current_path("fixture"), "t") == 4
    assert not any(p.name.startswith(killed_version) for p in cli.staging("fixture").iterdir())
    assert killed_version not in {v.version for v in cli.store.versions("fixture")}


@pytest.mark.slow
def test_second_run_of_the_same_job_is_refused(fixture_cli: Any) -> None:
    cli = fixture_cli
    v1 = cli.seed_fixture(rows=3)
    first, _staged, kernel = start_sleepy(cli, "rows=7")

    second = cli.run("etl", "run", "sleepy", "-p", "sleep_s=0")
    assert second.returncode == 3, second.stderr
    message = cli.one_line_error(second.stderr)
    assert message == f"painel: job 'sleepy' is already running (pid {first.pid})"
    assert second.stdout == ""

    [run] = cli.runs()  # the refused run was not recorded
    assert run["status"] == "running" and run["pid"] == first.pid
    assert cli.current("fixture") == v1

    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    cli.wait_for(
        lambda: not cli.pid_running(kernel), timeout=20, what="the orphaned kernel to exit"
    )
    assert cli.current("fixture") == v1


def test_kernel_stderr_goes_to_the_run_log_not_the_terminal(fixture_cli: Any) -> None:
    """What the kernel process writes to its stderr (tornado/zmq noise at shutdown) is kept
    beside the run's notebook; the terminal still gets painel's one line."""
    cli = fixture_cli
    result = cli.run("etl", "run", "noisy", "-p", "message=boom 7")
    assert result.returncode == 1, result.stderr
    assert "noise the kernel writes" not in result.stderr
    assert "RuntimeError: boom 7" in cli.one_line_error(result.stderr)
    [run] = cli.runs()
    log = Path(run["notebook_out"]).with_suffix(".kernel.log")
    assert "noise the kernel writes to its own stderr" in log.read_text()
