"""``painel demo``: every installed domain's demo, behind the core's accounts.

``prepare`` marks the data directory as a demo one (its parameters come from
``parameters/demo/`` layered over ``parameters/``, see :mod:`painel.config`), creates the
demo accounts and runs each domain's demo preparation; ``services`` starts what each
domain's demo needs beside the server (API simulators).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from . import domain
from .auth import add_demo_users
from .config import Paths
from .domain import DemoUser
from .opstate import OpState

PROFILE = "demo"
CORE_USERS = (
    DemoUser("admin", "demo-admin", "admin", (), "Administração"),
    DemoUser("analista", "demo-analista", "analyst", ("*",), "Analista de dados"),
)


def users() -> list[DemoUser]:
    out = list(CORE_USERS)
    for d in domain.domains():
        out.extend(d.demo_users)
    return out


def prepare(paths: Paths, data: bool = True) -> list[str]:
    """Idempotent: a second call reuses the sources, accounts and published versions."""
    paths.set_profile(PROFILE)
    out = [f"data directory {paths.home} uses the '{PROFILE}' parameters (parameters/{PROFILE}/)"]
    out.extend(add_demo_users(OpState(paths.opstate), users()))
    from . import usage_history

    n = usage_history.write(OpState(paths.opstate))
    out.append(
        f"usage history: {n} day figures of the seed portal ({usage_history.FIRST:%d/%m/%Y} to "
        f"{usage_history.LAST:%d/%m/%Y}) for Monitoramento de Uso"
    )
    for d in domain.domains():
        if d.demo:
            out.extend(domain.resolve(d.demo)(paths, data=data))
    return out


def logins_text() -> str:
    lines = ["Demo logins (user / password — what they see):"]
    for u in users():
        scope = ", ".join(u.grants) if u.grants else "everything"
        lines.append(f"  {u.username:<16} {u.password:<17} {u.role:<12} {u.display_name} [{scope}]")
    return "\n".join(lines)


@contextlib.contextmanager
def services(paths: Paths) -> Iterator[dict[str, str]]:
    """Start every domain's demo services; yields the environment the server needs for them."""
    from . import mailcatcher

    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        # every mail the demo sends (digests, failure mails) lands here, readable in a browser
        catcher = stack.enter_context(mailcatcher.running(paths.home / "mail"))
        env.update(catcher.env())
        for key, value in catcher.env().items():  # this process's sends (a domain's services)
            stack.callback(_restore, key, os.environ.get(key))
            os.environ[key] = value
        print(
            f"mail catcher: SMTP on {catcher.smtp_host}:{catcher.smtp_port}, read the mail at "
            f"{catcher.http_url}",
            flush=True,
        )
        for d in domain.domains():
            if d.demo_services:
                env.update(stack.enter_context(domain.resolve(d.demo_services)(paths)))
        yield env


def _restore(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
