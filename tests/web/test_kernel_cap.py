"""Kernels per user are capped: opening one more shuts down that user's least recently used.

The cap is a reservation taken before the page's kernel is claimed: parallel opens by one user
cannot all pass the check first (they did: 8 parallel opens gave one user 10 kernels)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from painel.web.kernels import REQUEST_USER, Claimant, OwnershipMixin
from painel_testing import REPO, Server, login, render, wait_for

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    return {"PainelVoila": {"max_kernels_per_user": 2}}


def test_opening_past_the_cap_evicts_the_oldest_kernel(server: Server) -> None:
    s = login(server, "sre.metropolitana")
    ids = []
    for _ in range(3):
        r, kernel_id = render(s, server, "rede_visao_geral.ipynb")
        assert r.status_code == 200 and kernel_id
        ids.append(kernel_id)
    mine = [
        k["id"] for k in s.get(server.base + "/painel/api/kernels", timeout=10).json()["kernels"]
    ]
    assert len(mine) == 2
    assert ids[0] not in mine and ids[1] in mine and ids[2] in mine
    # another user's kernels are not counted against this one
    other = login(server, "sre.uberlandia")
    r, other_id = render(other, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200
    mine_after = [
        k["id"] for k in s.get(server.base + "/painel/api/kernels", timeout=10).json()["kernels"]
    ]
    assert sorted(mine_after) == sorted(mine)


def owned_by(admin: requests.Session, server: Server) -> dict[str | None, list[str]]:
    """Every kernel of the server by owner (None: a preheated kernel no page has taken)."""
    r = admin.get(server.base + "/painel/api/kernels", timeout=10)
    assert r.status_code == 200
    out: dict[str | None, list[str]] = {}
    for k in r.json()["kernels"]:
        out.setdefault(k["owner"], []).append(k["id"])
    return out


def test_parallel_opens_by_one_user_never_exceed_the_cap(server: Server) -> None:
    user, cap, opens = "escola.31212401", 2, 8
    s = login(server, user)
    admin = login(server, "admin")
    server.wait_pools_ready()

    def open_once(_: int) -> tuple[int, str | None, str]:
        mine = requests.Session()  # one client per thread, all in the same login session
        mine.cookies.update(s.cookies)
        r, kernel_id = render(mine, server, "rede_visao_geral.ipynb")
        return r.status_code, kernel_id, r.text

    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:  # the user's kernels while the opens go on
        while not done.is_set():
            seen.append(len(owned_by(admin, server).get(user, [])))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(opens) as pool:
            results = list(pool.map(open_once, range(opens), timeout=150))
    finally:
        done.set()
        watcher.join(timeout=15)
    statuses = sorted(status for status, _, _ in results)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) >= 1, statuses
    for status, kernel_id, text in results:
        if status == 429:  # refused before any kernel was taken, in pt-BR
            assert kernel_id is None and "Muitos painéis sendo abertos" in text
    assert seen and max(seen) <= cap, seen
    mine = owned_by(admin, server).get(user, [])
    assert 1 <= len(mine) <= cap, mine
    # nothing but the pools' kernels is left without an owner: evicted kernels are gone
    server.wait_pools_ready()
    pools = len(list((REPO / "notebooks" / "dashboards").glob("*.ipynb")))
    wait_for(
        lambda: len(owned_by(admin, server).get(None, [])) == pools,
        30,
        f"only the {pools} pool kernels without an owner",
        interval=0.3,
    )
    assert len(owned_by(admin, server).get(user, [])) <= cap
    # the reservations are all gone: the user opens one more at once, within the cap
    r, again = render(s, server, "rede_visao_geral.ipynb")
    assert r.status_code == 200 and again
    assert again in owned_by(admin, server)[user] and len(owned_by(admin, server)[user]) <= cap


# ---- the reservation itself, without a server ------------------------------------------------
class FakeManager:
    """The part of Jupyter's kernel manager the ownership mixin builds on."""

    def __init__(self) -> None:
        self.kernels: dict[str, Any] = {}
        self.shut: list[str] = []

    def __contains__(self, kernel_id: str) -> bool:
        return kernel_id in self.kernels

    def get_kernel(self, kernel_id: str) -> Any:
        return self.kernels[kernel_id]

    async def start_kernel(self, **kwargs: Any) -> str:
        kernel_id = f"k{len(self.kernels) + len(self.shut)}"
        self.kernels[kernel_id] = type("K", (), {"last_activity": None})()
        return kernel_id

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        self.kernels.pop(kernel_id, None)
        self.shut.append(kernel_id)


class Managed(OwnershipMixin, FakeManager):
    pass


def test_reservations_count_against_the_cap_until_claimed_or_released() -> None:
    async def scenario() -> None:
        km = Managed()
        first, _ = km.reserve("ana", 2)
        second, _ = km.reserve("ana", 2)
        assert first and second
        third, evicted = km.reserve("ana", 2)  # both slots are pages still opening
        assert third is None and evicted == []
        other, _ = km.reserve("bia", 2)  # another user's count is her own
        assert other is not None
        km.release(first)  # that open failed: its slot is free again
        again, _ = km.reserve("ana", 2)
        assert again is not None
        token = REQUEST_USER.set(Claimant("ana", "session-a", second))
        try:
            claimed = await km.start_kernel()
        finally:
            REQUEST_USER.reset(token)
        assert km.owner(claimed) == "ana" and km.session_of(claimed) == "session-a"
        assert km.pending_of("ana") == 1  # the claim turned the reservation into a kernel
        km.release(second)  # a no-op after the claim
        assert km.kernels_of("ana") == [claimed]
        # one kernel and one page opening: the next open evicts the kernel, not the page
        last, evicted = km.reserve("ana", 2)
        assert last is not None and evicted == [claimed] and km.owner(claimed) is None
        await asyncio.sleep(0)
        assert claimed in km.shut

    asyncio.run(scenario())
