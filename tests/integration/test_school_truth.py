"""Every rule I1-I14 of the ``school`` job against the generator's ground truth.

``painel generate school`` plants each inconsistency at known rates, with look-alike decoys,
and writes beside each dump the findings the rules must return (docs/school.md). The job
(its SQL, an implementation independent of the generator's) loads the dumps of ~20 school
days in one run — the older ones for their daily attendance — and must find exactly the
planted cases: recall 1.0, no false positive, no decoy.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from painel.config import Paths
from painel.school.etl import job as school
from painel.school.generate import dump_dates, generate
from painel.store import Store

pytestmark = pytest.mark.timeout(600)

# the ids that make a finding's key, per rule and kind (docs/school.md, "Inconsistency rules")
MATRICULA = ("id_matricula",)
KEYS: dict[str, tuple[str, ...]] = {
    "I1": MATRICULA,
    "I2": MATRICULA,
    "I3": MATRICULA,
    "I4": MATRICULA,
    "I5": ("id_turma",),
    "I6": ("id_turma", "componente"),
    "I7": ("id_matricula", "componente", "bimestre"),
    "I8": ("id_matricula", "componente", "bimestre"),
    "I11": ("co_pessoa_fisica",),
    "I12": MATRICULA,
    "I13": MATRICULA,
    "I14": MATRICULA,
}


def found_key(rule: str, row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    if rule in ("I9", "I10"):  # (a, b) per component and bimestre; (c) other keys
        if row["dt_aula"] is not None:
            names: tuple[str, ...] = ("id_matricula", "dt_aula")
        elif row["bimestre"] is None:
            names = ("id_matricula", "componente")
        else:
            names = ("id_matricula", "componente", "bimestre")
    else:
        names = KEYS[rule]
    values = {n: (row[n].isoformat() if isinstance(row[n], date) else row[n]) for n in names}
    return tuple(sorted(values.items()))


def truth_key(item: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in item.items() if k != "why" and v is not None))


def run(home: Path, dumps: Path) -> None:
    paths = Paths.from_env().ensure()
    assert paths.home == home
    job = school.prepare(
        paths,
        {"source": "local", "directory": str(dumps), "stable_wait_s": 0.0},
        log=lambda _line: None,
    )
    build = school.new_build(job)
    job.build(build)
    job.publish(build)


@pytest.mark.parametrize(
    ("day", "since", "seed"),
    [
        (date(2026, 6, 1), date(2026, 5, 4), 3),  # bimestre 1 due, 2 running
        (date(2026, 11, 30), date(2026, 10, 30), 11),  # three bimestres due, the 4th running
    ],
)
def test_rules_find_exactly_the_planted_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, day: date, since: date, seed: int
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PAINEL_HOME", str(home))
    dumps = tmp_path / "dumps"
    zips = generate(dumps, scale=0.002, day=day, seed=seed, since=since)
    assert len(zips) == len(dump_dates(day, since)) >= 15
    run(home, dumps)
    truth = json.loads((dumps / zips[-1].name.replace(".zip", ".truth.json")).read_text())
    con = Store(home / "store").connect("school")
    cur = con.execute("SELECT * FROM inconsistencias")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    con.close()
    found: dict[str, set[Any]] = {}
    for row in rows:
        found.setdefault(row["regra"], set()).add(found_key(row["regra"], row))
    planted_total = 0
    for rule in [f"I{n}" for n in range(1, 15)]:
        want = {truth_key(i) for i in truth["findings"][rule]}
        got = found.get(rule, set())
        decoys = {truth_key(i) for i in truth["decoys"][rule]}
        missed, extra = want - got, got - want
        assert not missed, (
            f"{rule}: {len(missed)} planted cases not found, e.g. {sorted(missed)[:3]}"
        )
        assert not extra, f"{rule}: {len(extra)} false positives, e.g. {sorted(extra)[:3]}"
        assert not (got & decoys), f"{rule}: a decoy was reported"
        planted_total += len(want)
    assert planted_total == len(rows)
    # every rule had cases to find and decoys to resist (the test is not vacuous)
    assert all(truth["findings"][f"I{n}"] for n in range(1, 15))
    assert sum(len(v) for v in truth["decoys"].values()) >= 14
