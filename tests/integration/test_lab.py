"""``painel lab``: a dashboard notebook renders as a chosen identity; an ETL notebook writes to a
scratch store, never the published one; JupyterLab itself starts on the project."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from nbclient import NotebookClient

from painel.config import Paths
from painel.lab import lab_environment, scratch_store
from painel_testing import REPO, free_port, painel, prepare_demo_home

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("lab") / "home"
    home.mkdir()
    prepare_demo_home(home)
    return home


def run_notebook(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Execute ``path`` as a JupyterLab kernel of `painel lab` would (its environment)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    import os

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits the client's environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def widget_text(nb: nbformat.NotebookNode) -> str:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return json.dumps(state, ensure_ascii=False)


def test_a_dashboard_renders_inline_as_each_chosen_identity(home: Path) -> None:
    paths = Paths.from_env(home)
    notebook = REPO / "notebooks" / "dashboards" / "rede_visao_geral.ipynb"
    seen: dict[str, str] = {}
    for user in ("sre.metropolitana", "sre.uberlandia"):
        nb = run_notebook(notebook, lab_environment(paths, user))
        seen[user] = widget_text(nb)
    metro, ub = seen["sre.metropolitana"], seen["sre.uberlandia"]
    assert "SRE Metropolitana A" in metro and "SRE Uberlândia" not in metro
    assert "SRE Uberlândia" in ub and "SRE Metropolitana A" not in ub


def test_an_unknown_identity_is_refused_by_name(home: Path) -> None:
    from painel.config import ConfigError

    with pytest.raises(ConfigError, match="--as nobody"):
        lab_environment(Paths.from_env(home), "nobody")


def test_an_etl_notebook_in_the_lab_writes_to_the_scratch_store(home: Path) -> None:
    from datetime import timedelta

    from painel.school import demo
    from painel.school.generate import generate
    from painel.store import Store

    paths = Paths.from_env(home)
    published = Store(paths.store).current_version("school")
    assert published
    # the next day's dump beside the published one: the notebook's defaults read this folder
    _, day = demo.demo_day()
    generate(demo.folder(paths), scale=demo.SCALE, day=day + timedelta(days=1), seed=demo.SEED)
    env = lab_environment(paths, "analista")
    run_notebook(REPO / "notebooks" / "etl" / "school.ipynb", env)
    assert Store(paths.store).current_version("school") == published  # users see the same data
    scratch = Store(scratch_store(paths))
    assert scratch.current_version("school") not in (None, published)


def test_painel_lab_starts_jupyterlab_on_the_project(home: Path) -> None:
    port = free_port()
    dry = painel(home, "lab", "--as", "sre.uberlandia", "--port", str(port), "--dry-run")
    assert "jupyter lab" in dry.stdout and f"--ServerApp.root_dir={REPO}" in dry.stdout
    assert "dashboards render as sre.uberlandia" in dry.stderr
    refused = painel(home, "lab", "--as", "nobody", "--dry-run", check=False)
    assert refused.returncode == 2 and "--as nobody" in refused.stderr

    token = "lab-test-token"
    env = lab_environment(Paths.from_env(home), "analista")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "painel.cli",
            "lab",
            "--no-browser",
            "--port",
            str(port),
        ],
        env={**env, "JUPYTER_TOKEN": token},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        answer: Any = None
        while time.monotonic() < deadline:
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/api/contents/notebooks/dashboards",
                    headers={"Authorization": f"token {token}"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert answer is not None and answer.status_code == 200
        names = {item["name"] for item in answer.json()["content"]}
        assert "progresso.ipynb" in names
        kernels = requests.get(
            f"http://127.0.0.1:{port}/api/kernelspecs",
            headers={"Authorization": f"token {token}"},
            timeout=5,
        ).json()
        assert kernels["default"] == "python3"
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
