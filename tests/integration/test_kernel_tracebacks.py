"""A served dashboard kernel sends no traceback to the page (issue 9).

A real ipykernel, as painel serve starts it (``VOILA_PREHEAT`` set); a hostile widget message
(a slider's value that is not a number) makes ipywidgets fail: the page's websocket gets a
pt-BR message, the kernel's stderr (the server log) the traceback.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(120)]


def _after_bad_widget_message(served: bool, stderr: Path) -> tuple[list[dict[str, Any]], str]:
    """The error messages the kernel sent, and everything it sent on iopub (as text)."""
    from jupyter_client.manager import KernelManager

    env = {k: v for k, v in os.environ.items() if k != "VOILA_PREHEAT"}
    if served:
        env["VOILA_PREHEAT"] = "False"  # as painel serve starts a kernel
    km = KernelManager(kernel_name="python3")
    with open(stderr, "w") as err:
        km.start_kernel(env=env, stderr=err)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        kc.execute_interactive(
            "from painel import dash\nimport ipywidgets as w\ns = w.IntSlider()", timeout=60
        )
        mid_file = stderr.with_suffix(".mid")
        kc.execute_interactive(f"open({str(mid_file)!r}, 'w').write(s.model_id)", timeout=30)
        mid = mid_file.read_text()
        state = {"method": "update", "state": {"value": "abc"}, "buffer_paths": []}
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": mid, "data": state}))
        errors: list[dict[str, Any]] = []
        sent: list[dict[str, Any]] = []
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                msg = kc.get_iopub_msg(timeout=0.5)
            except Exception:  # noqa: BLE001 - queue.Empty: keep waiting until the deadline
                if errors:
                    break  # the error, and nothing more for half a second
                continue
            sent.append(msg["content"])
            if msg["msg_type"] == "error":
                errors.append(msg["content"])
        return errors, repr(sent)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_served_kernel_sends_a_message_and_logs_the_traceback(tmp_path: Path) -> None:
    stderr = tmp_path / "kernel.err"
    errors, sent = _after_bad_widget_message(True, stderr)
    assert errors, "the bad widget message raised nothing"
    assert "site-packages" not in sent and "Traceback" not in sent and "/" not in sent
    assert errors[0]["traceback"] == [
        "Ocorreu um erro neste painel. Recarregue a página; se continuar, avise a equipe de dados."
    ]
    logged = stderr.read_text()
    assert "painel: dashboard kernel error" in logged and "site-packages" in logged


def test_outside_painel_serve_the_traceback_is_shown(tmp_path: Path) -> None:
    """JupyterLab: the analyst sees the real traceback (and the test above is meaningful)."""
    errors, sent = _after_bad_widget_message(False, tmp_path / "kernel.err")
    assert errors and "site-packages" in sent
