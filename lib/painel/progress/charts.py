"""Figures of the progress dashboard (DataFrame -> plotly figure), testable without a kernel."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..dash import fmt, plots
from .queries import BEHIND, NOT_STARTED, ON_TRACK

COLORS = {ON_TRACK: "#2e7d32", BEHIND: "#c62828", NOT_STARTED: "#9e9e9e"}


def _layout(
    fig: go.Figure, title: str, y_title: str, height: int = 360, counts: bool = False
) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 60, "r": 40, "t": 60, "b": 40},
        yaxis_title=y_title,
        legend_title="",
    )
    return plots.style(fig, counts=counts)


def _weeks(values: pd.Series) -> list[str]:
    """ISO weeks as axis labels: "Sem. 48 · 23/11–29/11"."""
    return [fmt.week(str(w), short=True) for w in values]


def _empty(fig: go.Figure, df: pd.DataFrame) -> go.Figure:
    if df.empty:
        fig.add_annotation(
            text="Sem dados para esta seleção",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
    return fig


EMPTY_NOTE = {
    "text": "Sem dados para esta seleção",
    "showarrow": False,
    "x": 0.5,
    "y": 0.5,
    "xref": "paper",
    "yref": "paper",
}


def overall_chart(df: pd.DataFrame, selected_week: str | None, title: str) -> plots.Spec:
    """Average progress over the weeks (plain plotly data: redrawn on every filter change)."""
    layout: dict[str, object] = {
        "title": title,
        "height": 360,
        "margin": {"l": 60, "r": 40, "t": 60, "b": 40},
        "yaxis": {"title": {"text": "Progresso médio"}, "range": [0, 100], "ticksuffix": "%"},
        "xaxis": {"title": {"text": "Semana"}, "type": "category"},
        "legend": {"title": {"text": ""}},
    }
    if selected_week is not None and selected_week in set(df["week"]):
        layout["shapes"] = [
            {
                "type": "line",
                "x0": fmt.week(selected_week, short=True),
                "x1": fmt.week(selected_week, short=True),
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"dash": "dot", "color": "#888"},
            }
        ]
    if df.empty:
        layout["annotations"] = [EMPTY_NOTE]
    trace = {
        "type": "scatter",
        "x": _weeks(df["week"]),
        "y": plots.plain(df["avg_progress"]),
        "mode": "lines+markers",
        "name": "Progresso médio",
        "customdata": [fmt.number(n) for n in df["students"]],
        "hovertemplate": "%{x}: %{y:.1f}% (%{customdata} alunos)<extra></extra>",
    }
    return plots.spec([trace], layout)


def class_chart(df: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure()
    for name, part in df.groupby("class_name", sort=True):
        fig.add_trace(
            go.Scatter(
                x=_weeks(part["week"]),
                y=part["avg_progress"],
                mode="lines+markers",
                name=str(name),
                hovertemplate="%{x}: %{y:.1f}%<extra>" + str(name) + "</extra>",
            )
        )
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    fig.update_xaxes(
        title="Semana",
        type="category",
        categoryorder="array",
        categoryarray=_weeks(pd.Series(sorted(df["week"].unique()))),
    )
    return _empty(_layout(fig, title, "Progresso médio"), df)


def groups_chart(df: pd.DataFrame, title: str) -> plots.Spec:
    """Students per situation (plain plotly data: redrawn on every filter change)."""
    layout: dict[str, object] = {
        "title": title,
        "height": 300,
        "margin": {"l": 60, "r": 40, "t": 60, "b": 40},
        "yaxis": {"title": {"text": "Alunos"}},
        "xaxis": {"title": {"text": ""}},
        "legend": {"title": {"text": ""}},
    }
    if df[df["students"] > 0].empty:
        layout["annotations"] = [EMPTY_NOTE]
    trace = {
        "type": "bar",
        "x": plots.plain(df["situation"]),
        "y": plots.plain(df["students"]),
        "marker": {"color": [COLORS.get(s, "#555") for s in df["situation"]]},
        "text": [fmt.number(n) for n in df["students"]],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{text} alunos<extra></extra>",
    }
    return plots.spec([trace], layout, counts=True)


def journey_chart(df: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure()
    for name, part in df.groupby(["position", "product_name"], sort=True):
        label = str(name[1])
        fig.add_trace(
            go.Scatter(
                x=_weeks(part["week"]),
                y=part["progress_pct"],
                mode="lines+markers",
                name=label,
                hovertemplate="%{x}: %{y:.1f}%<extra>" + label + "</extra>",
            )
        )
    fig.update_yaxes(range=[0, 105], ticksuffix="%")
    fig.update_xaxes(
        title="Semana",
        type="category",
        categoryorder="array",
        categoryarray=_weeks(pd.Series(sorted(df["week"].unique()))),
    )
    return _empty(_layout(fig, title, "Progresso no curso"), df)
