"""Step 2 of the ``progress`` ETL: collect the week's progress from Cademi.

Each registered class's students are listed, then the progress of each student in each
product of the class's track is asked, under the rate limit, with retries. Every answer goes
to the week's resume journal first (:mod:`.journal`), so a killed run resumes where it
stopped. Refused or failed calls are kept on the :class:`Collection` (as :class:`Failure`
objects and problems); whether the week may be published is decided by :mod:`.load`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...opstate import OpState, iso, utcnow
from ..cademi import AuthFailed, BusinessError, CademiError, Malformed, Unavailable
from ..tags import class_label
from .journal import Journal

if TYPE_CHECKING:
    from .job import Job

MAX_CONSECUTIVE_UNAVAILABLE = 10


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


def collect_week(job: Job) -> Collection:
    """List every class, then fetch (or take from the journal) each progress reply."""
    c = Collection(job.week, job.week_start)
    journal = job.journal()
    try:
        _collect_lists(job, c, journal)
        _collect_progress(job, c, journal)
    finally:
        journal.close()
    refused = job.client.stats.by_reason.get("429 rate limit", 0)
    if refused:
        job.log(
            f"note: Cademi refused {refused} call(s) with 429 (rate limit); each was retried and "
            "the pace lowered for a while. If this recurs, raise parameter 'rate_margin'"
        )
    for w in c.warnings:
        job.log(f"warning: {w}")
    for p in c.problems:
        job.log(f"problem: {p}")
    for f in c.failures:
        job.log(f"failed: {f}")
    return c


def _collect_lists(job: Job, c: Collection, journal: Journal) -> None:
    for tag in job.tags:
        label = f"tag {tag.tag_id} ({class_label(tag.class_number)}, {tag.track})"
        students = journal.tag_list(tag.tag_id)
        if students is None:
            try:
                raw = job.client.users_by_tag(tag.tag_id)
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


def _collect_progress(job: Job, c: Collection, journal: Journal) -> None:
    track_of = {t.tag_id: job.settings.tracks[t.track] for t in job.tags}
    needed: dict[tuple[int, int], tuple[str, int]] = {}
    for tag_id, students in c.lists.items():
        for s in students:
            for product in track_of[tag_id].products:
                needed.setdefault((s["id"], product), (s["nome"], tag_id))
    c.pairs = len(needed)
    c.results = {k: v for k, v in journal.results().items() if k in needed}
    todo = [k for k in sorted(needed) if k not in c.results]
    if c.results:
        job.log(
            f"resuming week {job.week}: {len(c.results)} of {len(needed)} progress replies "
            f"already in the journal, {len(todo)} to fetch"
        )
    else:
        job.log(f"week {job.week}: {len(c.lists)} classes, {len(needed)} progress calls to make")
    meter = job.run.meter(
        "collect",
        len(todo),
        unit="calls",
        every_s=log_every_s(len(todo), job.settings.per_second),
        out=job.log,
        opstate=OpState(job.paths.opstate),
    )
    unavailable_in_a_row = 0
    for key in todo:
        student, product = key
        name, tag_id = needed[key]
        try:
            p = job.client.progress(student, product)
        except AuthFailed:
            raise
        except BusinessError as exc:
            reason = f"Cademi answered 409 {exc.msg!r}"
            c.failures.append(Failure(student, name, tag_id, product, reason))
            unavailable_in_a_row = 0
        except Unavailable as exc:
            c.failures.append(Failure(student, name, tag_id, product, str(exc).split(": ", 1)[-1]))
            unavailable_in_a_row += 1
            if unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
                c.problems.append(
                    f"Cademi stopped answering: {unavailable_in_a_row} calls in a row failed "
                    f"after every retry; stopped early (what was fetched is kept for the next run)"
                )
                break
        except CademiError as exc:  # Malformed and other unexpected replies
            c.failures.append(Failure(student, name, tag_id, product, str(exc).split(": ", 1)[-1]))
            unavailable_in_a_row = 0
        else:
            journal.save_result(student, product, p.pct, p.watched, p.completed)
            c.results[key] = (p.pct, p.watched, p.completed, iso(utcnow()))
            c.fetched += 1
            unavailable_in_a_row = 0
        meter.advance()


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
