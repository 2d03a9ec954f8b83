"""Synthetic source extract for the demo: ``matriculas.csv`` as a school system would dump it."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

REGIONALS = [
    (1, "Metropolitana A"),
    (2, "Juiz de Fora"),
    (3, "Uberlândia"),
    (4, "Montes Claros"),
]
STAGES = ["Anos Iniciais", "Anos Finais", "Ensino Médio"]
SCHOOL_WORDS = ["Estadual", "Professora", "Doutor", "São", "Conceição", "João", "Inácio", "Antônio"]
COLUMNS = [
    "COD_SRE",
    "NOME_SRE",
    "COD_ESCOLA",
    "NOME_ESCOLA",
    "MUNICIPIO",
    "MES",
    "ETAPA",
    "QT_ALUNOS",
]


def school_id(regional: int, n: int) -> int:
    """An 8-digit INEP-like code: 31 (MG) + regional + sequence."""
    return 31_000_000 + regional * 1000 + n


def generate(
    folder: str | Path,
    *,
    year: int = 2026,
    months: int = 10,
    schools_per_regional: int = 5,
    seed: int = 7,
) -> Path:
    """Write ``matriculas.csv`` (latin-1, ``;``) into ``folder``; returns its path."""
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "matriculas.csv"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="latin-1", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(COLUMNS)
        for regional, regional_name in REGIONALS:
            for n in range(1, schools_per_regional + 1):
                sid = school_id(regional, n)
                name = f"E.E. {rng.choice(SCHOOL_WORDS)} {rng.choice(SCHOOL_WORDS)} {n}"
                city = regional_name.replace("Metropolitana A", "Belo Horizonte")
                base = {stage: rng.randint(60, 400) for stage in STAGES}
                for m in range(months):
                    month = date(year, 2 + m, 1) if 2 + m <= 12 else date(year + 1, m - 10, 1)
                    for stage in STAGES:
                        drift = 1 - 0.01 * m * rng.random()
                        students = max(0, round(base[stage] * drift + rng.randint(-5, 5)))
                        writer.writerow(
                            [
                                regional,
                                regional_name,
                                sid,
                                name,
                                city,
                                month.strftime("%d/%m/%Y"),
                                stage,
                                students,
                            ]
                        )
    tmp.replace(path)
    return path
