"""The demo slice's demo: its source extract, its first published version, its notebook fixture."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from ..config import Paths
from . import DATASET, source

JOB = "demo_enrolment"


def prepare(paths: Paths, data: bool = True) -> list[str]:
    """Write the demo extract; with ``data``, run the real ETL unless a version is published."""
    from ..store import Store

    out = [f"demo source extract: {source.generate(paths.sources / 'demo')}"]
    if not data:
        return out
    if Store(paths.store).current_version(DATASET) is not None:
        out.append(f"dataset {DATASET} already published (painel etl run {JOB} refreshes it)")
        return out
    from ..runner import run_job

    result = run_job(paths, JOB, trigger="demo")
    if result.status != "succeeded":
        raise RuntimeError(f"demo: {JOB} failed: {result.error}")
    out.append(f"dataset {DATASET} published by run {result.run_id}")
    return out


def notebook_fixture(paths: Paths, stack: ExitStack) -> dict[str, dict[str, Any]]:
    """A small published ``demo`` dataset for the notebooks under nbval."""
    from ..store import Store
    from . import etl

    source.generate(paths.sources / "demo", months=3, schools_per_regional=2)
    build = Store(paths.store).build(DATASET, etl.TABLES)
    etl.load(build, paths.sources / "demo")
    build.publish()
    return {}
