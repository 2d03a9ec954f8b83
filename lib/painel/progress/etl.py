"""The ``progress`` ETL: one weekly snapshot of every registered class's progress in Cademi.

A run (``notebooks/etl/progress.ipynb``):

1. ``prepare`` validates the parameters, reads the active class tags from the operational
   store and checks the API once (``GET /tag``, ``GET /produto``): a wrong key, an API that
   is down, a registered tag or a configured product Cademi does not know stop the run here.
2. ``collect`` lists each class's students, then asks the progress of each student in each
   product of the class's track, under the rate limit, with retries. Every answer goes to
   the week's resume journal first, so a killed run resumes where it stopped.
3. ``load`` writes the week into a carry-over build of dataset ``progress``: the week's
   rows are replaced (never duplicated), older weeks are kept as they were.
4. ``publish`` refuses when a class could not be listed or when more than
   ``max_failed_share`` of the progress calls failed, naming the students and products.

Only what the dashboards need is stored: Cademi's student id and name, never the CPF,
e-mail or phone. The schema is documented in docs/progress.md.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import checks
from ..config import Paths
from ..opstate import OpState, iso, utcnow
from ..runctx import RunContext
from ..store import PUBLIC, Build
from . import settings as settings_mod
from .cademi import (
    AuthFailed,
    BusinessError,
    CademiClient,
    CademiError,
    Malformed,
    Unavailable,
    as_int,
)
from .journal import Journal
from .settings import DATASET, Settings, SettingsError
from .tags import ClassTag, TagRegistry, class_label

CLASS = {"class": "tag_id"}
TABLES = {
    "progress_weekly": CLASS,  # one row per week, class, student and product
    "class_weekly": CLASS,  # summary the dashboards read for the over-the-weeks views
    "students": CLASS,  # student id and name per class, with the weeks they were seen
    "classes": CLASS,
    "tracks": PUBLIC,
    "track_products": PUBLIC,
    "weeks": PUBLIC,
}
MAX_CONSECUTIVE_UNAVAILABLE = 10

__all__ = ["DATASET", "TABLES", "CollectionFailed", "Job", "prepare"]


class CollectionFailed(Exception):
    """The week cannot be published; the message says what failed and what to do."""


@dataclass
class Failure:
    student_id: int
    student_name: str
    tag_id: int
    product_id: int
    reason: str

    def __str__(self) -> str:
        return (
            f"student {self.student_id} ({self.student_name}) of tag {self.tag_id}, "
            f"product {self.product_id}: {self.reason}"
        )


@dataclass
class Collection:
    week: str
    week_start: dt.date
    lists: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # tag -> [{id, nome}]
    results: dict[tuple[int, int], tuple[float, int, int, str]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # block the publish
    warnings: list[str] = field(default_factory=list)
    pairs: int = 0  # (student, product) progress calls the week needs
    fetched: int = 0  # of them, fetched by this run (the rest came from the journal)

    @property
    def failed_share(self) -> float:
        return len(self.failures) / self.pairs if self.pairs else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "classes": len(self.lists),
            "students": len({s["id"] for students in self.lists.values() for s in students}),
            "progress_calls_needed": self.pairs,
            "fetched_now": self.fetched,
            "from_journal": self.pairs - self.fetched - len(self.failures),
            "failed": len(self.failures),
            "failed_share": round(self.failed_share, 4),
            "problems": self.problems,
            "warnings": self.warnings,
        }


class Reporter:
    """Progress and ETA, printed (into the run's notebook) and kept on the run's record."""

    def __init__(
        self,
        total: int,
        opstate: OpState | None,
        run_id: str | None,
        every_s: float = 10.0,
        out: Callable[[str], None] = print,
    ):
        self.total, self.opstate, self.run_id = total, opstate, run_id
        self.every_s, self.out = every_s, out
        self.t0 = time.monotonic()
        self.last = 0.0
        self.done = 0
        self.printed = -1

    def step(self, n: int = 1, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        if self.printed == self.done or (
            not force and now - self.last < self.every_s and self.done < self.total
        ):
            return
        self.printed = self.done
        self.last = now
        elapsed = now - self.t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        eta_text = _duration(eta) if eta is not None else "?"
        self.out(
            f"progress calls {self.done}/{self.total} ({100 * self.done / max(self.total, 1):.1f}%), "
            f"{rate:.2f}/s, ETA {eta_text}"
        )
        if self.opstate is not None and self.run_id:
            state = {
                "done": self.done,
                "total": self.total,
                "rate_per_s": round(rate, 3),
                "eta_s": round(eta) if eta is not None else None,
                "at": iso(utcnow()),
            }
            try:
                with self.opstate.connect() as con:
                    con.execute(
                        "UPDATE runs SET progress = ? WHERE run_id = ?",
                        [json.dumps(state), self.run_id],
                    )
            except Exception as exc:  # noqa: BLE001 - progress display must never fail the run
                print(f"painel: could not record progress: {exc}", file=sys.stderr)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


@dataclass
class Job:
    paths: Paths
    settings: Settings
    week: str
    week_start: dt.date
    tags: list[ClassTag]
    all_tags: list[ClassTag]
    client: CademiClient
    products: dict[int, str]  # product id -> name in Cademi
    collection: Collection | None = None
    run: RunContext = field(default_factory=RunContext.from_env)
    log: Callable[[str], None] = print

    # ---- 2. collect ------------------------------------------------------------------------
    def journal(self) -> Journal:
        return Journal(self.paths.work / "progress", self.week)

    def collect(self) -> Collection:
        c = Collection(self.week, self.week_start)
        journal = self.journal()
        try:
            self._collect_lists(c, journal)
            self._collect_progress(c, journal)
        finally:
            journal.close()
        self.collection = c
        for w in c.warnings:
            self.log(f"warning: {w}")
        for p in c.problems:
            self.log(f"problem: {p}")
        for f in c.failures:
            self.log(f"failed: {f}")
        return c

    def _collect_lists(self, c: Collection, journal: Journal) -> None:
        for tag in self.tags:
            label = f"tag {tag.tag_id} ({class_label(tag.class_number)}, {tag.track})"
            students = journal.tag_list(tag.tag_id)
            if students is None:
                try:
                    raw = self.client.users_by_tag(tag.tag_id)
                except AuthFailed:
                    raise
                except BusinessError as exc:
                    c.problems.append(
                        f"{label}: Cademi refused to list it ({exc.msg!r}); if the class "
                        f"ended, remove it with `painel tags remove {tag.tag_id}`"
                    )
                    continue
                except CademiError as exc:
                    c.problems.append(f"{label}: could not list its students: {exc}")
                    continue
                try:
                    students = _students(raw, label)
                except Malformed as exc:
                    c.problems.append(str(exc))
                    continue
                journal.save_tag_list(tag.tag_id, students)
            if not students:
                c.warnings.append(
                    f"{label}: Cademi lists no students in this tag; nothing collected for it "
                    f"this week (if the class ended, remove it with `painel tags remove {tag.tag_id}`)"
                )
            c.lists[tag.tag_id] = students

    def _collect_progress(self, c: Collection, journal: Journal) -> None:
        track_of = {t.tag_id: self.settings.tracks[t.track] for t in self.tags}
        needed: dict[tuple[int, int], tuple[str, int]] = {}
        for tag_id, students in c.lists.items():
            for s in students:
                for product in track_of[tag_id].products:
                    needed.setdefault((s["id"], product), (s["nome"], tag_id))
        c.pairs = len(needed)
        c.results = {k: v for k, v in journal.results().items() if k in needed}
        todo = [k for k in sorted(needed) if k not in c.results]
        if c.results:
            self.log(
                f"resuming week {self.week}: {len(c.results)} of {len(needed)} progress replies "
                f"already in the journal, {len(todo)} to fetch"
            )
        else:
            self.log(
                f"week {self.week}: {len(c.lists)} classes, {len(needed)} progress calls to make"
            )
        reporter = Reporter(
            len(todo),
            OpState(self.paths.opstate),
            None if self.run.interactive else self.run.run_id,
            log_every_s(len(todo), self.settings.per_second),
            self.log,
        )
        unavailable_in_a_row = 0
        for key in todo:
            student, product = key
            name, tag_id = needed[key]
            try:
                p = self.client.progress(student, product)
            except AuthFailed:
                raise
            except BusinessError as exc:
                reason = f"Cademi answered 409 {exc.msg!r}"
                c.failures.append(Failure(student, name, tag_id, product, reason))
                unavailable_in_a_row = 0
            except Unavailable as exc:
                c.failures.append(
                    Failure(student, name, tag_id, product, str(exc).split(": ", 1)[-1])
                )
                unavailable_in_a_row += 1
                if unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
                    c.problems.append(
                        f"Cademi stopped answering: {unavailable_in_a_row} calls in a row failed "
                        f"after every retry; stopped early (what was fetched is kept for the next run)"
                    )
                    break
            except CademiError as exc:  # Malformed and other unexpected replies
                c.failures.append(
                    Failure(student, name, tag_id, product, str(exc).split(": ", 1)[-1])
                )
                unavailable_in_a_row = 0
            else:
                journal.save_result(student, product, p.pct, p.watched, p.completed)
                c.results[key] = (p.pct, p.watched, p.completed, iso(utcnow()))
                c.fetched += 1
                unavailable_in_a_row = 0
            reporter.step()
        if todo:
            reporter.step(0, force=True)

    # ---- 3. load ---------------------------------------------------------------------------
    def check_publishable(self) -> None:
        c = self.collection
        if c is None:
            raise CollectionFailed("collect() has not run")
        if c.problems:
            raise CollectionFailed(f"week {c.week} not published: " + "; ".join(c.problems))
        if c.failures and c.failed_share > self.settings.max_failed_share:
            shown = "; ".join(str(f) for f in c.failures[:5])
            more = (
                f" (and {len(c.failures) - 5} more, listed in the run's notebook)"
                if len(c.failures) > 5
                else ""
            )
            raise CollectionFailed(
                f"week {c.week} not published: {len(c.failures)} of {c.pairs} progress calls failed "
                f"({100 * c.failed_share:.1f}% > max_failed_share {100 * self.settings.max_failed_share:.1f}%): "
                f"{shown}{more}; run again to retry only those"
            )
        if c.pairs and not c.results:
            raise CollectionFailed(f"week {c.week} not published: no progress could be collected")

    def load(self, build: Build) -> None:
        """Replace this week in ``build`` (a carry-over build of dataset ``progress``)."""
        self.check_publishable()
        c = self.collection
        assert c is not None
        con = build.con
        _create_tables(con)
        build.source_extracted_at = min((v[3] for v in c.results.values()), default=iso(utcnow()))
        week_rows = []
        names = []
        for tag in self.tags:
            track = self.settings.tracks[tag.track]
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
        self._load_reference(con)
        con.execute("DELETE FROM weeks WHERE week = ?", [c.week])
        con.execute(
            "INSERT INTO weeks VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
            [c.week, c.week_start, build.source_extracted_at, self.run.run_id],
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
            ),
            checks.sql(
                "one week per ISO week label",
                "SELECT count(*) = 0, count(*) || ' rows whose week_start is not their week''s Monday' "
                "FROM progress_weekly WHERE strftime(week_start, '%G-W%V') <> week OR isodow(week_start) <> 1",
            ),
        )

    def _load_reference(self, con: Any) -> None:
        con.execute("DELETE FROM tracks")
        con.executemany(
            "INSERT INTO tracks VALUES (?, ?, ?)",
            [(t.key, t.name, t.expected_pct_per_week) for t in self.settings.tracks.values()],
        )
        con.execute("DELETE FROM track_products")
        con.executemany(
            "INSERT INTO track_products VALUES (?, ?, ?, ?)",
            [
                (t.key, p, i + 1, self.products.get(p, f"Produto {p}"))
                for t in self.settings.tracks.values()
                for i, p in enumerate(t.products)
            ],
        )
        con.execute("DELETE FROM classes")
        track_names = {k: t.name for k, t in self.settings.tracks.items()}
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
                for t in self.all_tags
            ],
        )
        con.execute(
            "UPDATE classes SET start_week = s.first FROM (SELECT tag_id, min(week_start) AS first "
            "FROM progress_weekly GROUP BY 1) s WHERE classes.tag_id = s.tag_id"
        )

    # ---- 4. publish ------------------------------------------------------------------------
    def publish(self, build: Build) -> str:
        version = build.publish()
        journal = self.journal()
        journal.discard()
        return version


def log_every_s(calls: int, per_second: float) -> float:
    """Print progress about every 10 s on long runs, less often on very long ones."""
    expected = calls / per_second if per_second > 0 else 0
    return 10.0 if expected < 600 else 60.0


def _students(raw: list[Any], label: str) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise Malformed(f"{label}: student list item {i + 1} is not an object")
        sid = item.get("id")
        if isinstance(sid, bool) or not isinstance(sid, int):
            try:
                sid = int(str(sid))
            except ValueError:
                raise Malformed(
                    f"{label}: student list item {i + 1} has no numeric 'id' ({sid!r})"
                ) from None
        if sid in seen:
            continue
        seen.add(sid)
        name = item.get("nome")
        out.append({"id": sid, "nome": str(name).strip() if name else f"Aluno {sid}"})
    return out


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


# ---- 1. prepare ----------------------------------------------------------------------------
def validate(params: dict[str, Any], now: dt.datetime | None = None) -> None:
    """The job's value checks, run by ``painel etl run`` before any kernel starts (exit code 2)
    and again by ``prepare`` in the notebook: settings, tracks and the week."""
    settings_mod.from_parameters(params)
    check_week(str(params.get("week") or ""), bool(params.get("allow_past_week")), now)


def check_week(
    week: str, allow_past_week: bool, now: dt.datetime | None = None
) -> tuple[str, dt.date]:
    this_week = settings_mod.current_week(now)
    week_label, week_start = settings_mod.parse_week(week or this_week)
    if week_label > this_week:
        raise SettingsError(
            f"parameter 'week': {week_label} is in the future (this week is {this_week})"
        )
    if week_label < this_week and not allow_past_week:
        raise SettingsError(
            f"parameter 'week': {week_label} is in the past (this week is {this_week}); Cademi reports "
            "progress as of now, so collecting it now would label today's progress with an old week. "
            "Set allow_past_week=true only for a simulator or a deliberate backfill"
        )
    return week_label, week_start


def prepare(
    paths: Paths,
    *,
    base_url: str,
    api_key_env: str,
    tracks: dict[str, Any],
    week: str | None = None,
    allow_past_week: bool = False,
    max_failed_share: float = 0.02,
    per_second: float = 2.0,
    per_minute: int = 120,
    timeout_s: float = 30.0,
    retries: int = 5,
    backoff_s: float = 1.0,
    now: dt.datetime | None = None,
) -> Job:
    """Validate everything that can be validated before the long part, and check the API once."""
    settings = settings_mod.from_parameters(
        {
            "base_url": base_url,
            "api_key_env": api_key_env,
            "tracks": tracks,
            "per_second": per_second,
            "per_minute": per_minute,
            "timeout_s": timeout_s,
            "retries": retries,
            "max_failed_share": max_failed_share,
        }
    )
    week_label, week_start = check_week(week or "", allow_past_week, now)
    registry = TagRegistry(OpState(paths.opstate))
    all_tags = registry.list(include_removed=True)
    tags = [t for t in all_tags if t.active]
    if not tags:
        raise CollectionFailed(
            "no class tags are registered: add one with `painel tags add` or the "
            "'Cadastro de turmas' dashboard"
        )
    for t in tags:
        if t.track not in settings.tracks:
            raise SettingsError(
                f"tag {t.tag_id} is registered in track {t.track!r}, which parameter 'tracks' no longer has "
                f"(tracks: {', '.join(settings.tracks)})"
            )
    client = CademiClient(
        settings.base_url,
        settings.api_key(),
        per_second=settings.per_second,
        per_minute=settings.per_minute,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
        backoff_s=backoff_s,
    )
    try:
        listed = {as_int(i.get("id")) for i in client.tags() if isinstance(i, dict)}
        products = {
            as_int(p.get("id")): str(p.get("nome") or "")
            for p in client.products()
            if isinstance(p, dict)
        }
    except Unavailable as exc:
        raise CollectionFailed(
            f"the Cademi API at {settings.base_url} is unavailable: {exc}"
        ) from None
    except AuthFailed as exc:
        raise CollectionFailed(f"{exc} (key from ${settings.api_key_env})") from None
    except CademiError as exc:
        raise CollectionFailed(
            f"the Cademi API at {settings.base_url} gave an unusable reply: {exc}"
        ) from None
    unknown = [t for t in tags if t.tag_id not in listed]
    if unknown:
        raise CollectionFailed(
            "registered class tags that Cademi does not have (GET /tag): "
            + ", ".join(f"{t.tag_id} ({class_label(t.class_number)}, {t.track})" for t in unknown)
            + "; fix or remove them with `painel tags remove TAG`"
        )
    missing = sorted(
        {(k, p) for k, t in settings.tracks.items() for p in t.products if p not in products}
    )
    if missing:
        raise CollectionFailed(
            "products in parameter 'tracks' that Cademi does not have (GET /produto): "
            + ", ".join(f"{p} (track {k})" for k, p in missing)
        )
    return Job(
        paths,
        settings,
        week_label,
        week_start,
        tags,
        all_tags,
        client,
        {k: v for k, v in products.items() if k is not None},
    )
