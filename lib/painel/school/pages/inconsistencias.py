"""Painel SIMADE – Inconsistências de Matrícula: what must the secretaria fix?

Today's findings (``inconsistencias``: one row per finding, rules I1-I14 of
docs/school.md) and their history (``serie_inconsistencias``: per day, school and rule).
Findings carry no etapa, turno or modalidade (I5, I6 name a turma, I11 a student, I3 a
matrícula without a turma), and the history is kept per school and rule only: the etapa,
turno and modalidade filters are not offered here, and the page says so. A rule can be
chosen (dropdown or a click on its bar): the ranking by unit, the daily trend and the list
follow it.

The list names students only at a school or below, and only for SRE and school users (a
central user reads rule, school, turma and detail).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import fmt, plots, ui
from ...dash.chart import Chart
from ...dash.table import Column
from ...scope import ScopedDataset
from .. import charts, queries
from ..contract import RULE_NAMES
from . import columns as col
from . import frame
from .frame import STYLE, SchoolPanel, build_panel, set_kpis

ALL_RULES = ""
# the findings of the rule chosen ("" = every rule): both ? are bound to the rule
OF_RULE = "(? = '' OR a.regra = ?)"
NOTE = "Os filtros de etapa, turno e modalidade não se aplicam a este painel."


def rule_label(code: Any) -> str:
    return f"{code} – {RULE_NAMES.get(str(code), str(code))}"


def rule_order(code: Any) -> int:
    text = str(code)
    return int(text[1:]) if text[1:].isdigit() else 99


def detail_text(regra: Any, detalhe: Any) -> Any:
    """The finding's detail as people read it (the job writes it in pt-BR)."""
    return detalhe


REGRA = Column("regra_nome", "Regra")
ESCOLA = Column("escola", "Escola")
WHAT = [
    col.TURMA,
    col.COMPONENTE,
    col.BIMESTRE,
    Column("dt_aula", "Data da aula", kind="date"),
    Column("detalhe", "Detalhe"),
]
ITEM_COLUMNS = [REGRA, ESCOLA, *WHAT]
STUDENT_COLUMNS = [REGRA, Column("estudante", "Estudante"), *WHAT, ESCOLA]


