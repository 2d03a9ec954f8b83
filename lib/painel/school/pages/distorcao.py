"""Distorção Idade-Série: where are the over-age students?

KPI cards (TDI, matrículas distorcidas, base), the TDI of each etapa (in etapa order), the
TDI of each unit one level down (a bar drills down), the age × etapa matrix of the active
matrículas, and the table by unit with export. TDI = distorcidas ÷ base: base = active
escolarização matrículas in an etapa with an expected age and with a birth date; distorted
when age ≥ expected + 2 (docs/school.md, "Indicators").

The matrix counts ``alunos`` rows (the summaries hold no ages): at the state level only while
the place has at most :data:`MATRIX_MAX_ROWS` matrículas; from the SRE down it always reads
``alunos`` with the place filter, which its sort order (SRE, school) keeps cheap.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.chart import Chart
from ...dash.table import Column, Table
from ...scope import ScopedDataset
from .. import charts, contract, queries
from ..queries import View
from .frame import SchoolPanel, build_panel, pct, set_kpis

MATRIX_MAX_ROWS = 5000  # matrículas above which the state-wide age x etapa matrix is not read
NO_AGE = "Sem data de nascimento"
COLUMNS = [
    Column("label", "Unidade"),
    Column("matriculas", "Matrículas ativas", kind="int"),
    Column("base_tdi", "Base da TDI", kind="int"),
    Column("distorcidas", "Distorcidas", kind="int"),
    Column("tdi", "Distorção idade-série (%)", kind="percent"),
]
ETAPA_ORDER = {e: i for i, e in enumerate(contract.ETAPAS)}


def by_etapa(ds: ScopedDataset, view: View) -> pd.DataFrame:
    """``etapa, nome, distorcidas, base_tdi, tdi`` of the view's active matrículas, for the
    etapas with an expected age, in etapa order."""
    if view.place.level in ("escola", "turma"):
        where, params = view.where("a")
        sql = (
            "SELECT a.etapa, count(*) FILTER (WHERE a.distorcido) AS distorcidas, "
            "count(*) FILTER (WHERE a.base_tdi) AS base_tdi FROM alunos a "
            f"WHERE {where} AND {queries.ACTIVE} GROUP BY ALL"
        )
    else:
        where, params = view.where("a", levels=("sre", "municipio", "escola"))
        sql = (
            "SELECT a.etapa, sum(a.distorcidas)::BIGINT AS distorcidas, "
            f"sum(a.base_tdi)::BIGINT AS base_tdi FROM agg_matricula a WHERE {where} GROUP BY ALL"
        )
    df = ds.sql(sql, params)
    df = df[pd.to_numeric(df["base_tdi"]).fillna(0) > 0].copy()
    df["ordem"] = [ETAPA_ORDER.get(int(e), 999) for e in df["etapa"]]
    df = df.sort_values("ordem").reset_index(drop=True)
    df["nome"] = [queries.etapa_label(e) for e in df["etapa"]]
    df["tdi"] = 100 * df["distorcidas"].astype(float) / df["base_tdi"].astype(float)
    return df


def age_matrix(ds: ScopedDataset, view: View) -> pd.DataFrame:
    """``etapa, idade, n``: active escolarização matrículas by etapa and age (idade None
    when the birth date is missing)."""
    where, params = view.where("a")
    return ds.sql(
        "SELECT a.etapa, a.idade, count(*)::BIGINT AS n FROM alunos a "
        f"WHERE {where} AND {queries.ACTIVE} GROUP BY ALL",
        params,
    )


def count_heatmap(df: pd.DataFrame, *, title: str) -> plots.Spec:
    """The age × etapa matrix: etapas down (in etapa order), ages across (then "sem data"),
    cells coloured and labelled by count; the hover says the etapa's expected age.

    Generic (a count grid): a candidate for ``charts.py`` next to the percentage heatmap."""
    etapas = sorted({int(e) for e in df["etapa"]}, key=lambda e: ETAPA_ORDER.get(e, 999))
    ages = sorted({int(a) for a in df["idade"].dropna()})
    cols: list[Any] = [*ages, *([None] if df["idade"].isna().any() else [])]
    names = [f"{a} anos" if a is not None else NO_AGE for a in cols]
    cell = {
        (int(e), None if pd.isna(a) else int(a)): int(n)
        for e, a, n in df[["etapa", "idade", "n"]].itertuples(index=False)
    }
    z = [[cell.get((e, a)) for a in cols] for e in etapas]
    expected = [
        [
            f"idade esperada {contract.IDADE_ESPERADA[e]} anos"
            if e in contract.IDADE_ESPERADA
            else "sem idade esperada"
            for _ in cols
        ]
        for e in etapas
    ]
    trace = {
        "type": "heatmap",
        "x": names,
        "y": [queries.etapa_label(e) for e in etapas],
        "z": z,
        "text": [[fmt.number(v) if v is not None else "" for v in row] for row in z],
        "texttemplate": "%{text}",
        "customdata": expected,
        "colorscale": [[0, "#e3f2fd"], [1, "#1f4e79"]],
        "hovertemplate": "%{y}, %{x}: %{text} matrículas (%{customdata})<extra></extra>",
        "colorbar": {"title": {"text": "Matrículas"}},
    }
    layout: dict[str, Any] = {
        "title": title,
        "height": max(300, min(1000, 120 + 34 * len(etapas))),
        "margin": {"l": 10, "r": 20, "t": 56, "b": 50},
        "xaxis": {"title": {"text": "Idade"}, "type": "category"},
        "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"},
    }
    if df.empty:
        layout["annotations"] = [charts.EMPTY]
    return plots.spec([trace], layout)


class Distorcao(SchoolPanel):
    title = "Distorção Idade-Série"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cards = [widgets.HTML() for _ in range(3)]
        self.etapas = Chart(filename="distorcao_por_etapa")
        self.chart = ui.ClickChart(self.open_label, filename="distorcao_por_unidade")
        self.matrix_note = widgets.HTML()
        self.matrix = Chart(filename="idade_por_etapa")
        self.table = Table(
            COLUMNS,
            caption="Unidades",
            sort="label",
            unit="unidades",
            click_hint="clique em uma linha para ver a unidade",
        )
        self.table.on_row_click(
            ui.guarded(self.notice)(lambda r: self.open_unit(r["id"], r["label"]))
        )
        self.export = self.export_button(self.table, COLUMNS, "distorcao", "Distorção")

    def body(self) -> list[widgets.Widget]:
        return [
            ui.kpi_row(self.cards),
            self.etapas,
            self.chart,
            self.matrix_note,
            self.matrix,
            self.table,
            self.export,
        ]

    def refresh(self) -> None:
        view = self.view
        m = queries.matriculas_total(self.ds, view)
        set_kpis(
            self.cards,
            [
                (
                    "Distorção idade-série",
                    fmt.percent(pct(m.get("distorcidas"), m.get("base_tdi")), 1),
                    "2 anos ou mais acima da idade esperada",
                ),
                ("Matrículas distorcidas", fmt.number(m.get("distorcidas") or 0), ""),
                (
                    "Base",
                    fmt.number(m.get("base_tdi") or 0),
                    "matrículas ativas em etapa com idade esperada e data de nascimento",
                ),
            ],
        )
        e = by_etapa(self.ds, view)
        self.etapas.figure = charts.bars(
            e["nome"].tolist(),
            e["tdi"].tolist(),
            title="Distorção idade-série por etapa",
            axis="Distorção (%)",
            percent=True,
        )
        self.draw_matrix(view, int(m.get("matriculas") or 0))
        df = self.units(view)
        if df is None:
            self.chart.layout.display = self.table.layout.display = "none"
            self.export.layout.display = "none"
            self.table.set_frame(pd.DataFrame(columns=["id", *[c.key for c in COLUMNS]]))
            return
        self.chart.layout.display = self.table.layout.display = None
        self.export.layout.display = None
        unit = self.children_title()
        self.chart.figure = charts.bars_by_unit(
            df if df["base_tdi"].sum() else df.iloc[0:0],  # no base: the chart says so
            "tdi",
            title=f"Distorção idade-série {unit}",
            axis="Distorção (%)",
            percent=True,
        )
        self.table.caption = f"Distorção idade-série {unit}"
        self.table.set_frame(df)

    def draw_matrix(self, view: View, matriculas: int) -> None:
        if view.place.level == "estado" and matriculas > MATRIX_MAX_ROWS:
            self.matrix.layout.display = "none"
            self.matrix_note.value = ui.message(
                "A matriz idade × etapa é mostrada a partir de uma SRE: clique em uma SRE "
                "para vê-la."
            )
            return
        df = age_matrix(self.ds, view)
        self.matrix.layout.display = None
        self.matrix_note.value = (
            "" if len(df) else ui.message("Nenhuma matrícula ativa nesta seleção.")
        )
        self.matrix.figure = count_heatmap(
            df, title=f"Matrículas ativas por idade e etapa — {self.place_label()}"
        )

    def units(self, view: View) -> pd.DataFrame | None:
        if view.place.child is None:
            return None
        m = queries.matriculas_by_child(self.ds, view)
        if m.empty:
            return pd.DataFrame(columns=["id", *[c.key for c in COLUMNS]])
        for c in ("matriculas", "base_tdi", "distorcidas"):
            m[c] = pd.to_numeric(m[c]).fillna(0).astype(int)
        m["tdi"] = 100 * m["distorcidas"] / m["base_tdi"].where(m["base_tdi"] > 0)
        return m


build = build_panel(Distorcao)
