"""Visão Geral: the state's purchases of the year at a glance — how many, how much, how much
by direct award (dispensa and inexigibilidade, art. 72-75), the findings and their risk —
month by month and organ by organ. A click on an organ (bar or row) narrows the panel to it.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.table import Column
from .. import queries
from .frame import ProcurementPanel, build_panel, hbars, set_kpis

COLUMNS = [
    Column("orgao", "Órgão"),
    Column("compras", "Contratações", kind="int"),
    Column("valor", "Valor", kind="money"),
    Column("pct_diretas", "Diretas (%)", kind="percent"),
    Column("alertas", "Alertas", kind="int"),
    Column("risco", "Risco estimado", kind="money"),
]
BLUE, ORANGE = "#1f4e79", "#c77c02"


class VisaoGeral(ProcurementPanel):
    title = "Visão Geral"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = [widgets.HTML() for _ in range(6)]
        self.months = ui.ClickChart(lambda _x: None, filename="contratacoes_por_mes")
        self.organs = ui.ClickChart(self.choose_organ, filename="risco_por_orgao")
        self.table, self.export = self.table_export(
            COLUMNS,
            name="visao_geral",
            sheet="Órgãos",
            caption="Órgãos",
            unit="órgãos",
            sort="risco",
            descending=True,
            click_hint="clique em um órgão para ver só ele",
        )
        self.table.on_row_click(
            ui.guarded(self.notice)(lambda r: self.choose_organ(r.get("orgao")))
        )

    def choose_organ(self, name: Any) -> None:
        for text, cnpj in self.orgao.options:
            if text == name and cnpj:
                self.orgao.value = cnpj

    def refresh(self) -> None:
        f = self.filters
        m = queries.by_month(self.ds, f)
        self.months.figure = month_bars(m)
        o = queries.overview(self.ds, f)
        counts = queries.finding_counts(self.ds, f)
        compras = int(o.get("compras") or 0)
        set_kpis(
            self.cards,
            [
                ("Contratações", fmt.number(compras), "publicadas no PNCP"),
                ("Valor", fmt.money_short(o.get("valor")), "homologado ou estimado"),
                (
                    "Contratações diretas",
                    fmt.percent(100 * (o.get("diretas") or 0) / compras if compras else None),
                    f"{fmt.money_short(o.get('valor_diretas'))} em dispensas e inexigibilidades",
                ),
                ("Órgãos", fmt.number(o.get("orgaos") or 0), "com contratações"),
                ("Alertas", fmt.number(int(counts["n"].sum())), "das regras R1–R9"),
                ("Risco estimado", fmt.money_short(counts["risco"].sum()), "soma dos alertas"),
            ],
        )
        df = queries.by_organ(self.ds, f)
        self.organs.figure = organ_bars(df.head(15))
        self.table.set_frame(df, ordered_by=("risco", True))

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.months, self.organs, self.table, self.export]


def month_bars(df: pd.DataFrame) -> plots.Spec:
    months = [f"{fmt.MONTHS[d.month - 1][:3]}/{d.year}" for d in pd.to_datetime(df["mes"])]
    outras = (df["compras"] - df["diretas"]).tolist() if len(df) else []
    layout: dict[str, Any] = {
        "title": "Contratações por mês",
        "barmode": "stack",
        "height": 320,
        "margin": {"l": 10, "r": 20, "t": 56, "b": 60},
        "xaxis": {"type": "category"},
        "yaxis": {"title": {"text": "Contratações"}},
        "legend": {"orientation": "h", "y": -0.25},
    }
    traces = [
        {
            "type": "bar",
            "name": "Licitações e outras",
            "x": months,
            "y": outras,
            "marker": {"color": BLUE},
            "hovertemplate": "%{x}: %{y:,.0f}<extra>Outras</extra>",
        },
        {
            "type": "bar",
            "name": "Diretas (dispensa e inexigibilidade)",
            "x": months,
            "y": df["diretas"].tolist() if len(df) else [],
            "marker": {"color": ORANGE},
            "hovertemplate": "%{x}: %{y:,.0f}<extra>Diretas</extra>",
        },
    ]
    return plots.spec(traces, layout, counts=True)


def organ_bars(df: pd.DataFrame) -> plots.Spec:
    data = df.sort_values("risco", ascending=False)
    return hbars(
        data["orgao"],
        data["risco"],
        [fmt.money_short(r) for r in data["risco"]],
        title="Risco estimado dos alertas por órgão (os 15 maiores)",
        axis="Risco estimado (R$)",
        color="#9b1c1c",
        xaxis={"tickprefix": "R$ "},
    )


build = build_panel(VisaoGeral)
