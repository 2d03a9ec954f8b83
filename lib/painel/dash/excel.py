"""Excel export of a table as shown: pt-BR headers, real numbers, dates and percentages.

``workbook(df, columns, ...)`` writes the rows of ``df`` (keyed by each
:class:`~painel.dash.table.Column`'s ``key``) under the columns' labels: integers as
``#,##0``, identifiers as ``0`` (no thousands separator), decimals as ``#,##0.0``,
percentages (0-100 in the table) as real percentages (``0.0%``: Excel shows 41,7% in a
Brazilian locale), dates as ``dd/mm/yyyy``; a frozen header and an autofilter. A second
sheet, "Filtros", says what the file holds, who exported it and when.
Written with XlsxWriter (``constant_memory``: rows stream to the file).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import xlsxwriter

from .fmt import SAO_PAULO
from .table import Column

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMATS = {
    "id": "0",
    "int": "#,##0",
    "decimal": "#,##0.0",
    "money": '"R$" #,##0.00',
    "percent": "0.0%",
    "signed": "+0.0;-0.0;0.0",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}


def cell(v: Any) -> Any:
    """A DataFrame value as XlsxWriter writes it (None for missing)."""
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


def workbook(
    df: pd.DataFrame,
    columns: Sequence[Column],
    *,
    sheet: str,
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
    formats = [
        wb.add_format({"num_format": _FORMATS[c.kind]}) if c.kind in _FORMATS else None
        for c in columns
    ]
    ws = wb.add_worksheet(sheet[:31])
    for i, c in enumerate(columns):
        ws.set_column(i, i, max(10, min(48, len(c.label) + 4)))
        ws.write_string(0, i, c.label, header)
    ws.freeze_panes(1, 0)
    keys = [c.key for c in columns]
    kinds = [c.kind for c in columns]
    for r, row in enumerate(df[keys].itertuples(index=False, name=None), start=1):
        for i, v in enumerate(row):
            value = cell(v)
            if value is None:
                continue
            if kinds[i] == "percent" and isinstance(value, int | float):
                value = value / 100.0
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, i, value, formats[i])
            elif isinstance(value, bool):
                ws.write_string(r, i, "Sim" if value else "Não")
            elif isinstance(value, int | float):
                ws.write_number(r, i, value, formats[i])
            else:
                ws.write_string(r, i, str(value))
    ws.autofilter(0, 0, max(len(df), 1), max(len(columns) - 1, 0))

    meta = wb.add_worksheet("Filtros")
    meta.set_column(0, 0, 30)
    meta.set_column(1, 1, 60)
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
