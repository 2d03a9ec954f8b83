"""Step 3 of the ``progress`` ETL: load the week into a carry-over build of dataset ``progress``.

The week's rows are replaced (never duplicated), older weeks are kept as they were; the
reference tables (tracks, products, classes) are rebuilt from the parameters and the tag
registry on every run. :func:`check_publishable` refuses a week when a class could not be
listed or when more than ``max_failed_share`` of the progress calls failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import checks
from ...opstate import iso, utcnow
from ...store import Build
from ..tags import class_label
from .collect import CollectionFailed

if TYPE_CHECKING:
    from .job import Job


def check_publishable(job: Job) -> None:
    c = job.collection
    if c is None:
        raise CollectionFailed("collect() has not run")
    if c.problems:
        raise CollectionFailed(f"week {c.week} not published: " + "; ".join(c.problems))
    if c.failures and c.failed_share > job.settings.max_failed_share:
        shown = "; ".join(str(f) for f in c.failures[:5])
        more = (
            f" (and {len(c.failures) - 5} more, listed in the run's notebook)"
            if len(c.failures) > 5
            else ""
        )
        raise CollectionFailed(
            f"week {c.week} not published: {len(c.failures)} of {c.pairs} progress calls failed "
            f"({100 * c.failed_share:.1f}% > max_failed_share {100 * job.settings.max_failed_share:.1f}%): "
            f"{shown}{more}; run again to retry only those"
        )
    if c.pairs and not c.results:
        raise CollectionFailed(f"week {c.week} not published: no progress could be collected")


def load_week(job: Job, build: Build) -> None:
    """Replace this week in ``build`` (a carry-over build of dataset ``progress``)."""
    check_publishable(job)
    c = job.collection
    assert c is not None
    con = build.con
    _create_tables(con)
    build.source_extracted_at = min((v[3] for v in c.results.values()), default=iso(utcnow()))
    week_rows = []
    names = []
    for tag in job.tags:
        track = job.settings.tracks[tag.track]
        for s in c.lists.get(tag.tag_id, []):
            names.append((s["id"], tag.tag_id, s["nome"]))
            for product in track.products:
                r = c.results.get((s["id"], product))
                if r is not None:
                    week_rows.append(
                        (
                            c.week,
                            c.week_start,
                            s["id"],
                            tag.tag_id,
                            product,
                            r[0],
                            r[1],
                            r[2],
                            r[3],
                        )
                    )
    con.execute("DELETE FROM progress_weekly WHERE week = ?", [c.week])
    if week_rows:
        con.executemany(
            "INSERT INTO progress_weekly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::TIMESTAMPTZ)",
            week_rows,
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_names (student_id BIGINT, tag_id BIGINT, name VARCHAR)"
    )
    if names:
        con.executemany("INSERT INTO new_names VALUES (?, ?, ?)", names)
    # names: the newest week's spelling; weeks seen: from the rows themselves
    con.execute(
        "CREATE OR REPLACE TEMP TABLE all_names AS "
        "SELECT student_id, tag_id, name FROM new_names "
        "UNION ALL SELECT student_id, tag_id, name FROM students s WHERE NOT EXISTS "
        "(SELECT 1 FROM new_names n WHERE n.student_id = s.student_id AND n.tag_id = s.tag_id)"
    )
    con.execute("DELETE FROM students")
    con.execute(
        "INSERT INTO students SELECT n.student_id, n.tag_id, any_value(n.name), min(w.week), max(w.week) "
        "FROM all_names n JOIN progress_weekly w USING (student_id, tag_id) GROUP BY ALL"
    )
    con.execute("DROP TABLE all_names")
    con.execute("DROP TABLE new_names")
    _load_reference(job, con)
    con.execute("DELETE FROM weeks WHERE week = ?", [c.week])
    con.execute(
        "INSERT INTO weeks VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
        [c.week, c.week_start, build.source_extracted_at, job.run.run_id],
    )
    con.execute("DELETE FROM class_weekly")
    con.execute(
        "INSERT INTO class_weekly SELECT week, week_start, tag_id, product_id, count(*) AS students, "
        "avg(progress_pct) AS avg_progress, count(*) FILTER (progress_pct >= 100) AS finished, "
        "count(*) FILTER (progress_pct = 0) AS not_started FROM progress_weekly GROUP BY ALL"
    )
    build.notes["collection"] = c.summary()
    build.notes["failures"] = [str(f) for f in c.failures[:50]]
    build.check(
        checks.not_empty("weeks"),
        checks.unique("progress_weekly", ["week", "student_id", "tag_id", "product_id"]),
        checks.not_null(
            "progress_weekly",
            ["week", "week_start", "student_id", "tag_id", "product_id", "progress_pct"],
        ),
        checks.between("progress_weekly", "progress_pct", 0, 100),
        checks.unique("students", ["student_id", "tag_id"]),
        checks.unique("classes", ["tag_id"]),
        checks.unique("weeks", ["week"]),
        checks.sql(
            "every row's class is registered",
            "SELECT count(*) = 0, count(*) || ' rows of unknown classes' FROM progress_weekly "
            "WHERE tag_id NOT IN (SELECT tag_id FROM classes)",
            label="Toda linha é de uma turma cadastrada",
        ),
        checks.sql(
            "one week per ISO week label",
            "SELECT count(*) = 0, count(*) || ' rows whose week_start is not their week''s Monday' "
            "FROM progress_weekly WHERE strftime(week_start, '%G-W%V') <> week OR isodow(week_start) <> 1",
            label="Cada semana começa na sua segunda-feira",
        ),
    )


def _load_reference(job: Job, con: Any) -> None:
    con.execute("DELETE FROM tracks")
    con.executemany(
        "INSERT INTO tracks VALUES (?, ?, ?)",
        [(t.key, t.name, t.expected_pct_per_week) for t in job.settings.tracks.values()],
    )
    con.execute("DELETE FROM track_products")
    con.executemany(
        "INSERT INTO track_products VALUES (?, ?, ?, ?)",
        [
            (t.key, p, i + 1, job.products.get(p, f"Produto {p}"))
            for t in job.settings.tracks.values()
            for i, p in enumerate(t.products)
        ],
    )
    con.execute("DELETE FROM classes")
    track_names = {k: t.name for k, t in job.settings.tracks.items()}
    con.executemany(
        "INSERT INTO classes VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            (
                t.tag_id,
                t.class_number,
                class_label(t.class_number),
                t.track,
                track_names.get(t.track, t.track),
                t.cademi_name,
                t.active,
            )
            for t in job.all_tags
        ],
    )
    con.execute(
        "UPDATE classes SET start_week = s.first FROM (SELECT tag_id, min(week_start) AS first "
        "FROM progress_weekly GROUP BY 1) s WHERE classes.tag_id = s.tag_id"
    )


def _create_tables(con: Any) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS progress_weekly (week VARCHAR NOT NULL, week_start DATE NOT NULL, "
        "student_id BIGINT NOT NULL, tag_id BIGINT NOT NULL, product_id BIGINT NOT NULL, "
        "progress_pct DOUBLE NOT NULL, lessons_watched INTEGER, lessons_completed INTEGER, "
        "collected_at TIMESTAMPTZ)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS class_weekly (week VARCHAR, week_start DATE, tag_id BIGINT, "
        "product_id BIGINT, students BIGINT, avg_progress DOUBLE, finished BIGINT, not_started BIGINT)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS students (student_id BIGINT, tag_id BIGINT, name VARCHAR, "
        "first_week VARCHAR, last_week VARCHAR)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS classes (tag_id BIGINT, class_number INTEGER, class_name VARCHAR, "
        "track VARCHAR, track_name VARCHAR, cademi_name VARCHAR, active BOOLEAN, start_week DATE)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS tracks (track VARCHAR, track_name VARCHAR, expected_pct_per_week DOUBLE)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS track_products (track VARCHAR, product_id BIGINT, position INTEGER, "
        "product_name VARCHAR)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS weeks (week VARCHAR, week_start DATE, collected_at TIMESTAMPTZ, run_id VARCHAR)"
    )
