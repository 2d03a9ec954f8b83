"""The "Progresso" dashboard: widgets and wiring (the notebook only calls ``build``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import fmt, later, ui
from ...dash.chart import Chart
from ...dash.download import Download, file_name
from ...dash.identity import open_dataset
from ...dash.table import Column, Table
from ...scope import ScopedDataset
from .. import DATASET, charts, excel, queries
from ..queries import Filters

ALL = ""  # "all" in the track/class/course dropdowns
PACES = [p / 2 for p in range(1, 51)]  # 0,5 to 25 p.p. a week
SITUATIONS = (queries.ON_TRACK, queries.BEHIND, queries.NOT_STARTED)
TABLE_COLUMNS = [
    Column("Aluno", "Aluno"),
    Column("Turma", "Turma"),
    Column("Trilha", "Trilha"),
    Column("Curso", "Curso"),
    Column("Progresso (%)", "Progresso (%)", kind="decimal"),
    Column("Variação na semana (p.p.)", "Variação na semana (p.p.)", kind="signed"),
    Column("Aulas assistidas", "Aulas assistidas", kind="int"),
    Column("Aulas concluídas", "Aulas concluídas", kind="int"),
    Column("Situação", "Situação"),
]


def pace_label(pace: float) -> str:
    return f"{fmt.number(pace, 1)} p.p./semana"


class ProgressPage:
    """The page's state: widgets, the offered options and the refresh callbacks."""

    def __init__(self, viewer: Viewer, ds: ScopedDataset):
        self.viewer, self.ds = viewer, ds
        self.weeks = queries.weeks(ds)
        tracks = queries.tracks(ds)
        self.track_pace = {
            str(r.track): float(r.expected_pct_per_week) for r in tracks.itertuples()
        }
        self.track_options = [("Todas", ALL)] + [
            (str(r.track_name), str(r.track)) for r in tracks.itertuples()
        ]
        style = {"description_width": "initial"}
        self.week = widgets.Dropdown(
            options=[(fmt.week(w), w) for w in self.weeks],
            value=self.weeks[0],
            description="Semana:",
            style=style,
        )
        self.track = widgets.Dropdown(
            options=self.track_options, value=ALL, description="Trilha:", style=style
        )
        self.klass = widgets.Dropdown(description="Turma:", style=style)
        self.course = widgets.Dropdown(description="Curso:", style=style)
        self.pace_options = [(pace_label(p), p) for p in PACES]
        self.pace = widgets.Dropdown(
            options=self.pace_options,
            value=self._nearest_pace(self._default_pace(ALL)),
            description="Ritmo esperado:",
            style=style,
        )
        self.view = widgets.ToggleButtons(
            options=[("Geral", "geral"), ("Por turma", "turma")],
            value="geral",
            description="Visão:",
            style=style,
        )
        self.kpi_cards = [widgets.HTML() for _ in range(6)]  # updated in place on each change
        self.kpis = ui.kpi_row(self.kpi_cards)
        self.drill = ui.Drill("Todos os alunos")
        self.notice = widgets.Output()  # a failed update says so here
        self.trend = Chart(filename="progresso_ao_longo_das_semanas")
        self.groups = ui.ClickChart(self.on_bar_click, filename="situacao_dos_alunos")
        self.situation_buttons = widgets.ToggleButtons(
            options=[("Todas", ALL)] + [(s, s) for s in SITUATIONS],
            value=ALL,
            description="Ver situação:",
            style=style,
        )
        self.table = Table(
            TABLE_COLUMNS,
            caption="Alunos e cursos na semana",
            sort="Aluno",
            unit="linhas",
            click_hint="clique em uma linha para ver a jornada do aluno",
        )
        self.export_week = Download(
            "Exportar Excel (semana na tela)",
            self.export_shown_week,
            about=lambda: self.describe(self.filters()),
        )
        self.export_all = Download(
            "Exportar Excel (todas as semanas)",
            self.export_all_weeks,
            about=lambda: self.describe(self.filters(), all_weeks=True),
        )
        self.journey = widgets.Output()  # the hint, or a failure's message
        self.journey_chart = Chart(filename="jornada_do_aluno")
        self.journey_chart.layout.display = "none"  # until a row is clicked
        self.journey_student: int | None = None
        self._overall: dict[tuple[Any, ...], pd.DataFrame] = {}
        self._trend_drawn: tuple[Any, ...] | None = None
        self._set_dependent_options(ALL)
        self._busy = False

    # ---- options offered to the browser ----------------------------------------------------
    def _default_pace(self, track: str) -> float:
        if track in self.track_pace:
            return self.track_pace[track]
        paces = list(self.track_pace.values())
        return round(sum(paces) / len(paces), 1) if paces else 8.0

    @staticmethod
    def _nearest_pace(pace: float) -> float:
        return min(PACES, key=lambda p: abs(p - pace))

    def _set_dependent_options(self, track: str) -> None:
        cls = queries.classes(self.ds, track or None)
        self.class_options = [("Todas", ALL)] + [
            (
                f"{r.class_name} — {r.track_name}" if not track else str(r.class_name),
                str(int(r.tag_id)),
            )
            for r in cls.itertuples()
        ]
        prods = queries.products(self.ds, track or None)
        self.course_options = [("Todos", ALL)] + [
            (str(r.product_name), str(int(r.product_id))) for r in prods.itertuples()
        ]
        self.klass.options, self.klass.value = self.class_options, ALL
        self.course.options, self.course.value = self.course_options, ALL

    def filters(self) -> Filters:
        week = ui.choose(self.week.value, self.weeks, fallback=self.weeks[0])
        track = ui.choose(self.track.value, self.track_options, fallback=ALL)
        klass = ui.choose(self.klass.value, self.class_options, fallback=ALL)
        course = ui.choose(self.course.value, self.course_options, fallback=ALL)
        return Filters(
            week=week,
            track=track or None,
            tag_id=int(klass) if klass else None,
            product_id=int(course) if course else None,
        )

    def pace_value(self) -> float:
        return float(
            ui.choose(self.pace.value, self.pace_options, fallback=self._default_pace(ALL))
        )

    def situation(self) -> str:
        path = self.drill.path
        return path[0] if path and path[0] in SITUATIONS else ALL

    def _label(self, options: Sequence[tuple[str, Any]], value: Any) -> str:
        return dict((v, k) for k, v in options).get(value, "")

    def describe(self, f: Filters, all_weeks: bool = False) -> list[tuple[str, str]]:
        weeks = (
            f"todas ({fmt.week(self.weeks[-1], year=True)} a {fmt.week(self.weeks[0], year=True)})"
            if all_weeks
            else fmt.week(f.week or "", year=True)
        )
        return [
            ("Semana", weeks),
            ("Trilha", self._label(self.track_options, f.track or ALL)),
            ("Turma", self._label(self.class_options, str(f.tag_id) if f.tag_id else ALL)),
            ("Curso", self._label(self.course_options, str(f.product_id) if f.product_id else ALL)),
            ("Ritmo esperado", pace_label(self.pace_value())),
            ("Situação", self.situation() or "Todas"),
            ("Busca na tabela", self.table.search or "—"),
        ]

    # ---- refresh ---------------------------------------------------------------------------
    def refresh_all(self, change: object = None) -> None:
        if self.notice.outputs:  # an earlier failure's message
            self.notice.outputs = ()
        f = self.filters()
        pace = self.pace_value()
        # the summary first (one small query): the chart and the cards are what the eye goes
        # to after a filter change; the table's rows follow
        k, grp = queries.overview(self.ds, f, pace)
        self.groups.figure = charts.groups_chart(
            grp, f"{fmt.week(f.week or '')} · ritmo {pace_label(pace)}"
        )
        counts = dict(zip(grp["situation"], grp["students"], strict=True))
        pairs = int(sum(counts.values()))
        note = (
            f"{fmt.number(pairs)} nas situações ao lado: quem está em mais de uma turma conta "
            "uma vez por turma."
            if pairs != k["students"]
            else ""
        )
        situation_note = "alunos por turma" if pairs != k["students"] else ""
        cards = [
            ("Total de alunos", fmt.number(k["students"]), note),
            ("Total de turmas", fmt.number(k["classes"]), ""),
            ("Média de progresso", fmt.percent(k["avg_progress"]), ""),
            (queries.ON_TRACK, fmt.number(counts[queries.ON_TRACK]), situation_note),
            (queries.BEHIND, fmt.number(counts[queries.BEHIND]), situation_note),
            (queries.NOT_STARTED, fmt.number(counts[queries.NOT_STARTED]), situation_note),
        ]
        for card, (label, value, card_note) in zip(self.kpi_cards, cards, strict=True):
            card.value = ui.kpi_html(label, value, card_note)
        self.refresh_table(f)
        self.refresh_trend(f)

    def refresh_trend(self, f: Filters | None = None) -> None:
        """The chart over the weeks: redrawn only when what it shows changes (not the week or
        the pace: the browser then has one chart less to draw)."""
        f = f or self.filters()
        view = ui.choose(self.view.value, ["geral", "turma"], fallback="geral")
        drawn = (view, f.track, f.tag_id, f.product_id)
        if drawn == self._trend_drawn:
            return
        self._trend_drawn = drawn
        if view == "turma":
            fig = charts.class_chart(
                queries.class_by_week(self.ds, f), "Progresso médio por turma ao longo das semanas"
            )
        else:
            # every week: the week and the pace do not change it, so it is read once per filter
            key = (f.track, f.tag_id, f.product_id)
            if key not in self._overall:
                self._overall[key] = queries.overall_by_week(self.ds, f)
            fig = charts.overall_chart(
                self._overall[key], None, "Progresso médio ao longo das semanas"
            )
        self.trend.figure = fig

    def table_frame(self, f: Filters | None = None, week: str | None = None) -> pd.DataFrame:
        f = f or self.filters()
        if week is not None:
            f = Filters(week=week, track=f.track, tag_id=f.tag_id, product_id=f.product_id)
        df = queries.student_table(self.ds, f, self.pace_value())
        situation = self.situation()
        return df[df["Situação"] == situation].reset_index(drop=True) if situation else df

    def refresh_table(self, f: Filters | None = None) -> None:
        # student_table's rows come sorted by student (the table's first sort)
        self.table.set_frame(self.table_frame(f), ordered_by=("Aluno", False))

    def show_journey(self, record: dict[str, Any]) -> None:
        sid = int(record["ID Cademi"])
        self.journey_student = sid
        self.journey_chart.figure = charts.journey_chart(
            queries.journey(self.ds, sid), f"Jornada de {record['Aluno']}"
        )
        self.journey.outputs = ()
        self.journey_chart.layout.display = None

    def on_track_change(self, change: object = None) -> None:
        track = ui.choose(self.track.value, self.track_options, fallback=ALL)
        self._busy = True
        try:
            self._set_dependent_options(track)
            self.pace.value = self._nearest_pace(self._default_pace(track))
        finally:
            self._busy = False
        self.refresh_all()

    def on_filter_change(self, change: object = None) -> None:
        if not self._busy:
            self.refresh_all()

    def on_situation_button(self, change: object = None) -> None:
        chosen = ui.choose(self.situation_buttons.value, [ALL, *SITUATIONS], fallback=ALL)
        if chosen == self.situation():
            return
        if chosen:
            self.drill.replace(chosen, chosen)
        else:
            self.drill.go(0)

    def on_bar_click(self, situation: Any) -> None:
        """A bar of the situation chart: the table below shows that situation."""
        if situation in SITUATIONS and situation != self.situation():
            self.drill.replace(str(situation), situation)

    def on_drill(self, path: list[Any]) -> None:
        situation = self.situation()
        if self.situation_buttons.value != situation:
            self.situation_buttons.value = situation
        self.refresh_table()

    # ---- exports ---------------------------------------------------------------------------
    def _export(self, df: pd.DataFrame, f: Filters, all_weeks: bool) -> tuple[str, bytes, int]:
        data = excel.workbook_bytes(df, self.describe(f, all_weeks), self.viewer.label())
        klass = self._label(self.class_options, str(f.tag_id)).split(" — ")[0] if f.tag_id else ""
        name = file_name(
            "progresso", "todas_as_semanas" if all_weeks else (f.week or "semana"), klass
        )
        return name, data, len(df)

    def export_shown_week(self) -> tuple[str, bytes, int]:
        """Exactly the table: the week, filters, situation, search and order on screen."""
        return self._export(self.table.view(), self.filters(), all_weeks=False)

    def export_all_weeks(self) -> tuple[str, bytes, int]:
        """Every week with the same filters, newest week first."""
        f = self.filters()
        frames = [self.table_frame(f, week=w) for w in self.weeks]
        df = pd.concat(frames, ignore_index=True) if frames else self.table_frame(f)
        return self._export(df, f, all_weeks=True)


