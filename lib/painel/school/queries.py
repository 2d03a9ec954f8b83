"""Scoped queries of the school panels (ScopedDataset -> DataFrame).

Every panel shows one **place** (the state, an SRE, a município, a school or a turma: the
drill-down path) under the **filters** (etapa group, turno, modalidade, bimestre). A query
names only the dataset's scoped views, so a viewer never reads a row outside their grants;
the place and the filters are bound parameters (values the server offered, never text from
the browser).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict, Unpack

import pandas as pd

from ..scope import ScopedDataset
from . import contract

LEVELS = ("estado", "sre", "municipio", "escola", "turma")
COLUMN = {"sre": "sre_id", "municipio": "co_municipio", "escola": "school_id", "turma": "id_turma"}
LEVEL_NAME = {
    "estado": "Estado",
    "sre": "SRE",
    "municipio": "Município",
    "escola": "Escola",
    "turma": "Turma",
}
CHILD = {"estado": "sre", "sre": "municipio", "municipio": "escola", "escola": "turma"}
TURNOS = ("Manhã", "Tarde", "Noite", "Integral", "Sem turma")
MODALIDADES = ("Regular", "EJA", "Profissional", "Especial")


@dataclass(frozen=True)
class Place:
    """Where the panel is: ``path`` holds (level, id) from the state down."""

    path: tuple[tuple[str, int], ...] = ()

    @property
    def level(self) -> str:
        return self.path[-1][0] if self.path else "estado"

    @property
    def child(self) -> str | None:
        return CHILD.get(self.level)

    def down(self, level: str, value: int) -> Place:
        return Place((*self.path, (level, int(value))))

    def value(self, level: str) -> int | None:
        for lv, v in self.path:
            if lv == level:
                return v
        return None

    def where(self, alias: str = "", levels: Sequence[str] = LEVELS) -> tuple[str, list[Any]]:
        """``sre_id = ? AND school_id = ?``: the rows of this place (only ``levels`` the
        table has columns for)."""
        prefix = f"{alias}." if alias else ""
        terms: list[str] = []
        params: list[Any] = []
        for level, value in self.path:
            if level in levels:
                terms.append(f"{prefix}{COLUMN[level]} = ?")
                params.append(value)
        return (" AND ".join(terms) or "TRUE"), params


@dataclass(frozen=True)
class Filters:
    grupo: str = ""  # etapa group (contract.GRUPOS), "" = all
    turno: str = ""
    modalidade: str = ""
    bimestre: int = 0  # 0 = all

    def where(
        self, alias: str = "", *, with_turno: bool = True, with_bimestre: bool = False
    ) -> tuple[str, list[Any]]:
        prefix = f"{alias}." if alias else ""
        terms: list[str] = []
        params: list[Any] = []
        if self.grupo:
            terms.append(f"{prefix}grupo = ?")
            params.append(self.grupo)
        if with_turno and self.turno:
            terms.append(f"{prefix}turno = ?")
            params.append(self.turno)
        if with_turno and self.modalidade:
            terms.append(f"{prefix}modalidade = ?")
            params.append(self.modalidade)
        if with_bimestre and self.bimestre:
            terms.append(f"{prefix}bimestre = ?")
            params.append(self.bimestre)
        return (" AND ".join(terms) or "TRUE"), params


@dataclass(frozen=True)
class View:
    """A panel's question: the place and the filters."""

    place: Place = field(default_factory=Place)
    filters: Filters = field(default_factory=Filters)

    def at(self, place: Place) -> View:
        return replace(self, place=place)

    def where(
        self,
        alias: str = "",
        *,
        levels: Sequence[str] = LEVELS,
        with_turno: bool = True,
        with_bimestre: bool = False,
        filters: bool = True,
    ) -> tuple[str, list[Any]]:
        w1, p1 = self.place.where(alias, levels)
        if not filters:
            return w1, p1
        w2, p2 = self.filters.where(alias, with_turno=with_turno, with_bimestre=with_bimestre)
        return f"({w1}) AND ({w2})", p1 + p2


# ---- what the viewer can see -------------------------------------------------------------
def home(ds: ScopedDataset, sees_all: bool) -> tuple[Place, list[str]]:
    """Where a viewer starts and the labels of the levels above it: the state for central
    users; their SRE when every school they see is in one SRE; their school when they see
    one school."""
    rows = ds.sql("SELECT school_id, nome, sre_id, sre_nome, co_municipio, municipio FROM escolas")
    if sees_all or rows.empty:
        return Place(), ["Minas Gerais"]
    sres = rows["sre_id"].unique()
    if len(rows) == 1:
        r = rows.iloc[0]
        place = Place(
            (
                ("sre", int(r.sre_id)),
                ("municipio", int(r.co_municipio)),
                ("escola", int(r.school_id)),
            )
        )
        return place, [f"SRE {r.sre_nome}", str(r.municipio), str(r.nome)]
    if len(sres) == 1:
        r = rows.iloc[0]
        return Place((("sre", int(r.sre_id)),)), [f"SRE {r.sre_nome}"]
    return Place(), ["Minas Gerais"]


