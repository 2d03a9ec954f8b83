"""Conformidade do Órgão: how the organ is doing against the law, month by month, from its own
data: tenders whose proposal period met art. 55, contracts published within art. 94's
period, the share of direct awards, classes at or over the dispensa limit, and the
indications the CGE sent it. Computed from the published findings as counts (the findings
themselves reach the organ only when the CGE sends them: Meus Alertas).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.identity import opstate
from ...dash.table import Column
from .. import queries, workflow
from .frame import ProcurementPanel, build_panel, set_kpis
from .saldo import ALERTA

COLUMNS = [
    Column("mes", "Mês"),
    Column("compras", "Contratações", kind="int"),
    Column("licitacoes", "Licitações", kind="int"),
    Column("pct_prazo", "Prazo de propostas legal", kind="percent"),
    Column("contratos", "Contratos", kind="int"),
    Column("pct_publicados", "Contratos publicados em dia", kind="percent"),
    Column("pct_diretas", "Contratações diretas", kind="percent"),
]


class Conformidade(ProcurementPanel):
    title = "Conformidade do Órgão"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = [widgets.HTML() for _ in range(5)]
        self.chart = ui.ClickChart(lambda _x: None, filename="conformidade_por_mes")
        self.table, self.export = self.table_export(
            COLUMNS, name="conformidade", sheet="Conformidade", caption="Mês a mês", unit="meses"
        )

    def months(self, f: queries.Filters) -> pd.DataFrame:
        cw, cp = f.where("c")
        kw, kp = f.where("k", ano="ano_contrato")
        aw, ap = f.where("a")
        return self.ds.sql(
            "WITH c AS (SELECT date_trunc('month', c.data_publicacao_pncp)::DATE AS mes, "
            "count(*) AS compras, count(*) FILTER (WHERE c.modalidade_id IN (4, 5, 6, 7)) "
            f"AS licitacoes, count(*) FILTER (WHERE {queries.DIRETA}) AS diretas "
            f"FROM contratacoes c WHERE {cw} GROUP BY ALL), "
            "k AS (SELECT date_trunc('month', k.data_assinatura)::DATE AS mes, count(*) AS contratos "
            f"FROM contratos k WHERE {kw} GROUP BY ALL), "
            "r3 AS (SELECT date_trunc('month', x.data_publicacao_pncp)::DATE AS mes, count(*) AS n "
            "FROM achados a JOIN contratacoes x USING (numero_controle_pncp) "
            f"WHERE a.regra = 'R3' AND {aw} GROUP BY ALL), "
            "r5 AS (SELECT date_trunc('month', y.data_assinatura)::DATE AS mes, count(*) AS n "
            "FROM achados a JOIN contratos y USING (numero_controle_pncp) "
            f"WHERE a.regra = 'R5' AND {aw} GROUP BY ALL) "
            "SELECT coalesce(c.mes, k.mes) AS dia, coalesce(c.compras, 0) AS compras, "
            "coalesce(c.licitacoes, 0) AS licitacoes, "
            "100.0 * (c.licitacoes - coalesce(r3.n, 0)) / nullif(c.licitacoes, 0) AS pct_prazo, "
            "coalesce(k.contratos, 0) AS contratos, "
            "100.0 * (k.contratos - coalesce(r5.n, 0)) / nullif(k.contratos, 0) AS pct_publicados, "
            "100.0 * c.diretas / nullif(c.compras, 0) AS pct_diretas "
            "FROM c FULL JOIN k USING (mes) LEFT JOIN r3 ON r3.mes = coalesce(c.mes, k.mes) "
            "LEFT JOIN r5 ON r5.mes = coalesce(c.mes, k.mes) ORDER BY dia",
            [*cp, *kp, *ap, *ap],
        )

    def refresh(self) -> None:
        f = self.filters
        df = self.months(f)
        df["mes"] = [f"{fmt.MONTHS[d.month - 1]}/{d.year}" for d in pd.to_datetime(df["dia"])]
        self.chart.figure = month_lines(df)
        totals = df[["licitacoes", "contratos", "compras"]].sum()
        prazo = (df["pct_prazo"] * df["licitacoes"] / 100).sum()
        publicados = (df["pct_publicados"] * df["contratos"] / 100).sum()
        balance = queries.dispensa_balance(self.ds, f)
        near = int((100 * balance["gasto"] / balance["limite"] >= ALERTA).sum())
        queries.hold_workflow(self.ds, opstate(), workflow.ORGAO_VE)
        sent = int(queries.finding_status_counts(self.ds, f, workflow.ORGAO_VE)["n"].sum())
        set_kpis(
            self.cards,
            [
                (
                    "Prazo de propostas legal",
                    fmt.percent(
                        100 * prazo / totals["licitacoes"] if totals["licitacoes"] else None
                    ),
                    "de "
                    + fmt.plural(int(totals["licitacoes"]), "licitação", "licitações")
                    + " (art. 55)",
                ),
                (
                    "Contratos publicados em dia",
                    fmt.percent(
                        100 * publicados / totals["contratos"] if totals["contratos"] else None
                    ),
                    "de "
                    + fmt.plural(int(totals["contratos"]), "contrato", "contratos")
                    + " (art. 94)",
                ),
                ("Contratações", fmt.number(totals["compras"]), "publicadas no PNCP"),
                (
                    "Classes perto do limite",
                    fmt.number(near),
                    f"dispensas a partir de {fmt.percent(ALERTA, 0)} do limite",
                ),
                ("Alertas recebidos", fmt.number(sent), "enviados pela CGE"),
            ],
        )
        self.table.set_frame(df)

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.chart, self.table, self.export]


def month_lines(df: pd.DataFrame) -> plots.Spec:
    x = [f"{fmt.MONTHS[d.month - 1][:3]}/{d.year}" for d in pd.to_datetime(df["dia"])]
    layout: dict[str, Any] = {
        "title": "Conformidade mês a mês",
        "height": 340,
        "margin": {"l": 10, "r": 20, "t": 56, "b": 70},
        "xaxis": {"type": "category"},
        "yaxis": {"title": {"text": "%"}, "range": [0, 105], "ticksuffix": "%"},
        "legend": {"orientation": "h", "y": -0.3},
    }
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Prazo de propostas legal",
            "x": x,
            "y": plots.plain(df["pct_prazo"]),
            "line": {"color": "#1f4e79"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Contratos publicados em dia",
            "x": x,
            "y": plots.plain(df["pct_publicados"]),
            "line": {"color": "#2e7d32"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Contratações diretas",
            "x": x,
            "y": plots.plain(df["pct_diretas"]),
            "line": {"color": "#c77c02"},
        },
    ]
    return plots.spec(traces, layout)


build = build_panel(Conformidade)
