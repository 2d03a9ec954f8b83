"""``painel etl run school`` as an operator runs it: through Papermill, from an FTP server
on loopback, with one-line failures, and a SIGKILL in the middle of a load that changes
nothing users see."""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from painel.school.ftpserver import serve
from painel.school.generate import generate

pytestmark = [pytest.mark.timeout(600)]
PASSWORD = "senha-ftp-de-teste"


def ftp_params(port: int) -> list[str]:
    return [
        "-p",
        "source=ftp",
        "-p",
        "ftp_host=127.0.0.1",
        "-p",
        f"ftp_port={port}",
        "-p",
        "ftp_user=simade",
        "-p",
        "directory=/",
        "-p",
        "stable_wait_s=0.2",
        "-p",
        "timeout_s=10",
    ]


def run_ok(cli: Any, *params: str) -> str:
    result = cli.run("etl", "run", "school", *params, timeout=400)
    assert result.returncode == 0, result.stderr
    version = cli.current("school")
    assert version
    return version


def test_fetch_by_ftp_then_fail_in_one_line(cli: Any, tmp_path: Path) -> None:
    dumps = tmp_path / "ftp"
    generate(dumps, scale=0.002, day=date(2026, 6, 1), seed=5)
    cli.extra_env = {"SCHOOL_FTP_PASSWORD": PASSWORD}
    with serve(dumps, user="simade", password=PASSWORD) as ftp:
        v1 = run_ok(cli, *ftp_params(ftp.port))
        manifest = cli.store.manifest("school")
        assert manifest["notes"]["dump"] == "simade_20260601.zip"
        assert (cli.home / "landing" / "school" / "simade_20260601.zip").is_file()
        # the same dump again: refused, nothing changes
        again = cli.run("etl", "run", "school", *ftp_params(ftp.port), timeout=200)
        assert again.returncode != 0
        assert "no new dump at ftp://127.0.0.1:" in cli.one_line_error(again.stderr)
        assert cli.current("school") == v1
    # the server is down now
    down = cli.run("etl", "run", "school", *ftp_params(ftp.port), timeout=200)
    assert down.returncode != 0
    assert f"FTP server 127.0.0.1:{ftp.port} unreachable" in cli.one_line_error(down.stderr)
    # a wrong password
    with serve(dumps, user="simade", password="outra") as ftp:
        refused = cli.run("etl", "run", "school", *ftp_params(ftp.port), timeout=200)
        assert refused.returncode != 0
        line = cli.one_line_error(refused.stderr)
        assert "FTP login refused for user 'simade'" in line and PASSWORD not in line
    assert cli.current("school") == v1


def test_sigkill_mid_load_leaves_the_published_version(cli: Any, tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    local = ["-p", "source=local", "-p", f"directory={dumps}", "-p", "stable_wait_s=0"]
    generate(dumps, scale=0.002, day=date(2026, 11, 27), seed=9)
    v1 = run_ok(cli, *local)
    generate(dumps, scale=0.03, day=date(2026, 11, 30), seed=9)  # a bigger one, to be killed
    proc = cli.popen("etl", "run", "school", *local, "-p", "accept_volume_change=true")
    staging = cli.staging("school")
    work = cli.home / "work" / "school"

    def loading() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate(timeout=30)}")
        return any(staging.glob("*.duckdb")) and any(work.glob("raw-*.duckdb"))

    cli.wait_for(loading, timeout=120, what="the load to start")
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert cli.current("school") == v1
    assert cli.store.manifest("school")["notes"]["dump"] == "simade_20261127.zip"
    # the next run cleans what the killed one left and publishes the new dump
    v2 = run_ok(cli, *local, "-p", "accept_volume_change=true")
    assert v2 != v1
    assert cli.store.manifest("school")["notes"]["dump"] == "simade_20261130.zip"
    assert not list(staging.glob("*.duckdb"))
    assert not work.exists() or not list(work.glob("raw-*.duckdb"))


def test_structural_fault_fails_in_one_line(cli: Any, tmp_path: Path) -> None:
    import zipfile

    dumps = tmp_path / "dumps"
    (path,) = generate(dumps, scale=0.002, day=date(2026, 6, 1), seed=5)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "nota.csv"}
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    result = cli.run(
        "etl",
        "run",
        "school",
        "-p",
        "source=local",
        "-p",
        f"directory={dumps}",
        "-p",
        "stable_wait_s=0",
        timeout=200,
    )
    assert result.returncode != 0
    line = cli.one_line_error(result.stderr)
    assert "SchoolJobError: simade_20260601.zip: file nota.csv missing" in line
    assert cli.current("school") is None