def school_year(ds: ScopedDataset) -> int | None:
    df = ds.sql("SELECT max(ano) AS ano FROM calendario")
    return None if df.empty or pd.isna(df["ano"].iloc[0]) else int(df["ano"].iloc[0])


def bimestres(ds: ScopedDataset) -> pd.DataFrame:
    """The school year's bimestres (read once per version; do not change the frame)."""
    return ds.memo(
        "bimestres",
        lambda: ds.sql(
            "SELECT bimestre, dt_inicio, dt_fim, devido, iniciado FROM calendario ORDER BY 1"
        ),
    )


def child_labels(ds: ScopedDataset, place: Place) -> pd.DataFrame:
    """``id, label`` of the units one level below ``place`` that the viewer sees (read once
    per place and version: every chart and table of a panel names its units by them; do not
    change the frame returned)."""
    return ds.memo(("child_labels", place), lambda: _child_labels(ds, place))


def _child_labels(ds: ScopedDataset, place: Place) -> pd.DataFrame:
    child = place.child
    if child is None:
        return pd.DataFrame(columns=["id", "label"])
    where, params = place.where("e", ("sre", "municipio", "escola"))
    if child == "sre":
        sql = f"SELECT DISTINCT e.sre_id AS id, 'SRE ' || e.sre_nome AS label FROM escolas e WHERE {where}"
    elif child == "municipio":
        sql = f"SELECT DISTINCT e.co_municipio AS id, e.municipio AS label FROM escolas e WHERE {where}"
    elif child == "escola":
        sql = f"SELECT e.school_id AS id, e.nome AS label FROM escolas e WHERE {where}"
    else:
        where, params = place.where("t", ("sre", "municipio", "escola"))
        sql = (
            f"SELECT t.id_turma AS id, t.nome AS label FROM turmas t WHERE {where} "
            "AND t.escolarizacao"
        )
    df = ds.sql(sql + " ORDER BY label", params)
    return unique_labels(df)


def unique_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Labels made unique (a repeated name gets its code), so a clicked bar names one unit."""
    if df.empty:
        return df
    dup = df["label"].duplicated(keep=False)
    if dup.any():
        df = df.copy()
        df.loc[dup, "label"] = df.loc[dup, "label"] + " (" + df.loc[dup, "id"].astype(str) + ")"
    return df


class Rows(TypedDict, total=False):
    """Which rows of a table a panel's measure covers (:func:`by_child`, :func:`totals`).

    ``levels``: the place's levels the table has columns for (default: all);
    ``with_turno``: the turno and modalidade filters apply (default True);
    ``with_bimestre``: the bimestre filter applies (default False);
    ``filters``: the filters apply at all (default True);
    ``extra_where``: a further SQL condition on ``a`` (default TRUE), its ``?`` bound to
    ``extra_params``; ``measure_params``: bound to the ``?`` of the measures."""

    levels: Sequence[str]
    with_turno: bool
    with_bimestre: bool
    filters: bool
    extra_where: str
    extra_params: Sequence[Any]
    measure_params: Sequence[Any]


def _select(
    ds: ScopedDataset, view: View, table: str, measures: str, key: str | None, rows: Rows
) -> pd.DataFrame:
    """``measures`` over the view's ``rows`` of ``table`` (aliased ``a``): one row, or one
    row per ``a.<key>`` (as ``id``) when ``key`` is given."""
    where, params = view.where(
        "a",
        levels=rows.get("levels", LEVELS),
        with_turno=rows.get("with_turno", True),
        with_bimestre=rows.get("with_bimestre", False),
        filters=rows.get("filters", True),
    )
    select, group = (f"a.{key} AS id, {measures}", " GROUP BY ALL") if key else (measures, "")
    extra = rows.get("extra_where", "TRUE")
    return ds.sql(
        f"SELECT {select} FROM {table} a WHERE {where} AND ({extra}){group}",
        [*rows.get("measure_params", ()), *params, *rows.get("extra_params", ())],
    )


def by_child(
    ds: ScopedDataset, view: View, table: str, measures: str, **rows: Unpack[Rows]
) -> pd.DataFrame:
    """``measures`` (SQL aggregates over ``table`` aliased ``a``) per unit one level below the
    view's place, with every unit the viewer sees (missing where it has no rows); ``rows``
    as in :class:`Rows`."""
    child = view.place.child
    if child is None:
        return pd.DataFrame()
    labels = child_labels(ds, view.place)
    if labels.empty:
        return pd.DataFrame(columns=["id", "label"])
    df = _select(ds, view, table, measures, COLUMN[child], rows)
    return labels.merge(df, on="id", how="left")


def totals(
    ds: ScopedDataset, view: View, table: str, measures: str, **rows: Unpack[Rows]
) -> dict[str, Any]:
    """``measures`` over the whole place (one row, as a dict); ``rows`` as in :class:`Rows`."""
    df = _select(ds, view, table, measures, None, rows)
    return {k: (None if pd.isna(v) else v) for k, v in df.iloc[0].items()} if len(df) else {}


def manifest_day(manifest: dict[str, Any]) -> str:
    """The dump's date (dd/mm/yyyy) the version holds."""
    day = (manifest.get("notes") or {}).get("dump_date") or ""
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}" if len(day) == 10 else ""


