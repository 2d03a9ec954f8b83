"""Helpers for ETL notebooks (import as ``from painel import etl``)."""

from __future__ import annotations

from pathlib import Path

from .config import Paths
from .runctx import RunContext
from .store import Build, Store


def paths() -> Paths:
    return Paths.from_env()


def store() -> Store:
    return Store(paths().store)


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
