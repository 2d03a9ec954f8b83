"""Perfil dos Estudantes: who are our students?

KPI cards (matrículas ativas, % feminino, % PcD, % zona rural), the active matrículas by
sexo, cor/raça, faixa etária, PcD and zona de residência, and the table by unit one level
down with export (a row drills down). Above the school it reads ``agg_perfil``; inside a
school, ``alunos`` (the summary has no turma). ``agg_perfil`` has no turno or modalidade, so
the panel filters by etapa only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, ui
from ...dash.chart import Chart
from ...dash.table import Column
from ...scope import ScopedDataset
from .. import charts, contract, queries
from ..queries import View
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, pct, set_kpis

SEXO = {1: "Masculino", 2: "Feminino", 0: "Não informado"}
COR_RACA = {k: v for k, v in contract.TP_COR_RACA.items() if k} | {0: contract.TP_COR_RACA[0]}
ZONA = {1: "Urbana", 2: "Rural", 0: "Não informada"}
PCD = {True: "Sim", False: "Não"}
COLUMNS = [
    col.UNIDADE,
    Column("total", "Matrículas ativas", kind="int"),
    Column("feminino", "Feminino", kind="int"),
    Column("masculino", "Masculino", kind="int"),
    Column("pct_feminino", "Feminino (%)", kind="percent"),
    Column("pcd", "Estudantes com deficiência (PcD)", kind="int"),
    Column("pct_pcd", "PcD (%)", kind="percent"),
    Column("rural", "Zona rural", kind="int"),
    Column("pct_rural", "Zona rural (%)", kind="percent"),
]
_SUMMARY = (
    "sum(a.n)::BIGINT AS total, sum(a.n) FILTER (WHERE a.sexo = 2)::BIGINT AS feminino, "
    "sum(a.n) FILTER (WHERE a.sexo = 1)::BIGINT AS masculino, "
    "sum(a.n) FILTER (WHERE a.pcd)::BIGINT AS pcd, "
    "sum(a.n) FILTER (WHERE a.zona = 2)::BIGINT AS rural"
)
_ROWS = (
    "count(*)::BIGINT AS total, count(*) FILTER (WHERE a.sexo = 2)::BIGINT AS feminino, "
    "count(*) FILTER (WHERE a.sexo = 1)::BIGINT AS masculino, "
    "count(*) FILTER (WHERE a.pcd)::BIGINT AS pcd, "
    "count(*) FILTER (WHERE a.zona = 2)::BIGINT AS rural"
)
SUMMARY_LEVELS = ("sre", "municipio", "escola")


def profile(ds: ScopedDataset, view: View) -> pd.DataFrame:
    """``sexo, cor_raca, faixa_idade, pcd, zona, n`` of the view's active matrículas
    (sexo and zona 0 when not filled)."""
    if frame.at_school(view.place):
        where, params = view.where("a", with_turno=False)
        sql = (
            "SELECT coalesce(a.sexo, 0) AS sexo, a.cor_raca, a.faixa_idade, "
            "coalesce(a.pcd, FALSE) AS pcd, coalesce(a.zona, 0) AS zona, count(*)::BIGINT AS n "
            f"FROM alunos a WHERE {where} AND {queries.ACTIVE} GROUP BY ALL"
        )
    else:
        where, params = view.where("a", levels=SUMMARY_LEVELS, with_turno=False)
        sql = (
            "SELECT a.sexo, a.cor_raca, a.faixa_idade, a.pcd, a.zona, sum(a.n)::BIGINT AS n "
            f"FROM agg_perfil a WHERE {where} GROUP BY ALL"
        )
    return ds.sql(sql, params)


def tally(
    df: pd.DataFrame, column: str, names: dict[Any, str], missing: Any = None
) -> list[tuple[str, int]]:
    """(name, count) for every category of ``names``, in its order; an empty value (or one
    outside ``names``) counts under ``missing`` when given."""
    counts: dict[Any, int] = dict.fromkeys(names, 0)
    for value, n in df[[column, "n"]].itertuples(index=False):
        key = missing if pd.isna(value) else value
        if key not in counts and missing is not None:
            key = missing
        counts[key] = counts.get(key, 0) + int(n)
    return [(names.get(k, str(k)), v) for k, v in counts.items()]


def _nonzero(items: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    kept = [(k, v) for k, v in items if v]
    return [k for k, _ in kept], [v for _, v in kept]


class Perfil(SchoolPanel):
    title = "Perfil dos Estudantes"
    uses_turno = False  # agg_perfil has no turno or modalidade

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(4)]
        self.empty = widgets.HTML()
        self.sexo = Chart(filename="perfil_sexo")
        self.cor = Chart(filename="perfil_cor_raca")
        self.faixa = Chart(filename="perfil_faixa_etaria")
        self.pcd = Chart(filename="perfil_pcd")
        self.zona = Chart(filename="perfil_zona")
        row = widgets.Layout(flex_flow="row wrap", gap="12px")
        for c in (self.sexo, self.pcd, self.zona):
            c.layout.width = "32%"
            c.layout.min_width = "280px"
        for c in (self.cor, self.faixa):
            c.layout.width = "49%"
            c.layout.min_width = "320px"
        self.charts = widgets.VBox(
            [
                widgets.HBox([self.sexo, self.pcd, self.zona], layout=row),
                widgets.HBox([self.cor, self.faixa], layout=row),
            ]
        )
        self.table, self.export = self.unit_table(COLUMNS, name="perfil", sheet="Perfil")

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.empty, self.charts, self.table, self.export]

    def refresh(self) -> None:
        view = self.view
        df = profile(self.ds, view)
        total = int(df["n"].sum()) if len(df) else 0
        sexo = tally(df, "sexo", SEXO, missing=0)
        pcd = tally(df, "pcd", PCD)
        zona = tally(df, "zona", ZONA, missing=0)
        fem, com_pcd, rural = dict(sexo)["Feminino"], dict(pcd)["Sim"], dict(zona)["Rural"]
        # the charts first, then the cards (SchoolPanel.refresh)
        self.empty.value = "" if total else ui.message("Nenhuma matrícula ativa nesta seleção.")
        self.charts.layout.display = None if total else "none"
        self.sexo.figure = charts.donut(*_nonzero(sexo), title="Sexo")
        self.pcd.figure = charts.donut(*_nonzero(pcd), title="Estudantes com deficiência (PcD)")
        self.zona.figure = charts.donut(*_nonzero(zona), title="Zona de residência")
        cor = tally(df, "cor_raca", COR_RACA, missing=0)
        self.cor.figure = charts.bars(
            [k for k, _ in cor], [v for _, v in cor], title="Cor/raça", axis="Matrículas"
        )
        faixas = {f: f for f in contract.FAIXAS_IDADE}
        faixa = tally(df, "faixa_idade", faixas, missing=contract.FAIXA_SEM_IDADE)
        self.faixa.figure = charts.bars(
            [k for k, _ in faixa], [v for _, v in faixa], title="Faixa etária", axis="Matrículas"
        )
        set_kpis(
            self.cards,
            [
                ("Matrículas ativas", fmt.number(total), "de escolarização"),
                (
                    "Feminino",
                    fmt.percent(pct(fem, total), 1),
                    fmt.plural(fem, "estudante", "estudantes"),
                ),
                (
                    "Estudantes com deficiência",
                    fmt.percent(pct(com_pcd, total), 1),
                    fmt.plural(com_pcd, "estudante", "estudantes") + " (PcD)",
                ),
                (
                    "Zona rural",
                    fmt.percent(pct(rural, total), 1),
                    fmt.plural(rural, "estudante", "estudantes") + " em zona rural",
                ),
            ],
        )
        self.fill_table(view)

    def units(self, view: View) -> pd.DataFrame:
        if view.place.child == "turma":
            df = queries.by_child(
                self.ds,
                view,
                "alunos",
                _ROWS,
                with_turno=False,
                extra_where=queries.ACTIVE + " AND a.enturmada",
            )
        else:
            df = queries.by_child(
                self.ds, view, "agg_perfil", _SUMMARY, levels=SUMMARY_LEVELS, with_turno=False
            )
        if df.empty:
            return frame.empty_frame(COLUMNS, "id")
        frame.as_counts(df, ("total", "feminino", "masculino", "pcd", "rural"))
        for c in ("feminino", "pcd", "rural"):
            df[f"pct_{c}"] = frame.share(df[c], df["total"])
        return df

    def fill_table(self, view: View) -> None:
        df = self.units(view) if view.place.child is not None else None
        self.set_units(self.table, df, "Perfil", self.table, self.export)


build = build_panel(Perfil)
