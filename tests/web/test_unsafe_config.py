"""``painel serve`` refuses to start with settings that would leak code, data or tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painel_testing import free_port, painel

pytestmark = [pytest.mark.timeout(120)]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"show_tracebacks": True}, "show_tracebacks must be false"),
        ({"strip_sources": False}, "strip_sources must be true"),
        ({"allow_template_override": "YES"}, "allow_template_override"),
        ({"file_allowlist": [".*"]}, "would serve x.ipynb"),
        ({"file_allowlist": [r".*\.duckdb"]}, "would serve x.duckdb"),
    ],
)
def test_unsafe_setting_stops_the_server(tmp_path: Path, setting: dict, message: str) -> None:
    cfg = tmp_path / "extra.json"
    cfg.write_text(json.dumps({"VoilaConfiguration": setting}))
    port = str(free_port())  # it must stop before binding; if it did not, nothing collides
    proc = painel(
        tmp_path / "home", "serve", "--port", port, "--config", str(cfg), check=False, timeout=60
    )
    assert proc.returncode == 2
    assert "unsafe voila.json" in proc.stderr and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    port = str(free_port())
    proc = painel(
        tmp_path / "home", "serve", "--port", port, "--config", missing, check=False, timeout=60
    )
    assert proc.returncode == 2 and "config file not found" in proc.stderr
