"""The scoped query layer: every dashboard query goes through here, and it fails closed.

A :class:`ScopedDataset` opens the current version of a dataset read-only and exposes each
table the version's manifest declares as a *view* already filtered to the viewer's grants.
Dashboard SQL names tables by their bare names (``SELECT ... FROM enrolment``) and so can
only ever see the viewer's rows, whatever filter values arrive from the browser.

- no matching grant -> the view is empty (``WHERE FALSE``);
- a table the manifest does not declare -> no view at all, the query fails;
- an unknown role -> :class:`painel.access.UnknownRole` before anything is read;
- access that changed since it was opened (``check``) -> :class:`painel.access.AccessChanged`
  on the next query, and on every one after.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

import duckdb
import pandas as pd

from .access import AccessChanged, Viewer
from .store import PUBLIC, Reader, Store

T = TypeVar("T")

_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_INTEGER = re.compile(r"-?[0-9]{1,18}")  # fits every integer column without overflow


def _literal(value: str, column_type: str) -> str | None:
    """``value`` as a SQL literal for a column of ``column_type``; None when it can match no row."""
    if column_type.upper() in _INTEGER_TYPES:
        # strict: int() would also read "1_0" as 10 or " 7" as 7, widening a grant
        return str(int(value)) if _INTEGER.fullmatch(value) else None
    return "'" + value.replace("'", "''") + "'"


def row_filter(
    viewer: Viewer, dataset: str, scope: Mapping[str, str] | str, column_types: Mapping[str, str]
) -> str:
    """The SQL predicate that limits a table with ``scope`` to ``viewer``'s rows."""
    if scope == PUBLIC or viewer.sees_all(dataset):
        return "TRUE"
    if isinstance(scope, str):
        return "FALSE"  # malformed scope: fail closed
    terms = []
    for kind, column in sorted(scope.items()):
        literals = [
            lit
            for lit in (
                _literal(i, column_types.get(column, "VARCHAR")) for i in viewer.ids(dataset, kind)
            )
            if lit is not None
        ]
        if literals:
            terms.append(f"{_q(column)} IN ({', '.join(literals)})")
    return " OR ".join(f"({t})" for t in terms) if terms else "FALSE"


class ScopedDataset:
    """Read-only, viewer-scoped access to the current version of one dataset."""

    def __init__(
        self,
        viewer: Viewer,
        dataset: str,
        store: Store,
        check: Callable[[], None] | None = None,
        version: str | None = None,
    ):
        """``check`` runs before every query: it raises
        :class:`~painel.access.AccessChanged` once the viewer's access is no longer what the
        views were built for (a served page re-reads it per query); the dataset then closes
        for good. ``version``: read that version only, not the current one (a report)."""
        if not isinstance(viewer, Viewer):
            raise TypeError("ScopedDataset needs a painel.access.Viewer")
        self.viewer = viewer
        self.dataset = dataset
        self._check = check
        self._revoked = False
        self._memo: dict[Hashable, Any] = {}
        self._memo_version: str | None = None
        self._held: dict[str, tuple[Any, Hashable]] = {}  # name -> (connection, token)
        # The version is attached under an alias dashboard code cannot guess; the connection's
        # own catalog holds only the scoped views.
        self._alias = "src_" + secrets.token_hex(4)
        self._reader = Reader(
            store, dataset, on_connect=self._install_views, attach_as=self._alias, pinned=version
        )

    def _install_views(self, con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> None:
        columns: dict[str, dict[str, str]] = {}
        for table, column, data_type in con.execute(  # one catalog query for every table
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = 'main'",
            [self._alias],
        ).fetchall():
            columns.setdefault(table, {})[column] = data_type
        for table, scope in (manifest.get("tables") or {}).items():
            predicate = row_filter(self.viewer, self.dataset, scope, columns.get(table, {}))
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {_q(table)} AS "
                f"SELECT * FROM {self._alias}.main.{_q(table)} WHERE {predicate}"
            )

    @property
    def version(self) -> str | None:
        return self._reader.version

    def _ensure_access(self) -> None:
        if self._revoked:
            raise AccessChanged(f"access of {self.viewer.username!r} changed")
        if self._check is None:
            return
        try:
            self._check()
        except AccessChanged:
            self._revoked = True
            self._reader.close()
            raise

    @property
    def manifest(self) -> dict[str, Any]:
        self._ensure_access()
        self._reader.connection()
        return self._reader.manifest

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run ``query`` (bare table names) with bound ``params``; returns a DataFrame."""
        self._ensure_access()
        con = self._reader.connection()
        return con.execute(query, params or []).df()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` and published version: for what a page asks again
        and again (the names of the units below a place) and only the data decides. Access
        is checked on every call, as for a query; a new version starts afresh."""
        self._ensure_access()
        self._reader.connection()
        version = self._reader.version
        if self._memo_version != version:
            self._memo, self._memo_version = {}, version
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def hold(self, name: str, token: Hashable, make: Callable[[], pd.DataFrame]) -> None:
        """Keep ``make()`` as temporary table ``name`` of this viewer's connection, for queries
        to join (state kept outside the dataset, such as the analysts' workflow): made again
        when ``token`` changes or a new version comes. It joins the scoped views; it is not
        one of them, and cannot take a dataset table's name."""
        self._ensure_access()
        con = self._reader.connection()
        if name in (self._reader.manifest.get("tables") or {}):
            raise ValueError(f"{name!r} is a table of dataset {self.dataset!r}")
        held = self._held.get(name)
        if held is not None and held[0] is con and held[1] == token:
            return
        frame = make()
        con.register("painel_hold_frame", frame)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS SELECT * FROM painel_hold_frame"
            )
        finally:
            con.unregister("painel_hold_frame")
        self._held[name] = (con, token)

    def close(self) -> None:
        self._reader.close()
