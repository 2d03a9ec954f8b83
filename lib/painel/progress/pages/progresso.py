"""The "Progresso" dashboard: widgets and wiring (the notebook only calls ``build``)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ...access import Viewer
from ...dash import ui
from ...dash.identity import open_dataset
from ...freshness import local
from ...scope import ScopedDataset
from .. import DATASET, charts, excel, queries
from ..queries import Filters

ALL = ""  # "all" in the track/class/course dropdowns
NO_STUDENT = 0
TABLE_ROWS = 300


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
            options=[(w, w) for w in self.weeks],
            value=self.weeks[0],
            description="Semana:",
            style=style,
        )
        self.track = widgets.Dropdown(
            options=self.track_options, value=ALL, description="Trilha:", style=style
        )
        self.klass = widgets.Dropdown(description="Turma:", style=style)
        self.course = widgets.Dropdown(description="Curso:", style=style)
        self.pace = widgets.FloatSlider(
            value=self._default_pace(ALL),
            min=0.5,
            max=25,
            step=0.5,
            description="Ritmo esperado (p.p./semana):",
            style=style,
            layout=widgets.Layout(width="420px"),
            readout_format=".1f",
        )
        self.view = widgets.ToggleButtons(
            options=[("Geral", "geral"), ("Por turma", "turma")],
            value="geral",
            description="Visão:",
            style=style,
        )
        self.sort = widgets.Dropdown(
            options=list(queries.SORTS), value="Aluno", description="Ordenar por:", style=style
        )
        self.descending = widgets.Checkbox(value=False, description="Decrescente", indent=False)
        self.export = widgets.Button(
            description="Exportar Excel", icon="download", button_style="primary"
        )
        self.export_link = widgets.HTML()
        self.student = widgets.Dropdown(
            description="Aluno:", style=style, layout=widgets.Layout(width="420px")
        )
        self.kpis = widgets.HBox(layout=widgets.Layout(gap="12px", flex_flow="row wrap"))
        self.trend = widgets.Output()
        self.groups = widgets.Output()
        self.table = widgets.Output()
        self.journey = widgets.Output()
        self._set_dependent_options(ALL)
        self._busy = False

    # ---- options offered to the browser ----------------------------------------------------
    def _default_pace(self, track: str) -> float:
        if track in self.track_pace:
            return self.track_pace[track]
        paces = list(self.track_pace.values())
        return round(sum(paces) / len(paces), 1) if paces else 8.0

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
        value = self.pace.value
        return (
            float(value)
            if isinstance(value, (int, float)) and 0.5 <= value <= 25
            else self._default_pace(ALL)
        )

    def _label(self, options: Sequence[tuple[str, Any]], value: Any) -> str:
        return dict((v, k) for k, v in options).get(value, "")

    def describe(self, f: Filters) -> list[tuple[str, str]]:
        return [
            ("Semana", f.week or ""),
            ("Trilha", self._label(self.track_options, f.track or ALL)),
            ("Turma", self._label(self.class_options, str(f.tag_id) if f.tag_id else ALL)),
            ("Curso", self._label(self.course_options, str(f.product_id) if f.product_id else ALL)),
            ("Ritmo esperado (p.p./semana)", ui.number(self.pace_value(), 1)),
            (
                "Ordenação",
                f"{self.sort_value()}{' (decrescente)' if self.descending.value is True else ''}",
            ),
        ]

    def sort_value(self) -> str:
        return ui.choose(self.sort.value, list(queries.SORTS), fallback="Aluno")

    # ---- refresh ---------------------------------------------------------------------------
    def refresh_all(self, change: object = None) -> None:
        f = self.filters()
        pace = self.pace_value()
        k = queries.kpis(self.ds, f)
        avg = "—" if k["avg_progress"] is None else ui.number(k["avg_progress"], 1) + "%"
        grp = queries.groups(self.ds, f, pace)
        counts = dict(zip(grp["situation"], grp["students"], strict=True))
        self.kpis.children = [
            ui.kpi("Total de alunos", ui.number(k["students"])),
            ui.kpi("Total de turmas", ui.number(k["classes"])),
            ui.kpi("Média de progresso", avg),
            ui.kpi(queries.ON_TRACK, ui.number(counts[queries.ON_TRACK])),
            ui.kpi(queries.BEHIND, ui.number(counts[queries.BEHIND])),
            ui.kpi(queries.NOT_STARTED, ui.number(counts[queries.NOT_STARTED])),
        ]
        ui.show(
            self.groups,
            charts.groups_chart(
                grp,
                f"Situação dos alunos em {f.week} (ritmo esperado: "
                f"{ui.number(pace, 1)} p.p./semana)",
            ),
        )
        self.refresh_trend(f)
        self.refresh_table(f)
        self.refresh_students(f)

    def refresh_trend(self, f: Filters | None = None) -> None:
        f = f or self.filters()
        if ui.choose(self.view.value, ["geral", "turma"], fallback="geral") == "turma":
            fig = charts.class_chart(
                queries.class_by_week(self.ds, f), "Progresso médio por turma ao longo das semanas"
            )
        else:
            fig = charts.overall_chart(
                queries.overall_by_week(self.ds, f), f.week, "Progresso médio ao longo das semanas"
            )
        ui.show(self.trend, fig)

    def table_frame(self, f: Filters | None = None):  # returns a DataFrame
        f = f or self.filters()
        return queries.student_table(
            self.ds, f, self.pace_value(), self.sort_value(), self.descending.value is True
        )

    def refresh_table(self, f: Filters | None = None) -> None:
        self.export_link.value = ""
        df = self.table_frame(f)
        ui.show(
            self.table,
            _format_table(df),
            ui.message(
                f"{ui.number(len(df))} linhas; a exportação para Excel traz todas, na mesma ordem."
                if len(df) > TABLE_ROWS
                else f"{ui.number(len(df))} linhas."
            ),
        )

    def refresh_students(self, f: Filters | None = None) -> None:
        f = f or self.filters()
        self.student_options = [("Escolha um aluno", NO_STUDENT)] + queries.student_options(
            self.ds, f
        )
        current = self.student.value
        self.student.options = self.student_options
        self.student.value = (
            current if current in [v for _, v in self.student_options] else NO_STUDENT
        )
        self.refresh_journey()

    def refresh_journey(self, change: object = None) -> None:
        sid = ui.choose(
            self.student.value, getattr(self, "student_options", []), fallback=NO_STUDENT
        )
        if sid == NO_STUDENT:
            ui.show(
                self.journey,
                ui.message("Escolha um aluno para ver a jornada dele nos cursos, semana a semana."),
            )
            return
        label = self._label(self.student_options, sid)
        ui.show(
            self.journey, charts.journey_chart(queries.journey(self.ds, sid), f"Jornada de {label}")
        )

    def on_track_change(self, change: object = None) -> None:
        track = ui.choose(self.track.value, self.track_options, fallback=ALL)
        self._busy = True
        try:
            self._set_dependent_options(track)
            self.pace.value = self._default_pace(track)
        finally:
            self._busy = False
        self.refresh_all()

    def on_filter_change(self, change: object = None) -> None:
        if not self._busy:
            self.refresh_all()

    def make_export(self, button: object = None) -> None:
        f = self.filters()
        df = self.table_frame(f)
        data = excel.workbook_bytes(df, self.describe(f), self.viewer.label())
        name = "progresso_" + re.sub(r"[^A-Za-z0-9_-]+", "_", f.week or "semana")
        if f.tag_id:
            name += f"_turma_{f.tag_id}"
        name += ".xlsx"
        b64 = base64.b64encode(data).decode("ascii")
        self.export_link.value = (
            f'<a class="painel-download" download="{html.escape(name)}" href="data:{excel.MIME};base64,{b64}">'
            f"Baixar {html.escape(name)}</a> ({ui.number(len(df))} linhas)"
        )


def _format_table(df):  # DataFrame in, DataFrame out
    shown = df.head(TABLE_ROWS).copy()
    shown["Início da semana"] = shown["Início da semana"].map(lambda d: d.strftime("%d/%m/%Y"))
    shown["Progresso (%)"] = shown["Progresso (%)"].map(lambda v: ui.number(v, 1))
    shown["Variação na semana (p.p.)"] = shown["Variação na semana (p.p.)"].map(
        lambda v: "—" if v != v or v is None else ("+" if v > 0 else "") + ui.number(v, 1)
    )
    return shown.drop(columns=["Semana"])


def build(viewer: Viewer) -> widgets.Widget:
    ds = open_dataset(viewer, DATASET)
    manifest = ds.manifest
    header = widgets.HTML(
        f"<p>Olá, {html.escape(viewer.label())}. Última coleta na Cademi em "
        f"{local(manifest.get('source_extracted_at'))}, publicada em {local(manifest.get('published_at'))}.</p>"
    )
    if not queries.weeks(ds):
        return widgets.VBox(
            [
                header,
                widgets.HTML(
                    ui.message(
                        "Você não tem turmas com progresso coletado. Peça à coordenação acesso às suas turmas.",
                        "warning",
                    )
                ),
            ]
        )
    page = ProgressPage(viewer, ds)
    page.track.observe(ui.guarded(page.trend)(page.on_track_change), names="value")
    for w in (page.week, page.klass, page.course, page.pace):
        w.observe(ui.guarded(page.trend)(page.on_filter_change), names="value")
    page.view.observe(ui.guarded(page.trend)(lambda change: page.refresh_trend()), names="value")
    for w in (page.sort, page.descending):
        w.observe(ui.guarded(page.table)(lambda change: page.refresh_table()), names="value")
    page.student.observe(ui.guarded(page.journey)(page.refresh_journey), names="value")
    page.export.on_click(ui.guarded(page.table)(page.make_export))
    ui.guarded(page.trend)(page.refresh_all)()
    filters = widgets.HBox(
        [page.week, page.track, page.klass, page.course],
        layout=widgets.Layout(flex_flow="row wrap", gap="8px"),
    )
    return widgets.VBox(
        [
            header,
            filters,
            page.pace,
            page.kpis,
            page.view,
            page.trend,
            widgets.HTML("<h3>Situação dos alunos</h3>"),
            page.groups,
            widgets.HTML("<h3>Alunos e cursos na semana</h3>"),
            widgets.HBox(
                [page.sort, page.descending, page.export, page.export_link],
                layout=widgets.Layout(gap="8px", align_items="center", flex_flow="row wrap"),
            ),
            page.table,
            widgets.HTML("<h3>Jornada do aluno</h3>"),
            page.student,
            page.journey,
        ]
    )
