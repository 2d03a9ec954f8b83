"""``painel users email``, ``painel mail send|list|test`` and the failure mail of a failed job,
through the real command line, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mail_testing import MailCatcher
from painel_testing import FIXTURE_PROJECT, Cli, free_port

pytestmark = [pytest.mark.timeout(240)]

SUPPORT = "suporte@cge.go.gov.br"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tiny fixture project, with a mail.yaml naming a support address; the server comes
    from PAINEL_SMTP_HOST / PAINEL_SMTP_PORT, as in the demo."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, root)
    (root / "parameters" / "mail.yaml").write_text(
        f"sender: 'Painel <painel@cge.go.gov.br>'\nsupport: [{SUPPORT}]\n"
        "timeout_s: 5\nretry_backoff_s: 0\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def mcli(tmp_path: Path, project: Path, port: int) -> Iterator[Cli]:
    c = Cli(
        home=tmp_path / "home",
        project=project,
        extra_env={"PAINEL_SMTP_HOST": "127.0.0.1", "PAINEL_SMTP_PORT": str(port)},
    )
    c.home.mkdir(parents=True)
    yield c
    c.cleanup()


def outbox(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli.run("mail", "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_users_email_sets_lists_and_clears_the_address(mcli: Cli) -> None:
    add = mcli.run(
        "users", "add", "maria", "--role", "analyst", "--password-stdin", stdin="long-pass-123\n"
    )
    assert add.returncode == 0, add.stderr
    done = mcli.run("users", "email", "maria", "maria@cge.go.gov.br")
    assert done.returncode == 0 and "e-mail of maria set to maria@cge.go.gov.br" in done.stdout
    [line] = [ln for ln in mcli.run("users", "list").stdout.splitlines() if ln.startswith("maria")]
    assert "maria@cge.go.gov.br" in line

    bad = mcli.run("users", "email", "maria", "maria at cge")
    assert bad.returncode == 2
    assert "user 'maria': 'maria at cge' is not an e-mail address" in mcli.one_line_error(
        bad.stderr
    )
    ghost = mcli.run("users", "email", "ghost", "g@cge")
    assert ghost.returncode == 2 and "no such user 'ghost'" in mcli.one_line_error(ghost.stderr)

    cleared = mcli.run("users", "email", "maria", "")
    assert cleared.returncode == 0 and "e-mail of maria cleared" in cleared.stdout
    [line] = [ln for ln in mcli.run("users", "list").stdout.splitlines() if ln.startswith("maria")]
    assert "@" not in line


def test_mail_test_and_send_with_the_server_down_then_up(mcli: Cli, port: int) -> None:
    down = mcli.run("mail", "test", "maria@cge.go.gov.br")
    assert down.returncode == 1
    message = mcli.one_line_error(down.stderr)
    assert f"cannot reach the SMTP server 127.0.0.1:{port}: connection refused" in message
    assert message.endswith("it stays queued")
    [queued] = outbox(mcli, "--pending")
    assert queued["status"] == "pending" and queued["attempts"] == 1
    assert queued["kind"] == "test" and f"127.0.0.1:{port}" in queued["last_error"]

    again = mcli.run("mail", "send")
    assert again.returncode == 1
    assert "1 mail(s) stay queued" in mcli.one_line_error(again.stderr)

    with MailCatcher(port=port) as catcher:
        sent = mcli.run("mail", "send", "--now")  # no back-off here (retry_backoff_s: 0)
        assert sent.returncode == 0, sent.stderr
        assert "0 mail(s) waiting out a back-off made due now" in sent.stdout
        assert f"mail: 127.0.0.1:{port}: 1 sent" in sent.stdout
        assert mcli.run("mail", "send").stdout.strip() == "nothing due"  # all sent
        [got] = catcher.wait_for(1)
        assert got.message["Subject"] == "[painel] Mensagem de teste"
        assert "o envio de e-mails está funcionando" in got.text()

        now = mcli.run("mail", "test", "jose@cge.go.gov.br")
        assert now.returncode == 0, now.stderr
        assert "test mail sent to jose@cge.go.gov.br" in now.stdout
        assert len(catcher.wait_for(2)) == 2
    assert outbox(mcli, "--pending") == []
    assert [m["status"] for m in outbox(mcli)] == ["sent", "sent"]
    assert "sent" in mcli.run("mail", "list").stdout


def test_a_bad_mail_yaml_is_named(mcli: Cli, project: Path) -> None:
    (project / "parameters" / "mail.yaml").write_text("security: tls\n", encoding="utf-8")
    result = mcli.run("mail", "send")
    assert result.returncode == 2
    assert mcli.one_line_error(result.stderr) == (
        "painel: parameters/mail.yaml: field 'security' must be one of none, starttls, ssl, got 'tls'"
    )


@pytest.mark.slow
def test_a_failed_job_mails_support_once_and_keeps_its_exit_code(mcli: Cli, port: int) -> None:
    with MailCatcher(port=port) as catcher:
        result = mcli.run("etl", "run", "raises", "-p", "message=kaboom 42")
        assert result.returncode == 1, result.stderr
        message = mcli.one_line_error(result.stderr)  # the job's own line, alone
        assert message.startswith("painel: etl run raises failed (run ")
        assert "RuntimeError: kaboom 42" in message
        [got] = catcher.wait_for(1)
    [run] = mcli.runs()
    assert got.rcpt_tos == [SUPPORT]
    assert got.message["Subject"] == "[painel] Falha na execução do job raises"
    for body in (got.text(), got.html()):
        assert "raises" in body and run["run_id"] in body
        assert "RuntimeError: kaboom 42" in body
        assert run["notebook_out"] in body
    assert len(catcher.messages) == 1
    [queued] = outbox(mcli)
    assert (
        queued["status"] == "sent"
        and queued["dedup_key"] == f"run.failed:{run['run_id']}:{SUPPORT}"
    )


@pytest.mark.slow
def test_with_the_server_down_the_job_fails_with_its_own_message(mcli: Cli, port: int) -> None:
    result = mcli.run("etl", "run", "raises", "-p", "message=kaboom 43")
    assert result.returncode == 1, result.stderr
    lines = mcli.painel_lines(result.stderr)
    assert lines[-1].startswith("painel: etl run raises failed (run ")
    assert "RuntimeError: kaboom 43" in lines[-1]
    [mail_line] = lines[:-1]
    assert mail_line.startswith("painel: the failure mail to support is queued, not sent: ")
    assert f"127.0.0.1:{port}" in mail_line
    [run] = mcli.runs()
    assert run["status"] == "failed" and run["error"].startswith("RuntimeError: kaboom 43")
    [queued] = outbox(mcli, "--pending")
    assert queued["kind"] == "run.failed" and queued["attempts"] == 1

    with MailCatcher(port=port) as catcher:
        assert mcli.run("mail", "send").returncode == 0
        assert mcli.run("mail", "send").stdout.strip() == "nothing due"  # all sent
        [got] = catcher.wait_for(1)
    assert "kaboom 43" in got.text() and len(catcher.messages) == 1