def build(viewer: Viewer) -> widgets.Widget:
    ds = open_dataset(viewer, DATASET)
    stamp = ui.data_stamp(ds.manifest, "coletados na Cademi")
    if not queries.weeks(ds):
        return widgets.VBox(
            [
                stamp,
                widgets.HTML(
                    ui.message(
                        "Você não tem turmas com progresso coletado. Peça à coordenação acesso às suas turmas.",
                        "warning",
                    )
                ),
            ]
        )
    page = ProgressPage(viewer, ds)
    page.track.observe(ui.guarded(page.notice)(page.on_track_change), names="value")
    for w in (page.week, page.klass, page.course, page.pace):
        w.observe(ui.guarded(page.notice)(page.on_filter_change), names="value")
    page.view.observe(ui.guarded(page.notice)(lambda change: page.refresh_trend()), names="value")
    page.situation_buttons.observe(ui.guarded(page.notice)(page.on_situation_button), names="value")
    page.drill.on_change(ui.guarded(page.notice)(page.on_drill))
    page.table.on_row_click(ui.guarded(page.journey)(page.show_journey))
    later(ui.guarded(page.notice)(page.refresh_all))  # after the page is sent
    ui.show(
        page.journey,
        ui.message("Clique em uma linha da tabela para ver a jornada do aluno, semana a semana."),
    )
    row = widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center")
    return widgets.VBox(
        [
            stamp,
            widgets.HBox([page.week, page.track, page.klass, page.course, page.pace], layout=row),
            page.notice,
            page.kpis,
            page.view,
            page.trend,
            widgets.HTML("<h3>Situação dos alunos</h3>"),
            widgets.HTML("<p>Clique em uma barra para ver só esses alunos na tabela.</p>"),
            page.groups,
            widgets.HTML("<h3>Alunos e cursos na semana</h3>"),
            page.situation_buttons,
            page.drill,
            widgets.HBox([page.export_week, page.export_all], layout=row),
            page.table,
            widgets.HTML("<h3>Jornada do aluno</h3>"),
            page.journey,
            page.journey_chart,
        ],
        layout=widgets.Layout(gap="6px"),
    )
