"""Who may see what: roles, grants and the viewer. Values only, no accounts or passwords.

- A **role** decides which dashboards a user may open (each dashboard lists its roles in its
  notebook metadata). The core has ``admin`` and ``analyst``; domains add theirs
  (:func:`painel.domain.roles`). An unknown role is an error everywhere (fail closed).
- A **grant** decides which rows a user sees: ``*`` (everything), ``DATASET:*`` (all of one
  dataset) or ``DATASET:KIND:ID`` (rows whose KIND column equals ID, e.g.
  ``school:regional:12``, ``progress:class:4567``). Admins see everything.

Dashboard kernels import this module (through :mod:`painel.dash`), never :mod:`painel.auth`,
so they load no password hashing.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from . import domain
from .opstate import OpState

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def roles() -> dict[str, str]:
    """Every known role and its pt-BR description (core, then each installed domain's)."""
    return domain.roles()


class AuthError(Exception):
    """A user-management problem; the message names the user, role or grant."""


class UnknownRole(AuthError):
    pass


class AccessChanged(Exception):
    """The viewer's role or grants changed (or the user was disabled) since the page opened:
    the page serves nothing more until it is reloaded."""


@dataclass(frozen=True)
class Grant:
    dataset: str  # "*" for everything
    kind: str  # "*" for the whole dataset
    id: str  # "*" with kind "*"

    @classmethod
    def parse(cls, text: str) -> Grant:
        text = text.strip()
        if text == "*":
            return cls("*", "*", "*")
        parts = text.split(":")
        if len(parts) == 2 and parts[1] == "*" and _NAME.match(parts[0]):
            return cls(parts[0], "*", "*")
        if len(parts) == 3 and _NAME.match(parts[0]) and _NAME.match(parts[1]) and parts[2]:
            if parts[2] == "*" or not re.match(r"^[A-Za-z0-9._-]{1,64}$", parts[2]):
                raise AuthError(f"grant {text!r}: the id must be letters, digits, '.', '_' or '-'")
            return cls(*parts)
        raise AuthError(
            f"grant {text!r}: expected '*', 'DATASET:*' or 'DATASET:KIND:ID' (e.g. school:regional:12)"
        )

    def __str__(self) -> str:
        if self.dataset == "*":
            return "*"
        if self.kind == "*":
            return f"{self.dataset}:*"
        return f"{self.dataset}:{self.kind}:{self.id}"

    def covers_dataset(self, dataset: str) -> bool:
        return self.dataset == "*" or (self.dataset == dataset and self.kind == "*")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: what the scoped query layer filters by."""

    username: str
    role: str
    grants: frozenset[Grant] = field(default_factory=frozenset)
    display_name: str = ""

    def __post_init__(self) -> None:
        if self.role not in roles():
            raise UnknownRole(f"user {self.username!r} has unknown role {self.role!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees_all(self, dataset: str) -> bool:
        return self.is_admin or any(g.covers_dataset(dataset) for g in self.grants)

    def ids(self, dataset: str, kind: str) -> list[str]:
        """The ids this viewer holds for ``dataset:kind`` (empty when none)."""
        return sorted({g.id for g in self.grants if g.dataset == dataset and g.kind == kind})

    def label(self) -> str:
        return self.display_name or self.username


def validate_role(role: str) -> str:
    known = roles()
    if role not in known:
        raise UnknownRole(f"unknown role {role!r} (roles: {', '.join(known)})")
    return role


def load_viewer(opstate: OpState, username: str) -> Viewer:
    """The active user's role and grants, read fresh; raises AuthError for unknown or disabled users."""
    with opstate.connect() as con:
        return read_viewer(con, username)


def read_viewer(con: sqlite3.Connection, username: str) -> Viewer:
    """:func:`load_viewer` on an open connection of the operational store."""
    row = con.execute(
        "SELECT username, role, display_name, disabled FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is None or row["disabled"]:
        raise AuthError(f"user {username!r} does not exist or is disabled")
    grants = frozenset(
        Grant.parse(r["grant_"])
        for r in con.execute("SELECT grant_ FROM grants WHERE username = ?", [username])
    )
    return Viewer(row["username"], row["role"], grants, row["display_name"])
