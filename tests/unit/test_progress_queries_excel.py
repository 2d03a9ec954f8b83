"""Progress dashboard queries under viewer scopes, and the Excel export read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from painel.auth import Grant, Viewer
from painel.progress import etl, excel, queries
from painel.progress.queries import BEHIND, NOT_STARTED, ON_TRACK, SORTS, Filters
from painel.scope import ScopedDataset
from painel.store import Store

W10, W11, W12 = "2025-W10", "2025-W11", "2025-W12"
MONDAYS = {W10: dt.date(2025, 3, 3), W11: dt.date(2025, 3, 10), W12: dt.date(2025, 3, 17)}
NAMES = {
    101: "Ana",
    102: "Bruno",
    103: "Caio",
    104: "Dora",
    105: "Eva",
    106: "Fabio",
    107: "Gil",
    108: "Hugo",
}
POSITION = {2101: 1, 2102: 2, 2105: 1}
COURSE = {2101: "Python", 2102: "SQL", 2105: "ML"}
CLASS = {5001: "Turma 01", 5002: "Turma 02", 5003: "Turma 03"}

# (week, student, tag, product, pct, watched, completed)
PROGRESS: list[tuple[str, int, int, int, float, int, int]] = [
    (W10, 101, 5001, 2101, 10.0, 5, 4),
    (W10, 101, 5001, 2102, 0.0, 0, 0),
    (W10, 103, 5001, 2101, 0.0, 0, 0),
    (W10, 103, 5001, 2102, 0.0, 0, 0),
    (W10, 105, 5001, 2101, 5.0, 2, 2),
    (W10, 105, 5001, 2102, 5.0, 2, 1),
    (W10, 105, 5002, 2101, 5.0, 2, 2),
    (W10, 105, 5002, 2102, 5.0, 2, 1),
    (W10, 104, 5002, 2101, 30.0, 14, 14),
    (W10, 104, 5002, 2102, 20.0, 7, 7),
    # W11: Ana behind (mean 15 < 20), Bruno on track (25), Caio not started, Eva exactly on
    # track (20) in both her classes, Gil behind (0 % but watched a lesson), Dora and Hugo on track
    (W11, 101, 5001, 2101, 25.0, 12, 12),
    (W11, 101, 5001, 2102, 5.0, 3, 1),
    (W11, 102, 5001, 2101, 40.0, 19, 19),
    (W11, 102, 5001, 2102, 10.0, 4, 3),
    (W11, 103, 5001, 2101, 0.0, 0, 0),
    (W11, 103, 5001, 2102, 0.0, 0, 0),
    (W11, 105, 5001, 2101, 20.0, 9, 9),
    (W11, 105, 5001, 2102, 20.0, 7, 7),
    (W11, 105, 5002, 2101, 20.0, 9, 9),
    (W11, 105, 5002, 2102, 20.0, 7, 7),
    (W11, 107, 5001, 2101, 0.0, 2, 0),
    (W11, 107, 5001, 2102, 0.0, 0, 0),
    (W11, 104, 5002, 2101, 60.0, 28, 28),
    (W11, 104, 5002, 2102, 50.0, 18, 18),
    (W11, 108, 5002, 2101, 100.0, 48, 48),
    (W11, 108, 5002, 2102, 100.0, 36, 36),
    (W11, 106, 5003, 2105, 30.0, 15, 15),
    # a week only class 5002 has
    (W12, 104, 5002, 2101, 70.0, 33, 33),
    (W12, 104, 5002, 2102, 55.0, 20, 20),
]


def publish_dataset(store: Store) -> str:
    build = store.build(etl.DATASET, etl.TABLES)
    con = build.con
    etl._create_tables(con)
    con.executemany(
        "INSERT INTO tracks VALUES (?, ?, ?)",
        [("analista", "Formacao Analista", 10.0), ("cientista", "Formacao Cientista", 8.0)],
    )
    con.executemany(
        "INSERT INTO track_products VALUES (?, ?, ?, ?)",
        [
            ("analista", 2101, 1, "Python"),
            ("analista", 2102, 2, "SQL"),
            ("cientista", 2105, 1, "ML"),
        ],
    )
    con.executemany(
        "INSERT INTO classes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (5001, 1, "Turma 01", "analista", "Formacao Analista", "T01", True, MONDAYS[W10]),
            (5002, 2, "Turma 02", "analista", "Formacao Analista", "T02", True, MONDAYS[W10]),
            (5003, 3, "Turma 03", "cientista", "Formacao Cientista", "T03", True, MONDAYS[W10]),
        ],
    )
    con.executemany(
        "INSERT INTO weeks VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
        [(w, MONDAYS[w], f"{MONDAYS[w]} 09:00:00+00", "r") for w in (W10, W11, W12)],
    )
    con.executemany(
        "INSERT INTO progress_weekly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::TIMESTAMPTZ)",
        [
            (w, MONDAYS[w], s, t, p, pct, wa, co, f"{MONDAYS[w]} 09:00:00+00")
            for w, s, t, p, pct, wa, co in PROGRESS
        ],
    )
    seen: dict[tuple[int, int], list[str]] = {}
    for w, s, t, *_ in PROGRESS:
        seen.setdefault((s, t), []).append(w)
    con.executemany(
        "INSERT INTO students VALUES (?, ?, ?, ?, ?)",
        [(s, t, NAMES[s], min(ws), max(ws)) for (s, t), ws in seen.items()],
    )
    con.execute(
        "INSERT INTO class_weekly SELECT week, week_start, tag_id, product_id, count(*), avg(progress_pct), "
        "count(*) FILTER (progress_pct >= 100), count(*) FILTER (progress_pct = 0) FROM progress_weekly GROUP BY ALL"
    )
    return build.publish()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    st = Store(Path(tmp_path_factory.mktemp("store")), keep=5)
    publish_dataset(st)
    return st


def scoped(store: Store, viewer: Viewer) -> Iterator[ScopedDataset]:
    ds = ScopedDataset(viewer, "progress", store)
    try:
        yield ds
    finally:
        ds.close()


@pytest.fixture
def tutor(store: Store) -> Iterator[ScopedDataset]:
    yield from scoped(
        store, Viewer("tutora", "tutor", frozenset({Grant.parse("progress:class:5001")}))
    )


@pytest.fixture
def admin(store: Store) -> Iterator[ScopedDataset]:
    yield from scoped(store, Viewer("adm", "admin"))


def rows_of(
    week: str, tags: set[int] | None = None
) -> list[tuple[str, int, int, int, float, int, int]]:
    return [r for r in PROGRESS if r[0] == week and (tags is None or r[2] in tags)]


# --------------------------------------------------------------------------- scope


def test_tutor_sees_only_their_class_everywhere(tutor: ScopedDataset) -> None:
    assert list(queries.classes(tutor)["tag_id"]) == [5001]
    assert list(queries.classes(tutor, track="cientista")["tag_id"]) == []
    assert list(queries.tracks(tutor)["track"]) == ["analista"]
    assert list(queries.products(tutor)["product_id"]) == [2101, 2102]
    assert queries.weeks(tutor) == [W11, W10]  # not W12, which only class 5002 has
    assert queries.student_options(tutor, Filters(week=W11)) == [
        ("Ana (101)", 101),
        ("Bruno (102)", 102),
        ("Caio (103)", 103),
        ("Eva (105)", 105),
        ("Gil (107)", 107),
    ]
    table = queries.student_table(tutor, Filters(week=W11), pace=10)
    assert len(table) == len(rows_of(W11, {5001})) == 10
    assert set(table["Turma"]) == {"Turma 01"}
    assert set(table["ID Cademi"]) == {101, 102, 103, 105, 107}
    k = queries.kpis(tutor, Filters(week=W11))
    expected = [r[4] for r in rows_of(W11, {5001})]
    assert k == {
        "students": 5,
        "classes": 1,
        "avg_progress": pytest.approx(sum(expected) / len(expected)),
    }
    assert set(queries.class_by_week(tutor, Filters())["tag_id"]) == {5001}
    assert list(queries.overall_by_week(tutor, Filters())["week"]) == [W10, W11]


def test_tutor_cannot_widen_the_scope_with_filters(tutor: ScopedDataset) -> None:
    other = Filters(week=W11, tag_id=5002)
    assert queries.kpis(tutor, other) == {"students": 0, "classes": 0, "avg_progress": None}
    assert queries.student_table(tutor, other, pace=10).empty
    assert queries.student_options(tutor, other) == []
    assert queries.student_options(tutor, Filters(week=W12)) == []
    assert queries.groups(tutor, other, pace=10)["students"].sum() == 0


def test_journey_of_a_student_from_another_class_is_empty(
    tutor: ScopedDataset, admin: ScopedDataset
) -> None:
    assert queries.journey(tutor, 104).empty  # Dora is in Turma 02
    assert len(queries.journey(admin, 104)) == 6
    eva = queries.journey(tutor, 105)  # Eva is in both classes: the tutor sees Turma 01's rows only
    assert set(eva["class_name"]) == {"Turma 01"}
    assert list(zip(eva["product_name"], eva["week"], eva["progress_pct"], strict=True)) == [
        ("Python", W10, 5.0),
        ("Python", W11, 20.0),
        ("SQL", W10, 5.0),
        ("SQL", W11, 20.0),
    ]


def test_student_in_two_classes_counts_once_in_kpis(admin: ScopedDataset) -> None:
    k = queries.kpis(admin, Filters(week=W11))
    pairs = {(s, p): pct for _w, s, _t, p, pct, _wa, _co in rows_of(W11)}
    assert len(pairs) < len(rows_of(W11))
    assert k["students"] == 8 and k["classes"] == 3
    assert k["avg_progress"] == pytest.approx(sum(pairs.values()) / len(pairs))
    assert k["avg_progress"] == pytest.approx(460 / 15)
    by_week = queries.overall_by_week(admin, Filters())
    assert list(by_week["week"]) == [W10, W11, W12]
    assert list(by_week["students"]) == [4, 8, 1]


def test_kpis_filters(admin: ScopedDataset) -> None:
    k = queries.kpis(admin, Filters(week=W11, track="cientista"))
    assert k == {"students": 1, "classes": 1, "avg_progress": 30.0}
    k = queries.kpis(admin, Filters(week=W11, product_id=2102))
    assert k["students"] == 7 and k["avg_progress"] == pytest.approx(
        (5 + 10 + 0 + 20 + 0 + 50 + 100) / 7
    )


# --------------------------------------------------------------------------- situation against pace


def groups(ds: ScopedDataset, week: str, pace: float, **kw: Any) -> dict[str, int]:
    df = queries.groups(ds, Filters(week=week, **kw), pace)
    assert list(df["situation"]) == [ON_TRACK, BEHIND, NOT_STARTED]
    return dict(zip(df["situation"], df["students"], strict=True))


def test_groups_against_pace(tutor: ScopedDataset, admin: ScopedDataset) -> None:
    # W11 is the class's second week: pace 10 expects 20 % on average over the courses
    assert groups(tutor, W11, 10) == {ON_TRACK: 2, BEHIND: 2, NOT_STARTED: 1}
    situations = queries.student_table(tutor, Filters(week=W11), pace=10)
    by_student = dict(zip(situations["Aluno"], situations["Situação"], strict=False))
    assert by_student == {
        "Ana": BEHIND,
        "Bruno": ON_TRACK,
        "Caio": NOT_STARTED,
        "Eva": ON_TRACK,
        "Gil": BEHIND,
    }
    # a student in two classes counts in each
    assert groups(admin, W11, 10) == {ON_TRACK: 6, BEHIND: 2, NOT_STARTED: 1}
    # the expected progress is capped at 100 %: Hugo at 100 % is on track even at pace 60
    assert groups(admin, W11, 60) == {ON_TRACK: 1, BEHIND: 7, NOT_STARTED: 1}
    # first week of the class: pace 10 expects 10 %
    assert groups(admin, W10, 10) == {ON_TRACK: 1, BEHIND: 3, NOT_STARTED: 1}
    # a slower pace puts Ana (15 %) on track
    assert groups(tutor, W11, 7.5) == {ON_TRACK: 3, BEHIND: 1, NOT_STARTED: 1}
    assert groups(admin, W11, 10, track="cientista") == {ON_TRACK: 1, BEHIND: 0, NOT_STARTED: 0}


# --------------------------------------------------------------------------- the table


COLUMNS = [
    "Semana",
    "Início da semana",
    "Turma",
    "Trilha",
    "Curso",
    "Aluno",
    "ID Cademi",
    "Progresso (%)",
    "Variação na semana (p.p.)",
    "Aulas assistidas",
    "Aulas concluídas",
    "Situação",
]
SORT_COLUMNS = {
    "Aluno": ["Aluno"],
    "Turma": ["Turma", "Aluno"],
    "Curso": ["Curso", "Aluno"],
    "Progresso": ["Progresso (%)"],
    "Variação na semana": ["Variação na semana (p.p.)"],
    "Situação": ["Situação", "Aluno"],
}


def test_student_table_contents(admin: ScopedDataset) -> None:
    df = queries.student_table(admin, Filters(week=W11), pace=10)
    assert list(df.columns) == COLUMNS
    assert len(df) == len(rows_of(W11))
    ana = df[(df["Aluno"] == "Ana") & (df["Curso"] == "Python")].iloc[0]
    assert ana["Semana"] == W11 and pd.Timestamp(ana["Início da semana"]).date() == MONDAYS[W11]
    assert (ana["Turma"], ana["Trilha"], ana["ID Cademi"]) == ("Turma 01", "Formacao Analista", 101)
    assert (ana["Progresso (%)"], ana["Variação na semana (p.p.)"]) == (25.0, 15.0)
    assert (ana["Aulas assistidas"], ana["Aulas concluídas"]) == (12, 12)
    bruno = df[df["Aluno"] == "Bruno"]
    assert bruno["Variação na semana (p.p.)"].isna().all()  # not seen the week before
    eva = df[df["Aluno"] == "Eva"]
    assert sorted(eva["Turma"]) == ["Turma 01", "Turma 01", "Turma 02", "Turma 02"]
    assert list(eva["Variação na semana (p.p.)"]) == [15.0] * 4


def _key(value: Any) -> tuple[int, Any]:
    return (
        (1, 0) if value is None or (isinstance(value, float) and math.isnan(value)) else (0, value)
    )


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", list(SORTS))
def test_student_table_sorting(admin: ScopedDataset, sort: str, descending: bool) -> None:
    df = queries.student_table(admin, Filters(week=W11), pace=10, sort=sort, descending=descending)
    assert len(df) == len(rows_of(W11))
    cols = SORT_COLUMNS[sort]
    got = [
        (
            tuple(r[c] for c in cols),
            r["ID Cademi"],
            POSITION[{v: k for k, v in COURSE.items()}[r["Curso"]]],
        )
        for r in df.to_dict("records")
    ]

    def order(item: tuple[tuple[Any, ...], int, int]) -> tuple[Any, ...]:
        values, uid, position = item
        keys = []
        for v in values:
            missing, value = _key(v)
            if descending and not missing:
                # invert for descending; strings by their code points, numbers by sign
                value = tuple(-ord(ch) for ch in value) + (1,) if isinstance(value, str) else -value
            keys.append((missing, value))  # NULLs last in both directions
        return (*keys, uid, position)

    assert got == sorted(got, key=order)
    if sort == "Variação na semana":
        nulls = df["Variação na semana (p.p.)"].isna().tolist()
        assert nulls == sorted(nulls)  # nulls last, whichever direction


def test_unknown_sort_falls_back_to_student_name(admin: ScopedDataset) -> None:
    df = queries.student_table(admin, Filters(week=W11), pace=10, sort="; DROP TABLE classes --")
    assert list(df["Aluno"]) == sorted(df["Aluno"])


# --------------------------------------------------------------------------- Excel


def read_back(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_excel_export(tutor: ScopedDataset) -> None:
    df = queries.student_table(tutor, Filters(week=W11), pace=10, sort="Progresso", descending=True)
    filters = [("Semana", W11), ("Turma", "Turma 01"), ("Ordenação", "Progresso (decrescente)")]
    now = dt.datetime(2025, 3, 12, 10, 30, 15, 999)
    wb = read_back(excel.workbook_bytes(df, filters, "Tutora Ana", now=now))
    assert wb.sheetnames == ["Progresso", "Filtros"]
    ws = wb["Progresso"]
    headers = [c.value for c in ws[1]]
    assert headers == [
        "Semana",
        "Início da semana",
        "Turma",
        "Trilha",
        "Curso",
        "Aluno",
        "ID Cademi",
        "Progresso",
        "Variação na semana (p.p.)",
        "Aulas assistidas",
        "Aulas concluídas",
        "Situação",
    ]
    assert ws.max_row == len(df) + 1 == 11
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:L11"
    col = {h: i for i, h in enumerate(headers)}
    for i, record in enumerate(df.to_dict("records"), start=2):
        row = ws[i]
        pct = row[col["Progresso"]]
        assert pct.value == pytest.approx(record["Progresso (%)"] / 100)
        assert pct.number_format == "0.0%"
        day = row[col["Início da semana"]]
        assert day.is_date and day.number_format == "dd/mm/yyyy"
        assert day.value == dt.datetime(2025, 3, 10)
        delta = row[col["Variação na semana (p.p.)"]]
        if pd.isna(record["Variação na semana (p.p.)"]):
            assert delta.value is None
        else:
            assert delta.value == pytest.approx(record["Variação na semana (p.p.)"])
            assert delta.number_format == "+0.0;-0.0;0.0"
        uid = row[col["ID Cademi"]]
        assert (
            uid.value == record["ID Cademi"]
            and isinstance(uid.value, int)
            and uid.number_format == "0"
        )
        assert row[col["Aulas assistidas"]].value == record["Aulas assistidas"]
        assert [row[col[c]].value for c in ("Semana", "Turma", "Curso", "Aluno", "Situação")] == [
            record[c] for c in ("Semana", "Turma", "Curso", "Aluno", "Situação")
        ]
    # same order as the table on screen
    assert [ws.cell(r, col["Aluno"] + 1).value for r in range(2, ws.max_row + 1)] == list(
        df["Aluno"]
    )

    meta = [tuple(c.value for c in r) for r in wb["Filtros"].iter_rows()]
    assert meta[:4] == [
        ("Filtro", "Valor"),
        ("Semana", W11),
        ("Turma", "Turma 01"),
        ("Ordenação", "Progresso (decrescente)"),
    ]
    assert meta[4] == ("Linhas", 10)
    assert meta[5] == ("Exportado por", "Tutora Ana")
    assert meta[6] == ("Exportado em (horário de Brasília)", dt.datetime(2025, 3, 12, 10, 30, 15))
    assert wb["Filtros"].cell(7, 2).number_format == "dd/mm/yyyy hh:mm"


def test_excel_export_of_an_empty_table(tutor: ScopedDataset) -> None:
    df = queries.student_table(tutor, Filters(week=W12), pace=10)
    assert df.empty
    wb = read_back(excel.workbook_bytes(df, [("Semana", W12)], "tutora"))
    ws = wb["Progresso"]
    assert ws.max_row == 1
    assert [c.value for c in ws[1]][7] == "Progresso"
    meta = dict(tuple(c.value for c in r) for r in wb["Filtros"].iter_rows())
    assert meta["Linhas"] == 0 and meta["Exportado por"] == "tutora"
    assert isinstance(meta["Exportado em (horário de Brasília)"], dt.datetime)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(week=W11),
        Filters(week=W10),
        Filters(week=W11, track="cientista"),
        Filters(week=W11, product_id=2102),
        Filters(week=W12),
    ],
)
@pytest.mark.parametrize("pace", [2.5, 8.0, 25.0])
def test_overview_matches_the_kpi_and_group_queries_and_the_table(
    admin: ScopedDataset, filters: Filters, pace: float
) -> None:
    k, grp = queries.overview(admin, filters, pace)
    table = queries.student_table(admin, filters, pace)
    pairs = table.drop_duplicates(["ID Cademi", "Turma", "Trilha"])
    assert grp["students"].tolist() == [
        int((pairs["Situação"] == s).sum()) for s in grp["situation"]
    ]
    expected = queries.kpis(admin, filters)
    assert k["students"] == expected["students"] and k["classes"] == expected["classes"]
    if expected["avg_progress"] is None:
        assert k["avg_progress"] is None
    else:
        assert k["avg_progress"] == pytest.approx(expected["avg_progress"])
    assert grp.equals(queries.groups(admin, filters, pace))
