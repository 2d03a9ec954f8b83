"""Operational state: users, grants, sessions, runs, schedule state, class tags.

Many processes write here at once (the web server on every login, ETL runs, schedulers),
so it lives in SQLite in WAL mode, never in the published DuckDB files. The schema is
versioned: ``MIGRATIONS[i]`` takes the database from ``user_version == i`` to ``i + 1``;
each migration runs in one transaction, so a database is never half-migrated.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL,
        display_name  TEXT NOT NULL DEFAULT '',
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE grants (
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        grant_   TEXT NOT NULL,
        PRIMARY KEY (username, grant_)
    );
    CREATE TABLE sessions (
        id_hash      TEXT PRIMARY KEY,
        username     TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        created_at   TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        remote_ip    TEXT NOT NULL DEFAULT '',
        user_agent   TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_user ON sessions(username);
    CREATE TABLE login_failures (
        username  TEXT NOT NULL,
        at        TEXT NOT NULL,
        remote_ip TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX login_failures_user ON login_failures(username, at);
    CREATE TABLE runs (
        run_id       TEXT PRIMARY KEY,
        job          TEXT NOT NULL,
        status       TEXT NOT NULL,      -- running | succeeded | failed
        trigger_     TEXT NOT NULL,      -- manual | schedule
        attempt      INTEGER NOT NULL DEFAULT 1,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        duration_s   REAL,
        error        TEXT,
        parameters   TEXT NOT NULL,      -- JSON
        notebook_out TEXT NOT NULL,
        published    TEXT NOT NULL DEFAULT '[]',  -- JSON list of "dataset@version"
        pid          INTEGER,
        host         TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX runs_job ON runs(job, started_at);
    CREATE TABLE schedule_state (
        job           TEXT PRIMARY KEY,
        last_fire_at  TEXT,               -- the newest cron fire time that was claimed
        retry_at      TEXT,               -- a failed run's next attempt, if any
        retry_attempt INTEGER NOT NULL DEFAULT 0,
        last_run_id   TEXT
    );
    """,
    # 2: the learning-progress suite
    """
    CREATE TABLE progress_tags (
        tag_id        INTEGER PRIMARY KEY,   -- the class tag's id in Cademi
        track         TEXT NOT NULL,         -- a key of the progress job's `tracks`
        class_number  INTEGER NOT NULL,      -- "Turma 12" -> 12, unique within a track
        cademi_name   TEXT NOT NULL DEFAULT '',
        registered_by TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        active        INTEGER NOT NULL DEFAULT 1,
        removed_by    TEXT,
        removed_at    TEXT
    );
    CREATE UNIQUE INDEX progress_tags_class ON progress_tags(track, class_number);
    ALTER TABLE runs ADD COLUMN progress TEXT;   -- JSON {done, total, eta_s} while a run goes on
    """,
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class OpState:
    """Handle on the operational SQLite database; cheap to create, opens a connection per use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._migrated = False

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA synchronous = NORMAL")
        return con

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns the version reached."""
        con = self._open()
        try:
            _enable_wal(con)
            while True:
                con.execute("BEGIN IMMEDIATE")
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version >= len(MIGRATIONS):
                    con.execute("COMMIT")
                    break
                try:
                    for statement in _split_sql(MIGRATIONS[version]):
                        con.execute(statement)
                    con.execute(f"PRAGMA user_version = {version + 1}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            self._migrated = True
            return version
        finally:
            con.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; use ``with tx(con):`` for multi-statement writes."""
        if not self._migrated:
            self.migrate()
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (BEGIN IMMEDIATE), committed on success."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")


def _enable_wal(con: sqlite3.Connection, attempts: int = 300) -> None:
    """Switch to WAL; the switch takes an exclusive lock that SQLite's busy handler does not
    wait for, so several processes opening a new database at once retry here."""
    for attempt in range(attempts):
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.01 + 0.002 * attempt)


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
