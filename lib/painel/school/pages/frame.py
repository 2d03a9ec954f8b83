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
from ..queries import Filters, Place, View

ALL = ""
STYLE = {"description_width": "initial"}


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
            options=[("Todos", 0)] + [(f"{b}º bimestre", b) for b in started],
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

        return Download("Exportar Excel (linhas da tabela)", make)

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
        raise NotImplementedError

    def widget(self) -> widgets.Widget:
        # the page's title and the user's name are in the page header (the painel template)
        return widgets.VBox([self.stamp, self.filter_bar(), self.drill, self.notice, *self.body()])


SO_EQUIPES = (
    "A lista nominal de estudantes é mostrada às equipes das SREs e das escolas; "
    "aqui ficam os totais."
)


def may_list_students(viewer: Viewer) -> bool:
    """Student names only for viewers scoped to an SRE or a school (and admins), never for
    a user who sees the whole state's rows."""
    return viewer.is_admin or not viewer.sees_all(DATASET)


def at_school(place: Place) -> bool:
    return place.level in ("escola", "turma")


def sees_students(viewer: Viewer, view: View) -> bool:
    """A student list is shown: inside a school, to a viewer who may list students."""
    return at_school(view.place) and may_list_students(viewer)


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


def unit_table_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.fillna({c: 0 for c in df.columns if c not in ("id", "label")})
