"""The versioned store: publish, manifests, checks gate, rollback, retention, carry-over, readers.

Everything runs against real DuckDB files under ``tmp_path``; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from painel import checks
from painel.runctx import RunContext
from painel.store import (
    ChecksFailed,
    NoVersion,
    Store,
    StoreError,
    new_version_id,
    pid_alive,
)

DS = "ds"
TABLES = {"a": "public", "b": {"regional": "regional_id"}}


def ctx(run_id: str = "run-test", **kw) -> RunContext:
    return RunContext(run_id=run_id, **kw)


def fill(build, n: int) -> None:
    """Table a holds n rows; table b holds one row carrying n (a consistent pair)."""
    build.con.execute(f"CREATE TABLE a AS SELECT range AS i FROM range({int(n)})")
    build.con.execute("CREATE TABLE b (regional_id INTEGER, n INTEGER)")
    build.con.execute("INSERT INTO b VALUES (1, ?)", [n])


def publish(store: Store, n: int = 3, dataset: str = DS, run: RunContext | None = None) -> str:
    build = store.build(dataset, TABLES, run=run or ctx(f"run-{n}"))
    fill(build, n)
    return build.publish()


def rows_in(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM a").fetchone()[0]


def staging_files(store: Store, dataset: str = DS) -> list[str]:
    folder = store.root / dataset / "staging"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store", keep=5)


# ---- publish and manifest ---------------------------------------------------------------
def test_publish_makes_the_version_current_and_readable(store: Store) -> None:
    assert store.current_version(DS) is None
    v1 = publish(store, 3)
    assert store.current_version(DS) == v1
    assert (store.root / DS / "CURRENT").read_text().strip() == v1
    path = store.current_path(DS)
    assert path == store.root / DS / "versions" / f"{v1}.duckdb"
    assert rows_in(path) == 3
    assert store.datasets() == [DS]
    assert staging_files(store) == []  # the staging file moved, its owner file is gone

    v2 = publish(store, 4)
    assert v2 != v1 and v2 > v1  # ids sort in publish order
    assert store.current_version(DS) == v2
    infos = store.versions(DS)
    assert [v.version for v in infos] == [v1, v2]
    assert [v.current for v in infos] == [False, True]
    assert all(v.published for v in infos)
    with store.connect(DS) as con:
        assert con.execute("SELECT n FROM b").fetchone()[0] == 4


def test_a_build_prints_no_progress_bar(store: Store) -> None:
    """A job run's log and `painel demo prepare`'s terminal get no DuckDB progress meter."""
    build = store.build(DS, {})
    setting = build.con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    assert setting == (False,)
    build.abort()


def test_manifest_records_provenance_counts_and_checks(store: Store) -> None:
    run = ctx(
        "20260301T060000Z-abc123",
        job="enrolment",
        notebook="notebooks/etl/enrolment.ipynb",
        parameters={"source_dir": "sources/x", "min_rows": 2},
    )
    extracted = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)
    build = store.build(DS, TABLES, run=run)
    fill(build, 7)
    build.source_extracted_at = extracted
    build.check(checks.not_empty("a"), checks.unique("a", ["i"]))
    version = build.publish()

    m = store.manifest(DS)
    assert m == store.manifest(DS, version)
    on_disk = json.loads((store.root / DS / "versions" / f"{version}.json").read_text())
    assert on_disk == m
    assert m["dataset"] == DS
    assert m["version"] == version
    assert m["run_id"] == "20260301T060000Z-abc123"
    assert m["job"] == "enrolment"
    assert m["notebook"] == "notebooks/etl/enrolment.ipynb"
    assert m["parameters"] == {"source_dir": "sources/x", "min_rows": 2}
    assert m["source_extracted_at"] == extracted.isoformat()
    assert m["row_counts"] == {"a": 7, "b": 1}
    assert m["tables"] == {"a": "public", "b": {"regional": "regional_id"}}
    assert m["previous_version"] is None
    assert m["built_from"] is None
    assert datetime.fromisoformat(m["published_at"]).tzinfo is not None
    by_name = {c["name"]: c for c in m["checks"]}
    assert by_name["a is not empty"] == {
        "name": "a is not empty",
        "passed": True,
        "detail": "7 rows",
    }
    assert by_name["a unique on (i)"]["passed"] is True
    # the structural checks publish() adds are recorded too
    assert {"declared tables exist", "no undeclared tables", "scope columns exist"} <= set(by_name)
    assert all(c["passed"] for c in m["checks"])

    v2 = publish(store, 2)
    assert store.manifest(DS, v2)["previous_version"] == version
    assert store.manifest(DS)["version"] == v2
    assert store.manifest(DS, version)["row_counts"] == {"a": 7, "b": 1}  # old manifest kept


def test_manifest_takes_the_run_identity_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # this is how `painel etl run` hands the run to the notebook's kernel
    monkeypatch.setenv("PAINEL_RUN_ID", "run-from-env")
    monkeypatch.setenv("PAINEL_JOB", "job_env")
    monkeypatch.setenv("PAINEL_NOTEBOOK", "notebooks/etl/job_env.ipynb")
    monkeypatch.setenv("PAINEL_PARAMETERS", json.dumps({"rows": 5}))
    build = store.build(DS, TABLES)  # no run= : read from the environment
    fill(build, 5)
    version = build.publish()
    m = store.manifest(DS)
    assert (m["run_id"], m["job"], m["notebook"], m["parameters"]) == (
        "run-from-env",
        "job_env",
        "notebooks/etl/job_env.ipynb",
        {"rows": 5},
    )
    assert store.published_by("run-from-env") == [f"{DS}@{version}"]
    assert store.published_by("some-other-run") == []
    entry = store.history(DS)[-1]
    assert entry["action"] == "publish"
    assert entry["version"] == version
    assert entry["run_id"] == "run-from-env"
    assert entry["job"] == "job_env"


def test_interactive_build_gets_an_interactive_run_id(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAINEL_RUN_ID", raising=False)
    build = store.build(DS, TABLES)
    fill(build, 1)
    build.publish()
    assert store.manifest(DS)["run_id"].startswith("interactive-")


def test_a_build_cannot_be_published_twice_or_used_after(store: Store) -> None:
    build = store.build(DS, TABLES, run=ctx())
    fill(build, 1)
    build.publish()
    with pytest.raises(StoreError, match="published"):
        build.publish()
    with pytest.raises(StoreError, match="published"):
        build.con  # noqa: B018


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "../x", "a b"])
def test_invalid_dataset_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(StoreError, match="invalid dataset name"):
        store.build(name, TABLES)


# ---- checks gate the publish ------------------------------------------------------------
def test_failed_data_check_blocks_the_publish(store: Store) -> None:
    v1 = publish(store, 3)
    build = store.build(DS, TABLES, run=ctx("run-bad"))
    fill(build, 2)
    staged = build.path
    assert staged.exists()
    results = build.check(checks.row_count_between("a", 10), checks.not_empty("b"))
    assert [r.passed for r in results] == [False, True]

    with pytest.raises(ChecksFailed) as info:
        build.publish()
    message = str(info.value)
    assert repr(DS) in message
    assert "a row count in range" in message
    assert "2 rows (expected 10..)" in message
    assert "b is not empty" not in message  # only failed checks are named
    assert [r.name for r in info.value.failed] == ["a row count in range"]

    assert store.current_version(DS) == v1
    assert [v.version for v in store.versions(DS)] == [v1]
    assert not staged.exists()
    assert staging_files(store) == []  # the .duckdb, its .wal and the .owner are gone
    assert store.published_by("run-bad") == []
    assert rows_in(store.current_path(DS)) == 3
    with pytest.raises(StoreError, match="aborted"):
        build.publish()


def test_check_whose_query_errors_counts_as_failed(store: Store) -> None:
    build = store.build(DS, TABLES, run=ctx())
    fill(build, 2)
    build.check(checks.sql("no negatives", "SELECT count(*) = 0 FROM a WHERE no_such_column < 0"))
    assert build.results[0].passed is False
    assert build.results[0].detail.startswith("check query failed:")
    with pytest.raises(ChecksFailed, match="no negatives"):
        build.publish()
    assert store.current_version(DS) is None
    assert store.versions(DS) == []


def test_undeclared_table_blocks_the_publish(store: Store) -> None:
    build = store.build(DS, TABLES, run=ctx())
    fill(build, 2)
    build.con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    with pytest.raises(ChecksFailed, match="undeclared: scratch") as info:
        build.publish()
    assert [r.name for r in info.value.failed] == ["no undeclared tables"]
    assert store.current_version(DS) is None
    assert staging_files(store) == []


def test_temp_tables_are_not_undeclared_tables(store: Store) -> None:
    """A TEMP table lives in DuckDB's in-memory ``temp`` catalog and never reaches the published
    file, so it is not an undeclared table (ETL code uses them for raw staging)."""
    build = store.build(DS, TABLES, run=ctx())
    build.con.execute("CREATE TEMP TABLE raw AS SELECT 1 AS x")
    fill(build, 2)
    assert build.publish() == store.current_version(DS)


def test_missing_declared_table_blocks_the_publish(store: Store) -> None:
    build = store.build(DS, {**TABLES, "c": "public"}, run=ctx())
    fill(build, 2)
    with pytest.raises(ChecksFailed, match="declared tables exist: c") as info:
        build.publish()
    assert [r.name for r in info.value.failed] == ["declared tables exist"]
    assert store.current_version(DS) is None


def test_missing_scope_column_blocks_the_publish(store: Store) -> None:
    v1 = publish(store, 3)
    build = store.build(
        DS, {"a": "public", "b": {"regional": "regional_id", "school": "school_id"}}
    )
    fill(build, 2)
    with pytest.raises(ChecksFailed, match=r"scope columns exist: b\.school_id") as info:
        build.publish()
    assert [r.name for r in info.value.failed] == ["scope columns exist"]
    assert store.current_version(DS) == v1
    assert staging_files(store) == []


def test_scope_must_be_a_mapping_or_public(store: Store) -> None:
    build = store.build(DS, {"a": "secret", "b": {"regional": "regional_id"}}, run=ctx())
    fill(build, 2)
    with pytest.raises(ChecksFailed, match="a: scope must be a mapping or 'public'"):
        build.publish()
    assert store.current_version(DS) is None


def test_abort_discards_the_staging_file(store: Store) -> None:
    v1 = publish(store, 3)
    build = store.build(DS, TABLES, run=ctx())
    fill(build, 9)
    assert staging_files(store)
    build.abort()
    assert staging_files(store) == []
    assert store.current_version(DS) == v1


# ---- rollback ---------------------------------------------------------------------------
def test_rollback_goes_to_the_previous_version_by_default(store: Store) -> None:
    v1, v2, v3 = publish(store, 1), publish(store, 2), publish(store, 3)
    assert store.rollback(DS, actor="ana") == v2
    assert store.current_version(DS) == v2
    assert rows_in(store.current_path(DS)) == 2
    entry = store.history(DS)[-1]
    assert entry["action"] == "rollback"
    assert entry["version"] == v2
    assert entry["from"] == v3
    assert entry["actor"] == "ana"
    # again: one further back; the newer versions stay on disk
    assert store.rollback(DS) == v1
    assert store.current_version(DS) == v1
    assert [v.version for v in store.versions(DS)] == [v1, v2, v3]
    with pytest.raises(StoreError, match="no earlier published version"):
        store.rollback(DS)
    assert store.current_version(DS) == v1


def test_rollback_to_a_named_version(store: Store) -> None:
    v1, _v2, v3 = publish(store, 1), publish(store, 2), publish(store, 3)
    assert store.rollback(DS, to=v1) == v1
    assert store.current_version(DS) == v1
    assert store.rollback(DS, to=v3) == v3  # forward again is allowed
    assert rows_in(store.current_path(DS)) == 3


def test_rollback_errors_name_the_dataset_and_the_reason(store: Store) -> None:
    with pytest.raises(NoVersion, match=f"dataset {DS!r} has no published version"):
        store.rollback(DS)
    v1 = publish(store, 1)
    with pytest.raises(StoreError) as info:
        store.rollback(DS)
    assert f"dataset {DS!r} has no earlier published version to roll back to" in str(info.value)
    assert v1 in str(info.value)
    with pytest.raises(StoreError, match=f"dataset {DS!r} has no version 'nope' on disk"):
        store.rollback(DS, to="nope")
    with pytest.raises(StoreError, match=f"version {v1!r} of {DS!r} is already current"):
        store.rollback(DS, to=v1)
    assert store.current_version(DS) == v1
    assert [e["action"] for e in store.history(DS)] == ["publish"]


def test_rollback_skips_versions_that_were_never_published(store: Store) -> None:
    # a publish killed between moving its file into versions/ and swapping CURRENT leaves an
    # orphan version: rollback must not pick it, and the next prune removes it
    v1 = publish(store, 1)
    orphan = new_version_id()  # made between the two publishes: sorts between them
    v2 = publish(store, 2)
    versions = store.root / DS / "versions"
    assert v1 < orphan < v2
    (versions / f"{orphan}.duckdb").write_bytes((versions / f"{v1}.duckdb").read_bytes())
    manifest = json.loads((versions / f"{v1}.json").read_text())
    (versions / f"{orphan}.json").write_text(json.dumps({**manifest, "version": orphan}))
    assert [(v.version, v.published) for v in store.versions(DS)] == [
        (v1, True),
        (orphan, False),
        (v2, True),
    ]
    assert store.rollback(DS) == v1
    assert orphan in store.prune(DS)
    assert not (versions / f"{orphan}.duckdb").exists()


# ---- retention ----------------------------------------------------------------------------
def test_retention_keeps_the_last_n_versions(tmp_path: Path) -> None:
    store = Store(tmp_path / "store", keep=3)
    ids = [publish(store, n) for n in range(1, 7)]
    kept = [v.version for v in store.versions(DS)]
    assert kept == ids[-3:]
    versions = store.root / DS / "versions"
    for gone in ids[:3]:
        assert not (versions / f"{gone}.duckdb").exists()
        assert not (versions / f"{gone}.json").exists()
    assert sorted(p.name for p in versions.iterdir()) == sorted(
        f"{v}{s}" for v in ids[-3:] for s in (".duckdb", ".json")
    )
    assert store.current_version(DS) == ids[-1]


def test_retention_never_removes_the_current_version(tmp_path: Path) -> None:
    root = tmp_path / "store"
    v1, v2, v3 = (publish(Store(root, keep=3), n) for n in (1, 2, 3))
    Store(root, keep=3).rollback(DS, to=v1)
    removed = Store(root, keep=1).prune(DS)
    assert removed == [v2]
    assert [v.version for v in Store(root).versions(DS)] == [v1, v3]
    assert Store(root).current_version(DS) == v1
    assert rows_in(Store(root).current_path(DS)) == 1


def test_keep_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINEL_KEEP_VERSIONS", "2")
    store = Store(tmp_path / "store")
    assert store.keep == 2
    ids = [publish(store, n) for n in range(1, 5)]
    assert [v.version for v in store.versions(DS)] == ids[-2:]
    monkeypatch.delenv("PAINEL_KEEP_VERSIONS")
    assert Store(tmp_path / "store").keep == 5
    with pytest.raises(StoreError, match="keep must be at least 1"):
        Store(tmp_path / "store", keep=0)


# ---- carry-over -----------------------------------------------------------------------------
HIST = {"hist": "public"}


def test_carry_over_starts_from_a_copy_of_the_current_version(store: Store) -> None:
    first = store.build(DS, HIST, carry_over=True, run=ctx("r1"))
    assert first.base_version is None
    first.con.execute("CREATE TABLE hist AS SELECT 1 AS day")
    v1 = first.publish()

    second = store.build(DS, HIST, carry_over=True, run=ctx("r2"))
    assert second.base_version == v1
    assert second.con.execute("SELECT list(day) FROM hist").fetchone()[0] == [1]
    second.con.execute("INSERT INTO hist VALUES (2)")
    v2 = second.publish()

    with store.connect(DS) as con:
        assert con.execute("SELECT list(day ORDER BY day) FROM hist").fetchone()[0] == [1, 2]
    assert store.manifest(DS, v2)["built_from"] == v1
    assert store.manifest(DS, v2)["row_counts"] == {"hist": 2}
    # the version it started from is untouched (a copy was written, not the original)
    with duckdb.connect(str(store.version_path(DS, v1)), read_only=True) as con:
        assert con.execute("SELECT list(day) FROM hist").fetchone()[0] == [1]


def test_without_carry_over_a_build_starts_empty(store: Store) -> None:
    publish(store, 3)
    build = store.build(DS, TABLES, run=ctx())
    assert build.base_version is None
    tables = build.con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
    assert tables == 0
    build.abort()


def test_carry_over_publish_refuses_when_another_publish_came_in_between(store: Store) -> None:
    base = store.build(DS, HIST, carry_over=True, run=ctx("r1"))
    base.con.execute("CREATE TABLE hist AS SELECT 1 AS day")
    v1 = base.publish()

    slow = store.build(DS, HIST, carry_over=True, run=ctx("slow"))
    slow.con.execute("INSERT INTO hist VALUES (2)")

    fast = store.build(DS, HIST, carry_over=True, run=ctx("fast"))
    fast.con.execute("INSERT INTO hist VALUES (3)")
    v2 = fast.publish()

    with pytest.raises(StoreError) as info:
        slow.publish()
    message = str(info.value)
    assert f"dataset {DS!r} changed while this run built on it" in message
    assert v1 in message and v2 in message
    assert store.current_version(DS) == v2
    assert slow.version not in {v.version for v in store.versions(DS)}
    assert not slow.path.exists()
    assert staging_files(store) == []
    assert store.published_by("slow") == []
    with store.connect(DS) as con:
        assert con.execute("SELECT list(day ORDER BY day) FROM hist").fetchone()[0] == [1, 3]


def test_carry_over_publish_refuses_when_the_first_version_appeared_meanwhile(
    store: Store,
) -> None:
    """A carry-over build that started when the dataset had no version yet built on
    "nothing"; if another publish lands meanwhile, publishing would silently drop that
    version's history. It must refuse like any other concurrent change."""
    slow = store.build(DS, HIST, carry_over=True, run=ctx("slow"))
    assert slow.base_version is None
    slow.con.execute("CREATE TABLE hist AS SELECT 2 AS day")

    fast = store.build(DS, HIST, carry_over=True, run=ctx("fast"))
    fast.con.execute("CREATE TABLE hist AS SELECT 1 AS day")
    v1 = fast.publish()

    with pytest.raises(StoreError, match="changed while this run built on it"):
        slow.publish()
    assert store.current_version(DS) == v1


