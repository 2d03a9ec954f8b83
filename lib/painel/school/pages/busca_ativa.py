"""Busca Ativa: who stopped coming? Students with N school days or more without presence (rule
I14; N is the job's ``dias_busca_ativa``, the viewer may try another), those halfway there,
by unit and, at a school or a turma, the list with the last presence."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, ui
from ...dash.table import Column
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import STYLE, SchoolPanel, build_panel, pct, set_kpis

DIAS_PADRAO = 15  # the job's default (docs/school.md, I14)
DIAS_OPCOES = (5, 10, 15, 20, 30)
# active escolarização matrículas in a turma, whose days without presence the job counted
BASE = f"{queries.ACTIVE} AND a.enturmada AND a.dias_sem_presenca IS NOT NULL"
MEASURES = (
    "count(*) AS acompanhadas, "
    "count(*) FILTER (WHERE a.dias_sem_presenca >= ?) AS busca, "
    "count(*) FILTER (WHERE a.dias_sem_presenca >= ? AND a.dias_sem_presenca < ?) AS atencao"
)
COUNTS = ("acompanhadas", "busca", "atencao")
NUNCA = "nunca registrada"

UNIT_COLUMNS = [
    col.UNIDADE,
    Column("acompanhadas", "Matrículas acompanhadas", kind="int"),
    Column("busca", "Sem presença (busca ativa)", kind="int"),
    Column("pct_busca", "Sem presença (%)", kind="percent"),
    Column("atencao", "Atenção", kind="int"),
]
STUDENT_COLUMNS = [
    col.ESTUDANTE,
    col.TURMA,
    Column("ultima", "Última presença", sortable=False),
    Column("dias_sem_presenca", "Dias letivos sem presença", kind="int"),
    Column("situacao", "Situação"),
]


def dias_do_job(manifest: dict[str, Any]) -> int:
    """The job's ``dias_busca_ativa`` as the published version recorded it (default 15)."""
    value: Any = (manifest.get("parameters") or {}).get("dias_busca_ativa")
    try:
        n = int(value)
    except (TypeError, ValueError):
        return DIAS_PADRAO
    return n if n > 0 else DIAS_PADRAO


def atencao_desde(n: int) -> int:
    """The first day of "atenção": half of N, rounded up (N = 15: from 8 days)."""
    return max(1, math.ceil(n / 2))


def ultima(value: Any) -> str:
    return NUNCA if fmt._missing(value) else fmt.date(value)


