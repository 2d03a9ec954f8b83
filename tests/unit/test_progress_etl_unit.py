"""The weekly progress ETL in-process: prepare, collect, load, publish against the Cademi simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from painel.auth import Viewer
from painel.config import Paths
from painel.opstate import OpState
from painel.progress import etl, queries
from painel.progress.etl import CollectionFailed, Job
from painel.progress.settings import TZ, SettingsError
from painel.progress.simulator import CademiSimulator, Membership
from painel.progress.tags import TagRegistry
from painel.scope import ScopedDataset
from painel.store import NoVersion, Store

ANCHOR = dt.date(2025, 3, 10)  # a Monday: 2025-W11
NOW = dt.datetime(2025, 3, 12, 12, 0, tzinfo=TZ)  # "this week" for prepare: 2025-W11
KEY_ENV = "PAINEL_TEST_PROGRESS_ETL_KEY"
KEY = "etl-unit-test-key"
# both of the simulated school's regular classes in one painel track: students enrolled in
# both then have the same (student, product) pairs in two classes
TRACKS: dict[str, Any] = {
    "analista": {"name": "Formação Analista", "products": [2101, 2102], "expected_pct_per_week": 8},
    "cientista": {
        "name": "Formação Cientista",
        "products": [2105, 2106],
        "expected_pct_per_week": 8,
    },
}
REGISTERED = [(5001, "analista", 1), (5002, "analista", 2), (5003, "cientista", 3)]
TRACK_OF = {tag: track for tag, track, _ in REGISTERED}


def monday_6am(week: str) -> dt.datetime:
    """The simulator clock for collecting ``week`` (naive: São Paulo local time)."""
    monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return dt.datetime.combine(monday, dt.time(6))


def week_of(moment: dt.datetime) -> str:
    y, w, _ = moment.date().isocalendar()
    return f"{y}-W{w:02d}"


@dataclass
class Env:
    paths: Paths
    sim: CademiSimulator
    store: Store

    def prepare(self, week: str, **kwargs: Any) -> Job:
        options: dict[str, Any] = {
            "base_url": self.sim.base_url,
            "api_key_env": KEY_ENV,
            "tracks": TRACKS,
            "week": week,
            "allow_past_week": True,
            "per_second": 1000,
            "per_minute": 60000,
            "backoff_s": 0.01,
            "retries": 3,
            "timeout_s": 5,
            "now": NOW,
        }
        options.update(kwargs)
        job = etl.prepare(self.paths, **options)
        job.log = lambda s: None
        return job

    def run_week(self, week: str, as_of: dt.datetime | None = None) -> tuple[Job, str]:
        self.sim.as_of = as_of or monday_6am(week)
        job = self.prepare(week)
        try:
            job.collect()
            return job, self.publish(job)
        finally:
            job.client.close()

    def publish(self, job: Job) -> str:
        build = self.store.build(etl.DATASET, etl.TABLES, carry_over=True)
        try:
            job.load(build)
        except BaseException:
            build.abort()
            raise
        return job.publish(build)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.store.connect("progress") as con:
            return con.execute(sql, params or []).fetchall()

    def expected_pairs(self, as_of: dt.datetime) -> set[tuple[int, int, int]]:
        """(student, tag, product) rows a full collection at ``as_of`` must publish."""
        out = set()
        for tag, track, _ in REGISTERED:
            for uid in self.sim.world.member_ids(tag, as_of):
                for product in TRACKS[track]["products"]:
                    out.add((uid, tag, product))
        return out


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("PAINEL_RUN_ID", raising=False)
    monkeypatch.delenv("PAINEL_KEEP_VERSIONS", raising=False)
    paths = Paths.from_env(tmp_path / "home").ensure()
    sim = CademiSimulator(
        seed=7,
        students=100,
        classes=2,
        key=KEY,
        per_second=100_000,
        per_minute=10_000_000,
        anchor=ANCHOR,
    )
    registry = TagRegistry(OpState(paths.opstate))
    names = {k: v["name"] for k, v in TRACKS.items()}
    # the names without their track: these tests register tags across tracks on purpose, which
    # the registry refuses when a tag's Cademi name names another track
    listed = [{"id": t, "nome": n.split(" - ")[0]} for t, n in sim.world.tags]
    for tag, track, number in REGISTERED:
        registry.add(tag, track, number, "t", names, lambda: listed)
    sim.start()
    try:
        yield Env(paths, sim, Store(paths.store))
    finally:
        sim.stop()


def table(env: Env, week: str) -> dict[tuple[int, int, int], tuple[Any, ...]]:
    """(student, tag, product) -> (pct, watched, completed, collected_at) of one week."""
    rows = env.rows(
        "SELECT student_id, tag_id, product_id, progress_pct, lessons_watched, lessons_completed, epoch(collected_at) "
        "FROM progress_weekly WHERE week = ?",
        [week],
    )
    out = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert len(out) == len(rows), "duplicate rows"
    return out


# --------------------------------------------------------------------------- history


def test_two_weeks_are_both_kept_with_cademis_values(env: Env) -> None:
    _, v1 = env.run_week("2025-W10")
    job, v2 = env.run_week("2025-W11")
    assert v1 != v2 and env.store.current_version("progress") == v2
    assert env.rows("SELECT week, week_start FROM weeks ORDER BY week") == [
        ("2025-W10", dt.date(2025, 3, 3)),
        ("2025-W11", dt.date(2025, 3, 10)),
    ]
    for week in ("2025-W10", "2025-W11"):
        as_of = monday_6am(week)
        rows = table(env, week)
        assert set(rows) == env.expected_pairs(as_of)
        for (uid, _tag, product), (pct, watched, completed, _at) in rows.items():
            assert (pct, watched, completed) == env.sim.world.progress(uid, product, as_of)
    summary = env.store.manifest("progress")["notes"]["collection"]
    assert summary["week"] == "2025-W11" and summary["failed"] == 0
    assert summary["progress_calls_needed"] == len(
        {(u, p) for u, _t, p in env.expected_pairs(monday_6am("2025-W11"))}
    )
    # the summary tables follow
    assert env.rows("SELECT DISTINCT week FROM class_weekly ORDER BY 1") == [
        ("2025-W10",),
        ("2025-W11",),
    ]
    assert {r[0] for r in env.rows("SELECT tag_id FROM classes")} == {5001, 5002, 5003}
    assert job.collection is not None and job.collection.failed_share == 0


def test_rerunning_a_week_replaces_it(env: Env) -> None:
    env.run_week("2025-W10")
    env.run_week("2025-W11")
    w10, w11 = table(env, "2025-W10"), table(env, "2025-W11")
    counts = dict(env.rows("SELECT week, count(*) FROM progress_weekly GROUP BY 1"))
    _, version = env.run_week("2025-W10")  # the same week again, same Cademi state
    assert env.store.manifest("progress")["built_from"] is not None
    assert dict(env.rows("SELECT week, count(*) FROM progress_weekly GROUP BY 1")) == counts
    again = table(env, "2025-W10")
    assert {k: v[:3] for k, v in again.items()} == {k: v[:3] for k, v in w10.items()}
    assert all(again[k][3] > w10[k][3] for k in w10), "the week was not fetched afresh"
    assert table(env, "2025-W11") == w11  # the other week untouched, collected_at included
    assert env.rows(
        "SELECT count(*) - count(DISTINCT (week, student_id, tag_id, product_id)) FROM progress_weekly"
    ) == [(0,)]
    assert env.rows("SELECT week FROM weeks ORDER BY 1") == [("2025-W10",), ("2025-W11",)]
    # a newer Cademi state for W10 replaces its values, still without duplicates
    later = monday_6am("2025-W10") + dt.timedelta(days=3)
    env.run_week("2025-W10", as_of=later)
    newer = table(env, "2025-W10")
    assert set(newer) == env.expected_pairs(later)
    assert all(v[0] == env.sim.world.progress(k[0], k[2], later)[0] for k, v in newer.items())
    assert table(env, "2025-W11") == w11
    assert env.rows(
        "SELECT count(*) - count(DISTINCT (week, student_id, tag_id, product_id)) FROM progress_weekly"
    ) == [(0,)]
    assert version != env.store.current_version("progress")


def test_student_in_two_classes_counts_once_in_kpis(env: Env) -> None:
    week = "2025-W11"
    as_of = monday_6am(week)
    env.run_week(week)
    world = env.sim.world
    both = [
        s.id
        for s in world.students
        if {5001, 5002}
        <= {m.tag_id for m in s.memberships if m.active(as_of.replace(tzinfo=TZ).timestamp())}
    ]
    assert both, "the simulated school has no student in both classes"
    rows = table(env, week)
    uid = both[0]
    mine = {(tag, product): v[0] for (u, tag, product), v in rows.items() if u == uid}
    assert set(mine) == {(5001, 2101), (5001, 2102), (5002, 2101), (5002, 2102)}  # a row per class
    assert mine[(5001, 2101)] == mine[(5002, 2101)] and mine[(5001, 2102)] == mine[(5002, 2102)]

    by_pair: dict[tuple[int, int], float] = {}
    for (u, _tag, product), v in rows.items():
        assert by_pair.setdefault((u, product), v[0]) == v[0], (
            "the same pair differs between classes"
        )
    assert len(rows) > len(by_pair)  # some pairs are in two classes
    ds = ScopedDataset(Viewer("adm", "admin"), "progress", env.store)
    try:
        k = queries.kpis(ds, queries.Filters(week=week))
        assert k["students"] == len({u for u, _t, _p in rows})
        assert k["classes"] == 3
        assert k["avg_progress"] == pytest.approx(sum(by_pair.values()) / len(by_pair))
        # one class: each of its students once
        k1 = queries.kpis(ds, queries.Filters(week=week, tag_id=5001))
        assert k1["students"] == len({u for u, t, _p in rows if t == 5001}) and k1["classes"] == 1
    finally:
        ds.close()


def _leaver(env: Env) -> tuple[Membership, str, str]:
    """A registered class's member who left it, with a week before and a week after leaving."""
    for m in env.sim.world.memberships:
        if m.tag_id not in TRACK_OF or m.left is None:
            continue
        left = dt.datetime.fromtimestamp(m.left, TZ).replace(tzinfo=None)
        before, after = week_of(left - dt.timedelta(days=7)), week_of(left + dt.timedelta(days=7))
        ts_before = monday_6am(before).replace(tzinfo=TZ).timestamp()
        if after <= "2025-W11" and m.active(ts_before):
            return m, before, after
    raise AssertionError("the simulated school has no suitable leaver")


