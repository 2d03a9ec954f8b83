"""Progresso dos alunos as a Streamlit app: the comparison of ``bench/viewers.py`` (issue 13).

The same page as ``notebooks/dashboards/progresso.ipynb`` (``painel.progress.pages.progresso``)
over the same published DuckDB file, written as a Streamlit user would write it: one script
rerun from the top on every interaction, the connection kept with ``st.cache_resource``.

    .venv-streamlit/bin/streamlit run bench/streamlit_progress.py -- \\
        --db "$(painel store path progress)" [--classes 5001,5003] [--user "Tutora Ana"]

What it shows, as painel's page: the data stamp; the filters Semana (newest week), Trilha
(Todas), Turma and Curso (Todas/Todos, their options following the track), Ritmo esperado (the
track's expected pace, else the tracks' mean, to the nearest 0,5 p.p.); six KPI cards; the
view toggle (Geral / Por turma) and the chart over the weeks; the situation chart (a click on
a bar shows only those students); Ver situação; two Excel exports (the week shown, every
week: generated when clicked, as painel's); the table of students and courses in the week
(Streamlit's dataframe: its own sort, search and scrolling instead of painel's pages); a
row's click draws the student's journey. The queries are painel's (``painel.progress.queries``),
copied: this app imports nothing of painel, so it runs in its own virtual environment.

Differences that stay: **no login** and no per-user scope from a session: the viewer's
classes come from ``--classes`` (the bench passes the tutor's), applied as views over the
attached file as painel's scoped layer does; no audit or usage events; no breadcrumb (the
situation radio is the way back); no check of access before each query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import streamlit as st

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ON_TRACK, BEHIND, NOT_STARTED = "No ritmo", "Atrasado", "Não iniciou"
SITUATIONS = (ON_TRACK, BEHIND, NOT_STARTED)
COLORS = {ON_TRACK: "#2e7d32", BEHIND: "#c62828", NOT_STARTED: "#9e9e9e"}
PACES = [p / 2 for p in range(1, 51)]  # 0,5 to 25 p.p. a week
ALL = ""
SCOPED = ("progress_weekly", "class_weekly", "students", "classes")  # by tag_id
PUBLIC = ("tracks", "track_products", "weeks")
CONFIG = {
    "displaylogo": False,
    "locale": "pt-BR",
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud"],
}


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="streamlit_progress")
    parser.add_argument("--db", required=True, help="the published DuckDB file (read-only)")
    parser.add_argument("--classes", default="", help="the viewer's class tags (default: all)")
    parser.add_argument("--user", default="Streamlit", help="'Exportado por' in the Excel file")
    args, _ = parser.parse_known_args()
    return args


# ---- pt-BR formats (painel.dash.fmt) ---------------------------------------------------------
def number(value: Any, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def percent(value: Any) -> str:
    return "—" if value is None or value != value else number(value, 1) + "%"


def week_label(week: str, *, short: bool = False, year: bool = False) -> str:
    """ "2026-W48" → "Sem. 48 · 23/11–29/11" (``short``: "Sem. 48 · 23/11")."""
    m = re.match(r"^(\d{4})-W(\d{2})$", week or "")
    if not m:
        return str(week)
    monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    sunday = monday + dt.timedelta(days=6)
    if short:
        return f"Sem. {int(m.group(2))} · {monday:%d/%m}"
    return f"Sem. {int(m.group(2))} · {monday:%d/%m}–{sunday:%d/%m}" + (
        f"/{sunday.year}" if year else ""
    )


def moment(value: str | None) -> str:
    if not value:
        return "—"
    at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")


def pace_label(pace: float) -> str:
    return f"{number(pace, 1)} p.p./semana"


# ---- data ---------------------------------------------------------------------------------------
@st.cache_resource
def connect(path: str, classes: str) -> duckdb.DuckDBPyConnection:
    """One read-only attachment of the file for every session; the viewer's views over it."""
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS src (READ_ONLY)")
    tags = [int(t) for t in classes.split(",") if t.strip()]
    where = f"tag_id IN ({', '.join(map(str, tags))})" if tags else "TRUE"
    for table in SCOPED:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM src.main.{table} WHERE {where}")
    for table in PUBLIC:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM src.main.{table}")
    return con


