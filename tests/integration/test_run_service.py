"""The run service end to end: a job's progress reaches ``painel etl run`` and ``painel runs``;
the run's variables reach its kernel without touching the caller's environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat

from painel.config import Paths
from painel.runner import run_job
from painel_testing import FIXTURE_PROJECT


def test_etl_run_prints_one_line_per_step_when_not_on_a_terminal(fixture_cli: Any) -> None:
    result = fixture_cli.run("etl", "run", "metered", "-p", "steps=20", "-p", "pause_s=0.15")
    assert result.returncode == 0, result.stderr
    progress_lines = [ln for ln in result.stdout.splitlines() if ln.startswith("count: ")]
    assert progress_lines[-1] == "count: 20/20 rows (100%), ETA 0m00s"
    assert 2 <= len(progress_lines) <= 11  # at most one per tenth, never one per unit
    [run] = fixture_cli.runs()
    state = json.loads(run["progress"])
    assert (state["step"], state["done"], state["total"], state["unit"]) == (
        "count",
        20,
        20,
        "rows",
    )
    assert "20/20 rows" not in fixture_cli.run("runs").stdout  # a finished run shows its duration


def test_the_kernel_gets_the_runs_variables_and_the_caller_keeps_its_own(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.delenv("PAINEL_RUN_ID", raising=False)
    monkeypatch.setenv("PAINEL_HOME", "/nowhere/the/caller/had")
    before = dict(os.environ)
    paths = Paths(home=tmp_path / "home", project=FIXTURE_PROJECT)
    result = run_job(paths, "metered", pairs=["steps=1"])
    assert result.status == "succeeded", result.error
    assert dict(os.environ) == before
    nb = nbformat.read(str(result.notebook_out), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"kernel run id: {result.run_id} home: {paths.home}" in printed
