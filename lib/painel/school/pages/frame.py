"""What every school panel shares: the place (drill-down with a breadcrumb), the filters,
the date of the data, KPI cards, tables of units with export, and the refresh wiring.

A panel subclasses :class:`SchoolPanel`, lays out its own widgets in ``body()`` and fills
them in ``refresh()`` from :attr:`view` (place + filters). Clicking a unit's bar or row calls
:meth:`open_unit`, which goes one level down; the breadcrumb goes back up. A viewer starts
at their own scope (state, SRE or school) and cannot go above it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import excel as xlsx
from ...dash import fmt, later, ui
from ...dash.download import Download, file_name
from ...dash.identity import open_dataset
from ...dash.table import Column, Table
from ...scope import ScopedDataset
from .. import DATASET, contract, queries
from ..queries import Filters, Place, View, at_school

ALL = ""
STYLE = {"description_width": "initial"}
UNIT_HINT = "clique em uma linha para ver a unidade"


class SchoolPanel:
    """One school panel for one viewer."""

    title = ""
    source = "do SIMADE/DED"
    uses_bimestre = False  # the bimestre filter is shown
    uses_turno = True  # turno and modalidade filters are shown
    lists_students = False  # the panel goes down to students (turma level)

    def __init__(self, viewer: Viewer, ds: ScopedDataset):
        self.viewer, self.ds = viewer, ds
        self.home, crumbs = queries.home(ds, viewer.sees_all(DATASET))
        self.drill = ui.Drill(" › ".join(crumbs))
        self.notice = widgets.Output()
        year = queries.school_year(ds)
        self.year = widgets.Dropdown(
            options=[(str(year), year)] if year else [("—", 0)],
            description="Ano letivo:",
            style=STYLE,
            layout=widgets.Layout(width="170px"),
        )
        self.grupo = widgets.Dropdown(
            options=[("Todas", ALL)] + [(contract.GRUPO_NOME[g], g) for g in contract.GRUPOS],
            value=ALL,
            description="Etapa:",
            style=STYLE,
        )
        self.turno = widgets.Dropdown(
            options=[("Todos", ALL)] + [(t, t) for t in queries.TURNOS],
            value=ALL,
            description="Turno:",
            style=STYLE,
        )
        self.modalidade = widgets.Dropdown(
            options=[("Todas", ALL)] + [(m, m) for m in queries.MODALIDADES],
            value=ALL,
            description="Modalidade:",
            style=STYLE,
        )
        cal = queries.bimestres(ds)
        started = [int(b) for b, ok in zip(cal["bimestre"], cal["iniciado"], strict=False) if ok]
        self.bimestre = widgets.Dropdown(
            options=[("Todos", 0)] + [(bimestre_label(b), b) for b in started],
            value=0,
            description="Bimestre:",
            style=STYLE,
        )
        self.stamp = widgets.HTML(self._stamp())

    # ---- state -----------------------------------------------------------------------------
    @property
    def place(self) -> Place:
        return Place(self.home.path + tuple(self.drill.path))

    @property
    def filters(self) -> Filters:
        grupos = [g for _, g in self.grupo.options]
        turnos = [t for _, t in self.turno.options]
        mods = [m for _, m in self.modalidade.options]
        bims = [b for _, b in self.bimestre.options]
        return Filters(
            grupo=ui.choose(self.grupo.value, grupos, fallback=ALL),
            turno=ui.choose(self.turno.value, turnos, fallback=ALL) if self.uses_turno else ALL,
            modalidade=ui.choose(self.modalidade.value, mods, fallback=ALL)
            if self.uses_turno
            else ALL,
            bimestre=ui.choose(self.bimestre.value, bims, fallback=0) if self.uses_bimestre else 0,
        )

    @property
    def view(self) -> View:
        return View(self.place, self.filters)

    def place_label(self) -> str:
        return self.drill.labels[-1]

    def unit_name(self, level: str | None) -> str:
        return queries.LEVEL_NAME.get(level or "", "")

    def children_title(self) -> str:
        return {
            "sre": "por SRE",
            "municipio": "por município",
            "escola": "por escola",
            "turma": "por turma",
        }.get(self.place.child or "", "")

    def describe(self) -> list[tuple[str, str]]:
        """The filters as a file's "Filtros" sheet records them."""
        f = self.filters
        out = [("Painel", self.title), ("Local", " › ".join(self.drill.labels))]
        out.append(("Dados de", queries.manifest_day(self.ds.manifest)))
        out.append(("Etapa", contract.GRUPO_NOME.get(f.grupo, "Todas")))
        if self.uses_turno:
            out += [("Turno", f.turno or "Todos"), ("Modalidade", f.modalidade or "Todas")]
        if self.uses_bimestre:
            out.append(("Bimestre", f"{f.bimestre}º" if f.bimestre else "Todos"))
        return out

    # ---- moving -------------------------------------------------------------------------------
    def open_unit(self, unit_id: Any, label: str | None = None) -> None:
        """Go one level down to a unit of the current place's children (checked: the id
        must be one the viewer sees there)."""
        child = self.place.child
        if child is None:
            return
        units = queries.child_labels(self.ds, self.place)
        match = units[units["id"] == unit_id] if not units.empty else units
        if match.empty:
            return
        self.drill.push(label or str(match["label"].iloc[0]), (child, int(unit_id)))

    def open_label(self, label: Any) -> None:
        """A clicked bar (named by its unit's label) goes down to that unit."""
        units = queries.child_labels(self.ds, self.place)
        match = units[units["label"] == label] if not units.empty else units
        if not match.empty:
            self.open_unit(int(match["id"].iloc[0]), str(label))

    # ---- pieces ---------------------------------------------------------------------------------
    def _stamp(self) -> str:
        m = self.ds.manifest
        day = queries.manifest_day(m)
        published = fmt.datetime(m.get("published_at"))
        text = f"Dados {self.source} de {day} (atualizados em {published})."
        return f'<p class="painel-stamp" role="status">{html.escape(text)}</p>'

    def filter_bar(self) -> widgets.Widget:
        items: list[widgets.Widget] = [self.year, self.grupo]
        if self.uses_turno:
            items += [self.turno, self.modalidade]
        if self.uses_bimestre:
            items.append(self.bimestre)
        return widgets.HBox(
            items, layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center")
        )

    def export_button(
        self, table: Table, columns: Sequence[Column], name: str, sheet: str
    ) -> Download:
        def make() -> tuple[str, bytes, int]:
            df = table.view()
            data = xlsx.workbook(
                df,
                columns,
                sheet=sheet,
                filters=self.describe(),
                exported_by=self.viewer.label(),
            )
            return file_name(name, self.place_label()), data, len(df)

        return Download("Exportar Excel (linhas da tabela)", make, about=self.describe)

    def table_export(
        self, columns: Sequence[Column], *, name: str, sheet: str, **table: Any
    ) -> tuple[Table, Download]:
        """A :class:`Table` of ``columns`` (``table``: its options) and its export button."""
        t = Table(columns, **table)
        return t, self.export_button(t, columns, name, sheet)

    def opens_units(self, table: Table) -> None:
        """A click on a row of ``table`` (a unit one level down: ``id``, and ``label`` when
        the rows have one) goes down to that unit."""
        table.on_row_click(
            ui.guarded(self.notice)(lambda r: self.open_unit(r["id"], r.get("label")))
        )

    def unit_table(
        self, columns: Sequence[Column], *, name: str, sheet: str, sort: str = "label"
    ) -> tuple[Table, Download]:
        """The table of the units one level down (a row opens its unit) and its export."""
        table, export = self.table_export(
            columns,
            name=name,
            sheet=sheet,
            caption="Unidades",
            sort=sort,
            unit="unidades",
            click_hint=UNIT_HINT,
        )
        self.opens_units(table)
        return table, export

    def unit_widgets(
        self,
        columns: Sequence[Column],
        *,
        name: str,
        sheet: str,
        chart_file: str,
        sort: str = "label",
    ) -> tuple[ui.ClickChart, Table, Download]:
        """The units one level down: a bar chart (a bar opens its unit, the chart downloads
        as ``chart_file``), their :meth:`unit_table` and its export."""
        chart = ui.ClickChart(self.open_label, filename=chart_file)
        table, export = self.unit_table(columns, name=name, sheet=sheet, sort=sort)
        return chart, table, export

    def set_units(
        self, table: Table, df: pd.DataFrame | None, caption: str, *parts: widgets.Widget
    ) -> None:
        """The units one level down (``df``) in their ``table``, captioned "``caption`` por
        SRE" (município ...); ``parts`` are shown. ``df`` None: no units below this place,
        the table is emptied and ``parts`` are hidden."""
        for w in parts:
            show(w, df is not None)
        if df is None:
            clear(table)
            return
        table.caption = f"{caption} {self.children_title()}"
        table.set_frame(df)

    def student_block(
        self,
        columns: Sequence[Column],
        *,
        name: str,
        sheet: str,
        heading: str = "",
        controls: Sequence[widgets.Widget] = (),
        **table: Any,
    ) -> tuple[widgets.HTML, Table, Download, widgets.VBox]:
        """A list of students: ``(note, table, export, box)``; the box holds the ``heading``
        (an h3, when given), the note (a title or a message), the ``controls``, the table of
        ``columns`` (``table``: its options) and its export."""
        note = widgets.HTML()
        students, export = self.table_export(
            columns, name=name, sheet=sheet, unit="estudantes", **table
        )
        top = [widgets.HTML(f"<h3>{html.escape(heading)}</h3>")] if heading else []
        box = widgets.VBox([*top, note, *controls, students, export])
        return note, students, export, box

    def students_shown(
        self, box: widgets.Widget, note: widgets.HTML, table: Table, *parts: widgets.Widget
    ) -> bool:
        """Whether the student list ``table`` is to be filled: ``box`` shows only at a school
        or a turma, and there the table and ``parts`` only for a viewer who may list
        students (else ``note`` says they are for the SREs' and schools' teams). The table
        is emptied when not."""
        inside = at_school(self.place)
        show(box, inside)
        allowed = inside and may_list_students(self.viewer)
        if inside:
            for w in (table, *parts):
                show(w, allowed)
            if not allowed:
                note.value = ui.message(SO_EQUIPES, "info")
        if not allowed:
            clear(table)
        return allowed

    def watch(self, refresh: Callable[[], None]) -> None:
        """Every filter change and every drill move calls ``refresh``."""
        guarded = ui.guarded(self.notice)
        for w in (self.grupo, self.turno, self.modalidade, self.bimestre):
            w.observe(guarded(lambda change: refresh()), names="value")
        self.drill.on_change(guarded(lambda path: refresh()))

    # ---- the page ---------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        raise NotImplementedError

    def refresh(self) -> None:
        """Fill the panel for :attr:`view`. Each widget is sent to the page as soon as it is
        set, so the main chart is drawn first (the visitor's eye goes to it; the cards and
        tables follow within a few tens of milliseconds)."""
        raise NotImplementedError

    def widget(self) -> widgets.Widget:
        # the page's title and the user's name are in the page header (the painel template)
        return widgets.VBox([self.stamp, self.filter_bar(), self.drill, self.notice, *self.body()])


