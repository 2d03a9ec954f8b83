"""What one user's browser can make a kernel hold, and what a kernel can see of the server.

- a websocket message from the browser larger than ``websocket_max_message_size`` closes the
  connection (1009) and never reaches the kernel;
- a kernel over ``kernel_memory_limit`` is shut down by the memory watchdog; its pages' kernel
  websockets close with code 4001 and the page says so in pt-BR;
- a kernel starts with only the allowlisted part of the server's environment: no
  ``CADEMI_API_KEY``, no variable the allowlist does not name.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import websocket

from painel.web.app import PainelVoila
from painel.web.kernels import DEFAULT_KERNEL_ENV_ALLOWLIST, REQUIRED_KERNEL_ENV, kernel_environment
from painel_testing import (
    DEMO_PASSWORDS,
    KernelChannel,
    Server,
    browser_login,
    login,
    page_kernel,
    start_server,
    wait_for,
    widget_text,
)

pytestmark = [pytest.mark.timeout(300)]

MAX_MESSAGE = 1024 * 1024  # the default
MEMORY_LIMIT = 320 * 1024 * 1024  # a demo dashboard's kernel starts at ~175 MiB


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    return {
        "PainelVoila": {
            "kernel_memory_limit": MEMORY_LIMIT,
            "kernel_memory_check_interval": 0.5,
        }
    }


def kernel_process(server: Server, kernel_id: str) -> psutil.Process:
    """The kernel's process: a child of ``painel serve`` started with the kernel's connection file."""
    for proc in psutil.Process(server.proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any(f"kernel-{kernel_id}.json" in arg for arg in proc.cmdline()):
                return proc
    raise AssertionError(f"no process for kernel {kernel_id}")


def kernel_processes(server: Server) -> list[psutil.Process]:
    out = []
    for proc in psutil.Process(server.proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any(re.search(r"kernel-[0-9a-f-]{36}\.json", arg) for arg in proc.cmdline()):
                out.append(proc)
    return out


def environ_of(proc: psutil.Process) -> dict[str, str]:
    """The environment the process was started with (/proc/<pid>/environ)."""
    raw = Path(f"/proc/{proc.pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def widget_open(ch: KernelChannel, payload: str) -> None:
    """What a browser sends to create a widget in the kernel: the kernel keeps its state."""
    ch.send(
        "shell",
        "comm_open",
        {
            "comm_id": uuid.uuid4().hex,
            "target_name": "jupyter.widget",
            "data": {
                "state": {
                    "_model_name": "TextModel",
                    "_model_module": "@jupyter-widgets/controls",
                    "_model_module_version": "2.0.0",
                    "_view_name": "TextView",
                    "_view_module": "@jupyter-widgets/controls",
                    "_view_module_version": "2.0.0",
                    "value": payload,
                },
                "buffer_paths": [],
            },
        },
        metadata={"version": "2.1.0"},
    )


def widget_count(ch: KernelChannel, timeout: float = 20) -> int:
    """How many widget comms the kernel holds (comm_info_request, as a frontend asks)."""
    msg_id = ch.send("shell", "comm_info_request", {"target_name": "jupyter.widget"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = ch.recv(deadline)
        if msg is None:
            break
        if msg.get("parent_header", {}).get("msg_id") == msg_id and (
            msg.get("msg_type") == "comm_info_reply"
        ):
            return len(msg["content"]["comms"])
    raise AssertionError("no comm_info_reply from the kernel")


def poll_close(ch: KernelChannel) -> int | None:
    """A close code already there, without blocking (0: dropped; None: still open)."""
    return ch.close_code(time.monotonic())


def grow_until_closed(ch: KernelChannel, timeout: float = 90) -> tuple[int | None, int]:
    """Send widgets of ~800 KB (each under the message limit) until the server closes the
    socket: (close code, widgets sent)."""
    # the kernel echoes each state back: websocket-client's pure-Python UTF-8 check of those
    # frames, not the server, would be what takes the time
    ch.ws.frame_buffer.skip_utf8_validation = True
    ch.ws.cont_frame.skip_utf8_validation = True
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        ch.ws.settimeout(20)  # poll_close left it short: a send may wait for the server
        try:
            widget_open(ch, f"{sent:08d}" * 100_000)
        except (websocket.WebSocketException, OSError):
            break
        sent += 1
        code = poll_close(ch)
        if code is not None:
            return code, sent
    return ch.close_code(deadline), sent


def user_kernels(s: requests.Session, server: Server) -> list[str]:
    r = s.get(server.base + "/painel/api/kernels", timeout=10)
    assert r.status_code == 200
    return [k["id"] for k in r.json()["kernels"]]


# ---- websocket message size ------------------------------------------------------------------
def test_a_message_over_the_limit_closes_the_socket_and_never_reaches_the_kernel(
    server: Server,
) -> None:
    s = login(server, "sre.uberlandia")
    kernel_id = page_kernel(s, server, "rede_visao_geral.ipynb")
    ch = KernelChannel(server, s, kernel_id)
    try:
        before = widget_count(ch)
        widget_open(ch, "x" * (MAX_MESSAGE // 2))  # under the limit: taken
        assert widget_count(ch) == before + 1
        ch.ws.settimeout(20)
        # over it: the server closes (1009) and drops the connection, maybe mid-send
        with contextlib.suppress(websocket.WebSocketException, OSError):
            widget_open(ch, "y" * (MAX_MESSAGE + 1024))
        assert ch.close_code(time.monotonic() + 10) in (1009, 0)
    finally:
        ch.close()
    ch = KernelChannel(server, s, kernel_id)  # the kernel lives on, without the big widget
    try:
        assert widget_count(ch) == before + 1
    finally:
        ch.close()


# ---- memory ceiling ----------------------------------------------------------------------------
def test_a_kernel_over_the_memory_ceiling_is_shut_down(server: Server) -> None:
    assert PainelVoila.kernel_memory_limit.default_value == 1024**3
    s = login(server, "sre.metropolitana")
    kernel_id = page_kernel(s, server, "rede_visao_geral.ipynb")
    proc = kernel_process(server, kernel_id)
    start = proc.memory_info().rss
    assert start < MEMORY_LIMIT - 64 * 1024 * 1024, f"the kernel starts at {start >> 20} MiB"
    ch = KernelChannel(server, s, kernel_id)
    try:
        assert "Metropolitana A" in widget_text(ch.widget_states())
        code, sent = grow_until_closed(ch)
    finally:
        ch.close()
    assert code == 4001, (code, sent, server.log()[-4000:])
    assert sent * 800_000 < 2 * (MEMORY_LIMIT - start) + 64 * 1024 * 1024, sent
    wait_for(lambda: not proc.is_running() or proc.status() == "zombie", 15, "the kernel's exit")
    assert kernel_id not in user_kernels(s, server)
    assert "over the 320 MiB ceiling" in server.log()
    # the user opens the dashboard again and gets a fresh kernel
    assert page_kernel(s, server, "rede_visao_geral.ipynb") != kernel_id


@pytest.mark.browser
def test_the_page_of_a_kernel_over_the_ceiling_says_so(server: Server) -> None:
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), args=["--headless", "--no-sandbox"], headless=True
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(60_000)
            browser_login(page, server, "analista", DEMO_PASSWORDS["analista"])
            page.goto(server.base + "/voila/render/rede_visao_geral.ipynb")
            page.wait_for_selector(".painel-tbl tbody tr", timeout=60_000)  # widgets drawn
            found = re.search(r'"kernelId": "([0-9a-f-]{36})"', page.content())
            assert found, "no kernel id in the page"
            kernel_id = found.group(1)
            s = requests.Session()  # the same login, driving the growth from outside
            for c in context.cookies():
                s.cookies.set(c["name"], c["value"])
            wait_for(lambda: kernel_id in user_kernels(s, server), 10, "the page's kernel")
            ch = KernelChannel(server, s, kernel_id)
            try:
                # the page's own socket takes every echo too, on the same two cores: slower
                code, sent = grow_until_closed(ch, timeout=150)
            finally:
                ch.close()
            # 0: this socket was mid-send of a large frame when the server closed it, and the
            # reset lost the close frame; the page's own socket (idle) gets 4001, checked below
            assert code in (4001, 0), (code, sent, server.log()[-4000:])
            box = page.wait_for_selector("#painel-ended", timeout=20_000)
            assert box is not None
            assert box.inner_text().startswith(
                "Este painel usou memória demais e foi encerrado. Recarregue a página."
            )
            assert page.get_attribute("#painel-ended", "role") == "alert"
        finally:
            browser.close()


# ---- the kernel's environment ------------------------------------------------------------------
SECRET_ENV = {
    "CADEMI_API_KEY": "cademi-secret-in-the-server",
    "PAINEL_COOKIE_SECRET_FILE": "",  # set below to a real file
    "SOME_OTHER_TOKEN": "not-for-kernels",
    "PAINEL_TEST_ALLOWED": "yes",
}
ALL_PATTERNS = (*REQUIRED_KERNEL_ENV, *DEFAULT_KERNEL_ENV_ALLOWLIST)


@pytest.fixture(scope="module")
def env_servers(server: Server) -> Iterator[tuple[Server, Server]]:
    """The module's data directory served twice with secrets in the server's environment:
    preheated with the default allowlist (kernels forked from the zygote, whose environment
    /proc shows for them), and cold (no preheating, kernels started afresh, so /proc shows
    each kernel's own) with one extra name."""
    secret_file = server.home / "secrets" / "cookie_secret"
    env = {**SECRET_ENV, "PAINEL_COOKIE_SECRET_FILE": str(secret_file)}
    extra = {
        "PainelVoila": {
            "kernel_env_allowlist": [*DEFAULT_KERNEL_ENV_ALLOWLIST, "PAINEL_TEST_ALLOWED"],
            "fork_kernels": False,
        }
    }
    preheated = start_server(server.home, env=env)
    try:
        cold = start_server(server.home, env=env, preheat=False, config=extra)
        try:
            yield preheated, cold
        finally:
            cold.stop()
    finally:
        preheated.stop()


def test_default_allowlist_leaves_secrets_out() -> None:
    allowed = kernel_environment(
        {**SECRET_ENV, "PATH": "/bin", "LC_ALL": "C.UTF-8", "PAINEL_HOME": "/h"}, ALL_PATTERNS
    )
    assert allowed == {"PATH": "/bin", "LC_ALL": "C.UTF-8", "PAINEL_HOME": "/h"}


def test_kernels_see_only_the_allowlisted_environment(
    env_servers: tuple[Server, Server],
) -> None:
    preheated, cold = env_servers
    for srv, extra_allowed in ((preheated, False), (cold, True)):
        s = login(srv, "sre.uberlandia")
        kernel_id = page_kernel(s, srv, "rede_visao_geral.ipynb")
        ch = KernelChannel(srv, s, kernel_id)  # the page works: identity, data, rows
        try:
            text = widget_text(ch.widget_states())
        finally:
            ch.close()
        assert "Uberlândia" in text and "Metropolitana A" not in text
        procs = kernel_processes(srv)
        assert procs, srv.log()
        assert kernel_process(srv, kernel_id) in procs
        for proc in procs:  # the page's kernel and the pools' alike
            env = environ_of(proc)
            leaked = {"CADEMI_API_KEY", "PAINEL_COOKIE_SECRET_FILE", "SOME_OTHER_TOKEN"} & set(env)
            assert not leaked, (srv.base, leaked)
            assert ("PAINEL_TEST_ALLOWED" in env) is extra_allowed
            for name in ("PATH", "PAINEL_HOME", "PAINEL_PROJECT", "PAINEL_KERNEL_TOKEN"):
                assert env.get(name), (name, sorted(env))
            assert all(
                any(re.fullmatch(p.replace("*", ".*"), k) for p in ALL_PATTERNS)
                or k == "PAINEL_TEST_ALLOWED"
                for k in env
            ), sorted(env)
        if extra_allowed:  # a cold start gets the request's identity in its environment
            assert (
                environ_of(kernel_process(srv, kernel_id))["HTTP_X_PAINEL_USER"] == "sre.uberlandia"
            )


# ---- the kernels' transport ----------------------------------------------------------------------
def test_kernels_talk_over_unix_sockets_not_tcp_ports(server: Server) -> None:
    """Over TCP, each kernel takes five ports picked by binding port 0 and letting it go: a
    fresh server starting a kernel per dashboard at once (plus the tests' own servers) lost
    that race now and then ("Address already in use"), the kernel died before its first
    reply, and its page came back without a kernel. IPC sockets are files: no race, and no
    port open to the machine's other users."""
    import json

    s = login(server, "sre.uberlandia")
    kernel_id = page_kernel(s, server, "rede_visao_geral.ipynb")
    # a forked kernel's command line is one title (setproctitle), a started one's its argv
    cmdline = " ".join(kernel_process(server, kernel_id).cmdline())
    connection = re.search(rf"(\S+kernel-{kernel_id}\.json)", cmdline)
    assert connection, cmdline
    info = json.loads(Path(connection.group(1)).read_text())
    assert info["transport"] == "ipc", info["transport"]
    assert "running over TCP" not in server.log()
