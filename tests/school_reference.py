"""A plain-Python reading of docs/school.md's inconsistency rules (I1-I14) over generated dumps.

Used by tests/unit/test_school_generator.py to check the generator's truth files: it reads the
zips back with the stdlib csv module (cp1252) and evaluates every rule by its definition, with
I14's history over the given dumps in date order. Tiny scales only (everything in dicts).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from painel.school import contract

PRAZO = 10
DIAS_BUSCA = 15
MAX_AULAS = 2
PONTOS_ANO = 100
ACIMA = 5
CAP = {"AI": 30, "AF": 35, "EJA": 35}


def read_member(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    raw = zf.read(name).decode("cp1252")
    return list(csv.DictReader(io.StringIO(raw, newline=""), delimiter=";"))


def _int(v: str) -> int | None:
    return int(v) if v != "" else None


def _dec(v: str) -> float | None:
    return float(v.replace(",", ".")) if v != "" else None


def _date(v: str) -> date | None:
    return datetime.strptime(v, "%d/%m/%Y").date() if v != "" else None


@dataclass
class Dump:
    day: date
    files: dict[str, list[dict[str, str]]]

    @classmethod
    def load(cls, path: Path, names: Iterable[str] = tuple(contract.FILES)) -> Dump:
        d = contract.zip_date(path.name)
        assert d is not None
        with zipfile.ZipFile(path) as zf:
            files = {name: read_member(zf, name) for name in names}
        return cls(d, files)


@dataclass
class History:
    """What the job keeps across dumps for I14."""

    first_day: date | None = None
    last_presence: dict[int, date] = field(default_factory=dict)
    school_days: dict[int, set[date]] = field(default_factory=lambda: defaultdict(set))


Key = tuple[tuple[str, Any], ...]


def key(**kw: Any) -> Key:
    return tuple(sorted(kw.items()))


def remember(dump: Dump, hist: History) -> None:
    """Keep what I14 needs from the dump's daily file (last presences, school days)."""
    f = dump.files
    school = {r["ID_MATRICULA"]: int(r["CO_ENTIDADE"]) for r in f["matricula.csv"]}
    for r in f["frequencia_diaria.csv"]:
        i = int(r["ID_MATRICULA"])
        dt = _date(r["DT_AULA"])
        assert dt is not None
        hist.first_day = dt if hist.first_day is None else min(hist.first_day, dt)
        hist.school_days[school[r["ID_MATRICULA"]]].add(dt)
        if int(r["QT_FALTAS"]) < int(r["QT_AULAS_PREVISTAS"]):
            prev = hist.last_presence.get(i)
            hist.last_presence[i] = dt if prev is None else max(prev, dt)