def test_a_student_who_left_stays_in_earlier_weeks_only(env: Env) -> None:
    m, before, after = _leaver(env)
    env.run_week(before)
    env.run_week(after)
    rows_before = [k for k in table(env, before) if k[:2] == (m.user_id, m.tag_id)]
    rows_after = [k for k in table(env, after) if k[:2] == (m.user_id, m.tag_id)]
    products = TRACKS[TRACK_OF[m.tag_id]]["products"]
    assert sorted(rows_before) == [(m.user_id, m.tag_id, p) for p in products]
    assert rows_after == []
    # still listed as a student of the class, last seen in the earlier week
    assert env.rows(
        "SELECT name, first_week, last_week FROM students WHERE student_id = ? AND tag_id = ?",
        [m.user_id, m.tag_id],
    ) == [(env.sim.world.student(m.user_id).nome, before, before)]


def test_a_removed_tag_keeps_its_history(env: Env) -> None:
    env.run_week("2025-W10")
    before = {k: v for k, v in table(env, "2025-W10").items() if k[1] == 5003}
    assert before
    TagRegistry(OpState(env.paths.opstate)).remove(5003, "coord")
    env.run_week("2025-W11")
    assert {k: v for k, v in table(env, "2025-W10").items() if k[1] == 5003} == before
    assert not [k for k in table(env, "2025-W11") if k[1] == 5003]
    assert env.rows("SELECT class_name, track, active FROM classes WHERE tag_id = 5003") == [
        ("Turma 03", "cientista", False)
    ]
    assert env.rows(
        "SELECT count(*) FROM students WHERE tag_id = 5003 AND last_week = '2025-W10'"
    ) == [(len({k[0] for k in before}),)]


