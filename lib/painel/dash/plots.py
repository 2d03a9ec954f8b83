"""plotly, in pt-BR and without its cloud: the configuration every chart of every panel gets.

- the pt-BR locale travels inside each chart's config (plotly.js ``locales``): toolbar texts,
  month and day names, decimal comma and thousands point;
- no "Share chart..." (it uploads the chart to Plotly's cloud: a data-protection leak), no
  lasso or box select, no plotly logo; the toolbar stands vertical at the right so it never
  covers a title on a phone;
- counts start at zero; every chart carries a text alternative for screen readers;
- text is text: plotly renders titles, names, tick labels and hovers as pseudo-HTML (a student
  named ``<a href=...>`` would become a link), so every string of a chart is escaped on its way
  to the browser (:func:`sanitize`), keeping only the few bare tags panels compose with.
"""

from __future__ import annotations

import html
import re
from typing import Any

import plotly.graph_objects as go

from . import fmt

PT_BR = {
    "moduleType": "locale",
    "name": "pt-BR",
    "dictionary": {
        "Autoscale": "Escala automática",
        "Box Select": "Seleção retangular",
        "Click to enter Colorscale title": "Clique para editar o título da escala de cor",
        "Click to enter Component A title": "Clique para editar o título do componente A",
        "Click to enter Component B title": "Clique para editar o título do componente B",
        "Click to enter Component C title": "Clique para editar o título do componente C",
        "Click to enter Plot title": "Clique para editar o título do gráfico",
        "Click to enter X axis title": "Clique para editar o título do eixo X",
        "Click to enter Y axis title": "Clique para editar o título do eixo Y",
        "Click to enter radial axis title": "Clique para editar o título do eixo radial",
        "Compare data on hover": "Comparar dados ao passar o mouse",
        "Double-click on legend to isolate one trace": "Clique duas vezes na legenda para isolar uma série",
        "Double-click to zoom back out": "Clique duas vezes para voltar ao zoom original",
        "Download plot": "Baixar imagem (PNG)",
        "Download plot as a PNG": "Baixar imagem (PNG)",
        "Download plot as a png": "Baixar imagem (PNG)",
        "Download plot as JSON": "Baixar dados do gráfico",
        "Edit in Chart Studio": "Editar no Chart Studio",
        "IE only supports svg.  Changing format to svg.": "O IE só aceita svg. Mudando o formato para svg.",
        "Image download succeeded": "Imagem baixada",
        "JSON download succeeded": "Dados baixados",
        "Lasso Select": "Seleção livre",
        "Orbital rotation": "Rotação orbital",
        "Pan": "Mover",
        "Preparing image - this may take a few seconds": "Preparando a imagem…",
        "Produced with Plotly.js": "Feito com Plotly.js",
        "Reset": "Restaurar",
        "Reset axes": "Restaurar eixos",
        "Reset camera to default": "Restaurar câmera",
        "Reset camera to last save": "Restaurar última câmera salva",
        "Reset view": "Restaurar visão",
        "Reset views": "Restaurar visões",
        "Show closest data on hover": "Mostrar o dado mais próximo",
        "Snapshot succeeded": "Imagem gerada",
        "Sorry, there was a problem downloading your image!": "Não foi possível baixar a imagem.",
        "Sorry, there was a problem downloading your JSON file!": "Não foi possível baixar os dados.",
        "Taking snapshot - this may take a few seconds": "Gerando a imagem…",
        "Toggle Spike Lines": "Linhas de referência",
        "Toggle show closest data on hover": "Mostrar o dado mais próximo",
        "Turntable rotation": "Rotação",
        "Zoom": "Zoom",
        "Zoom in": "Aproximar",
        "Zoom out": "Afastar",
        "close:": "fechamento:",
        "high:": "máxima:",
        "incoming flow count:": "fluxo de entrada:",
        "kde:": "kde:",
        "lat:": "lat.:",
        "lon:": "lon.:",
        "low:": "mínima:",
        "lower fence:": "limite inferior:",
        "max:": "máx.:",
        "mean ± σ:": "média ± σ:",
        "mean:": "média:",
        "median:": "mediana:",
        "min:": "mín.:",
        "new text": "novo texto",
        "open:": "abertura:",
        "outgoing flow count:": "fluxo de saída:",
        "q1:": "q1:",
        "q3:": "q3:",
        "source:": "origem:",
        "target:": "destino:",
        "trace": "série",
        "upper fence:": "limite superior:",
    },
    "format": {
        "days": ["Domingo", "Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado"],
        "shortDays": ["Dom", "Seg", "Ter", "Qua", "Qui", "Sex", "Sáb"],
        "months": fmt.MONTHS,
        "shortMonths": [
            "jan",
            "fev",
            "mar",
            "abr",
            "mai",
            "jun",
            "jul",
            "ago",
            "set",
            "out",
            "nov",
            "dez",
        ],
        "date": "%d/%m/%Y",
        "decimal": ",",
        "thousands": ".",
        "grouping": [3],
        "currency": ["R$ ", ""],
        "year": "%Y",
        "month": "%b %Y",
        "dayMonth": "%-d %b",
        "dayMonthYear": "%-d %b %Y",
    },
}

