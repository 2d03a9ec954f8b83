"""Small helpers of the Notas, Lançamentos, Inconsistências and Rendimento panels.

Generic enough for every school panel (candidates for frame.py / charts.py): showing and
hiding a widget, whether the viewer may read student names at the current place, a ranking
with the lowest unit on top, grouped bars (one group per category, one bar per series).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots
from ...dash.table import Column
from .. import charts
from .frame import SchoolPanel, may_list_students

INSIDE_SCHOOL = ("escola", "turma")


def display(widget: widgets.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


def inside_school(panel: SchoolPanel) -> bool:
    return panel.place.level in INSIDE_SCHOOL


def students_visible(panel: SchoolPanel) -> bool:
    """Student names only at a school or below, and never for a central (state-wide) viewer:
    an SRE user reads them once drilled to a school, a school user in their school."""
    return inside_school(panel) and may_list_students(panel.viewer)


def empty(columns: Sequence[Column], *extra: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[*extra, *[c.key for c in columns]])


def bimestre_label(b: Any) -> str:
    return f"{int(b)}º bimestre"


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 · part / whole per row (missing where whole is 0 or missing)."""
    whole = pd.to_numeric(whole, errors="coerce")
    return 100 * pd.to_numeric(part, errors="coerce") / whole.where(whole > 0)


def lowest_first(spec: plots.Spec) -> plots.Spec:
    """A :func:`charts.bars_by_unit` figure with the smallest bar on top (a ranking of what
    is behind)."""
    spec["layout"]["yaxis"] = {**spec["layout"].get("yaxis", {}), "autorange": "reversed"}
    return spec


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
                "marker": {"color": charts.PALETTE[i % len(charts.PALETTE)]},
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
        layout["annotations"] = [charts.EMPTY]
    return plots.spec(traces, layout, counts=not percent)
