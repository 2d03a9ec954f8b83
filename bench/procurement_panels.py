"""The procurement panels at scale as their visitors meet them, in Debian's chromium (issue 11).

On the version :mod:`bench.procurement`'s year build published (a year of the state at
``PROCUREMENT_BENCH_SCALE``), served by ``painel serve`` with preheated kernels, the same
measures as :mod:`bench.school_panels`: each panel's preheated render (p50 of 3) and time to
usable, as a CGE analyst (every organ) on the CGE's panels and as the organ with the most
purchases on its own; and, as the analyst, a filter changed in the page between its first
two options (Regra, else Órgão: the bench's world has one year and no workflow played, so Ano and Situação would change nothing) 20 times: p95 of the time to the first chart
redrawn (target ≤ 150 ms) and until the page settles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.school_panels import CHANGE_TEMPLATE, measure, panels
from painel_testing import painel

FILTERS = ["Regra:", "Órgão:"]  # a change that changes the data (one year, no workflow played)
CHANGE = CHANGE_TEMPLATE.replace("__NAMES__", json.dumps(FILTERS))


def _users(home: Path) -> dict[str, tuple[str, str]]:
    import duckdb

    from painel.store import Store

    con = duckdb.connect(str(Store(home / "store").current_path("procurement")), read_only=True)
    organ = con.execute(
        "SELECT orgao_cnpj FROM contratacoes GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    out = {}
    for role, user, grant in (
        ("cge_analista", "cge.bench", "procurement:*"),
        ("orgao", "orgao.bench", f"procurement:orgao:{organ}"),
    ):
        password = f"{user}-pass-bench"
        r = painel(
            home,
            "users",
            "add",
            user,
            "--role",
            role,
            "--grant",
            grant,
            "--password-stdin",
            stdin=password + "\n",
            check=False,
        )
        assert r.returncode == 0 or "already exists" in r.stderr, r.stderr
        out[role] = (user, password)
    return out


def run(home: Path, opens: int = 3, changes: int = 20) -> dict[str, Any]:
    return measure(
        home,
        _users(home),
        panels("compras_*.ipynb"),
        changer="cge_analista",
        prefix="compras_",
        change=CHANGE,
        opens=opens,
        changes=changes,
    )
