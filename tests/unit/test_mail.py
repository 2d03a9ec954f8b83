"""painel.mail against a real SMTP server on loopback (aiosmtpd): settings, users' addresses,
the outbox (dedup, retries, give-up, concurrent passes, a pass that died), TLS, failure mails."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from mail_testing import MailCatcher, self_signed
from painel import mail
from painel.access import AuthError
from painel.auth import Users
from painel.config import Paths
from painel.mail import (
    CLAIM_LEASE,
    AddressError,
    Mail,
    MailSettingsError,
    deliver,
    load_settings,
    outbox,
    queue,
    recipients,
    settings_from,
    validate_address,
)
from painel.opstate import OpState, iso
from painel.runner import reap_dead_runs
from painel.schedule import Scheduler
from painel_testing import free_port

pytestmark = [pytest.mark.timeout(60)]

T0 = datetime(2025, 12, 1, 8, 3, tzinfo=UTC)  # 05:03 in São Paulo, in the past
SUBJECT = "Relatório diário: 3 contratações com indício de fracionamento — ação necessária"
TEXT = "Olá, Maria.\n\nHá 3 contratações novas do órgão Secretaria de Educação.\n"
HTML = "<p>Olá, Maria.</p><p>Há <b>3</b> contratações novas do órgão Secretaria de Educação.</p>"


@pytest.fixture
def op(tmp_path: Path) -> OpState:
    return OpState(tmp_path / "home" / "painel.sqlite")


@pytest.fixture
def catcher() -> object:
    with MailCatcher() as c:
        yield c


def settings_for(port: int, **extra: object) -> mail.MailSettings:
    return settings_from({"host": "127.0.0.1", "port": port, "timeout_s": 5, **extra})


def digest(to: str = "maria@orgao.go.gov.br", **kw: str) -> Mail:
    return Mail(to=to, subject=SUBJECT, text=TEXT, html=HTML, kind="procurement.daily", **kw)


def entry(op: OpState, key: str) -> mail.OutboxEntry:
    [found] = [e for e in outbox(op) if e.dedup_key == key]
    return found


# ---- the message --------------------------------------------------------------------------
def test_a_queued_mail_arrives_as_pt_br_text_and_html(op, catcher) -> None:
    assert queue(op, digest(username="maria"), "procurement.daily:2026-12-01:maria", now=T0)
    report = deliver(op, settings_for(catcher.port, sender="Painel Controladoria <painel@cge>"))
    assert report.sent == ["procurement.daily:2026-12-01:maria"] and report.ok

    [got] = catcher.wait_for(1)
    assert got.mail_from == "painel@cge"
    assert got.rcpt_tos == ["maria@orgao.go.gov.br"]
    head = got.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head  # the accented subject is RFC 2047-encoded
    assert got.raw.isascii()  # quoted-printable bodies: 7-bit safe on any server
    msg = got.message
    assert msg["Subject"] == SUBJECT
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
    assert got.text() == TEXT
    assert got.html() == HTML + "\n"  # set_content ends the last line
    assert msg["From"] == "Painel Controladoria <painel@cge>"
    assert msg["To"] == "maria@orgao.go.gov.br"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(msg["Date"]) == T0  # when it was queued, in São Paulo time
    assert msg["Date"].endswith("-0300")

    sent = entry(op, "procurement.daily:2026-12-01:maria")
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at and not sent.last_error
    assert sent.message_id == got.message_id and sent.username == "maria"


def test_queuing_the_same_key_twice_sends_one_mail(op, catcher) -> None:
    settings = settings_for(catcher.port)
    assert queue(op, digest(), "daily:2026-12-01:maria") is True
    assert queue(op, digest(), "daily:2026-12-01:maria") is False  # the job ran again
    assert deliver(op, settings).sent == ["daily:2026-12-01:maria"]
    assert deliver(op, settings).sent == []  # nothing due: already sent
    assert queue(op, digest(), "daily:2026-12-01:maria") is False  # sent: still a no-op
    assert deliver(op, settings).sent == []
    assert len(catcher.wait_for(1)) == 1
    assert len(outbox(op)) == 1


def test_queue_refuses_a_bad_address_or_key(op) -> None:
    with pytest.raises(AddressError, match="not an e-mail address"):
        queue(op, digest(to="Maria <maria@x>"), "k")
    with pytest.raises(ValueError, match="dedup key"):
        queue(op, digest(), " ")
    with pytest.raises(ValueError, match="one non-empty line"):
        queue(op, Mail("a@x", "Assunto\nBcc: todos@x", "t", "<p>t</p>"), "k")
    assert outbox(op) == []


# ---- failures and retries -----------------------------------------------------------------
def test_server_down_keeps_the_mail_then_it_is_delivered_once(op) -> None:
    port = free_port()  # nothing listens there yet
    settings = settings_for(port, retry_backoff_s=60)
    queue(op, digest(), "k1", now=T0)
    down = deliver(op, settings, now=T0)
    assert down.sent == [] and not down.ok
    assert down.unreachable == f"cannot reach the SMTP server 127.0.0.1:{port}: connection refused"
    waiting = entry(op, "k1")
    assert waiting.status == "pending" and waiting.attempts == 1
    assert waiting.last_error == down.unreachable
    assert waiting.next_attempt_at == iso(T0 + timedelta(seconds=60))

    with MailCatcher(port=port) as catcher:
        assert deliver(op, settings, now=T0 + timedelta(seconds=30)).sent == []  # not due yet
        later = T0 + timedelta(seconds=61)
        assert deliver(op, settings, now=later).sent == ["k1"]
        assert deliver(op, settings, now=later + timedelta(hours=1)).sent == []
        [got] = catcher.wait_for(1)
        assert catcher.rcpt_attempts == ["maria@orgao.go.gov.br"]
    done = entry(op, "k1")
    assert done.status == "sent" and done.attempts == 2 and done.last_error is None
    assert got.message_id == done.message_id


def test_retry_now_makes_mail_waiting_out_a_back_off_due_and_leaves_sent_mail(op) -> None:
    port = free_port()
    settings = settings_for(port, retry_backoff_s=3600)
    queue(op, digest(), "k1", now=T0)
    queue(op, digest(to="jose@cge.go.gov.br"), "k2", now=T0)
    assert deliver(op, settings, now=T0).unreachable  # both wait an hour now
    soon = T0 + timedelta(minutes=1)
    with MailCatcher(port=port) as catcher:
        assert deliver(op, settings, now=soon).sent == []  # still backing off
        assert mail.retry_now(op, now=soon) == 2
        assert deliver(op, settings, now=soon).sent == ["k1", "k2"]
        catcher.wait_for(2)
        assert mail.retry_now(op, now=soon) == 0  # sent mail is not made due again
        assert deliver(op, settings, now=soon).sent == []
    assert [entry(op, k).status for k in ("k1", "k2")] == ["sent", "sent"]


def test_a_refused_recipient_is_retried_alone(op, catcher) -> None:
    catcher.refuse.add("ghost@orgao")
    settings = settings_for(catcher.port)
    for who in ("ana@orgao", "ghost@orgao", "bia@orgao"):
        queue(op, digest(to=who), f"d:{who}", now=T0)
    first = deliver(op, settings, now=T0)
    assert first.sent == ["d:ana@orgao", "d:bia@orgao"]
    assert list(first.failed) == ["d:ghost@orgao"]
    assert (
        "recipient ghost@orgao refused: 550 5.1.1 caixa postal inexistente"
        in (first.failed["d:ghost@orgao"])
    )
    second = deliver(op, settings, now=T0 + timedelta(hours=2))
    assert second.sent == [] and list(second.failed) == ["d:ghost@orgao"]
    assert sorted(catcher.rcpt_attempts) == ["ana@orgao", "bia@orgao", "ghost@orgao", "ghost@orgao"]
    assert sorted(r for m in catcher.messages for r in m.rcpt_tos) == ["ana@orgao", "bia@orgao"]
    ghost = entry(op, "d:ghost@orgao")
    assert ghost.status == "pending" and ghost.attempts == 2 and "550" in str(ghost.last_error)


def test_after_max_attempts_the_mail_is_given_up_and_kept(op, catcher) -> None:
    catcher.refuse.add("ghost@orgao")
    settings = settings_for(catcher.port, max_attempts=2, retry_backoff_s=10)
    queue(op, digest(to="ghost@orgao"), "g", now=T0)
    assert list(deliver(op, settings, now=T0).failed) == ["g"]
    assert list(deliver(op, settings, now=T0 + timedelta(hours=1)).given_up) == ["g"]
    assert deliver(op, settings, now=T0 + timedelta(days=9)).given_up == {}
    assert catcher.rcpt_attempts == ["ghost@orgao"] * 2
    kept = entry(op, "g")
    assert kept.status == "given_up" and kept.attempts == 2 and "550" in str(kept.last_error)
    assert outbox(op, pending=True) == []


def test_backoff_doubles_up_to_its_cap() -> None:
    s = settings_from({"retry_backoff_s": 60, "retry_backoff_max_s": 300})
    assert [s.backoff(n).total_seconds() for n in range(1, 6)] == [60, 120, 240, 300, 300]


def test_server_down_counts_an_attempt_and_gives_up_at_max(op) -> None:
    settings = settings_for(free_port(), max_attempts=2, retry_backoff_s=0)
    queue(op, digest(), "k", now=T0)
    assert list(deliver(op, settings, now=T0).failed) == ["k"]
    assert list(deliver(op, settings, now=T0).given_up) == ["k"]
    assert entry(op, "k").status == "given_up"


# ---- concurrency and crashes --------------------------------------------------------------
def test_two_concurrent_passes_send_each_mail_once(op) -> None:
    keys = [f"bulk:{i}" for i in range(24)]
    for i, key in enumerate(keys):
        queue(op, digest(to=f"u{i}@orgao"), key)
    with MailCatcher(delay_s=0.01) as catcher:
        settings = settings_for(catcher.port)
        start = threading.Barrier(2, timeout=10)
        reports: list[mail.DeliveryReport] = []

        def run() -> None:
            start.wait()
            reports.append(deliver(OpState(op.path), settings))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads) and len(reports) == 2
        received = catcher.wait_for(len(keys))
    ids = [m.message_id for m in received]
    assert len(ids) == len(set(ids)) == len(keys)  # each mail exactly once
    assert sorted(reports[0].sent + reports[1].sent) == sorted(keys)
    assert not set(reports[0].sent) & set(reports[1].sent)
    assert {e.status for e in outbox(op)} == {"sent"}


def test_a_pass_that_died_after_the_server_took_the_mail_resends_the_same_message(
    op, catcher, monkeypatch
) -> None:
    """The one window left (documented): accepted, then the process died before marking it
    sent. After the claim's lease the mail goes again, as the same message."""
    settings = settings_for(catcher.port)
    queue(op, digest(), "k", now=T0)

    def crash(*_args: object) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as m:
        m.setattr(mail, "_mark_sent", crash)
        with pytest.raises(RuntimeError):
            deliver(op, settings, now=T0)
    assert entry(op, "k").status == "sending"
    assert deliver(op, settings, now=T0 + CLAIM_LEASE).sent == []  # still claimed
    assert deliver(op, settings, now=T0 + CLAIM_LEASE + timedelta(seconds=1)).sent == ["k"]
    first, second = catcher.wait_for(2)
    assert first.message_id == second.message_id == entry(op, "k").message_id
    assert first.message["Date"] == second.message["Date"]
    assert entry(op, "k").status == "sent" and entry(op, "k").attempts == 2


