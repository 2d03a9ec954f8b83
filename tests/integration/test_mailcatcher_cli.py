"""``painel simulate mail``: the demo's mail catcher from the command line takes what
``painel mail test`` sends and shows it, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
import requests

from painel_testing import free_port, wait_for

pytestmark = pytest.mark.timeout(120)


def test_simulate_mail_catches_painel_mail_and_exits_on_sigterm(cli: Any) -> None:
    smtp_port, http_port = free_port(), free_port()
    folder = cli.home / "caixa"
    proc = cli.popen(
        "simulate", "mail", "--smtp-port", str(smtp_port), "--http-port", str(http_port),
        "--folder", str(folder),
    )  # fmt: skip
    base = f"http://127.0.0.1:{http_port}"

    def answers() -> requests.Response | None:
        if proc.poll() is not None:
            raise AssertionError(f"the catcher exited: {proc.communicate(timeout=30)}")
        try:
            return requests.get(base + "/", timeout=5)
        except requests.ConnectionError:
            return None

    first = wait_for(answers, timeout=30, what="the mail catcher to answer", interval=0.2)
    assert "Nenhuma mensagem recebida ainda" in first.text

    cli.extra_env.update({"PAINEL_SMTP_HOST": "127.0.0.1", "PAINEL_SMTP_PORT": str(smtp_port)})
    sent = cli.run("mail", "test", "ana@cge.go.gov.br")
    assert sent.returncode == 0, sent.stderr
    page = requests.get(base + "/", timeout=10)
    assert "[painel] Mensagem de teste" in page.text and "ana@cge.go.gov.br" in page.text
    assert len(list(folder.glob("*.eml"))) == 1

    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert time.monotonic() - t0 < 10
    assert f"SMTP at 127.0.0.1:{smtp_port}, messages at {base}" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/", timeout=2)
