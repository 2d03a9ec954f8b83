"""Debian chromium, driven by Playwright: a page outlives its kernel (issue 13).

A page left alone gives its kernel back after the idle time (here 8 s instead of the
5 minutes of voila.json) and says so in pt-BR, staying readable; the viewer's next action
brings it back with the same week, table search and position. A kernel that dies under its
viewer (SIGKILL) comes back by itself the same way. Never an error, never English.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from painel_testing import KERNEL_ID, Server, browser_login, progress_demo

pytestmark = [pytest.mark.timeout(300)]

IDLE_S = 8
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = {"MappingKernelManager": {"cull_idle_timeout": IDLE_S, "cull_interval": 2}}
    with progress_demo(tmp_path_factory.mktemp("memory"), config=config) as (srv, *_):
        yield srv


def week_select(page: Any) -> Any:
    return (
        page.locator(".widget-dropdown")
        .filter(has=page.locator("label", has_text="Semana:"))
        .locator("select")
    )


def open_and_choose(browser: Any, server: Server) -> tuple[Any, Any, str, str]:
    """Coordination opens Progresso, picks the second week and searches the table:
    (context, page, the week's label, the page's kernel id)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    browser_login(page, server, "coordenacao", "demo-coordenacao")
    page.goto(f"{server.base}/voila/render/progresso.ipynb")
    page.wait_for_selector(".painel-tbl tbody tr")
    kernel_id = KERNEL_ID.search(page.content())
    assert kernel_id, "no kernel id in the page"
    week = week_select(page)
    label = week.evaluate("s => s.options[1].textContent").replace("\xa0", " ")
    week.select_option(index=1)
    page.wait_for_function(
        """(label) => [...document.querySelectorAll('.painel-chart .gtitle')]
            .some(t => t.textContent.replace(/\\u00a0/g, ' ').startsWith(label))""",
        arg=label,
    )
    search = page.locator(".painel-tbl-search").first
    search.fill("a")
    page.wait_for_function(
        "() => (document.querySelector('.painel-tbl-status') || {}).textContent?.includes('busca')"
        " || true"
    )
    page.wait_for_timeout(1500)  # the search reaches the kernel, its state the browser
    page.mouse.move(600, 500)
    page.mouse.wheel(0, 900)  # the viewer reads further down
    page.wait_for_function("() => document.getElementById('rendered_cells').scrollTop > 400")
    page.wait_for_timeout(500)
    return context, page, label, kernel_id.group(1)


def assert_restored(page: Any, label: str) -> None:
    notice = page.wait_for_selector(".painel-resumed", timeout=TIMEOUT_MS)
    assert "mesmos filtros" in (notice.text_content() or "")
    page.wait_for_function(
        """(label) => [...document.querySelectorAll('.painel-chart .gtitle')]
            .some(t => t.textContent.replace(/\\u00a0/g, ' ').startsWith(label))""",
        arg=label,
    )
    week = week_select(page)
    assert (
        week.evaluate("s => s.options[s.selectedIndex].textContent").replace("\xa0", " ") == label
    )
    assert page.locator(".painel-tbl-search").first.input_value() == "a"
    page.wait_for_function("() => document.getElementById('rendered_cells').scrollTop > 400")
    text = page.inner_text("body")
    assert not re.search(r"\b(Error|error|Kernel|Traceback|undefined|NaN)\b", text), text[:2000]


def kernel_process(server: Server, kernel_id: str) -> psutil.Process:
    for proc in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if any(f"kernel-{kernel_id}.json" in arg for arg in proc.cmdline()):
                return proc
        except psutil.Error:
            continue
    raise AssertionError(f"no process for kernel {kernel_id}")


def test_an_idle_page_pauses_and_comes_back_as_it_was(browser: Any, server: Server) -> None:
    context, page, label, kernel_id = open_and_choose(browser, server)
    try:
        process = kernel_process(server, kernel_id)
        paused = page.wait_for_selector("#painel-paused", timeout=(IDLE_S + 40) * 1000)
        text = paused.text_content() or ""
        assert "pausado" in text and "mesmos filtros" in text, text
        deadline = time.monotonic() + 20
        while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the paused page's kernel is still running"
            time.sleep(0.2)
        # still readable while paused: the table and the chart are there
        assert page.locator(".painel-tbl tbody tr").count() > 0
        assert page.locator(".painel-tbl-search").first.input_value() == "a"
        with page.expect_navigation():
            page.mouse.click(600, 500)  # the viewer's next action brings the page back
        assert_restored(page, label)
        new_id = KERNEL_ID.search(page.content())
        assert new_id and new_id.group(1) != kernel_id
        # an ordinary reload afterwards starts afresh (no restore, no notice)
        page.reload()
        page.wait_for_selector(".painel-tbl tbody tr")
        page.wait_for_timeout(1500)
        assert page.locator(".painel-resumed").count() == 0
        assert page.locator(".painel-tbl-search").first.input_value() == ""
    finally:
        context.close()


def test_a_kernel_that_dies_under_its_viewer_comes_back_by_itself(
    browser: Any, server: Server
) -> None:
    context, page, label, kernel_id = open_and_choose(browser, server)
    try:
        with page.expect_navigation(timeout=TIMEOUT_MS):
            kernel_process(server, kernel_id).send_signal(signal.SIGKILL)
        assert_restored(page, label)
        assert "died" in server.log()
    finally:
        context.close()