@st.cache_data
def manifest(path: str) -> dict[str, Any]:
    file = Path(path).with_suffix(".json")
    return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


def sql(query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """``query`` on a cursor of the shared connection (a cursor per thread: DuckDB's rule),
    binding only the ``$names`` it uses."""
    used = set(re.findall(r"\$([a-z_]+)", query))
    bound = {k: v for k, v in (params or {}).items() if k in used}
    cur = connect(ARGS.db, ARGS.classes).cursor()
    try:
        return cur.execute(query, bound or None).df()
    finally:
        cur.close()


BASE = """
WITH f AS MATERIALIZED (
    SELECT w.week, w.week_start, w.student_id, w.tag_id, w.product_id, w.progress_pct,
           w.lessons_watched, w.lessons_completed, c.class_name, c.track, c.track_name, c.start_week,
           p.product_name, p.position
    FROM progress_weekly w
    JOIN classes c USING (tag_id)
    JOIN track_products p ON p.track = c.track AND p.product_id = w.product_id
    WHERE ($track IS NULL OR c.track = $track)
      AND ($tag IS NULL OR w.tag_id = $tag)
      AND ($product IS NULL OR w.product_id = $product)
      AND ($since IS NULL OR w.week >= $since)
      AND ($until IS NULL OR w.week <= $until)
)
"""
SITUATION = (
    "sc AS (SELECT student_id, tag_id, any_value(start_week) AS start_week, avg(progress_pct) AS mean_pct, "
    "sum(lessons_watched) AS watched FROM f WHERE week = $week GROUP BY ALL), "
    "sit AS (SELECT student_id, tag_id, mean_pct, "
    f"CASE WHEN mean_pct = 0 AND coalesce(watched, 0) = 0 THEN '{NOT_STARTED}' "
    f"WHEN mean_pct + 1e-9 >= least(100, $pace * (date_diff('week', start_week, (SELECT any_value(week_start) "
    f"FROM f WHERE week = $week)) + 1)) THEN '{ON_TRACK}' ELSE '{BEHIND}' END AS situation FROM sc)"
)


def params(
    week: str | None,
    track: str,
    tag: str,
    product: str,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    return {
        "week": week,
        "track": track or None,
        "tag": int(tag) if tag else None,
        "product": int(product) if product else None,
        "since": since,
        "until": until,
    }


def overview(p: dict[str, Any], pace: float) -> pd.Series:
    return sql(
        BASE
        + ", "
        + SITUATION
        + ", pairs AS (SELECT any_value(progress_pct) AS pct FROM f WHERE week = $week "
        "GROUP BY student_id, product_id) "
        "SELECT (SELECT count(DISTINCT student_id) FROM f WHERE week = $week) AS students, "
        "(SELECT count(DISTINCT tag_id) FROM f WHERE week = $week) AS classes, "
        "(SELECT avg(pct) FROM pairs) AS avg_progress, "
        f"count(*) FILTER (situation = '{ON_TRACK}') AS on_track, "
        f"count(*) FILTER (situation = '{BEHIND}') AS behind, "
        f"count(*) FILTER (situation = '{NOT_STARTED}') AS not_started FROM sit",
        {**p, "since": p["week"], "until": p["week"], "pace": float(pace)},
    ).iloc[0]


def overall_by_week(p: dict[str, Any]) -> pd.DataFrame:
    return sql(
        BASE
        + "SELECT week, week_start, avg(pct) AS avg_progress, count(DISTINCT student_id) AS students "
        "FROM (SELECT week, week_start, student_id, product_id, any_value(progress_pct) AS pct FROM f "
        "GROUP BY ALL) GROUP BY ALL ORDER BY week",
        {**p, "since": None, "until": None},
    )


def class_by_week(p: dict[str, Any]) -> pd.DataFrame:
    return sql(
        "SELECT s.week, s.week_start, s.tag_id, c.class_name, c.track_name, "
        "sum(s.avg_progress * s.students) / sum(s.students) AS avg_progress "
        "FROM class_weekly s JOIN classes c USING (tag_id) "
        "WHERE ($track IS NULL OR c.track = $track) AND ($tag IS NULL OR s.tag_id = $tag) "
        "AND ($product IS NULL OR s.product_id = $product) "
        "AND s.product_id IN (SELECT product_id FROM track_products p WHERE p.track = c.track) "
        "GROUP BY ALL ORDER BY s.week, c.class_name",
        p,
    )


def previous_week(week: str) -> str | None:
    value = sql("SELECT max(week) AS w FROM weeks WHERE week < $week", {"week": week}).iloc[0, 0]
    return None if pd.isna(value) else str(value)


def student_table(p: dict[str, Any], pace: float) -> pd.DataFrame:
    prev = previous_week(p["week"])
    return sql(
        BASE + ", " + SITUATION + ", "
        "prev AS (SELECT student_id, tag_id, product_id, progress_pct FROM f WHERE week = $prev) "
        'SELECT f.week AS "Semana", f.week_start AS "Início da semana", f.class_name AS "Turma", '
        'f.track_name AS "Trilha", f.product_name AS "Curso", s.name AS "Aluno", '
        'f.student_id AS "ID Cademi", f.progress_pct AS "Progresso (%)", '
        'f.progress_pct - prev.progress_pct AS "Variação na semana (p.p.)", '
        'f.lessons_watched AS "Aulas assistidas", f.lessons_completed AS "Aulas concluídas", '
        'sit.situation AS "Situação" '
        "FROM f JOIN students s USING (student_id, tag_id) "
        "JOIN sit USING (student_id, tag_id) "
        "LEFT JOIN prev USING (student_id, tag_id, product_id) "
        'WHERE f.week = $week ORDER BY "Aluno", "ID Cademi", f.position',
        {**p, "since": prev or p["week"], "until": p["week"], "prev": prev, "pace": float(pace)},
    )


def journey(student_id: int) -> pd.DataFrame:
    return sql(
        "SELECT w.week, w.week_start, p.product_name, p.position, c.class_name, "
        "any_value(w.progress_pct) AS progress_pct "
        "FROM progress_weekly w JOIN classes c USING (tag_id) "
        "JOIN track_products p ON p.track = c.track AND p.product_id = w.product_id "
        "WHERE w.student_id = $student GROUP BY ALL ORDER BY p.position, w.week",
        {"student": int(student_id)},
    )


# ---- charts (painel.progress.charts) -------------------------------------------------------------
def layout(title: str, y_title: str, height: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 60, "r": 40, "t": 60, "b": 40},
        "yaxis": {"title": {"text": y_title}, "separatethousands": True},
        "xaxis": {"title": {"text": "Semana"}, "type": "category"},
        "legend": {"title": {"text": ""}},
        "separators": ",.",
        "dragmode": "zoom",
        **extra,
    }


def empty_note(df: pd.DataFrame) -> list[dict[str, Any]]:
    if not df.empty:
        return []
    return [
        {
            "text": "Sem dados para esta seleção",
            "showarrow": False,
            "x": 0.5,
            "y": 0.5,
            "xref": "paper",
            "yref": "paper",
        }
    ]


def lines(df: pd.DataFrame, by: list[str], y: str, title: str, y_title: str) -> dict[str, Any]:
    """One line per group over the weeks (the class view, the journey)."""
    data = []
    for name, part in df.groupby(by, sort=True):
        label = str(name[-1])
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [week_label(str(w), short=True) for w in part["week"]],
                "y": part[y].tolist(),
                "name": label,
                "hovertemplate": "%{x}: %{y:.1f}%<extra>" + label + "</extra>",
            }
        )
    weeks = [week_label(str(w), short=True) for w in sorted(df["week"].unique())]
    lay = layout(title, y_title, 360, annotations=empty_note(df))
    lay["yaxis"].update(range=[0, 105 if y == "progress_pct" else 100], ticksuffix="%")
    lay["xaxis"].update(categoryorder="array", categoryarray=weeks)
    return {"data": data, "layout": lay}


