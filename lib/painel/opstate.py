"""Operational state: users, grants, sessions, runs, schedule state, and each domain's own tables.

Many processes write here at once (the web server on every login, ETL runs, schedulers),
so it lives in SQLite in WAL mode, never in the published DuckDB files.

The schema is versioned in numbered *streams*: the core's (:data:`CORE_MIGRATIONS`) and one
per installed domain (``Domain.migrations``). ``migrations[i]`` takes a stream from version
``i`` to ``i + 1``; table ``schema_streams`` records each stream's version. Each migration
runs in one transaction, so a database is never half-migrated, and a stream added later (a
newly installed domain) starts from 0 on an existing database.

Release 0.1 kept one stream in ``PRAGMA user_version``; such a database is converted in
place the first time it is opened (:data:`LEGACY_STREAMS`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

CORE = "core"
CORE_MIGRATIONS: list[str] = [
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
    # 2: the run service's progress record
    """
    ALTER TABLE runs ADD COLUMN progress TEXT;   -- JSON {step, done, total, eta_s, at} while a run goes on
    """,
    # 3: login throttling counts failures per client too, and deletes them by age
    """
    CREATE INDEX login_failures_client ON login_failures(remote_ip, at);
    CREATE INDEX login_failures_at ON login_failures(at);
    """,
    # 4: what dashboard kernels ask of the server (painel.service)
    """
    CREATE TABLE service_requests (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT NOT NULL,             -- 'run', or a domain's ('progress.cademi_tags')
        arg          TEXT NOT NULL DEFAULT '',
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        claimed_at   TEXT,
        finished_at  TEXT,
        result       TEXT,                      -- JSON
        error        TEXT
    );
    CREATE INDEX service_requests_open ON service_requests(claimed_at, id);
    """,
    # 5: e-mail (painel.mail): users' addresses, and the outbox every mail goes through
    """
    ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';   -- '' when none
    CREATE TABLE mail_outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        dedup_key       TEXT NOT NULL UNIQUE,   -- queuing the same key again is a no-op
        kind            TEXT NOT NULL,          -- 'run.failed', 'test', a domain's ('procurement.daily')
        recipient       TEXT NOT NULL,          -- one address
        username        TEXT,                   -- the user it is for, if any (kept after the user goes)
        subject         TEXT NOT NULL,
        body_text       TEXT NOT NULL,
        body_html       TEXT NOT NULL,
        message_id      TEXT NOT NULL,          -- fixed when queued: a resend is the same message
        status          TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | sent | given_up
        attempts        INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        last_attempt_at TEXT,
        next_attempt_at TEXT NOT NULL,
        claimed_until   TEXT,                   -- while 'sending': after this, the pass is presumed dead
        sent_at         TEXT,
        last_error      TEXT
    );
    CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
    """,
    # 6: the audit log (painel.audit): append-only; only entries older than the retention go
    """
    CREATE TABLE audit_log (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      TEXT NOT NULL,                 -- UTC, ISO 8601
        actor   TEXT NOT NULL,                 -- a username, 'cli:<os user>', 'painel' (a job)
        action  TEXT NOT NULL,                 -- painel.audit.ACTIONS
        target  TEXT NOT NULL DEFAULT '',      -- what it was done to (a user, a file, a dataset...)
        client  TEXT NOT NULL DEFAULT '',      -- where from (the client's address, a host)
        detail  TEXT NOT NULL DEFAULT '{}'     -- JSON: the rest (rows, scope, from/to...)
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE INDEX audit_log_actor ON audit_log(actor, at);
    CREATE INDEX audit_log_action ON audit_log(action, at);
    CREATE TABLE audit_settings (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        retention_days INTEGER NOT NULL CHECK (retention_days >= 30)
    );
    INSERT INTO audit_settings VALUES (1, 1825);
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_kept BEFORE DELETE ON audit_log
    WHEN julianday(OLD.at) > julianday('now') - (SELECT retention_days FROM audit_settings)
    BEGIN SELECT RAISE(ABORT, 'the audit log keeps its entries for the retention period'); END;
    """,
    # 7: usage monitoring (painel.usage): every event, and a day's figures per user and panel
    """
    CREATE TABLE usage_events (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        ts       TEXT NOT NULL,                -- UTC, ISO 8601
        dia      TEXT NOT NULL,                -- the local date (America/Sao_Paulo)
        username TEXT NOT NULL,
        perfil   TEXT NOT NULL DEFAULT '',     -- the role
        sre      TEXT NOT NULL DEFAULT '',     -- the user's SRE, school or organ (first grant of each)
        escola   TEXT NOT NULL DEFAULT '',
        orgao    TEXT NOT NULL DEFAULT '',
        painel   TEXT NOT NULL DEFAULT '',     -- the dashboard's notebook name ('' for login/logout)
        evento   TEXT NOT NULL,                -- login | logout | page_view | interaction | export | error
        widget   TEXT NOT NULL DEFAULT '',
        linhas   INTEGER,
        ms       REAL
    );
    CREATE INDEX usage_events_dia ON usage_events(dia);
    CREATE TABLE usage_daily (
        dia          TEXT NOT NULL,
        username     TEXT NOT NULL,
        painel       TEXT NOT NULL,
        perfil       TEXT NOT NULL DEFAULT '',
        sre          TEXT NOT NULL DEFAULT '',
        page_views   INTEGER NOT NULL DEFAULT 0,
        interactions INTEGER NOT NULL DEFAULT 0,
        exports      INTEGER NOT NULL DEFAULT 0,
        errors       INTEGER NOT NULL DEFAULT 0,
        logins       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (dia, username, painel)
    );
    CREATE TABLE usage_spool (
        file   TEXT PRIMARY KEY,               -- a spool file's name
        offset INTEGER NOT NULL                -- the bytes already ingested
    );
    """,
    # 8: report bursts (painel.reports): one row per report and scope of a burst; mail with files
    """
    CREATE TABLE report_items (
        burst      TEXT NOT NULL,              -- report:period, e.g. 'rede_escola:2026-12-01'
        scope      TEXT NOT NULL,              -- grant kind:id, e.g. 'school:31212401'
        status     TEXT NOT NULL,              -- running | done | failed
        version    TEXT,                       -- the dataset version it was made from
        folder     TEXT,                       -- where its files went, relative to the output root
        files      TEXT NOT NULL DEFAULT '[]', -- JSON: the file names delivered
        recipients INTEGER NOT NULL DEFAULT 0, -- mails queued for it
        error      TEXT,
        attempts   INTEGER NOT NULL DEFAULT 0,
        pid        INTEGER,
        started_at TEXT,
        finished_at TEXT,
        duration_s REAL,
        PRIMARY KEY (burst, scope)
    );
    ALTER TABLE mail_outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
    """,
]


# Release 0.1's single user_version stream, as streams: its migration 2 added both the runs'
# progress column (now core 2) and the learning-progress domain's tag registry (progress 1).
LEGACY_STREAMS: dict[int, dict[str, int]] = {1: {CORE: 1}, 2: {CORE: 2, "progress": 1}}


def streams() -> dict[str, list[str]]:
    """Every migration stream: the core's, then each installed domain's."""
    from .domain import domains

    out: dict[str, list[str]] = {CORE: CORE_MIGRATIONS}
    for d in domains():
        if d.migrations:
            out[d.name] = list(d.migrations)
    return out


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

    def migrate(self) -> dict[str, int]:
        """Bring every stream to its newest version; returns each stream's version reached."""
        wanted = streams()
        con = self._open()
        try:
            current = _stream_versions(con)
            if current is not None and all(current.get(n, 0) >= len(m) for n, m in wanted.items()):
                self._migrated = True  # the common case: a read, no write lock
                return {n: current.get(n, 0) for n in wanted}
            _enable_wal(con)
            _adopt_legacy(con)
            reached: dict[str, int] = {}
            for stream, migrations in wanted.items():
                while True:
                    con.execute("BEGIN IMMEDIATE")
                    row = con.execute(
                        "SELECT version FROM schema_streams WHERE stream = ?", [stream]
                    ).fetchone()
                    version = row[0] if row else 0
                    if version >= len(migrations):
                        con.execute("COMMIT")
                        reached[stream] = version
                        break
                    try:
                        for statement in _split_sql(migrations[version]):
                            con.execute(statement)
                        con.execute(
                            "INSERT INTO schema_streams (stream, version) VALUES (?, ?) "
                            "ON CONFLICT (stream) DO UPDATE SET version = excluded.version",
                            [stream, version + 1],
                        )
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
            self._migrated = True
            return reached
        finally:
            con.close()

    def reader(self) -> sqlite3.Connection:
        """A long-lived connection in autocommit mode, for a process that reads often (a
        served kernel checks its visitor's access before every query). Each statement sees
        the latest commit; the caller closes it."""
        if not self._migrated:
            self.migrate()
        return self._open()

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


def _stream_versions(con: sqlite3.Connection) -> dict[str, int] | None:
    """Each stream's version, or None before ``schema_streams`` exists."""
    try:
        return {r[0]: r[1] for r in con.execute("SELECT stream, version FROM schema_streams")}
    except sqlite3.OperationalError:
        return None


def _adopt_legacy(con: sqlite3.Connection) -> None:
    """Create ``schema_streams``; on a release-0.1 database, seed it from ``user_version``."""
    con.execute("BEGIN IMMEDIATE")
    try:
        exists = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_streams'"
        ).fetchone()
        if not exists:
            legacy = con.execute("PRAGMA user_version").fetchone()[0]
            if legacy not in (0, *LEGACY_STREAMS):
                raise sqlite3.DatabaseError(
                    f"operational store has schema version {legacy}, newer than this painel knows"
                )
            con.execute(
                "CREATE TABLE schema_streams (stream TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            con.executemany(
                "INSERT INTO schema_streams (stream, version) VALUES (?, ?)",
                list(LEGACY_STREAMS.get(legacy, {}).items()),
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


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
    """The statements of ``script``, a trigger's ``BEGIN ... END`` kept whole."""
    out, statement = [], ""
    for part in script.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                out.append(statement.strip())
            statement = ""
    if statement.strip(" \n;"):
        out.append(statement.strip().rstrip(";"))
    return out
