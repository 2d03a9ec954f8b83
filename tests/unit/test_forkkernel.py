"""painel.forkkernel: kernels forked from a warm zygote through jupyter_client's provisioner
interface, as a kernel manager starts, talks to, signals and stops them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from painel import forkkernel
from painel.forkkernel import Zygote, ZygoteError, pid_alive

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    z = Zygote(modules=("pandas", "ipykernel.kernelapp"))
    yield z
    z.stop()


async def _run(km: Any, code: str) -> dict[str, Any]:
    """Execute ``code`` and return the user expression ``out`` (its text)."""
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive(
            code, user_expressions={"out": "out"}, timeout=60, store_history=False
        )
        return reply["content"]["user_expressions"]["out"]  # type: ignore[no-any-return]
    finally:
        kc.stop_channels()


def _manager(monkeypatch: pytest.MonkeyPatch, zygote: Zygote | None) -> Any:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import KernelProvisionerFactory

    if zygote is not None:
        for k, v in zygote.env().items():
            monkeypatch.setenv(k, v)
    else:
        monkeypatch.setenv(forkkernel.PROVISIONER_ENV, forkkernel.PROVISIONER)
        monkeypatch.delenv(forkkernel.ZYGOTE_ENV, raising=False)
    KernelProvisionerFactory.clear_instance()  # it reads the default provisioner once
    return AsyncKernelManager(kernel_name="python3")


def test_a_forked_kernel_is_the_zygotes_child_with_the_managers_environment(
    zygote: Zygote, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def main() -> None:
        km = _manager(monkeypatch, zygote)
        log = open(tmp_path / "kernel.log", "wb")  # noqa: SIM115 - closed below
        try:
            await km.start_kernel(
                env={**os.environ, "PAINEL_TESTE": "valor do kernel"}, cwd=str(tmp_path), stderr=log
            )
            assert type(km.provisioner).__name__ == "ForkProvisioner"
            pid = km.provisioner.pid
            out = await _run(
                km,
                "import os, sys; print('para o log', file=sys.__stderr__, flush=True); "
                "out = (os.getppid(), os.getsid(0), os.environ.get('PAINEL_TESTE'), "
                "os.getcwd(), 'pandas' in sys.modules)",
            )
            ppid, sid, value, cwd, warm = eval(out["data"]["text/plain"])
            assert ppid == zygote.pid and sid == pid  # the zygote's child, its own session
            assert value == "valor do kernel" and cwd == str(tmp_path)
            assert warm  # pandas came with the fork, not imported by the kernel
            assert await km.is_alive()
            await km.shutdown_kernel()
            assert not pid_alive(pid)
        finally:
            log.close()
        assert "para o log" in (tmp_path / "kernel.log").read_text()

    asyncio.run(main())


def test_a_forked_kernel_is_interrupted_restarted_and_killed_like_any(
    zygote: Zygote, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        km = _manager(monkeypatch, zygote)
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("import time; time.sleep(60)")
            await asyncio.sleep(0.5)
            await km.interrupt_kernel()  # SIGINT to its process group
            while True:
                reply = await kc.get_shell_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            assert reply["content"]["status"] == "error"
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            first = km.provisioner.pid
            await km.restart_kernel(now=True)
            assert km.provisioner.pid != first and not pid_alive(first)
            second = km.provisioner.pid
            await km.shutdown_kernel(now=True)  # SIGKILL
            deadline = time.monotonic() + 10
            while pid_alive(second) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not pid_alive(second)
        finally:
            kc.stop_channels()

    asyncio.run(main())


def test_without_a_zygote_the_kernel_starts_as_a_new_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def main() -> None:
        km = _manager(monkeypatch, None)
        await km.start_kernel()
        try:
            out = await _run(km, "import os; out = os.getppid()")
            assert int(out["data"]["text/plain"]) == os.getpid()
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(main())


def test_the_zygote_and_its_kernels_end_with_the_process_that_started_them(
    tmp_path: Path,
) -> None:
    code = textwrap.dedent(
        """
        import asyncio, os, sys
        from painel.forkkernel import Zygote
        z = Zygote(modules=("ipykernel.kernelapp",))
        os.environ.update(z.env())
        from jupyter_client.manager import AsyncKernelManager
        async def main():
            km = AsyncKernelManager(kernel_name="python3")
            await km.start_kernel()
            print(z.pid, km.provisioner.pid, flush=True)
            await asyncio.sleep(600)
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    zygote_pid, kernel_pid = map(int, proc.stdout.readline().split())
    assert pid_alive(zygote_pid) and pid_alive(kernel_pid)
    os.kill(proc.pid, signal.SIGKILL)  # the server dies without a word
    proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while (pid_alive(zygote_pid) or pid_alive(kernel_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(zygote_pid), "the zygote outlived its parent"
    assert not pid_alive(kernel_pid), "the kernel outlived its zygote"


def test_a_preload_that_starts_a_thread_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "threaded_lib.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with pytest.raises(ZygoteError, match="did not start"):
        Zygote(modules=("threaded_lib",), timeout_s=30)


def test_only_ipykernel_commands_of_this_python_are_forked() -> None:
    me = sys.executable
    assert forkkernel._ipykernel_args([me, "-m", "ipykernel_launcher", "-f", "c.json"]) == [
        "-f",
        "c.json",
    ]
    assert forkkernel._ipykernel_args(["/usr/bin/python3", "-m", "ipykernel_launcher"]) in (
        None,
        [],
    )
    assert forkkernel._ipykernel_args([me, "-m", "other_kernel", "-f", "c.json"]) is None
    assert forkkernel._ipykernel_args(["R", "--slave"]) is None


def test_a_kernel_writing_much_to_its_stdout_never_blocks(
    zygote: Zygote, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its stdout is the manager's (as a Popen child's would be), never a pipe nobody reads:
    past a pipe's 64 KB a write would block the kernel for good."""

    async def main() -> None:
        km = _manager(monkeypatch, zygote)
        await km.start_kernel()
        try:
            for _ in range(3):  # 600 KB in all, through the file descriptor itself
                out = await asyncio.wait_for(
                    _run(km, "import os; out = os.write(1, b'.' * 200_000)"), timeout=30
                )
                assert out["data"]["text/plain"] == "200000"
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(main())


def test_the_zygote_preloads_the_painel_modules_the_dashboards_import(tmp_path: Path) -> None:
    """painel serve's zygote imports what the dashboards' code cells import from painel
    (both ``painel.x`` and ``painel.x.y`` of ``from painel.x import y``: it skips what does
    not exist), never what a markdown cell or a comment-free string merely mentions."""
    import json

    from painel.web.app import dashboard_modules

    def nb(*cells: tuple[str, str]) -> str:
        return json.dumps(
            {"cells": [{"cell_type": t, "source": s, "metadata": {}} for t, s in cells]}
        )

    (tmp_path / "a.ipynb").write_text(
        nb(
            ("code", "from painel import dash\nfrom painel.school.pages import ficha as page"),
            ("markdown", "from painel.secret import nothing"),
        )
    )
    (tmp_path / "b.ipynb").write_text(nb(("code", ["import painel.usuarios\n", "x = 1"])))
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert dashboard_modules(tmp_path) == [
        "painel",
        "painel.dash",
        "painel.school.pages",
        "painel.school.pages.ficha",
        "painel.usuarios",
    ]


def test_libraries_preloaded_without_a_kernel_act_as_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ipywidgets registers its comm targets, and plotly picks its renderer, when imported
    under IPython: the zygote imported them in a process without a kernel. In a forked kernel
    a page's widgets must still open (the targets) and a figure render as in Jupyter."""
    z = Zygote(modules=("ipykernel.kernelapp", "ipywidgets", "plotly.io"))
    try:

        async def main() -> None:
            km = _manager(monkeypatch, z)
            await km.start_kernel()
            try:
                out = await _run(
                    km,
                    "import sys, plotly.io as pio\n"
                    "from ipywidgets import comm\n"
                    "targets = comm.get_comm_manager().targets\n"
                    "out = ('jupyter.widget' in targets, 'jupyter.widget.control' in targets,"
                    " pio.renderers.default, 'ipywidgets' in sys.modules)",
                )
                assert eval(out["data"]["text/plain"]) == (True, True, "plotly_mimetype", True)
            finally:
                await km.shutdown_kernel(now=True)

        asyncio.run(main())
    finally:
        z.stop()
