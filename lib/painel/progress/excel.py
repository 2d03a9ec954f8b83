"""Excel export of exactly what the progress table shows (all rows, same filters, same order).

Sheet "Progresso" holds the table with pt-BR headers: progress as a real percentage
(``0.0%``: Excel shows 41,7% in a Brazilian locale), dates as dates (``dd/mm/yyyy``), counts
as integers, a frozen header row and an autofilter. Sheet "Filtros" records the filters,
who exported it and when, so a file found later says what it is. The writing is
:func:`painel.dash.excel.workbook`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ..dash import excel
from ..dash.table import Column

# the columns of queries.student_table, in its order; its column names are the headers
COLUMNS = [
    Column("Semana", "Semana"),
    Column("Início da semana", "Início da semana", kind="date"),
    Column("Turma", "Turma"),
    Column("Trilha", "Trilha"),
    Column("Curso", "Curso"),
    Column("Aluno", "Aluno"),
    Column("ID Cademi", "ID Cademi", kind="id"),
    Column("Progresso (%)", "Progresso", kind="percent"),  # 0-100 -> a real percentage
    Column("Variação na semana (p.p.)", "Variação na semana (p.p.)", kind="signed"),
    Column("Aulas assistidas", "Aulas assistidas", kind="int"),
    Column("Aulas concluídas", "Aulas concluídas", kind="int"),
    Column("Situação", "Situação"),
]


def workbook_bytes(
    df: pd.DataFrame,
    filters: Sequence[tuple[str, str]],
    exported_by: str,
    now: dt.datetime | None = None,
) -> bytes:
    """The progress table ``df`` (as :func:`painel.progress.queries.student_table` returns
    it) as an .xlsx file, with ``filters`` and who exported it on the "Filtros" sheet."""
    return excel.workbook(
        df, COLUMNS, sheet="Progresso", filters=filters, exported_by=exported_by, now=now
    )