def evaluate(dump: Dump, hist: History) -> dict[str, set[Key]]:
    """Every rule's findings on ``dump`` (call :func:`remember` with it first)."""
    f = dump.files
    D = dump.day
    cal = {int(r["NU_BIMESTRE"]): r for r in f["calendario.csv"]}
    year = int(next(iter(cal.values()))["NU_ANO_LETIVO"])
    ini = {b: _date(r["DT_INICIO"]) for b, r in cal.items()}
    fim = {b: _date(r["DT_FIM"]) for b, r in cal.items()}
    dias = {b: int(r["QT_DIAS_LETIVOS"]) for b, r in cal.items()}
    due = {b for b in cal if (D - fim[b]).days > PRAZO}  # type: ignore[operator]
    turmas = {int(r["ID_TURMA"]): r for r in f["turma.csv"]}
    alunos = {int(r["CO_PESSOA_FISICA"]): r for r in f["aluno.csv"]}
    mats = {int(r["ID_MATRICULA"]): r for r in f["matricula.csv"]}

    def turma_of(m: dict[str, str]) -> int | None:
        return _int(m["ID_TURMA"])

    def escol(m: dict[str, str]) -> bool:
        t = turma_of(m)
        return t is None or turmas[t]["TP_TIPO_ATENDIMENTO_TURMA"] == "1"

    def active(m: dict[str, str]) -> bool:
        return m["TP_SITUACAO_ALUNO"] == "7" and m["DT_ENCERRAMENTO"] == ""

    def curriculum(t: int) -> tuple[str, ...]:
        e = _int(turmas[t]["TP_ETAPA_ENSINO"])
        return contract.CURRICULO[contract.grupo(e)] if e is not None else ()

    out: dict[str, set[Key]] = {f"I{i}": set() for i in range(1, 15)}
    act = {i: m for i, m in mats.items() if active(m) and escol(m)}
    by_student: dict[int, list[int]] = defaultdict(list)
    for i, m in act.items():
        by_student[int(m["CO_PESSOA_FISICA"])].append(i)
    for ids in by_student.values():
        for i in ids:
            for j in ids:
                if i == j:
                    continue
                same = mats[i]["CO_ENTIDADE"] == mats[j]["CO_ENTIDADE"]
                out["I2" if same else "I1"].add(key(id_matricula=i))
    for i, m in act.items():
        al = alunos[int(m["CO_PESSOA_FISICA"])]
        if turma_of(m) is None:
            out["I3"].add(key(id_matricula=i))
        etapa = int(m["TP_ETAPA_ENSINO"])
        birth = _date(al["DT_NASCIMENTO"])
        if birth is not None and etapa in contract.IDADE_ESPERADA:
            e = contract.IDADE_ESPERADA[etapa]
            age = year - birth.year
            young = birth > date(year - 6, 3, 31) if etapa == 14 else age < e - 1
            if young or age >= e + ACIMA:
                out["I4"].add(key(id_matricula=i))
        if birth is None or al["TP_SEXO"] == "" or al["CO_MUNICIPIO_END"] == "":
            out["I12"].add(key(id_matricula=i))
        t = turma_of(m)
        if (
            t is not None
            and turmas[t]["TP_UNIFICADA"] == "0"
            and turmas[t]["TP_ETAPA_ENSINO"] != m["TP_ETAPA_ENSINO"]
        ):
            out["I13"].add(key(id_matricula=i))
    # I5, I6
    count: dict[int, int] = defaultdict(int)
    for m in mats.values():
        t = turma_of(m)
        if t is not None and active(m):
            count[t] += 1
    docs = {(int(r["ID_TURMA"]), r["CO_COMPONENTE"]) for r in f["docente_turma.csv"]}
    for t, r in turmas.items():
        if r["TP_TIPO_ATENDIMENTO_TURMA"] != "1":
            continue
        e = _int(r["TP_ETAPA_ENSINO"])
        g = contract.grupo(e) if e is not None else ""
        cap = _int(r["NU_CAPACIDADE"]) or CAP.get(g, 40)
        if count[t] > cap:
            out["I5"].add(key(id_turma=t))
        for comp in curriculum(t):
            if (t, comp) not in docs:
                out["I6"].add(key(id_turma=t, componente=comp))
    # I7, I8
    notas = {
        (int(r["ID_MATRICULA"]), r["CO_COMPONENTE"], int(r["NU_BIMESTRE"])): r
        for r in f["nota.csv"]
    }
    freqs = {
        (int(r["ID_MATRICULA"]), r["CO_COMPONENTE"], int(r["NU_BIMESTRE"])): r
        for r in f["frequencia.csv"]
    }
    for i, m in act.items():
        t = turma_of(m)
        if t is None:
            continue
        start = _date(m["DT_MATRICULA"])
        for b in due:
            if start > ini[b]:  # type: ignore[operator]
                continue
            for comp in curriculum(t):
                n = notas.get((i, comp, b))
                if n is None or n["VL_NOTA"] == "":
                    out["I7"].add(key(id_matricula=i, componente=comp, bimestre=b))
                if (i, comp, b) not in freqs:
                    out["I8"].add(key(id_matricula=i, componente=comp, bimestre=b))
    # I9
    for (i, comp, b), r in freqs.items():
        dadas, faltas = int(r["QT_AULAS_DADAS"]), int(r["QT_FALTAS"])
        if faltas > dadas or dadas > dias[b] * MAX_AULAS:
            out["I9"].add(key(id_matricula=i, componente=comp, bimestre=b))
    for r in f["frequencia_diaria.csv"]:
        i = int(r["ID_MATRICULA"])
        dt = _date(r["DT_AULA"])
        m = mats[i]
        enc = _date(m["DT_ENCERRAMENTO"])
        inside = any(ini[b] <= dt <= fim[b] for b in cal)  # type: ignore[operator]
        if not inside or dt < _date(m["DT_MATRICULA"]) or (enc is not None and dt > enc):  # type: ignore[operator]
            out["I9"].add(key(id_matricula=i, dt_aula=dt.isoformat()))  # type: ignore[union-attr]
    # I10
    pontos: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for (i, comp, b), r in notas.items():
        p = _dec(r["VL_PONTOS_DISTRIBUIDOS"])
        nota, rec = _dec(r["VL_NOTA"]), _dec(r["VL_NOTA_RECUPERACAO"])
        if (nota is not None and (nota < 0 or nota > p)) or (
            rec is not None and (rec < 0 or rec > p)
        ):  # type: ignore[operator]
            out["I10"].add(key(id_matricula=i, componente=comp, bimestre=b))
        pontos[(i, comp)][b] = p  # type: ignore[assignment]
    for (i, comp), per_b in pontos.items():
        if len(per_b) == 4 and abs(sum(per_b.values()) - PONTOS_ANO) > 1e-9:
            out["I10"].add(key(id_matricula=i, componente=comp))
    # I11
    statuses: dict[int, list[int]] = defaultdict(list)
    for m in mats.values():
        if escol(m):
            statuses[int(m["CO_PESSOA_FISICA"])].append(int(m["TP_SITUACAO_ALUNO"]))
    for p, sts in statuses.items():
        outcomes = sum(s in contract.SITUACOES_RESULTADO for s in sts)
        dead = sts.count(contract.SITUACAO_FALECIDO)
        others = sum(s in (2, 4, 5, 6, 7) for s in sts)
        if outcomes >= 2 or (dead and others):
            out["I11"].add(key(co_pessoa_fisica=p))
    # I14
    for i, m in act.items():
        if turma_of(m) is None:
            continue
        days = hist.school_days.get(int(m["CO_ENTIDADE"]), set())
        last = hist.last_presence.get(i)
        if last is not None:
            n = sum(d > last for d in days)
        else:
            start = max(_date(m["DT_MATRICULA"]), hist.first_day)  # type: ignore[type-var]
            n = sum(d >= start for d in days)
        if n >= DIAS_BUSCA:
            out["I14"].add(key(id_matricula=i))
    return out


