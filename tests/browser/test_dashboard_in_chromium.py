"""Debian chromium, driven by Playwright: log in, open the scoped dashboard, filter, log out."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel_testing import Server, browser_login

pytestmark = [pytest.mark.timeout(240)]


def chart_title(page: object) -> str:
    return page.locator(".js-plotly-plot .gtitle").first.text_content(timeout=60_000) or ""  # type: ignore[attr-defined]


def test_login_filter_chart_and_logout(server: Server, browser: object, tmp_path: Path) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    page.goto(server.base + "/voila/render/matriculas.ipynb")
    assert "/login" in page.url

    page.fill("#username", "admin")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    assert "inválidos" in page.locator("#login-message").inner_text()

    page.fill("#password", "demo-admin")
    page.click("#login-submit")
    page.wait_for_url("**/voila/render/matriculas.ipynb")

    page.wait_for_selector(".js-plotly-plot .gtitle")
    assert "Todas as minhas regionais" in chart_title(page)
    table = page.locator("table.painel-table").first
    assert "31002" in table.inner_text() and "31001" in table.inner_text()
    page.screenshot(path=str(tmp_path / "before.png"), full_page=True)

    page.locator("select").first.select_option(label="Juiz de Fora")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot .gtitle')].some(e => e.textContent.includes('Juiz de Fora'))"
    )
    assert "Juiz de Fora" in chart_title(page)
    page.wait_for_function(
        "() => { const t = document.querySelector('table.painel-table'); return t && !t.innerText.includes('31001'); }"
    )
    text = page.locator("table.painel-table").first.inner_text()
    assert "31002" in text and "31001" not in text
    page.screenshot(path=str(tmp_path / "after.png"), full_page=True)

    page.click("#painel-logout")
    page.wait_for_url("**/login")
    page.goto(server.base + "/")
    assert "/login" in page.url
    page.close()


def test_staff_sees_only_their_region_in_the_browser(server: Server, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    browser_login(page, server, "sre.jf", "demo-sre-jf")
    assert "Atualização dos dados" not in page.content()
    page.click("text=Matrículas (demo)")
    page.wait_for_selector("table.painel-table")
    options = [
        o.replace("\xa0", " ")
        for o in page.locator("select").first.locator("option").all_inner_texts()
    ]
    assert options == ["Todas as minhas regionais", "Juiz de Fora"]
    assert "31001" not in page.locator("table.painel-table").first.inner_text()
    page.close()
