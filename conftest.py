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
    _progress_fixture(paths)


def _progress_fixture(paths) -> None:  # noqa: ANN001
    """A tiny simulated school on the port the progress notebook defaults to, one week published."""
    import socket

    from painel.opstate import OpState
    from painel.progress import etl as progress
    from painel.progress.simulator import CademiSimulator
    from painel.progress.tags import TagRegistry
    from painel.store import Store

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8867)) == 0:
            raise pytest.UsageError(
                "port 8867 is in use (is `make demo` running?): the progress notebook's default "
                "base_url points there; stop it before running the notebooks"
            )
    sim = CademiSimulator(seed=11, students=16, classes=2, key="nbval-key")
    sim.start(port=8867)  # a daemon thread: it ends with the test session
    os.environ["CADEMI_API_KEY"] = "nbval-key"
    tag = sim.world.class_tags()[0]
    TagRegistry(OpState(paths.opstate)).add(
        tag.tag_id,
        tag.track,
        tag.class_number,
        "nbval",
        {tag.track: tag.track},
        lambda: [{"id": tag.tag_id, "nome": tag.name}],
    )
    from painel.progress.simulator import TRACKS

    job = progress.prepare(
        paths,
        base_url=sim.base_url,
        api_key_env="CADEMI_API_KEY",
        per_second=1000,
        per_minute=60000,
        tracks={k: {"name": k.title(), "products": v} for k, v in TRACKS.items()},
    )
    job.log = lambda line: None
    job.collect()
    build = Store(paths.store).build(progress.DATASET, progress.TABLES, carry_over=True)
    job.load(build)
    job.publish(build)
