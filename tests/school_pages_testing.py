"""What the tests of the school panels share (tests/unit/test_school_pages*.py): the viewers,
the store with the tiny dump published, and how a panel is built and read outside a server
(no kernel)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import openpyxl
import pytest

import school_tiny as tiny
from painel.access import Grant, Viewer

CENTRAL = Viewer("central", "school_central", frozenset({Grant.parse("school:*")}))
SRE_METRO = Viewer("sre.metro", "school_sre", frozenset({Grant.parse("school:sre:22")}))
ESCOLA_JF = Viewer(
    "escola.jf", "school_director", frozenset({Grant.parse("school:school:31000021")})
)
NOBODY = Viewer("ninguem", "school_sre", frozenset())


def home_fixture(publish: Callable[[Path], Any] = tiny.publish) -> Any:
    """A module-scoped ``home`` fixture: ``PAINEL_HOME`` set to a new folder and the
    ``school`` dataset published there by ``publish(home)`` (default: the tiny dump).
    A test module names it: ``home = home_fixture()``."""

    @pytest.fixture(scope="module")
    def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
        mp = pytest.MonkeyPatch()
        home = tmp_path_factory.mktemp("school") / "home"
        mp.setenv("PAINEL_HOME", str(home))
        publish(home)
        yield home
        mp.undo()

    return home


def text(w: widgets.Widget) -> str:
    if isinstance(w, widgets.HTML):
        return str(w.value)
    return " ".join(text(c) for c in getattr(w, "children", ()))


def panel(module: object, viewer: Viewer) -> object:
    """A panel object of a page module (its class is the one ``build`` was made from)."""
    from painel.dash.identity import open_dataset

    cls = module.build.__closure__[0].cell_contents  # type: ignore[attr-defined]
    page = cls(viewer, open_dataset(viewer, "school"))
    page.watch(page.refresh)
    page.refresh()
    return page


def xlsx_rows(download: object) -> list[tuple]:
    name, data, rows = download._make()  # type: ignore[attr-defined]
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def column(table: object, key: str) -> dict:
    """A unit table's column: unit label -> value."""
    frame = table.frame  # type: ignore[attr-defined]
    return dict(zip(frame["label"], frame[key], strict=True))
