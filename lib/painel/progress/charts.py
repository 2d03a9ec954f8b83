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


def overall_chart(df: pd.DataFrame, selected_week: str | None, title: str) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=_weeks(df["week"]),
            y=df["avg_progress"],
            mode="lines+markers",
            name="Progresso médio",
            customdata=[fmt.number(n) for n in df["students"]],
            hovertemplate="%{x}: %{y:.1f}% (%{customdata} alunos)<extra></extra>",
        )
    )
    if selected_week is not None and selected_week in set(df["week"]):
        fig.add_vline(x=fmt.week(selected_week, short=True), line_dash="dot", line_color="#888")
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    fig.update_xaxes(title="Semana", type="category")
    return _empty(_layout(fig, title, "Progresso médio"), df)


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


def groups_chart(df: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=df["situation"],
            y=df["students"],
            marker_color=[COLORS.get(s, "#555") for s in df["situation"]],
            text=[fmt.number(n) for n in df["students"]],
            textposition="outside",
            hovertemplate="%{x}: %{text} alunos<extra></extra>",
        )
    )
    fig.update_xaxes(title="")
    return _empty(_layout(fig, title, "Alunos", height=300, counts=True), df[df["students"] > 0])


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
