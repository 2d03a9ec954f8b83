"""The progress suite's command line: ``painel tags add|list|remove``, ``painel runs`` showing a
running progress run's calls, and ``painel simulate cademi``; real child processes against a
Cademi simulator served from this test process (a throw-away project points its
``parameters/progress.yaml`` at it, since ``tags add`` checks the tag with ``GET /tag``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import yaml

from painel.progress.simulator import CademiSimulator, Faults
from painel_testing import REPO, copy_project, free_port

KEY = "cademi-cli-key-W4nB8sKq"
OPEN = {"per_second": 5000.0, "per_minute": 300_000}
TRACK_NAMES = {
    k: t["name"]
    for k, t in yaml.safe_load((REPO / "parameters" / "progress.yaml").read_text(encoding="utf-8"))[
        "tracks"
    ].items()
}
ANALISTA = TRACK_NAMES["analista"]
REGISTERED = re.compile(
    r"^registered tag (\d+) \((.+)\) as Turma (\d+) of track (\w+); it enters the next progress run$"
)


@pytest.fixture(scope="module")
def sim() -> Iterator[CademiSimulator]:
    """Six running classes (tags 5001-5006), 5007 and 5008 starting later, 9001-9003 not classes."""
    s = CademiSimulator(seed=7, students=60, classes=6, key=KEY, **OPEN)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def pcli(
    cli: Any, sim: CademiSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The CLI on a project whose progress job points at ``sim``, with the key in the environment."""
    cli.project = copy_project(tmp_path / "project", cademi_base_url=sim.base_url)
    monkeypatch.setenv("CADEMI_API_KEY", KEY)
    yield cli
    sim.faults = Faults()
    sim.reset_stats()


def add(cli: Any, tag: str, track: str, number: str, *extra: str) -> Any:
    return cli.run("tags", "add", tag, "--track", track, "--class", number, *extra, timeout=60)


def tags_json(cli: Any, *extra: str) -> list[dict[str, Any]]:
    result = cli.run("tags", "list", "--json", *extra, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def set_project_base_url(cli: Any, url: str) -> None:
    path = cli.project / "parameters" / "progress.yaml"
    text = re.sub(r"(?m)^base_url: .*$", f"base_url: {url}", path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")


# ---- tags add / list / remove -------------------------------------------------------------------
def test_tags_add_registers_and_list_shows_who_and_when(pcli: Any, sim: CademiSimulator) -> None:
    before = dt.datetime.now(dt.UTC)
    first = add(pcli, "5001", "analista", "1", "--by", "coord.maria")
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        "registered tag 5001 (Turma 01 - Analista) as Turma 01 of track analista; "
        "it enters the next progress run\n"
    )
    second = add(pcli, "5002", "cientista", "2")
    assert second.returncode == 0, second.stderr
    assert REGISTERED.match(second.stdout.strip()).groups() == (
        "5002",
        "Turma 02 - Cientista",
        "02",
        "cientista",
    )
    assert sim.stats()["by_endpoint"]["tag"] == 2  # each registration checked the tag in Cademi

    rows = {r["tag_id"]: r for r in tags_json(pcli)}
    assert set(rows) == {5001, 5002}
    maria = rows[5001]
    assert (
        maria["track"] == "analista"
        and maria["class_number"] == 1
        and maria["class_name"] == "Turma 01"
    )
    assert maria["cademi_name"] == "Turma 01 - Analista"
    assert maria["registered_by"] == "coord.maria"
    assert maria["active"] is True and maria["removed_by"] is None and maria["removed_at"] is None
    assert rows[5002]["registered_by"].startswith("cli")  # cli:<os user> without --by
    for r in rows.values():
        at = dt.datetime.fromisoformat(r["registered_at"])
        assert before - dt.timedelta(seconds=5) <= at <= dt.datetime.now(dt.UTC)

    table = pcli.run("tags", "list", timeout=60)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "tag_id",
        "track",
        "class_name",
        "cademi_name",
        "registered_by",
        "registered_at",
        "state",
    ]
    assert any(
        line.startswith("5001 ") and "coord.maria" in line and line.endswith("active")
        for line in lines
    )


