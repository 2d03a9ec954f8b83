from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# make tests/painel_testing.py importable from every test folder
sys.path.insert(0, str(Path(__file__).parent))

from painel_testing import Server, prepare_demo_home, start_server

TESTS = Path(__file__).parent
# Every test under tests/<folder> carries that folder's marker (-m "not web", ...).
FOLDER_MARKERS = {"integration": "integration", "web": "web", "browser": "browser"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any] | None:
    """Override in a test module to layer settings over voila.json (``painel serve --config``)."""
    return None


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, server_config: dict[str, Any] | None
) -> Iterator[Server]:
    """A real ``painel serve`` on a free loopback port, over a demo data directory."""
    home = tmp_path_factory.mktemp("home")
    prepare_demo_home(home)
    srv = start_server(home, config=server_config)
    yield srv
    srv.stop()


@pytest.fixture
def sim_factory() -> Iterator[Any]:
    """Start Cademi simulators in this process (``CademiSimulator(**options)``); stopped afterwards."""
    from painel.progress.simulator import CademiSimulator

    started: list[CademiSimulator] = []

    def make(**options: Any) -> CademiSimulator:
        sim = CademiSimulator(**options)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
