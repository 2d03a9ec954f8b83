"""A preheated kernel waits for its visitor as long as it takes, and no English error page.

The pooled kernel runs the dashboard notebook up to the cell that waits for the request; with
Voilà's defaults that cell runs into ``VoilaExecutor.timeout`` and the next visitor gets
"Cell execution timed out ...". Here the executor timeout is 30 s and the pools are left alone
for longer than that before anyone opens a page: every dashboard must still render.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import pytest

from painel_testing import KernelChannel, Server, login, progress_demo, render, widget_text

pytestmark = [pytest.mark.timeout(420)]

# The executor timeout here. It also bounds the pooled kernels' first cell (imports and
# warm-up), and a fresh server warms one kernel per dashboard at once — 16 of them on 2 cores
# take ~20 s — so it cannot be much shorter than Voilà's own 120 s.
TIMEOUT = 30
# what each dashboard shows once built (text from its widgets)
EXPECTED = {
    "progresso.ipynb": "Total de alunos",
    "cadastro_turmas.ipynb": "Turmas cadastradas",
    "atualizacao.ipynb": "Execuções",
    "rede_visao_geral.ipynb": "Matrículas",
}


@pytest.fixture(scope="module")
def idle_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("idle")
    with progress_demo(
        tmp, weeks=1, config={"VoilaExecutor": {"timeout": TIMEOUT}}, enrolment=True
    ) as (server, _home, _project, _sim):
        settle(server)
        yield server


def settle(server: Server, timeout: float = 120) -> None:
    """Wait until the pooled kernels have run their notebooks up to the visitor's wait: the
    server's processes sit idle. (With 16 dashboards a fresh server warms 16 kernels on 2
    cores; the render deadline here is the executor timeout, so a page opened while the
    others still warm up would be judged on a busy machine, not on an idle pool.)"""
    import psutil

    root = psutil.Process(server.proc.pid)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        procs = [root, *root.children(recursive=True)]
        for p in procs:
            with contextlib.suppress(psutil.Error):
                p.cpu_percent(None)
        time.sleep(1.0)
        busy = 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                busy += p.cpu_percent(None)
        if busy < 10:
            return
    raise AssertionError(f"the server's kernels did not settle within {timeout}s")


def test_pool_older_than_the_executor_timeout_still_renders_every_dashboard(
    idle_world: Server,
) -> None:
    server = idle_world
    time.sleep(TIMEOUT * 2 + 1)  # every pooled kernel has now waited longer than the timeout
    s = login(server, "admin", "demo-admin")
    for notebook, expected in EXPECTED.items():
        started = time.monotonic()
        r, kernel_id = render(s, server, notebook)
        assert r.status_code == 200, (notebook, r.status_code)
        assert "timed out" not in r.text and "TimeoutError" not in r.text, notebook
        assert 'data-painel-retry="1"' not in r.text, (
            f"{notebook}: an error output reached the page"
        )
        assert kernel_id, notebook
        ch = KernelChannel(server, s, kernel_id)
        try:
            text = widget_text(ch.widget_states())
        finally:
            ch.close()
        assert expected in text, (notebook, text[:500])
        assert "Não foi possível atualizar" not in text, (notebook, text[:500])
        assert time.monotonic() - started < 30, notebook
    assert "Timeout waiting for execute reply" not in server.log()


def test_the_page_a_visitor_gets_speaks_portuguese(idle_world: Server) -> None:
    s = login(idle_world, "admin", "demo-admin")
    r, _ = render(s, idle_world, "progresso.ipynb")
    page = r.content.decode("utf-8")  # the page declares <meta charset="utf-8">
    assert '<html lang="pt-BR">' in page
    titles = re.findall(r"<title>([^<]*)</title>", page)
    assert titles[:1] == ["Progresso dos alunos · painel"], titles
    assert "Abrindo o painel…" in page
