"""The load generator (bench/load.py) really uses the panels: against a real ``painel serve``,
2 virtual users open a school panel and change its filters 3 times each, and the server's own
usage monitoring records exactly those interactions, per user and panel.

The server is small on purpose: a project copy with one dashboard (one kernel pool of two)
over the school demo's data, published in-process; usage ingested every half second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from painel_testing import Server, copy_project, seed_demo, start_server, wait_for

pytestmark = [pytest.mark.timeout(120)]

PANEL = "rede_visao_geral.ipynb"
USERS = 2
INTERACTIONS = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[Any], Any]]:
    from bench import load

    tmp = tmp_path_factory.mktemp("load")
    project = copy_project(tmp / "proj")
    for notebook in (project / "notebooks" / "dashboards").glob("*.ipynb"):
        if notebook.name != PANEL:
            notebook.unlink()
    home = tmp / "home"
    home.mkdir()
    seed_demo(home)
    users = load.load_users(home, USERS)
    server = start_server(
        home,
        project=project,
        deadline=50,
        config={
            "VoilaConfiguration": {"default_pool_size": USERS},
            "PainelVoila": {"usage_ingest_interval": 0.5},
        },
    )
    try:
        yield server, users, load
    finally:
        server.stop()


def recorded(home: Path, event: str) -> dict[tuple[str, str], int]:
    """(user, panel) -> how many ``event`` events of the load users the server has stored."""
    from painel.opstate import OpState

    with OpState(home / "painel.sqlite").connect() as con:
        rows = con.execute(
            "SELECT username, painel, count(*) FROM usage_events "
            "WHERE evento = ? AND username LIKE 'carga.%' GROUP BY 1, 2",
            [event],
        ).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def test_virtual_users_interact_and_the_server_counts_each_interaction(
    world: tuple[Server, list[Any], Any],
) -> None:
    server, users, load = world
    mix = load.Mix(
        panels_per_user=1,
        interactions_per_panel=INTERACTIONS,
        think_s=0.3,
        timeout_s=20,
        panels={PANEL: [u.role for u in users]},
    )
    started = time.monotonic()
    logs = asyncio.run(
        asyncio.wait_for(load.run_sessions(server.base, users, mix, seed=1), timeout=60)
    )
    assert time.monotonic() - started < 60

    assert [lg.user for lg in logs] == [u.username for u in users]
    for lg in logs:
        assert lg.errors == [], (lg.user, lg.errors, server.log()[-3000:])
        assert lg.login_s is not None
        assert len(lg.opens) == 1
        page = lg.opens[0]
        assert page.status == 200 and page.kernel_id and page.usable_s is not None, page
        assert page.filters >= 2, "the panel's filters (Etapa, Turno, ...) were not found"
        assert len(lg.interactions) == INTERACTIONS
        for item in lg.interactions:
            assert item.error == "", item
            assert item.latency_s is not None and 0 < item.latency_s < 20, item
            assert item.updates >= 1, item  # the kernel answered the change with updates

    sent: dict[tuple[str, str], int] = {}
    for lg in logs:
        for item in lg.interactions:
            key = (item.user, item.panel.removesuffix(".ipynb"))
            sent[key] = sent.get(key, 0) + 1
    assert sum(sent.values()) == USERS * INTERACTIONS

    # the server's ingester moves the kernels' spooled events into usage_events
    wait_for(
        lambda: recorded(server.home, "interaction") == sent,
        20,
        f"the server to record the interactions sent {sent} "
        f"(recorded: {recorded(server.home, 'interaction')})",
        interval=0.25,
    )
    time.sleep(1.5)  # three more ingests: nothing beyond what was sent arrives
    assert recorded(server.home, "interaction") == sent
    views = recorded(server.home, "page_view")
    assert views == {(u.username, PANEL.removesuffix(".ipynb")): 1 for u in users}
