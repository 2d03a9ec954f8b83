"""Data freshness and provenance: what the freshness dashboard shows (and ``painel store status``).

Reads manifests and the run log, never dataset rows. A viewer sees only datasets they hold
some grant on (admins and ``*`` see all).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from .access import Viewer
from .config import TIMEZONE
from .opstate import OpState
from .runner import recent_runs
from .store import Store

TZ = ZoneInfo(TIMEZONE)
STATUS_PT = {"succeeded": "sucesso", "failed": "falhou", "running": "em execução"}


def local(ts: str | None) -> str:
    """An ISO timestamp as São Paulo local time, dd/mm/yyyy hh:mm."""
    if not ts:
        return "—"
    try:
        return datetime.fromisoformat(ts).astimezone(TZ).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return ts


def visible_datasets(store: Store, viewer: Viewer) -> list[str]:
    out = []
    for ds in store.datasets():
        if viewer.sees_all(ds) or any(g.dataset == ds for g in viewer.grants):
            out.append(ds)
    return out


def datasets_overview(store: Store, viewer: Viewer) -> pd.DataFrame:
    rows = []
    for ds in visible_datasets(store, viewer):
        m = store.manifest(ds)
        checks = m.get("checks", [])
        rows.append(
            {
                "Conjunto": ds,
                "Versão atual": m["version"],
                "Publicada em": local(m.get("published_at")),
                "Extração da fonte": local(m.get("source_extracted_at")),
                "Job": m.get("job") or "—",
                "Linhas": sum(m.get("row_counts", {}).values()),
                "Verificações": f"{sum(c['passed'] for c in checks)}/{len(checks)}",
            }
        )
    return pd.DataFrame(rows)


def versions(store: Store, dataset: str) -> pd.DataFrame:
    rows = []
    for v in reversed(store.versions(dataset)):
        m = v.manifest
        rows.append(
            {
                "Versão": v.version,
                "Atual": "sim" if v.current else "",
                "Publicada em": local(m.get("published_at")),
                "Execução": m.get("run_id") or "—",
                "Parâmetros": json.dumps(m.get("parameters", {}), ensure_ascii=False),
                "Linhas por tabela": ", ".join(
                    f"{t}: {n}" for t, n in m.get("row_counts", {}).items()
                ),
            }
        )
    return pd.DataFrame(rows)


def manifest_checks(store: Store, dataset: str) -> pd.DataFrame:
    m = store.manifest(dataset)
    return pd.DataFrame(
        [
            {
                "Verificação": c["name"],
                "Resultado": "ok" if c["passed"] else "falhou",
                "Detalhe": c["detail"],
            }
            for c in m.get("checks", [])
        ]
    )


def runs_table(opstate: OpState, limit: int = 20) -> pd.DataFrame:
    rows = []
    for r in recent_runs(opstate, limit=limit):
        rows.append(
            {
                "Execução": r["run_id"],
                "Job": r["job"],
                "Situação": STATUS_PT.get(r["status"], r["status"]),
                "Início": local(r["started_at"]),
                "Duração (s)": "—"
                if r["duration_s"] is None
                else f"{r['duration_s']:.1f}".replace(".", ","),
                "Publicou": ", ".join(json.loads(r["published"] or "[]")) or "—",
                "Erro": r["error"] or "",
            }
        )
    return pd.DataFrame(rows)


def runs_chart(opstate: OpState, limit: int = 30) -> go.Figure:
    runs: list[dict[str, Any]] = list(reversed(recent_runs(opstate, limit=limit)))
    fig = go.Figure()
    for status, color in (("succeeded", "#2da44e"), ("failed", "#cf222e"), ("running", "#bf8700")):
        part = [r for r in runs if r["status"] == status]
        fig.add_trace(
            go.Bar(
                x=[local(r["started_at"]) for r in part],
                y=[r["duration_s"] or 0 for r in part],
                name=STATUS_PT[status],
                marker_color=color,
                customdata=[r["job"] for r in part],
                hovertemplate="%{customdata}: %{y:.1f} s<extra></extra>",
            )
        )
    fig.update_layout(
        title="Execuções recentes (duração em segundos)",
        height=300,
        separators=",.",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        xaxis_type="category",
    )
    return fig


def build(viewer: Viewer, store: Store | None = None, opstate: OpState | None = None) -> Any:
    """The freshness dashboard: datasets, the chosen dataset's versions and checks, runs."""
    import ipywidgets as widgets

    from .dash import identity, ui

    store = store or identity.store()
    opstate = opstate or identity.opstate()

    names = visible_datasets(store, viewer)
    overview = widgets.Output()
    ui.show(
        overview,
        datasets_overview(store, viewer) if names else ui.message("Nenhum conjunto publicado."),
    )
    runs = widgets.Output()
    ui.show(runs, runs_chart(opstate), runs_table(opstate))
    if not names:
        return widgets.VBox([overview, runs])
    picker = widgets.Dropdown(options=names, value=names[0], description="Conjunto:")
    detail = widgets.Output()

    @ui.guarded(detail)
    def refresh(change: object = None) -> None:
        dataset = ui.choose(picker.value, names, fallback=names[0])
        ui.show(
            detail,
            "<h3>Verificações da versão atual</h3>",
            manifest_checks(store, dataset),
            "<h3>Versões guardadas</h3>",
            versions(store, dataset),
        )

    picker.observe(refresh, names="value")
    refresh()
    return widgets.VBox(
        [
            widgets.HTML("<h3>Conjuntos publicados</h3>"),
            overview,
            widgets.HTML("<h3>Execuções</h3>"),
            runs,
            picker,
            detail,
        ]
    )
