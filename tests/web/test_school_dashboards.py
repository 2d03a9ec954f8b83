"""Row-level security of every school panel on a real ``painel serve``.

The hand-written tiny dump (tests/school_tiny.py) is published by the real job; an SRE user
(SRE 22, Metropolitana A: schools 11 and 12) and a school user (school 21, Juiz de Fora)
open every ``rede_*`` panel the way a browser does (HTTP, then the kernel websocket), and
nothing the kernel sends them — widget states, table rows, chart data — names a school, a
município or a student outside their grant. A central user sees both SREs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import school_tiny as tiny
from painel_testing import REPO, KernelChannel, Server, login, render, start_server

pytestmark = [pytest.mark.timeout(600)]

PANELS = sorted(p.name for p in (REPO / "notebooks" / "dashboards").glob("rede_*.ipynb"))
USERS = {
    "central": ("school_central", ["school:*"]),
    "sre.metro": ("school_sre", ["school:sre:22"]),
    "escola.jf": ("school_director", ["school:school:31000021"]),
}
PASSWORD = "senha-de-teste-123"
# what each user must never receive: names of other scopes' schools, municípios and students
OUTSIDE = {
    "sre.metro": ["Duque", "Juiz de Fora", "Quésia", "Úrsula", "Wanda", "Téo", "Vítor"],
    "escola.jf": [
        "Afonso Pena",
        "Contagem",
        "Metropolitana",
        "Belo Horizonte",
        "Ana “Aninha”",
        "Bruno Lima",
        "Gabriela",
        "Marta Silva",
        "Yara",
    ],
}
STUDENT_PANELS = {"rede_busca_ativa.ipynb", "rede_ficha_estudante.ipynb", "rede_turmas.ipynb"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState

    home = tmp_path_factory.mktemp("school-web") / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("PAINEL_HOME", str(home))
    tiny.publish(home)
    users = Users(OpState(Paths.from_env().ensure().opstate))
    for name, (role, grants) in USERS.items():
        users.add(name, PASSWORD, role, grants)
    mp.undo()
    srv = start_server(home)
    try:
        yield srv
    finally:
        srv.stop()


def everything(states: dict[str, dict[str, Any]]) -> str:
    """All a page's widget state as text (HTML, table rows, chart data and layout)."""
    return json.dumps(states, ensure_ascii=False, default=str)


def settled(ch: KernelChannel, timeout: float = 60) -> dict[str, dict[str, Any]]:
    """The page's widget states once filled in: the data stamp is there and two reads a
    second apart agree."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        states = ch.widget_states(timeout=max(1.0, deadline - time.monotonic()))
        text = everything(states)
        if "20/05/2026" in text and text == last:
            return states
        last = text
        time.sleep(1.0)
    raise AssertionError(f"page did not settle within {timeout}s: {last[:500]}")


def open_page(server: Server, s: requests.Session, notebook: str) -> tuple[int, str]:
    r, kernel_id = render(s, server, notebook)
    if r.status_code != 200:
        return r.status_code, ""
    assert kernel_id, notebook
    ch = KernelChannel(server, s, kernel_id, timeout=60)
    try:
        return 200, everything(settled(ch))
    finally:
        ch.close()
        s.post(
            f"{server.base}/voila/api/shutdown/{kernel_id}",
            data={"_xsrf": s.cookies.get("_xsrf")},
            timeout=10,
        )


@pytest.mark.parametrize("notebook", PANELS)
def test_sre_and_school_users_see_only_their_rows(server: Server, notebook: str) -> None:
    assert PANELS, "no school panel found"
    for user, forbidden in OUTSIDE.items():
        s = login(server, user, PASSWORD)
        status, text = open_page(server, s, notebook)
        assert status == 200, (notebook, user, status)
        leaked = [word for word in forbidden if word in text]
        assert not leaked, f"{notebook} sent {user} rows outside its grant: {leaked}"
        assert "Traceback" not in text and "Error" not in text


@pytest.mark.parametrize("notebook", sorted(set(PANELS) - STUDENT_PANELS))
def test_central_user_sees_both_sres(server: Server, notebook: str) -> None:
    s = login(server, "central", PASSWORD)
    status, text = open_page(server, s, notebook)
    assert status == 200
    assert "Metropolitana A" in text and "Juiz de Fora" in text


def test_student_panels_refuse_central_users(server: Server) -> None:
    s = login(server, "central", PASSWORD)
    for notebook in sorted(STUDENT_PANELS & set(PANELS)):
        r, kernel_id = render(s, server, notebook)
        assert r.status_code == 403 and kernel_id is None, notebook


def test_visao_geral_values_for_the_sre(server: Server) -> None:
    s = login(server, "sre.metro", PASSWORD)
    status, text = open_page(server, s, "rede_visao_geral.ipynb")
    assert status == 200
    # SRE 22: schools 11 and 12; 18 active matrículas (12 + 6); 15 findings
    assert ">18<" in text and ">15<" in text
    assert "Belo Horizonte" in text and "Contagem" in text
