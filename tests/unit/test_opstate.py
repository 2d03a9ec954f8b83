"""The operational store: migrations, and many processes opening a new database at once."""

from __future__ import annotations

import threading

from painel.opstate import MIGRATIONS, OpState


def test_fresh_database_reaches_the_newest_schema(tmp_path):
    op = OpState(tmp_path / "op.sqlite")
    with op.connect() as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cols = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        assert "progress" in cols
        assert con.execute("SELECT count(*) FROM progress_tags").fetchone()[0] == 0


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
