"""Debian chromium, driven by Playwright: a tutor filters the Progresso dashboard and exports Excel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from painel_testing import Server, browser_login, progress_demo

pytestmark = [pytest.mark.timeout(300)]

KEY = "painel-demo-key"
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


def store_rows(server: Server, tag_id: int) -> int:
    """Rows of ``tag_id`` in the newest week, straight from the published store."""
    from painel.store import Store

    con = Store(server.home / "store").connect("progress")
    try:
        return con.execute(
            "SELECT count(*) FROM progress_weekly WHERE tag_id = ? "
            "AND week = (SELECT max(week) FROM progress_weekly)",
            [tag_id],
        ).fetchone()[0]
    finally:
        con.close()


ROWS_ALL_TURMA_01 = """() => {
    const t = document.querySelector('table.painel-table');
    if (!t) return false;
    const col = [...t.querySelectorAll('thead th')].findIndex(th => th.textContent.trim() === 'Turma');
    const rows = [...t.querySelectorAll('tbody tr')];
    return col >= 0 && rows.length > 0 && rows.every(r => r.cells[col].textContent.trim() === 'Turma 01');
}"""


def test_tutor_filters_a_class_and_exports_excel(
    progress_server: Server, browser: object, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    server = progress_server
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        browser_login(page, server, "tutora.ana", "demo-tutora-ana")
        assert "Cadastro de turmas" not in page.content()
        page.click("text=Progresso dos alunos")
        page.wait_for_url("**/voila/render/progresso.ipynb")
        page.wait_for_selector("table.painel-table")

        turma = (
            page.locator(".widget-dropdown")
            .filter(has=page.locator("label", has_text="Turma:"))
            .locator("select")
        )
        options = [o.replace("\xa0", " ") for o in turma.locator("option").all_inner_texts()]
        assert [o.split(" — ")[0] for o in options] == ["Todas", "Turma 01", "Turma 03"], options
        turma.select_option(
            index=options.index(next(o for o in options if o.startswith("Turma 01")))
        )
        page.wait_for_function(ROWS_ALL_TURMA_01, timeout=TIMEOUT_MS)

        said = page.locator(".painel-msg", has_text="linhas").first.inner_text(timeout=TIMEOUT_MS)
        shown = int(re.search(r"([\d.]+) linhas", said).group(1).replace(".", ""))  # type: ignore[union-attr]

        page.locator("button", has_text="Exportar Excel").click()
        link = page.locator("a.painel-download")
        link.wait_for(state="visible", timeout=TIMEOUT_MS)
        assert link.inner_text().startswith("Baixar progresso_")
        with page.expect_download(timeout=TIMEOUT_MS) as info:
            link.click()
        download = info.value
        assert download.suggested_filename.endswith("_turma_5001.xlsx"), download.suggested_filename
        xlsx = tmp_path / download.suggested_filename
        download.save_as(xlsx)

        ws = load_workbook(xlsx)["Progresso"]
        rows = list(ws.iter_rows())
        headers = [c.value for c in rows[0]]
        assert headers == HEADERS
        data = rows[1:]
        turma_col, progress_col = headers.index("Turma"), headers.index("Progresso")
        assert data and all(r[turma_col].value == "Turma 01" for r in data)
        assert len(data) == shown == store_rows(server, 5001)
        assert all(r[progress_col].number_format == "0.0%" for r in data)
        assert all(
            isinstance(r[progress_col].value, (int, float)) and 0 <= r[progress_col].value <= 1
            for r in data
        )

        page.click("#painel-logout")
        page.wait_for_url("**/login")
        page.goto(server.base + "/")
        assert "/login" in page.url
    except BaseException:
        shot = tmp_path / "progress-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception as exc:  # noqa: BLE001 - the original failure matters more
            print(f"no screenshot: {exc}")
        raise
    finally:
        context.close()
