"""Helpers for dashboard notebooks: who is looking, scoped data, safe widgets.

A dashboard notebook is thin::

    from painel import dash                      # imports (run while the kernel is preheated)
    viewer = dash.current_viewer()               # waits for the request; identity from the server
    ds = dash.open_dataset(viewer, "school")     # scoped, read-only
    ...compose painel.<domain>.queries / charts with dash.ui widgets...
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..store import NoVersion
from ..wire import RENDER_TIMEOUT_ENV
from .identity import (
    IdentityError,
    current_viewer,
    open_dataset,
    opstate,
    store,
    under_voila,
    view_as,
)

log = logging.getLogger("painel.dash")


def _served() -> bool:
    """Whether this kernel serves a page; if so, no traceback of it reaches the browser.

    Checked when this module is imported and again when a page starts (:func:`warm_up`,
    :func:`render`): a kernel forked from a warm parent (:mod:`painel.forkkernel`) finds
    this module imported already, by a process that served nothing."""
    if not under_voila():
        return False
    from . import tracebacks

    tracebacks.install()
    return True


_served()


class BuildTimeout(Exception):
    """The page took longer than ``PAINEL_RENDER_TIMEOUT`` seconds to build."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`BuildTimeout` in this (main) thread after ``seconds``; 0 = no deadline."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise BuildTimeout(f"page build exceeded {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _render_timeout() -> float:
    try:
        return max(float(os.environ.get(RENDER_TIMEOUT_ENV, "0")), 0.0)
    except ValueError:
        return 0.0


# What a served page's build left for after its HTML is sent (see ``later``); None: not in one.
_later: list[Callable[[], Any]] | None = None


def later(fill: Callable[[], Any]) -> None:
    """Run ``fill`` once the page is on its way to the browser.

    A page's build returns its widgets (filters, empty charts and tables) at once and hands
    the filling-in (queries, figures, rows) to ``later``. Under ``painel serve`` the kernel
    runs it right after the build's cell ends: Voilà sends the page's HTML meanwhile, and the
    browser loads its scripts and connects to the kernel while the kernel fills the page in
    (the values arrive as widget updates, or with the widgets' state if the browser asks
    after). Anywhere else (pytest, nbval, JupyterLab, a callback) ``fill`` runs now, so a
    built page is a filled page.

    ``fill`` should be a :func:`ui.guarded` callback, so a failure shows where it happened;
    anything else it raises replaces the page with a pt-BR message (and is logged).
    """
    if _later is None:
        fill()
    else:
        _later.append(fill)


def _fill_later(fills: list[Callable[[], Any]], box: Any) -> None:
    """Run what a served page's build left for later (on the kernel's event loop)."""
    import ipywidgets as widgets

    from ..access import AccessChanged
    from . import ui

    try:
        with deadline(_render_timeout()):
            for fill in fills:
                fill()
    except AccessChanged:
        box.children = (widgets.HTML(ui.message(ui.ACCESS_CHANGED, "warning")),)
    except Exception:
        log.exception("dashboard page failed to fill in")
        print("painel: dashboard page failed to fill in", file=sys.stderr)
        box.children = (widgets.HTML(ui.message(ui.GENERIC_ERROR, "error", retry=True)),)


def _schedule_fill(fills: list[Callable[[], Any]], page: Any) -> Any:
    """The page, in a box its fill can replace on failure; the fill on the kernel's loop, to
    run after the current cell's reply (no loop: now)."""
    import asyncio

    import ipywidgets as widgets

    box = widgets.VBox([page])
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        _fill_later(fills, box)
    else:
        loop.call_soon(_fill_later, fills, box)
    return box


def render(build: Callable[[Any], Any]) -> Any:
    """Identify the viewer and return ``build(viewer)``; a pt-BR message instead of a traceback.

    Every page module exposes ``build(viewer) -> widget``; a dashboard notebook is
    ``dash.render(page.build)``. Under ``painel serve`` the cell that calls this waits for
    the visitor without a timeout (a preheated kernel may wait hours); the build itself has
    ``PAINEL_RENDER_TIMEOUT`` seconds, then the visitor gets a message and the page retries.
    What the build hands to :func:`later` runs after the page is sent, with the same limit.
    """
    global _later
    import ipywidgets as widgets

    from . import ui

    served = _served()  # run by nbval or papermill, failures must raise
    try:
        viewer = current_viewer()
    except IdentityError:
        if not served:
            raise
        log.warning("dashboard opened without a valid identity")
        return widgets.HTML(ui.message("Sessão inválida ou expirada. Entre novamente.", "error"))
    from . import tracking

    started = time.perf_counter()
    try:
        with deadline(_render_timeout() if served else 0):
            _later = [] if served else None
            try:
                page = build(viewer)
            finally:
                fills, _later = _later or [], None
        tracking.track("page_view", ms=1000 * (time.perf_counter() - started))
        if served:  # filters and position survive the kernel (paused when idle, or died)
            from . import memory

            page, _ = memory.attach(page, fills)
        return _schedule_fill(fills, page) if fills else page
    except NoVersion:
        if not served:
            raise
        return widgets.HTML(
            ui.message("Os dados deste painel ainda não foram publicados.", "warning")
        )
    except Exception:
        if not served:
            raise
        log.exception("dashboard page %s failed to build", getattr(build, "__module__", build))
        tracking.track("error", widget="página", ms=1000 * (time.perf_counter() - started))
        return widgets.HTML(ui.message(ui.GENERIC_ERROR, "error", retry=True))


__all__ = [
    "BuildTimeout",
    "IdentityError",
    "current_viewer",
    "deadline",
    "open_dataset",
    "opstate",
    "later",
    "render",
    "store",
    "view_as",
    "warm_up",
]


def warm_up() -> None:
    """Pay first-use costs (DuckDB, pandas conversion, plotly validators, widgets) up front.

    Called by dashboard notebooks in their imports cell, which a preheated kernel runs before
    any request arrives; the request then finds these paths already hot. Every widget made
    here is closed again (layouts and styles included): a widget left open would be sent to
    the visitor's browser, which builds a model for each. Once per process: a kernel forked
    from the warm parent of ``painel serve`` finds it done (and the pages it made shared).
    """
    global _warmed
    from ipywidgets.widgets import widget as widget_module

    _served()
    if _warmed:  # by the warm parent this kernel was forked from (painel.forkkernel)
        return
    live = getattr(widget_module, "_instances", None)
    before = set(live) if live is not None else set()
    try:
        _warm_up_paths()
    finally:
        if live is not None:
            for model_id in set(live) - before:
                stray = live.get(model_id)
                if stray is not None:
                    stray.close()
    _warmed = True


_warmed = False


def _warm_up_paths() -> None:
    import duckdb
    import ipywidgets as widgets
    import plotly.graph_objects as go

    from . import ui

    con = duckdb.connect(":memory:")
    con.execute("ATTACH ':memory:' AS warm")
    df = con.execute(
        "SELECT range AS x, range * 2 AS y, 'a' AS s, DATE '2026-01-01' + range::INT AS d FROM range(10)"
    ).df()
    con.close()
    fig = go.Figure(
        go.Scatter(x=df["d"], y=df["y"], mode="lines+markers", name="x", hovertemplate="%{y}")
    )
    fig.update_layout(
        title="x",
        xaxis_title="x",
        yaxis_title="y",
        legend_title="x",
        separators=",.",
        margin={"l": 1},
        height=10,
        xaxis_tickformat="%m/%Y",
    )
    fig.add_annotation(text="x", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    out = widgets.Output()
    ui.show(out, fig, df, ui.message("x"))
    from . import fmt
    from .download import Download
    from .table import Column, Table

    table = Table(
        [Column("s", "s"), Column("y", "y", kind="decimal"), Column("d", "d", kind="date")]
    )
    table.frame = df
    table.sort, table.search = "y", "a"
    chart = ui.ClickChart(lambda x: None)
    chart.figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    fmt.week("2026-W48"), fmt.datetime("2026-01-01T00:00:00+00:00")
    from . import plots

    ui.show(out, plots.spec([{"type": "bar", "x": ["a"], "y": [1]}], {"title": "x"}, counts=True))
    parts = [
        widgets.HTML("x"),
        widgets.Dropdown(options=[("a", 1)], value=1),
        out,
        table,
        chart,
        Download("x", lambda: ("x", b"", 0)),
        ui.kpi("x", "1", "x"),
        ui.Drill("x"),
    ]
    widgets.VBox(parts)  # closed by warm_up, with every other widget made here