def etapa_label(etapa: Any) -> str:
    try:
        return contract.ETAPAS[int(etapa)]
    except (KeyError, TypeError, ValueError):
        return "Sem etapa"


# ---- matrículas: the summary above the school, the matrículas themselves inside it --------
_AGG = (
    "sum(a.ativas)::BIGINT AS matriculas, sum(a.enturmadas)::BIGINT AS enturmadas, "
    "sum(a.nao_enturmadas)::BIGINT AS nao_enturmadas, "
    "sum(a.infrequentes)::BIGINT AS infrequentes, sum(a.em_risco)::BIGINT AS em_risco, "
    "sum(a.com_frequencia)::BIGINT AS com_frequencia, sum(a.distorcidas)::BIGINT AS distorcidas, "
    "sum(a.base_tdi)::BIGINT AS base_tdi, sum(a.abaixo_media)::BIGINT AS abaixo_media, "
    "sum(a.com_notas)::BIGINT AS com_notas, sum(a.risco_reprovacao)::BIGINT AS risco_reprovacao"
)
_ROWS = (
    "count(*) AS matriculas, count(*) FILTER (WHERE a.enturmada) AS enturmadas, "
    "count(*) FILTER (WHERE NOT a.enturmada) AS nao_enturmadas, "
    "count(*) FILTER (WHERE a.infrequente) AS infrequentes, "
    "count(*) FILTER (WHERE a.em_risco) AS em_risco, "
    "count(*) FILTER (WHERE a.aulas > 0) AS com_frequencia, "
    "count(*) FILTER (WHERE a.distorcido) AS distorcidas, "
    "count(*) FILTER (WHERE a.base_tdi) AS base_tdi, "
    "count(*) FILTER (WHERE a.abaixo_media) AS abaixo_media, "
    "count(*) FILTER (WHERE a.distribuidos > 0) AS com_notas, "
    "count(*) FILTER (WHERE a.risco_reprovacao) AS risco_reprovacao"
)
ACTIVE = "a.ativa AND a.escolarizacao"


def students(ds: ScopedDataset, view: View, extra_where: str = "TRUE") -> pd.DataFrame:
    """Active escolarização matrículas of the view (``alunos`` ``a``) with the student's name
    and birth date (``estudantes``): only for panels that list students, inside a school."""
    where, params = view.where("a")
    df = ds.sql(
        "SELECT a.id_matricula, a.id_turma, s.nome, s.dt_nascimento, a.etapa, a.dt_matricula, "
        "a.idade, a.freq_pct, a.situacao FROM alunos a "
        "JOIN estudantes s ON s.id_matricula = a.id_matricula "
        f"WHERE {where} AND {ACTIVE} AND ({extra_where}) "
        "ORDER BY s.nome COLLATE noaccent.nocase, a.id_matricula",
        params,
    )
    df["etapa_nome"] = [etapa_label(e) for e in df["etapa"]]
    df["id_matricula"] = df["id_matricula"].astype(str)
    return df


def at_school(place: Place) -> bool:
    """The place is a school or one of its turmas."""
    return place.level in ("escola", "turma")


def matriculas_total(ds: ScopedDataset, view: View) -> dict[str, Any]:
    """Active escolarização matrículas of the view: counts of every indicator's parts."""
    if at_school(view.place):
        return totals(ds, view, "alunos", _ROWS, extra_where=ACTIVE)
    return totals(ds, view, "agg_matricula", _AGG, levels=("sre", "municipio", "escola"))


def matriculas_by_child(ds: ScopedDataset, view: View) -> pd.DataFrame:
    if view.place.child == "turma":
        return by_child(ds, view, "alunos", _ROWS, extra_where=ACTIVE + " AND a.enturmada")
    return by_child(ds, view, "agg_matricula", _AGG, levels=("sre", "municipio", "escola"))
