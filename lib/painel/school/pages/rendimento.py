"""Rendimento: aprovação, reprovação, abandono; who is at risk of failing?

Every escolarização matrícula of the year by situation (``agg_rendimento`` above the school,
``alunos`` inside it, where the units are turmas): TA = aprovados ÷ (aprovados + reprovados
+ abandono), TR and TAB likewise. While the year runs most matrículas are "em andamento" and
the rates wait for the outcomes; the in-year proxy is the risk of failing (below the average
in a component or infrequente). At a school, SRE and school users get the list of students
at risk (names from ``estudantes``); a central user never does.

``agg_rendimento`` has no turno or modalidade: only the etapa filter applies.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import fmt, ui
from ...dash.table import Column
from ...scope import ScopedDataset
from .. import charts, queries
from . import columns as col
from . import frame
from .frame import SchoolPanel, build_panel, set_kpis

COUNTS = (
    "aprovados",
    "reprovados",
    "abandonos",
    "falecidos",
    "transferidos",
    "em_andamento",
    "risco_reprovacao",
    "matriculas",
)
AGG = ", ".join(f"sum(a.{c})::BIGINT AS {c}" for c in COUNTS)
ROWS = (
    "count(*) FILTER (WHERE a.situacao IN (5, 6)) AS aprovados, "
    "count(*) FILTER (WHERE a.situacao = 4) AS reprovados, "
    "count(*) FILTER (WHERE a.situacao = 2) AS abandonos, "
    "count(*) FILTER (WHERE a.situacao = 3) AS falecidos, "
    "count(*) FILTER (WHERE a.situacao = 1) AS transferidos, "
    "count(*) FILTER (WHERE a.situacao = 7) AS em_andamento, "
    "count(*) FILTER (WHERE a.risco_reprovacao) AS risco_reprovacao, "
    "count(*) AS matriculas"
)
SERIES = [
    ("aprovados", "Aprovados"),
    ("reprovados", "Reprovados"),
    ("abandonos", "Abandono"),
    ("em_andamento", "Em andamento"),
]
IN_PROGRESS = "Ano letivo em andamento: taxas disponíveis após o encerramento."

COLUMNS = [
    col.UNIDADE,
    Column("matriculas", "Matrículas", kind="int"),
    Column("aprovados", "Aprovados", kind="int"),
    Column("reprovados", "Reprovados", kind="int"),
    Column("abandonos", "Abandono", kind="int"),
    Column("em_andamento", "Em andamento", kind="int"),
    Column("transferidos", "Transferidos", kind="int"),
    Column("ta", "Taxa de aprovação (%)", kind="percent"),
    Column("tr", "Taxa de reprovação (%)", kind="percent"),
    Column("tab", "Taxa de abandono (%)", kind="percent"),
    Column("risco_reprovacao", "Em risco de reprovação", kind="int"),
]
RISK_COLUMNS = [
    col.ESTUDANTE,
    col.TURMA,
    Column("aproveitamento_pct", "Aproveitamento (%)", kind="percent"),
    col.FREQUENCIA,
    Column("motivo", "Motivo"),
]


def rates(df: pd.DataFrame) -> pd.DataFrame:
    frame.as_counts(df, COUNTS)
    base = df["aprovados"] + df["reprovados"] + df["abandonos"]
    df["ta"] = frame.share(df["aprovados"], base)
    df["tr"] = frame.share(df["reprovados"], base)
    df["tab"] = frame.share(df["abandonos"], base)
    return df


def source(rows: bool) -> tuple[str, str, dict[str, Any]]:
    """Where the counts come from: the rows of ``alunos`` (inside a school, ``rows``) or the
    summary ``agg_rendimento``; (table, measures, options of the query). Only the etapa
    filter applies."""
    if rows:
        return "alunos", ROWS, {"with_turno": False, "extra_where": "a.escolarizacao"}
    return "agg_rendimento", AGG, {"levels": ("sre", "municipio", "escola"), "with_turno": False}


def reason(row: pd.Series) -> str:
    parts = []
    if row["abaixo_media"]:
        n = int(row["n_comp_abaixo"])
        parts.append(f"abaixo da média em {fmt.plural(n, 'componente', 'componentes')}")
    if row["infrequente"]:
        parts.append("frequência abaixo de 75%")
    return "; ".join(parts)


class Rendimento(SchoolPanel):
    title = "Rendimento"
    uses_turno = False
    lists_students = True

    def __init__(self, viewer: Viewer, ds: ScopedDataset) -> None:
        super().__init__(viewer, ds)
        self.cards = [widgets.HTML() for _ in range(5)]
        self.note = widgets.HTML()
        self.chart, self.table, self.export = self.unit_widgets(
            COLUMNS, name="rendimento", sheet="Rendimento", chart_file="rendimento_por_unidade"
        )
        self.risk_note = widgets.HTML()
        self.risk, self.risk_export = self.table_export(
            RISK_COLUMNS,
            name="estudantes_em_risco",
            sheet="Estudantes em risco",
            caption="Estudantes em risco de reprovação",
            sort="nome",
            unit="estudantes",
            empty_text="Nenhum estudante em risco de reprovação nesta seleção.",
        )
        self.units_box = widgets.VBox([self.chart, self.table, self.export])
        self.risk_box = widgets.VBox([self.risk, self.risk_export])

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.note,
            self.units_box,
            self.risk_note,
            self.risk_box,
        ]

    # ---- data ---------------------------------------------------------------------------------
    def overall(self, view: queries.View) -> dict[str, object]:
        table, measures, options = source(frame.at_school(view.place))
        return queries.totals(self.ds, view, table, measures, **options)

    def refresh(self) -> None:
        view = self.view
        self.refresh_units(view)  # the chart first (SchoolPanel.refresh)
        t = rates(pd.DataFrame([self.overall(view)], columns=list(COUNTS)))
        r = t.iloc[0]
        decided = int(r["aprovados"] + r["reprovados"] + r["abandonos"])
        base_note = (
            f"sobre {fmt.plural(decided, 'matrícula', 'matrículas')} com resultado final"
            if decided
            else "aguarda os resultados finais"
        )
        set_kpis(
            self.cards,
            [
                ("Taxa de aprovação", fmt.percent(r["ta"], 1), base_note),
                ("Taxa de reprovação", fmt.percent(r["tr"], 1), base_note),
                ("Taxa de abandono", fmt.percent(r["tab"], 1), base_note),
                (
                    "Em andamento",
                    fmt.number(r["em_andamento"]),
                    f"de {fmt.plural(int(r['matriculas']), 'matrícula', 'matrículas')} no ano",
                ),
                (
                    "Em risco de reprovação",
                    fmt.number(r["risco_reprovacao"]),
                    "abaixo da média em algum componente ou infrequentes",
                ),
            ],
        )
        if not int(r["matriculas"]):
            self.note.value = ui.message("Não há matrículas para esta seleção.")
        elif not decided:
            self.note.value = ui.message(IN_PROGRESS)
        elif int(r["em_andamento"]):
            self.note.value = ui.message(
                "Ano letivo em andamento: as taxas são parciais, só das matrículas já "
                "encerradas com resultado."
            )
        else:
            self.note.value = ""
        self.refresh_risk(view)

    def units(self, view: queries.View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        table, measures, options = source(view.place.child == "turma")
        df = queries.by_child(self.ds, view, table, measures, **options)
        return frame.empty_frame(COLUMNS, "id") if df.empty else rates(df)

    def refresh_units(self, view: queries.View) -> None:
        df = self.units(view)
        if df is not None:
            self.chart.figure = charts.stacked_by_unit(
                df[df["matriculas"] > 0] if len(df) else df,
                SERIES,
                title=f"Situação das matrículas {self.children_title()}",
                axis="% das matrículas (sem transferidos e falecidos)",
                percent=True,
            )
        self.set_units(self.table, df, "Rendimento", self.units_box)

    def refresh_risk(self, view: queries.View) -> None:
        inside = frame.at_school(view.place)
        names = frame.sees_students(self.viewer, view)
        frame.show(self.risk_box, names)
        if inside and not names:
            self.risk_note.value = ui.message(
                "A lista de estudantes em risco fica disponível para a SRE e para a escola."
            )
        else:
            self.risk_note.value = ""
        if not names:
            frame.clear(self.risk)
            return
        where, params = view.where("a", with_turno=False)
        df = self.ds.sql(
            "SELECT a.id_matricula, s.nome, t.nome AS turma, a.aproveitamento_pct, a.freq_pct, "
            "a.abaixo_media, a.infrequente, a.n_comp_abaixo FROM alunos a "
            "JOIN estudantes s ON s.id_matricula = a.id_matricula "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"WHERE {where} AND a.risco_reprovacao ORDER BY s.nome",
            params,
        )
        df["motivo"] = [reason(row) for _, row in df.iterrows()] if len(df) else []
        self.risk.set_frame(df)


build = build_panel(Rendimento)
