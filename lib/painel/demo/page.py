"""The demo dashboard's widgets and wiring (the notebook only calls ``build``)."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..access import Viewer
from ..dash import fmt, ui
from ..dash.chart import Chart
from ..dash.identity import open_dataset
from . import charts, queries
from .etl import DATASET

ALL = 0  # "all of my regional offices" (regional ids start at 1)


def build(viewer: Viewer) -> widgets.Widget:
    ds = open_dataset(viewer, DATASET)
    regions = queries.regional_options(ds)
    manifest = ds.manifest
    header = widgets.HTML(
        f"<h2>Matrículas por etapa</h2><p>Olá, {html.escape(viewer.label())}. Dados extraídos em "
        f"{fmt.datetime(manifest.get('source_extracted_at'))}, publicados em {fmt.datetime(manifest.get('published_at'))} "
        f"(versão {html.escape(str(ds.version))}).</p>"
    )
    if not regions:
        return widgets.VBox(
            [
                header,
                widgets.HTML(ui.message("Você não tem acesso a dados deste painel.", "warning")),
            ]
        )
    choices = [("Todas as minhas regionais", ALL), *regions]
    regional = widgets.Dropdown(
        options=choices, value=ALL, description="Regional:", style={"description_width": "initial"}
    )
    chart = Chart(filename="alunos_por_mes")
    table = widgets.Output()

    @ui.guarded(table)
    def refresh(change: object = None) -> None:
        chosen = ui.choose(regional.value, choices, fallback=ALL)
        region = None if chosen == ALL else chosen
        label = dict((v, k) for k, v in choices)[chosen]
        df = queries.monthly_by_stage(ds, region)
        chart.figure = charts.enrolment_chart(df, f"Alunos por mês — {label}")
        ui.show(table, queries.schools_latest(ds, region))

    regional.observe(refresh, names="value")
    refresh()
    return widgets.VBox(
        [header, regional, chart, widgets.HTML("<h3>Escolas (último mês)</h3>"), table]
    )
