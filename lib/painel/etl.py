"""Helpers for ETL notebooks (import as ``from painel import etl``)."""

from __future__ import annotations

import os
from pathlib import Path

from .config import Paths
from .runctx import RunContext
from .store import Build, Store
from .wire import SCRATCH_STORE_ENV


def paths() -> Paths:
    return Paths.from_env()


def store() -> Store:
    """The store ETL notebooks build into: the published one, or under ``painel lab`` a
    scratch store (``PAINEL_SCRATCH_STORE``), so trying a job never changes what users see."""
    scratch = os.environ.get(SCRATCH_STORE_ENV)
    return Store(scratch) if scratch else Store(paths().store)


def build(dataset: str, *, carry_over: bool = False) -> Build:
    """A new version of ``dataset`` with the table declaration its domain makes (painel.domain)."""
    from .domain import dataset_tables

    return store().build(dataset, dataset_tables(dataset), carry_over=carry_over)


def data_path(path: str | Path) -> Path:
    """``path`` as given when absolute, else under the data directory (``PAINEL_HOME``)."""
    p = Path(path)
    return p if p.is_absolute() else paths().home / p


def run_context() -> RunContext:
    return RunContext.from_env()