# ---- TLS and login ------------------------------------------------------------------------
def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"painel" and auth_data.password == b"s3nha-secreta"
    return AuthResult(success=ok)


def test_starttls_with_login_and_password_from_the_environment(op, tmp_path, monkeypatch) -> None:
    server_tls, ca = self_signed(tmp_path / "tls")
    monkeypatch.setenv("MAIL_TEST_PASSWORD", "s3nha-secreta")
    with MailCatcher(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as catcher:
        settings = settings_for(
            catcher.port,
            security="starttls",
            ca_file=str(ca),
            user="painel",
            password_env="MAIL_TEST_PASSWORD",
        )
        queue(op, digest(), "tls")
        report = deliver(op, settings)
        assert report.sent == ["tls"], report
        [got] = catcher.wait_for(1)
    assert got.text() == TEXT


def test_implicit_tls(op, tmp_path) -> None:
    server_tls, ca = self_signed(tmp_path / "tls")
    with MailCatcher(ssl_context=server_tls) as catcher:
        settings = settings_for(catcher.port, security="ssl", ca_file=str(ca))
        queue(op, digest(), "ssl")
        assert deliver(op, settings).sent == ["ssl"]
        assert catcher.wait_for(1)[0].message["Subject"] == SUBJECT


def test_an_untrusted_certificate_is_an_error_and_the_mail_waits(op, tmp_path) -> None:
    server_tls, _ca = self_signed(tmp_path / "tls")
    with MailCatcher(tls_context=server_tls, require_starttls=True) as catcher:
        queue(op, digest(), "k")
        report = deliver(op, settings_for(catcher.port, security="starttls"))
        assert catcher.messages == []
    assert report.unreachable and "CERTIFICATE_VERIFY_FAILED" in report.unreachable
    assert entry(op, "k").status == "pending" and entry(op, "k").attempts == 1


def test_a_missing_password_is_named_before_anything_is_tried(op, monkeypatch) -> None:
    monkeypatch.delenv("MAIL_TEST_PASSWORD", raising=False)
    settings = settings_for(free_port(), user="painel", password_env="MAIL_TEST_PASSWORD")
    queue(op, digest(), "k")
    with pytest.raises(MailSettingsError, match="environment variable MAIL_TEST_PASSWORD"):
        deliver(op, settings)
    assert entry(op, "k").attempts == 0


# ---- settings -----------------------------------------------------------------------------
@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    project = tmp_path / "project"
    (project / "notebooks" / "etl").mkdir(parents=True)
    (project / "parameters").mkdir()
    return Paths(home=tmp_path / "home", project=project)


def write(paths: Paths, text: str, name: str = "mail.yaml") -> None:
    target = paths.parameters / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def test_no_mail_yaml_means_the_defaults_and_no_support(paths) -> None:
    s = load_settings(paths, env={})
    assert (s.host, s.port, s.security, s.user, s.support) == ("localhost", 25, "none", "", ())
    assert (s.sender, s.timeout_s, s.max_attempts) == ("painel <painel@localhost>", 10.0, 20)


def test_the_repository_mail_yaml_loads() -> None:
    s = load_settings(Paths.from_env(home="/nonexistent"), env={})
    assert s.host == "localhost" and s.support == () and s.origin == "parameters/mail.yaml"


def test_mail_yaml_then_the_environment(paths, tmp_path) -> None:
    (paths.project / "ca.pem").write_text("x")
    write(
        paths,
        "host: smtp.orgao.go.gov.br\nport: 587\nsecurity: starttls\nuser: painel\n"
        "sender: 'Painel <painel@orgao.go.gov.br>'\nsupport: [suporte@orgao.go.gov.br]\n"
        "max_attempts: 5\nretry_backoff_s: 30\nca_file: ca.pem\n",
    )
    assert load_settings(paths, env={}).port == 587
    s = load_settings(paths, env={"PAINEL_SMTP_HOST": "127.0.0.1", "PAINEL_SMTP_PORT": "8025"})
    assert (s.host, s.port, s.security, s.user) == ("127.0.0.1", 8025, "starttls", "painel")
    assert (
        s.support == ("suporte@orgao.go.gov.br",) and s.envelope_sender == "painel@orgao.go.gov.br"
    )
    assert (s.max_attempts, s.retry_backoff_s) == (5, 30.0)
    assert s.ca_file == str(paths.project / "ca.pem")


def test_a_profile_layers_over_mail_yaml(paths, monkeypatch) -> None:
    write(paths, "host: smtp.orgao\nport: 587\n")
    write(paths, "port: 2525\n", name="demo/mail.yaml")
    monkeypatch.setenv("PAINEL_PROFILE", "demo")
    s = load_settings(paths, env={})
    assert (s.host, s.port) == ("smtp.orgao", 2525)
    with pytest.raises(MailSettingsError, match=r"^parameters/demo/mail.yaml: field 'port'"):
        write(paths, "port: zero\n", name="demo/mail.yaml")
        load_settings(paths, env={})


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("port: 99999\n", {}, "parameters/mail.yaml: field 'port' must be a port number 1-65535"),
        ("port: true\n", {}, "parameters/mail.yaml: field 'port' must be a whole number"),
        ("", {"PAINEL_SMTP_PORT": "abc"}, "environment variable PAINEL_SMTP_PORT: field 'port'"),
        ("security: tls\n", {}, "field 'security' must be one of none, starttls, ssl, got 'tls'"),
        ("support: suporte@x\n", {}, "field 'support' must be a list of addresses"),
        ("support: [suporte]\n", {}, "field 'support': 'suporte' is not an e-mail address"),
        ("sender: painel\n", {}, "field 'sender' must be an address"),
        ("timeout_s: 0\n", {}, "field 'timeout_s' must be a number >= 0.1, got 0"),
        ("max_attempts: 0\n", {}, "field 'max_attempts' must be a whole number >= 1"),
        ("password_env: 'my var'\n", {}, "field 'password_env' must name an environment variable"),
        ("ca_file: nowhere.pem\n", {}, "field 'ca_file': no such file"),
        ("hots: x\n", {}, "parameters/mail.yaml: unknown field(s) hots"),
        ("host: [\n", {}, "parameters/mail.yaml line 2: broken YAML"),
        ("- a\n", {}, "parameters/mail.yaml: must be a mapping"),
    ],
)
def test_a_bad_value_names_the_file_and_the_field(paths, text, env, message) -> None:
    write(paths, text)
    with pytest.raises(MailSettingsError) as err:
        load_settings(paths, env=env)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "good", ["maria@orgao.go.gov.br", "root@localhost", "a.b+tag@x-y.example", " ana@x "]
)
def test_good_addresses(good) -> None:
    assert validate_address(good) == good.strip()