SO_EQUIPES = (
    "A lista nominal de estudantes é mostrada às equipes das SREs e das escolas; "
    "aqui ficam os totais."
)
RESTRITA = "A lista nominal de estudantes é restrita à escola e à sua SRE."


def may_list_students(viewer: Viewer) -> bool:
    """Student names only for viewers scoped to an SRE or a school (and admins), never for
    a user who sees the whole state's rows."""
    return viewer.is_admin or not viewer.sees_all(DATASET)


def sees_students(viewer: Viewer, view: View) -> bool:
    """A student list is shown: inside a school, to a viewer who may list students."""
    return at_school(view.place) and may_list_students(viewer)


def show(widget: widgets.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


def clear(table: Table) -> None:
    """No rows in ``table``."""
    table.set_frame(table.frame.iloc[0:0])


def empty_frame(columns: Sequence[Column], *extra: str) -> pd.DataFrame:
    """No rows, with the ``extra`` columns and those of a table of ``columns``."""
    return pd.DataFrame(columns=[*extra, *[c.key for c in columns]])


def kpi_cards(values: Sequence[tuple[str, str, str]]) -> list[str]:
    return [ui.kpi_html(label, value, note) for label, value, note in values]


def set_kpis(cards: list[widgets.HTML], values: Sequence[tuple[str, str, str]]) -> None:
    for card, text in zip(cards, kpi_cards(values), strict=False):
        card.value = text


def pct(part: Any, whole: Any) -> float | None:
    try:
        return 100.0 * float(part) / float(whole) if whole else None
    except (TypeError, ValueError):
        return None


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 · part / whole per row (missing where whole is 0 or missing)."""
    whole = pd.to_numeric(whole, errors="coerce")
    return 100 * pd.to_numeric(part, errors="coerce") / whole.where(whole > 0)


def as_counts(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of ``df`` as whole numbers (0 where missing), in place."""
    for c in columns:
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype(int)
    return df


def bimestre_label(b: Any) -> str:
    return f"{int(b)}º bimestre"


def build_panel(cls: type[SchoolPanel]) -> Callable[[Viewer], widgets.Widget]:
    """``build(viewer)`` for a panel class: the page now, its data right after (dash.later)."""

    def build(viewer: Viewer) -> widgets.Widget:
        ds = open_dataset(viewer, DATASET)
        page = cls(viewer, ds)
        if not queries.child_labels(ds, Place()).shape[0] and not viewer.sees_all(DATASET):
            return widgets.VBox(
                [
                    page.stamp,
                    widgets.HTML(
                        ui.message(
                            "Você não tem acesso a dados da rede estadual. Peça acesso à "
                            "sua SRE ou ao órgão central.",
                            "warning",
                        )
                    ),
                ]
            )
        page.watch(page.refresh)
        later(ui.guarded(page.notice)(page.refresh))
        return page.widget()

    return build
