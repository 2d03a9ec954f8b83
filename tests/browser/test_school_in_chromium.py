"""Debian chromium, driven by Playwright: a central user drills from the state to a school on
Visão Geral da Rede (a bar click, then table rows), exports the school's table to Excel and
climbs back by the breadcrumb; the page speaks pt-BR. Data: tests/school_tiny.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import school_tiny as tiny
from painel_testing import Server, browser_login, start_server

pytestmark = [pytest.mark.timeout(300)]
TIMEOUT_MS = 60_000
PASSWORD = "senha-de-teste-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState

    home = tmp_path_factory.mktemp("school-browser") / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("PAINEL_HOME", str(home))
    tiny.publish(home)
    Users(OpState(Paths.from_env().ensure().opstate)).add(
        "central", PASSWORD, "school_central", ["school:*"], "Órgão central"
    )
    mp.undo()
    srv = start_server(home)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def page(server: Server, browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(tmp_path / "school.png"), full_page=True)
        context.close()


def rows(page: Any) -> list[str]:
    return [
        t.strip() for t in page.locator(".painel-tbl tbody tr td:first-child").all_inner_texts()
    ]


def wait_first_column(page: Any, expected: list[str]) -> None:
    page.wait_for_function(
        """(want) => {
            const got = [...document.querySelectorAll('.painel-tbl tbody tr td:first-child')]
                .map(td => td.textContent.trim());
            return JSON.stringify(got.sort()) === JSON.stringify([...want].sort());
        }""",
        arg=expected,
    )


def crumbs(page: Any) -> str:
    return " ".join(page.locator(".painel-drill").first.inner_text().split())


def test_central_drills_from_the_state_to_a_school_and_exports(
    server: Server, page: Any, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    browser_login(page, server, "central", PASSWORD)
    page.click("text=Visão Geral da Rede")
    page.wait_for_url("**/voila/render/rede_visao_geral.ipynb")
    wait_first_column(page, ["SRE Juiz de Fora", "SRE Metropolitana A"])
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert "Dados do SIMADE/DED de 20/05/2026" in page.inner_text("body")
    assert "22,7%" in page.inner_text("body")  # infrequentes, pt-BR percent

    # a bar of the chart: SRE Metropolitana A (the longer bar, 18 matrículas)
    bars = page.locator(".painel-chart .barlayer .point path")
    bars.first.wait_for()
    labels = page.evaluate(
        "() => [...document.querySelectorAll('.painel-chart .ytick text')].map(t => t.textContent)"
    )
    index = labels.index("SRE Metropolitana A")
    box = bars.nth(index).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_first_column(page, ["Belo Horizonte", "Contagem"])
    assert crumbs(page).endswith("Minas Gerais › SRE Metropolitana A")

    # table rows go further down: município, then school
    page.locator(".painel-tbl tbody tr", has_text="Contagem").click()
    wait_first_column(page, ["E.E. Contagem – Centro"])
    page.locator(".painel-tbl tbody tr", has_text="E.E. Contagem – Centro").click()
    wait_first_column(page, ["6º ano B"])
    assert crumbs(page).endswith("SRE Metropolitana A › Contagem › E.E. Contagem – Centro")

    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator("button", has_text="Exportar Excel").click()
    download = info.value
    assert download.suggested_filename.startswith("visao_geral_")
    xlsx = tmp_path / download.suggested_filename
    download.save_as(xlsx)
    wb = load_workbook(xlsx)
    sheet = wb.worksheets[0]
    data = list(sheet.iter_rows(values_only=True))
    assert data[0][:4] == ("Unidade", "Escolas", "Turmas", "Matrículas")
    assert data[1][0] == "6º ano B" and data[1][3] == 6  # T201: 1014-1018 and 1025
    filters = {r[0]: r[1] for r in wb["Filtros"].iter_rows(values_only=True)}
    assert "E.E. Contagem – Centro" in filters["Local"]

    # the breadcrumb climbs back to the state
    page.locator(".painel-drill button", has_text="Minas Gerais").click()
    wait_first_column(page, ["SRE Juiz de Fora", "SRE Metropolitana A"])
    body = page.inner_text("body")
    for english in ("Loading", "Error", "undefined", "NaN"):
        assert english not in body
