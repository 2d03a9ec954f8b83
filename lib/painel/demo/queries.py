"""Scoped queries of the demo dashboard (ScopedDataset -> DataFrame)."""

from __future__ import annotations

import pandas as pd

from ..scope import ScopedDataset


def regional_options(ds: ScopedDataset) -> list[tuple[str, int]]:
    """(label, id) for each regional office the viewer has rows in."""
    df = ds.sql(
        "SELECT DISTINCT r.regional_id, r.regional_name FROM schools s "
        "JOIN regionals r USING (regional_id) ORDER BY r.regional_name"
    )
    return [(str(row.regional_name), int(row.regional_id)) for row in df.itertuples()]


def monthly_by_stage(ds: ScopedDataset, regional_id: int | None) -> pd.DataFrame:
    """Students per month and stage, for one regional office or all the viewer's rows."""
    return ds.sql(
        "SELECT month, stage, sum(students)::BIGINT AS students FROM enrolment_by_stage "
        "WHERE ($1 IS NULL OR regional_id = $1) GROUP BY ALL ORDER BY month, stage",
        [regional_id],
    )


def schools_latest(ds: ScopedDataset, regional_id: int | None) -> pd.DataFrame:
    """Each school's students in the latest month."""
    return ds.sql(
        "WITH latest AS (SELECT max(month) AS m FROM enrolment_by_stage) "
        'SELECT s.school_id AS "Código", s.school_name AS "Escola", s.municipality AS "Município", '
        'sum(e.students)::BIGINT AS "Alunos" '
        "FROM enrolment_by_stage e JOIN schools s USING (school_id), latest "
        "WHERE e.month = latest.m AND ($1 IS NULL OR e.regional_id = $1) "
        'GROUP BY ALL ORDER BY "Alunos" DESC',
        [regional_id],
    )
