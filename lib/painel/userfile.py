"""``painel users import FILE.csv``: thousands of accounts from one spreadsheet, idempotently.

One line per person: ``email``, ``nome`` (display name), ``papel`` (role) and ``acessos``
(grants, separated by spaces, ``;`` or ``|``); English headers (``name``, ``role``, ``grants``)
are read too. The file may be UTF-8 (with or without BOM) or Windows-1252 (what Excel saves in
Brazil), separated by ``,`` or ``;``.

The file says how each of its people should be: a missing account is created (its username is
the e-mail, lower case; it has no password: it signs in through the institution's single sign-on,
or an admin sets one), an existing one gets the file's name, role and grants (grants not in the
file are removed from it), an identical one is left alone — so importing the same file twice
changes nothing. Accounts not in the file are not touched. A line that cannot be read (a bad
e-mail, an unknown role, a bad grant, an e-mail twice) is rejected with its number and why;
the others are imported. Everything is one transaction, and each change an audit entry.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import audit
from .access import AuthError, Grant, validate_role
from .auth import NO_PASSWORD
from .opstate import OpState, iso, utcnow

HEADERS = {
    "email": "email",
    "e-mail": "email",
    "nome": "nome",
    "name": "nome",
    "papel": "papel",
    "role": "papel",
    "perfil": "papel",
    "acessos": "acessos",
    "grants": "acessos",
}
SPLIT = re.compile(r"[\s;|]+")


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass(frozen=True)
class Person:
    line: int
    email: str
    nome: str
    papel: str
    acessos: tuple[str, ...]

    @property
    def username(self) -> str:
        return self.email


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # username -> what changes
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, why)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected"
        )


def read(path: Path) -> tuple[list[Person], list[tuple[int, str]]]:
    """The people of ``path`` and the rejected lines ``(line, why)``."""
    from .mail import AddressError, validate_address

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise ImportFileError(f"{path}: the file is empty")
    names = [HEADERS.get(h.strip().lower(), "") for h in header]
    missing = [c for c in ("email", "papel") if c not in names]
    if missing:
        raise ImportFileError(
            f"{path}: no column {' or '.join(missing)} in the header "
            "(columns: email, nome, papel, acessos)"
        )
    people: list[Person] = []
    rejected: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {n: c.strip() for n, c in zip(names, cells, strict=False) if n}
        try:
            email = validate_address(row.get("email", "")).lower()
        except AddressError as exc:
            rejected.append((number, f"email: {exc}"))
            continue
        if email in seen:
            rejected.append((number, f"email {email} already on line {seen[email]}"))
            continue
        try:
            papel = validate_role(row.get("papel", ""))
            acessos = tuple(
                sorted({str(Grant.parse(g)) for g in SPLIT.split(row.get("acessos", "")) if g})
            )
        except AuthError as exc:
            rejected.append((number, str(exc)))
            continue
        if len(email) > 64:
            rejected.append((number, f"email {email}: longer than 64 characters"))
            continue
        seen[email] = number
        people.append(Person(number, email, row.get("nome", "")[:200], papel, acessos))
    return people, rejected


def apply(opstate: OpState, path: Path, *, actor: str, dry_run: bool = False) -> Report:
    """Import ``path`` (see the module); with ``dry_run`` say what would change, change nothing."""
    people, rejected = read(path)
    report = Report(rejected=rejected)
    now = iso(utcnow())
    with opstate.transaction() as con:
        users = {
            r["username"]: r
            for r in con.execute("SELECT username, role, display_name, email FROM users")
        }
        grants: dict[str, set[str]] = {}
        for r in con.execute("SELECT username, grant_ FROM grants"):
            grants.setdefault(r["username"], set()).add(r["grant_"])
        for p in people:
            old = users.get(p.username)
            if old is None:
                report.added.append(p.username)
                if dry_run:
                    continue
                con.execute(
                    "INSERT INTO users (username, password_hash, role, display_name, email, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [p.username, NO_PASSWORD, p.papel, p.nome, p.email, now, now],
                )
                con.executemany(
                    "INSERT INTO grants (username, grant_) VALUES (?, ?)",
                    [(p.username, g) for g in p.acessos],
                )
                audit.record(
                    con,
                    "user_added",
                    actor=actor,
                    target=p.username,
                    detail={
                        "papel": p.papel,
                        "acessos": list(p.acessos),
                        "nome": p.nome,
                        "email": p.email,
                        "arquivo": Path(path).name,
                        "linha": p.line,
                    },
                )
                continue
            have = grants.get(p.username, set())
            want = set(p.acessos)
            what: list[str] = []
            if old["role"] != p.papel:
                what.append(f"papel {old['role']} -> {p.papel}")
            if old["display_name"] != p.nome:
                what.append(f"nome {old['display_name']!r} -> {p.nome!r}")
            if old["email"] != p.email:
                what.append(f"email {old['email'] or '-'} -> {p.email}")
            what += [f"+{g}" for g in sorted(want - have)]
            what += [f"-{g}" for g in sorted(have - want)]
            if not what:
                report.unchanged += 1
                continue
            report.changed[p.username] = what
            if dry_run:
                continue
            con.execute(
                "UPDATE users SET role = ?, display_name = ?, email = ?, updated_at = ? "
                "WHERE username = ?",
                [p.papel, p.nome, p.email, now, p.username],
            )
            con.executemany(
                "DELETE FROM grants WHERE username = ? AND grant_ = ?",
                [(p.username, g) for g in have - want],
            )
            con.executemany(
                "INSERT INTO grants (username, grant_) VALUES (?, ?)",
                [(p.username, g) for g in want - have],
            )
            audit.record(
                con,
                "user_changed",
                actor=actor,
                target=p.username,
                detail={"mudancas": what, "arquivo": Path(path).name, "linha": p.line},
            )
    return report
