"""``painel demo prepare``: the demo source extract and the demo users (idempotent)."""

from __future__ import annotations

from ..auth import AuthError, Users
from ..config import Paths
from ..opstate import OpState
from . import source

# Demo accounts only: the data is synthetic and the server listens on loopback by default.
DEMO_USERS = [
    # username, password, role, grants, display name
    ("admin", "demo-admin", "admin", [], "Administração"),
    ("analista", "demo-analista", "analyst", ["*"], "Analista de dados"),
    ("sre.metro", "demo-sre-metro", "staff", ["demo:regional:1"], "SRE Metropolitana A"),
    ("sre.jf", "demo-sre-jf", "staff", ["demo:regional:2"], "SRE Juiz de Fora"),
    ("escola.31003001", "demo-escola", "staff", ["demo:school:31003001"], "E.E. de Uberlândia"),
]


def add_users(paths: Paths, accounts: list[tuple[str, str, str, list[str], str]]) -> list[str]:
    """Create each (username, password, role, grants, display name) unless it exists."""
    users = Users(OpState(paths.opstate))
    out = []
    for name, password, role, grants, display in accounts:
        try:
            users.add(name, password, role, grants=grants, display_name=display)
            out.append(f"demo user {name} created")
        except AuthError:
            out.append(f"demo user {name} already exists")
    return out


def prepare(paths: Paths) -> list[str]:
    out = []
    src = source.generate(paths.sources / "demo")
    out.append(f"demo source extract: {src}")
    out.extend(add_users(paths, DEMO_USERS))
    from ..progress import demo as progress_demo

    out.extend(progress_demo.prepare(paths))
    return out


def logins_text() -> str:
    lines = ["Demo logins (user / password — what they see):"]
    from ..progress.demo import USERS

    for name, password, role, grants, display in DEMO_USERS + USERS:
        scope = ", ".join(grants) if grants else "everything"
        lines.append(f"  {name:<16} {password:<15} {role:<8} {display} [{scope}]")
    return "\n".join(lines)