@pytest.mark.parametrize(
    "bad",
    ["", "maria", "@x", "maria@", "a b@x", "Maria <maria@x>", "a@@x", "a@x,b@y", "joão@x", "a@-x"],
)
def test_bad_addresses(bad) -> None:
    with pytest.raises(AddressError):
        validate_address(bad)


# ---- recipients are users -----------------------------------------------------------------
def test_users_addresses_and_who_gets_mail(op) -> None:
    users = Users(op)
    users.add("maria", "a long secret", "analyst", grants=["school:sre:12", "school:sre:13"])
    users.add("jose", "a long secret", "admin", email="jose@cge")
    users.add("ana", "a long secret", "analyst", email="ana@cge")
    users.add("semmail", "a long secret", "analyst")
    users.set_email("maria", "maria@orgao")
    with pytest.raises(AuthError, match="user 'maria': 'maria' is not an e-mail address"):
        users.set_email("maria", "maria")
    with pytest.raises(AuthError, match="no such user 'ghost'"):
        users.set_email("ghost", "g@x")
    users.set_disabled("ana", True)
    listed = {u["username"]: u["email"] for u in users.list()}
    assert listed == {"maria": "maria@orgao", "jose": "jose@cge", "ana": "ana@cge", "semmail": ""}

    got = recipients(op)
    assert [(r.address, r.viewer.username, r.viewer.role) for r in got] == [
        ("jose@cge", "jose", "admin"),
        ("maria@orgao", "maria", "analyst"),
    ]
    assert got[1].viewer.ids("school", "sre") == ["12", "13"]
    users.revoke("maria", ["school:sre:12"])  # the next mail is built with what is left
    assert recipients(op, roles={"analyst"})[0].viewer.ids("school", "sre") == ["13"]
    users.set_email("maria", "")
    assert [r.viewer.username for r in recipients(op)] == ["jose"]


