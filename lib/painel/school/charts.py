"""Figures of the school panels (DataFrame -> plain plotly spec), testable without a kernel.

Charts are :class:`painel.dash.plots.Spec` (plain data, redrawn on every filter change);
the house style gives pt-BR separators. Bars of units are horizontal, named by the unit
(a click on one drills down to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..dash import fmt, plots
from . import contract, queries

BLUE = "#1f4e79"
PALETTE = ["#1f4e79", "#2e7d32", "#c77c02", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#9e9e9e"]
EMPTY = {
    "text": "Sem dados para esta seleção",
    "showarrow": False,
    "x": 0.5,
    "y": 0.5,
    "xref": "paper",
    "yref": "paper",
    "font": {"size": 14, "color": "#555"},
}


def unit_axis(labels: Any, limit: int = 26) -> dict[str, Any]:
    """The category axis of horizontal bars: long names shortened on the axis (a phone keeps
    room for the bars); the bar itself, its hover and a click keep the whole name."""
    names = [str(v) for v in plots.plain(labels)]
    short = [n if len(n) <= limit else n[: limit - 1].rstrip() + "…" for n in names]
    axis: dict[str, Any] = {"automargin": True, "type": "category"}
    if short != names:
        axis.update(tickmode="array", tickvals=names, ticktext=short)
    return axis


def _height(n: int, per: int = 26, low: int = 260, high: int = 1400) -> int:
    return max(low, min(high, 90 + per * n))


def bars_by_unit(
    df: pd.DataFrame,
    value: str,
    *,
    title: str,
    axis: str,
    percent: bool = False,
    decimals: int = 0,
    color: str = BLUE,
    lowest_first: bool = False,
) -> plots.Spec:
    """One horizontal bar per unit (``label``), largest first (``lowest_first``: the smallest
    on top, a ranking of what is behind); values in pt-BR."""
    data = df[["label", value]].copy() if not df.empty else pd.DataFrame(columns=["label", value])
    data[value] = pd.to_numeric(data[value], errors="coerce").fillna(0)
    data = data.sort_values(value, ascending=True)
    text = [fmt.percent(v, 1) if percent else fmt.number(v, decimals) for v in data[value].tolist()]
    layout: dict[str, Any] = {
        "title": title,
        "height": _height(len(data)),
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": {"title": {"text": axis}, **({"ticksuffix": "%"} if percent else {})},
        "yaxis": unit_axis(data["label"]),
        "showlegend": False,
    }
    if lowest_first:
        layout["yaxis"]["autorange"] = "reversed"
    if data.empty:
        layout["annotations"] = [EMPTY]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": plots.plain(data[value]),
        "y": plots.plain(data["label"]),
        "text": text,
        "textposition": "auto",
        "textangle": 0,
        "marker": {"color": color},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    return plots.spec([trace], layout, counts=not percent)


def stacked_by_unit(
    df: pd.DataFrame,
    series: Sequence[tuple[str, str]],
    *,
    title: str,
    axis: str,
    percent: bool = False,
) -> plots.Spec:
    """Horizontal stacked bars per unit: ``series`` = (column, legend name)."""
    data = df.copy() if not df.empty else pd.DataFrame(columns=["label", *[c for c, _ in series]])
    cols = [c for c, _ in series]
    for c in cols:
        data[c] = pd.to_numeric(data[c], errors="coerce").fillna(0)
    total = data[cols].sum(axis=1) if len(data) else pd.Series(dtype=float)
    data = data.assign(_total=total).sort_values("_total", ascending=True)
    traces = []
    for i, (col, name) in enumerate(series):
        values = data[col]
        if percent:
            values = (100 * values / data["_total"].where(data["_total"] > 0)).fillna(0)
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "x": plots.plain(values),
                "y": plots.plain(data["label"]),
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": f"%{{y}} — {name}: %{{x:,.1f}}{'%' if percent else ''}<extra></extra>",
            }
        )
    layout: dict[str, Any] = {
        "title": title,
        "barmode": "stack",
        "height": _height(len(data)),
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": {
            "title": {"text": axis},
            **({"ticksuffix": "%", "range": [0, 100]} if percent else {}),
        },
        "yaxis": unit_axis(data["label"]),
        "legend": {"orientation": "h", "y": -0.15},
    }
    if data.empty:
        layout["annotations"] = [EMPTY]
    return plots.spec(traces, layout, counts=not percent)


def trend(
    df: pd.DataFrame,
    x: str,
    series: Sequence[tuple[str, str]],
    *,
    title: str,
    axis: str,
    percent: bool = False,
) -> plots.Spec:
    """Lines over the days (``x`` holds dates): ``series`` = (column, legend name)."""
    traces = []
    for i, (col, name) in enumerate(series):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [d.isoformat() if hasattr(d, "isoformat") else d for d in df[x]]
                if len(df)
                else [],
                "y": plots.plain(df[col]) if len(df) else [],
                "line": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": f"%{{x|%d/%m/%Y}} — {name}: %{{y:,.{1 if percent else 0}f}}"
                + ("%" if percent else "")
                + "<extra></extra>",
            }
        )
    layout: dict[str, Any] = {
        "title": title,
        "height": 320,
        "margin": {"l": 60, "r": 40, "t": 56, "b": 40},
        "xaxis": {"title": {"text": "Dia"}, "tickformat": "%d/%m", "type": "date"},
        "yaxis": {"title": {"text": axis}, **({"ticksuffix": "%"} if percent else {})},
        "legend": {"orientation": "h", "y": -0.2},
    }
    if df.empty:
        layout["annotations"] = [EMPTY]
    return plots.spec(traces, layout, counts=True)


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    axis: str,
    percent: bool = False,
    horizontal: bool = False,
) -> plots.Spec:
    """Bars of categories (etapas, bimestres, rules ...), in the order given."""
    text = [fmt.percent(v, 1) if percent else fmt.number(v) for v in values]
    trace: dict[str, Any] = {
        "type": "bar",
        "text": text,
        "textposition": "auto",
        "textangle": 0,
        "marker": {"color": BLUE},
    }
    if horizontal:
        trace.update(orientation="h", x=plots.plain(values), y=list(labels))
        trace["hovertemplate"] = "%{y}: %{text}<extra></extra>"
    else:
        trace.update(x=list(labels), y=plots.plain(values))
        trace["hovertemplate"] = "%{x}: %{text}<extra></extra>"
    value_axis = {"title": {"text": axis}, **({"ticksuffix": "%"} if percent else {})}
    cat_axis = unit_axis(labels) if horizontal else {"automargin": True, "type": "category"}
    layout: dict[str, Any] = {
        "title": title,
        "height": _height(len(labels)) if horizontal else 340,
        "margin": {"l": 10 if horizontal else 60, "r": 40, "t": 56, "b": 60},
        "xaxis": value_axis if horizontal else cat_axis,
        "yaxis": cat_axis if horizontal else value_axis,
        "showlegend": False,
    }
    if not len(labels):
        layout["annotations"] = [EMPTY]
    return plots.spec([trace], layout, counts=not percent)


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    axis: str,
    percent: bool = False,
) -> plots.Spec:
    """Vertical bars of categories (bimestres ...), one bar per series side by side."""
    traces = []
    for i, (name, values) in enumerate(series):
        text = [fmt.percent(v, 1) if percent else fmt.number(v) for v in values]
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": list(labels),
                "y": plots.plain(values),
                "text": text,
                "textposition": "auto",
                "textangle": 0,
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": f"%{{x}} — {name}: %{{text}}<extra></extra>",
            }
        )
    value_axis: dict[str, Any] = {"title": {"text": axis}}
    if percent:
        value_axis.update(ticksuffix="%", range=[0, 100])
    layout: dict[str, Any] = {
        "title": title,
        "barmode": "group",
        "height": 340,
        "margin": {"l": 60, "r": 40, "t": 56, "b": 60},
        "xaxis": {"automargin": True, "type": "category"},
        "yaxis": value_axis,
        "legend": {"orientation": "h", "y": -0.2},
    }
    if not len(labels):
        layout["annotations"] = [EMPTY]
    return plots.spec(traces, layout, counts=not percent)


def donut(labels: Sequence[str], values: Sequence[float], *, title: str) -> plots.Spec:
    trace = {
        "type": "pie",
        "hole": 0.5,
        "labels": list(labels),
        "values": plots.plain(values),
        "sort": False,
        "marker": {"colors": PALETTE[: len(labels)]},
        "texttemplate": "%{percent:.1%}",
        # inside the slices: plotly's "auto" placement (outside when a share does not fit)
        # with the legend below costs ~130 ms more per redraw in chromium (measured)
        "textposition": "inside",
        "hovertemplate": "%{label}: %{value:,} (%{percent:.1%})<extra></extra>",
    }
    layout: dict[str, Any] = {
        "title": title,
        "height": 320,
        "margin": {"l": 20, "r": 20, "t": 56, "b": 20},
        "legend": {"orientation": "h", "y": -0.1},
        "uniformtext": {"minsize": 10, "mode": "hide"},  # a sliver's share is in its hover
    }
    if not sum(v or 0 for v in values):
        layout["annotations"] = [EMPTY]
    return plots.spec([trace], layout)


def heatmap(
    df: pd.DataFrame, x: str, y: str, z: str, *, title: str, x_title: str, y_title: str
) -> plots.Spec:
    """A grid (e.g. component x bimestre) coloured by ``z`` (a percentage)."""
    if df.empty:
        grid = pd.DataFrame()
    else:
        grid = df.pivot_table(index=y, columns=x, values=z, aggfunc="first")
    zs = [[None if pd.isna(v) else round(float(v), 1) for v in row] for row in grid.to_numpy()]
    trace = {
        "type": "heatmap",
        "x": [str(c) for c in grid.columns],
        "y": [str(i) for i in grid.index],
        "z": zs,
        "text": [[fmt.percent(v, 1) if v is not None else "—" for v in row] for row in zs],
        "texttemplate": "%{text}",
        "colorscale": [[0, "#c62828"], [0.6, "#fff59d"], [1, "#2e7d32"]],
        "zmin": 0,
        "zmax": 100,
        "hovertemplate": "%{y} — %{x}: %{text}<extra></extra>",
        "colorbar": {"ticksuffix": "%"},
    }
    layout: dict[str, Any] = {
        "title": title,
        "height": _height(len(grid.index), per=30, low=300),
        "margin": {"l": 10, "r": 20, "t": 56, "b": 50},
        "xaxis": {"title": {"text": x_title}, "type": "category"},
        "yaxis": {"title": {"text": y_title}, "automargin": True, "type": "category"},
    }
    if df.empty:
        layout["annotations"] = [EMPTY]
    return plots.spec([trace], layout)


NO_AGE = "Sem data de nascimento"


def count_heatmap(df: pd.DataFrame, *, title: str) -> plots.Spec:
    """The age × etapa matrix (``etapa, idade, n``; idade None when the birth date is
    missing): etapas down (in etapa order), ages across (then "sem data"), cells coloured and
    labelled by count; the hover says the etapa's expected age."""
    order = contract.ETAPA_ORDER
    etapas = sorted({int(e) for e in df["etapa"]}, key=lambda e: order.get(e, 999))
    ages = sorted({int(a) for a in df["idade"].dropna()})
    cols: list[Any] = [*ages, *([None] if df["idade"].isna().any() else [])]
    names = [f"{a} anos" if a is not None else NO_AGE for a in cols]
    cell = {
        (int(e), None if pd.isna(a) else int(a)): int(n)
        for e, a, n in df[["etapa", "idade", "n"]].itertuples(index=False)
    }
    z = [[cell.get((e, a)) for a in cols] for e in etapas]
    expected = [
        [
            f"idade esperada {contract.IDADE_ESPERADA[e]} anos"
            if e in contract.IDADE_ESPERADA
            else "sem idade esperada"
            for _ in cols
        ]
        for e in etapas
    ]
    trace = {
        "type": "heatmap",
        "x": names,
        "y": [queries.etapa_label(e) for e in etapas],
        "z": z,
        "text": [[fmt.number(v) if v is not None else "" for v in row] for row in z],
        "texttemplate": "%{text}",
        "customdata": expected,
        "colorscale": [[0, "#e3f2fd"], [1, "#1f4e79"]],
        "hovertemplate": "%{y}, %{x}: %{text} matrículas (%{customdata})<extra></extra>",
        "colorbar": {"title": {"text": "Matrículas"}},
    }
    layout: dict[str, Any] = {
        "title": title,
        "height": max(300, min(1000, 120 + 34 * len(etapas))),
        "margin": {"l": 10, "r": 20, "t": 56, "b": 50},
        "xaxis": {"title": {"text": "Idade"}, "type": "category"},
        "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"},
    }
    if df.empty:
        layout["annotations"] = [EMPTY]
    return plots.spec([trace], layout)
