"""The landing page's list of panels: roles checked, in the order the notebooks ask for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painel.web.catalog import Catalog, CatalogError, read_dashboard
from painel_testing import REPO


def _nb(root: Path, name: str, **painel: object) -> Path:
    path = root / name
    path.write_text(json.dumps({"cells": [], "metadata": {"painel": painel}}), encoding="utf-8")
    return path


def test_panels_are_listed_by_order_then_title(tmp_path: Path) -> None:
    _nb(tmp_path, "b.ipynb", title="Beta", roles=["admin"])
    _nb(tmp_path, "z.ipynb", title="Zeta", roles=["admin"], order=1)
    _nb(tmp_path, "a.ipynb", title="Alfa", roles=["admin"])
    assert [d.title for d in Catalog(tmp_path).dashboards()] == ["Zeta", "Alfa", "Beta"]


def test_an_order_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    path = _nb(tmp_path, "x.ipynb", title="X", roles=["admin"], order="primeiro")
    with pytest.raises(CatalogError, match="x.ipynb: metadata 'order' must be a whole number"):
        read_dashboard(tmp_path, path)


def test_school_panels_start_with_the_overview() -> None:
    titles = [
        d.title
        for d in Catalog(REPO / "notebooks" / "dashboards").dashboards()
        if d.path.startswith("rede_")
    ]
    assert titles[0] == "Visão Geral da Rede" and titles[-1] == "Ficha do Estudante"
    assert len(titles) == 12
