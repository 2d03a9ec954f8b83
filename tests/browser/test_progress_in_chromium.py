"""Debian chromium, driven by Playwright: the panel kit on the Progresso dashboard.

A tutor filters a class and exports Excel in one click; a coordinator pages, sorts and
searches the table, opens a student's journey from a row, drills into a situation and comes
back by the breadcrumb, exports every week, and finds the chart toolbar in Portuguese with
no "Share chart" button.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from painel_testing import Server, browser_login, progress_demo

pytestmark = [pytest.mark.timeout(300)]

HEADERS = [
    "Semana",
    "Início da semana",
    "Turma",
    "Trilha",
    "Curso",
    "Aluno",
    "ID Cademi",
    "Progresso",
    "Variação na semana (p.p.)",
    "Aulas assistidas",
    "Aulas concluídas",
    "Situação",
]
TIMEOUT_MS = 60_000
STATUS = re.compile(r"^([\d.]+)–([\d.]+) de ([\d.]+) linhas")


@pytest.fixture(scope="module")
def progress_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo's simulated Cademi school, three weeks of history from the real ETL, ``painel serve``."""
    with progress_demo(tmp_path_factory.mktemp("progress-browser")) as (
        server,
        _home,
        _project,
        _sim,
    ):
        yield server


def store_rows(server: Server, tag_ids: list[int], all_weeks: bool = False) -> int:
    """Rows of ``tag_ids`` in the newest week (or all weeks), straight from the published store."""
    from painel.store import Store

    con = Store(server.home / "store").connect("progress")
    try:
        week = "" if all_weeks else "AND week = (SELECT max(week) FROM progress_weekly)"
        marks = ",".join("?" for _ in tag_ids)
        return con.execute(
            f"SELECT count(*) FROM progress_weekly WHERE tag_id IN ({marks}) {week}", tag_ids
        ).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def open_page(progress_server: Server, browser: Any, tmp_path: Path) -> Iterator[Any]:
    """``open_page(user, password)``: a logged-in page on Progresso; a screenshot on failure."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def make(user: str, password: str) -> Any:
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1366, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        page.set_default_timeout(TIMEOUT_MS)
        browser_login(page, progress_server, user, password)
        page.click("text=Progresso dos alunos")
        page.wait_for_url("**/voila/render/progresso.ipynb")
        page.wait_for_selector(".painel-tbl tbody tr")
        return page

    try:
        yield make
    finally:
        for i, page in enumerate(pages):  # what each page looked like at the end, for a failure
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / f"progress-{i}.png"), full_page=True)
        for context in contexts:
            context.close()


def status(page: Any) -> tuple[int, int, int]:
    text = page.locator(".painel-tbl-status").inner_text()
    m = STATUS.match(text)
    assert m, text
    return tuple(int(g.replace(".", "")) for g in m.groups())  # type: ignore[return-value]


def column(page: Any, name: str) -> list[str]:
    return page.evaluate(
        """(name) => {
            const t = document.querySelector('.painel-tbl table');
            const col = [...t.querySelectorAll('thead th')].findIndex(
                th => th.textContent.replace(/ [▲▼]$/, '').trim() === name);
            return [...t.querySelectorAll('tbody tr')].map(r => r.cells[col].textContent.trim());
        }""",
        name,
    )


def number(text: str) -> float:
    return float(text.replace(".", "").replace(",", ".").replace("+", ""))


def wait_rows(page: Any, count: int) -> None:
    page.wait_for_function(
        "(n) => document.querySelectorAll('.painel-tbl tbody tr').length === n",
        arg=count,
        timeout=20_000,
    )


def wait_status(page: Any, first: int) -> None:
    page.wait_for_function(
        """(first) => {
            const s = document.querySelector('.painel-tbl-status');
            return s && s.textContent.startsWith(first.toLocaleString('pt-BR') + '–');
        }""",
        arg=first,
    )


def select(page: Any, label: str, starts: str) -> None:
    dropdown = (
        page.locator(".widget-dropdown")
        .filter(has=page.locator("label", has_text=label))
        .locator("select")
    )
    options = [o.replace("\xa0", " ") for o in dropdown.locator("option").all_inner_texts()]
    dropdown.select_option(index=next(i for i, o in enumerate(options) if o.startswith(starts)))


def test_tutor_filters_a_class_and_exports_excel_in_one_click(
    progress_server: Server, open_page: Any, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    page = open_page("tutora.ana", "demo-tutora-ana")
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert page.title() == "Progresso dos alunos · painel"
    turma = (
        page.locator(".widget-dropdown")
        .filter(has=page.locator("label", has_text="Turma:"))
        .locator("select")
    )
    options = [o.replace("\xa0", " ") for o in turma.locator("option").all_inner_texts()]
    assert [o.split(" — ")[0] for o in options] == ["Todas", "Turma 01", "Turma 03"], options
    select(page, "Turma:", "Turma 01")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.painel-tbl tbody tr')].every(
            r => r.cells[1] && r.cells[1].textContent.trim() === 'Turma 01')"""
    )
    shown = status(page)[2]

    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator("button", has_text="Exportar Excel (semana na tela)").click()
    download = info.value
    name = download.suggested_filename
    assert re.fullmatch(r"progresso_\d{4}-W\d{2}_Turma_01_\d{4}-\d{2}-\d{2}_\d{4}\.xlsx", name), (
        name
    )
    xlsx = tmp_path / name
    download.save_as(xlsx)
    ws = load_workbook(xlsx)["Progresso"]
    rows = list(ws.iter_rows())
    headers = [c.value for c in rows[0]]
    assert headers == HEADERS
    data = rows[1:]
    turma_col, progress_col = headers.index("Turma"), headers.index("Progresso")
    assert data and all(r[turma_col].value == "Turma 01" for r in data)
    assert len(data) == shown == store_rows(progress_server, [5001])
    assert all(r[progress_col].number_format == "0.0%" for r in data)
    assert page.locator("a.painel-download").count() == 0  # no second link to click
    assert "baixado" in page.locator(".painel-dl-status").first.inner_text()

    page.click("#painel-logout")
    page.wait_for_url("**/login")


