"""Excel export of exactly what the progress table shows (all rows, same filters, same order).

Sheet "Progresso" holds the table with pt-BR headers: progress as a real percentage
(``0.0%``: Excel shows 41,7% in a Brazilian locale), dates as dates (``dd/mm/yyyy``), counts
as integers, a frozen header row and an autofilter. Sheet "Filtros" records the filters,
who exported it and when, so a file found later says what it is.

Written with XlsxWriter (about 3.5x faster than openpyxl here for a 20,000-row export);
the tests read the files back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import xlsxwriter

from ..dash.fmt import SAO_PAULO

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT_COLUMNS = {"Progresso (%)": "Progresso"}  # 0-100 in the table -> a real percentage in Excel
FORMATS = {
    "Início da semana": "dd/mm/yyyy",
    "Progresso": "0.0%",
    "Variação na semana (p.p.)": "+0.0;-0.0;0.0",
    "Aulas assistidas": "0",
    "Aulas concluídas": "0",
    "ID Cademi": "0",
}
WIDTHS = {"Aluno": 32, "Curso": 30, "Trilha": 28, "Turma": 12, "Situação": 14, "Semana": 10}


def _value(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def workbook_bytes(
    df: pd.DataFrame,
    filters: Sequence[tuple[str, str]],
    exported_by: str,
    now: dt.datetime | None = None,
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "constant_memory": True, "default_date_format": "dd/mm/yyyy"}
    )
    header = wb.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": "#1F4E79",
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    headers = [PERCENT_COLUMNS.get(c, c) for c in df.columns]
    formats = [wb.add_format({"num_format": FORMATS[h]}) if h in FORMATS else None for h in headers]
    percent_idx = {i for i, c in enumerate(df.columns) if c in PERCENT_COLUMNS}

    ws = wb.add_worksheet("Progresso")
    for i, h in enumerate(headers):
        ws.set_column(i, i, WIDTHS.get(h, max(12, len(h) + 2)))
    ws.freeze_panes(1, 0)
    for i, h in enumerate(headers):
        ws.write_string(0, i, h, header)
    for r, row in enumerate(df.itertuples(index=False, name=None), start=1):
        for i, v in enumerate(row):
            value = _value(v)
            if value is None:
                continue
            if i in percent_idx:
                value = value / 100.0
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, i, value, formats[i])
            elif isinstance(value, bool):
                ws.write_boolean(r, i, value)
            elif isinstance(value, (int, float)):
                ws.write_number(r, i, value, formats[i])
            else:
                ws.write_string(r, i, str(value))
    ws.autofilter(0, 0, max(len(df), 1), max(len(headers) - 1, 0))

    meta = wb.add_worksheet("Filtros")
    meta.set_column(0, 0, 30)
    meta.set_column(1, 1, 48)
    meta.write_row(0, 0, ["Filtro", "Valor"], header)
    r = 1
    for name, value in filters:
        meta.write_string(r, 0, name)
        meta.write_string(r, 1, str(value))
        r += 1
    meta.write_string(r, 0, "Linhas")
    meta.write_number(r, 1, len(df))
    meta.write_string(r + 1, 0, "Exportado por")
    meta.write_string(r + 1, 1, exported_by)
    meta.write_string(r + 2, 0, "Exportado em (horário de Brasília)")
    moment = (now or dt.datetime.now(SAO_PAULO)).replace(tzinfo=None, microsecond=0)
    meta.write_datetime(r + 2, 1, moment, wb.add_format({"num_format": "dd/mm/yyyy hh:mm"}))
    wb.close()
    return buf.getvalue()
