"""Widgets and output helpers that keep dashboards safe and responsive.

- ``show``: replaces an Output's content by assigning ``out.outputs`` (writing with
  ``with out: display(...)`` during the first render can hang Voilà, issues #1428/#1522).
- ``guarded``: a callback wrapper that logs failures server-side and shows a pt-BR message,
  never a traceback, to the browser.
- ``choose``: re-checks a value that came from the browser against the options the server
  offered (a client can set any value over the widget comm channel).
"""

from __future__ import annotations

import functools
import html
import logging
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from ..access import AccessChanged
from . import fmt, plots
from .chart import Chart
from .identity import check_access

log = logging.getLogger("painel.dash")
ACCESS_CHANGED = (
    "Seu acesso a estes dados mudou. Recarregue a página para continuar com o acesso atual."
)
GENERIC_ERROR = (
    "Não foi possível atualizar esta visualização. Tente novamente ou avise a equipe de dados."
)


def table_bundle(df: pd.DataFrame, max_rows: int = 500) -> dict[str, Any]:
    shown = df.head(max_rows)
    table = shown.to_html(index=False, border=0, classes="painel-table", na_rep="—", escape=True)
    note = f"<p>Mostrando {len(shown)} de {len(df)} linhas.</p>" if len(df) > max_rows else ""
    return {"text/html": table + note, "text/plain": f"{len(df)} linhas"}


_EMBEDDED: weakref.WeakKeyDictionary[widgets.Output, list[widgets.Widget]] = (
    weakref.WeakKeyDictionary()
)


def show(out: widgets.Output, *items: go.Figure | plots.Spec | pd.DataFrame | str) -> None:
    """Replace ``out``'s content: charts (each a :class:`Chart`, with painel's pt-BR config and a
    text alternative), small tables, HTML. The charts shown before in ``out`` are closed.

    A chart that changes with a filter is better a :class:`Chart` of its own, whose figure is
    replaced (redrawn in place)."""
    outputs = []
    charts: list[widgets.Widget] = []
    for item in items:
        if isinstance(item, (go.Figure, plots.Spec)):
            chart = Chart(item)
            charts.append(chart)
            data = {
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "model_id": chart.model_id,
                },
                "text/plain": chart.alt,
            }
        elif isinstance(item, pd.DataFrame):
            data = table_bundle(item)
        else:
            data = {"text/html": str(item), "text/plain": str(item)}
        outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    old = _EMBEDDED.pop(out, [])
    out.outputs = tuple(outputs)
    for widget in old:
        widget.close()
    if charts:
        _EMBEDDED[out] = charts


class ClickChart(Chart):
    """A :class:`~painel.dash.chart.Chart` whose bars or points are clickable:
    ``ClickChart(on_click)``; ``chart.figure = fig``; ``on_click(x)`` gets the clicked x,
    checked against the figure the server drew."""

    def __init__(self, on_click: Callable[[Any], Any], filename: str = "grafico"):
        super().__init__(filename=filename, on_click=on_click)


def message(text: str, kind: str = "info", *, retry: bool = False) -> str:
    """A pt-BR message; errors and warnings are announced (``role="alert"``), the rest
    politely (``role="status"``). ``retry``: the page failed as a whole, and reloads itself once."""
    colors = {"info": "#1f4e79", "warning": "#8a5300", "error": "#9b1c1c"}
    role = "alert" if kind in ("error", "warning") else "status"
    extra = ' data-painel-retry="1"' if retry else ""
    return (
        f'<div class="painel-msg painel-msg-{kind}" role="{role}"{extra} '
        f'style="color:{colors.get(kind, "#333")};padding:8px 0">{html.escape(text)}</div>'
    )


def guarded(out: widgets.Output) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A callback wrapper: under ``painel serve`` a failure is logged and the visitor reads a
    pt-BR message; anywhere else (pytest, nbval, JupyterLab) it raises, so it gets fixed."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            from . import tracking

            if args or kwargs:  # a widget event (a fill handed to dash.later has no arguments)
                tracking.interaction(fn.__name__)
            try:
                check_access()  # a revoked grant or a disabled user: nothing more is served
                return fn(*args, **kwargs)
            except AccessChanged:
                show(out, message(ACCESS_CHANGED, "warning"))
                return None
            except Exception:
                if "VOILA_PREHEAT" not in os.environ:
                    raise
                log.exception("dashboard callback %s failed", fn.__name__)
                tracking.track("error", widget=fn.__name__)
                print(f"painel: dashboard callback {fn.__name__} failed", file=sys.stderr)
                show(out, message(GENERIC_ERROR, "error"))
                return None

        return inner

    return wrap


def choose(
    value: Any, options: Sequence[tuple[str, Any]] | Sequence[Any], fallback: Any = None
) -> Any:
    """``value`` if the server offered it, else ``fallback``."""
    allowed = [o[1] if isinstance(o, tuple) else o for o in options]
    return value if value in allowed else fallback


