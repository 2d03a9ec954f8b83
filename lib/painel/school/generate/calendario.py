"""The school year's calendar: four bimestres (SEE-like dates) and their school days.

School days are the weekdays inside a bimestre that are neither national nor Minas Gerais
holidays (the ``holidays`` library). Dates are handled as day numbers (days since
1970-01-01, numpy's ``datetime64[D]`` as an integer) so arrays compare cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

EPOCH = date(1970, 1, 1)
# (month, day) anchors of each bimestre's first and last day; snapped to school days
_ANCHORS = (((2, 9), (4, 24)), ((4, 27), (7, 10)), ((7, 27), (10, 2)), ((10, 5), (12, 18)))


def dnum(d: date) -> int:
    """A date as a day number."""
    return (d - EPOCH).days


def ddate(n: int) -> date:
    """A day number as a date."""
    return EPOCH + timedelta(days=int(n))


@dataclass(frozen=True)
class SchoolCalendar:
    """Bimestres 1-4 of ``year`` (index 0-3 in the tuples) and the school days."""

    year: int
    inicio: tuple[int, ...]  # day numbers
    fim: tuple[int, ...]
    dias_letivos: tuple[int, ...]
    days: np.ndarray  # int64 day numbers of every school day, sorted

    @property
    def n_days(self) -> int:
        return len(self.days)

    def index(self, day: int) -> int:
        """The index of a school day (it must be one)."""
        i = int(np.searchsorted(self.days, day))
        if i >= len(self.days) or self.days[i] != day:
            raise ValueError(f"{ddate(day)} is not a school day")
        return i

    def previous(self, day: int) -> int | None:
        """The latest school day before ``day``, or None."""
        i = int(np.searchsorted(self.days, day)) - 1
        return int(self.days[i]) if i >= 0 else None

    def is_school_day(self, day: int) -> bool:
        i = int(np.searchsorted(self.days, day))
        return i < len(self.days) and int(self.days[i]) == day

    def bimestre(self, day: int) -> int | None:
        """The bimestre (1-4) whose range holds ``day``, or None."""
        for b in range(4):
            if self.inicio[b] <= day <= self.fim[b]:
                return b + 1
        return None

    def due(self, b: int, dump_day: int, prazo: int) -> bool:
        """Bimestre ``b`` (1-4) is due in the dump of ``dump_day``."""
        return dump_day > self.fim[b - 1] + prazo

    def first_dump_day(self) -> int:
        """The first date a dump can have: the day after the first school day."""
        return int(self.days[0]) + 1

    def last_dump_day(self) -> int:
        return dnum(date(self.year, 12, 31))


def build_calendar(year: int) -> SchoolCalendar:
    """The school calendar of ``year``."""
    hol = holidays.country_holidays("BR", subdiv="MG", years=year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    all_days = np.arange(dnum(start), dnum(end) + 1, dtype=np.int64)
    weekday = (all_days + 3) % 7  # 1970-01-01 was a Thursday (3)
    hol_days = np.array(sorted(dnum(d) for d in hol), dtype=np.int64)
    workday = (weekday < 5) & ~np.isin(all_days, hol_days)
    inicio, fim, dias = [], [], []
    chosen = np.zeros(len(all_days), dtype=bool)
    for (m0, d0), (m1, d1) in _ANCHORS:
        lo, hi = dnum(date(year, m0, d0)), dnum(date(year, m1, d1))
        inside = workday & (all_days >= lo) & (all_days <= hi)
        ks = all_days[inside]
        inicio.append(int(ks[0]))
        fim.append(int(ks[-1]))
        dias.append(len(ks))
        chosen |= inside
    return SchoolCalendar(
        year=year,
        inicio=tuple(inicio),
        fim=tuple(fim),
        dias_letivos=tuple(dias),
        days=all_days[chosen],
    )