def test_demo_accounts_get_their_address_and_a_bad_one_names_the_account(op) -> None:
    from painel.auth import add_demo_users
    from painel.domain import DemoUser

    good = DemoUser("ana.demo", "demo-password-1", "analyst", (), "Ana", "ana@demo.invalid")
    add_demo_users(op, [good])
    add_demo_users(op, [good])  # again: the account exists, the address stays
    assert {u["username"]: u["email"] for u in Users(op).list()} == {"ana.demo": "ana@demo.invalid"}
    bad = DemoUser("bia.demo", "demo-password-2", "analyst", (), "Bia", "bia-at-demo")
    with pytest.raises(AuthError, match="user 'bia.demo': 'bia-at-demo' is not an e-mail"):
        add_demo_users(op, [bad])


# ---- failure mails ------------------------------------------------------------------------
def failed_run(op: OpState, run_id: str = "20261201T080300-abcd", pid: int | None = None) -> None:
    with op.connect() as con:
        con.execute(
            "INSERT INTO runs (run_id, job, status, trigger_, started_at, finished_at, error, "
            "parameters, notebook_out, pid, host) VALUES (?, 'procurement', ?, 'schedule', ?, ?, "
            "?, '{}', '/data/runs/procurement/x.ipynb', ?, ?)",
            [
                run_id,
                "running" if pid else "failed",
                iso(T0),
                None if pid else iso(T0),
                None if pid else "PncpError: PNCP fora do ar (cell 4)",
                pid,
                os.uname().nodename,
            ],
        )