def kpi_html(label: str, value: str, note: str = "") -> str:
    """A KPI card's HTML; ``note`` says how its figure relates to the others (e.g. why parts do
    not add up to a total). Update a card by assigning this to its ``HTML.value``."""
    extra = f'<div class="painel-kpi-note">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="painel-kpi" role="group" aria-label="{html.escape(label)}" '
        f'style="padding:8px 16px;border:1px solid #d0d7de;border-radius:6px;min-width:120px;max-width:260px">'
        f'<div style="font-size:12px;color:#57606a">{html.escape(label)}</div>'
        f'<div style="font-size:22px;font-weight:600">{html.escape(value)}</div>{extra}</div>'
    )


def kpi(label: str, value: str, note: str = "") -> widgets.HTML:
    """A KPI card (see :func:`kpi_html`)."""
    return widgets.HTML(kpi_html(label, value, note))


def kpi_row(cards: Sequence[widgets.Widget]) -> widgets.HBox:
    return widgets.HBox(list(cards), layout=widgets.Layout(gap="12px", flex_flow="row wrap"))


def number(value: float | int, decimals: int = 0) -> str:
    """pt-BR number formatting: 1.234.567,8."""
    return fmt.number(value, decimals)


def data_stamp(manifest: dict[str, Any], source: str = "") -> widgets.HTML:
    """ "Dados de 29/11/2026 05:12 (publicados em 29/11/2026 05:20)": on every panel."""
    extracted = manifest.get("source_extracted_at")
    published = manifest.get("published_at")
    text = f"Dados {source or 'atualizados'} em {fmt.datetime(extracted or published)}"
    if extracted and published:
        text += f" (publicados em {fmt.datetime(published)})"
    return widgets.HTML(f'<p class="painel-stamp" role="status">{html.escape(text)}.</p>')


class Drill(widgets.HBox):
    """Drill-down with a breadcrumb: "Estado › SRE Metropolitana A › E.E. ...".

    ``push(label, value)`` goes one level down (a bar or a table row was clicked); a crumb
    goes back up to its level. ``on_change(handler)``: ``handler(path)`` with the values
    from the top, after every move. The values are the server's own (never the browser's).
    """

    def __init__(self, root: str):
        super().__init__(
            layout=widgets.Layout(gap="4px", flex_flow="row wrap", align_items="center")
        )
        self.add_class("painel-drill")
        self._levels: list[tuple[str, Any]] = [(root, None)]
        self._handlers: list[Callable[[list[Any]], Any]] = []
        self._draw()

    @property
    def path(self) -> list[Any]:
        return [value for _, value in self._levels[1:]]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self._levels]

    def on_change(self, handler: Callable[[list[Any]], Any]) -> None:
        self._handlers.append(handler)

    # a page's memory (painel.dash.memory): the path survives a restart
    def painel_state(self) -> list[list[Any]]:
        return [[label, value] for label, value in self._levels[1:]]

    def painel_restore(self, state: Any) -> None:
        """Go down the saved path again (a state this server signed: the values are ones
        the page itself pushed; the data behind them is still read through the viewer's
        grants)."""
        if not isinstance(state, list) or not all(
            isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) for s in state
        ):
            return
        levels = [(str(label), value) for label, value in state]
        if levels == self._levels[1:]:
            return
        self._levels = [self._levels[0], *levels]
        self._changed()

    def painel_watch(self, callback: Callable[..., Any]) -> None:
        self._handlers.append(callback)

    def push(self, label: str, value: Any) -> None:
        self._levels.append((label, value))
        self._changed()

    def replace(self, label: str, value: Any) -> None:
        """Change the deepest level (a sibling was chosen), or go down one if at the top."""
        if len(self._levels) > 1:
            self._levels[-1] = (label, value)
        else:
            self._levels.append((label, value))
        self._changed()

    def go(self, depth: int) -> None:
        """Back up to level ``depth`` (0: the top)."""
        if 0 <= depth < len(self._levels) - 1:
            del self._levels[depth + 1 :]
            self._changed()

    def _changed(self) -> None:
        self._draw()
        for handler in self._handlers:
            handler(self.path)

    def _draw(self) -> None:
        parts: list[widgets.Widget] = [
            widgets.HTML('<span class="painel-drill-label">Você está em:</span>')
        ]
        last = len(self._levels) - 1
        for depth, (label, _) in enumerate(self._levels):
            if depth:
                parts.append(widgets.HTML('<span aria-hidden="true">›</span>'))
            if depth == last:
                parts.append(
                    widgets.HTML(f'<strong aria-current="location">{html.escape(label)}</strong>')
                )
            else:
                crumb = widgets.Button(
                    description=label,
                    tooltip=f"Voltar para {label}",
                    layout=widgets.Layout(width="auto"),
                )
                crumb.add_class("painel-crumb")
                crumb.on_click(lambda _b, d=depth: self.go(d))
                parts.append(crumb)
        old: tuple[Any, ...] = tuple(getattr(self, "children", ()))
        self.children = parts
        for widget in old:
            widget.close()