REJECTED: dict[str, tuple[list[str], str]] = {
    "tag not an integer": (["abc", "analista", "3"], "TAG must be an integer (got 'abc')"),
    "class not an integer": (
        ["5003", "analista", "três"],
        "--class must be an integer (got 'três')",
    ),
    "tag not positive": (["0", "analista", "3"], "TAG must be a positive integer"),
    "unknown track": (
        ["5003", "engenheiro", "3"],
        "unknown track 'engenheiro' (tracks: analista, cientista)",
    ),
    "tag unknown in Cademi": (
        ["7777", "analista", "3"],
        "tag 7777 does not exist in Cademi (GET /tag)",
    ),
    "tag already registered": (
        ["5001", "cientista", "9"],
        f"tag 5001 is already registered (Turma 01 of track {ANALISTA})",
    ),
    "class already registered": (
        ["5003", "analista", "1"],
        f"Turma 01 of track {ANALISTA} is already registered with tag 5001",
    ),
    "tag named for another track": (
        ["5003", "cientista", "3"],
        "tag 5003 is named 'Turma 03 - Analista' in Cademi, which names track 'analista', "
        "not 'cientista'",
    ),
    "Cademi down": (
        ["5003", "analista", "3"],
        "could not check the tag in Cademi (GET /tag: connection dropped after 2 attempts); "
        "nothing registered",
    ),
    "wrong key": (
        ["5003", "analista", "3"],
        "could not check the tag in Cademi (GET /tag: Cademi refused the API key (405: invalid "
        "token); check the key); nothing registered",
    ),
    "key not set": (
        ["5003", "analista", "3"],
        "could not check the tag in Cademi (the Cademi API key is not set: export it in the "
        "environment variable CADEMI_API_KEY); nothing registered",
    ),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_tags_add_rejects_with_exit_2_and_one_english_line(
    pcli: Any, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add(pcli, "5001", "analista", "1").returncode == 0
    before = tags_json(pcli, "--all")
    if case == "Cademi down":
        set_project_base_url(pcli, f"http://127.0.0.1:{free_port()}/api/v1")
    elif case == "wrong key":
        monkeypatch.setenv("CADEMI_API_KEY", "not-the-key")
    elif case == "key not set":
        monkeypatch.delenv("CADEMI_API_KEY")
    (tag, track, number), message = REJECTED[case]

    result = add(pcli, tag, track, number)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert pcli.one_line_error(result.stderr) == f"painel: {message}"
    assert tags_json(pcli, "--all") == before  # nothing registered
    assert KEY not in result.stderr


def test_tags_remove_then_list_all_shows_it_removed(pcli: Any) -> None:
    assert add(pcli, "5001", "analista", "1").returncode == 0
    assert add(pcli, "5002", "cientista", "2").returncode == 0
    removed = pcli.run("tags", "remove", "5001", "--by", "coord.joao", timeout=60)
    assert removed.returncode == 0, removed.stderr
    assert (
        removed.stdout
        == "tag 5001 (Turma 01, analista) is no longer collected; its history stays\n"
    )

    assert [r["tag_id"] for r in tags_json(pcli)] == [5002]
    every = {r["tag_id"]: r for r in tags_json(pcli, "--all")}
    assert set(every) == {5001, 5002}
    assert every[5001]["active"] is False
    assert every[5001]["removed_by"] == "coord.joao"
    assert dt.datetime.fromisoformat(every[5001]["removed_at"]) >= dt.datetime.fromisoformat(
        every[5001]["registered_at"]
    )
    assert every[5002]["active"] is True

    table = pcli.run("tags", "list", "--all", timeout=60).stdout
    [line] = [ln for ln in table.splitlines() if ln.startswith("5001 ")]
    assert line.endswith(f"removed {every[5001]['removed_at'][:10]} by coord.joao")

    again = pcli.run("tags", "remove", "5001", timeout=60)
    assert again.returncode == 2
    assert pcli.one_line_error(again.stderr) == "painel: tag 5001 is not registered"
    bad = pcli.run("tags", "remove", "x5", timeout=60)
    assert bad.returncode == 2
    assert pcli.one_line_error(bad.stderr) == "painel: TAG must be an integer (got 'x5')"


def test_tags_change_corrects_a_class_and_records_who(pcli: Any) -> None:
    assert add(pcli, "5001", "analista", "1").returncode == 0
    assert add(pcli, "5003", "analista", "3").returncode == 0
    changed = pcli.run(
        "tags",
        "change",
        "5001",
        "--track",
        "analista",
        "--class",
        "11",
        "--by",
        "coord.ana",
        timeout=60,
    )
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "tag 5001 (Turma 01 - Analista) is now Turma 11 of track analista\n"
    row = {r["tag_id"]: r for r in tags_json(pcli)}[5001]
    assert (row["class_number"], row["changed_by"]) == (11, "coord.ana") and row["changed_at"]
    taken = pcli.run("tags", "change", "5001", "--track", "analista", "--class", "3", timeout=60)
    assert taken.returncode == 2
    assert pcli.one_line_error(taken.stderr) == (
        f"painel: Turma 03 of track {ANALISTA} is already registered with tag 5003"
    )
    wrong = pcli.run("tags", "change", "5001", "--track", "cientista", "--class", "11", timeout=60)
    assert wrong.returncode == 2 and "names track 'analista'" in wrong.stderr
    assert {r["tag_id"]: r for r in tags_json(pcli)}[5001]["class_number"] == 11


def test_a_removed_tag_can_be_registered_again_for_its_class(pcli: Any) -> None:
    assert add(pcli, "5001", "analista", "1").returncode == 0
    assert pcli.run("tags", "remove", "5001", timeout=60).returncode == 0
    again = add(pcli, "5001", "analista", "1")
    assert again.returncode == 0, again.stderr
    assert [(r["tag_id"], r["active"]) for r in tags_json(pcli, "--all")] == [(5001, True)]


# ---- painel runs shows a running progress run's calls ---------------------------------------------
def _kernels(pid: int) -> list[int]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c.pid for c in children if "ipykernel" in " ".join(c.cmdline())]


@pytest.mark.slow
def test_runs_shows_the_calls_of_a_running_progress_run(pcli: Any, sim: CademiSimulator) -> None:
    assert add(pcli, "5001", "analista", "1").returncode == 0
    members = sim.world.member_ids(5001, sim.as_of)  # as_of None: the simulator answers as of now
    total = len(members) * 4
    sim.faults.slow = 1.0
    sim.faults.slow_seconds = 0.25  # 40 calls of ~0.25 s: ~10 s of collection
    sim.reset_stats()
    proc = pcli.popen(
        "etl", "run", "progress", "-p", f"base_url={sim.base_url}", "-p", "backoff_s=0.05"
    )

    pattern = re.compile(r"\brunning\b.*?\bcollect: (\d+)/(\d+) calls \(\d+%\)(, ETA \d+m\d\ds)?")

    def shows_calls() -> re.Match[str] | None:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate(timeout=30)}")
        table = pcli.run("runs", "progress", timeout=60)
        assert table.returncode == 0, table.stderr
        found = pattern.search(table.stdout)
        return found if found and int(found.group(1)) >= 1 else None  # 0/N is shown from the start

    match = pcli.wait_for(
        shows_calls, timeout=90, what="`painel runs` to show the run's calls", interval=0.3
    )
    done, of = int(match.group(1)), int(match.group(2))
    assert of == total and 1 <= done < total
    [running] = pcli.runs()
    assert running["status"] == "running" and running["pid"] == proc.pid
    progress = json.loads(running["progress"])
    assert progress["total"] == total and progress["done"] >= done

    kernels = _kernels(proc.pid)
    for pid in kernels:
        pcli.track_pid(pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for pid in kernels:
        pcli.wait_for(
            lambda pid=pid: not pcli.pid_running(pid),
            timeout=30,
            what="the orphaned kernel to exit",
        )
    [dead] = pcli.runs()
    assert dead["status"] == "failed" and "died" in dead["error"]
    assert pcli.current("progress") is None


# ---- painel simulate cademi -----------------------------------------------------------------------
def test_simulate_cademi_serves_the_api_and_exits_on_sigterm(cli: Any) -> None:
    port = free_port()
    proc = cli.popen(
        "simulate", "cademi", "--port", str(port), "--rate-scale", "50", "--key", "sim-key-1"
    )
    base = f"http://127.0.0.1:{port}/api/v1"

    def answers() -> requests.Response | None:
        if proc.poll() is not None:
            raise AssertionError(f"the simulator exited: {proc.communicate(timeout=30)}")
        try:
            return requests.get(base + "/tag", headers={"Authorization": "sim-key-1"}, timeout=5)
        except requests.ConnectionError:
            return None

    reply = cli.wait_for(answers, timeout=30, what="the simulator to answer", interval=0.2)
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True and body["code"] == 200
    ids = [i["id"] for i in body["data"]["itens"]]
    assert {5001, 5002, 5003, 5004, 5005, 5006, 9001} <= set(ids)
    assert requests.get(base + "/tag", timeout=5).status_code == 403
    assert (
        requests.get(base + "/tag", headers={"Authorization": "other"}, timeout=5).status_code
        == 405
    )

    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert time.monotonic() - t0 < 10
    assert f"Cademi simulator at {base} (key: sim-key-1, limits: 100/s, 6000/min)" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/tag", headers={"Authorization": "sim-key-1"}, timeout=2)


def test_simulate_cademi_with_a_sub_one_per_second_rate_still_answers(cli: Any) -> None:
    port = free_port()
    proc = cli.popen(
        "simulate", "cademi", "--port", str(port), "--rate-scale", "0.25", "--key", "sim-key-2"
    )
    root = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the simulator exited: {proc.communicate(timeout=30)}")
        try:
            return (
                requests.get(root + "/_sim/stats", timeout=5).status_code == 200
            )  # not rate-limited
        except requests.ConnectionError:
            return False

    try:
        cli.wait_for(up, timeout=30, what="the simulator to answer", interval=0.2)
        first = requests.get(
            root + "/api/v1/tag", headers={"Authorization": "sim-key-2"}, timeout=5
        )
        assert first.status_code == 200, first.text
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=15)
