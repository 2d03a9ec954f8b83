"""A page that fails never shows English or a traceback: a pt-BR message, one automatic retry,
then a button. The ways a page can fail: its build raises (dash.render catches it), a notebook
cell raises (Voilà's error output, rendered by painel's template), and a widget on the page
is missing from its kernel (the widgets library's "model not found")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from painel_testing import Server, browser_login, copy_project, painel, start_server

pytestmark = [pytest.mark.timeout(240)]


def notebook(cells: list[str], title: str) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "painel": {"title": title, "description": "teste", "roles": ["admin"]},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("failures")
    project = copy_project(tmp / "proj")
    dashboards = project / "notebooks" / "dashboards"
    (dashboards / "quebra_no_build.ipynb").write_text(
        json.dumps(
            notebook(
                [
                    "from painel import dash",
                    "def build(viewer):\n    raise RuntimeError('boom in build')",
                    "dash.render(build)",
                ],
                "Quebra no build",
            )
        )
    )
    (dashboards / "quebra_na_celula.ipynb").write_text(
        json.dumps(
            notebook(
                ["from painel import dash", "raise ValueError('Traceback in English')"],
                "Quebra na célula",
            )
        )
    )
    (dashboards / "widget_sumido.ipynb").write_text(
        json.dumps(
            notebook(
                [
                    "import ipywidgets as w\nfrom IPython.display import display",
                    # a widget the page shows but its kernel no longer has
                    "gone = w.HTML('sumiu')\ndisplay(gone)\ngone.close()",
                ],
                "Widget sumido",
            )
        )
    )
    home = tmp / "home"
    home.mkdir()
    painel(home, "demo", "prepare", "--no-data", project=project)
    server = start_server(home, project=project)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "notebook_name", ["quebra_no_build.ipynb", "quebra_na_celula.ipynb", "widget_sumido.ipynb"]
)
def test_a_failing_page_says_so_in_portuguese_and_retries_once(
    failing_server: Server, browser: Any, notebook_name: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    loads: list[str] = []
    # the page's requests, not its "load" events: a page reloaded before it finished
    # loading (plotly.js still arriving) has no "load" event
    page.on("request", lambda r: loads.append(r.url) if r.is_navigation_request() else None)
    try:
        browser_login(page, failing_server, "admin", "demo-admin")
        # every message the pages show, kept across the reload (the first one lasts 1.5 s)
        page.add_init_script(
            """new MutationObserver(() => document.querySelectorAll('.painel-failure').forEach(e => {
                const seen = JSON.parse(sessionStorage.getItem('seen') || '[]');
                if (!seen.includes(e.textContent)) {
                    seen.push(e.textContent); sessionStorage.setItem('seen', JSON.stringify(seen));
                }
            })).observe(document, {childList: true, subtree: true});"""
        )
        loads.clear()
        page.goto(f"{failing_server.base}/voila/render/{notebook_name}", wait_until="commit")
        # reloaded by itself once, then a message with a button, and no further reload
        page.wait_for_selector(".painel-failure button:has-text('Tentar novamente')")
        seen = page.evaluate("JSON.parse(sessionStorage.getItem('seen') || '[]')")
        assert any("Tentando novamente" in m for m in seen), seen
        assert any("Tente novamente em alguns minutos" in m for m in seen), seen
        assert len([u for u in loads if notebook_name in u]) == 2, loads
        page.wait_for_timeout(2500)
        assert len([u for u in loads if notebook_name in u]) == 2, loads
        text = page.locator("body").inner_text()
        for english in ("Error", "Traceback", "boom", "There was an error", "Executing", "Voil"):
            assert english not in text, english
        assert page.locator(".painel-failure[role=alert]").count() == 1
    finally:
        context.close()
