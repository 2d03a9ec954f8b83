"""Usage events of a served page (:mod:`painel.usage`): a page view when a panel is built,
an interaction per widget event, an export per file, an error per failure. Only under
``painel serve``: JupyterLab, nbval and papermill are not people using the portal."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import usage
from ..config import Paths
from .identity import page_viewer, under_voila


def panel_name() -> str:
    """The served notebook's name (``compras_alertas``), from the request Voilà hands the kernel."""
    script = os.environ.get("SCRIPT_NAME", "")
    return Path(script).stem if script.endswith(".ipynb") else ""


def track(
    event: str, *, widget: str = "", linhas: int | None = None, ms: float | None = None
) -> None:
    """Record ``event`` for this page's viewer (nothing outside ``painel serve``; never raises)."""
    if _quiet or not under_voila():
        return
    try:
        viewer = page_viewer()
        if viewer is None:
            return
        usage.track(
            Paths.from_env().home,
            event,
            usage.Who.of(viewer),
            painel=panel_name(),
            widget=widget,
            linhas=linhas,
            ms=ms,
        )
    except Exception:  # noqa: BLE001 - monitoring never breaks a page
        pass


def interaction(widget: Any) -> None:
    track("interaction", widget=str(widget))


_quiet = False


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Record nothing meanwhile: what the page does by itself (setting a restored state)."""
    global _quiet
    before, _quiet = _quiet, True
    try:
        yield
    finally:
        _quiet = before