def truth_keys(items: Iterable[dict[str, Any]]) -> set[Key]:
    return {key(**{k: v for k, v in it.items() if k != "why"}) for it in items}


def check_dumps(zips: list[Path], every: int = 1) -> list[str]:
    """Evaluate the dumps (in date order; every ``every``-th one and the last, the others only
    feed I14's history) and compare with their truth files; the differences."""
    import json

    hist = History()
    problems = []
    ordered = sorted(zips)
    for n, z in enumerate(ordered):
        if n % every and n != len(ordered) - 1:
            remember(Dump.load(z, ("matricula.csv", "frequencia_diaria.csv")), hist)
            continue
        dump = Dump.load(z)
        remember(dump, hist)
        got = evaluate(dump, hist)
        truth = json.loads(z.with_name(z.name.removesuffix(".zip") + ".truth.json").read_text())
        for rule, found in got.items():
            want = truth_keys(truth["findings"][rule])
            if found != want:
                problems.append(
                    f"{z.name} {rule}: missing {sorted(want - found)[:5]} extra {sorted(found - want)[:5]}"
                )
            decoys = truth_keys(truth["decoys"][rule])
            if decoys & found:
                problems.append(f"{z.name} {rule}: decoys found {sorted(decoys & found)[:5]}")
    return problems
