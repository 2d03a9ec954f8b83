"""Run by ``pytest --nbval-lax notebooks``: every notebook against a tiny fixture store.

Before any kernel starts, point ``PAINEL_HOME`` at a temporary data directory holding a
small published ``demo`` dataset and an admin user, and give dashboards their test-only
identity (``PAINEL_DASHBOARD_USER``; never read under Voilà). Kernels inherit the
environment, so the notebooks run unchanged.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


def _nbval_active(config: pytest.Config) -> bool:
    for opt in ("--nbval", "--nbval-lax"):
        try:
            if config.getoption(opt):
                return True
        except ValueError:
            pass
    return False


def pytest_configure(config: pytest.Config) -> None:
    if not _nbval_active(config):
        return
    from painel.auth import Users
    from painel.config import Paths
    from painel.demo import etl as demo
    from painel.demo import source
    from painel.opstate import OpState
    from painel.store import Store

    home = Path(tempfile.mkdtemp(prefix="painel-nbval-"))
    os.environ["PAINEL_HOME"] = str(home)
    os.environ["PAINEL_PROJECT"] = str(Path(__file__).parent)
    os.environ["PAINEL_DASHBOARD_USER"] = "admin"
    paths = Paths.from_env().ensure()
    source.generate(paths.sources / "demo", months=3, schools_per_regional=2)
    build = Store(paths.store).build(demo.DATASET, demo.TABLES)
    demo.load(build, paths.sources / "demo")
    build.publish()
    Users(OpState(paths.opstate)).add("admin", "fixture-admin-pass", "admin")
