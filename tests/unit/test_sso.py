"""``parameters/sso.yaml`` (painel.sso.load_settings) and the pieces of a sign-in that need no
provider; the whole flow runs against a real provider in tests/browser/test_sso_in_chromium.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel import sso
from painel.config import Paths


def paths_with(tmp_path: Path, text: str | None) -> Paths:
    project = tmp_path / "project"
    (project / "parameters").mkdir(parents=True)
    if text is not None:
        (project / "parameters" / "sso.yaml").write_text(text, encoding="utf-8")
    return Paths(home=tmp_path / "home", project=project)


def test_no_file_means_password_login_only(tmp_path) -> None:
    assert sso.load_settings(paths_with(tmp_path, None)) is None


def test_the_settings_and_their_defaults(tmp_path) -> None:
    got = sso.load_settings(
        paths_with(
            tmp_path,
            "issuer: https://accounts.google.com\nclient_id: abc.apps\ndomains: ['@Educacao.MG.gov.br']\n",
        )
    )
    assert got is not None
    assert (got.issuer, got.client_id, got.domains) == (
        "https://accounts.google.com",
        "abc.apps",
        ("educacao.mg.gov.br",),
    )
    assert got.label == "Entrar com a conta institucional"
    assert got.client_secret_env == "PAINEL_SSO_CLIENT_SECRET" and got.redirect_uri == ""
    proxied = sso.load_settings(
        paths_with(
            tmp_path / "b",
            "issuer: https://x\nclient_id: a\nredirect_uri: https://painel.mg.gov.br/login/sso/callback\n",
        )
    )
    assert proxied is not None and proxied.redirect_uri.startswith("https://painel.mg.gov.br/")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("issuer: https://x\nclient_id: a\ncolor: blue\n", "unknown field(s) color"),
        ("client_id: a\n", "field 'issuer' is required"),
        ("issuer: http://example.org\nclient_id: a\n", "must be an https URL"),
        ("issuer: https://x\nclient_id: a\ndomains: 3\n", "field 'domains' must be a list"),
        ("- a\n", "must be a mapping"),
        ("issuer: https://x\nclient_id: a\nredirect_uri: https://p/outro\n", "'redirect_uri'"),
    ],
)
def test_a_bad_file_is_named_with_its_field(tmp_path, text: str, message: str) -> None:
    with pytest.raises(sso.SsoSettingsError, match="sso.yaml") as caught:
        sso.load_settings(paths_with(tmp_path, text))
    assert message in str(caught.value)


def test_the_pending_sign_in_survives_its_cookie_and_a_next_with_bars() -> None:
    pending = sso.Pending("s", "n", "v", "/voila/render/x.ipynb?a=1|2", 1700000000.0)
    assert sso.Pending.from_text(pending.to_text()) == pending


def test_an_email_maps_to_an_active_user_by_name_or_address(tmp_path) -> None:
    from painel.auth import Users
    from painel.opstate import OpState

    op = OpState(tmp_path / "painel.sqlite")
    users = Users(op)
    users.add("maria", None, "analyst", email="Maria@Educacao.mg.gov.br")
    users.add("jose@educacao.mg.gov.br", None, "analyst")
    users.add("ana", None, "analyst", email="ana@educacao.mg.gov.br")
    users.set_disabled("ana", True)
    assert sso.painel_user(op, "maria@educacao.mg.gov.br") == "maria"
    assert sso.painel_user(op, "jose@educacao.mg.gov.br") == "jose@educacao.mg.gov.br"
    assert sso.painel_user(op, "ana@educacao.mg.gov.br") is None  # disabled
    assert sso.painel_user(op, "ninguem@educacao.mg.gov.br") is None


def test_the_providers_keys_are_kept_an_hour_and_read_again_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served: list[str] = []

    class Provider(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": base, "jwks_uri": base + "/jwks"}
            else:
                body = {"keys": [{"kty": "oct", "k": f"chave-{len(served)}"}]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = sso.SsoSettings(
            issuer=f"http://127.0.0.1:{server.server_address[1]}", client_id="x", timeout_s=5
        )
        first, read = settings.jwks()
        assert read and served == ["/.well-known/openid-configuration", "/jwks"]
        again, read = settings.jwks()
        assert again == first and not read and len(served) == 2  # kept: no request
        rotated, read = settings.jwks(fresh=True)
        assert read and rotated != first and len(served) == 3
        clock = sso.time.monotonic() + sso.JWKS_TTL_S + 1
        monkeypatch.setattr(sso.time, "monotonic", lambda: clock)
        _, read = settings.jwks()
        assert read and len(served) == 4  # an hour later: read again
    finally:
        server.shutdown()
        server.server_close()
