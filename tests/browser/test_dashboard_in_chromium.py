"""Debian chromium, driven by Playwright: log in, open a scoped panel, drill down, log out."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel_testing import Server, browser_login

pytestmark = [pytest.mark.timeout(240)]


def first_column(page: object) -> list[str]:
    cells = page.locator(".painel-tbl tbody tr td:first-child").all_inner_texts()  # type: ignore[attr-defined]
    return [c.strip() for c in cells]


def test_login_drill_and_logout(server: Server, browser: object, tmp_path: Path) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    page.goto(server.base + "/voila/render/rede_visao_geral.ipynb")
    assert "/login" in page.url

    page.fill("#username", "admin")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    assert "inválidos" in page.locator("#login-message").inner_text()

    page.fill("#password", "demo-admin")
    page.click("#login-submit")
    page.wait_for_url("**/voila/render/rede_visao_geral.ipynb")

    page.wait_for_selector(".painel-tbl tbody tr")
    units = first_column(page)
    assert "SRE Metropolitana A" in units and "SRE Uberlândia" in units
    page.screenshot(path=str(tmp_path / "before.png"), full_page=True)

    page.locator(".painel-tbl tbody tr", has_text="SRE Uberlândia").click()
    page.wait_for_function(
        "() => document.querySelector('.painel-drill').innerText.includes('SRE Uberlândia')"
    )
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.painel-tbl tbody tr td:first-child')]"
        ".some(td => td.textContent.startsWith('SRE '))"
    )
    assert "SRE Metropolitana A" not in first_column(page)
    page.screenshot(path=str(tmp_path / "after.png"), full_page=True)

    page.click("#painel-logout")
    page.wait_for_url("**/login")
    page.goto(server.base + "/")
    assert "/login" in page.url
    page.close()


def test_an_sre_user_sees_only_its_region_in_the_browser(server: Server, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    browser_login(page, server, "sre.uberlandia", "demo-sre-uberlandia")
    assert "Atualização dos dados" not in page.content()
    page.click("text=Visão Geral da Rede")
    page.wait_for_selector(".painel-tbl tbody tr")
    assert "SRE Uberlândia" in page.locator(".painel-drill").first.inner_text()
    body = page.inner_text("body")
    assert "Metropolitana" not in body and "Dom Pedro II" not in body
    page.close()
