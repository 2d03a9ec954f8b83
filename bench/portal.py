"""The portal's administration at the state's size (issue 12).

1. ``painel users import``: a CSV of 8,000 staff (the seed's ~8,000: central, 47 SREs,
   3,496 schools' directors and secretaries) imported into an empty store, the same file
   again (idempotent: nothing changes), a dry run, and the file with 5 % of the lines
   changed (new grants, roles and names); in-process (``painel.userfile.apply``), the audit
   entries included;
2. report bursts (:mod:`bench.reports`).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

N_USERS = 8000


def _write(path: Path, n: int, changed: float = 0.0) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["email", "nome", "papel", "acessos"])
        for i in range(n):
            alter = changed and i % int(1 / changed) == 0
            if i < 20:
                row = [
                    f"central{i}@educacao.mg.gov.br",
                    f"Central {i}",
                    "school_central",
                    "school:*",
                ]
            elif i < 20 + 47 * 6:
                sre = (i - 20) % 47 + 1
                row = [
                    f"sre{i}@educacao.mg.gov.br",
                    f"Servidor {i}",
                    "school_sre",
                    f"school:sre:{sre}",
                ]
            else:
                school = 31000000 + (i % 3496)
                role = "school_secretary" if i % 2 else "school_director"
                if alter:
                    role = "school_pedagogue"
                row = [
                    f"escola{i}@educacao.mg.gov.br",
                    f"Pessoa {i}",
                    role,
                    f"school:school:{school}",
                ]
            if alter:
                row[1] += " (nova função)"
            w.writerow(row)


def users_import(work: Path) -> dict[str, Any]:
    from painel.opstate import OpState
    from painel.userfile import apply

    folder = work / "users-import"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, changed_path = folder / "servidores.csv", folder / "servidores-alterado.csv"
    _write(csv_path, N_USERS)
    _write(changed_path, N_USERS, changed=0.05)
    op = OpState(folder / "painel.sqlite")
    op.migrate()
    out: dict[str, Any] = {"users": N_USERS}
    for label, path, dry in (
        ("first_s", csv_path, False),
        ("again_s", csv_path, False),
        ("dry_run_s", changed_path, True),
        ("changed_5pct_s", changed_path, False),
    ):
        t0 = time.perf_counter()
        report = apply(op, path, actor="bench", dry_run=dry)
        out[label] = time.perf_counter() - t0
        out[label.removesuffix("_s") + "_changes"] = len(report.added) + len(report.changed)
    return out


def run(work: Path) -> dict[str, Any]:
    print("users import: 8,000 staff ...", flush=True)
    result = {"users_import": users_import(work)}
    print(json.dumps(result, indent=2), flush=True)
    return result


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="painel-bench-") as tmp:
        run(Path(tmp))
