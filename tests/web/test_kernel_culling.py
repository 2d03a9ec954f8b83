"""Idle dashboard kernels are culled (bots and crashed tabs would otherwise leak them)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from painel_testing import Server, login, render

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    return {
        "MappingKernelManager": {"cull_idle_timeout": 3, "cull_interval": 1, "cull_connected": True}
    }


def test_idle_kernel_is_culled_but_the_pool_is_not(server: Server) -> None:
    s = login(server, "sre.uberlandia")
    r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200 and kernel_id
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mine = [
            k["id"]
            for k in s.get(server.base + "/painel/api/kernels", timeout=10).json()["kernels"]
        ]
        if kernel_id not in mine:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the idle kernel was not culled within 30 s")
    assert s.get(f"{server.base}/api/kernels/{kernel_id}", timeout=10).status_code in (403, 404)
    # preheated kernels in the pool survive culling: the next render is still preheated
    t0 = time.monotonic()
    r, again = render(s, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200 and again and again != kernel_id
    assert "Using pre-heated kernel: " + again in server.log()
    assert time.monotonic() - t0 < 30
