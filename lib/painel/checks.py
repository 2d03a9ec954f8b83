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
    label: str = ""  # the check in pt-BR, for the dashboards (see :func:`pt_name`)

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "passed": self.passed, "detail": self.detail}
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class Check:
    name: str
    fn: Callable[[duckdb.DuckDBPyConnection], tuple[bool, str]]
    label: str = ""

    def run(self, con: duckdb.DuckDBPyConnection) -> CheckResult:
        try:
            passed, detail = self.fn(con)
        except duckdb.Error as exc:
            return CheckResult(
                self.name, False, f"check query failed: {exc}".splitlines()[0], self.label
            )
        return CheckResult(self.name, bool(passed), detail, self.label)


# The built-in checks' names (and their details) in pt-BR, for people reading a dashboard.
_PT_NAMES = [
    (r"declared tables exist", "Todas as tabelas declaradas existem"),
    (r"no undeclared tables", "Nenhuma tabela além das declaradas"),
    (r"scope columns exist", "As colunas de acesso por linha existem"),
    (r"(\w+) is not empty", r"A tabela \1 tem linhas"),
    (r"(\w+) row count in range", r"O número de linhas de \1 está no intervalo esperado"),
    (r"(\w+) unique on \((.*)\)", r"Sem repetições em \1 por (\2)"),
    (r"(\w+) has no nulls in \((.*)\)", r"Sem valores vazios em \1 (\2)"),
    (r"(\w+)\.(\w+) within \[(.*), (.*)\]", r"\1.\2 entre \3 e \4"),
]
_PT_DETAILS = [
    (r"(\d+) rows", r"\1 linhas"),
    (r"(\d+) rows \(expected (\d*)\.\.(\d*)\)", r"\1 linhas (esperado: \2 a \3)"),
    (r"(\d+) duplicated keys", r"\1 chaves repetidas"),
    (r"(\d+) rows outside \[(.*), (.*)\]", r"\1 linhas fora de [\2, \3]"),
    (r"undeclared: (.*)", r"não declaradas: \1"),
    (
        r"check query failed: .*",
        "a consulta da verificação falhou (detalhe no registro da execução)",
    ),
    (r"(\d+) rows .+", r"\1 linhas com problema"),
]


def pt_name(result: dict[str, Any]) -> str:
    """A check of a manifest, in pt-BR: its own label, a built-in check's translation, or its name."""
    import re

    if result.get("label"):
        return str(result["label"])
    name = str(result.get("name", ""))
    for pattern, pt in _PT_NAMES:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, pt, name)
    return name


def pt_detail(detail: str) -> str:
    import re

    text = str(detail or "")
    for pattern, pt in _PT_DETAILS:
        if re.fullmatch(pattern, text):
            return re.sub(pattern, pt, text)
    return re.sub(r"(\w+): (\d+) nulls", r"\1: \2 vazios", text)


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


def sql(name: str, query: str, label: str = "") -> Check:
    """A check written as SQL returning one row ``(passed BOOLEAN[, detail VARCHAR])``;
    ``label``: what the check means, in pt-BR, for the dashboards."""

    def fn(con: duckdb.DuckDBPyConnection) -> tuple[bool, str]:
        row = _row(con, query)
        return bool(row[0]), str(row[1]) if len(row) > 1 and row[1] is not None else ""

    return Check(name, fn, label)
