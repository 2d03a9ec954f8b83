"""pt-BR formats for everything a panel shows: numbers, percentages, dates, ISO weeks.

One place, so a table cell, a KPI card, an axis and an Excel header say the same thing:
4.700 and 4,0; 23/11/2026; "Sem. 48 · 23/11–29/11".
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
EMPTY = "—"
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTHS = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT, pd.NA (pd.NA != pd.NA raises)
    except TypeError:
        return True


def number(value: Any, decimals: int = 0) -> str:
    """1234567.8 → "1.234.567,8"; missing → "—"."""
    if _missing(value):
        return EMPTY
    value = float(value)
    if math.isinf(value):
        return EMPTY
    text = f"{value:,.{decimals}f}"
    if decimals and text.lstrip("-").replace(",", "").replace(".", "").strip("0") == "":
        text = text.lstrip("-")  # no "-0,0"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def money(value: Any, decimals: int = 2) -> str:
    """1234567.8 → "R$ 1.234.567,80"; missing → "—"."""
    text = number(value, decimals)
    if text == EMPTY:
        return text
    return "−R$ " + text[1:] if text.startswith("-") else "R$ " + text


def money_short(value: Any) -> str:
    """A KPI's amount: "R$ 1,2 mi", "R$ 3,4 bi", "R$ 950 mil", "R$ 820"."""
    if _missing(value):
        return EMPTY
    v = float(value)
    for scale, word in ((1e9, "bi"), (1e6, "mi"), (1e3, "mil")):
        if abs(v) >= scale:
            return f"R$ {number(v / scale, 1 if abs(v) < 100 * scale else 0)} {word}"
    return money(v, 0)


def signed(value: Any, decimals: int = 1) -> str:
    """+2,5 / −1,0 / 0,0: a change, with its sign."""
    if _missing(value):
        return EMPTY
    text = number(value, decimals)
    return ("+" + text) if float(value) > 0 and text.strip("0,.") else text


def percent(value: Any, decimals: int = 1) -> str:
    """45.25 → "45,3%" (the value is already in percent)."""
    return EMPTY if _missing(value) else number(value, decimals) + "%"


def date(value: Any) -> str:
    """A date or datetime → "23/11/2026"."""
    if _missing(value):
        return EMPTY
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def datetime(value: Any, *, seconds: bool = False) -> str:
    """An instant → "23/11/2026 14:05" in São Paulo time (naive values are taken as UTC)."""
    if _missing(value):
        return EMPTY
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else ""))


def now_sao_paulo() -> dt.datetime:
    return dt.datetime.now(SAO_PAULO)


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """ISO week "2026-W48" → (Monday, Sunday)."""
    m = _ISO_WEEK.match(week or "")
    if not m:
        raise ValueError(f"not an ISO week: {week!r}")
    monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    return monday, monday + dt.timedelta(days=6)


def week(week_id: str, *, year: bool = False, short: bool = False) -> str:
    """ISO week "2026-W48" → "Sem. 48 · 23/11–29/11" (``year``: "…/2026"; ``short``, for
    axes: "Sem. 48 · 23/11")."""
    try:
        monday, sunday = week_bounds(week_id)
    except ValueError:
        return str(week_id)
    if short:
        return f"Sem. {monday.isocalendar().week} · {monday:%d/%m}"
    label = f"Sem. {monday.isocalendar().week} · {monday:%d/%m}–{sunday:%d/%m}"
    return label + (f"/{sunday.year}" if year else "")


def month(value: dt.date) -> str:
    """→ "novembro de 2026"."""
    return f"{MONTHS[value.month - 1]} de {value.year}"


def plural(count: int, one: str, many: str) -> str:
    """ "1 aluno" / "1.124 alunos"."""
    return f"{number(count)} {one if count == 1 else many}"


def fold(text: str) -> str:
    """Lower case without accents, for matching: "Conceição" matches "conceicao"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
