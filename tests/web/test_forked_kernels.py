"""``painel serve`` forks dashboard kernels from one warm parent (issue 13).

The parent (painel.forkkernel's zygote) has imported the libraries and the dashboards' painel
modules once; every kernel is a fork of it. A zygote that dies is started again while the
pages already open keep working, and kernels start afresh in between.
"""

from __future__ import annotations

import contextlib
import signal
import time

import psutil
import pytest

from painel_testing import (
    KernelChannel,
    Server,
    login,
    page_kernel,
    widget_text,
)

pytestmark = [pytest.mark.web, pytest.mark.timeout(300)]
# the shared ``server`` fixture (tests/conftest.py): painel serve over the demo data, as set up


def zygotes(server: Server) -> list[psutil.Process]:
    out = []
    for proc in psutil.Process(server.proc.pid).children():
        with contextlib.suppress(psutil.Error):
            if "painel.forkkernel" in " ".join(proc.cmdline()):
                out.append(proc)
    return out


def kernel_process(kernel_id: str) -> psutil.Process:
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if any(f"kernel-{kernel_id}.json" in arg for arg in proc.cmdline()):
                return proc
    raise AssertionError(f"no process for kernel {kernel_id}")


def open_page(server: Server) -> tuple[str, str]:
    """An SRE opens Visão Geral: (kernel id, the page's text)."""
    s = login(server, "sre.uberlandia")
    kernel_id = page_kernel(s, server, "rede_visao_geral.ipynb")
    ch = KernelChannel(server, s, kernel_id)
    try:
        text = widget_text(ch.widget_states())
    finally:
        ch.close()
    return kernel_id, text


def test_dashboard_kernels_are_forks_of_one_warm_parent(server: Server) -> None:
    [zygote] = zygotes(server)
    kernel_id, text = open_page(server)
    assert "Uberlândia" in text and "Metropolitana A" not in text
    kernel = kernel_process(kernel_id)
    assert kernel.ppid() == zygote.pid
    # named in ps as a kernel started afresh would be, ending with its connection file
    assert " ".join(kernel.cmdline()).strip().endswith(f"kernel-{kernel_id}.json")
    assert "-m ipykernel_launcher" in " ".join(kernel.cmdline())
    # the pool's kernels too: every dashboard kernel is the zygote's
    for child in psutil.Process(server.proc.pid).children():
        with contextlib.suppress(psutil.Error):
            assert "ipykernel_launcher" not in " ".join(child.cmdline()), child.cmdline()
    assert "dashboard kernels fork from process" in server.log()


def test_a_dead_zygote_is_started_again_and_open_pages_keep_working(server: Server) -> None:
    [zygote] = zygotes(server)
    kernel_id, _ = open_page(server)
    before = kernel_process(kernel_id)
    zygote.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        fresh = [z for z in zygotes(server) if z.pid != zygote.pid and z.status() != "zombie"]
        if fresh:
            break
        assert time.monotonic() < deadline, server.log()[-3000:]
        time.sleep(0.5)
    assert before.is_running() and before.status() != psutil.STATUS_ZOMBIE
    assert "kernel zygote ended" in server.log()
    # a page opened now forks from the new zygote (its pool refills from it too)
    deadline = time.monotonic() + 60
    while True:
        kernel_id, text = open_page(server)
        assert "Uberlândia" in text
        if kernel_process(kernel_id).ppid() == fresh[0].pid:
            break
        assert time.monotonic() < deadline, "no kernel forked from the new zygote"
