"""A real ``painel serve`` (standalone Voilà behind painel's login), driven over HTTP and websockets."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from painel_testing import (
    KernelChannel,
    Server,
    cookie_header,
    login,
    render,
    start_server,
)

pytestmark = [pytest.mark.timeout(180)]


def kernels(s: requests.Session, server: Server) -> list[dict[str, str]]:
    r = s.get(server.base + "/painel/api/kernels", timeout=10)
    assert r.status_code == 200
    return r.json()["kernels"]


def rows_seen(server: Server, s: requests.Session) -> str:
    r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200 and kernel_id
    ch = KernelChannel(server, s, kernel_id)
    try:  # everything the kernel sent: HTML, table rows, chart data
        return json.dumps(ch.widget_states(), ensure_ascii=False, default=str)
    finally:
        ch.close()


# ---- login ----------------------------------------------------------------------------
def test_anonymous_dashboard_request_redirects_to_login(server: Server) -> None:
    r = requests.get(
        server.base + "/voila/render/rede_visao_geral.ipynb", allow_redirects=False, timeout=10
    )
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert "kernelId" not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/voila/tree",
        "/voila/api/contents",
        "/painel/api/kernels",
        "/api/kernels/00000000-0000-0000-0000-000000000000",
    ],
)
def test_nothing_but_login_and_static_is_public(server: Server, path: str) -> None:
    r = requests.get(server.base + path, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 403), (path, r.status_code)
    if r.status_code == 302:
        assert "/login" in r.headers["Location"]


def test_health_answers_without_login_and_reveals_nothing_else(server: Server) -> None:
    r = requests.get(server.base + "/painel/api/health", allow_redirects=False, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in r.headers or "painel_session" not in r.headers["Set-Cookie"]
    body = r.json()
    assert set(body) == {"status", "pools_ready"}
    assert body["status"] == "ok" and isinstance(body["pools_ready"], bool)
    for name in ("rede_", "ipynb", "school", "admin", "kernel", "painel"):
        assert name not in r.text, name
    server.wait_pools_ready()  # the pools of a preheating server fill, and it says so
    # nothing but GET, and no path below it
    assert requests.post(server.base + "/painel/api/health", timeout=10).status_code in (403, 405)
    below = requests.get(server.base + "/painel/api/health/x", allow_redirects=False, timeout=10)
    assert below.status_code in (302, 403, 404)


def test_health_without_preheating_has_nothing_to_wait_for(server: Server) -> None:
    cold = start_server(server.home, preheat=False)
    try:
        assert cold.health() == {"status": "ok", "pools_ready": True}
    finally:
        cold.stop()


def test_static_assets_are_public(server: Server) -> None:
    r = requests.get(server.base + "/login", timeout=10)
    assert r.status_code == 200 and 'name="password"' in r.text


def test_plotly_js_is_served_cached_and_nothing_else_beside_it(server: Server) -> None:
    import plotly

    from painel.dash.chart import plotly_js

    r = requests.get(server.base + "/painel/static/plotly.min.js", timeout=30)
    assert r.status_code == 200 and r.content == plotly_js()
    assert "javascript" in r.headers["Content-Type"]
    assert r.headers["Cache-Control"] == "public, max-age=86400"
    again = requests.get(
        server.base + "/painel/static/plotly.min.js",
        headers={"If-None-Match": r.headers["Etag"]},
        timeout=30,
    )
    assert again.status_code == 304  # a returning visitor's browser revalidates, no download
    for other in (
        "widgetbundle.js",
        "templates/plotly.json",
        "../__init__.py",
        "%2e%2e/__init__.py",
    ):
        below = requests.get(
            server.base + "/painel/static/" + other, allow_redirects=False, timeout=10
        )
        assert below.status_code in (302, 403, 404), other
    assert plotly.__version__  # the file is the installed package's own


def test_widget_bundles_are_cached_and_plotlys_extension_is_off(server: Server) -> None:
    import json
    import re

    s = login(server, "admin")
    r, _ = render(s, server, "rede_visao_geral.ipynb")
    found = re.search(r'"federated_extensions": (\[.*?\])', r.text)
    assert found, "no extension list in the page"
    extensions = json.loads(found.group(1))
    names = {e["name"] for e in extensions}
    # charts are dash.Chart widgets: the plotly mime extension (and its 4.8 MB chunk) stays off
    assert "anywidget" in names and "@jupyter-widgets/jupyterlab-manager" in names
    assert not names & {"jupyterlab-plotly", "jupyterlab_pygments"}, names
    anywidget = next(e for e in extensions if e["name"] == "anywidget")
    entry = server.base + "/voila/labextensions/anywidget/" + anywidget["load"].lstrip("./")
    hashed = s.get(entry, timeout=10)  # remoteEntry.<content hash>.js: kept by the browser
    assert hashed.status_code == 200
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = s.get(server.base + "/voila/labextensions/anywidget/package.json", timeout=10)
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"


def test_wrong_password_is_refused(server: Server) -> None:
    s = requests.Session()
    s.get(server.base + "/login", timeout=10)
    r = s.post(
        server.base + "/login",
        data={
            "_xsrf": s.cookies.get("_xsrf"),
            "username": "sre.metropolitana",
            "password": "not-the-password",
        },
        timeout=10,
    )
    assert r.status_code == 401
    assert "Usuário ou senha inválidos" in r.text
    assert "painel_session" not in s.cookies
    assert s.get(server.base + "/", allow_redirects=False, timeout=10).status_code == 302


def test_login_form_needs_the_xsrf_token(server: Server) -> None:
    s = requests.Session()
    s.get(server.base + "/login", timeout=10)
    r = s.post(
        server.base + "/login",
        data={"username": "sre.metropolitana", "password": "demo-sre-metropolitana"},
        timeout=10,
    )
    assert r.status_code == 403
    assert "painel_session" not in s.cookies


def test_session_cookie_flags(server: Server) -> None:
    s = requests.Session()
    s.get(server.base + "/login", timeout=10)
    r = s.post(
        server.base + "/login",
        data={
            "_xsrf": s.cookies.get("_xsrf"),
            "username": "sre.uberlandia",
            "password": "demo-sre-uberlandia",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    set_cookie = [
        v for k, v in r.raw.headers.items() if k.lower() == "set-cookie" and "painel_session" in v
    ][0]
    flags = set_cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags
    assert "expires" not in flags  # a browser-session cookie; the server enforces expiry


def test_login_renders_landing_with_allowed_dashboards_only(server: Server) -> None:
    staff = login(server, "sre.metropolitana")
    page = staff.get(server.base + "/", timeout=10).text
    assert "Visão Geral da Rede" in page and "Atualização dos dados" not in page
    assert 'id="painel-logout"' in page
    admin = login(server, "admin")
    page = admin.get(server.base + "/", timeout=10).text
    assert "Visão Geral da Rede" in page and "Atualização dos dados" in page


def test_open_redirect_after_login_is_refused(server: Server) -> None:
    s = requests.Session()
    s.get(server.base + "/login", timeout=10)
    r = s.post(
        server.base + "/login",
        data={
            "_xsrf": s.cookies.get("_xsrf"),
            "username": "sre.uberlandia",
            "password": "demo-sre-uberlandia",
            "next": "https://evil.example/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"


# ---- dashboards and row-level security ---------------------------------------------------
def test_dashboard_renders_for_an_allowed_role(server: Server) -> None:
    s = login(server, "sre.metropolitana")
    r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200 and kernel_id
    assert 'id="painel-logout"' in r.text
    assert "There was an error" not in r.text
    assert "from painel" not in r.text  # sources stripped


def test_two_users_with_different_grants_see_different_rows(server: Server) -> None:
    metro = rows_seen(server, login(server, "sre.metropolitana"))
    ub = rows_seen(server, login(server, "sre.uberlandia"))
    school = rows_seen(server, login(server, "escola.31212401"))
    # SRE 22 has two demo schools (31212401 and 31831294), SRE 45 two others
    assert "Metropolitana A" in metro and "Uberlândia" not in metro
    assert "Uberlândia" in ub and "Metropolitana A" not in ub
    assert (
        "Dom Pedro II" in school and "Israel Pinheiro" not in school and "Uberlândia" not in school
    )
    assert "Santo Antônio dos Guarani" in metro  # its municipalities are its table's rows


def test_user_without_the_role_gets_403_and_no_kernel(server: Server) -> None:
    tutor = login(server, "tutor.ana", "tutor-ana-pass")
    server.wait_pools_ready()  # no refill of an earlier test's render still to come
    before = kernels(login(server, "admin"), server)
    r, kernel_id = render(tutor, server, "rede_visao_geral.ipynb")
    assert r.status_code == 403 and kernel_id is None
    assert "permissão" in r.text
    assert kernels(tutor, server) == []
    # a kernel taken from a pool is replaced at once (pools not ready until the new one runs)
    server.wait_pools_ready()
    after = kernels(login(server, "admin"), server)
    assert len(after) == len(before)


def test_unknown_dashboard_is_404(server: Server) -> None:
    s = login(server, "admin")
    for nb in ("nope.ipynb", "../etl/school.ipynb", "%2e%2e/etl/school.ipynb"):
        r, kernel_id = render(s, server, nb)
        assert r.status_code == 404 and kernel_id is None, nb


def test_execute_request_over_the_websocket_is_not_executed(server: Server, tmp_path: Path) -> None:
    s = login(server, "sre.uberlandia")
    r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    target = tmp_path / f"pwned-{uuid.uuid4().hex}"
    ch = KernelChannel(server, s, kernel_id)
    try:
        msg_id = ch.send(
            "shell",
            "execute_request",
            {
                "code": f"open({str(target)!r}, 'w').write('x')",
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        deadline = time.monotonic() + 5
        replies = []
        while time.monotonic() < deadline:
            msg = ch.recv(deadline)
            if msg is None:
                break
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                replies.append(msg["msg_type"])
        # the widgets still work over the same channel
        assert ch.widget_states()
    finally:
        ch.close()
    assert "execute_reply" not in replies
    assert not target.exists()


def test_another_users_kernel_is_off_limits(server: Server) -> None:
    owner = login(server, "sre.metropolitana")
    _, kernel_id = render(owner, server, "rede_visao_geral.ipynb")
    intruder = login(server, "sre.uberlandia")
    assert intruder.get(f"{server.base}/api/kernels/{kernel_id}", timeout=10).status_code == 403
    assert (
        intruder.delete(
            f"{server.base}/api/kernels/{kernel_id}",
            timeout=10,
            headers={"X-XSRFToken": intruder.cookies.get("_xsrf")},
        ).status_code
        == 403
    )
    r = intruder.post(
        f"{server.base}/voila/api/shutdown/{kernel_id}",
        data={"_xsrf": intruder.cookies.get("_xsrf")},
        timeout=10,
    )
    assert r.status_code == 403
    import websocket

    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(
            server.base.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=x",
            header=[f"Cookie: {cookie_header(intruder)}"],
            origin=server.base,
            timeout=10,
        )
    assert err.value.status_code == 403
    # the owner still has it
    assert owner.get(f"{server.base}/api/kernels/{kernel_id}", timeout=10).status_code == 200
    assert kernel_id in [k["id"] for k in kernels(owner, server)]


def test_request_info_socket_needs_the_kernel_token(server: Server) -> None:
    import websocket

    s = login(server, "admin")
    _, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    for suffix in ("", "?token=guess"):
        with pytest.raises(websocket.WebSocketBadStatusException) as err:
            websocket.create_connection(
                server.base.replace("http", "ws") + f"/voila/query/{kernel_id}{suffix}",
                header=[f"Cookie: {cookie_header(s)}"],
                timeout=10,
            )
        assert err.value.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/voila/files/rede_visao_geral.ipynb",
        "/voila/files/../etl/school.ipynb",
        "/voila/files/..%2F..%2Flib%2Fpainel%2Fstore.py",
        "/voila/files/../../lib/painel/store.py",
        "/voila/files/../../data/painel.sqlite",
        "/voila/static/../../../../pyproject.toml",
        "/voila/templates/painel/conf.json",
        "/voila/api/contents/rede_visao_geral.ipynb",
        "/voila/render/matriculas.py",
        "/voila/tree/../etl",
    ],
)
def test_no_data_or_code_file_can_be_downloaded(server: Server, path: str) -> None:
    s = login(server, "admin")
    r = s.get(server.base + path, timeout=10, allow_redirects=True)
    body = r.content
    leaked = (
        b'"cells"' in body
        or b"SQLite format 3" in body
        or b"DUCK" in body[:64]
        or b"def " in body
        or b"[project]" in body
    )
    assert not (r.status_code == 200 and leaked), (path, r.status_code, body[:200])


def test_store_files_are_not_reachable_by_any_route(server: Server) -> None:
    s = login(server, "admin")
    version_file = next((server.home / "store" / "school" / "versions").glob("*.duckdb"))
    for path in (
        f"/voila/files/{version_file}",
        f"/voila/files/{version_file.name}",
        f"/voila/static/{version_file}",
        "/voila/files//etc/passwd",
    ):
        r = s.get(server.base + path, timeout=10)
        assert not (
            r.status_code == 200 and (b"DUCK" in r.content[:64] or b"root:" in r.content)
        ), path


def test_forged_identity_header_or_query_changes_nothing(server: Server) -> None:
    s = login(server, "sre.uberlandia")
    r, kernel_id = render(
        s,
        server,
        "rede_visao_geral.ipynb?user=admin&X-Painel-User=sre.metropolitana&HTTP_X_PAINEL_USER=admin",
        headers={
            "X-Painel-User": "sre.metropolitana",
            "X_Painel_User": "admin",
            "X-Painel-User-": "admin",
        },
    )
    assert r.status_code == 200 and kernel_id
    ch = KernelChannel(server, s, kernel_id)
    try:
        text = json.dumps(ch.widget_states(), ensure_ascii=False, default=str)
    finally:
        ch.close()
    assert "Uberlândia" in text and "Metropolitana A" not in text
    assert "SRE Uberlândia" in text  # the page is the logged-in user's scope
    # without a session, the header opens nothing
    anon = requests.get(
        f"{server.base}/voila/render/rede_visao_geral.ipynb",
        headers={"X-Painel-User": "admin"},
        allow_redirects=False,
        timeout=10,
    )
    assert anon.status_code == 302


def test_logout_ends_the_session_and_its_kernels(server: Server) -> None:
    s = login(server, "escola.31212401")
    _, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    stolen = dict(s.cookies)
    r = s.post(
        server.base + "/logout",
        data={"_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    replay = requests.Session()
    for name, value in stolen.items():
        replay.cookies.set(name, value)
    assert replay.get(server.base + "/", allow_redirects=False, timeout=10).status_code == 302
    admin = login(server, "admin")
    assert kernel_id not in [k["id"] for k in kernels(admin, server)]


def test_disabled_user_loses_access_at_once(server: Server) -> None:
    from painel_testing import painel

    painel(
        server.home,
        "users",
        "add",
        "tmp.user",
        "--role",
        "school_sre",
        "--grant",
        "school:sre:22",
        "--password-stdin",
        stdin="tmp-user-pass\n",
    )
    s = login(server, "tmp.user", "tmp-user-pass")
    assert s.get(server.base + "/", allow_redirects=False, timeout=10).status_code == 200
    painel(server.home, "users", "disable", "tmp.user")
    assert s.get(server.base + "/", allow_redirects=False, timeout=10).status_code == 302


def test_forged_widget_values_from_the_browser_leak_nothing(server: Server) -> None:
    """A client can send any widget state over the comm channel; the kernel re-checks it."""
    s = login(server, "sre.metropolitana")
    _, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    ch = KernelChannel(server, s, kernel_id)
    try:
        states = ch.widget_states()
        dropdown = next(
            mid for mid, st in states.items() if st.get("_model_name") == "DropdownModel"
        )
        for forged in (
            {"index": 7},
            {"index": -3},
            {"index": None},
            {"value": 2},
            {"_options_labels": ["x"]},
        ):
            ch.send(
                "shell",
                "comm_msg",
                {
                    "comm_id": dropdown,
                    "data": {"method": "update", "state": forged, "buffer_paths": []},
                },
            )
        text = json.dumps(ch.widget_states(), ensure_ascii=False, default=str)
    finally:
        ch.close()
    assert "Uberlândia" not in text and "Montes Claros" not in text
    assert "Metropolitana A" in text


def test_a_failing_widget_message_sends_no_traceback_to_the_browser(server: Server) -> None:
    """Issue 9: a widget value of the wrong type makes ipywidgets raise; the page's websocket
    gets painel's pt-BR message, never IPython's traceback (source lines, paths)."""
    s = login(server, "sre.metropolitana")
    _, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    ch = KernelChannel(server, s, kernel_id)
    received: list[dict[str, Any]] = []
    try:
        states = ch.widget_states()
        dropdown = next(
            mid for mid, st in states.items() if st.get("_model_name") == "DropdownModel"
        )
        ch.send(
            "shell",
            "comm_msg",
            {
                "comm_id": dropdown,
                "data": {"method": "update", "state": {"index": "abc"}, "buffer_paths": []},
            },
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            m.get("msg_type") == "error" for m in received
        ):
            msg = ch.recv(deadline)
            if msg is not None:
                received.append(msg)
    finally:
        ch.close()
    errors = [m["content"] for m in received if m.get("msg_type") == "error"]
    assert errors, [m.get("msg_type") for m in received]
    sent = repr(received)
    assert "site-packages" not in sent and "Traceback" not in sent and ".py" not in sent
    assert errors[0]["traceback"] == [
        "Ocorreu um erro neste painel. Recarregue a página; se continuar, avise a equipe de dados."
    ]
    assert "dashboard kernel error" in server.log()  # the server's log has the traceback


# ---- routes painel closes, and kernel answers never cached ---------------------------------
@pytest.mark.parametrize(
    "path", ["/voila/api/contents", "/voila/api/contents/", "/voila/api/contents/anything/x.txt"]
)
def test_contents_api_is_a_clean_404_when_logged_in(server: Server, path: str) -> None:
    s = login(server, "admin")
    r = s.get(server.base + path, allow_redirects=False, timeout=10)
    assert r.status_code == 404, (path, r.status_code)
    assert "Página não encontrada." in r.text
    assert "Traceback" not in r.text


def test_kernel_api_answers_are_not_cached(server: Server) -> None:
    owner = login(server, "sre.metropolitana")
    _, kernel_id = render(owner, server, "rede_visao_geral.ipynb")
    assert kernel_id
    answers = {
        "list": owner.get(server.base + "/painel/api/kernels", timeout=10),
        "model": owner.get(f"{server.base}/api/kernels/{kernel_id}", timeout=10),
        "someone else's": login(server, "sre.uberlandia").get(
            f"{server.base}/api/kernels/{kernel_id}", timeout=10
        ),
        "unknown": owner.get(
            f"{server.base}/api/kernels/00000000-0000-0000-0000-000000000000", timeout=10
        ),
    }
    assert [r.status_code for r in answers.values()] == [200, 200, 403, 403]
    for what, r in answers.items():
        assert r.headers.get("Cache-Control") == "no-store", (what, r.headers)
