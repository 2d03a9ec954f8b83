"""Kernels per user are capped: opening one more shuts down that user's least recently used."""

from __future__ import annotations

from typing import Any

import pytest

from painel_testing import Server, login, render

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    return {"PainelVoila": {"max_kernels_per_user": 2}}


def test_opening_past_the_cap_evicts_the_oldest_kernel(server: Server) -> None:
    s = login(server, "sre.metro")
    ids = []
    for _ in range(3):
        r, kernel_id = render(s, server, "matriculas.ipynb")
        assert r.status_code == 200 and kernel_id
        ids.append(kernel_id)
    mine = [
        k["id"] for k in s.get(server.base + "/painel/api/kernels", timeout=10).json()["kernels"]
    ]
    assert len(mine) == 2
    assert ids[0] not in mine and ids[1] in mine and ids[2] in mine
    # another user's kernels are not counted against this one
    other = login(server, "sre.jf")
    r, other_id = render(other, server, "matriculas.ipynb")
    assert r.status_code == 200
    mine_after = [
        k["id"] for k in s.get(server.base + "/painel/api/kernels", timeout=10).json()["kernels"]
    ]
    assert sorted(mine_after) == sorted(mine)
