"""Working days (dias úteis) for the deadlines of Lei 14.133 (arts. 55, 94).

A working day is Monday to Friday and not a holiday: national and Goiás state holidays from
the ``holidays`` package (``Brazil(subdiv="GO")``), plus extra dates (municipal holidays,
*pontos facultativos*: the parameter ``feriados_extras``). Counting follows art. 183: "from A
to B" excludes A's day and includes B's day, and only working days count.

Scalar and vectorised (numpy ``datetime64[D]``) forms give the same answers; the vectorised
ones use :func:`numpy.busday_count` / :func:`numpy.busday_offset` with the holiday list.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import numpy as np

SUBDIVISION = "GO"


@functools.cache
def _holidays(first_year: int, last_year: int, subdiv: str) -> tuple[date, ...]:
    import holidays

    cal = holidays.country_holidays("BR", subdiv=subdiv, years=range(first_year, last_year + 1))
    return tuple(sorted(cal.keys()))


class WorkCalendar:
    """Working days between ``first_year`` and ``last_year`` (a date outside raises)."""

    def __init__(
        self,
        first_year: int = 2020,
        last_year: int = 2030,
        extra: Iterable[date] = (),
        subdiv: str = SUBDIVISION,
    ) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.holidays = frozenset(_holidays(first_year, last_year, subdiv)) | frozenset(extra)
        self._np_holidays = np.array(sorted(self.holidays), dtype="datetime64[D]")

    def _check(self, d: date) -> None:
        if not self.first_year <= d.year <= self.last_year:
            raise ValueError(
                f"date {d.isoformat()} is outside the working-day calendar "
                f"({self.first_year}-{self.last_year})"
            )

    def is_working(self, d: date) -> bool:
        self._check(d)
        return d.weekday() < 5 and d not in self.holidays

    def count(self, start: date, end: date) -> int:
        """Working days in (start, end]: art. 183's count from ``start`` to ``end``
        (negative when ``end`` is before ``start``)."""
        self._check(start)
        self._check(end)
        return int(
            np.busday_count(
                np.datetime64(start + timedelta(days=1), "D"),
                np.datetime64(end + timedelta(days=1), "D"),
                holidays=self._np_holidays,
            )
        )

    def add(self, start: date, n: int) -> date:
        """The date ``n`` (≥ 1) working days after ``start``: ``count(start, add(start, n)) == n``."""
        if n < 1:
            raise ValueError("n must be at least 1")
        self._check(start)
        out = np.busday_offset(
            np.datetime64(start, "D"), n, roll="forward", holidays=self._np_holidays
        )
        if not self.is_working(start):
            # busday_offset rolls a non-working start forward to a working day first, which
            # then counts as day 0: the n-th working day after it is one too far
            out = np.busday_offset(
                np.datetime64(start, "D"), n - 1, roll="forward", holidays=self._np_holidays
            )
        result = out.astype(date)
        self._check(result)
        return result

    # ---- vectorised -----------------------------------------------------------------------
    def count_array(self, start: Any, end: Any) -> np.ndarray:
        """:meth:`count` over arrays of dates (``datetime64[D]`` or convertible)."""
        s = np.asarray(start, dtype="datetime64[D]") + np.timedelta64(1, "D")
        e = np.asarray(end, dtype="datetime64[D]") + np.timedelta64(1, "D")
        return np.busday_count(s, e, holidays=self._np_holidays)

    def add_array(self, start: Any, n: Any) -> np.ndarray:
        """:meth:`add` over arrays (``n`` ≥ 1 everywhere)."""
        s = np.asarray(start, dtype="datetime64[D]")
        n = np.asarray(n)
        working = np.is_busday(s, holidays=self._np_holidays)
        steps = np.where(working, n, n - 1)
        return np.busday_offset(s, steps, roll="forward", holidays=self._np_holidays)