# ---- stale staging ------------------------------------------------------------------------
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)  # exited and reaped: the pid no longer exists
    return child.pid


def test_stale_staging_of_a_dead_process_is_cleaned_on_the_next_build(store: Store) -> None:
    v1 = publish(store, 3)
    staging = store.root / DS / "staging"
    stale = "20200101T000000000000Z-dead"
    (staging / f"{stale}.owner").write_text(str(dead_pid()))
    with duckdb.connect(str(staging / f"{stale}.duckdb")) as con:
        con.execute("CREATE TABLE a AS SELECT 1 AS i")
    (staging / f"{stale}.duckdb.wal").write_bytes(b"")

    alive = store.build(DS, TABLES, run=ctx("alive"))  # owned by this (living) process
    fill(alive, 1)
    assert not any(name.startswith(stale) for name in staging_files(store))
    assert f"{alive.version}.owner" in staging_files(store)

    nxt = store.build(DS, TABLES, run=ctx("next"))
    # a build of a live process is left alone
    assert alive.path.exists()
    assert (staging / f"{alive.version}.owner").read_text() == str(os.getpid())
    nxt.abort()
    alive.abort()
    assert store.current_version(DS) == v1


def test_a_zombie_owner_counts_as_dead(store: Store) -> None:
    """A killed run's kernel, orphaned and never reaped, must not pin its staging file."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # exits, and is not waited for
    try:
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.05)
        assert pid_alive(os.getpid())
        assert not pid_alive(child.pid)
    finally:
        child.wait(timeout=60)


def test_a_publish_cleans_what_a_run_dead_since_its_start_left(store: Store) -> None:
    """The run that follows a killed one may start while the killed one's kernel still lives."""
    publish(store, 3)
    staging = store.root / DS / "staging"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        stale = "20200101T000000000000Z-late"
        (staging / f"{stale}.owner").write_text(str(sleeper.pid))
        (staging / f"{stale}.duckdb").write_bytes(b"")
        build = store.build(DS, TABLES, run=ctx("after"))
        assert f"{stale}.duckdb" in staging_files(store)  # its owner was alive then
        fill(build, 2)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=60)
    build.publish()
    assert staging_files(store) == []


