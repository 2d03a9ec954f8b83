"""Excel export of exactly what the progress table shows (all rows, same filters, same order).

Sheet "Progresso" holds the table with pt-BR headers: progress as a real percentage
(``0.0%``: Excel shows 41,7% in a Brazilian locale), dates as dates (``dd/mm/yyyy``), counts
as integers, a frozen header row and an autofilter. Sheet "Filtros" records the filters,
who exported it and when, so a file found later says what it is.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().date() if v == v.normalize() else v.to_pydatetime().replace(tzinfo=None)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def workbook_bytes(df: pd.DataFrame, filters: Sequence[tuple[str, str]], exported_by: str,
                   now: dt.datetime | None = None) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Progresso")
    headers = [PERCENT_COLUMNS.get(c, c) for c in df.columns]
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(h, max(12, len(h) + 2))
    ws.freeze_panes = "A2"
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header_cells.append(cell)
    ws.append(header_cells)
    percent_idx = {i for i, c in enumerate(df.columns) if c in PERCENT_COLUMNS}
    formats = [FORMATS.get(h) for h in headers]
    for row in df.itertuples(index=False, name=None):
        cells = []
        for i, v in enumerate(row):
            value = _value(v)
            if i in percent_idx and value is not None:
                value = value / 100.0
            cell = WriteOnlyCell(ws, value=value)
            if formats[i]:
                cell.number_format = formats[i]
            cells.append(cell)
        ws.append(cells)
    last_col = get_column_letter(max(1, len(headers)))
    ws.auto_filter.ref = f"A1:{last_col}{len(df) + 1}"

    meta = wb.create_sheet("Filtros")
    meta.column_dimensions["A"].width = 22
    meta.column_dimensions["B"].width = 48
    meta.append([WriteOnlyCell(meta, value="Filtro"), WriteOnlyCell(meta, value="Valor")])
    for name, value in filters:
        meta.append([name, value])
    moment = (now or dt.datetime.now()).replace(tzinfo=None, microsecond=0)
    meta.append(["Linhas", len(df)])
    meta.append(["Exportado por", exported_by])
    stamp = WriteOnlyCell(meta, value=moment)
    stamp.number_format = "dd/mm/yyyy hh:mm"
    meta.append(["Exportado em", stamp])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
