"""Turmas e Ocupação: which classes are over or under full?

KPI cards (turmas de escolarização com alunos, alunos por turma, turmas acima da capacidade,
vagas ociosas), the turmas by occupancy band (ativos ÷ capacidade), and:

- above the school: the bands of each unit one level down (a bar drills down) and the table
  by unit (turmas, ATU, acima da capacidade, vagas ociosas) with export;
- inside a school: the table of its turmas (nome, etapa, turno, capacidade, ativos,
  ocupação); a row opens the turma and lists its active students (names: for the school's
  staff and its SRE, never for a central user).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, ui
from ...dash.chart import Chart
from ...dash.table import Column
from .. import charts, queries
from ..queries import View
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, set_kpis

# occupancy = ativos ÷ capacidade (%): (column, label, lower bound inclusive, upper bound)
BANDS = [
    ("f_baixa", "Menos de 50%", None, 50),
    ("f_media", "50% a 80%", 50, 80),
    ("f_alta", "80% a 100%", 80, 100),
    ("f_acima", "Acima de 100%", 100, None),
]
ESCOLARIZACAO = "a.escolarizacao"
OCUPACAO = "100.0 * a.ativos / nullif(a.capacidade, 0)"


def _band_sql(lo: float | None, hi: float | None) -> str:
    """The SQL condition of an occupancy band: [lo, hi) except the 80-100 band, which holds
    a full turma (exactly 100%); "acima" is strictly above 100%."""
    if lo is None:
        return f"{OCUPACAO} < {hi}"
    if hi is None:
        return f"{OCUPACAO} > {lo}"
    if hi == 100:
        return f"{OCUPACAO} >= {lo} AND {OCUPACAO} <= {hi}"
    return f"{OCUPACAO} >= {lo} AND {OCUPACAO} < {hi}"


BAND_SQL = ", ".join(
    f"count(*) FILTER (WHERE {_band_sql(lo, hi)})::BIGINT AS {key}" for key, _, lo, hi in BANDS
)
MEASURES = (
    "count(*) FILTER (WHERE a.ativos > 0)::BIGINT AS turmas, "
    "sum(a.ativos) FILTER (WHERE a.ativos > 0)::BIGINT AS alunos, "
    "count(*) FILTER (WHERE a.acima_capacidade)::BIGINT AS acima, "
    "sum(greatest(a.capacidade - a.ativos, 0))::BIGINT AS vagas, "
    "count(*)::BIGINT AS todas, " + BAND_SQL
)

UNIT_COLUMNS = [
    col.UNIDADE,
    Column("turmas", "Turmas com alunos", kind="int"),
    Column("alunos", "Alunos enturmados", kind="int"),
    col.ALUNOS_POR_TURMA,
    Column("acima", "Turmas acima da capacidade", kind="int"),
    Column("vagas", "Vagas ociosas", kind="int"),
]
TURMA_COLUMNS = [
    Column("label", "Turma"),
    Column("etapa_nome", "Etapa"),
    Column("turno", "Turno"),
    Column("capacidade", "Capacidade", kind="int"),
    Column("ativos", "Alunos ativos", kind="int"),
    Column("ocupacao", "Ocupação (%)", kind="percent"),
    Column("vagas", "Vagas ociosas", kind="int"),
]
STUDENT_COLUMNS = [
    col.ESTUDANTE,
    col.MATRICULA,
    col.DT_NASCIMENTO,
    Column("idade", "Idade", kind="int"),
    col.DT_MATRICULA,
    col.FREQUENCIA,
]


class Turmas(SchoolPanel):
    title = "Turmas e Ocupação"
    lists_students = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(4)]
        self.bands = Chart(filename="turmas_por_ocupacao")
        self.chart, self.table, self.export = self.unit_widgets(
            UNIT_COLUMNS, name="turmas", sheet="Turmas", chart_file="ocupacao_por_unidade"
        )
        self.turmas, self.turmas_export = self.table_export(
            TURMA_COLUMNS,
            name="turmas_da_escola",
            sheet="Turmas",
            caption="Turmas da escola",
            sort="label",
            unit="turmas",
            click_hint="clique em uma turma para ver seus estudantes",
            empty_text="Nenhuma turma de escolarização nesta seleção.",
        )
        self.opens_units(self.turmas)
        self.students_title, self.students, self.students_export, self.turma_box = (
            self.student_block(
                STUDENT_COLUMNS,
                name="estudantes_da_turma",
                sheet="Estudantes",
                caption="Estudantes ativos da turma",
                sort="nome",
                empty_text="Nenhum estudante ativo nesta turma.",
            )
        )
        self.above = widgets.VBox([self.chart, self.table, self.export])
        self.inside = widgets.VBox([self.turmas, self.turmas_export])

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.bands, self.above, self.inside, self.turma_box]

    def refresh(self) -> None:
        view = self.view
        t = queries.totals(self.ds, view, "turmas", MEASURES, extra_where=ESCOLARIZACAO)
        n = t.get("turmas") or 0
        set_kpis(
            self.cards,
            [
                ("Turmas", fmt.number(n), "de escolarização, com alunos"),
                (
                    "Alunos por turma",
                    fmt.number((t.get("alunos") or 0) / n, 1) if n else fmt.EMPTY,
                    "enturmados ÷ turmas com alunos",
                ),
                ("Acima da capacidade", fmt.number(t.get("acima") or 0), "turmas"),
                ("Vagas ociosas", fmt.number(t.get("vagas") or 0), "capacidade − ativos"),
            ],
        )
        total = t.get("todas") or 0
        self.bands.figure = charts.bars(
            [label for _, label, _, _ in BANDS] if total else [],
            [int(t.get(key) or 0) for key, _, _, _ in BANDS] if total else [],
            title="Turmas por ocupação (alunos ativos ÷ capacidade)",
            axis="Turmas",
        )
        level = view.place.level
        frame.show(self.above, level in ("estado", "sre", "municipio"))
        frame.show(self.inside, level == "escola")
        frame.show(self.turma_box, level == "turma")
        if level in ("estado", "sre", "municipio"):
            self.fill_units(view)
        elif level == "escola":
            self.fill_turmas(view)
        else:
            self.fill_students(view)

    def units(self, view: View) -> pd.DataFrame:
        df = queries.by_child(self.ds, view, "turmas", MEASURES, extra_where=ESCOLARIZACAO)
        if df.empty:
            return frame.empty_frame(UNIT_COLUMNS, "id")
        frame.as_counts(df, ["turmas", "alunos", "acima", "vagas", "todas", *[b[0] for b in BANDS]])
        df["atu"] = df["alunos"] / df["turmas"].where(df["turmas"] > 0)
        return df

    def fill_units(self, view: View) -> None:
        df = self.units(view)
        self.chart.figure = charts.stacked_by_unit(
            df if df["todas"].sum() else df.iloc[0:0],  # no turma: the chart says so
            [(key, label) for key, label, _, _ in BANDS],
            title=f"Turmas por ocupação {self.children_title()}",
            axis="Turmas",
        )
        self.set_units(self.table, df, "Turmas")

    def fill_turmas(self, view: View) -> None:
        where, params = view.where("a")
        df = self.ds.sql(
            "SELECT a.id_turma AS id, a.nome AS label, a.etapa, a.turno, a.capacidade, a.ativos, "
            f"{OCUPACAO} AS ocupacao, greatest(a.capacidade - a.ativos, 0) AS vagas "
            f"FROM turmas a WHERE {where} AND {ESCOLARIZACAO} ORDER BY a.nome",
            params,
        )
        df["etapa_nome"] = [queries.etapa_label(e) for e in df["etapa"]]
        df = queries.unique_labels(df)
        self.turmas.set_frame(df)

    def fill_students(self, view: View) -> None:
        listed = frame.sees_students(self.viewer, view)
        for w in (self.students, self.students_export):
            frame.show(w, listed)
        if not listed:
            self.students_title.value = ui.message(frame.RESTRITA)
            frame.clear(self.students)
            return
        df = queries.students(self.ds, view)
        self.students_title.value = (
            f"<h3>Estudantes ativos — {html.escape(self.place_label())}</h3>"
            + ("" if len(df) else ui.message("Nenhum estudante ativo nesta turma."))
        )
        self.students.set_frame(df, ordered_by=("nome", False))


build = build_panel(Turmas)
