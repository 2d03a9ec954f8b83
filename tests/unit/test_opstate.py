"""The operational store: migration streams (core and one per domain), an upgrade in place of a
release-0.1 database, and many processes opening a new database at once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from painel import opstate, progress
from painel.auth import Users
from painel.opstate import CORE, CORE_MIGRATIONS, OpState
from painel_testing import REPO

RELEASE_0_1 = REPO / "tests" / "fixtures" / "opstate-release-0.1.sql"


def streams_of(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return dict(con.execute("SELECT stream, version FROM schema_streams"))


def tables_of(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_fresh_database_reaches_every_streams_newest_schema(tmp_path):
    op = OpState(tmp_path / "op.sqlite")
    with op.connect() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert "progress" in {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        assert con.execute("SELECT count(*) FROM progress_tags").fetchone()[0] == 0
    wanted = {name: len(migrations) for name, migrations in opstate.streams().items()}
    assert streams_of(op.path) == wanted
    assert wanted[CORE] == len(CORE_MIGRATIONS) and wanted["progress"] == len(progress.MIGRATIONS)
    assert {"users", "grants", "sessions", "login_failures", "runs", "schedule_state"} <= tables_of(
        op.path
    )


def test_migrate_is_idempotent_and_keeps_data(tmp_path):
    op = OpState(tmp_path / "op.sqlite")
    Users(op).add("maria", "a long secret", "admin")
    first = op.migrate()
    for _ in range(3):
        assert OpState(op.path).migrate() == first
    assert Users(op).authenticate("maria", "a long secret") is not None


def test_a_release_0_1_database_upgrades_in_place(tmp_path):
    """The fixture is a dump of a database the previous release made (one user_version stream)."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(RELEASE_0_1.read_text(encoding="utf-8"))
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    reached = OpState(path).migrate()
    assert reached[CORE] == len(CORE_MIGRATIONS) and reached["progress"] == len(progress.MIGRATIONS)
    assert streams_of(path) == {name: len(m) for name, m in opstate.streams().items()}
    op = OpState(path)
    with op.connect() as con:
        assert [r[0] for r in con.execute("SELECT username FROM users ORDER BY 1")] == [
            "admin",
            "tutora.ana",
        ]
        assert con.execute("SELECT grant_ FROM grants").fetchone()[0] == "progress:class:5001"
        tag = con.execute("SELECT tag_id, track, cademi_name FROM progress_tags").fetchone()
        assert tuple(tag) == (5001, "analista", "Turma 01 - Analista")
        assert '"done": 10' in con.execute("SELECT progress FROM runs").fetchone()[0]
    viewer = Users(op).viewer("tutora.ana")
    assert viewer.role == "tutor" and viewer.ids("progress", "class") == ["5001"]


def test_a_newly_installed_domain_stream_starts_from_zero_on_an_existing_database(
    tmp_path, monkeypatch
):
    op = OpState(tmp_path / "op.sqlite")
    Users(op).add("maria", "a long secret", "admin")
    before = streams_of(op.path)
    wanted = {
        **opstate.streams(),
        "garden": [
            "CREATE TABLE garden_beds (id INTEGER PRIMARY KEY)",
            "ALTER TABLE garden_beds ADD COLUMN name TEXT",
        ],
    }
    monkeypatch.setattr(opstate, "streams", lambda: wanted)
    assert OpState(op.path).migrate()["garden"] == 2
    assert streams_of(op.path) == {**before, "garden": 2}
    assert "garden_beds" in tables_of(op.path)
    assert Users(op).authenticate("maria", "a long secret") is not None


def test_a_failed_migration_leaves_no_half_state_and_other_streams_untouched(tmp_path, monkeypatch):
    op = OpState(tmp_path / "op.sqlite")
    op.migrate()
    before = streams_of(op.path)
    broken = "CREATE TABLE half_done (x INTEGER); CREATE TABLE broken (;"
    wanted = {**opstate.streams(), "garden": [broken]}
    monkeypatch.setattr(opstate, "streams", lambda: wanted)
    with pytest.raises(sqlite3.OperationalError):
        OpState(op.path).migrate()
    assert streams_of(op.path) == before
    assert "half_done" not in tables_of(op.path)


def test_a_database_newer_than_this_release_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA user_version = 9")
    with pytest.raises(sqlite3.DatabaseError, match="schema version 9"):
        OpState(path).migrate()


def test_concurrent_first_opens_never_fail(tmp_path):
    """Switching a new file to WAL takes a lock SQLite's busy handler does not wait for."""
    for i in range(250):  # the race shows in ~2 % of rounds without the retry
        path = tmp_path / f"op{i}.sqlite"
        errors: list[str] = []
        barrier = threading.Barrier(8)

        def open_it(path=path, barrier=barrier, errors=errors) -> None:
            barrier.wait()
            try:
                with OpState(path).connect() as con:
                    con.execute("SELECT count(*) FROM runs").fetchone()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [], f"round {i}: {errors}"