# ---- readers --------------------------------------------------------------------------------
def test_reader_follows_current_on_the_next_connection_call(store: Store) -> None:
    reader = store.reader(DS)
    with pytest.raises(NoVersion, match="no published version"):
        reader.connection()
    v1 = publish(store, 3)
    con = reader.connection()
    assert reader.version == v1
    assert reader.manifest["version"] == v1
    assert con.execute("SELECT count(*) FROM a").fetchone()[0] == 3
    assert reader.connection() is con  # same version: the connection is reused

    v2 = publish(store, 5)
    # the open connection stays on its version until the next connection() call
    assert con.execute("SELECT count(*) FROM a").fetchone()[0] == 3
    con2 = reader.connection()
    assert reader.version == v2
    assert reader.manifest["row_counts"] == {"a": 5, "b": 1}
    assert con2.execute("SELECT count(*) FROM a").fetchone()[0] == 5

    store.rollback(DS)
    assert reader.connection().execute("SELECT count(*) FROM a").fetchone()[0] == 3
    assert reader.version == v1
    reader.close()


def test_reader_connection_is_read_only(store: Store) -> None:
    publish(store, 3)
    con = store.reader(DS).connection()
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE x AS SELECT 1")
    with store.connect(DS) as con2, pytest.raises(duckdb.Error):
        con2.execute("DELETE FROM a")
    assert rows_in(store.current_path(DS)) == 3


