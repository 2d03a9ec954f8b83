"""Single sign-on in Debian chromium against a real OpenID Connect provider on loopback
(panva/node-oidc-provider, tests/oidc/provider.mjs, installed by `make install`): the
authorization code flow with PKCE through the provider's own login pages, the e-mail mapped to
a painel user whose role and grants apply, and every refusal a pt-BR page."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from painel_testing import REPO, Server, copy_project, free_port, start_server, wait_for

pytestmark = [pytest.mark.timeout(300)]
TIMEOUT_MS = 60_000
CLIENT_ID, SECRET = "painel-teste", "segredo-do-cliente-de-teste"
OIDC = REPO / "tests" / "oidc"


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    from painel.auth import Users
    from painel.opstate import OpState

    node = shutil.which("node")
    if node is None or not (OIDC / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OIDC provider is not installed (make install: npm in tests/oidc)")
    root = tmp_path_factory.mktemp("sso")
    home = root / "home"
    home.mkdir()
    Users(OpState(home / "painel.sqlite")).add(
        "maria", None, "school_sre", ["school:sre:12"], "Maria", "maria@educacao.mg.gov.br"
    )
    Users(OpState(home / "painel.sqlite")).add(
        "inativo@educacao.mg.gov.br", None, "school_sre", ["school:sre:12"]
    )
    Users(OpState(home / "painel.sqlite")).set_disabled("inativo@educacao.mg.gov.br", True)
    project = copy_project(root / "project")
    provider_port, painel_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    redirect = f"http://127.0.0.1:{painel_port}/login/sso/callback"
    (project / "parameters" / "sso.yaml").write_text(
        f"issuer: {issuer}\nclient_id: {CLIENT_ID}\nclient_secret_env: PAINEL_TEST_SSO_SECRET\n"
        "domains: [educacao.mg.gov.br]\n",
        encoding="utf-8",
    )
    log = open(root / "provider.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    provider = subprocess.Popen(
        [node, str(OIDC / "provider.mjs"), str(provider_port), CLIENT_ID, SECRET, redirect],
        cwd=OIDC,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _up(issuer + "/.well-known/openid-configuration"), 30, "the OIDC provider")
        srv = start_server(
            home,
            project=project,
            preheat=False,
            env={"PAINEL_TEST_SSO_SECRET": SECRET},
            port=painel_port,
        )
        try:
            yield srv, issuer
        finally:
            srv.stop()
    finally:
        provider.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            provider.wait(timeout=10)
        log.close()


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def page(sso: tuple[Server, str], browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR")
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(tmp_path / "sso.png"), full_page=True)
        context.close()


def sign_in_at_provider(page: Any, server: Server, email: str) -> None:
    page.goto(server.base + "/login")
    page.click("#login-sso")  # "Entrar com a conta institucional"
    page.fill("input[name=login]", email)  # the provider's own login page
    page.fill("input[name=password]", "qualquer")
    page.click("button[type=submit]")
    with contextlib.suppress(Exception):  # its consent page, on a first sign-in
        page.click("button[type=submit]:has-text('Continue')", timeout=5_000)


def test_a_staff_member_signs_in_with_the_institutional_account(sso, page) -> None:
    from painel import audit
    from painel.opstate import OpState

    server, _issuer = sso
    sign_in_at_provider(page, server, "maria@educacao.mg.gov.br")
    page.wait_for_url(server.base + "/")
    assert "Maria" in page.inner_text("body") or "maria" in page.inner_text("body")
    entries = audit.search(OpState(server.home / "painel.sqlite"), actor="maria", limit=None)[0]
    assert [(e.action, e.detail.get("metodo")) for e in entries] == [("login", "sso")]
    # the session is a painel session like any other: the landing page lists her panels
    r = page.request.get(server.base + "/painel/api/me")
    assert r.status == 200 and r.json().get("name")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ninguem@educacao.mg.gov.br", "não tem acesso ao painel"),
        ("maria@gmail.com", "Só e-mails institucionais (@educacao.mg.gov.br)"),
        ("naoverificado@educacao.mg.gov.br", "não confirmou o seu e-mail"),
        ("inativo@educacao.mg.gov.br", "não tem acesso ao painel"),
    ],
)
def test_who_may_not_enter_reads_why_in_portuguese(sso, page, email: str, message: str) -> None:
    server, _issuer = sso
    sign_in_at_provider(page, server, email)
    page.wait_for_selector("#login-message")
    assert message in page.inner_text("#login-message")
    assert page.url.startswith(server.base + "/login/sso/callback")
    assert page.request.get(server.base + "/painel/api/me").status in (401, 403)


def test_a_forged_callback_is_refused(sso) -> None:
    server, _issuer = sso
    s = requests.Session()
    started = s.get(server.base + "/login/sso", allow_redirects=False, timeout=10)
    assert started.status_code == 302 and "code_challenge=" in started.headers["Location"]
    assert "code_challenge_method=S256" in started.headers["Location"]
    forged = s.get(
        server.base + "/login/sso/callback",
        params={"code": "abc", "state": "not-the-state"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 400 and "não confere com esta sessão" in forged.text
    no_cookie = requests.get(
        server.base + "/login/sso/callback", params={"code": "abc", "state": "x"}, timeout=10
    )
    assert no_cookie.status_code == 400 and "expirou" in no_cookie.text
