"""Saldo de Dispensa por Classe: how much an organ can still buy by dispensa this year.

Art. 75, I and II of Lei 14.133/2021 allow a dispensa below a yearly limit (updated by
decree: table ``limites_dispensa``), and § 1, I adds the organ's spending on objects of the
same kind in the year. Per class and inciso: the dispensas published, what they add up to,
the limit, what is left and the share used; a class at or above ``ALERTA`` (80 %) of its
limit is flagged — the next dispensa of that class may be a fracionamento (rule R1). A click
on a class lists its dispensas; a click on one opens it.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.table import Column
from .. import queries
from ..etl.rules import DISPENSA
from .frame import ProcurementPanel, build_panel, hbars, set_kpis, show

ALERTA = 80.0  # % of the limit from which a class is flagged (docs/procurement.md, e-mails)
COLUMNS = [
    Column("orgao", "Órgão"),
    Column("classe", "Classe"),
    Column("inciso", "Inciso"),
    Column("dispensas", "Dispensas", kind="int"),
    Column("gasto", "Gasto no ano", kind="money"),
    Column("limite", "Limite", kind="money"),
    Column("saldo", "Saldo", kind="money"),
    Column("uso", "Uso do limite", kind="percent"),
    Column("situacao", "Situação"),
]
DISPENSA_COLUMNS = [
    Column("numero_controle_pncp", "Contratação (PNCP)", kind="id"),
    Column("data_publicacao_pncp", "Publicação", kind="date"),
    Column("objeto_compra", "Objeto"),
    Column("valor", "Valor", kind="money"),
]


def balance(ds: Any, f: queries.Filters) -> pd.DataFrame:
    """Per organ, class and inciso of the year (:func:`queries.dispensa_balance`), with
    what is left (``saldo``), the share used (``uso``, %), its ``situacao`` and a chart
    ``label``; the most used first. Saldo and Fracionamento de Despesas read it alike."""
    df = queries.dispensa_balance(ds, f)
    df["saldo"] = (df["limite"] - df["gasto"]).clip(lower=0)
    df["uso"] = 100 * df["gasto"] / df["limite"]
    df["situacao"] = [
        "Acima do limite" if u >= 100 else "Perto do limite" if u >= ALERTA else "—"
        for u in df["uso"]
    ]
    df["label"] = [f"{c} (inciso {i})" for c, i in zip(df["classe"], df["inciso"], strict=True)]
    if f.orgao == "" and df["orgao_cnpj"].nunique() > 1:
        df["label"] = df["label"] + " – " + df["orgao"].astype(str)
    return df


class Saldo(ProcurementPanel):
    title = "Saldo de Dispensa por Classe"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = [widgets.HTML() for _ in range(4)]
        self.chart = ui.ClickChart(self.choose_class, filename="uso_do_limite_por_classe")
        self.table, self.export = self.table_export(
            COLUMNS,
            name="saldo_dispensa",
            sheet="Saldo de dispensa",
            caption="Classes com dispensas no ano",
            unit="classes",
            sort="uso",
            descending=True,
            click_hint="clique em uma classe para ver as suas dispensas",
        )
        self.table.on_row_click(ui.guarded(self.notice)(self.open_class))
        self.dispensas, self.dispensas_export = self.table_export(
            DISPENSA_COLUMNS,
            name="dispensas_da_classe",
            sheet="Dispensas",
            caption="Dispensas da classe",
            unit="dispensas",
            click_hint="clique em uma dispensa para abri-la",
        )
        self.opens_purchases(self.dispensas)
        self.class_box = widgets.VBox(
            [self.dispensas, self.dispensas_export], layout=widgets.Layout(display="none")
        )
        self._rows = pd.DataFrame()

    def rows(self) -> pd.DataFrame:
        return balance(self.ds, self.filters)

    def refresh(self) -> None:
        self.close_class()
        df = self.rows()
        self._rows = df
        self.chart.figure = usage_bars(df.head(15))
        near = int((df["uso"] >= ALERTA).sum())
        over = int((df["uso"] >= 100).sum())
        set_kpis(
            self.cards,
            [
                ("Classes com dispensa", fmt.number(len(df)), "no ano"),
                ("Perto do limite", fmt.number(near - over), f"de {fmt.percent(ALERTA, 0)} a 100%"),
                ("Acima do limite", fmt.number(over), "soma acima do limite do ano"),
                ("Gasto em dispensas", fmt.money_short(df["gasto"].sum()), "art. 75, I e II"),
            ],
        )
        self.table.set_frame(df)

    def choose_class(self, label: Any) -> None:
        match = self._rows[self._rows["label"] == label]
        if not match.empty:
            self.open_class(match.iloc[0].to_dict())

    def open_class(self, record: dict[str, Any]) -> None:
        f = self.filters
        df = self.ds.sql(
            "SELECT c.numero_controle_pncp, c.data_publicacao_pncp, c.objeto_compra, c.valor "
            f"FROM contratacoes c WHERE {DISPENSA} AND c.situacao_compra_id = 1 "
            "AND c.orgao_cnpj = ? AND c.codigo_classe = ? AND c.inciso = ? "
            "AND (? = 0 OR c.ano = ?) ORDER BY c.data_publicacao_pncp",
            [
                record.get("orgao_cnpj"),
                record.get("codigo_classe"),
                record.get("inciso"),
                f.ano,
                f.ano,
            ],
        )
        self.dispensas.caption = (
            f"Dispensas de {record.get('classe')} (inciso {record.get('inciso')})"
        )
        self.dispensas.set_frame(df)
        show(self.class_box, True)

    def close_class(self) -> None:
        show(self.class_box, False)

    def body(self) -> list[widgets.Widget]:
        note = widgets.HTML(
            '<small class="painel-note">Limites do art. 75, I e II (atualizados por decreto), '
            "somados por órgão, classe e ano como no art. 75, § 1º, I.</small>"
        )
        return [note, ui.kpi_row(self.cards), self.chart, self.table, self.export, self.class_box]


def usage_bars(df: pd.DataFrame) -> plots.Spec:
    """The share of the limit each class used, the most used on top; the 80 % line."""
    data = df.sort_values("uso", ascending=False)
    return hbars(
        data["label"],
        data["uso"],
        [fmt.percent(u, 0) for u in data["uso"]],
        title="Uso do limite de dispensa por classe (as 15 mais usadas)",
        axis="Uso do limite",
        color=[
            "#9b1c1c" if u >= 100 else "#c77c02" if u >= ALERTA else "#1f4e79" for u in data["uso"]
        ],
        empty="Nenhuma dispensa nesta seleção",
        xaxis={"ticksuffix": "%"},
        shapes=[
            {
                "type": "line",
                "x0": ALERTA,
                "x1": ALERTA,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": "#c77c02", "dash": "dot"},
            }
        ],
    )


build = build_panel(Saldo)
