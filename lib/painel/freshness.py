"""Data freshness and provenance: what the "Atualização dos dados" dashboard shows.

Reads manifests and the run log, never dataset rows. A viewer sees only datasets they hold
some grant on (admins and ``*`` see all). Everything is said for people, in pt-BR: datasets
by their titles, checks by what they mean, parameters summarised, runs as a timeline.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from .access import Viewer
from .checks import pt_detail, pt_name
from .config import TIMEZONE
from .domain import dataset_title
from .opstate import OpState
from .runner import recent_runs
from .store import Store

TZ = ZoneInfo(TIMEZONE)
STATUS_PT = {"succeeded": "concluída", "failed": "falhou", "running": "em andamento"}
SECRET_WORDS = ("key", "secret", "password", "token", "senha")


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
        passed = sum(bool(c["passed"]) for c in checks)
        rows.append(
            {
                "dataset": ds,
                "Conjunto": dataset_title(ds),
                "Publicado em": m.get("published_at"),
                "Dados da fonte de": m.get("source_extracted_at"),
                "Linhas": sum(m.get("row_counts", {}).values()),
                "Verificações": f"{passed} de {len(checks)} ok",
            }
        )
    columns = ["dataset", "Conjunto", "Publicado em", "Dados da fonte de", "Linhas", "Verificações"]
    return pd.DataFrame(rows, columns=columns)


def summarize_parameters(parameters: dict[str, Any]) -> str:
    """A run's parameters for people: "week: Sem. 48 · 23/11–29/11; tracks: 2 itens; ...".

    Values that name a secret are never shown (only environment variable names are kept in
    manifests, but a dashboard has no business repeating them).
    """
    from .dash import fmt

    parts = []
    for key, value in parameters.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, bool):
            shown = "sim" if value else "não"
        elif isinstance(value, (int, float)):
            shown = fmt.number(value, 0 if float(value).is_integer() else 2)
        elif isinstance(value, (dict, list)):
            shown = fmt.plural(len(value), "item", "itens")
        elif value is None or value == "":
            shown = "—"
        else:
            text = str(value)
            if "://" in text:
                continue  # addresses of sources say nothing to a reader and may carry hosts
            shown = fmt.week(text) if fmt._ISO_WEEK.match(text) else text
        parts.append(f"{key}: {shown}")
    return "; ".join(parts) or "—"


def versions(store: Store, dataset: str) -> pd.DataFrame:
    rows = []
    for v in reversed(store.versions(dataset)):
        m = v.manifest
        rows.append(
            {
                "Publicada em": m.get("published_at"),
                "Situação": "em uso" if v.current else "anterior",
                "Dados da fonte de": m.get("source_extracted_at"),
                "Parâmetros": summarize_parameters(m.get("parameters", {})),
                "Linhas": sum(m.get("row_counts", {}).values()),
            }
        )
    columns = ["Publicada em", "Situação", "Dados da fonte de", "Parâmetros", "Linhas"]
    return pd.DataFrame(rows, columns=columns)


def manifest_checks(store: Store, dataset: str) -> pd.DataFrame:
    m = store.manifest(dataset)
    return pd.DataFrame(
        [
            {
                "Verificação": pt_name(c),
                "Resultado": "ok" if c["passed"] else "falhou",
                "Detalhe": pt_detail(c.get("detail", "")) or "—",
            }
            for c in m.get("checks", [])
        ],
        columns=["Verificação", "Resultado", "Detalhe"],
    )


def job_title(run: dict[str, Any]) -> str:
    """A run's job by the title of what it publishes ("Progresso de aprendizagem")."""
    try:
        published = json.loads(run.get("published") or "[]")
    except ValueError:
        published = []
    for item in published:
        title = dataset_title(str(item).split("@", 1)[0])
        if title != str(item).split("@", 1)[0]:
            return title
    title = dataset_title(run["job"])
    return title if title != run["job"] else f"carga {run['job']}"


def runs_timeline(opstate: OpState, limit: int = 20) -> list[str]:
    """One line per run, newest first: "Progresso de aprendizagem — 29/11/2026 05:00 · agendada · concluída em 2 min"."""
    from .dash import runs

    lines = []
    for r in recent_runs(opstate, limit=limit):
        text = f"{job_title(r)} — {runs.line(r)}"
        if r["status"] == "failed":
            text += ": nada foi publicado; os painéis seguem com a versão anterior"
        lines.append(text)
    return lines


