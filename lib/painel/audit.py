"""The audit log: who did what, when, from where — append-only, in the operational store.

Every change to who may see what, every file of rows that leaves painel and every decision
recorded on a page is an entry (:data:`ACTIONS`): logins (and failures), logouts, exports
(the file, its rows, the panel, the viewer's scope and filters), user and grant changes,
class-tag registrations, finding status changes, manual runs and rollbacks.

The table refuses updates, and deletes of entries younger than the retention
(``audit_settings.retention_days``, 5 years by default, at least 30 days; changing it is itself
an entry): SQLite triggers, so no code path — painel's or a hand-typed statement — rewrites
the past. :func:`purge` removes what the retention lets go (the scheduler does it daily).

Reading: :func:`search` (``painel audit``, the Auditoria page).
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .opstate import OpState, iso, utcnow

# action -> how people read it (pt-BR: the Auditoria page)
ACTIONS: dict[str, str] = {
    "login": "Entrada",
    "login_failed": "Entrada recusada",
    "logout": "Saída",
    "export": "Exportação",
    "user_added": "Usuário criado",
    "user_changed": "Usuário alterado",
    "grant": "Acesso concedido",
    "revoke": "Acesso retirado",
    "tag_registered": "Turma cadastrada",
    "tag_changed": "Turma corrigida",
    "tag_deactivated": "Turma desativada",
    "finding_status": "Situação de alerta",
    "run": "Execução manual",
    "rollback": "Versão revertida",
    "retention": "Retenção do registro",
    "report_sent": "Relatório enviado",
    "report_burst": "Relatórios gerados",
}
SYSTEM = "painel"
MIN_RETENTION_DAYS = 30


class AuditError(Exception):
    """An entry that cannot be written or a setting that cannot be made."""


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    client: str
    detail: dict[str, Any]

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def cli_actor() -> str:
    """Who runs a command on this machine: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli:?"


def record(
    target_db: OpState | sqlite3.Connection,
    action: str,
    *,
    actor: str,
    target: str = "",
    client: str = "",
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry. ``target_db``: the store, or a connection inside the transaction
    that makes the change (the entry then lands with the change, or neither does)."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r} (known: {', '.join(ACTIONS)})")
    row = [
        iso(at or utcnow()),
        str(actor or "?"),
        action,
        str(target or ""),
        str(client or ""),
        json.dumps(dict(detail or {}), ensure_ascii=False, default=str, sort_keys=True),
    ]
    sql = (
        "INSERT INTO audit_log (at, actor, action, target, client, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    if isinstance(target_db, sqlite3.Connection):
        target_db.execute(sql, row)
        return
    with target_db.connect() as con:
        con.execute(sql, row)


def search(
    opstate: OpState,
    *,
    actor: str = "",
    action: str = "",
    text: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> tuple[list[Entry], int]:
    """``(entries, total)``: the newest first, of ``actor`` and ``action`` when given, between
    ``since`` and ``until``, with ``text`` (case aside) in the target, the client or the
    detail; ``limit`` ``None``: all."""
    where, args = ["1 = 1"], []
    if actor:
        where.append("actor = ?")
        args.append(actor)
    if action:
        where.append("action = ?")
        args.append(action)
    if since is not None:
        where.append("at >= ?")
        args.append(iso(since))
    if until is not None:
        where.append("at < ?")
        args.append(iso(until))
    for word in text.split():
        where.append("(instr(lower(target || ' ' || client || ' ' || detail), lower(?)) > 0)")
        args.append(word)
    sql = " AND ".join(where)
    page = ""
    if limit is not None:
        page = " LIMIT ? OFFSET ?"
    with opstate.connect() as con:
        total = int(con.execute(f"SELECT count(*) FROM audit_log WHERE {sql}", args).fetchone()[0])
        rows = con.execute(
            "SELECT id, at, actor, action, target, client, detail FROM audit_log "
            f"WHERE {sql} ORDER BY id DESC{page}",
            [*args, *([int(limit), int(offset)] if limit is not None else [])],
        ).fetchall()
    return [_entry(r) for r in rows], total


def counts(
    opstate: OpState, since: datetime | None = None, until: datetime | None = None
) -> dict[str, int]:
    """Entries per action between ``since`` and ``until``."""
    where, args = ["1 = 1"], []
    if since is not None:
        where.append("at >= ?")
        args.append(iso(since))
    if until is not None:
        where.append("at < ?")
        args.append(iso(until))
    with opstate.connect() as con:
        rows = con.execute(
            f"SELECT action, count(*) FROM audit_log WHERE {' AND '.join(where)} GROUP BY action",
            args,
        ).fetchall()
    return {str(a): int(n) for a, n in rows}


def _entry(r: Any) -> Entry:
    try:
        detail = json.loads(r["detail"]) if r["detail"] else {}
    except ValueError:
        detail = {"texto": r["detail"]}
    return Entry(
        int(r["id"]),
        r["at"],
        r["actor"],
        r["action"],
        r["target"],
        r["client"],
        detail if isinstance(detail, dict) else {"valor": detail},
    )


def retention_days(opstate: OpState) -> int:
    with opstate.connect() as con:
        return int(con.execute("SELECT retention_days FROM audit_settings").fetchone()[0])


def set_retention(opstate: OpState, days: int, *, actor: str) -> None:
    """Keep entries ``days`` (≥ 30) days; the change is an entry."""
    if int(days) < MIN_RETENTION_DAYS:
        raise AuditError(f"the audit log keeps its entries at least {MIN_RETENTION_DAYS} days")
    with opstate.transaction() as con:
        before = int(con.execute("SELECT retention_days FROM audit_settings").fetchone()[0])
        con.execute("UPDATE audit_settings SET retention_days = ?", [int(days)])
        record(con, "retention", actor=actor, detail={"de": before, "para": int(days)})


def purge(opstate: OpState, now: datetime | None = None) -> int:
    """Delete the entries older than the retention; returns how many."""
    days = retention_days(opstate)
    # the trigger counts from the real clock: never ask it for more (and an hour short of it)
    cutoff = min(now or utcnow(), utcnow()) - timedelta(days=days, hours=1)
    with opstate.connect() as con:
        cur = con.execute("DELETE FROM audit_log WHERE at < ?", [iso(cutoff)])
        return int(cur.rowcount)