def test_table_pages_sorts_and_searches_on_the_server(open_page: Any) -> None:
    page = open_page("coordenacao", "demo-coordenacao")
    first, last, total = status(page)
    assert (first, last) == (1, 25) and total > 100
    assert page.locator(".painel-tbl tbody tr").count() == 25

    page.locator(".painel-tbl-pager button", has_text="Próxima").click()
    wait_status(page, 26)
    assert status(page) == (26, 50, total)
    page.locator(".painel-tbl-pager button[aria-label='Última página']").click()
    wait_status(page, (total - 1) // 25 * 25 + 1)
    # the status follows the click at once; the last page's rows come from the kernel after
    wait_rows(page, total - (total - 1) // 25 * 25)

    header = page.locator(".painel-tbl th button", has_text="Progresso (%)")
    header.click()  # ascending, back to the first page
    page.wait_for_function(
        "() => document.querySelector('.painel-tbl th[aria-sort=ascending]') !== null"
    )
    wait_status(page, 1)
    values = [number(v) for v in column(page, "Progresso (%)")]
    assert values == sorted(values) and values[0] == 0
    header.click()  # descending
    page.wait_for_function(
        "() => document.querySelector('.painel-tbl th[aria-sort=descending]') !== null"
    )
    page.wait_for_function(
        """() => { const c = [...document.querySelectorAll('.painel-tbl tbody tr')]
              .map(r => r.cells[4].textContent); return c.length && c[0] !== '0,0'; }"""
    )
    values = [number(v) for v in column(page, "Progresso (%)")]
    assert values == sorted(values, reverse=True) and values[0] > 0

    search = page.locator(".painel-tbl-search")
    search.fill("conceicao")  # no accent, any case: matches "Conceição"
    page.wait_for_function(
        """() => { const rows = [...document.querySelectorAll('.painel-tbl tbody tr')];
              return rows.length && rows.every(r => r.cells[0].textContent.includes('Conceição')); }"""
    )
    assert "busca em" in page.locator(".painel-tbl-status").inner_text()
    names = column(page, "Aluno")
    assert names and all("conceição" in n.lower() for n in names), names
    assert status(page)[2] < total
    search.fill("zzz-nobody")
    page.wait_for_selector("td.painel-tbl-empty")
    assert page.locator(".painel-tbl-status").inner_text().startswith("0 linhas")


def test_a_row_opens_the_students_journey_and_a_situation_drills_down(open_page: Any) -> None:
    page = open_page("coordenacao", "demo-coordenacao")
    student = column(page, "Aluno")[2]
    page.locator(".painel-tbl tbody tr").nth(2).click()
    page.wait_for_selector(f"text=Jornada de {student}")
    assert page.locator(".painel-tbl tbody tr.selected").count() == 1
    row = page.locator(".painel-tbl tbody tr").nth(0)
    assert row.get_attribute("role") == "button" and row.get_attribute("tabindex") == "0"

    total = status(page)[2]
    page.locator(".widget-toggle-button", has_text="Atrasado").click()
    page.wait_for_selector(".painel-drill strong:text('Atrasado')")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.painel-tbl tbody tr')].every(
            r => r.cells[8].textContent.trim() === 'Atrasado')"""
    )
    behind = status(page)[2]
    assert 0 < behind < total
    crumb = page.locator(".painel-drill button", has_text="Todos os alunos")
    assert crumb.is_visible()
    crumb.click()
    page.wait_for_function(
        f"""() => document.querySelector('.painel-tbl-status').textContent.includes(
            ' de {total:,} linhas'.replace(/,/g, '.'))"""
    )
    assert set(column(page, "Situação")) - {"Atrasado"}

    # a bar of the situation chart drills down the same way
    bars = page.locator(".js-plotly-plot").filter(has_text="ritmo").locator(".bars .point path")
    box = bars.nth(0).bounding_box()  # "No ritmo"
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 5)
    page.wait_for_selector(".painel-drill strong:text('No ritmo')")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.painel-tbl tbody tr')].every(
            r => r.cells[8].textContent.trim() === 'No ritmo')"""
    )