def runs_chart(opstate: OpState, limit: int = 30) -> go.Figure:
    from .dash import fmt, plots

    runs: list[dict[str, Any]] = list(reversed(recent_runs(opstate, limit=limit)))
    fig = go.Figure()
    for status, color in (("succeeded", "#2da44e"), ("failed", "#cf222e"), ("running", "#bf8700")):
        part = [r for r in runs if r["status"] == status]
        fig.add_trace(
            go.Scatter(
                x=[
                    datetime.fromisoformat(r["started_at"]).astimezone(TZ).replace(tzinfo=None)
                    for r in part
                ],
                y=[(r["duration_s"] or 0) / 60 for r in part],
                mode="markers",
                marker={"color": color, "size": 10},
                name=STATUS_PT[status],
                customdata=[f"{job_title(r)}, {fmt.datetime(r['started_at'])}" for r in part],
                hovertemplate="%{customdata}: %{y:.1f} min<extra></extra>",
            )
        )
    fig.update_layout(
        title="Execuções recentes (duração em minutos)",
        height=300,
        margin={"l": 50, "r": 40, "t": 50, "b": 40},
        xaxis_tickformat="%d/%m %H:%M",
        yaxis_title="Minutos",
    )
    return plots.style(fig, counts=True)


def build(viewer: Viewer, store: Store | None = None, opstate: OpState | None = None) -> Any:
    """The freshness dashboard: datasets, the chosen dataset's versions and checks, runs."""
    import html

    import ipywidgets as widgets

    from .dash import identity, later, ui
    from .dash.chart import Chart
    from .dash.table import Column, Table

    store = store or identity.store()
    opstate = opstate or identity.opstate()

    names = visible_datasets(store, viewer)
    overview = Table(
        [
            Column("Conjunto", "Conjunto"),
            Column("Publicado em", "Publicado em", kind="datetime"),
            Column("Dados da fonte de", "Dados da fonte de", kind="datetime"),
            Column("Linhas", "Linhas", kind="int"),
            Column("Verificações", "Verificações"),
        ],
        caption="Conjuntos de dados publicados",
        unit="conjuntos",
        click_hint="clique em um conjunto para ver verificações e versões",
        empty_text="Nenhum conjunto publicado.",
    )
    timeline = widgets.HTML()
    chart = Chart(filename="execucoes")
    errors = widgets.Output()

    @ui.guarded(errors)
    def fill() -> None:  # after the page is sent (dash.later)
        overview.frame = datasets_overview(store, viewer)
        timeline.value = (
            "<ol class='painel-runs' aria-label='Execuções recentes'>"
            + "".join(f"<li>{html.escape(t)}</li>" for t in runs_timeline(opstate))
            + "</ol>"
            if recent_runs(opstate, limit=1)
            else ui.message("Nenhuma execução registrada ainda.")
        )
        chart.figure = runs_chart(opstate)
        if names:
            refresh()

    head = [
        widgets.HTML("<h3>Conjuntos publicados</h3>"),
        overview,
    ]
    tail = [widgets.HTML("<h3>Execuções</h3>"), timeline, chart]
    if not names:
        later(fill)
        return widgets.VBox([*head, errors, *tail])
    options = [(dataset_title(n), n) for n in names]
    picker = widgets.Dropdown(options=options, value=names[0], description="Conjunto:")
    checks = Table(
        [
            Column("Verificação", "Verificação"),
            Column("Resultado", "Resultado"),
            Column("Detalhe", "Detalhe"),
        ],
        caption="Verificações da versão em uso",
        unit="verificações",
    )
    kept = Table(
        [
            Column("Publicada em", "Publicada em", kind="datetime"),
            Column("Situação", "Situação"),
            Column("Dados da fonte de", "Dados da fonte de", kind="datetime"),
            Column("Parâmetros", "Parâmetros"),
            Column("Linhas", "Linhas", kind="int"),
        ],
        caption="Versões guardadas",
        unit="versões",
    )

    @ui.guarded(errors)
    def refresh(change: object = None) -> None:
        dataset = ui.choose(picker.value, options, fallback=names[0])
        checks.frame = manifest_checks(store, dataset)
        kept.frame = versions(store, dataset)

    picker.observe(refresh, names="value")
    overview.on_row_click(lambda record: setattr(picker, "value", record["dataset"]))
    later(fill)
    return widgets.VBox(
        [
            *head,
            widgets.HTML("<h3>Detalhes de um conjunto</h3>"),
            picker,
            checks,
            kept,
            errors,
            *tail,
        ]
    )
