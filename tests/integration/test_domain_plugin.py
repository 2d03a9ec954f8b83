"""A domain installed as a separate package plugs in with no edit to the core.

The tiny domain in tests/fixtures/tiny_domain is packed into a wheel and installed with pip
into a throwaway directory; processes that have it on PYTHONPATH find it through the
``painel.domains`` entry point. Its command, role, migration, dataset and dashboard then
work; processes without it never see any of them.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from painel_testing import (
    REPO,
    Cli,
    KernelChannel,
    copy_project,
    login,
    render,
    start_server,
    widget_text,
)

FIXTURE = REPO / "tests" / "fixtures" / "tiny_domain"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def _wheel(dest: Path) -> Path:
    """A wheel of the fixture package (what a build backend would write), for pip to install."""
    name, version = "painel_tiny_domain", "0.1"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"painel_tiny/{p.name}": p.read_bytes() for p in (FIXTURE / "painel_tiny").glob("*.py")
    }
    files[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{dist}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: painel-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{dist}/entry_points.txt"] = (FIXTURE / "entry_points.txt").read_bytes()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """(home, project, extra environment): the tiny domain pip-installed into its own directory."""
    tmp = tmp_path_factory.mktemp("plugin")
    target = tmp / "site"
    wheel = _wheel(tmp)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    project = copy_project(tmp / "project")
    for kind in ("etl", "dashboards"):
        for nb in (FIXTURE / "notebooks" / kind).glob("*.ipynb"):
            shutil.copy(nb, project / "notebooks" / kind / nb.name)
    home = tmp / "home"
    home.mkdir()
    yield home, project, {"PYTHONPATH": str(target)}


def test_the_plugin_adds_its_command_role_migration_dataset_and_dashboard(
    plugin: tuple[Path, Path, dict[str, str]],
) -> None:
    home, project, env = plugin
    bare, with_plugin = Cli(home, project), Cli(home, project, extra_env=env)

    # without the package on the path the core knows none of it
    assert "tiny" not in bare.run("--help").stdout
    refused = bare.run(
        "users", "add", "x", "--role", "gardener", "--password-stdin", stdin="pass-word-1\n"
    )
    assert refused.returncode == 2 and "gardener" in refused.stderr

    # command + migration: its own stream, its own table
    assert "tiny" in with_plugin.run("--help").stdout
    with_plugin.run("tiny", "note", "maçã madura", check=True)
    assert "1: maçã madura" in with_plugin.run("tiny", "notes").stdout
    with sqlite3.connect(home / "painel.sqlite") as con:
        streams = dict(con.execute("SELECT stream, version FROM schema_streams"))
    assert streams["tiny"] == 1 and streams["core"] >= 1

    # role: a gardener limited to orchard 1
    with_plugin.run(
        "users",
        "add",
        "jardineira",
        "--role",
        "gardener",
        "--grant",
        "tiny:orchard:1",
        "--password-stdin",
        stdin="jardim-secreto\n",
        check=True,
    )

    # dataset: the job builds with the declaration the domain makes
    run = with_plugin.run("etl", "run", "tiny_fruit", "-p", "rows=6", check=True)
    assert "published tiny@" in run.stdout

    # dashboard: served by role, rows by grant
    server = start_server(home, project=project, env=env)
    try:
        s = login(server, "jardineira", "jardim-secreto")
        landing = s.get(server.base + "/", timeout=30).text
        assert "Pomar" in landing
        r, kernel = render(s, server, "pomar.ipynb")
        assert r.status_code == 200 and kernel
        channel = KernelChannel(server, s, kernel)
        try:
            text = widget_text(channel.widget_states())
        finally:
            channel.close()
        assert text.count("pomar-1") == 3 and "pomar-2" not in text
    finally:
        server.stop()