def test_export_of_all_weeks(progress_server: Server, open_page: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    page = open_page("tutora.ana", "demo-tutora-ana")
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator("button", has_text="Exportar Excel (todas as semanas)").click()
    download = info.value
    assert download.suggested_filename.startswith("progresso_todas_as_semanas_")
    xlsx = tmp_path / download.suggested_filename
    download.save_as(xlsx)
    wb = load_workbook(xlsx)
    rows = list(wb["Progresso"].iter_rows(values_only=True))[1:]
    weeks = {r[0] for r in rows}
    assert len(weeks) == 3
    assert len(rows) == store_rows(progress_server, [5001, 5003], all_weeks=True)
    filters = dict(list(wb["Filtros"].iter_rows(values_only=True))[1:])
    assert str(filters["Semana"]).startswith("todas")


def test_charts_speak_portuguese_and_cannot_be_shared(open_page: Any) -> None:
    page = open_page("coordenacao", "demo-coordenacao")
    plot = page.locator(".js-plotly-plot").first
    plot.hover()
    page.wait_for_selector(".modebar-btn")
    titles = plot.locator(".modebar-btn").evaluate_all(
        "els => els.map(e => e.getAttribute('data-title'))"
    )
    assert "Baixar imagem (PNG)" in titles, titles
    assert not [t for t in titles if "Share" in t or "Lasso" in t or "Box Select" in t], titles
    assert page.locator(".modebar-btn[data-title*='Share']").count() == 0
    assert page.locator("[data-title='Lasso Select'], [data-title='Seleção livre']").count() == 0
    ticks = page.eval_on_selector_all(
        ".js-plotly-plot .ytick text", "els => els.map(e => e.textContent)"
    )
    assert "100%" in ticks or any("," in t or "." in t for t in ticks), ticks
    assert page.locator(".painel-sr-only", has_text="Gráfico:").count() >= 2
    assert "Loading widget" not in page.locator("body").inner_text()


def test_a_filter_change_redraws_the_chart_in_place(open_page: Any) -> None:
    """dash.Chart: a new week is drawn by Plotly.react on the same plot, not a new one."""
    page = open_page("coordenacao", "demo-coordenacao")
    situation = page.locator(".painel-chart").filter(has_text="ritmo").locator(".js-plotly-plot")
    situation.evaluate("gd => { gd.dataset.painelMark = 'first'; }")
    title = situation.locator(".gtitle").text_content() or ""
    week = (
        page.locator(".widget-dropdown")
        .filter(has=page.locator("label", has_text="Semana:"))
        .locator("select")
    )
    label = week.evaluate("s => s.options[1].textContent").replace("\xa0", " ")
    week.select_option(index=1)
    page.wait_for_function(
        """(label) => [...document.querySelectorAll('.painel-chart .gtitle')]
            .some(t => t.textContent.startsWith(label))""",
        arg=label,
    )
    marked = page.locator(".js-plotly-plot[data-painel-mark='first']")
    assert marked.count() == 1  # the same element, redrawn
    assert (marked.locator(".gtitle").text_content() or "").startswith(label)
    assert label not in title
    # one copy of plotly.js, painel's own, and every chart a dash.Chart
    assert page.evaluate("window.painelPlotly === window.Plotly")
    assert page.locator("script#painel-plotly").count() == 1
    assert page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].every(g => g.closest('.painel-chart'))"
    )


def test_a_revoked_grant_stops_the_open_page_at_its_next_query(
    progress_server: Server, open_page: Any
) -> None:
    """Issue 9: the page was built with two classes; one is revoked while it is open. Its next
    table page, its next filter change and its next export serve nothing and say why."""
    from painel_testing import painel

    page = open_page("tutora.ana", "demo-tutora-ana")
    assert status(page)[2] > 25  # more than one page of rows
    revoked = "progress:class:5003"
    painel(progress_server.home, "users", "revoke", "tutora.ana", revoked)
    try:
        page.get_by_role("button", name="Próxima página").click()
        page.wait_for_selector("td.painel-tbl-empty:has-text('Seu acesso a estes dados mudou')")
        assert page.locator(".painel-tbl tbody tr td:not(.painel-tbl-empty)").count() == 0

        weeks = (  # a filter change: the page's next query
            page.locator(".widget-dropdown")
            .filter(has=page.locator("label", has_text="Semana"))
            .locator("select")
        )
        current = weeks.evaluate("s => s.selectedIndex")
        weeks.select_option(index=1 if current == 0 else 0)
        page.wait_for_selector("[role=alert]:has-text('Seu acesso a estes dados mudou')")

        page.get_by_role("button", name="Exportar Excel").first.click()
        page.wait_for_selector(".painel-dl-status:has-text('Seu acesso a estes dados mudou')")
    finally:
        painel(progress_server.home, "users", "grant", "tutora.ana", revoked)

    # a page opened now is built for the access as it is (and serves again)
    fresh = open_page("tutora.ana", "demo-tutora-ana")
    assert status(fresh)[2] > 0