def test_reader_holding_a_pruned_version_keeps_reading_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "store", keep=1)
    v1 = publish(store, 3)
    reader = store.reader(DS)
    held = reader.connection()
    plain = store.connect(DS)
    old_path = store.version_path(DS, v1)

    v2 = publish(store, 8)
    assert not old_path.exists()  # pruned: keep=1
    assert [v.version for v in store.versions(DS)] == [v2]
    # both connections opened on v1 still read it, consistently
    assert held.execute("SELECT count(*), (SELECT n FROM b) FROM a").fetchone() == (3, 3)
    assert plain.execute("SELECT count(*), (SELECT n FROM b) FROM a").fetchone() == (3, 3)
    plain.close()

    fresh = reader.connection()
    assert reader.version == v2
    assert fresh.execute("SELECT count(*), (SELECT n FROM b) FROM a").fetchone() == (8, 8)
    reader.close()


def test_a_dashboard_kernels_duckdb_takes_the_servers_memory_limit_and_threads(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """painel serve sets PAINEL_DUCKDB_* for its kernels (PainelVoila.kernel_duckdb_*): every
    read-only connection there, scoped views' attached catalog included, takes them; a run
    started from a kernel does not inherit them."""
    from painel.store import Reader
    from painel.wire import DUCKDB_MEMORY_ENV, DUCKDB_THREADS_ENV, without_request_state

    publish(store)
    monkeypatch.setenv(DUCKDB_MEMORY_ENV, "96MB")
    monkeypatch.setenv(DUCKDB_THREADS_ENV, "1")
    reader, attached = Reader(store, DS), Reader(store, DS, attach_as="v")
    for con in (store.connect(DS), reader.connection(), attached.connection()):
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        assert (limit, threads) in (("96.0 MiB", 1), ("91.5 MiB", 1)), (limit, threads)
        con.close()
    assert not {DUCKDB_MEMORY_ENV, DUCKDB_THREADS_ENV} & set(without_request_state(os.environ))
    monkeypatch.delenv(DUCKDB_MEMORY_ENV)
    monkeypatch.setenv(DUCKDB_THREADS_ENV, "no")
    con = store.connect(DS)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] >= 1
    con.close()
