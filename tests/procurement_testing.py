"""The procurement sample published the way the tests need it: the sample world served by the
PNCP simulator on loopback, crawled and built by the real job (``job.run_once``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from painel.config import Paths


def publish_sample(paths: Paths, root: Path, big_items: int = 40) -> str:
    """Write the sample world and its catalogue under ``root``, crawl every sample day from the
    simulator into ``paths``' store; returns the version published."""
    from painel.procurement.etl import job
    from painel.procurement.etl.landing import export_catalogue
    from painel.procurement.simulator import PncpSimulator
    from painel.procurement.simulator.sample import DAYS, FIRST_DAY, write_sample_world

    world = write_sample_world(root / "world.duckdb", big_items=big_items)
    export_catalogue(world, root / "catalogo")
    with PncpSimulator(world) as sim:
        return str(
            job.run_once(  # crawls, publishes and syncs the findings' workflow
                paths,
                {
                    "base_url": sim.url,
                    "por": "publicacao",
                    "desde": FIRST_DAY.isoformat(),
                    "ate": (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat(),
                    "pace_s": 0.0,
                    "catalogo": str(root / "catalogo"),
                },
                log=lambda _m: None,
            )
        )