class BuscaAtiva(SchoolPanel):
    title = "Busca Ativa"
    lists_students = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.n_job = dias_do_job(self.ds.manifest)
        options = sorted({*DIAS_OPCOES, self.n_job})
        self.dias = widgets.Dropdown(
            options=[(f"{n} dias letivos", n) for n in options],
            value=self.n_job,
            description="Sem presença há:",
            style=STYLE,
        )
        self.cards = [widgets.HTML() for _ in range(4)]
        self.empty = widgets.HTML()
        self.chart, self.table, self.export = self.unit_widgets(
            UNIT_COLUMNS,
            name="busca_ativa",
            sheet="Busca ativa",
            chart_file="busca_ativa_por_unidade",
        )
        self.table_box = widgets.VBox([self.table, self.export])
        self.students_note, self.students, self.students_export, self.students_box = (
            self.student_block(
                STUDENT_COLUMNS,
                name="busca_ativa_estudantes",
                sheet="Estudantes",
                heading="Estudantes para a busca ativa",
                caption="Estudantes sem presença",
                sort="dias_sem_presenca",
                descending=True,
                empty_text="Nenhum estudante sem presença recente nesta seleção.",
            )
        )

    @property
    def n(self) -> int:
        return int(ui.choose(self.dias.value, self.dias.options, fallback=self.n_job))

    def describe(self) -> list[tuple[str, str]]:
        return [*super().describe(), ("Dias letivos sem presença", f"{self.n} ou mais")]

    def filter_bar(self) -> widgets.Widget:
        bar = super().filter_bar()
        bar.children = (*bar.children, self.dias)
        return bar

    def watch(self, refresh: Any) -> None:
        super().watch(refresh)
        self.dias.observe(ui.guarded(self.notice)(lambda change: refresh()), names="value")

    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.empty, self.chart, self.table_box, self.students_box]

    # ---- queries -------------------------------------------------------------------------------
    def _params(self) -> list[Any]:
        n = self.n
        return [n, atencao_desde(n), n]

    def totals(self, view: queries.View) -> dict[str, int]:
        t = queries.totals(
            self.ds, view, "alunos", MEASURES, extra_where=BASE, measure_params=self._params()
        )
        return {k: int(v or 0) for k, v in t.items()}

    def by_child(self, view: queries.View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        out = queries.by_child(
            self.ds, view, "alunos", MEASURES, extra_where=BASE, measure_params=self._params()
        )
        if out.empty:
            return pd.DataFrame(columns=["id", "label", *COUNTS, "pct_busca"])
        frame.as_counts(out, COUNTS)
        out["pct_busca"] = frame.share(out["busca"], out["acompanhadas"])
        return out

    # ---- filling in --------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.view
        n = self.n
        lo = atencao_desde(n)
        t = self.totals(view)
        set_kpis(
            self.cards,
            [
                (
                    f"Sem presença há {n} dias letivos ou mais",
                    fmt.number(t["busca"]),
                    "estudantes para a busca ativa",
                ),
                (
                    "Atenção",
                    fmt.number(t["atencao"]),
                    f"de {lo} a {n - 1} dias letivos sem presença",
                ),
                (
                    "Sem presença (%)",
                    fmt.percent(pct(t["busca"], t["acompanhadas"]), 1),
                    f"das {fmt.plural(t['acompanhadas'], 'matrícula acompanhada', 'matrículas acompanhadas')}",
                ),
                (
                    "Matrículas acompanhadas",
                    fmt.number(t["acompanhadas"]),
                    "ativas e enturmadas, com frequência diária",
                ),
            ],
        )
        if not t["acompanhadas"]:
            self.empty.value = ui.message(
                "Ainda não há frequência diária registrada para esta seleção.", "info"
            )
        elif not t["busca"]:
            self.empty.value = ui.message(
                f"Nenhum estudante sem presença há {n} dias letivos ou mais nesta seleção.",
                "info",
            )
        else:
            self.empty.value = ""
        df = self.by_child(view)
        unit = self.children_title()
        frame.show(self.chart, df is not None)
        if df is not None:
            self.chart.figure = charts.bars_by_unit(
                df,
                "busca",
                title=f"Sem presença há {n} dias letivos ou mais {unit}",
                axis="Estudantes",
            )
        # at a school (its turmas below): the list of students, no table of units
        listed = None if frame.at_school(view.place) else df
        self.set_units(self.table, listed, "Busca ativa", self.table_box)
        self.fill_students(view)

    def fill_students(self, view: queries.View) -> None:
        box, note = self.students_box, self.students_note
        if not self.students_shown(box, note, self.students, self.students_export):
            return
        n = self.n
        lo = atencao_desde(n)
        where, params = view.where("a")
        df = self.ds.sql(
            "SELECT a.id_matricula, e.nome, t.nome AS turma, a.ultima_presenca, "
            "a.dias_sem_presenca FROM alunos a "
            "JOIN estudantes e ON e.id_matricula = a.id_matricula "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"WHERE {where} AND {BASE} AND a.dias_sem_presenca >= ? "
            "ORDER BY a.dias_sem_presenca DESC, e.nome",
            params + [lo],
        )
        df["ultima"] = [ultima(v) for v in df["ultima_presenca"]]
        df["situacao"] = [
            f"Busca ativa ({n} dias ou mais)" if d >= n else "Atenção"
            for d in df["dias_sem_presenca"]
        ]
        self.students_note.value = ui.message(
            f"Estudantes com {lo} dias letivos ou mais sem presença: em “Busca ativa” os de "
            f"{n} dias ou mais, em “Atenção” os que estão chegando lá.",
            "info",
        )
        self.students.set_frame(df, ordered_by=("dias_sem_presenca", True))


build = build_panel(BuscaAtiva)
