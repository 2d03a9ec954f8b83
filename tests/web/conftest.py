from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from painel_testing import Server, prepare_demo_home, start_server


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any] | None:
    """Override in a test module to layer settings over voila.json."""
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_config: dict[str, Any] | None) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("home")
    prepare_demo_home(home)
    srv = start_server(home, config=server_config)
    yield srv
    srv.stop()