def test_no_cpf_email_or_phone_is_published(env: Env) -> None:
    env.sim.as_of = monday_6am("2025-W11")
    job = env.prepare("2025-W11")
    job.collect()
    world = env.sim.world
    secrets = {s.email for s in world.students} | {s.doc for s in world.students}
    secrets |= {"".join(ch for ch in s.doc if ch.isdigit()) for s in world.students}
    secrets |= {s.celular for s in world.students if s.celular} | {s.token for s in world.students}
    # nor in the resume journal
    journal = (env.paths.work / "progress" / "2025-W11.sqlite").read_bytes()
    assert not [x for x in secrets if x.encode() in journal]
    env.publish(job)
    job.client.close()
    values: list[str] = []
    with env.store.connect("progress") as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        tables = {t for t, _ in columns}
        assert tables == set(etl.TABLES)
        for t, c in columns:
            values += [
                r[0] for r in con.execute(f'SELECT DISTINCT "{c}" FROM "{t}"').fetchall() if r[0]
            ]
    assert any(s.nome in values for s in world.students)  # the scan does read names
    leaked = [v for v in values if "@" in v or any(x in v for x in secrets)]
    assert leaked == []
    manifest = (
        env.store.version_path("progress", env.store.current_version("progress"))
        .with_suffix(".json")
        .read_text(encoding="utf-8")
    )
    assert not [x for x in secrets if x in manifest]


