"""Load the demo extract into a store build, with the checks that gate it (tables: ``painel.demo``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .. import checks
from ..store import Build
from . import DATASET, TABLES

__all__ = ["DATASET", "TABLES", "SourceError", "load"]

SOURCE_TYPES = {
    "COD_SRE": "INTEGER",
    "NOME_SRE": "VARCHAR",
    "COD_ESCOLA": "BIGINT",
    "NOME_ESCOLA": "VARCHAR",
    "MUNICIPIO": "VARCHAR",
    "MES": "VARCHAR",
    "ETAPA": "VARCHAR",
    "QT_ALUNOS": "INTEGER",
}


class SourceError(Exception):
    """The source extract is missing or malformed; the message names file, line and field."""


def _duck_error_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [
        ln for ln in lines if ln.startswith(("Line:", "Column", "Original Line", "Could not"))
    ]
    return "; ".join(lines[:1] + useful[:2])


def load(build: Build, source_dir: str | Path, min_students: int = 0) -> None:
    """Read ``matriculas.csv`` from ``source_dir`` into the build and record its checks."""
    path = Path(source_dir) / "matriculas.csv"
    if not path.is_file():
        raise SourceError(f"source extract not found: {path}")
    build.source_extracted_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    con = build.con
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM read_csv(?, delim=';', header=true, "
            "encoding='latin-1', columns=?, dateformat='%d/%m/%Y', strict_mode=true)",
            [str(path), SOURCE_TYPES],
        )
    except duckdb.Error as exc:
        raise SourceError(f"{path}: {_duck_error_line(exc)}") from None
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE src AS SELECT *, strptime(MES, '%d/%m/%Y')::DATE AS month FROM raw"
        )
    except duckdb.Error as exc:
        bad = con.execute(
            "SELECT MES FROM raw WHERE try_strptime(MES, '%d/%m/%Y') IS NULL LIMIT 1"
        ).fetchone()
        raise SourceError(
            f"{path}: field MES has a value that is not a dd/mm/yyyy date: {bad[0] if bad else exc!s}"
        ) from None
    con.execute(
        "CREATE OR REPLACE TABLE regionals AS SELECT DISTINCT COD_SRE AS regional_id, "
        "NOME_SRE AS regional_name FROM src ORDER BY 1"
    )
    con.execute(
        "CREATE OR REPLACE TABLE schools AS SELECT DISTINCT COD_ESCOLA AS school_id, "
        "NOME_ESCOLA AS school_name, MUNICIPIO AS municipality, COD_SRE AS regional_id FROM src ORDER BY 1"
    )
    con.execute(
        "CREATE OR REPLACE TABLE enrolment_monthly AS SELECT month, COD_SRE AS regional_id, "
        "COD_ESCOLA AS school_id, ETAPA AS stage, QT_ALUNOS AS students FROM src ORDER BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TABLE enrolment_by_stage AS SELECT month, regional_id, school_id, stage, "
        "sum(students) AS students FROM enrolment_monthly GROUP BY ALL ORDER BY ALL"
    )
    con.execute("DROP TABLE src")
    con.execute("DROP TABLE raw")
    build.check(
        checks.not_empty("schools"),
        checks.not_empty("enrolment_monthly"),
        checks.unique("regionals", ["regional_id"]),
        checks.unique("schools", ["school_id"]),
        checks.unique("enrolment_monthly", ["month", "school_id", "stage"]),
        checks.not_null("enrolment_monthly", ["month", "regional_id", "school_id", "students"]),
        checks.between("enrolment_monthly", "students", min_students, 100_000),
        checks.sql(
            "every school belongs to one regional office",
            "SELECT count(*) = 0, count(*) || ' schools in several offices' FROM "
            "(SELECT school_id FROM schools GROUP BY 1 HAVING count(DISTINCT regional_id) > 1)",
        ),
    )