class Inconsistencias(SchoolPanel):
    title = "Painel SIMADE – Inconsistências de Matrícula"
    source = "do SIMADE"
    uses_turno = False
    lists_students = True

    def __init__(self, viewer: Viewer, ds: ScopedDataset) -> None:
        super().__init__(viewer, ds)
        self.rule = widgets.Dropdown(
            options=[("Todas as regras", ALL_RULES)]
            + [(rule_label(c), c) for c in sorted(RULE_NAMES, key=rule_order)],
            value=ALL_RULES,
            description="Regra:",
            style=STYLE,
            layout=widgets.Layout(width="min(100%, 460px)"),
        )
        self.cards = [widgets.HTML() for _ in range(4)]
        self.note = widgets.HTML()
        self.by_rule = ui.ClickChart(self.choose_rule, filename="inconsistencias_por_regra")
        self.trend = Chart(filename="inconsistencias_por_dia")
        self.chart = ui.ClickChart(self.open_label, filename="inconsistencias_por_unidade")
        lists = {
            "name": "inconsistencias",
            "sheet": "Inconsistências",
            "caption": "Inconsistências a corrigir",
            "sort": "regra_nome",
            "unit": "inconsistências",
            "empty_text": "Nenhuma inconsistência nesta seleção.",
        }
        self.items, self.items_export = self.table_export(ITEM_COLUMNS, **lists)
        self.students, self.students_export = self.table_export(STUDENT_COLUMNS, **lists)
        self.items_box = widgets.VBox([self.items, self.items_export])
        self.students_box = widgets.VBox([self.students, self.students_export])

    # ---- the rule ------------------------------------------------------------------------------
    @property
    def chosen_rule(self) -> str:
        return str(ui.choose(self.rule.value, self.rule.options, fallback=ALL_RULES))

    def choose_rule(self, label: Any) -> None:
        """A clicked bar (named by its rule's label) chooses that rule."""
        for text, code in self.rule.options:
            if text == label:
                self.rule.value = code

    def describe(self) -> list[tuple[str, str]]:
        rule = self.chosen_rule
        out = [(k, v) for k, v in super().describe() if k != "Etapa"]
        return [*out, ("Regra", rule_label(rule) if rule else "Todas")]

    def filter_bar(self) -> widgets.Widget:
        note = widgets.HTML(f'<small class="painel-note">{html.escape(NOTE)}</small>')
        return widgets.VBox(
            [
                widgets.HBox(
                    [self.year, self.rule],
                    layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center"),
                ),
                note,
            ]
        )

    def watch(self, refresh: Callable[[], None]) -> None:
        super().watch(refresh)
        guarded = ui.guarded(self.notice)
        self.rule.observe(guarded(lambda change: refresh()), names="value")

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.note,
            self.by_rule,
            self.trend,
            self.chart,
            self.items_box,
            self.students_box,
        ]

    # ---- data -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        view = self.view
        rule = self.chosen_rule
        where, params = view.where("a", filters=False)
        t = queries.totals(
            self.ds,
            view,
            "inconsistencias",
            "count(*) AS n, count(DISTINCT a.id_matricula) AS matriculas, "
            "count(DISTINCT a.school_id) AS escolas, count(DISTINCT a.regra) AS regras",
            filters=False,
        )
        n = int(t.get("n") or 0)
        set_kpis(
            self.cards,
            [
                ("Inconsistências", fmt.number(n), "a corrigir no SIMADE hoje"),
                ("Matrículas afetadas", fmt.number(t.get("matriculas") or 0), ""),
                ("Escolas com inconsistências", fmt.number(t.get("escolas") or 0), ""),
                ("Regras com ocorrências", fmt.number(t.get("regras") or 0), "de 14 regras"),
            ],
        )
        self.note.value = (
            ui.message("Nenhuma inconsistência encontrada hoje neste local: tudo em ordem.")
            if not n
            else ""
        )
        rules = self.ds.sql(
            f"SELECT a.regra, count(*) AS n FROM inconsistencias a WHERE {where} GROUP BY ALL",
            params,
        )
        if len(rules):  # the largest on top; ties in the rules' order
            rules = rules.assign(_o=rules["regra"].map(rule_order))
            rules = rules.sort_values(["n", "_o"], ascending=[True, False])
        self.by_rule.figure = charts.bars(
            [rule_label(r) for r in rules["regra"]],
            rules["n"].tolist(),
            title="Inconsistências por regra (clique em uma barra para ver a lista da regra)",
            axis="Inconsistências",
            horizontal=True,
        )
        suffix = f" — {rule_label(rule)}" if rule else ""
        self.trend.figure = self.daily(view, rule, suffix)
        self.refresh_units(view, rule, suffix)
        self.refresh_items(view, rule)

    def daily(self, view: queries.View, rule: str, suffix: str) -> plots.Spec:
        where, params = view.where("a", filters=False)
        df = self.ds.sql(
            "SELECT a.data_ref, sum(a.n)::BIGINT AS n FROM serie_inconsistencias a "
            f"WHERE {where} AND {OF_RULE} GROUP BY ALL ORDER BY a.data_ref",
            [*params, rule, rule],
        )
        return charts.trend(
            df,
            "data_ref",
            [("n", "Inconsistências")],
            title=f"Inconsistências por dia{suffix}",
            axis="Inconsistências",
        )

    def refresh_units(self, view: queries.View, rule: str, suffix: str) -> None:
        child = view.place.child
        frame.show(self.chart, child is not None)
        if child is None:
            return
        df = queries.by_child(
            self.ds,
            view,
            "inconsistencias",
            "count(*) AS n",
            filters=False,
            extra_where=OF_RULE,
            extra_params=[rule, rule],
        )
        if df.empty:
            units = pd.DataFrame(columns=["label", "n"])
        else:  # every unit, in the order of its id
            n = pd.to_numeric(df["n"], errors="coerce").fillna(0).astype(int)
            units = df.assign(n=n).sort_values("id", kind="stable").reset_index(drop=True)
        self.chart.figure = charts.bars_by_unit(
            units,
            "n",
            title=f"Inconsistências {self.children_title()}{suffix}",
            axis="Inconsistências",
        )

    def refresh_items(self, view: queries.View, rule: str) -> None:
        names = frame.sees_students(self.viewer, view)
        frame.show(self.items_box, not names)
        frame.show(self.students_box, names)
        where, params = view.where("a", filters=False)
        student = (
            "coalesce(s.nome, p.nome) AS estudante"
            if names
            else "CAST(NULL AS VARCHAR) AS estudante"
        )
        joins = (
            "LEFT JOIN estudantes s ON s.id_matricula = a.id_matricula "
            "LEFT JOIN (SELECT co_pessoa_fisica, min(nome) AS nome FROM estudantes "
            "GROUP BY ALL) p ON p.co_pessoa_fisica = a.co_pessoa_fisica "
            if names
            else ""
        )
        df = self.ds.sql(
            f"SELECT a.regra, e.nome AS escola, t.nome AS turma, c.nome AS componente, "
            f"a.bimestre, a.dt_aula, a.detalhe, {student} FROM inconsistencias a "
            "JOIN escolas e ON e.school_id = a.school_id "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"LEFT JOIN componentes c ON c.co_componente = a.componente {joins}"
            f"WHERE {where} AND {OF_RULE}",
            [*params, rule, rule],
        )
        if len(df):
            df = df.assign(_o=df["regra"].map(rule_order)).sort_values(
                ["_o", "escola", "turma", "estudante"], kind="stable", na_position="last"
            )
        df["regra_nome"] = [rule_label(r) for r in df["regra"]]
        df["detalhe"] = [detail_text(r, d) for r, d in zip(df["regra"], df["detalhe"], strict=True)]
        df["bimestre_nome"] = [None if pd.isna(b) else f"{int(b)}º" for b in df["bimestre"]]
        caption = "Inconsistências a corrigir" + (f" — {rule_label(rule)}" if rule else "")
        target = self.students if names else self.items
        other = self.items if names else self.students
        target.caption = caption
        # rows come in the rules' order (I1, I2 ... I14), not the labels' alphabetical one
        target.set_frame(df.drop(columns=["_o"], errors="ignore"), ordered_by=("regra_nome", False))
        frame.clear(other)


build = build_panel(Inconsistencias)
