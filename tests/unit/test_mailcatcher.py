"""The demo's mail catcher (painel.mailcatcher): what smtplib sends it is kept as .eml and
listed newest first on its pt-BR page; a mail's HTML is served under a CSP that runs nothing,
and the pages painel builds around it escape every value."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from painel import mailcatcher
from painel_testing import free_port

pytestmark = pytest.mark.timeout(60)

SCRIPT_SUBJECT = "Alerta <script>alert('assunto')</script> – 1 novo"
SCRIPT_HTML = '<p>Olá</p><script>alert("html")</script><img src="https://rastreador.example/x.png">'


def send(catcher: mailcatcher.Catcher, to: str, subject: str, text: str, html: str = "") -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, "painel@localhost", to
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"  # 07:00 in São Paulo
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.fixture
def catcher(tmp_path: Path) -> mailcatcher.Catcher:
    with mailcatcher.running(tmp_path / "caixa", free_port(), free_port()) as c:
        yield c


def message_ids(page: str) -> list[str]:
    return re.findall(r'href="/m/([^"/]+)"', page)


def test_a_mail_is_kept_as_eml_and_listed_newest_first(catcher: mailcatcher.Catcher) -> None:
    empty = requests.get(catcher.http_url + "/", timeout=10)
    assert empty.status_code == 200 and "Nenhuma mensagem recebida ainda" in empty.text
    send(catcher, "ana@cge.go.gov.br", "Primeira", "um")
    send(catcher, "ses@saude.go.gov.br", "Segunda", "dois")

    files = sorted(catcher.folder.glob("*.eml"))
    assert len(files) == 2 and not list(catcher.folder.glob("*.part"))
    assert mailcatcher.parse(files[0].read_bytes())["Subject"] == "Primeira"

    page = requests.get(catcher.http_url + "/", timeout=10)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.text.index("Segunda") < page.text.index("Primeira")  # newest first
    assert "ses@saude.go.gov.br" in page.text and "01/12/2026 07:00" in page.text
    assert "2 mensagens" in page.text and 'lang="pt-BR"' in page.text
    assert catcher.env() == {
        "PAINEL_SMTP_HOST": "127.0.0.1",
        "PAINEL_SMTP_PORT": str(catcher.smtp_port),
    }


def test_a_mail_with_a_script_runs_nothing(catcher: mailcatcher.Catcher) -> None:
    send(catcher, "ana@cge.go.gov.br", SCRIPT_SUBJECT, "texto <b>cru</b>", SCRIPT_HTML)
    listing = requests.get(catcher.http_url + "/", timeout=10)
    assert "<script>" not in listing.text
    assert "Alerta &lt;script&gt;alert(&#x27;assunto&#x27;)&lt;/script&gt; – 1 novo" in listing.text
    [mid] = message_ids(listing.text)

    page = requests.get(f"{catcher.http_url}/m/{mid}", timeout=10)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all
    assert "<script>" not in page.text  # subject escaped, HTML part only framed
    assert "texto &lt;b&gt;cru&lt;/b&gt;" in page.text  # the text part, escaped
    assert f'src="/m/{mid}/html" sandbox=' in page.text

    part = requests.get(f"{catcher.http_url}/m/{mid}/html", timeout=10)
    assert part.text.strip() == SCRIPT_HTML  # as sent: what keeps it inert is the policy
    policy = part.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "img-src data:" in policy  # no remote image (tracking pixel) either
    assert part.headers["X-Content-Type-Options"] == "nosniff"


def test_only_messages_it_holds_can_be_read(catcher: mailcatcher.Catcher) -> None:
    (catcher.folder.parent / "segredo.eml").write_text("Subject: segredo\n\nnão\n")
    for path in ("/m/../segredo", "/m/%2e%2e%2fsegredo", "/m/segredo", "/m/1/html", "/x"):
        reply = requests.get(catcher.http_url + path, timeout=10)
        assert reply.status_code == 404 and "segredo" not in reply.text.replace(path, "")
    reply = requests.post(catcher.http_url + "/", data="x", timeout=10)
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET, HEAD"


def test_the_ports_are_free_again_after_the_block(tmp_path: Path) -> None:
    smtp_port, http_port = free_port(), free_port()
    with mailcatcher.running(tmp_path, smtp_port, http_port):
        pass
    with mailcatcher.running(tmp_path, smtp_port, http_port) as again:
        send(again, "a@b.c", "de novo", "ok")
        assert len(list(tmp_path.glob("*.eml"))) == 1
