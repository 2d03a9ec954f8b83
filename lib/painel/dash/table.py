"""A table for any number of rows: pages, sort and search on the server; row click as an event.

The browser only ever holds one page of formatted cells (``rows``). What it sends back — the
page, the sort column, the search text, the index of a clicked row — is re-checked here
before use: a client can set any value over the widget channel.

    table = Table([
        Column("aluno", "Aluno"),
        Column("progresso", "Progresso (%)", kind="decimal"),
        Column("inicio", "Início da semana", kind="date"),
    ], caption="Alunos e cursos na semana")
    table.frame = df                               # raw values: sorting is by value, not by text
    table.on_row_click(lambda row: show(row["aluno_id"]))   # row: the full record (all columns)

Rows that should stay in the database (tens of thousands, asked for a page at a time) come
from a :class:`Source` instead of a DataFrame: ``table.set_source(fetch)``, where ``fetch``
answers one page for the search terms, sort and offset the table asks (see
:func:`search_sql` for the search as SQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anywidget
import pandas as pd
import traitlets

from ..access import AccessChanged
from . import fmt
from .fmt import fold
from .identity import check_access

HERE = Path(__file__).parent
MAX_SEARCH = 100
PAGE_SIZES = (10, 25, 50, 100)
KINDS = (
    "text",
    "id",
    "int",
    "decimal",
    "money",
    "percent",
    "signed",
    "date",
    "datetime",
    "week",
)


@dataclass(frozen=True)
class Column:
    key: str  # the DataFrame column
    label: str  # the header people read
    kind: str = "text"  # how a value is shown: see KINDS
    decimals: int = 1
    sortable: bool = True
    searchable: bool | None = None  # default: text columns

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r} (kinds: {KINDS})")

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "decimal", "money", "percent", "signed")

    def is_searchable(self) -> bool:
        if self.searchable is not None:
            return self.searchable
        return self.kind in ("text", "id", "week")

    def format(self, value: Any) -> str:
        kind = self.kind
        if kind == "id":  # an identifier: its digits as they are, no thousands separator
            if fmt._missing(value):
                return fmt.EMPTY
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # an id column with gaps comes as floats
            return str(value)
        if kind == "int":
            return fmt.number(value)
        if kind == "decimal":
            return fmt.number(value, self.decimals)
        if kind == "money":
            return fmt.money(value)
        if kind == "percent":
            return fmt.percent(value, self.decimals)
        if kind == "signed":
            return fmt.signed(value, self.decimals)
        if kind == "date":
            return fmt.date(value)
        if kind == "datetime":
            return fmt.datetime(value)
        if kind == "week":
            return fmt.week(str(value))
        return fmt.EMPTY if fmt._missing(value) else str(value)


class Source(Protocol):
    """Where a table's rows come from when they are not all held in memory."""

    def __call__(
        self, *, terms: list[str], sort: str, descending: bool, offset: int, limit: int | None
    ) -> tuple[pd.DataFrame, int]:
        """``(rows, total)``: the rows from ``offset`` (at most ``limit``; ``None``: all) of
        those matching every search term (folded: lower case, no accents; each in any
        searchable column), ordered by column ``sort`` (``""``: the source's own order),
        and how many match."""
        ...


def search_sql(expressions: Sequence[str], terms: Sequence[str]) -> tuple[str, list[str]]:
    """``(sql, params)`` matching the table's search in DuckDB: every term (already folded)
    inside one of ``expressions`` (SQL of the searchable columns), accents and case aside.
    ``("TRUE", [])`` without terms."""
    if not terms or not expressions:
        return "TRUE", []
    text = "strip_accents(lower(concat_ws(' ', " + ", ".join(expressions) + ")))"
    return " AND ".join(f"contains({text}, ?)" for _ in terms), list(terms)


