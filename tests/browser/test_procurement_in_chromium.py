"""Debian chromium, driven by Playwright, on the Painel de Alertas of the sample procurement
world (tests/web/test_procurement_dashboards.py builds the same): the list's search runs on the
server, a click opens the finding, and its facts read as label and value side by side on a
desktop and stacked on a phone (JupyterLab's output CSS floats a ``dt`` at 20 % of the width,
which on a phone left the labels a few letters wide)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from painel_testing import Server, browser_login, start_server
from procurement_testing import publish_sample

pytestmark = [pytest.mark.timeout(300)]
TIMEOUT_MS = 60_000
PASSWORD = "senha-de-teste-123"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
ENGLISH = re.compile(r"\b(NaN|None|null|undefined|Error|Loading|Search|Page \d|of \d+)\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState

    root = tmp_path_factory.mktemp("procurement-browser")
    home = root / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("PAINEL_HOME", str(home))
    try:
        paths = Paths.from_env().ensure()
        publish_sample(paths, root)
        Users(OpState(paths.opstate)).add(
            "cge.ana", PASSWORD, "cge_analista", ["procurement:*"], "Ana da CGE"
        )
    finally:
        mp.undo()
    srv = start_server(home)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(params=list(SIZES))
def page(request: Any, server: Server, browser: Any, tmp_path: Path) -> Iterator[Any]:
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="pt-BR")
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.size = request.param
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(tmp_path / f"alertas-{request.param}.png"), full_page=True)
        context.close()


def status(page: Any) -> str:
    return " ".join(page.inner_text(".painel-tbl-status").split())


def test_an_analyst_searches_the_findings_and_reads_one(server: Server, page: Any) -> None:
    browser_login(page, server, "cge.ana", PASSWORD)
    page.goto(server.base + "/voila/render/compras_alertas.ipynb")
    page.wait_for_selector(".painel-tbl tbody tr")
    assert status(page) == "1–13 de 13 alertas"
    # the search is a query on the server: the three R7 summaries
    page.fill(".painel-tbl-search", "homologado estimado")
    page.wait_for_function(
        "() => document.querySelector('.painel-tbl-status').textContent.startsWith('1–3 de 3')"
    )
    assert status(page) == "1–3 de 3 alertas (busca em 13)"
    firsts = page.locator(".painel-tbl tbody tr td:first-child").all_inner_texts()
    assert [t.strip() for t in firsts] == ["R7 – Baixa competição (indício)"] * 3
    page.click(".painel-tbl tbody tr >> nth=0")
    facts = page.wait_for_selector(".painel-finding .painel-facts")
    text = page.inner_text(".painel-finding")
    assert "Homologado a" in text and "Risco estimado" in text and "R$" in text
    assert not ENGLISH.search(page.inner_text("body")), ENGLISH.findall(page.inner_text("body"))
    # each label and its value: beside it on a desktop, above it on a phone; never squeezed
    boxes = facts.evaluate(
        """(dl) => [...dl.querySelectorAll('dt')].map((dt) => {
            const a = dt.getBoundingClientRect(), b = dt.nextElementSibling.getBoundingClientRect();
            return {dt: [a.left, a.top, a.width], dd: [b.left, b.top, b.width]};
        })"""
    )
    assert len(boxes) >= 4
    for box in boxes:
        (dt_left, dt_top, dt_width), (dd_left, dd_top, _dd_width) = box["dt"], box["dd"]
        if page.size == "desktop":
            assert dd_left > dt_left + dt_width and abs(dd_top - dt_top) < 4, box
        else:
            assert abs(dd_left - dt_left) < 2 and dd_top > dt_top, box
            assert dt_width > 300, box  # the column is the phone's width, not 20 % of it
