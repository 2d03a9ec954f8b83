"""Data checks: code that gates a publish.

A check runs SQL against the staging file and returns a :class:`CheckResult`. An ETL run
ends with ``build.check(...)``; any failed check makes ``build.publish()`` refuse, so bad
data never reaches the dashboards. Every result is kept in the version's manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Check:
    name: str
    fn: Callable[[duckdb.DuckDBPyConnection], tuple[bool, str]]

    def run(self, con: duckdb.DuckDBPyConnection) -> CheckResult:
        try:
            passed, detail = self.fn(con)
        except duckdb.Error as exc:
            return CheckResult(self.name, False, f"check query failed: {exc}".splitlines()[0])
        return CheckResult(self.name, bool(passed), detail)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row ``query`` returns (aggregates always return one)."""
    row = con.execute(query, list(params)).fetchone()
    if row is None:
        raise duckdb.InvalidInputException(f"check query returned no row: {query}")
    return row


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(_q(c) for c in columns)


def not_empty(table: str) -> Check:
    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        n = _row(con, f"SELECT count(*) FROM {_q(table)}")[0]
        return n > 0, f"{n} rows"

    return Check(f"{table} is not empty", fn)


def row_count_between(table: str, low: int, high: int | None = None) -> Check:
    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        n = _row(con, f"SELECT count(*) FROM {_q(table)}")[0]
        ok = n >= low and (high is None or n <= high)
        return ok, f"{n} rows (expected {low}..{'' if high is None else high})"

    return Check(f"{table} row count in range", fn)


def unique(table: str, columns: Sequence[str]) -> Check:
    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        dupes = _row(
            con,
            f"SELECT count(*) FROM (SELECT {_cols(columns)} FROM {_q(table)} GROUP BY ALL HAVING count(*) > 1)",
        )[0]
        return dupes == 0, f"{dupes} duplicated keys" if dupes else ""

    return Check(f"{table} unique on ({', '.join(columns)})", fn)


def not_null(table: str, columns: Sequence[str]) -> Check:
    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        counts = _row(
            con,
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {_q(c)} IS NULL)" for c in columns)
            + f" FROM {_q(table)}",
        )
        bad = [f"{c}: {n} nulls" for c, n in zip(columns, counts, strict=True) if n]
        return not bad, "; ".join(bad)

    return Check(f"{table} has no nulls in ({', '.join(columns)})", fn)


def between(table: str, column: str, low: float, high: float) -> Check:
    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        n = _row(
            con,
            f"SELECT count(*) FROM {_q(table)} WHERE {_q(column)} < ? OR {_q(column)} > ?",
            [low, high],
        )[0]
        return n == 0, f"{n} rows outside [{low}, {high}]" if n else ""

    return Check(f"{table}.{column} within [{low}, {high}]", fn)


def sql(name: str, query: str) -> Check:
    """A check written as SQL returning one row ``(passed BOOLEAN[, detail VARCHAR])``."""

    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        row = _row(con, query)
        return bool(row[0]), str(row[1]) if len(row) > 1 and row[1] is not None else ""

    return Check(name, fn)
