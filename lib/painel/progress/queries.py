"""Scoped queries of the progress dashboards (ScopedDataset -> DataFrame).

Every query runs on the viewer's views (a tutor's views hold only their classes' rows) and
takes the browser's choices as bound parameters. Progress is per (student, product): a
student in two classes of one track has the same progress in both, so course-wide figures
count each (student, product) once, while per-class figures count the student in each class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..scope import ScopedDataset

ON_TRACK, BEHIND, NOT_STARTED = "No ritmo", "Atrasado", "Não iniciou"
SORTS = {  # option label -> ORDER BY
    "Aluno": '"Aluno"',
    "Turma": '"Turma", "Aluno"',
    "Curso": '"Curso", "Aluno"',
    "Progresso": '"Progresso (%)"',
    "Variação na semana": '"Variação na semana (p.p.)"',
    "Situação": '"Situação", "Aluno"',
}


@dataclass(frozen=True)
class Filters:
    week: str | None = None
    track: str | None = None
    tag_id: int | None = None
    product_id: int | None = None

    def params(self, since: str | None = None, until: str | None = None) -> dict[str, object]:
        """Query parameters; ``since``/``until`` limit the weeks read (None: all weeks)."""
        return {
            "week": self.week,
            "track": self.track,
            "tag": self.tag_id,
            "product": self.product_id,
            "since": since,
            "until": until,
        }

    def week_only(self) -> dict[str, object]:
        """Parameters reading the selected week only (DuckDB skips the other weeks' blocks)."""
        return self.params(since=self.week, until=self.week)


def _sql(ds: ScopedDataset, query: str, params: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Run ``query`` binding only the ``$names`` it uses (DuckDB rejects unused ones)."""
    used = set(re.findall(r"\$([a-z_]+)", query))
    return ds.sql(query, {k: v for k, v in (params or {}).items() if k in used} or None)


_BASE = """
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


def weeks(ds: ScopedDataset) -> list[str]:
    """Weeks with rows the viewer may see, newest first."""
    df = _sql(ds, "SELECT DISTINCT week FROM progress_weekly ORDER BY week DESC")
    return [str(w) for w in df["week"]]


def tracks(ds: ScopedDataset) -> pd.DataFrame:
    """Tracks of the viewer's classes: track, track_name, expected_pct_per_week."""
    return _sql(
        ds,
        "SELECT t.track, t.track_name, t.expected_pct_per_week FROM tracks t "
        "WHERE t.track IN (SELECT track FROM classes) ORDER BY t.track_name",
    )


def classes(ds: ScopedDataset, track: str | None = None) -> pd.DataFrame:
    return _sql(
        ds,
        "SELECT tag_id, class_name, track, track_name, active FROM classes "
        "WHERE ($track IS NULL OR track = $track) ORDER BY track_name, class_number",
        {"track": track},
    )


def products(ds: ScopedDataset, track: str | None = None) -> pd.DataFrame:
    return _sql(
        ds,
        "SELECT DISTINCT product_id, product_name, track, position FROM track_products "
        "WHERE track IN (SELECT track FROM classes) AND ($track IS NULL OR track = $track) "
        "ORDER BY track, position",
        {"track": track},
    )


def kpis(ds: ScopedDataset, f: Filters) -> dict[str, Any]:
    """Students and classes in the selected week, and average progress (each student-course once)."""
    row = _sql(
        ds,
        _BASE + "SELECT count(DISTINCT student_id) AS students, count(DISTINCT tag_id) AS classes, "
        "(SELECT avg(pct) FROM (SELECT any_value(progress_pct) AS pct FROM f WHERE week = $week "
        "GROUP BY student_id, product_id)) AS avg_progress FROM f WHERE week = $week",
        f.week_only(),
    ).iloc[0]
    return {
        "students": int(row["students"]),
        "classes": int(row["classes"]),
        "avg_progress": None if pd.isna(row["avg_progress"]) else float(row["avg_progress"]),
    }


def overall_by_week(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    """Average progress and students per week (every week; the week filter does not apply)."""
    return _sql(
        ds,
        _BASE
        + "SELECT week, week_start, avg(pct) AS avg_progress, count(DISTINCT student_id) AS students "
        "FROM (SELECT week, week_start, student_id, product_id, any_value(progress_pct) AS pct FROM f "
        "GROUP BY ALL) GROUP BY ALL ORDER BY week",
        f.params(),
    )


def class_by_week(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    """Average progress per class and week, from the summary table."""
    return _sql(
        ds,
        "SELECT s.week, s.week_start, s.tag_id, c.class_name, c.track_name, "
        "sum(s.avg_progress * s.students) / sum(s.students) AS avg_progress "
        "FROM class_weekly s JOIN classes c USING (tag_id) "
        "WHERE ($track IS NULL OR c.track = $track) AND ($tag IS NULL OR s.tag_id = $tag) "
        "AND ($product IS NULL OR s.product_id = $product) "
        "AND s.product_id IN (SELECT product_id FROM track_products p WHERE p.track = c.track) "
        "GROUP BY ALL ORDER BY s.week, c.class_name",
        f.params(),
    )


def _situation_sql() -> str:
    # per (student, class): mean progress over the filtered courses of the class's track,
    # against the pace expected since the class's first week
    return (
        "sc AS (SELECT student_id, tag_id, any_value(start_week) AS start_week, avg(progress_pct) AS mean_pct, "
        "sum(lessons_watched) AS watched FROM f WHERE week = $week GROUP BY ALL), "
        "sit AS (SELECT student_id, tag_id, mean_pct, "
        "least(100, $pace * (date_diff('week', start_week, (SELECT any_value(week_start) FROM f "
        "WHERE week = $week)) + 1)) AS expected, "
        f"CASE WHEN mean_pct = 0 AND coalesce(watched, 0) = 0 THEN '{NOT_STARTED}' "
        f"WHEN mean_pct + 1e-9 >= least(100, $pace * (date_diff('week', start_week, (SELECT any_value(week_start) "
        f"FROM f WHERE week = $week)) + 1)) THEN '{ON_TRACK}' ELSE '{BEHIND}' END AS situation FROM sc)"
    )


def groups(ds: ScopedDataset, f: Filters, pace: float) -> pd.DataFrame:
    """Students per situation in the selected week (a student in two classes counts in each)."""
    df = _sql(
        ds,
        _BASE
        + ", "
        + _situation_sql()
        + " SELECT situation, count(*) AS students FROM sit GROUP BY ALL",
        {**f.week_only(), "pace": float(pace)},
    )
    counts = dict(zip(df["situation"], df["students"], strict=True))
    return pd.DataFrame(
        {
            "situation": [ON_TRACK, BEHIND, NOT_STARTED],
            "students": [int(counts.get(s, 0)) for s in (ON_TRACK, BEHIND, NOT_STARTED)],
        }
    )


def student_table(
    ds: ScopedDataset, f: Filters, pace: float, sort: str = "Aluno", descending: bool = False
) -> pd.DataFrame:
    """One row per student, class and course in the selected week: what the table and the Excel show."""
    order = SORTS.get(sort, SORTS["Aluno"])
    if descending:
        order = ", ".join(part.strip() + " DESC" for part in order.split(","))
    prev = previous_week(ds, f.week)
    return _sql(
        ds,
        _BASE + ", " + _situation_sql() + ", "
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
        f'WHERE f.week = $week ORDER BY {order}, "ID Cademi", f.position',
        {**f.params(since=prev or f.week, until=f.week), "prev": prev, "pace": float(pace)},
    )


def previous_week(ds: ScopedDataset, week: str | None) -> str | None:
    """The published week before ``week`` (None for the first)."""
    if week is None:
        return None
    value = _sql(ds, "SELECT max(week) AS w FROM weeks WHERE week < $week", {"week": week}).iloc[
        0, 0
    ]
    return None if pd.isna(value) else str(value)


def overview(ds: ScopedDataset, f: Filters, pace: float) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`kpis` and :func:`groups` in one query over the selected week only: what the page
    draws first after a filter change (the table's rows come after)."""
    row = _sql(
        ds,
        _BASE
        + ", "
        + _situation_sql()
        + ", pairs AS (SELECT any_value(progress_pct) AS pct FROM f WHERE week = $week "
        "GROUP BY student_id, product_id) "
        "SELECT (SELECT count(DISTINCT student_id) FROM f WHERE week = $week) AS students, "
        "(SELECT count(DISTINCT tag_id) FROM f WHERE week = $week) AS classes, "
        "(SELECT avg(pct) FROM pairs) AS avg_progress, "
        f"count(*) FILTER (situation = '{ON_TRACK}') AS on_track, "
        f"count(*) FILTER (situation = '{BEHIND}') AS behind, "
        f"count(*) FILTER (situation = '{NOT_STARTED}') AS not_started FROM sit",
        {**f.week_only(), "pace": float(pace)},
    ).iloc[0]
    k = {
        "students": int(row["students"]),
        "classes": int(row["classes"]),
        "avg_progress": None if pd.isna(row["avg_progress"]) else float(row["avg_progress"]),
    }
    return k, pd.DataFrame(
        {
            "situation": [ON_TRACK, BEHIND, NOT_STARTED],
            "students": [int(row["on_track"]), int(row["behind"]), int(row["not_started"])],
        }
    )


def student_options(ds: ScopedDataset, f: Filters) -> list[tuple[str, int]]:
    """(label, id) of the students in the filtered view of the selected week."""
    df = _sql(
        ds,
        _BASE
        + "SELECT DISTINCT s.student_id, s.name FROM f JOIN students s USING (student_id, tag_id) "
        "WHERE f.week = $week ORDER BY s.name, s.student_id",
        f.week_only(),
    )
    return [(f"{r.name} ({r.student_id})", int(r.student_id)) for r in df.itertuples()]


def journey(ds: ScopedDataset, student_id: int) -> pd.DataFrame:
    """A student's progress in each course over the weeks (only the viewer's classes)."""
    return _sql(
        ds,
        "SELECT w.week, w.week_start, p.product_name, p.position, c.class_name, "
        "any_value(w.progress_pct) AS progress_pct "
        "FROM progress_weekly w JOIN classes c USING (tag_id) "
        "JOIN track_products p ON p.track = c.track AND p.product_id = w.product_id "
        "WHERE w.student_id = $student GROUP BY ALL ORDER BY p.position, w.week",
        {"student": int(student_id)},
    )
