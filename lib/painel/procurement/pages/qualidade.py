"""Qualidade e Cobertura dos Dados: can the findings be trusted? What the crawl brought day by
day (windows, calls, records), how many items have a class (catalogue, model, none) and a
unit that could be read, and the model's measured quality (manifest of the version).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.table import Column
from .frame import ProcurementPanel, build_panel, set_kpis

COLUMNS = [
    Column("dia", "Dia", kind="date"),
    Column("janelas", "Janelas coletadas", kind="int"),
    Column("chamadas", "Chamadas à API", kind="int"),
    Column("contratacoes", "Contratações", kind="int"),
    Column("contratos", "Contratos", kind="int"),
]
FONTE = {"catalogo": "Catálogo (CATMAT/CATSER)", "modelo": "Modelo (texto da descrição)"}


class Qualidade(ProcurementPanel):
    title = "Qualidade e Cobertura dos Dados"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = [widgets.HTML() for _ in range(5)]
        self.days = ui.ClickChart(lambda _x: None, filename="coleta_por_dia")
        self.classes = ui.ClickChart(lambda _x: None, filename="itens_por_fonte_da_classe")
        self.model = widgets.HTML()
        self.table, self.export = self.table_export(
            COLUMNS,
            name="cobertura",
            sheet="Coleta",
            caption="Coleta por dia (os dias do ano escolhido)",
            unit="dias",
            sort="dia",
            descending=True,
        )

    def refresh(self) -> None:
        f = self.filters
        days = self.ds.sql(
            "SELECT dia, count(*) AS janelas, sum(chamadas) AS chamadas, "
            "sum(registros) FILTER (WHERE tipo = 'contratacoes') AS contratacoes, "
            "sum(registros) FILTER (WHERE tipo = 'contratos') AS contratos FROM cargas "
            "WHERE (? = 0 OR year(dia) = ?) GROUP BY ALL ORDER BY dia",
            [f.ano, f.ano],
        )
        for c in ("contratacoes", "contratos", "chamadas"):
            days[c] = pd.to_numeric(days[c]).fillna(0).astype(int)
        self.days.figure = day_lines(days)
        where, params = f.where("c")
        items = self.ds.sql(
            "SELECT coalesce(i.classe_fonte, 'sem') AS fonte, count(*) AS n, "
            "count(*) FILTER (WHERE i.unidade_familia IS NULL) AS sem_unidade "
            "FROM itens i JOIN contratacoes c USING (numero_controle_pncp) "
            f"WHERE {where} GROUP BY ALL",
            params,
        )
        total = int(items["n"].sum())
        by = dict(zip(items["fonte"], items["n"], strict=True))
        no_unit = int(items["sem_unidade"].sum())
        self.classes.figure = class_bars(by)
        metrics = (self.ds.manifest.get("notes") or {}).get("classes") or {}  # job.classified
        last = days["dia"].max() if len(days) else None
        set_kpis(
            self.cards,
            [
                ("Última coleta", fmt.date(last), "dia coletado por inteiro"),
                ("Itens", fmt.number(total), "das contratações do ano"),
                (
                    "Itens com classe",
                    fmt.percent(100 * (total - by.get("sem", 0)) / total if total else None),
                    f"{fmt.percent(100 * by.get('modelo', 0) / total if total else None)} pelo modelo",
                ),
                (
                    "Unidade não lida",
                    fmt.number(no_unit),
                    "itens fora das regras de preço",
                ),
                ("Chamadas à API", fmt.number(int(days["chamadas"].sum())), "nos dias do ano"),
            ],
        )
        self.model.value = model_html(metrics)
        self.table.set_frame(days, ordered_by=None)

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.days,
            self.classes,
            self.model,
            self.table,
            self.export,
        ]


def day_lines(days: pd.DataFrame) -> plots.Spec:
    layout: dict[str, Any] = {
        "title": "Registros coletados por dia",
        "height": 320,
        "margin": {"l": 10, "r": 20, "t": 56, "b": 60},
        "xaxis": {"type": "date", "tickformat": "%d/%m"},
        "yaxis": {"title": {"text": "Registros"}},
        "legend": {"orientation": "h", "y": -0.25},
    }
    x = [d.isoformat() for d in pd.to_datetime(days["dia"]).dt.date] if len(days) else []
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Contratações",
            "x": x,
            "y": days["contratacoes"].tolist() if len(days) else [],
            "line": {"color": "#1f4e79"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Contratos",
            "x": x,
            "y": days["contratos"].tolist() if len(days) else [],
            "line": {"color": "#c77c02"},
        },
    ]
    return plots.spec(traces, layout, counts=True)


def class_bars(by: dict[str, int]) -> plots.Spec:
    labels = [FONTE["catalogo"], FONTE["modelo"], "Sem classe (o modelo se absteve)"]
    values = [int(by.get("catalogo", 0)), int(by.get("modelo", 0)), int(by.get("sem", 0))]
    layout: dict[str, Any] = {
        "title": "Itens por fonte da classe",
        "height": 220,
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": {"title": {"text": "Itens"}},
        "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"},
        "showlegend": False,
    }
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": labels,
        "text": [fmt.number(v) for v in values],
        "textposition": "auto",
        "cliponaxis": False,  # a figure outside a short bar may run into the margin
        "textangle": 0,
        "marker": {"color": ["#2e7d32", "#1f4e79", "#9e9e9e"]},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    return plots.spec([trace], layout, counts=True)


def model_html(notes: dict[str, Any]) -> str:
    m = (notes.get("classificador") or {}).get("metrics") or {}
    if not m:
        return (
            "<p><small>Classes desta versão: só as do catálogo (sem modelo treinado).</small></p>"
        )
    rows = []
    for key, label in (
        ("accuracy", "Acerto (holdout por compra)"),
        ("macro_f1", "F1 macro"),
        ("top3_accuracy", "Acerto entre as 3 primeiras"),
        ("coverage", "Itens classificados (cobertura)"),
        ("precision_classified", "Precisão dos classificados"),
    ):
        if key in m:
            rows.append(f"<li>{label}: {fmt.percent(100 * float(m[key]), 1)}</li>")
    return "<h4>Modelo de classes</h4><ul>" + "".join(rows) + "</ul>"


build = build_panel(Qualidade)
