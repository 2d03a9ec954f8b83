"""The procurement suite's demo and nbval fixture: a generated world of Goiás's purchases
served by the PNCP simulator, crawled by the real job.

(The full demo — world at scale 0.01, logins for a CGE analyst, a manager and two organs,
the mail catcher — comes with the panels; this module holds what exists so far.)
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..config import Paths


def folder(paths: Paths) -> Path:
    return paths.sources / "procurement"


def notebook_fixture(paths: Paths, stack: ExitStack) -> dict[str, dict[str, Any]]:
    """A small world served by a simulator for the ETL notebook to crawl (nothing published
    before: the notebook's run is the first)."""
    from .etl.landing import export_catalogue
    from .simulator import PncpSimulator
    from .simulator.sample import DAYS, FIRST_DAY, write_sample_world

    out = folder(paths)
    out.mkdir(parents=True, exist_ok=True)
    world = write_sample_world(out / "world.duckdb", big_items=30)
    export_catalogue(world, out / "catalogo")
    sim = stack.enter_context(PncpSimulator(world))
    return {
        "procurement": {
            "base_url": sim.url,
            "por": "publicacao",
            "desde": FIRST_DAY.isoformat(),
            "ate": (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat(),
            "pace_s": 0.0,
            "catalogo": str(out / "catalogo"),
        }
    }
