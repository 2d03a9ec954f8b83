"""The run service's progress: a job's meter, the run record, and what ``painel etl run`` draws."""

from __future__ import annotations

import io
import json

import pytest

from painel.cli import LiveProgress
from painel.config import Paths
from painel.opstate import OpState, iso, utcnow
from painel.runctx import Meter, RunContext, describe


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def paths(tmp_path, monkeypatch) -> Paths:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    p = Paths.from_env().ensure()
    with OpState(p.opstate).connect() as con:
        con.execute(
            "INSERT INTO runs (run_id, job, status, trigger_, started_at, parameters, notebook_out) "
            "VALUES ('r1', 'job', 'running', 'manual', ?, '{}', 'x.ipynb')",
            [iso(utcnow())],
        )
    return p


def recorded(paths: Paths) -> dict:
    with OpState(paths.opstate).connect() as con:
        return json.loads(
            con.execute("SELECT progress FROM runs WHERE run_id = 'r1'").fetchone()[0]
        )


def test_a_meter_records_done_total_rate_and_eta_on_the_run(paths):
    clock, lines = Clock(), []
    meter = Meter(
        RunContext("r1", job="job"),
        "collect",
        10,
        "calls",
        every_s=5,
        out=lines.append,
        clock=clock,
    )
    assert recorded(paths)["done"] == 0
    for _ in range(4):
        clock.t += 0.5
        meter.advance()
    state = recorded(paths)
    assert (state["step"], state["unit"], state["done"], state["total"]) == (
        "collect",
        "calls",
        4,
        10,
    )
    assert state["rate_per_s"] == 2.0 and state["eta_s"] == 3
    assert lines == ["collect: 1/10 calls (10%), ETA 0m04s, 2.00/s"]  # then quiet until every_s
    clock.t += 5
    meter.advance()
    assert lines[1:] == ["collect: 5/10 calls (50%), ETA 0m07s, 0.71/s"]
    for _ in range(5):
        meter.advance()
    assert recorded(paths)["done"] == 10 and lines[-1].startswith("collect: 10/10 calls (100%)")


def test_an_interactive_run_prints_but_records_nothing(paths):
    lines = []
    meter = RunContext("interactive-x").meter("count", 2, out=lines.append, every_s=0)
    meter.advance()
    meter.advance()
    with OpState(paths.opstate).connect() as con:
        assert con.execute("SELECT progress FROM runs").fetchone()[0] is None
    assert lines[-1].startswith("count: 2/2 (100%)")


def test_describe_is_the_one_wording():
    assert describe(
        {"step": "collect", "unit": "calls", "done": 120, "total": 400, "eta_s": 140}
    ) == ("collect: 120/400 calls (30%), ETA 2m20s")
    assert describe({"done": 0, "total": 0}) == "run: 0/0 (100%)"


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_without_a_terminal_one_line_per_step_and_tenth(paths):
    stream = Stream(tty=False)
    live = LiveProgress(paths, "r1", stream=stream, poll_s=60)
    meter = Meter(RunContext("r1"), "collect", 100, "calls", out=None)
    for _ in range(100):
        meter.advance(force=True)
        live._show()
    lines = stream.getvalue().splitlines()
    assert (
        len(lines) == 11
        and lines[0].startswith("collect: 1/100")
        and lines[-1].startswith("collect: 100/100")
    )
    Meter(RunContext("r1"), "load", 1, out=None).advance()
    live._show()
    assert stream.getvalue().splitlines()[-1].startswith("load: 1/1")


def test_on_a_terminal_a_bar_redrawn_in_place(paths):
    stream = Stream(tty=True)
    meter = Meter(RunContext("r1"), "collect", 4, "calls", out=None)
    with LiveProgress(paths, "r1", stream=stream, poll_s=60) as live:
        meter.advance(2, force=True)
        live._show()
    out = stream.getvalue()
    assert out.startswith("\r[###############...............] collect: 2/4 calls (50%)")
    assert out.endswith("\n")
