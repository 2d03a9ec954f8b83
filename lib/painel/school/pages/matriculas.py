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
from ...dash.table import Column, Table
from ...scope import ScopedDataset
from .. import charts, contract, queries
from ..queries import View
from .frame import SchoolPanel, build_panel, pct, sees_students, set_kpis

COLUMNS = [
    Column("label", "Unidade"),
    Column("matriculas", "Matrículas ativas", kind="int"),
    Column("enturmadas", "Enturmadas", kind="int"),
    Column("nao_enturmadas", "Não enturmadas", kind="int"),
    Column("pct_enturmacao", "Enturmação (%)", kind="percent"),
]
STUDENT_COLUMNS = [
    Column("nome", "Estudante"),
    Column("id_matricula", "Matrícula", kind="text"),
    Column("etapa_nome", "Etapa"),
    Column("dt_matricula", "Data da matrícula", kind="date"),
    Column("dt_nascimento", "Data de nascimento", kind="date"),
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


def students(ds: ScopedDataset, view: View, extra_where: str = "TRUE") -> pd.DataFrame:
    """Active escolarização matrículas of the view (``alunos`` ``a``) with the student's name
    and birth date (``estudantes``): only for panels that list students, inside a school."""
    where, params = view.where("a")
    df = ds.sql(
        "SELECT a.id_matricula, a.id_turma, s.nome, s.dt_nascimento, a.etapa, a.dt_matricula, "
        "a.idade, a.freq_pct, a.situacao FROM alunos a "
        "JOIN estudantes s ON s.id_matricula = a.id_matricula "
        f"WHERE {where} AND {ACTIVE} AND ({extra_where}) ORDER BY s.nome COLLATE noaccent.nocase, a.id_matricula",
        params,
    )
    df["etapa_nome"] = [queries.etapa_label(e) for e in df["etapa"]]
    df["id_matricula"] = df["id_matricula"].astype(str)
    return df


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
        col = f"c{i}"
        out[col] = out["id"].map(counts).fillna(0).astype(int)
        series.append((col, name))
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
        self.chart = ui.ClickChart(self.open_label, filename="matriculas_por_unidade")
        self.trend = Chart(filename="matriculas_por_dia")
        self.trend_note = widgets.HTML()
        self.table = Table(
            COLUMNS,
            caption="Unidades",
            sort="label",
            unit="unidades",
            click_hint="clique em uma linha para ver a unidade",
        )
        self.table.on_row_click(
            ui.guarded(self.notice)(lambda r: self.open_unit(r["id"], r["label"]))
        )
        self.export = self.export_button(self.table, COLUMNS, "matriculas", "Matrículas")
        self.students_title = widgets.HTML()
        self.students = Table(
            STUDENT_COLUMNS,
            caption="Estudantes não enturmados",
            sort="nome",
            unit="estudantes",
            empty_text="Nenhum estudante ativo sem turma.",
        )
        self.students_export = self.export_button(
            self.students, STUDENT_COLUMNS, "nao_enturmados", "Não enturmados"
        )
        self.students_box = widgets.VBox([self.students_title, self.students, self.students_export])
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
        self.draw_split(view)
        self.draw_trend(view)
        self.fill_table(view)
        self.fill_students(view)

    def draw_split(self, view: View) -> None:
        if view.place.child is None:
            self.chart.layout.display = self.split.layout.display = "none"
            return
        self.chart.layout.display = self.split.layout.display = None
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
        if view.place.level == "turma":
            self.trend.layout.display = "none"
            self.trend_note.value = ""
            return
        self.trend.layout.display = None
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
            return pd.DataFrame(columns=["id", *[c.key for c in COLUMNS]])
        for c in ("matriculas", "enturmadas", "nao_enturmadas"):
            m[c] = m[c].fillna(0).astype(int)
        m["pct_enturmacao"] = 100 * m["enturmadas"] / m["matriculas"].where(m["matriculas"] > 0)
        return m

    def fill_table(self, view: View) -> None:
        if view.place.child is None:
            self.table.layout.display = self.export.layout.display = "none"
            self.table.set_frame(pd.DataFrame(columns=["id", *[c.key for c in COLUMNS]]))
            return
        self.table.layout.display = self.export.layout.display = None
        self.table.caption = f"Matrículas {self.children_title()}"
        self.table.set_frame(self.units(view))

    def fill_students(self, view: View) -> None:
        empty = pd.DataFrame(columns=[c.key for c in STUDENT_COLUMNS])
        level = view.place.level
        if level not in ("escola", "turma"):
            self.students_box.layout.display = "none"
            self.students.set_frame(empty)
            return
        self.students_box.layout.display = None
        show = level == "escola" and sees_students(self.viewer, view)
        self.students.layout.display = self.students_export.layout.display = (
            None if show else "none"
        )
        if not sees_students(self.viewer, view):
            text = "A lista nominal de estudantes é restrita à escola e à sua SRE."
        elif level == "turma":
            text = (
                "Estudantes não enturmados não pertencem a uma turma: volte à escola para vê-los."
            )
        else:
            text = ""
        if not show:
            self.students_title.value = ui.message(text)
            self.students.set_frame(empty)
            return
        df = students(self.ds, view, "NOT a.enturmada")
        self.students_title.value = "<h3>Estudantes ativos sem turma</h3>" + (
            "" if len(df) else ui.message("Nenhum estudante ativo sem turma nesta escola.")
        )
        self.students.set_frame(df, ordered_by=("nome", False))


build = build_panel(Matriculas)