# --------------------------------------------------------------------------- refusals in prepare


def test_week_in_the_future_or_past(env: Env) -> None:
    with pytest.raises(
        SettingsError,
        match=r"^parameter 'week': 2025-W12 is in the future \(this week is 2025-W11\)",
    ):
        env.prepare("2025-W12")
    with pytest.raises(
        SettingsError, match=r"^parameter 'week': 2025-W10 is in the past .*allow_past_week"
    ):
        env.prepare("2025-W10", allow_past_week=False)
    with pytest.raises(SettingsError, match="2024 has no week 60"):
        env.prepare("2024-W60")
    assert env.sim.stats()["requests"] == 0  # refused before calling Cademi
    job = env.prepare(None, allow_past_week=False)  # default: this week
    job.client.close()
    assert (job.week, job.week_start) == ("2025-W11", dt.date(2025, 3, 10))


def test_unknown_product_in_tracks(env: Env) -> None:
    tracks = {**TRACKS, "analista": {**TRACKS["analista"], "products": [2101, 9999, 2102]}}
    with pytest.raises(CollectionFailed) as info:
        env.prepare("2025-W11", tracks=tracks)
    assert str(info.value) == (
        "products in parameter 'tracks' that Cademi does not have (GET /produto): 9999 (track analista)"
    )


def test_registered_tag_unknown_to_cademi(env: Env) -> None:
    TagRegistry(OpState(env.paths.opstate)).add(
        7777,
        "cientista",
        7,
        "t",
        {k: v["name"] for k, v in TRACKS.items()},
        lambda: [{"id": 7777, "nome": "x"}],
    )
    with pytest.raises(CollectionFailed) as info:
        env.prepare("2025-W11")
    assert str(info.value).startswith(
        "registered class tags that Cademi does not have (GET /tag): 7777 (Turma 07, cientista)"
    )
    assert "painel tags remove" in str(info.value)


def test_registered_tag_in_a_track_no_longer_configured(env: Env) -> None:
    with pytest.raises(
        SettingsError,
        match=r"tag 5003 is registered in track 'cientista', which parameter 'tracks'",
    ):
        env.prepare("2025-W11", tracks={"analista": TRACKS["analista"]})


