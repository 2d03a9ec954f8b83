"""Distorção Idade-Série: where are the over-age students?

KPI cards (TDI, matrículas distorcidas, base), the TDI of each etapa (in etapa order), the
TDI of each unit one level down (a bar drills down), the age × etapa matrix of the active
matrículas, and the table by unit with export. TDI = distorcidas ÷ base: base = active
escolarização matrículas in an etapa with an expected age and with a birth date; distorted
when age ≥ expected + 2 (docs/school.md, "Indicators").

The matrix counts ``alunos`` rows (the summaries hold no ages): at the state level only while
the place has at most :data:`MATRIX_MAX_ROWS` matrículas; from the SRE down it always reads
``alunos`` with the place filter, which its sort order (SRE, school) keeps cheap.
"""

from __future__ import annotations

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

MATRIX_MAX_ROWS = 5000  # matrículas above which the state-wide age x etapa matrix is not read
COLUMNS = [
    col.UNIDADE,
    col.MATRICULAS_ATIVAS,
    Column("base_tdi", "Base da TDI", kind="int"),
    Column("distorcidas", "Distorcidas", kind="int"),
    col.TDI,
]


def by_etapa(ds: ScopedDataset, view: View) -> pd.DataFrame:
    """``etapa, nome, distorcidas, base_tdi, tdi`` of the view's active matrículas, for the
    etapas with an expected age, in etapa order."""
    if frame.at_school(view.place):
        where, params = view.where("a")
        sql = (
            "SELECT a.etapa, count(*) FILTER (WHERE a.distorcido) AS distorcidas, "
            "count(*) FILTER (WHERE a.base_tdi) AS base_tdi FROM alunos a "
            f"WHERE {where} AND {queries.ACTIVE} GROUP BY ALL"
        )
    else:
        where, params = view.where("a", levels=("sre", "municipio", "escola"))
        sql = (
            "SELECT a.etapa, sum(a.distorcidas)::BIGINT AS distorcidas, "
            f"sum(a.base_tdi)::BIGINT AS base_tdi FROM agg_matricula a WHERE {where} GROUP BY ALL"
        )
    df = ds.sql(sql, params)
    df = df[pd.to_numeric(df["base_tdi"]).fillna(0) > 0].copy()
    df["ordem"] = [contract.ETAPA_ORDER.get(int(e), 999) for e in df["etapa"]]
    df = df.sort_values("ordem").reset_index(drop=True)
    df["nome"] = [queries.etapa_label(e) for e in df["etapa"]]
    df["tdi"] = 100 * df["distorcidas"].astype(float) / df["base_tdi"].astype(float)
    return df


def age_matrix(ds: ScopedDataset, view: View) -> pd.DataFrame:
    """``etapa, idade, n``: active escolarização matrículas by etapa and age (idade None
    when the birth date is missing)."""
    where, params = view.where("a")
    return ds.sql(
        "SELECT a.etapa, a.idade, count(*)::BIGINT AS n FROM alunos a "
        f"WHERE {where} AND {queries.ACTIVE} GROUP BY ALL",
        params,
    )


class Distorcao(SchoolPanel):
    title = "Distorção Idade-Série"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(3)]
        self.etapas = Chart(filename="distorcao_por_etapa")
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS, name="distorcao", sheet="Distorção", chart_file="distorcao_por_unidade"
        )
        self.matrix_note = widgets.HTML()
        self.matrix = Chart(filename="idade_por_etapa")

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.etapas,
            self.chart,
            self.matrix_note,
            self.matrix,
            self.table,
            self.export,
        ]

    def refresh(self) -> None:
        view = self.view
        # the chart first (SchoolPanel.refresh)
        e = by_etapa(self.ds, view)
        self.etapas.figure = charts.bars(
            e["nome"].tolist(),
            e["tdi"].tolist(),
            title="Distorção idade-série por etapa",
            axis="Distorção (%)",
            percent=True,
        )
        m = queries.matriculas_total(self.ds, view)
        set_kpis(
            self.cards,
            [
                (
                    "Distorção idade-série",
                    fmt.percent(pct(m.get("distorcidas"), m.get("base_tdi")), 1),
                    "2 anos ou mais acima da idade esperada",
                ),
                ("Matrículas distorcidas", fmt.number(m.get("distorcidas") or 0), ""),
                (
                    "Base",
                    fmt.number(m.get("base_tdi") or 0),
                    "matrículas ativas em etapa com idade esperada e data de nascimento",
                ),
            ],
        )
        self.draw_matrix(view, int(m.get("matriculas") or 0))
        df = self.units(view)
        caption = "Distorção idade-série"
        self.set_units(self.table, df, caption, self.chart, self.table, self.export)
        if df is not None:
            self.chart.figure = charts.bars_by_unit(
                df if df["base_tdi"].sum() else df.iloc[0:0],  # no base: the chart says so
                "tdi",
                title=f"{caption} {self.children_title()}",
                axis="Distorção (%)",
                percent=True,
            )

    def draw_matrix(self, view: View, matriculas: int) -> None:
        shown = view.place.level != "estado" or matriculas <= MATRIX_MAX_ROWS
        frame.show(self.matrix, shown)
        if not shown:
            self.matrix_note.value = ui.message(
                "A matriz idade × etapa é mostrada a partir de uma SRE: clique em uma SRE "
                "para vê-la."
            )
            return
        df = age_matrix(self.ds, view)
        self.matrix_note.value = (
            "" if len(df) else ui.message("Nenhuma matrícula ativa nesta seleção.")
        )
        self.matrix.figure = charts.count_heatmap(
            df, title=f"Matrículas ativas por idade e etapa — {self.place_label()}"
        )

    def units(self, view: View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        m = queries.matriculas_by_child(self.ds, view)
        if m.empty:
            return frame.empty_frame(COLUMNS, "id")
        frame.as_counts(m, ("matriculas", "base_tdi", "distorcidas"))
        m["tdi"] = frame.share(m["distorcidas"], m["base_tdi"])
        return m


build = build_panel(Distorcao)
