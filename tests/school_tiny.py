"""A hand-written tiny SIMADE/DED dump: 2 SREs, 3 schools, 5 turmas, 24 students.

Every row is written out here, so the tests can work the indicators out by hand (in the test,
not with the ETL's SQL). The dump date is D = 20/05/2026: bimestre 1 (09/02-24/04) is due
(D > 24/04 + 10 days), bimestre 2 (27/04-10/07) has begun and is not due.

Schools: 31000011 "E.E. Afonso Pena" (Belo Horizonte, SRE 22 Metropolitana A),
31000012 "E.E. Contagem – Centro" (Contagem, SRE 22), 31000021 "E.E. “Duque” de Caxias"
(Juiz de Fora, SRE 19).

Turmas: T101 EF 1º ano (etapa 14), manhã, capacity 5, school 11; T102 EM 1ª série (25),
noite, no capacity (default 40), school 11; T201 EF 6º ano (19), tarde, capacity 4, school 12;
T301 EF 9º ano (41), integral (480 min), capacity 10, school 21; T302 AEE (no etapa), school 21.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from painel.school import contract

D = date(2026, 5, 20)
YEAR = 2026

ESCOLAS = [
    # CO_ENTIDADE, NO_ENTIDADE, CO_ORGAO_REGIONAL, CO_SRE, NO_SRE, CO_MUNICIPIO, NO_MUNICIPIO, CO_UF, dep, loc, sit
    (
        31000011,
        "E.E. Afonso Pena",
        "3122",
        22,
        "Metropolitana A",
        3106200,
        "Belo Horizonte",
        31,
        2,
        1,
        1,
    ),
    (
        31000012,
        "E.E. Contagem – Centro",
        "3122",
        22,
        "Metropolitana A",
        3118601,
        "Contagem",
        31,
        2,
        1,
        1,
    ),
    (
        31000021,
        "E.E. “Duque” de Caxias",
        "3119",
        19,
        "Juiz de Fora",
        3136702,
        "Juiz de Fora",
        31,
        2,
        2,
        1,
    ),
]

# ID_TURMA, CO_ENTIDADE, NO_TURMA, ano, etapa, unificada, hora, minuto, duração, dias,
# mediação, atendimento, regular, eja, profissional, especial, capacidade
TURMAS = [
    (101, 31000011, "1º ano A", 2026, 14, 0, 7, 0, 270, 5, 1, 1, 1, 0, 0, 0, 5),
    (102, 31000011, "1ª série EM – noite", 2026, 25, 0, 19, 0, 240, 5, 1, 1, 1, 0, 0, 0, None),
    (201, 31000012, "6º ano B", 2026, 19, 0, 13, 0, 270, 5, 1, 1, 1, 0, 0, 0, 4),
    (301, 31000021, "9º ano integral", 2026, 41, 0, 7, 0, 480, 5, 1, 1, 1, 0, 0, 0, 10),
    (302, 31000021, "AEE", 2026, None, 0, 14, 0, 120, 2, 1, 3, 0, 0, 0, 0, None),
]


# CO_PESSOA_FISICA, NO_ALUNO, DT_NASCIMENTO, sexo, cor, pcd, município, zona
def _aluno(
    n: int,
    nome: str,
    nasc: str | None,
    sexo: int | None = 1,
    cor: int = 3,
    pcd: int = 0,
    mun: int | None = 3106200,
    zona: int | None = 1,
) -> tuple:
    return (310000000000 + n, nome, nasc, sexo, cor, pcd, mun, zona)


ALUNOS = [
    # T101 (1º ano, expected age 6): 6 students, 5 active -> over capacity? no: 5 = capacity
    _aluno(1, "Ana “Aninha” Souza", "10/03/2020", 2),  # 6 on 31/03/2026
    _aluno(2, "Bruno Lima", "15/04/2020", 1),  # 5 on 31/03 -> I4 too young
    _aluno(3, "Carla Dias", "01/01/2020", 2),
    _aluno(4, "Davi Rocha", "31/03/2020", 1),  # exactly 6 on 31/03: not I4 (decoy)
    _aluno(5, "Eva Nunes", "20/07/2019", 2),
    _aluno(6, "Fábio Alves", "05/05/2015", 1),  # transferred from school 11 to T201
    # T102 (EM 1ª série, expected 15): 6 students
    _aluno(7, "Gabriela Melo", "02/02/2011", 2),  # 15
    _aluno(8, "Hugo Pires", "03/03/2008", 1),  # 18 = E+3: distorted, not I4
    _aluno(9, "Iara Costa", "04/04/2006", 2),  # 20 = E+5: I4 too old, distorted
    _aluno(10, "João Batista", "05/05/2011", None),  # no sex: I12
    _aluno(11, "Kátia Reis", "06/06/2011", 2, 0),  # cor 0: valid (decoy)
    _aluno(12, "Luís Gomes", "07/07/2011", 1),  # two active matrículas in school 11: I2
    # T201 (6º ano, expected 11): 4 capacity
    _aluno(13, "Marta Silva", "08/08/2015", 2, mun=3118601),
    _aluno(14, "Nilo Prado", "09/09/2015", 1, mun=3118601),
    _aluno(15, "Olga Teles", "10/10/2015", 2, mun=3118601),
    _aluno(16, "Paulo Vaz", "11/11/2015", 1, mun=None),  # no municipality: I12
    # T301 (9º ano, expected 14): 6 students
    _aluno(17, "Quésia Ramos", "12/12/2012", 2, mun=3136702, zona=2),
    _aluno(18, "Rui Barros", "13/01/2012", 1, 1, 1, 3136702, 2),  # PcD
    _aluno(19, "Sara Moura", "14/02/2012", 2, mun=3136702),
    _aluno(20, "Téo Freitas", "15/03/2012", 1, mun=3136702),  # active in 21 and in 12: I1
    _aluno(21, "Úrsula Lopes", "16/04/2012", 2, mun=3136702),  # stopped coming: I14
    _aluno(22, "Vítor Cunha", None, 1, mun=3136702),  # no birth date: I12
    # not enturmado, school 21
    _aluno(23, "Wanda Neves", "17/05/2012", 2, mun=3136702),  # active, no turma: I3
    # AEE only
    _aluno(24, "Xavier Paz", "18/06/2012", 1, mun=3136702),
    # two final outcomes in the year: I11
    _aluno(25, "Yara Teixeira", "19/07/2015", 2, mun=3118601),
]


# ID_MATRICULA, CO_PESSOA_FISICA, ID_TURMA, CO_ENTIDADE, etapa, DT_MATRICULA, DT_ENCERRAMENTO,
# situação, transferido, concluinte
def _mat(
    i: int,
    aluno: int,
    turma: int | None,
    escola: int,
    etapa: int,
    inicio: str = "09/02/2026",
    fim: str | None = None,
    sit: int = 7,
    transf: int = 0,
) -> tuple:
    return (1000 + i, 310000000000 + aluno, turma, escola, etapa, inicio, fim, sit, transf, 0)


MATRICULAS = [
    _mat(1, 1, 101, 31000011, 14),
    _mat(2, 2, 101, 31000011, 14),
    _mat(3, 3, 101, 31000011, 14),
    _mat(4, 4, 101, 31000011, 14),
    _mat(5, 5, 101, 31000011, 14),
    _mat(6, 6, 101, 31000011, 14, fim="13/03/2026", sit=1, transf=1),  # transferred out
    _mat(7, 7, 102, 31000011, 25),
    _mat(8, 8, 102, 31000011, 25),
    _mat(9, 9, 102, 31000011, 25),
    _mat(10, 10, 102, 31000011, 25),
    _mat(11, 11, 102, 31000011, 25),
    _mat(12, 12, 102, 31000011, 25),
    _mat(13, 12, 102, 31000011, 25, inicio="02/03/2026"),  # I2 with 1012 (same school)
    _mat(14, 13, 201, 31000012, 19),
    _mat(15, 14, 201, 31000012, 19),
    _mat(16, 15, 201, 31000012, 19),
    _mat(17, 16, 201, 31000012, 19),
    _mat(18, 6, 201, 31000012, 19, inicio="16/03/2026"),  # Fábio arrives: 5 > capacity 4 (I5)
    _mat(19, 17, 301, 31000021, 41),
    _mat(20, 18, 301, 31000021, 41),
    _mat(21, 19, 301, 31000021, 41),
    _mat(22, 20, 301, 31000021, 41),
    _mat(23, 21, 301, 31000021, 41),
    _mat(24, 22, 301, 31000021, 41),
    _mat(
        25, 20, 201, 31000012, 41, inicio="04/05/2026"
    ),  # Téo also in school 12: I1 (x2); etapa 41 in a 6º ano turma: I13
    _mat(26, 23, None, 31000021, 41),  # not enturmado: I3
    _mat(27, 24, 302, 31000021, 41),  # AEE only: not escolarização
    _mat(28, 19, 302, 31000021, 41),  # Sara also in AEE: not a duplicate (decoy of I2)
    _mat(29, 25, 201, 31000012, 19, fim="10/04/2026", sit=4),  # reprovada ...
    _mat(
        30, 25, 201, 31000012, 19, inicio="13/04/2026", fim="15/04/2026", sit=5
    ),  # ... aprovada: I11
]

CALENDARIO = [
    (2026, 1, "09/02/2026", "24/04/2026", 50),
    (2026, 2, "27/04/2026", "10/07/2026", 50),
    (2026, 3, "27/07/2026", "02/10/2026", 50),
    (2026, 4, "05/10/2026", "18/12/2026", 50),
]

# grades and attendance of bimestre 1: every curriculum component of each enturmada escolarização
# matrícula active since 09/02; 25 points distributed, the grade and classes below.
NOTA_B1 = {  # id_matricula -> grade in every component (out of 25)
    1001: 20,
    1002: 15,
    1003: 10,
    1004: 25,
    1005: 12.5,
    1007: 18,
    1008: 12,
    1009: 14,
    1010: 20,
    1011: 16,
    1012: 19,
    1013: 19,
    1014: 21,
    1015: 9,
    1016: 17,
    1017: 13,
    1019: 22,
    1020: 16,
    1021: 11,
    1022: 24,
    1023: 20,
    1024: 15,
}
AULAS_B1 = 40  # classes given per component in bimestre 1
FALTAS_B1 = {  # absences per component in bimestre 1
    1001: 2,
    1002: 12,
    1003: 0,
    1004: 4,
    1005: 20,
    1007: 0,
    1008: 8,
    1009: 10,
    1010: 2,
    1011: 0,
    1012: 1,
    1013: 1,
    1014: 3,
    1015: 11,
    1016: 0,
    1017: 6,
    1019: 0,
    1020: 2,
    1021: 9,
    1022: 40,
    1023: 1,
    1024: 0,
}
# exceptions: a missing grade (I7) and missing attendance (I8)
MISSING_NOTA = {(1003, "ARTES", 1)}
MISSING_FREQ = {(1016, "HISTORIA", 1)}
# an impossible grade (I10: 26 of 25) and impossible attendance (I9: 45 absences in 40)
NOTA_OVERRIDE = {(1010, "MATEMATICA", 1): 26}
FALTAS_OVERRIDE = {(1008, "MATEMATICA", 1): 45}

TURMA_ETAPA = {101: 14, 102: 25, 201: 19, 301: 41}
# teachers: every component of every turma but ARTES of T201 (I6); AEE has none (decoy)
DOCENTES = [
    (330000000000 + t, t, c, 1)
    for t, e in TURMA_ETAPA.items()
    for c in contract.CURRICULO[contract.grupo(e)]
    if (t, c) != (201, "ARTES")
]

# the daily file: 19/05/2026 (D-1), one row per active enturmada escolarização matrícula,
# 5 classes; 1023 (Úrsula) absent. A new job sees only this day, so no I14 unless history.
DAILY_DAY = "19/05/2026"


def daily_rows(absent: set[int], day: str = DAILY_DAY) -> list[tuple]:
    ids = [
        1001,
        1002,
        1003,
        1004,
        1005,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        1015,
        1016,
        1017,
        1018,
        1019,
        1020,
        1021,
        1022,
        1023,
        1024,
        1025,
    ]
    return [(m, day, 5, 5 if m in absent else 0) for m in ids]


def _curriculum(turma: int) -> tuple[str, ...]:
    return contract.CURRICULO[contract.grupo(TURMA_ETAPA[turma])]


def nota_rows() -> list[tuple]:
    rows = []
    turma_of = {m[0]: m[2] for m in MATRICULAS}
    for mid, grade in NOTA_B1.items():
        for c in _curriculum(turma_of[mid]):
            if (mid, c, 1) in MISSING_NOTA:
                continue
            g = NOTA_OVERRIDE.get((mid, c, 1), grade)
            rows.append((mid, c, 1, _dec(25), _dec(g), None, "04/05/2026"))
    return rows


def freq_rows() -> list[tuple]:
    rows = []
    turma_of = {m[0]: m[2] for m in MATRICULAS}
    for mid, faltas in FALTAS_B1.items():
        for c in _curriculum(turma_of[mid]):
            if (mid, c, 1) in MISSING_FREQ:
                continue
            f = FALTAS_OVERRIDE.get((mid, c, 1), faltas)
            rows.append((mid, c, 1, AULAS_B1, f, "04/05/2026"))
    return rows


def _dec(v: float) -> str:
    return f"{v:.1f}".replace(".", ",")


def write(
    path: Path,
    *,
    edit: Callable[[str, list[str]], list[str]] | None = None,
    absent: set[int] = frozenset({1023}),  # type: ignore[assignment]
    omit: tuple[str, ...] = (),
    daily_day: str = DAILY_DAY,
) -> Path:
    """Write the dump as a zip; ``edit(file, lines)`` may change a file's text lines first."""
    files: dict[str, list[tuple]] = {
        "escola.csv": ESCOLAS,
        "turma.csv": TURMAS,
        "aluno.csv": ALUNOS,
        "matricula.csv": MATRICULAS,
        "nota.csv": nota_rows(),
        "frequencia.csv": freq_rows(),
        "frequencia_diaria.csv": daily_rows(absent, daily_day),
        "calendario.csv": CALENDARIO,
        "docente_turma.csv": DOCENTES,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in files.items():
            if name in omit:
                continue
            lines = [";".join(contract.FILES[name].column_names)]
            lines += [";".join("" if v is None else str(v) for v in r) for r in rows]
            if edit is not None:
                lines = edit(name, lines)
            zf.writestr(name, ("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def school_days(first: date, last: date) -> list[date]:
    """The school days from ``first`` to ``last``: weekdays but 1 May (Dia do Trabalho)."""
    out, d = [], first
    while d <= last:
        if d.weekday() < 5 and d != date(2026, 5, 1):
            out.append(d)
        d += timedelta(days=1)
    return out


def write_history(dumps: Path) -> list[date]:
    """Write 16 dumps into the folder ``dumps``: the daily file of each school day
    27/04-19/05/2026 in the next school day's dump (19/05's in the dump of D). 1023 (Úrsula)
    is absent every day, 1021 from the second day on, 1019 from the third. Returns the
    school days."""
    days = school_days(date(2026, 4, 27), date(2026, 5, 19))
    assert len(days) == 16
    for i, school_day in enumerate(days):
        absent = {1023} | ({1021} if i >= 1 else set()) | ({1019} if i >= 2 else set())
        dump_day = days[i + 1] if i + 1 < len(days) else D
        write(
            dumps / contract.zip_name(dump_day),
            absent=absent,
            daily_day=school_day.strftime("%d/%m/%Y"),
        )
    return days


def publish(home: Path, **params: object) -> str:
    """Write the dump and run the ``school`` job's steps on it into the store under ``home``
    (``PAINEL_HOME`` must already point there). Returns the version published."""
    dumps = home.parent / f"{home.name}-dumps"
    write(dumps / contract.zip_name(D))
    return run_job(home, dumps, **params)


def run_job(home: Path, dumps: Path, **params: object) -> str:
    """Run the ``school`` job's steps on the dumps in the folder ``dumps`` into the store
    under ``home`` (``PAINEL_HOME`` must already point there). Returns the version
    published."""
    import os

    from painel.config import Paths
    from painel.school.etl import job as school

    assert os.environ.get("PAINEL_HOME") == str(home), "set PAINEL_HOME to home first"
    paths = Paths.from_env().ensure()
    values = {"source": "local", "directory": str(dumps), "stable_wait_s": 0.0, **params}
    return school.run_once(paths, values, log=lambda _line: None)