def test_no_tags_registered(env: Env) -> None:
    registry = TagRegistry(OpState(env.paths.opstate))
    for tag, _, _ in REGISTERED:
        registry.remove(tag, "t")
    with pytest.raises(CollectionFailed, match="no class tags are registered"):
        env.prepare("2025-W11")


def test_key_missing_or_wrong(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(SettingsError, match=KEY_ENV):
        env.prepare("2025-W11")
    monkeypatch.setenv(KEY_ENV, "a-wrong-key-3f9")
    with pytest.raises(CollectionFailed) as info:
        env.prepare("2025-W11")
    assert "405" in str(info.value) and f"${KEY_ENV}" in str(info.value)
    assert "a-wrong-key-3f9" not in str(info.value)
    assert env.sim.stats()["requests"] == 1


# --------------------------------------------------------------------------- resume journal


def test_failures_over_the_threshold_block_and_a_rerun_fetches_only_them(env: Env) -> None:
    week = "2025-W11"
    as_of = monday_6am(week)
    env.sim.as_of = as_of
    members = sorted({u for u, _t, _p in env.expected_pairs(as_of)})
    unknown = set(members[::8])  # about 12 % of the students
    env.sim.unknown_users = set(unknown)
    failed_pairs = {(u, p) for u, _t, p in env.expected_pairs(as_of) if u in unknown}

    job = env.prepare(week)
    c1 = job.collect()
    job.client.close()
    assert {(f.student_id, f.product_id) for f in c1.failures} == failed_pairs
    assert all("Usuário não encontrado" in f.reason for f in c1.failures)
    assert c1.failed_share > 0.02
    with pytest.raises(CollectionFailed) as info:
        job.check_publishable()
    msg = str(info.value)
    first = c1.failures[0]
    assert (
        f"student {first.student_id} ({first.student_name}) of tag {first.tag_id}, product {first.product_id}"
        in msg
    )
    assert f"{len(failed_pairs)} of {c1.pairs} progress calls failed" in msg
    assert "run again to retry only those" in msg
    build = env.store.build(etl.DATASET, etl.TABLES, carry_over=True)
    with pytest.raises(CollectionFailed):
        job.load(build)
    build.abort()
    assert env.store.current_version("progress") is None  # nothing published
    with pytest.raises(NoVersion):
        env.store.current_path("progress")
    journal = env.paths.work / "progress" / f"{week}.sqlite"
    assert journal.exists()

    # Cademi knows them again: the next run fetches only what failed
    env.sim.unknown_users = set()
    before = env.sim.stats()["by_endpoint"]
    job2 = env.prepare(week)
    c2 = job2.collect()
    after = env.sim.stats()["by_endpoint"]
    assert after["progresso_por_produto"] - before["progresso_por_produto"] == len(failed_pairs)
    assert after["lista_por_tag"] - before["lista_por_tag"] == 0  # the lists came from the journal
    assert c2.failures == [] and c2.fetched == len(failed_pairs)
    assert c2.summary()["from_journal"] == c2.pairs - len(failed_pairs)
    env.publish(job2)
    job2.client.close()
    assert set(table(env, week)) == env.expected_pairs(as_of)
    for suffix in ("", "-wal", "-shm"):
        assert not Path(str(journal) + suffix).exists()


def test_a_failure_share_under_the_threshold_publishes(env: Env) -> None:
    week = "2025-W11"
    as_of = monday_6am(week)
    env.sim.as_of = as_of
    uid = min(u for u, t, _p in env.expected_pairs(as_of) if t == 5003)
    env.sim.malformed_progress = {(uid, 2105)}
    job = env.prepare(week, max_failed_share=0.05)
    c = job.collect()
    assert [(f.student_id, f.product_id) for f in c.failures] == [(uid, 2105)]
    assert "not a percentage" in c.failures[0].reason
    env.publish(job)
    job.client.close()
    rows = table(env, week)
    assert (uid, 5003, 2105) not in rows and (uid, 5003, 2106) in rows
    assert env.store.manifest("progress")["notes"]["failures"] == [str(c.failures[0])]