# What a chart's toolbar keeps: save as PNG, zoom, pan, back to the start.
TOOLBAR = ["toImage", "zoom2d", "pan2d", "zoomIn2d", "zoomOut2d", "resetScale2d"]


# the tags panels may compose with: no attributes, so no link, style or target
_KEPT_TAG = re.compile(r"&lt;(/?(?:br|b|i|em|sup|sub|extra)\s*/?)&gt;", re.I)


def safe_text(text: str) -> str:
    """``text`` as plotly should show it: ``<``, ``>`` and ``&`` escaped (plotly turns the
    entities back into characters), except bare ``<br>``, ``<b>``, ``<i>``, ``<em>``,
    ``<sup>``, ``<sub>`` and ``<extra>``."""
    if not any(c in text for c in "<>&"):
        return text
    return _KEPT_TAG.sub(r"<\1>", html.escape(text, quote=False))


def sanitize(value: Any) -> Any:
    """Every string in a figure's JSON (data and layout) through :func:`safe_text`."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    return value


def config(filename: str = "grafico") -> dict[str, Any]:
    return {
        "locale": "pt-BR",
        "locales": {"pt-BR": PT_BR},
        "displaylogo": False,
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "showLink": False,
        "modeBarButtons": [TOOLBAR],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        "responsive": True,
        "scrollZoom": False,
    }


def style(fig: go.Figure, *, counts: bool = False) -> go.Figure:
    """The house style: pt-BR separators, title at the left, toolbar upright at the right,
    no drag-select; ``counts``: the value axis starts at zero."""
    fig.update_layout(
        separators=",.",
        title_x=0.0,
        title_xanchor="left",
        modebar_orientation="v",
        title_font_size=15,
        dragmode="zoom",
        font_family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    )
    fig.update_xaxes(separatethousands=True)
    fig.update_yaxes(separatethousands=True)
    if counts:
        horizontal = any(getattr(t, "orientation", None) == "h" for t in fig.data)
        (fig.update_xaxes if horizontal else fig.update_yaxes)(rangemode="tozero")
    return fig


class Spec(dict[str, Any]):
    """A chart as plain plotly data (``data``, ``layout``), for charts redrawn on every filter
    change: building a ``go.Figure`` validates every property (~15-30 ms a chart), this costs
    nothing. :func:`spec` gives it painel's house style and plotly's default template, so it
    looks like every other chart."""


_TEMPLATE: dict[str, Any] | None = None


def _template() -> dict[str, Any]:
    global _TEMPLATE
    if _TEMPLATE is None:
        import plotly.io as pio

        template = pio.templates[pio.templates.default].to_plotly_json()
        for axis in ("xaxis", "yaxis"):  # 6.000, not 6000 (pt-BR groups four digits too)
            template["layout"].setdefault(axis, {})["separatethousands"] = True
        _TEMPLATE = template
    return _TEMPLATE


def plain(values: Any) -> list[Any]:
    """A column as JSON-ready values (NaN → None)."""
    out = []
    for v in list(values):
        if hasattr(v, "item"):
            v = v.item()
        out.append(None if isinstance(v, float) and v != v else v)
    return out


def spec(data: list[dict[str, Any]], layout: dict[str, Any], *, counts: bool = False) -> Spec:
    """A :class:`Spec` in the house style (see :func:`style`); ``layout`` wins where it says so."""
    title = layout.get("title", {})
    title = {"text": title} if isinstance(title, str) else dict(title)
    base: dict[str, Any] = {
        "template": _template(),
        "separators": ",.",
        "modebar": {"orientation": "v"},
        "dragmode": "zoom",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
    }
    merged = {
        **base,
        **layout,
        "title": {"x": 0.0, "xanchor": "left", "font": {"size": 15}, **title},
    }
    if counts:
        horizontal = any(t.get("orientation") == "h" for t in data)
        axis = "xaxis" if horizontal else "yaxis"
        merged[axis] = {**merged.get(axis, {}), "rangemode": "tozero"}
    return Spec(data=data, layout=merged)


def alt_text(fig: go.Figure | Spec) -> str:
    """A short text alternative: the title and, per series, how many points and the range."""
    if isinstance(fig, Spec):
        title = fig["layout"].get("title", {}).get("text") or "Gráfico"
        traces: list[Any] = [_Trace(t) for t in fig["data"]]
    else:
        title = fig.layout.title.text or "Gráfico"
        traces = list(fig.data)
    parts = [f"Gráfico: {title}."]
    for trace in traces:
        name = getattr(trace, "name", None) or ""
        values = getattr(trace, "x" if getattr(trace, "orientation", None) == "h" else "y", None)
        numbers = [v for v in (values if values is not None else []) if isinstance(v, (int, float))]
        if numbers:
            parts.append(
                f"{name + ': ' if name else ''}{fmt.number(len(numbers))} valores, de "
                f"{fmt.number(min(numbers), 1)} a {fmt.number(max(numbers), 1)}."
            )
    return " ".join(parts)


class _Trace:
    """Attribute access to a plain trace, for :func:`alt_text`."""

    def __init__(self, trace: dict[str, Any]):
        self.name = trace.get("name")
        self.orientation = trace.get("orientation")
        self.x = trace.get("x")
        self.y = trace.get("y")