def test_the_failure_mail_is_pt_br_and_names_job_run_time_error_and_notebook(op) -> None:
    failed_run(op)
    with op.connect() as con:
        row = con.execute("SELECT * FROM runs").fetchone()
    m = mail.run_failure_mail(row, "suporte@cge")
    assert m.subject == "[painel] Falha na execução do job procurement"
    for text in (m.text, m.html):
        assert "procurement" in text and "20261201T080300-abcd" in text
        assert "01/12/2025 05:03" in text and "horário de Brasília" in text
        assert "PncpError: PNCP fora do ar (cell 4)" in text
        assert "/data/runs/procurement/x.ipynb" in text
    assert m.html.startswith("<!DOCTYPE html>") and 'lang="pt-BR"' in m.html
    assert m.kind == "run.failed" and m.to == "suporte@cge"


def test_notify_mails_each_support_address_once(op, paths, catcher) -> None:
    write(paths, f"host: 127.0.0.1\nport: {catcher.port}\nsupport: [a@cge, b@cge]\n")
    failed_run(op)
    keys = mail.notify_run_failed(op, paths, "20261201T080300-abcd")
    assert keys == [
        "run.failed:20261201T080300-abcd:a@cge",
        "run.failed:20261201T080300-abcd:b@cge",
    ]
    assert mail.notify_run_failed(op, paths, "20261201T080300-abcd") == keys  # again: no-op
    got = catcher.wait_for(2)
    assert sorted(r for m in got for r in m.rcpt_tos) == ["a@cge", "b@cge"]
    assert len(outbox(op)) == 2


