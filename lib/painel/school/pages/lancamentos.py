"""Painel DED – Lançamentos: did teachers record grades and attendance?

``agg_lancamento`` holds, per turma × componente × bimestre begun, the students expected
(active, enturmados since the bimestre's start), the grades and the attendance recorded, the
linked teacher. A turma × componente is **lançada** in a bimestre when every expected student
has the record. The KPIs, the ranking and the list of what is missing count the bimestres
whose deadline has passed (``devido``), or the bimestre chosen in the filter; the progress
bars show every bimestre begun.

``agg_lancamento`` has no etapa/turno/modalidade: it is joined to ``turmas`` (scoped too) on
the turma for those filters. The dump has no teacher names: a teacher is shown by the
number of their record ("Professor(a) nº …").
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import fmt, plots, ui
from ...dash.chart import Chart
from ...dash.table import Column
from ...scope import ScopedDataset
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, pct, set_kpis

# agg_lancamento with the turma's etapa group, turno, modalidade and name (aliased ``a``)
LANC = (
    "(SELECT l.*, t.grupo, t.turno, t.modalidade, t.nome AS turma_nome "
    "FROM agg_lancamento l JOIN turmas t ON t.id_turma = l.id_turma)"
)
NOTAS_OK = "a.notas_lancadas >= a.esperadas"
FREQ_OK = "a.freq_lancadas >= a.esperadas"


def measures(due: str, one_bimestre: bool, first_flag: bool = True) -> str:
    """Counts over the turma × componente × bimestre rows ``due`` selects (a constant SQL
    condition, never a value from the browser); the pairs without a teacher over every
    bimestre (each pair counted once: on its first bimestre's row, ``primeiro``, unless the
    rows are of ``one_bimestre``; a version published before ``primeiro`` existed
    (``first_flag`` False) counts them distinct, slower)."""
    if one_bimestre or first_flag:
        once = "TRUE" if one_bimestre else "a.primeiro"
        teacher = f"count(*) FILTER (WHERE NOT a.com_professor AND {once})"
    else:
        teacher = "count(DISTINCT (a.id_turma, a.componente)) FILTER (WHERE NOT a.com_professor)"
    return (
        f"count(*) FILTER (WHERE {due})::BIGINT AS pares, "
        f"count(*) FILTER (WHERE {due} AND {NOTAS_OK})::BIGINT AS notas_ok, "
        f"count(*) FILTER (WHERE {due} AND {FREQ_OK})::BIGINT AS freq_ok, "
        f"count(*) FILTER (WHERE {due} AND {NOTAS_OK} AND {FREQ_OK})::BIGINT AS completos, "
        f"{teacher}::BIGINT AS sem_professor"
    )


PARES = Column("pares", "Turmas × componentes (por bimestre)", kind="int")
SHARES = [
    Column("pct_notas", "Notas lançadas (%)", kind="percent"),
    Column("pct_freq", "Frequência lançada (%)", kind="percent"),
    Column("pct_completo", "Lançamentos completos (%)", kind="percent"),
]
PROFESSOR = Column("professor", "Professor(a) titular (nº no SIMADE; o arquivo não traz nomes)")
COLUMNS = [
    col.UNIDADE,
    PARES,
    *SHARES,
    Column("sem_professor", "Turmas × componentes sem professor(a)", kind="int"),
]
PENDING_COLUMNS = [
    col.TURMA,
    col.COMPONENTE,
    col.BIMESTRE,
    Column("esperadas", "Estudantes", kind="int"),
    Column("notas_lancadas", "Notas lançadas", kind="int"),
    Column("freq_lancadas", "Frequências lançadas", kind="int"),
    Column("falta", "O que falta"),
    PROFESSOR,
]
TEACHER_COLUMNS = [PROFESSOR, Column("turmas", "Turmas"), PARES, *SHARES]
COUNTS = ("pares", "notas_ok", "freq_ok", "completos", "sem_professor")
NO_TEACHER = "Sem professor(a) titular vinculado(a)"


def teacher_label(docente: Any) -> str:
    if docente is None or pd.isna(docente):
        return NO_TEACHER
    return f"Professor(a) nº {int(docente)}"


def missing_text(row: pd.Series) -> str:
    parts = []
    notas = int(row["esperadas"]) - int(row["notas_lancadas"])
    freq = int(row["esperadas"]) - int(row["freq_lancadas"])
    if notas > 0:
        parts.append(fmt.plural(notas, "nota", "notas"))
    if freq > 0:
        parts.append(fmt.plural(freq, "registro de frequência", "registros de frequência"))
    if not row["com_professor"]:
        parts.append("professor(a) não vinculado(a)")
    return "; ".join(parts)


def with_shares(df: pd.DataFrame) -> pd.DataFrame:
    frame.as_counts(df, [c for c in COUNTS if c in df.columns])
    df["pct_notas"] = frame.share(df["notas_ok"], df["pares"])
    df["pct_freq"] = frame.share(df["freq_ok"], df["pares"])
    df["pct_completo"] = frame.share(df["completos"], df["pares"])
    return df


class Lancamentos(SchoolPanel):
    title = "Painel DED – Lançamentos"
    source = "do DED (Diário Escolar Digital)"
    uses_bimestre = True

    def __init__(self, viewer: Viewer, ds: ScopedDataset) -> None:
        super().__init__(viewer, ds)
        self.cards = [widgets.HTML() for _ in range(4)]
        self.period = widgets.HTML()
        self.progress = Chart(filename="lancamentos_por_bimestre")
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS,
            name="lancamentos",
            sheet="Lançamentos",
            chart_file="lancamentos_por_unidade",
            sort="pct_completo",
        )
        self.pending_note = widgets.HTML()
        self.pending, self.pending_export = self.table_export(
            PENDING_COLUMNS,
            name="lancamentos_pendentes",
            sheet="Pendências",
            caption="Turmas × componentes com lançamento pendente",
            sort="turma",
            unit="pendências",
            empty_text="Nenhuma pendência de lançamento nesta seleção.",
        )
        self.teachers, self.teachers_export = self.table_export(
            TEACHER_COLUMNS,
            name="lancamentos_professores",
            sheet="Professores",
            caption="Lançamentos por professor(a), do menor ao maior",
            sort="pct_completo",
            unit="professores(as)",
        )
        self.units_box = widgets.VBox([self.chart, self.table, self.export])
        self.school_box = widgets.VBox(
            [
                self.pending_note,
                self.pending,
                self.pending_export,
                self.teachers,
                self.teachers_export,
            ]
        )

    def body(self) -> list[widgets.Widget]:
        return [
            self.period,
            ui.kpi_row(self.cards),
            self.progress,
            self.units_box,
            self.school_box,
        ]

    # ---- what is counted -----------------------------------------------------------------------
    def due(self) -> str:
        """Rows the KPIs count: the bimestre chosen, else the bimestres past their deadline."""
        return "TRUE" if self.filters.bimestre else "a.devido"

    def rows_of(self, view: queries.View) -> str:
        """``agg_lancamento``, joined to its turmas only when a filter needs their etapa
        group, turno or modalidade."""
        f = view.filters
        return LANC if (f.grupo or f.turno or f.modalidade) else "agg_lancamento"

    def measures(self) -> str:
        columns = self.ds.memo(
            "agg_lancamento columns",
            lambda: set(self.ds.sql("SELECT * FROM agg_lancamento LIMIT 0").columns),
        )
        return measures(
            self.due(), one_bimestre=bool(self.filters.bimestre), first_flag="primeiro" in columns
        )

    def period_text(self) -> str:
        cal = queries.bimestres(self.ds)
        chosen = self.filters.bimestre
        if chosen:
            row = cal[cal["bimestre"] == chosen]
            late = bool(row["devido"].iloc[0]) if len(row) else False
            return f"{chosen}º bimestre" + ("" if late else " (prazo de lançamento em aberto)")
        due = [f"{int(b)}º" for b, d in zip(cal["bimestre"], cal["devido"], strict=False) if d]
        if not due:
            return ""
        return "bimestres com prazo de lançamento encerrado: " + ", ".join(due)

    # ---- data ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.view
        self.progress.figure = self.by_bimestre(view)  # the chart first (SchoolPanel.refresh)
        period = self.period_text()
        self.period.value = (
            f"<p>Contados: {period}.</p>"
            if period
            else ui.message(
                "Nenhum bimestre teve o prazo de lançamento encerrado ainda: "
                "os indicadores aparecem após o fim do 1º bimestre.",
            )
        )
        t = queries.totals(self.ds, view, self.rows_of(view), self.measures(), with_bimestre=True)
        pares = int(t.get("pares") or 0)
        of = f"de {fmt.number(pares)} turmas × componentes"
        set_kpis(
            self.cards,
            [
                (
                    "Notas lançadas",
                    fmt.percent(pct(t.get("notas_ok"), pares), 1),
                    f"{fmt.number(t.get('notas_ok') or 0)} {of} com todas as notas",
                ),
                (
                    "Frequência lançada",
                    fmt.percent(pct(t.get("freq_ok"), pares), 1),
                    f"{fmt.number(t.get('freq_ok') or 0)} {of} com toda a frequência",
                ),
                (
                    "Lançamentos completos",
                    fmt.percent(pct(t.get("completos"), pares), 1),
                    "notas e frequência de todos os estudantes",
                ),
                (
                    "Sem professor(a) vinculado(a)",
                    fmt.number(t.get("sem_professor") or 0),
                    "turmas × componentes",
                ),
            ],
        )
        self.refresh_units(view)
        self.refresh_school(view)

    def by_bimestre(self, view: queries.View) -> plots.Spec:
        where, params = view.where("a", with_bimestre=True)
        df = self.ds.sql(
            "SELECT a.bimestre, bool_or(a.devido) AS devido, count(*) AS pares, "
            f"count(*) FILTER (WHERE {NOTAS_OK}) AS notas_ok, "
            f"count(*) FILTER (WHERE {FREQ_OK}) AS freq_ok "
            f"FROM {self.rows_of(view)} a WHERE {where} GROUP BY ALL ORDER BY a.bimestre",
            params,
        )
        labels = [
            frame.bimestre_label(b) + ("" if d else " (prazo em aberto)")
            for b, d in zip(df["bimestre"], df["devido"], strict=False)
        ]
        return charts.grouped_bars(
            labels,
            [
                ("Notas", frame.share(df["notas_ok"], df["pares"]).tolist()),
                ("Frequência", frame.share(df["freq_ok"], df["pares"]).tolist()),
            ],
            title="Turmas × componentes com lançamento completo, por bimestre",
            axis="Lançados (%)",
            percent=True,
        )

    def units(self, view: queries.View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        df = queries.by_child(
            self.ds, view, self.rows_of(view), self.measures(), with_bimestre=True
        )
        if df.empty:
            df = frame.empty_frame(COLUMNS, "id", "notas_ok", "freq_ok", "completos")
        return with_shares(df)

    def refresh_units(self, view: queries.View) -> None:
        df = self.units(view)
        self.set_units(self.table, df, "Lançamentos", self.units_box)
        if df is not None:
            self.chart.figure = charts.bars_by_unit(
                df[df["pares"] > 0],
                "pct_completo",
                title=f"Lançamentos completos {self.children_title()} (menores primeiro)",
                axis="Turmas × componentes com notas e frequência (%)",
                percent=True,
                lowest_first=True,
            )

    def refresh_school(self, view: queries.View) -> None:
        inside = frame.at_school(view.place)
        frame.show(self.school_box, inside)
        if not inside:
            frame.clear(self.pending)
            frame.clear(self.teachers)
            return
        where, params = view.where("a", with_bimestre=True)
        due = self.due()
        df = self.ds.sql(
            "SELECT a.id_turma, a.turma_nome AS turma, coalesce(c.nome, a.componente) AS "
            "componente, a.bimestre, a.esperadas, a.notas_lancadas, a.freq_lancadas, "
            f"a.com_professor, a.docente FROM {LANC} a "
            "LEFT JOIN componentes c ON c.co_componente = a.componente "
            f"WHERE {where} AND {due} AND NOT ({NOTAS_OK} AND {FREQ_OK} AND a.com_professor) "
            "ORDER BY turma, componente, a.bimestre",
            params,
        )
        df["bimestre_nome"] = [f"{int(b)}º" for b in df["bimestre"]]
        df["falta"] = [missing_text(r) for _, r in df.iterrows()] if len(df) else []
        df["professor"] = [teacher_label(d) for d in df["docente"]]
        self.pending.set_frame(df)
        self.pending_note.value = (
            ui.message("Nenhuma pendência de lançamento nesta seleção: tudo em dia.")
            if df.empty
            else ""
        )
        teachers = self.ds.sql(
            f"SELECT a.docente, string_agg(DISTINCT a.turma_nome, ', ' ORDER BY a.turma_nome) "
            f"AS turmas, {self.measures()} FROM {LANC} a WHERE {where} GROUP BY ALL",
            params,
        )
        teachers = with_shares(teachers)
        teachers["professor"] = [teacher_label(d) for d in teachers["docente"]]
        self.teachers.set_frame(teachers)


build = build_panel(Lancamentos)
