"""Matrículas e Enturmação: how many students, where, and who has no turma yet?

KPI cards (ativas, enturmadas, não enturmadas, % de enturmação), stacked bars of the
matrículas of each unit one level down by etapa group or by turno (a toggle; a bar drills
down), the daily line of ativas and enturmadas (``serie_diaria``), the table by unit with
export and, inside a school (for its staff and its SRE, never for a central user), the list
of active students without a turma (rule I3).
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

COLUMNS = [
    col.UNIDADE,
    col.MATRICULAS_ATIVAS,
    Column("enturmadas", "Enturmadas", kind="int"),
    Column("nao_enturmadas", "Não enturmadas", kind="int"),
    Column("pct_enturmacao", "Enturmação (%)", kind="percent"),
]
STUDENT_COLUMNS = [
    col.ESTUDANTE,
    col.MATRICULA,
    Column("etapa_nome", "Etapa"),
    col.DT_MATRICULA,
    col.DT_NASCIMENTO,
]
# what the stacked bars split the matrículas by: (option label, column, categories)
SPLITS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "grupo": (
        "por etapa",
        "grupo",
        [(g, contract.GRUPO_NOME[g]) for g in contract.GRUPOS],
    ),
    "turno": ("por turno", "turno", [(t, t) for t in queries.TURNOS]),
}
ACTIVE = queries.ACTIVE


def split_by_child(ds: ScopedDataset, view: View, column: str) -> pd.DataFrame:
    """Active matrículas per unit one level down and per value of ``column`` (grupo or
    turno): ``id, label, cat, n`` (units without rows have cat None)."""
    if column not in ("grupo", "turno"):
        raise ValueError(column)
    if view.place.child == "turma":
        return queries.by_child(
            ds,
            view,
            "alunos",
            f"a.{column} AS cat, count(*) AS n",
            extra_where=ACTIVE + " AND a.enturmada",
        )
    return queries.by_child(
        ds,
        view,
        "agg_matricula",
        f"a.{column} AS cat, sum(a.ativas) AS n",
        levels=("sre", "municipio", "escola"),
    )


def pivot_split(
    df: pd.DataFrame, categories: list[tuple[str, str]]
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """``id, label, cat, n`` rows -> one row per unit with a column per category that has
    any matrícula (``c0``, ``c1`` ...), and the (column, legend name) series."""
    units = df[["id", "label"]].drop_duplicates() if not df.empty else df
    out = units.reset_index(drop=True)
    series = []
    for i, (value, name) in enumerate(categories):
        part = df[df["cat"] == value] if not df.empty else df
        counts = part.groupby("id")["n"].sum() if not part.empty else pd.Series(dtype=float)
        if counts.sum() <= 0:
            continue
        key = f"c{i}"
        out[key] = out["id"].map(counts).fillna(0).astype(int)
        series.append((key, name))
    return out, series


class Matriculas(SchoolPanel):
    title = "Matrículas e Enturmação"
    lists_students = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(4)]
        self.split = widgets.ToggleButtons(
            options=[(label, key) for key, (label, _, _) in SPLITS.items()],
            value="grupo",
            description="Dividir:",
            style={"description_width": "initial", "button_width": "auto"},
        )
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS, name="matriculas", sheet="Matrículas", chart_file="matriculas_por_unidade"
        )
        self.trend = Chart(filename="matriculas_por_dia")
        self.trend_note = widgets.HTML()
        self.students_title, self.students, self.students_export, self.students_box = (
            self.student_block(
                STUDENT_COLUMNS,
                name="nao_enturmados",
                sheet="Não enturmados",
                caption="Estudantes não enturmados",
                sort="nome",
                empty_text="Nenhum estudante ativo sem turma.",
            )
        )
        self.split.observe(ui.guarded(self.notice)(lambda _c: self.refresh()), names="value")

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.split,
            self.chart,
            self.trend_note,
            self.trend,
            self.table,
            self.export,
            self.students_box,
        ]

    def refresh(self) -> None:
        view = self.view
        self.draw_split(view)  # the chart first (SchoolPanel.refresh)
        m = queries.matriculas_total(self.ds, view)
        ativas = m.get("matriculas") or 0
        set_kpis(
            self.cards,
            [
                ("Matrículas ativas", fmt.number(ativas), "de escolarização"),
                ("Enturmadas", fmt.number(m.get("enturmadas") or 0), "com turma"),
                ("Não enturmadas", fmt.number(m.get("nao_enturmadas") or 0), "sem turma"),
                (
                    "Enturmação",
                    fmt.percent(pct(m.get("enturmadas"), ativas), 1),
                    "enturmadas ÷ ativas",
                ),
            ],
        )
        self.draw_trend(view)
        self.fill_table(view)
        self.fill_students(view)

    def draw_split(self, view: View) -> None:
        for w in (self.chart, self.split):
            frame.show(w, view.place.child is not None)
        if view.place.child is None:
            return
        key = ui.choose(self.split.value, list(SPLITS), fallback="grupo")
        label, column, categories = SPLITS[key]
        df, series = pivot_split(split_by_child(self.ds, view, column), categories)
        self.chart.figure = charts.stacked_by_unit(
            df if series else df.iloc[0:0],  # nothing to stack: the chart says so
            series,
            title=f"Matrículas ativas {self.children_title()}, {label}",
            axis="Matrículas",
        )

    def draw_trend(self, view: View) -> None:
        frame.show(self.trend, view.place.level != "turma")
        if view.place.level == "turma":
            self.trend_note.value = ""
            return
        where, params = view.where("a", levels=("sre", "municipio", "escola"), filters=False)
        df = self.ds.sql(
            "SELECT a.data_ref, sum(a.ativas)::BIGINT AS ativas, "
            f"sum(a.enturmadas)::BIGINT AS enturmadas FROM serie_diaria a WHERE {where} "
            "GROUP BY ALL ORDER BY a.data_ref",
            params,
        )
        f = view.filters
        self.trend_note.value = (
            ui.message(
                "A série diária conta todas as etapas, turnos e modalidades "
                "(os filtros não se aplicam a ela)."
            )
            if f.grupo or f.turno or f.modalidade
            else ""
        )
        self.trend.figure = charts.trend(
            df,
            "data_ref",
            [("ativas", "Matrículas ativas"), ("enturmadas", "Enturmadas")],
            title=f"Matrículas ativas e enturmadas por dia — {self.place_label()}",
            axis="Matrículas",
        )

    def units(self, view: View) -> pd.DataFrame:
        m = queries.matriculas_by_child(self.ds, view)
        if m.empty:
            return frame.empty_frame(COLUMNS, "id")
        frame.as_counts(m, ("matriculas", "enturmadas", "nao_enturmadas"))
        m["pct_enturmacao"] = frame.share(m["enturmadas"], m["matriculas"])
        return m

    def fill_table(self, view: View) -> None:
        df = self.units(view) if view.place.child is not None else None
        self.set_units(self.table, df, "Matrículas", self.table, self.export)

    def fill_students(self, view: View) -> None:
        level = view.place.level
        frame.show(self.students_box, level in ("escola", "turma"))
        if level not in ("escola", "turma"):
            frame.clear(self.students)
            return
        listed = level == "escola" and frame.sees_students(self.viewer, view)
        for w in (self.students, self.students_export):
            frame.show(w, listed)
        if not frame.sees_students(self.viewer, view):
            text = frame.RESTRITA
        elif level == "turma":
            text = (
                "Estudantes não enturmados não pertencem a uma turma: volte à escola para vê-los."
            )
        else:
            text = ""
        if not listed:
            self.students_title.value = ui.message(text)
            frame.clear(self.students)
            return
        df = queries.students(self.ds, view, "NOT a.enturmada")
        self.students_title.value = "<h3>Estudantes ativos sem turma</h3>" + (
            "" if len(df) else ui.message("Nenhum estudante ativo sem turma nesta escola.")
        )
        self.students.set_frame(df, ordered_by=("nome", False))


build = build_panel(Matriculas)
