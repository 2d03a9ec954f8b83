"""Figures of the demo dashboard (DataFrame -> plotly figure), testable without a kernel."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def enrolment_chart(df: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure()
    for stage, part in df.groupby("stage", sort=True):
        fig.add_trace(
            go.Scatter(
                x=part["month"],
                y=part["students"],
                mode="lines+markers",
                name=str(stage),
                hovertemplate="%{x|%m/%Y}: %{y:,} alunos<extra>" + str(stage) + "</extra>",
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="Mês",
        xaxis_tickformat="%m/%Y",
        yaxis_title="Alunos matriculados",
        separators=",.",
        legend_title="Etapa",
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=380,
    )
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
