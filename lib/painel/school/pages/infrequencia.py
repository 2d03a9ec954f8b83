"""Infrequência: who is below 75 % attendance? KPI cards, % infrequentes by unit, frequência by
bimestre and, at a school or a turma, the students below the minimum (or at risk)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, ui
from ...dash.chart import Chart
from ...dash.table import Column
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import STYLE, SchoolPanel, build_panel, pct, set_kpis

# only people of an SRE or a school (and admins) read names: a central user's place is the
# network, not the student (docs/school.md: student lists "escola, SRE")
UNIT_COLUMNS = [
    col.UNIDADE,
    col.MATRICULAS_ATIVAS,
    Column("com_frequencia", "Com frequência lançada", kind="int"),
    Column("infrequentes", "Infrequentes", kind="int"),
    col.PCT_INFREQUENTES,
    Column("em_risco", "Em risco", kind="int"),
    Column("pct_em_risco", "Em risco (%)", kind="percent"),
    Column("frequencia", "Frequência (%)", kind="percent"),
]
STUDENT_COLUMNS = [
    col.ESTUDANTE,
    col.TURMA,
    col.FREQUENCIA,
    Column("faltas", "Faltas", kind="int"),
    Column("aulas", "Aulas dadas", kind="int"),
]
LISTAS = [
    ("Infrequentes (abaixo de 75%)", "infrequente"),
    ("Em risco (faltas acima de 7,5%)", "risco"),
]

# frequência over the classes given (absences already clipped to the classes in agg_freq)
FREQ = "sum(a.faltas)::DOUBLE AS faltas, sum(a.aulas_dadas)::DOUBLE AS aulas"


def frequencia(faltas: Any, aulas: Any) -> float | None:
    try:
        return 100.0 * (1 - float(faltas) / float(aulas)) if aulas else None
    except (TypeError, ValueError):
        return None


class Infrequencia(SchoolPanel):
    title = "Infrequência"
    lists_students = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = [widgets.HTML() for _ in range(4)]
        self.empty = widgets.HTML()
        self.chart, self.table, self.export = self.unit_widgets(
            UNIT_COLUMNS,
            name="infrequencia",
            sheet="Infrequência",
            chart_file="infrequentes_por_unidade",
        )
        self.by_bimestre = Chart(filename="frequencia_por_bimestre")
        self.units_box = widgets.VBox([self.chart, self.table, self.export])
        # the students (school or turma)
        self.lista = widgets.Dropdown(
            options=LISTAS, value="infrequente", description="Listar:", style=STYLE
        )
        self.students_note, self.students, self.students_export, self.students_box = (
            self.student_block(
                STUDENT_COLUMNS,
                name="infrequencia_estudantes",
                sheet="Estudantes",
                heading="Estudantes",
                controls=[self.lista],
                caption="Estudantes infrequentes",
                sort="freq_pct",
                empty_text="Nenhum estudante nesta situação.",
            )
        )

    def watch(self, refresh: Any) -> None:
        super().watch(refresh)
        self.lista.observe(
            ui.guarded(self.notice)(lambda change: self.fill_students(self.view)), names="value"
        )

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.empty,
            self.units_box,
            self.by_bimestre,
            self.students_box,
        ]

    # ---- filling in --------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.view
        ds = self.ds
        self.fill_units(view)  # the chart first (SchoolPanel.refresh)
        m = queries.matriculas_total(ds, view)
        f = queries.totals(ds, view, "agg_freq", FREQ)
        com = m.get("com_frequencia") or 0
        set_kpis(
            self.cards,
            [
                (
                    "Infrequentes",
                    fmt.percent(pct(m.get("infrequentes"), com), 1),
                    f"frequência abaixo de 75%, entre {fmt.plural(int(com), 'matrícula', 'matrículas')} com frequência lançada",
                ),
                (
                    "Em risco",
                    fmt.percent(pct(m.get("em_risco"), com), 1),
                    "faltas acima de 7,5% das aulas dadas",
                ),
                ("Estudantes infrequentes", fmt.number(m.get("infrequentes") or 0), ""),
                (
                    "Frequência",
                    fmt.percent(frequencia(f.get("faltas"), f.get("aulas")), 1),
                    "1 − faltas ÷ aulas dadas, no ano",
                ),
            ],
        )
        self.empty.value = (
            "" if com else ui.message("Não há frequência lançada para esta seleção.", "info")
        )
        self.fill_bimestres(view)
        self.fill_students(view)

    def fill_units(self, view: queries.View) -> None:
        m = queries.matriculas_by_child(self.ds, view) if view.place.child else None
        if m is not None:  # the chart needs only the enrolments
            shares = (
                m
                if m.empty
                else m.assign(pct_infrequentes=frame.share(m["infrequentes"], m["com_frequencia"]))
            )
            self.chart.figure = charts.bars_by_unit(
                shares,
                "pct_infrequentes",
                title=f"Infrequentes (%) {self.children_title()}",
                axis="Infrequentes (%)",
                percent=True,
            )
        self.set_units(self.table, self.units(view, m), "Infrequência", self.units_box)

    def units(self, view: queries.View, m: pd.DataFrame | None) -> pd.DataFrame | None:
        """The table's rows: ``m`` (the enrolments per unit) with their attendance."""
        if view.place.child is None or m is None:
            return None
        if m.empty:
            return m.assign(**{c.key: [] for c in UNIT_COLUMNS if c.key not in m.columns})
        f = queries.by_child(self.ds, view, "agg_freq", FREQ)
        m = m.merge(f[["id", "faltas", "aulas"]], on="id", how="left")
        frame.as_counts(m, ("matriculas", "com_frequencia", "infrequentes", "em_risco"))
        m["pct_infrequentes"] = frame.share(m["infrequentes"], m["com_frequencia"])
        m["pct_em_risco"] = frame.share(m["em_risco"], m["com_frequencia"])
        aulas = m["aulas"].where(m["aulas"] > 0)
        m["frequencia"] = 100 * (1 - m["faltas"] / aulas)
        return m

    def fill_bimestres(self, view: queries.View) -> None:
        where, params = view.where("a")
        df = self.ds.sql(
            f"SELECT a.bimestre, {FREQ} FROM agg_freq a WHERE {where} GROUP BY ALL "
            "HAVING sum(a.aulas_dadas) > 0 ORDER BY 1",
            params,
        )
        labels = [frame.bimestre_label(b) for b in df["bimestre"]]
        values = [100.0 * (1 - r.faltas / r.aulas) for r in df.itertuples()]
        self.by_bimestre.figure = charts.bars(
            labels, values, title="Frequência por bimestre", axis="Frequência (%)", percent=True
        )

    def fill_students(self, view: queries.View) -> None:
        parts = (self.lista, self.students_export)
        if not self.students_shown(self.students_box, self.students_note, self.students, *parts):
            return
        lista = ui.choose(self.lista.value, LISTAS, fallback="infrequente")
        flag = "a.infrequente" if lista == "infrequente" else "a.em_risco"
        where, params = view.where("a")
        df = self.ds.sql(
            "SELECT a.id_matricula, e.nome, t.nome AS turma, a.freq_pct, a.faltas, a.aulas "
            "FROM alunos a JOIN estudantes e ON e.id_matricula = a.id_matricula "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"WHERE {where} AND {queries.ACTIVE} AND {flag} ORDER BY a.freq_pct, e.nome",
            params,
        )
        self.students_note.value = ""
        self.students.caption = (
            "Estudantes infrequentes (frequência abaixo de 75%)"
            if lista == "infrequente"
            else "Estudantes em risco (faltas acima de 7,5% das aulas)"
        )
        self.students.set_frame(df, ordered_by=("freq_pct", False))


build = build_panel(Infrequencia)
