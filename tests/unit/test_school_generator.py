"""`painel generate school`: the synthetic SIMADE/DED dumps, their encoding, their consistency
from one date to the next, and their truth files (checked against a plain-Python reading of
docs/school.md's rules, tests/school_reference.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import school_reference
from painel.school import contract
from painel.school.generate import DEFAULT_RATES, GenerateError, dump_dates, generate

TINY = 0.0005
DAY = date(2026, 11, 30)  # bimestres 1-3 due, 4 not posted yet
SINCE = date(2026, 10, 28)  # 23 dumps: enough history for I14
NAMED_FILES = ("escola.csv", "turma.csv", "aluno.csv")


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def _truth(z: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        z.with_name(z.name.removesuffix(".zip") + ".truth.json").read_text()
    )
    return doc


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every school day's dump from SINCE to DAY at a tiny scale."""
    return generate(tmp_path_factory.mktemp("series"), scale=TINY, day=DAY, since=SINCE)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dump at a scale where row counts are meaningful (3,000 students)."""
    return generate(tmp_path_factory.mktemp("small"), scale=0.002, day=DAY, seed=3)[0]


# ---- arguments ------------------------------------------------------------------------------
def test_dump_dates_are_school_days_and_the_date_itself() -> None:
    dates = dump_dates(date(2026, 11, 22), since=date(2026, 11, 13))  # a Sunday; 20/11 holiday
    assert dates == [date(2026, 11, 13), date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18),
                     date(2026, 11, 19), date(2026, 11, 22)]  # fmt: skip
    assert dump_dates(DAY) == [DAY]


@pytest.mark.parametrize(
    ("day", "since", "message"),
    [
        (date(2026, 1, 20), None, "outside school year 2026"),
        (date(2026, 2, 9), None, "outside school year 2026"),  # the first school day: no D - 1
        (date(2026, 6, 1), date(2026, 6, 10), "after --date"),
        (date(2026, 6, 1), date(2026, 1, 2), "outside school year"),
    ],
)
def test_dates_outside_the_year_are_refused(day: date, since: date | None, message: str) -> None:
    with pytest.raises(GenerateError, match=message):
        dump_dates(day, since)


def test_bad_scale_and_rates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match="--scale"):
        generate(tmp_path, scale=0, day=DAY)
    with pytest.raises(GenerateError, match="unknown rule"):
        generate(tmp_path, scale=TINY, day=DAY, rates={"I99": 0.1})
    assert not list(tmp_path.iterdir())


# ---- determinism, consistency ---------------------------------------------------------------
def test_same_arguments_give_the_same_bytes(tmp_path: Path, series: list[Path]) -> None:
    again = generate(tmp_path, scale=TINY, day=DAY, since=SINCE)
    assert [p.name for p in again] == [p.name for p in series]
    for a, b in ((series[0], again[0]), (series[-1], again[-1])):
        assert _members(a) == _members(b)
        assert a.read_bytes() == b.read_bytes()
        assert _truth(a) == _truth(b)


def test_consecutive_dates_are_consistent(series: list[Path]) -> None:
    previous: dict[str, Any] | None = None
    static = _members(series[0])
    for z in series:
        m = _members(z)
        alunos = {r["CO_PESSOA_FISICA"] for r in _rows(m["aluno.csv"])}
        mats = {r["ID_MATRICULA"]: r for r in _rows(m["matricula.csv"])}
        notas = {
            (r["ID_MATRICULA"], r["CO_COMPONENTE"], r["NU_BIMESTRE"]): r["VL_NOTA"]
            for r in _rows(m["nota.csv"])
        }
        for name in ("escola.csv", "turma.csv", "calendario.csv", "docente_turma.csv"):
            assert m[name] == static[name], name  # the same schools and turmas every day
        if previous is not None:
            assert previous["alunos"] <= alunos
            assert set(previous["mats"]) <= set(mats)
            for k, v in previous["notas"].items():  # grades only accumulate
                assert k in notas and (v == "" or notas[k] == v), k
            for i, old in previous["mats"].items():
                new = mats[i]
                if old["TP_SITUACAO_ALUNO"] != "7":
                    assert new == old  # a closed matrícula stays as it was
        previous = {"alunos": alunos, "mats": mats, "notas": notas}


def test_a_transfer_closes_one_matricula_and_opens_another(tmp_path: Path) -> None:
    from painel.school.generate.calendario import ddate
    from painel.school.generate.world import build_world

    world = build_world(TINY, 1, 2026, dict(DEFAULT_RATES))
    old, new = world.notes["transfers"]
    i = int(np.argmax(world.m["exit"][old] > world.cal.days[10]))
    t = int(world.m["exit"][old[i]])  # the transfer's school day
    k = world.cal.index(t)
    zips = generate(tmp_path, scale=TINY, day=ddate(int(world.cal.days[k + 2])), since=ddate(t))
    old_id, new_id = int(world.m["id"][old[i]]), int(world.m["id"][new[i]])
    seen = []
    for z in zips:
        mats = {int(r["ID_MATRICULA"]): r for r in _rows(_members(z)["matricula.csv"])}
        seen.append(
            (mats[old_id]["TP_SITUACAO_ALUNO"], mats.get(new_id, {}).get("TP_SITUACAO_ALUNO"))
        )
        if new_id in mats:
            before, after = mats[old_id], mats[new_id]
            assert before["CO_PESSOA_FISICA"] == after["CO_PESSOA_FISICA"]
            assert before["CO_ENTIDADE"] != after["CO_ENTIDADE"]
            assert after["DT_MATRICULA"] == ddate(t + 1).strftime("%d/%m/%Y")
            assert (
                before["DT_ENCERRAMENTO"] == ddate(t).strftime("%d/%m/%Y")
                and before["IN_TRANSFERIDO"] == "1"
            )
    # the dump of T shows it active; of T + 1 closed; the new one once T + 1 has passed
    assert seen[0] == ("7", None) and seen[1][0] == "1" and seen[-1] == ("1", "7")


# ---- encoding ---------------------------------------------------------------------------------
def test_members_are_cp1252_crlf_with_the_contract_header(series: list[Path]) -> None:
    m = _members(series[-1])
    assert list(m) == list(contract.FILES)
    for name, data in m.items():
        text = data.decode("cp1252")
        assert data.count(b"\n") == data.count(b"\r\n") > 0, name
        header = text.split("\r\n", 1)[0].split(";")
        assert tuple(header) == contract.FILES[name].column_names, name
        assert '"' not in text, name
    for name in NAMED_FILES:
        data = m[name]
        assert re.search(rb"[\x80-\x9f]", data), name  # – “ ” ’ are in every named file
        assert re.search(rb"[\xe0-\xfa]", data), name  # accented letters
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    nota = m["nota.csv"].decode("cp1252").split("\r\n")[1]
    assert re.fullmatch(r"\d{9};[A-Z_]+;[1-4];25,0;\d+,\d;(\d+,\d)?;\d\d/\d\d/\d{4}", nota)
    mat = _rows(m["matricula.csv"])[0]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", mat["DT_MATRICULA"])


def _parse(col: contract.Column, value: str) -> object:
    if col.type == "DATE":
        return date(int(value[6:]), int(value[3:5]), int(value[:2]))
    if col.type.startswith("DECIMAL"):
        assert re.fullmatch(r"-?\d+,\d", value), (col.name, value)
        return float(value.replace(",", "."))
    if col.type in ("INTEGER", "BIGINT"):
        assert re.fullmatch(r"-?\d+", value), (col.name, value)
        return int(value)
    return value


def test_every_row_obeys_the_contract(series: list[Path]) -> None:
    """Types, required fields, codes, bounds, keys and foreign keys of contract.py."""
    files = {name: _rows(data) for name, data in _members(series[-1]).items()}
    keys: dict[str, set[tuple[str, ...]]] = {}
    for name, fc in contract.FILES.items():
        rows = files[name]
        assert rows, name
        for r in rows:
            for col in fc.columns:
                v = r[col.name]
                if v == "":
                    assert not col.required, (name, col.name)
                    continue
                x = _parse(col, v)
                if col.codes is not None:
                    assert x in col.codes, (name, col.name, x)
                if col.low is not None:
                    assert col.low <= x <= col.high, (name, col.name, x)  # type: ignore[operator]
                if col.name in contract.COMPONENT_COLUMNS:
                    assert x in contract.COMPONENTES
        keys[name] = {tuple(r[k] for k in fc.key) for r in rows}
        assert len(keys[name]) == len(rows), f"duplicate key in {name}"
    for name, fc in contract.FILES.items():
        for fk in fc.foreign_keys:
            refs = {tuple(r[k] for k in fk.ref) for r in files[fk.file]}
            for r in files[name]:
                v = tuple(r[k] for k in fk.columns)
                assert "" in v or v in refs, (name, fk, v)


def test_the_daily_file_holds_the_previous_school_day_only(series: list[Path]) -> None:
    for z, expected in ((series[0], "27/10/2026"), (series[-1], "27/11/2026")):  # Tue, Mon
        days = {r["DT_AULA"] for r in _rows(_members(z)["frequencia_diaria.csv"])}
        assert days == {expected}
    assert _truth(series[-1])["first_daily"] == "2026-10-27"


def test_zips_hold_every_sre_name_and_school_code_of_the_contract(series: list[Path]) -> None:
    escolas = _rows(_members(series[-1])["escola.csv"])
    assert len(escolas) >= 4 and len({r["CO_SRE"] for r in escolas}) >= 2
    for r in escolas:
        assert re.fullmatch(r"31\d{6}", r["CO_ENTIDADE"]) and re.fullmatch(
            r"31\d{5}", r["CO_MUNICIPIO"]
        )
        assert r["NO_SRE"] == contract.SRES[int(r["CO_SRE"]) - 1]
        assert (r["CO_UF"], r["TP_DEPENDENCIA"]) == ("31", "2")


# ---- volumes --------------------------------------------------------------------------------
def test_row_counts_follow_the_state_arithmetic(small: Path) -> None:
    """docs/school.md / shared/domain/school.md §2, per student (3 bimestres posted on DAY)."""
    rows = _truth(small)["rows"]
    n = rows["aluno.csv"]
    assert 2_700 <= n <= 3_300
    per_student = {
        "matricula.csv": (1.58 / 1.5, 0.06),
        "turma.csv": (55_000 / 1.5e6, 0.25),
        "nota.csv": (14.8 * 3 / 1.5, 0.12),
        "frequencia.csv": (14.8 * 3 / 1.5, 0.12),
        "frequencia_diaria.csv": (1.0, 0.06),
        "docente_turma.csv": (0.5 / 1.5, 0.25),
    }
    for name, (ratio, tolerance) in per_student.items():
        got = rows[name] / n
        assert abs(got / ratio - 1) <= tolerance, (name, got, ratio)
    etapas = Counter(
        contract.grupo(int(r["TP_ETAPA_ENSINO"])) for r in _rows(_members(small)["matricula.csv"])
    )
    total = sum(etapas.values())
    for g, share in (("AI", 0.2), ("AF", 0.4), ("EM", 0.33), ("EJA", 0.05)):
        assert abs(etapas[g] / total - share) < 0.05, (g, etapas[g] / total)


# ---- truth ------------------------------------------------------------------------------------
def test_every_rule_has_findings_and_decoys(series: list[Path]) -> None:
    truth = _truth(series[-1])
    assert set(truth["findings"]) == set(DEFAULT_RATES) == set(truth["decoys"])
    for rule in DEFAULT_RATES:
        assert truth["findings"][rule], rule
        assert truth["decoys"][rule], rule
        assert all(d["why"] for d in truth["decoys"][rule])
    assert truth["params"]["dias_busca_ativa"] == 15
    assert {k for f in truth["findings"]["I9"] for k in f} == {
        "id_matricula",
        "componente",
        "bimestre",
        "dt_aula",
    }
    assert {k for f in truth["findings"]["I10"] for k in f} == {
        "id_matricula",
        "componente",
        "bimestre",
    }
    assert any("bimestre" not in f for f in truth["findings"]["I10"])  # (c)


def test_truth_matches_a_plain_reading_of_the_rules(series: list[Path]) -> None:
    """Every dump: the rules evaluated on the CSVs find exactly the truth, and no decoy."""
    assert school_reference.check_dumps(series, every=4) == []


def test_over_capacity_turmas_and_their_decoys(series: list[Path]) -> None:
    m = _members(series[-1])
    truth = _truth(series[-1])
    turmas = {int(r["ID_TURMA"]): r for r in _rows(m["turma.csv"])}
    active = Counter(
        int(r["ID_TURMA"])
        for r in _rows(m["matricula.csv"])
        if r["ID_TURMA"] and r["TP_SITUACAO_ALUNO"] == "7" and not r["DT_ENCERRAMENTO"]
    )

    def capacity(t: int) -> int:
        r = turmas[t]
        group = contract.grupo(int(r["TP_ETAPA_ENSINO"]))
        return (
            int(r["NU_CAPACIDADE"])
            if r["NU_CAPACIDADE"]
            else {"AI": 30, "AF": 35, "EJA": 35}.get(group, 40)
        )

    for f in truth["findings"]["I5"]:
        assert active[f["id_turma"]] > capacity(f["id_turma"])
    decoys = truth["decoys"]["I5"]
    assert {bool(turmas[d["id_turma"]]["NU_CAPACIDADE"]) for d in decoys} == {True, False}
    for d in decoys:
        assert active[d["id_turma"]] == capacity(d["id_turma"])


def test_age_decoys_sit_on_the_edges(series: list[Path]) -> None:
    m = _members(series[-1])
    alunos = {r["CO_PESSOA_FISICA"]: r for r in _rows(m["aluno.csv"])}
    mats = {int(r["ID_MATRICULA"]): r for r in _rows(m["matricula.csv"])}
    edges = set()
    for d in _truth(series[-1])["decoys"]["I4"]:
        mat = mats[d["id_matricula"]]
        born = alunos[mat["CO_PESSOA_FISICA"]]["DT_NASCIMENTO"]
        etapa = int(mat["TP_ETAPA_ENSINO"])
        age = 2026 - int(born[-4:])
        e = contract.IDADE_ESPERADA[etapa]
        edges.add("31/03" if etapa == 14 and born == "31/03/2020" else age - e)
    assert edges == {4, -1, "31/03"}


def test_rules_at_rate_zero_have_no_findings(tmp_path: Path) -> None:
    zero = {r: 0.0 for r in DEFAULT_RATES if r != "I4"}
    zips = generate(tmp_path, scale=TINY, day=DAY, since=date(2026, 11, 5), rates=zero)
    truth = _truth(zips[-1])
    assert all(truth["findings"][r] == [] for r in zero), truth["findings"]
    assert truth["findings"]["I4"]
    assert school_reference.check_dumps(zips, every=10) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scale", "seed", "day", "since"),
    [
        (0.0005, 2, date(2026, 2, 10), None),  # the first possible dump
        (0.001, 3, date(2026, 7, 29), date(2026, 7, 7)),  # across the July recess
        (0.001, 4, date(2026, 12, 28), date(2026, 12, 15)),  # after the year's end: outcomes
    ],
)
def test_truth_holds_through_the_year(
    tmp_path: Path, scale: float, seed: int, day: date, since: date | None
) -> None:
    zips = generate(tmp_path, scale=scale, day=day, seed=seed, since=since)
    assert school_reference.check_dumps(zips, every=3) == []


# ---- command line -----------------------------------------------------------------------------
def _painel(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAINEL_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "painel.cli", "generate", "school", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_a_zip_and_its_truth(tmp_path: Path) -> None:
    out = tmp_path / "dumps"
    r = _painel(
        tmp_path,
        "--scale",
        str(TINY),
        "--date",
        "2026-06-02",
        "--since",
        "2026-06-01",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert (
        len(lines) == 2 and "simade_20260601.zip" in lines[0] and "simade_20260602.zip" in lines[1]
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "simade_20260601.truth.json",
        "simade_20260601.zip",
        "simade_20260602.truth.json",
        "simade_20260602.zip",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "abc", "--date", "2026-06-01"], "--scale must be a number"),
        (["--scale", "0.001", "--date", "01/06/2026"], "--date must be a date AAAA-MM-DD"),
        (["--scale", "0.001", "--date", "2026-01-10"], "outside school year 2026"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    r = _painel(tmp_path, *args, "--out", str(tmp_path / "x"))
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