def overall_chart(df: pd.DataFrame) -> dict[str, Any]:
    lay = layout(
        "Progresso médio ao longo das semanas", "Progresso médio", 360, annotations=empty_note(df)
    )
    lay["yaxis"].update(range=[0, 100], ticksuffix="%")
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Progresso médio",
                "x": [week_label(str(w), short=True) for w in df["week"]],
                "y": df["avg_progress"].tolist(),
                "customdata": [number(n) for n in df["students"]],
                "hovertemplate": "%{x}: %{y:.1f}% (%{customdata} alunos)<extra></extra>",
            }
        ],
        "layout": lay,
    }


def groups_chart(counts: dict[str, int], title: str) -> dict[str, Any]:
    lay = layout(title, "Alunos", 300)
    lay["xaxis"] = {"title": {"text": ""}}
    lay["yaxis"]["rangemode"] = "tozero"
    if not any(counts.values()):
        lay["annotations"] = empty_note(pd.DataFrame())
    return {
        "data": [
            {
                "type": "bar",
                "x": list(SITUATIONS),
                "y": [counts[s] for s in SITUATIONS],
                "marker": {"color": [COLORS[s] for s in SITUATIONS]},
                "text": [number(counts[s]) for s in SITUATIONS],
                "textposition": "outside",
                "hovertemplate": "%{x}: %{text} alunos<extra></extra>",
            }
        ],
        "layout": lay,
    }


