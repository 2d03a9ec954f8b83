"""Visão Geral da Rede: how is my network? KPI cards and every child unit side by side."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, ui
from ...dash.table import Column
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, pct, set_kpis

COLUMNS = [
    col.UNIDADE,
    Column("escolas", "Escolas", kind="int"),
    Column("turmas", "Turmas", kind="int"),
    Column("matriculas", "Matrículas", kind="int"),
    col.ALUNOS_POR_TURMA,
    col.PCT_INFREQUENTES,
    col.TDI,
    Column("inconsistencias", "Inconsistências", kind="int"),
]


class VisaoGeral(SchoolPanel):
    title = "Visão Geral da Rede"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(7)]
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS, name="visao_geral", sheet="Visão geral", chart_file="matriculas_por_unidade"
        )

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.chart, self.table, self.export]

    def refresh(self) -> None:
        view = self.view
        ds = self.ds
        # the chart first (SchoolPanel.refresh): it needs only the enrolments
        m = queries.matriculas_by_child(ds, view) if view.place.child else None
        if m is not None:
            self.chart.figure = charts.bars_by_unit(
                m,
                "matriculas",
                title=f"Matrículas ativas {self.children_title()}",
                axis="Matrículas",
            )
        self.set_units(self.table, self.units(view, m), "Indicadores", self.chart)
        m = queries.matriculas_total(ds, view)
        schools = queries.totals(
            ds,
            view,
            "escolas",
            "count(*) AS n",
            levels=("sre", "municipio", "escola"),
            filters=False,
        )
        turmas = queries.totals(
            ds,
            view,
            "turmas",
            "count(*) AS n, sum(a.ativos) AS alunos",
            extra_where="a.escolarizacao AND a.ativos > 0",
        )
        incons = queries.totals(ds, view, "inconsistencias", "count(*) AS n", filters=False)
        set_kpis(
            self.cards,
            [
                ("Escolas", fmt.number(schools.get("n") or 0), ""),
                ("Turmas", fmt.number(turmas.get("n") or 0), "de escolarização, com alunos"),
                ("Matrículas ativas", fmt.number(m.get("matriculas") or 0), ""),
                (
                    "Alunos por turma",
                    fmt.number((turmas.get("alunos") or 0) / turmas["n"], 1)
                    if turmas.get("n")
                    else fmt.EMPTY,
                    "",
                ),
                (
                    "Infrequentes",
                    fmt.percent(pct(m.get("infrequentes"), m.get("com_frequencia")), 1),
                    "frequência abaixo de 75%",
                ),
                (
                    "Distorção idade-série",
                    fmt.percent(pct(m.get("distorcidas"), m.get("base_tdi")), 1),
                    "2 anos ou mais acima da idade",
                ),
                ("Inconsistências", fmt.number(incons.get("n") or 0), "a corrigir no SIMADE"),
            ],
        )

    def units(self, view: queries.View, m: pd.DataFrame | None) -> pd.DataFrame | None:
        """The table's rows: ``m`` (the enrolments per unit) with the units' schools,
        turmas and findings."""
        if view.place.child is None or m is None:
            return None
        ds = self.ds
        m = m.copy()
        if m.empty:
            return m.assign(**{c.key: [] for c in COLUMNS if c.key not in m.columns})
        levels = ("sre", "municipio", "escola")
        if view.place.child == "turma":
            m["escolas"] = 1
            m["turmas"] = 1
            m["atu"] = m["enturmadas"]
        else:
            esc = queries.by_child(
                ds, view, "escolas", "count(*) AS escolas", levels=levels, filters=False
            )
            tur = queries.by_child(
                ds,
                view,
                "turmas",
                "count(*) AS turmas, sum(a.ativos) AS alunos_turma",
                extra_where="a.escolarizacao AND a.ativos > 0",
            )
            m = m.merge(esc[["id", "escolas"]], on="id", how="left").merge(
                tur[["id", "turmas", "alunos_turma"]], on="id", how="left"
            )
            m["atu"] = m["alunos_turma"] / m["turmas"].where(m["turmas"] > 0)
        inc = queries.by_child(
            ds, view, "inconsistencias", "count(*) AS inconsistencias", filters=False
        )
        m = m.merge(inc[["id", "inconsistencias"]], on="id", how="left")
        m["pct_infrequentes"] = frame.share(m["infrequentes"], m["com_frequencia"])
        m["tdi"] = frame.share(m["distorcidas"], m["base_tdi"])
        return frame.as_counts(m, ("escolas", "turmas", "matriculas", "inconsistencias"))


build = build_panel(VisaoGeral)
