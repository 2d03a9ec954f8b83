"""Notas e Aproveitamento: which components and turmas are below the average?

Aproveitamento = Σ points obtained ÷ Σ points distributed over the grades recorded
(``agg_notas``, by bimestre); the share of students below the average (60 % in at least
one component) comes from ``agg_matricula`` above the school and from ``alunos`` inside it,
over the whole year (the bimestre filter does not apply to it).
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import fmt, ui
from ...dash.chart import Chart
from ...dash.table import Column
from ...scope import ScopedDataset
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, pct, set_kpis

MEASURES = (
    "sum(a.lancadas)::BIGINT AS lancadas, sum(a.soma_notas) AS soma_notas, "
    "sum(a.soma_distribuidos) AS soma_distribuidos, sum(a.n_abaixo)::BIGINT AS n_abaixo"
)

COLUMNS = [
    col.UNIDADE,
    col.NOTAS_LANCADAS,
    col.APROVEITAMENTO,
    col.PCT_NOTAS_ABAIXO,
    Column("com_notas", "Estudantes com notas", kind="int"),
    Column("abaixo_media", "Estudantes abaixo da média", kind="int"),
    Column("pct_abaixo", "Estudantes abaixo da média (%)", kind="percent"),
]
TURMA_COLUMNS = [
    col.TURMA,
    col.COMPONENTE,
    col.NOTAS_LANCADAS,
    col.APROVEITAMENTO,
    Column("n_abaixo", "Notas abaixo da média", kind="int"),
    col.PCT_NOTAS_ABAIXO,
]


def with_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Aproveitamento and the share of grades below the average, in place."""
    df["aproveitamento"] = frame.share(df["soma_notas"], df["soma_distribuidos"])
    df["pct_notas_abaixo"] = frame.share(df["n_abaixo"], df["lancadas"])
    return df


class Notas(SchoolPanel):
    title = "Notas e Aproveitamento"
    uses_bimestre = True

    def __init__(self, viewer: Viewer, ds: ScopedDataset) -> None:
        super().__init__(viewer, ds)
        self.cards = [widgets.HTML() for _ in range(4)]
        self.note = widgets.HTML()
        self.heatmap = Chart(filename="aproveitamento_componente")
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS, name="notas", sheet="Aproveitamento", chart_file="aproveitamento_por_unidade"
        )
        self.turmas, self.turmas_export = self.table_export(
            TURMA_COLUMNS,
            name="notas_turma_componente",
            sheet="Turma x componente",
            caption="Aproveitamento por turma e componente",
            sort="turma",
            unit="linhas",
            click_hint="clique em uma linha para ver a turma",
        )
        self.opens_units(self.turmas)
        self.units_box = widgets.VBox([self.chart, self.table, self.export])
        self.turmas_box = widgets.VBox([self.turmas, self.turmas_export])

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.note, self.heatmap, self.units_box, self.turmas_box]

    # ---- data ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.view
        ds = self.ds
        # the chart first (SchoolPanel.refresh)
        self.heatmap.figure = charts.heatmap(
            self.by_component(view),
            "bimestre",
            "componente",
            "aproveitamento",
            title="Aproveitamento por componente e bimestre",
            x_title="Bimestre",
            y_title="Componente",
        )
        n = queries.totals(ds, view, "agg_notas", MEASURES, with_bimestre=True)
        m = queries.matriculas_total(ds, view)
        lancadas = int(n.get("lancadas") or 0)
        bim = view.filters.bimestre
        year_note = " (no ano letivo, todos os bimestres)" if bim else ""
        set_kpis(
            self.cards,
            [
                (
                    "Aproveitamento",
                    fmt.percent(pct(n.get("soma_notas"), n.get("soma_distribuidos")), 1),
                    "pontos obtidos ÷ pontos distribuídos",
                ),
                (
                    "Estudantes abaixo da média",
                    fmt.percent(pct(m.get("abaixo_media"), m.get("com_notas")), 1),
                    f"{fmt.number(m.get('abaixo_media') or 0)} de "
                    f"{fmt.number(m.get('com_notas') or 0)} com notas; abaixo de 60% em ao "
                    f"menos um componente{year_note}",
                ),
                (
                    "Notas abaixo da média",
                    fmt.percent(pct(n.get("n_abaixo"), lancadas), 1),
                    f"{fmt.number(n.get('n_abaixo') or 0)} notas abaixo de 60% dos pontos",
                ),
                ("Notas lançadas", fmt.number(lancadas), "estudante × componente × bimestre"),
            ],
        )
        self.note.value = (
            ui.message("Ainda não há notas lançadas para esta seleção.") if not lancadas else ""
        )
        self.refresh_units(view)
        self.refresh_turmas(view)

    def by_component(self, view: queries.View) -> pd.DataFrame:
        where, params = view.where("a", with_bimestre=True)
        df = self.ds.sql(  # summed, then named (DuckDB would join every row first)
            "SELECT coalesce(c.nome, g.componente) AS componente, g.bimestre, g.soma_notas, "
            "g.soma_distribuidos FROM (SELECT a.componente, a.bimestre, "
            "sum(a.soma_notas) AS soma_notas, sum(a.soma_distribuidos) AS soma_distribuidos "
            f"FROM agg_notas a WHERE {where} GROUP BY ALL HAVING sum(a.soma_distribuidos) > 0) g "
            "LEFT JOIN componentes c ON c.co_componente = g.componente",
            params,
        )
        if df.empty:
            return df
        df["aproveitamento"] = frame.share(df["soma_notas"], df["soma_distribuidos"])
        df["bimestre"] = df["bimestre"].map(frame.bimestre_label)
        return df

    def refresh_units(self, view: queries.View) -> None:
        df = self.units(view)
        self.set_units(self.table, df, "Notas e aproveitamento", self.units_box)
        if df is not None:
            self.chart.figure = charts.bars_by_unit(
                df[df["lancadas"] > 0],
                "aproveitamento",
                title=f"Aproveitamento {self.children_title()}",
                axis="Aproveitamento (%)",
                percent=True,
            )

    def units(self, view: queries.View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        ds = self.ds
        notas = queries.by_child(ds, view, "agg_notas", MEASURES, with_bimestre=True)
        if notas.empty:
            return frame.empty_frame(COLUMNS, "id")
        m = queries.matriculas_by_child(ds, view)
        df = notas.merge(m[["id", "com_notas", "abaixo_media"]], on="id", how="left")
        frame.as_counts(df, ("lancadas", "n_abaixo", "com_notas", "abaixo_media"))
        with_shares(df)
        df["pct_abaixo"] = frame.share(df["abaixo_media"], df["com_notas"])
        return df

    def refresh_turmas(self, view: queries.View) -> None:
        inside = frame.at_school(view.place)
        frame.show(self.turmas_box, inside)
        if not inside:
            frame.clear(self.turmas)
            return
        where, params = view.where("a", with_bimestre=True)
        df = self.ds.sql(
            "SELECT a.id_turma AS id, t.nome AS turma, coalesce(c.nome, a.componente) AS "
            f"componente, {MEASURES} FROM agg_notas a JOIN turmas t ON t.id_turma = a.id_turma "
            f"LEFT JOIN componentes c ON c.co_componente = a.componente WHERE {where} "
            "GROUP BY ALL ORDER BY turma, componente",
            params,
        )
        self.turmas.set_frame(with_shares(df))


build = build_panel(Notas)
