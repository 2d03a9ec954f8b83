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
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

log = logging.getLogger("painel.dash")
GENERIC_ERROR = (
    "Não foi possível atualizar esta visualização. Tente novamente ou avise a equipe de dados."
)


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    spec = json.loads(fig.to_json())
    return {
        "application/vnd.plotly.v1+json": {
            **spec,
            "config": {"displaylogo": False, "locale": "pt-BR"},
        },
        "text/plain": f"<Figure: {fig.layout.title.text or ''}>",
    }


def table_bundle(df: pd.DataFrame, max_rows: int = 500) -> dict[str, Any]:
    shown = df.head(max_rows)
    table = shown.to_html(index=False, border=0, classes="painel-table", na_rep="—", escape=True)
    note = f"<p>Mostrando {len(shown)} de {len(df)} linhas.</p>" if len(df) > max_rows else ""
    return {"text/html": table + note, "text/plain": f"{len(df)} linhas"}


def show(out: widgets.Output, *items: go.Figure | pd.DataFrame | str) -> None:
    outputs = []
    for item in items:
        if isinstance(item, go.Figure):
            data = figure_bundle(item)
        elif isinstance(item, pd.DataFrame):
            data = table_bundle(item)
        else:
            data = {"text/html": str(item), "text/plain": str(item)}
        outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    out.outputs = tuple(outputs)


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
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:
                log.exception("dashboard callback %s failed", fn.__name__)
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


def kpi(label: str, value: str) -> widgets.HTML:
    return widgets.HTML(
        f'<div class="painel-kpi" style="padding:8px 16px;border:1px solid #d0d7de;border-radius:6px">'
        f'<div style="font-size:12px;color:#57606a">{html.escape(label)}</div>'
        f'<div style="font-size:22px;font-weight:600">{html.escape(value)}</div></div>'
    )


def number(value: float | int, decimals: int = 0) -> str:
    """pt-BR number formatting: 1.234.567,8."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
