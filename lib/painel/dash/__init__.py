"""Helpers for dashboard notebooks: who is looking, scoped data, safe widgets.

A dashboard notebook is thin::

    from painel import dash                      # imports (run while the kernel is preheated)
    viewer = dash.current_viewer()               # waits for the request; identity from the server
    ds = dash.open_dataset(viewer, "demo")       # scoped, read-only
    ...compose painel.<domain>.queries / charts with dash.ui widgets...
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..store import NoVersion
from .identity import IdentityError, current_viewer, open_dataset, opstate, store, under_voila

log = logging.getLogger("painel.dash")


def render(build: Callable[[Any], Any]) -> Any:
    """Identify the viewer and return ``build(viewer)``; a pt-BR message instead of a traceback.

    Every page module exposes ``build(viewer) -> widget``; a dashboard notebook is
    ``dash.render(page.build)``.
    """
    import ipywidgets as widgets

    from . import ui

    served = under_voila()  # run by nbval or papermill, failures must raise
    try:
        viewer = current_viewer()
    except IdentityError:
        if not served:
            raise
        log.warning("dashboard opened without a valid identity")
        return widgets.HTML(ui.message("Sessão inválida ou expirada. Entre novamente.", "error"))
    try:
        return build(viewer)
    except NoVersion:
        if not served:
            raise
        return widgets.HTML(ui.message("Os dados deste painel ainda não foram publicados.", "warning"))
    except Exception:  # noqa: BLE001 - never a traceback to the browser
        if not served:
            raise
        log.exception("dashboard page %s failed to build", getattr(build, "__module__", build))
        return widgets.HTML(ui.message(ui.GENERIC_ERROR, "error"))


__all__ = ["IdentityError", "current_viewer", "open_dataset", "opstate", "render", "store"]