def test_notify_without_support_or_mail_yaml_sends_nothing(op, paths, capsys) -> None:
    failed_run(op)
    assert mail.notify_run_failed(op, paths, "20261201T080300-abcd") == []
    write(paths, "support: []\n")
    assert mail.notify_run_failed(op, paths, "20261201T080300-abcd") == []
    assert outbox(op) == [] and capsys.readouterr().err == ""


def test_notify_with_the_server_down_says_so_in_one_line_and_keeps_the_mail(op, paths) -> None:
    import io

    port = free_port()
    write(paths, f"host: 127.0.0.1\nport: {port}\nsupport: [a@cge]\n")
    failed_run(op)
    stream = io.StringIO()
    mail.notify_run_failed(op, paths, "20261201T080300-abcd", stream=stream)
    [line] = stream.getvalue().splitlines()
    assert line.startswith("painel: the failure mail to support is queued, not sent: ")
    assert f"127.0.0.1:{port}" in line and "connection refused" in line
    assert [e.status for e in outbox(op, pending=True)] == ["pending"]

    write(paths, "support: [a@cge]\nport: nope\n")  # a broken mail.yaml: a line, no raise
    stream = io.StringIO()
    assert mail.notify_run_failed(op, paths, "20261201T080300-abcd", stream=stream) == []
    assert "could not mail support about run 20261201T080300-abcd: MailSettingsError" in (
        stream.getvalue()
    )


def test_a_reaped_run_queues_its_failure_mail_for_later(op, paths, catcher) -> None:
    write(paths, f"host: 127.0.0.1\nport: {catcher.port}\nsupport: [a@cge]\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    failed_run(op, run_id="20261201T080300-dead", pid=dead.pid)
    assert reap_dead_runs(op, paths) == 1
    assert reap_dead_runs(op, paths) == 0
    [queued] = outbox(op)
    assert queued.dedup_key == "run.failed:20261201T080300-dead:a@cge"
    assert queued.status == "pending" and "died" in queued.body_text
    assert catcher.messages == []  # not sent from here (dashboard kernels reap too)

    Scheduler(paths).run_once()  # the scheduler's pass sends due mail
    [got] = catcher.wait_for(1)
    assert got.message_id == queued.message_id


def test_the_scheduler_reaps_a_killed_run_and_mails_support(op, paths, catcher) -> None:
    """A run the scheduler killed on timeout: its next pass marks it failed and mails it."""
    write(paths, f"host: 127.0.0.1\nport: {catcher.port}\nsupport: [a@cge]\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    failed_run(op, run_id="20261201T080300-kild", pid=dead.pid)
    Scheduler(paths).run_once()
    [got] = catcher.wait_for(1)
    assert "20261201T080300-kild" in got.text() and "died" in got.text()
    with op.connect() as con:
        assert con.execute("SELECT status FROM runs").fetchone()[0] == "failed"