# ---- Excel (painel.dash.excel, painel.progress.excel) ------------------------------------------
EXCEL = [  # column, kind
    ("Semana", ""),
    ("Início da semana", "date"),
    ("Turma", ""),
    ("Trilha", ""),
    ("Curso", ""),
    ("Aluno", ""),
    ("ID Cademi", "id"),
    ("Progresso (%)", "percent"),
    ("Variação na semana (p.p.)", "signed"),
    ("Aulas assistidas", "int"),
    ("Aulas concluídas", "int"),
    ("Situação", ""),
]
FORMATS = {
    "id": "0",
    "int": "#,##0",
    "percent": "0.0%",
    "signed": "+0.0;-0.0;0.0",
    "date": "dd/mm/yyyy",
}


def workbook(df: pd.DataFrame, filters: list[tuple[str, str]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": True})
    header = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79"})
    formats = [wb.add_format({"num_format": FORMATS[k]}) if k else None for _, k in EXCEL]
    ws = wb.add_worksheet("Progresso")
    for i, (name, _) in enumerate(EXCEL):
        label = "Progresso" if name == "Progresso (%)" else name
        ws.set_column(i, i, max(10, min(48, len(label) + 4)))
        ws.write_string(0, i, label, header)
    ws.freeze_panes(1, 0)
    for r, row in enumerate(df[[c for c, _ in EXCEL]].itertuples(index=False), start=1):
        for i, v in enumerate(row):
            if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                continue
            kind = EXCEL[i][1]
            if kind == "date":
                ws.write_datetime(r, i, pd.Timestamp(v).to_pydatetime(), formats[i])
            elif kind == "percent":
                ws.write_number(r, i, float(v) / 100.0, formats[i])
            elif kind:
                ws.write_number(r, i, float(v), formats[i])
            else:
                ws.write_string(r, i, str(v))
    ws.autofilter(0, 0, max(len(df), 1), len(EXCEL) - 1)
    meta = wb.add_worksheet("Filtros")
    meta.write_row(0, 0, ["Filtro", "Valor"], header)
    rows = [*filters, ("Linhas", str(len(df))), ("Exportado por", ARGS.user)]
    rows.append(
        (
            "Exportado em (horário de Brasília)",
            dt.datetime.now(SAO_PAULO).strftime("%d/%m/%Y %H:%M"),
        )
    )
    for r, (name, value) in enumerate(rows, start=1):
        meta.write_string(r, 0, name)
        meta.write_string(r, 1, value)
    wb.close()
    return buf.getvalue()


def file_name(*parts: str) -> str:
    words = []
    for part in parts:
        text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        cleaned = re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_")
        if cleaned:
            words.append(cleaned)
    return "_".join([*words, dt.datetime.now(SAO_PAULO).strftime("%Y-%m-%d_%H%M")]) + ".xlsx"


# ---- the page -----------------------------------------------------------------------------------
def nearest_pace(pace: float) -> float:
    return min(PACES, key=lambda p: abs(p - pace))


def default_pace(track: str, track_pace: dict[str, float]) -> float:
    if track in track_pace:
        return track_pace[track]
    paces = list(track_pace.values())
    return round(sum(paces) / len(paces), 1) if paces else 8.0


def page() -> None:
    st.set_page_config(page_title="Progresso dos alunos", layout="wide")
    st.title("Progresso dos alunos")
    m = manifest(ARGS.db)
    extracted, published = m.get("source_extracted_at"), m.get("published_at")
    stamp = f"Dados coletados na Cademi em {moment(extracted or published)}"
    st.caption(stamp + (f" (publicados em {moment(published)})." if extracted else "."))

    weeks = [
        str(w) for w in sql("SELECT DISTINCT week FROM progress_weekly ORDER BY week DESC")["week"]
    ]
    if not weeks:
        st.warning(
            "Você não tem turmas com progresso coletado. Peça à coordenação acesso às suas turmas."
        )
        return
    tracks = sql(
        "SELECT t.track, t.track_name, t.expected_pct_per_week FROM tracks t "
        "WHERE t.track IN (SELECT track FROM classes) ORDER BY t.track_name"
    )
    track_pace = {str(r.track): float(r.expected_pct_per_week) for r in tracks.itertuples()}
    track_names = {ALL: "Todas", **{str(r.track): str(r.track_name) for r in tracks.itertuples()}}

    def on_track() -> None:  # the dependent filters start over, the pace follows the track
        st.session_state["turma"] = ALL
        st.session_state["curso"] = ALL
        st.session_state["ritmo"] = nearest_pace(
            default_pace(st.session_state["trilha"], track_pace)
        )

    st.session_state.setdefault("ritmo", nearest_pace(default_pace(ALL, track_pace)))
    cols = st.columns(5)
    week = cols[0].selectbox("Semana:", weeks, format_func=week_label, key="semana")
    track = cols[1].selectbox(
        "Trilha:", list(track_names), format_func=track_names.get, key="trilha", on_change=on_track
    )
    classes = sql(
        "SELECT tag_id, class_name, track_name FROM classes "
        "WHERE ($track IS NULL OR track = $track) ORDER BY track_name, class_number",
        {"track": track or None},
    )
    class_names = {ALL: "Todas"} | {
        str(int(r.tag_id)): (f"{r.class_name} — {r.track_name}" if not track else str(r.class_name))
        for r in classes.itertuples()
    }
    products = sql(
        "SELECT DISTINCT product_id, product_name, track, position FROM track_products "
        "WHERE track IN (SELECT track FROM classes) AND ($track IS NULL OR track = $track) "
        "ORDER BY track, position",
        {"track": track or None},
    )
    product_names = {ALL: "Todos"} | {
        str(int(r.product_id)): str(r.product_name) for r in products.itertuples()
    }
    if st.session_state.get("turma", ALL) not in class_names:
        st.session_state["turma"] = ALL
    if st.session_state.get("curso", ALL) not in product_names:
        st.session_state["curso"] = ALL
    tag = cols[2].selectbox("Turma:", list(class_names), format_func=class_names.get, key="turma")
    product = cols[3].selectbox(
        "Curso:", list(product_names), format_func=product_names.get, key="curso"
    )
    pace = cols[4].selectbox("Ritmo esperado:", PACES, format_func=pace_label, key="ritmo")
    p = params(week, track, tag, product)

    k = overview(p, pace)
    counts = {
        ON_TRACK: int(k["on_track"]),
        BEHIND: int(k["behind"]),
        NOT_STARTED: int(k["not_started"]),
    }
    students, pairs = int(k["students"]), sum(counts.values())
    note = (
        f"{number(pairs)} nas situações ao lado: quem está em mais de uma turma conta uma vez por turma."
        if pairs != students
        else ""
    )
    per_class = "alunos por turma" if pairs != students else ""
    avg = None if pd.isna(k["avg_progress"]) else float(k["avg_progress"])
    cards = [
        ("Total de alunos", number(students), note),
        ("Total de turmas", number(int(k["classes"])), ""),
        ("Média de progresso", percent(avg), ""),
        (ON_TRACK, number(counts[ON_TRACK]), per_class),
        (BEHIND, number(counts[BEHIND]), per_class),
        (NOT_STARTED, number(counts[NOT_STARTED]), per_class),
    ]
    for col, (label, value, card_note) in zip(st.columns(6), cards, strict=True):
        col.metric(label, value, border=True)
        if card_note:
            col.caption(card_note)

    view = st.radio(
        "Visão:",
        ["geral", "turma"],
        format_func={"geral": "Geral", "turma": "Por turma"}.get,
        horizontal=True,
        key="visao",
    )
    if view == "turma":
        trend = lines(
            class_by_week(p),
            ["class_name"],
            "avg_progress",
            "Progresso médio por turma ao longo das semanas",
            "Progresso médio",
        )
    else:
        trend = overall_chart(overall_by_week(p))
    st.plotly_chart(trend, config=CONFIG, key="tendencia")

    st.subheader("Situação dos alunos")
    st.write("Clique em uma barra para ver só esses alunos na tabela.")
    title = f"{week_label(week)} · ritmo {pace_label(pace)}"
    clicked = st.plotly_chart(
        groups_chart(counts, title),
        config=CONFIG,
        key="situacao",
        on_select="rerun",
        selection_mode="points",
    )
    points = (clicked or {}).get("selection", {}).get("points", [])
    if points and points[0].get("x") in SITUATIONS and st.session_state.get("clique") != points:
        st.session_state["clique"] = points  # a new click on a bar: the table shows that situation
        st.session_state["situacao_tabela"] = points[0]["x"]

    st.subheader("Alunos e cursos na semana")
    situation = st.radio(
        "Ver situação:",
        [ALL, *SITUATIONS],
        format_func=lambda s: s or "Todas",
        horizontal=True,
        key="situacao_tabela",
    )
    filters = [
        ("Semana", week_label(week, year=True)),
        ("Trilha", track_names[track]),
        ("Turma", class_names[tag]),
        ("Curso", product_names[product]),
        ("Ritmo esperado", pace_label(pace)),
        ("Situação", situation or "Todas"),
    ]
    table = student_table(p, pace)
    if situation:
        table = table[table["Situação"] == situation].reset_index(drop=True)
    klass = class_names[tag].split(" — ")[0] if tag else ""

    def export_week() -> bytes:
        return workbook(table, filters)

    def export_all() -> bytes:
        frames = [student_table(params(w, track, tag, product), pace) for w in weeks]
        df = pd.concat(frames, ignore_index=True)
        if situation:
            df = df[df["Situação"] == situation]
        span = f"todas ({week_label(weeks[-1], year=True)} a {week_label(weeks[0], year=True)})"
        return workbook(df, [("Semana", span), *filters[1:]])

    left, right = st.columns(2)
    left.download_button(
        "Exportar Excel (semana na tela)",
        export_week,
        file_name=file_name("progresso", week, klass),
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    right.download_button(
        "Exportar Excel (todas as semanas)",
        export_all,
        file_name=file_name("progresso", "todas_as_semanas", klass),
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    shown = table.drop(columns=["Semana", "Início da semana", "ID Cademi"])
    st.caption(f"{number(len(shown))} linhas · clique em uma linha para ver a jornada do aluno")
    picked = st.dataframe(
        shown[
            [
                "Aluno",
                "Turma",
                "Trilha",
                "Curso",
                "Progresso (%)",
                "Variação na semana (p.p.)",
                "Aulas assistidas",
                "Aulas concluídas",
                "Situação",
            ]
        ],
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="tabela",
        column_config={
            "Progresso (%)": st.column_config.NumberColumn(format="localized"),
            "Variação na semana (p.p.)": st.column_config.NumberColumn(format="%+.1f"),
        },
    )

    st.subheader("Jornada do aluno")
    rows = (picked or {}).get("selection", {}).get("rows", [])
    if rows and rows[0] < len(table):
        record = table.iloc[rows[0]]
        st.plotly_chart(
            lines(
                journey(int(record["ID Cademi"])),
                ["position", "product_name"],
                "progress_pct",
                f"Jornada de {record['Aluno']}",
                "Progresso no curso",
            ),
            config=CONFIG,
            key="jornada",
        )
    else:
        st.info("Clique em uma linha da tabela para ver a jornada do aluno, semana a semana.")


ARGS = options()
page()
