"""What opening a page costs the visitor (issue 8, click to usable).

Voilà's bundle loads with the first cell, not after the last: a preheated kernel has run that
cell already, so the browser loads and runs the bundle while the kernel builds the page for
its visitor. One small dashboard (a single widget) keeps the kernels cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from painel_testing import (
    Server,
    copy_project,
    login,
    painel,
    render,
    start_server,
)

pytestmark = [pytest.mark.timeout(300)]

NOTEBOOK = "piso.ipynb"


def one_widget_project(tmp: Path) -> Path:
    project = copy_project(tmp / "proj")
    dashboards = project / "notebooks" / "dashboards"
    for other in dashboards.glob("*.ipynb"):
        other.unlink()
    cells = [
        "from painel import dash\nimport ipywidgets as w",
        "dash.render(lambda v: w.HTML('piso ok'))",
    ]
    (dashboards / NOTEBOOK).write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "execution_count": None,
                        "outputs": [],
                        "source": c,
                    }
                    for c in cells
                ],
                "metadata": {
                    "kernelspec": {
                        "name": "python3",
                        "display_name": "Python 3",
                        "language": "python",
                    },
                    "painel": {"title": "Piso", "roles": ["admin"]},
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        ),
        encoding="utf-8",
    )
    return project


def serve(tmp: Path) -> Server:
    home = tmp / "home"
    home.mkdir()
    project = one_widget_project(tmp)
    painel(home, "demo", "prepare", "--no-data", project=project)
    return start_server(home, project=project)


@pytest.fixture(scope="module")
def one_widget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve(tmp_path_factory.mktemp("page-open"))
    try:
        yield server
    finally:
        server.stop()


def test_voilas_bundle_comes_with_the_first_cell_and_only_once(one_widget: Server) -> None:
    s = login(one_widget, "admin", "demo-admin")
    r, _ = render(s, one_widget, NOTEBOOK)
    page = r.text
    bundle = re.findall(r'<script src="[^"]*/voila\.js"></script>', page)
    assert len(bundle) == 1, bundle
    config = page.index('id="jupyter-config-data"')
    at = page.index(bundle[0])
    # after the page config (the bundle's modules read it once), before any cell's output
    assert config < at < page.index('cell-index="1"'), (config, at)