class Table(anywidget.AnyWidget):
    _esm = HERE / "table.js"
    _css = HERE / "table.css"

    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.List()).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)  # rows matching the search
    unfiltered = traitlets.Int(0).tag(sync=True)  # rows before the search
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(25).tag(sync=True)
    sort = traitlets.Unicode("").tag(sync=True)
    descending = traitlets.Bool(False).tag(sync=True)
    search = traitlets.Unicode("").tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    clickable = traitlets.Bool(False).tag(sync=True)
    click_hint = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)  # index in the page of the last clicked row
    empty_text = traitlets.Unicode("Nenhuma linha para mostrar.").tag(sync=True)
    unit = traitlets.Unicode("linhas").tag(sync=True)  # "1–25 de 1.124 linhas"

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        caption: str = "",
        page_size: int = 25,
        sort: str = "",
        descending: bool = False,
        unit: str = "linhas",
        click_hint: str = "",
        empty_text: str = "Nenhuma linha para mostrar.",
    ):
        self._columns = list(columns)
        self._by_key = {c.key: c for c in self._columns}
        if sort and sort not in self._by_key:
            raise ValueError(f"sort column {sort!r} is not a column")
        self._frame = pd.DataFrame(columns=[c.key for c in self._columns])
        self._ordered_by: tuple[str, bool] | None = None
        self._view = self._frame
        self._folded: pd.Series | None = None
        self._page_records: list[dict[str, Any]] = []
        self._source: Source | None = None
        self._unfiltered_source = 0
        self._click_handlers: list[Callable[[dict[str, Any]], Any]] = []
        self._applying = False
        super().__init__(
            columns=[
                {
                    "key": c.key,
                    "label": c.label,
                    "numeric": c.numeric,
                    "sortable": c.sortable,
                }
                for c in self._columns
            ],
            caption=caption,
            page_size=page_size if page_size in PAGE_SIZES else 25,
            sort=sort,
            descending=descending,
            unit=unit,
            click_hint=click_hint,
            empty_text=empty_text,
        )
        self.observe(
            self._on_client_change, names=["page", "page_size", "sort", "descending", "search"]
        )
        self.on_msg(self._on_message)

    # ---- data ---------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The rows (a source's: all of them, read now)."""
        if self._source is not None:
            return self._source(terms=[], sort="", descending=False, offset=0, limit=None)[0]
        return self._frame

    @frame.setter
    def frame(self, df: pd.DataFrame) -> None:
        self.set_frame(df)

    def set_frame(self, df: pd.DataFrame, ordered_by: tuple[str, bool] | None = None) -> None:
        """New rows (back to the first page). ``ordered_by=(column, descending)``: the rows
        already come in that order (say, from the query's ORDER BY): when that is the table's
        sort, they are not sorted again."""
        missing = [c.key for c in self._columns if c.key not in df.columns]
        if missing:
            raise ValueError(f"table data lacks columns {missing}")
        self._source = None
        self._frame = df.reset_index(drop=True)
        self._folded = None
        self._ordered_by = ordered_by
        self._apply(reset_page=True)

    def set_source(self, source: Source, rows: int) -> None:
        """Rows read a page at a time from ``source`` (back to the first page); ``rows``:
        how many there are before any search (the caller has usually just counted them)."""
        self._source, self._unfiltered_source = source, int(rows)
        self._frame = self._view = pd.DataFrame(columns=[c.key for c in self._columns])
        self._folded = None
        self._apply(reset_page=True)

    def view(self) -> pd.DataFrame:
        """The rows as shown (searched and sorted), all pages: what an export should write."""
        if self._source is not None:
            _page, _size, sort, descending, search = self._checked()
            return self._source(
                terms=fold(search).split(), sort=sort, descending=descending, offset=0, limit=None
            )[0].reset_index(drop=True)
        return self._view

    def on_row_click(self, handler: Callable[[dict[str, Any]], Any]) -> None:
        """``handler(record)`` with the clicked row's full record (every DataFrame column)."""
        self._click_handlers.append(handler)
        self.clickable = True

    # ---- what the browser asks ------------------------------------------------------------
    def _access_ok(self) -> bool:
        """The page's viewer still has the access the rows were read with; else the rows go
        (a revoked grant must not keep serving them page by page) and the table says why."""
        try:
            check_access()
            return True
        except AccessChanged:
            from .ui import ACCESS_CHANGED

            self._source = None
            self._frame = self._frame.iloc[0:0]
            self._view, self._folded, self._page_records = self._frame, None, []
            self._applying = True
            try:
                with self.hold_sync():
                    self.rows, self.total, self.unfiltered, self.selected = [], 0, 0, -1
                    self.page = 0
                    self.empty_text = ACCESS_CHANGED
            finally:
                self._applying = False
            return False

    # ---- a page's memory (painel.dash.memory): order, search and page survive a restart ----
    _STATE = ("page", "page_size", "sort", "descending", "search")

    def painel_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._STATE}

    def painel_restore(self, state: Any) -> None:
        if not isinstance(state, dict):
            return
        self._applying = True  # one redraw below, not one per trait
        try:
            with self.hold_sync():
                for name in self._STATE:
                    if name in state:
                        setattr(self, name, state[name])  # traitlets checks the type
        finally:
            self._applying = False
        self._apply()  # checks every value against the table's columns and rows

    def painel_watch(self, callback: Callable[..., Any]) -> None:
        self.observe(callback, names=list(self._STATE))

    def _on_client_change(self, change: dict[str, Any]) -> None:
        if self._applying or not self._access_ok():
            return
        from . import tracking

        tracking.interaction(f"tabela:{change['name']}")  # a page, a sort, a search
        self._apply(reset_page=change["name"] in ("search", "sort", "descending", "page_size"))

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") != "row":
            return
        index = content.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            return
        if not 0 <= index < len(self._page_records) or not self._access_ok():
            return
        self.selected = index
        record = self._page_records[index]
        for handler in self._click_handlers:
            handler(record)

    def _checked(self) -> tuple[int, int, str, bool, str]:
        size = self.page_size if self.page_size in PAGE_SIZES else 25
        sort = self.sort if self.sort in self._by_key and self._by_key[self.sort].sortable else ""
        descending = self.descending is True
        search = self.search if isinstance(self.search, str) else ""
        search = search[:MAX_SEARCH]
        page = self.page if isinstance(self.page, int) and self.page >= 0 else 0
        return page, size, sort, descending, search

    def _search_index(self) -> pd.Series:
        if self._folded is None:
            keys = [c for c in self._columns if c.is_searchable()]
            if not keys or self._frame.empty:
                self._folded = pd.Series([""] * len(self._frame), dtype="object")
            else:
                text = pd.Series([""] * len(self._frame), dtype="object")
                for c in keys:
                    values = self._frame[c.key]
                    shown = values.map(c.format) if c.kind == "week" else values.astype("string")
                    text = text + " " + shown.fillna("").astype(str)
                self._folded = text.map(fold)
        return self._folded

    def _fetch(
        self, page: int, size: int, sort: str, descending: bool, search: str
    ) -> tuple[pd.DataFrame, int, int]:
        """A source's page: ``(rows, page, total)`` (a page past the end: the last one)."""
        assert self._source is not None
        terms = fold(search).split()
        chunk, total = self._source(
            terms=terms, sort=sort, descending=descending, offset=page * size, limit=size
        )
        last = max(0, -(-total // size) - 1)
        if page > last:
            page = last
            chunk, total = self._source(
                terms=terms, sort=sort, descending=descending, offset=page * size, limit=size
            )
        return chunk, page, total

    def _apply(self, reset_page: bool = False) -> None:
        page, size, sort, descending, search = self._checked()
        if self._source is not None:
            chunk, page, total = self._fetch(
                0 if reset_page else page, size, sort, descending, search
            )
            self._show(chunk, page, size, sort, descending, search, total, self._unfiltered_source)
            return
        view = self._frame
        terms = fold(search).split()
        if terms:
            index = self._search_index()
            mask = pd.Series(True, index=index.index)
            for term in terms:
                mask &= index.str.contains(term, regex=False)
            view = view[mask.to_numpy()]
        if sort and self._ordered_by != (sort, descending):
            view = view.sort_values(
                sort, ascending=not descending, kind="stable", na_position="last"
            )
        self._view = view
        pages = max(1, -(-len(view) // size))
        page = 0 if reset_page else min(page, pages - 1)
        chunk = view.iloc[page * size : (page + 1) * size]
        self._show(chunk, page, size, sort, descending, search, len(view), len(self._frame))

    def _show(
        self,
        chunk: pd.DataFrame,
        page: int,
        size: int,
        sort: str,
        descending: bool,
        search: str,
        total: int,
        unfiltered: int,
    ) -> None:
        self._page_records = chunk.to_dict("records")
        rows = [[c.format(rec[c.key]) for c in self._columns] for rec in self._page_records]
        self._applying = True
        try:
            with self.hold_sync():
                self.page, self.page_size, self.sort = page, size, sort
                self.descending, self.search = descending, search
                self.total, self.unfiltered = total, unfiltered
                self.selected = -1
                self.rows = rows
        finally:
            self._applying = False
