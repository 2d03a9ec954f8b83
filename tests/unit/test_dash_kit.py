"""painel.dash: the page deadline, messages, the executor's timeout per cell."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from painel import dash
from painel.dash import ui
from painel.web.app import VisitorCellTimeout


def test_deadline_interrupts_a_slow_build_and_restores_the_alarm() -> None:
    started = time.monotonic()
    with pytest.raises(dash.BuildTimeout), dash.deadline(0.2):
        time.sleep(5)
    assert time.monotonic() - started < 2
    with dash.deadline(0.5):  # finished in time: nothing raised later
        pass
    time.sleep(0.7)


def test_no_deadline_means_none() -> None:
    with dash.deadline(0):
        time.sleep(0.05)


def test_messages_are_announced_and_failures_ask_for_a_retry() -> None:
    assert 'role="alert"' in ui.message("x", "error")
    assert 'role="status"' in ui.message("x")
    assert "data-painel-retry" in ui.message("x", "error", retry=True)
    assert "data-painel-retry" not in ui.message("x", "error")
    assert "&lt;b&gt;" in ui.message("<b>")


@pytest.mark.parametrize(
    "source",
    [
        "dash.render(page.build)",
        "viewer = dash.current_viewer()",
        "from painel.dash import render\nrender(build)",
    ],
)
def test_the_cell_that_waits_for_its_visitor_has_no_executor_timeout(source: str) -> None:
    timeout = VisitorCellTimeout(120)
    assert timeout({"cell_type": "code", "source": source}) is None


def test_other_cells_keep_the_executor_timeout() -> None:
    timeout = VisitorCellTimeout(120)
    assert (
        timeout({"cell_type": "code", "source": "from painel import dash\ndash.warm_up()"}) == 120
    )
    assert timeout({"cell_type": "code", "source": "x = renderer"}) == 120


# ---- pt-BR formats -----------------------------------------------------------------------------
def test_numbers_dates_and_weeks_in_pt_br() -> None:
    import datetime as dt

    from painel.dash import fmt

    assert fmt.number(4700) == "4.700" and fmt.number(4, 1) == "4,0"
    assert fmt.number(1234567.891, 2) == "1.234.567,89" and fmt.number(-0.01, 1) == "0,0"
    assert fmt.number(float("nan")) == "—" and fmt.number(None) == "—"
    assert fmt.signed(2.5) == "+2,5" and fmt.signed(-1) == "-1,0" and fmt.signed(0) == "0,0"
    assert fmt.percent(45.0) == "45,0%" and fmt.percent(None) == "—"
    assert fmt.date(dt.date(2026, 11, 23)) == "23/11/2026"
    # naive instants are UTC; shown in São Paulo (UTC-3)
    assert fmt.datetime("2026-11-29T08:05:00+00:00") == "29/11/2026 05:05"
    assert fmt.datetime(dt.datetime(2026, 11, 29, 8, 5)) == "29/11/2026 05:05"
    assert fmt.week("2026-W48") == "Sem. 48 · 23/11–29/11"
    assert fmt.week("2026-W01", year=True) == "Sem. 1 · 29/12–04/01/2026"
    assert fmt.week("not a week") == "not a week"
    assert (
        fmt.plural(1, "aluno", "alunos") == "1 aluno" and fmt.plural(1124, "a", "as") == "1.124 as"
    )


def test_an_identifier_column_shows_its_digits_without_separators() -> None:
    from painel.dash.table import Column

    uid = Column("ID Cademi", "ID Cademi", kind="id")
    assert uid.format(1234567) == "1234567" and uid.format(1234567.0) == "1234567"
    assert uid.format(None) == "—" and uid.format(float("nan")) == "—"
    assert uid.format("A-12") == "A-12"
    assert uid.is_searchable() and not uid.numeric


def test_amounts_of_money_in_reais() -> None:
    import io

    import openpyxl
    import pandas as pd

    from painel.dash import excel, fmt
    from painel.dash.table import Column

    assert fmt.money(1234567.891) == "R$ 1.234.567,89" and fmt.money(0) == "R$ 0,00"
    assert fmt.money(-12.5) == "−R$ 12,50" and fmt.money(None) == "—"
    assert (
        fmt.money_short(3_456_000_000) == "R$ 3,5 bi" and fmt.money_short(950_000) == "R$ 950 mil"
    )
    assert fmt.money_short(125_400_000) == "R$ 125 mi" and fmt.money_short(820) == "R$ 820"
    valor = Column("valor", "Valor", kind="money")
    assert valor.numeric and valor.format(84427.84) == "R$ 84.427,84"
    data = excel.workbook(
        pd.DataFrame({"valor": [84427.84]}), [valor], sheet="S", filters=[], exported_by="t"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == 84427.84 and sheet["A2"].number_format == '"R$" #,##0.00'


def test_checks_and_parameters_are_said_in_portuguese() -> None:
    from painel.checks import pt_detail, pt_name
    from painel.freshness import summarize_parameters

    assert pt_name({"name": "progress_weekly unique on (week, student_id)"}) == (
        "Sem repetições em progress_weekly por (week, student_id)"
    )
    assert pt_name({"name": "weeks is not empty"}) == "A tabela weeks tem linhas"
    assert pt_name({"name": "x", "label": "Rótulo próprio"}) == "Rótulo próprio"
    assert pt_name({"name": "something custom"}) == "something custom"
    assert pt_detail("12 rows") == "12 linhas"
    assert pt_detail("3 duplicated keys") == "3 chaves repetidas"
    assert pt_detail("4 rows of unknown classes") == "4 linhas com problema"
    assert pt_detail("students: 2 nulls, week: 1 nulls") == "students: 2 vazios, week: 1 vazios"
    text = summarize_parameters(
        {
            "week": "2026-W48",
            "base_url": "https://escola.cademi.com.br/api/v1",
            "api_key_env": "CADEMI_API_KEY",
            "tracks": {"a": 1, "b": 2},
            "allow_past_week": False,
            "per_second": 2.0,
            "max_failed_share": 0.02,
        }
    )
    assert text == (
        "week: Sem. 48 · 23/11–29/11; tracks: 2 itens; allow_past_week: não; "
        "per_second: 2; max_failed_share: 0,02"
    )


# ---- the table's server side ---------------------------------------------------------------------
def make_table() -> tuple[Any, list[dict[str, Any]]]:
    import pandas as pd

    from painel.dash.table import Column, Table

    names = ["Conceição Silva", "ana dias", "Bruno Reis", "Álvaro Souza"] * 15
    df = pd.DataFrame(
        {
            "id": range(60),
            "Aluno": names,
            "Progresso": [float(i % 7) * 10.5 for i in range(60)],
            "Início": pd.to_datetime(["2026-11-23"] * 60),
        }
    )
    table = Table(
        [
            Column("Aluno", "Aluno"),
            Column("Progresso", "Progresso (%)", kind="decimal"),
            Column("Início", "Início", kind="date"),
        ],
        page_size=25,
    )
    clicked: list[dict[str, Any]] = []
    table.on_row_click(clicked.append)
    table.frame = df
    return table, clicked


def test_table_pages_sorts_searches_and_formats() -> None:
    table, _ = make_table()
    assert (table.total, table.unfiltered, len(table.rows)) == (60, 60, 25)
    assert table.rows[0] == ["Conceição Silva", "0,0", "23/11/2026"]
    table.page = 2
    assert len(table.rows) == 10
    table.sort, table.descending = "Progresso", True
    assert table.page == 0 and table.rows[0][1] == "63,0"
    values = [float(r[1].replace(",", ".")) for r in table.rows]
    assert values == sorted(values, reverse=True)
    table.search = "CONCEICAO"
    assert table.total == 15 and all(r[0] == "Conceição Silva" for r in table.rows)
    table.search = "alvaro souza"
    assert table.total == 15 and table.unfiltered == 60
    assert len(table.view()) == 15  # what an export writes: searched and sorted, every page


def test_rows_already_in_the_tables_order_are_not_sorted_again() -> None:
    table, _ = make_table()
    table.sort = "Progresso"
    shuffled = table.frame.sort_values("id", ascending=False)
    # said to be in the table's order: kept as given (here, visibly not by Progresso)
    table.set_frame(shuffled, ordered_by=("Progresso", False))
    assert table.view()["id"].tolist() == shuffled["id"].tolist()
    # in another order than the table's sort: sorted
    table.set_frame(shuffled, ordered_by=("Aluno", False))
    assert table.view()["Progresso"].is_monotonic_increasing
    table.descending = True  # a click on the header re-sorts whatever the frame said
    table.set_frame(shuffled, ordered_by=("Progresso", False))
    assert table.view()["Progresso"].is_monotonic_decreasing


def test_a_chart_sends_plotly_js_once_to_a_page_without_it() -> None:
    from painel.dash.chart import Chart, plotly_js

    sent: list[tuple[Any, Any]] = []
    chart = Chart(filename="x")
    chart.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    chart._clicked(chart, {"event": "plotly.js"}, [])
    chart._clicked(chart, {"event": "plotly.js"}, [])  # a second ask (or a hostile loop): nothing
    assert len(sent) == 1 and sent[0][0] == {"event": "plotly.js"}
    assert sent[0][1][0] == plotly_js() and b"window.Plotly = Plotly" in sent[0][1][0]
    chart._clicked(chart, {"event": "click", "x": "a"}, [])  # no on_click: ignored
    assert len(sent) == 1


def test_a_chart_is_plain_json_with_the_house_config() -> None:
    import json

    import numpy as np

    from painel.dash import plots
    from painel.dash.chart import Chart

    spec = plots.spec(
        [{"type": "bar", "x": np.array(["a", "b"]), "y": np.array([1, 2])}], {"title": "T"}
    )
    chart = Chart(spec, filename="meu_grafico")
    json.dumps(chart.spec)  # what the widget channel sends
    assert chart.spec["data"][0]["y"] == [1, 2]
    assert chart.spec["config"]["toImageButtonOptions"]["filename"] == "meu_grafico"
    assert chart.spec["layout"]["title"]["text"] == "T" and not chart.clickable
    assert chart.alt == plots.alt_text(spec)
    # pt-BR axes: 6.000, not 6000 (plotly groups only five digits and more by default)
    axes = chart.spec["layout"]["template"]["layout"]
    assert axes["xaxis"]["separatethousands"] and axes["yaxis"]["separatethousands"]
    import plotly.graph_objects as go

    fig = plots.style(go.Figure(go.Bar(x=["a"], y=[6000])))
    assert fig.layout.yaxis.separatethousands and fig.layout.xaxis.separatethousands


def test_table_refuses_what_a_hostile_client_sends() -> None:
    table, clicked = make_table()
    table.sort = "id"  # not a column of the table: ignored
    assert table.sort == ""
    table.page = -3
    assert table.page == 0
    table.page = 10_000
    assert table.page == 2  # the last page
    table.page_size = 10**6
    assert table.page_size == 25
    table.search = "x" * 10_000
    assert len(table.search) == 100
    table.search = ""
    for bad in (99, -1, "0", None, True, 1.5):
        table._on_message(table, {"event": "row", "index": bad}, [])
    assert clicked == []
    table.page = 1
    table._on_message(table, {"event": "row", "index": 3}, [])
    assert [c["id"] for c in clicked] == [28] and table.selected == 3


def test_a_chart_click_is_checked_against_the_drawn_categories() -> None:
    import plotly.graph_objects as go

    from painel.dash.ui import ClickChart

    clicked: list[Any] = []
    chart = ClickChart(clicked.append)
    import pandas as pd

    chart.figure = go.Figure(go.Bar(x=pd.Series(["No ritmo", "Atrasado"]), y=[3, 4]))
    for forged in ({"event": "click", "x": "Outra turma"}, {"event": "click", "x": 1}, "x", {}):
        chart._clicked(chart, forged, [])
    assert clicked == []
    chart._clicked(chart, {"event": "click", "x": "Atrasado"}, [])
    assert clicked == ["Atrasado"]
    config = chart.spec["config"]
    assert config["locale"] == "pt-BR" and config["showSendToCloud"] is False
    assert chart.spec["data"][0]["x"] == ["No ritmo", "Atrasado"] and chart.clickable
    assert chart.alt.startswith("Gráfico")


def test_source_text_reaches_plotly_as_text_not_html() -> None:
    """Issue 9: a student or class name with markup must not become a link or a style."""
    import plotly.graph_objects as go

    from painel.dash.chart import Chart

    hostile = '<a href="https://evil.example/">clique</a> & <span style="font-size:99px">x</span>'
    clicked: list[Any] = []
    fig = go.Figure(
        go.Bar(
            x=[hostile, "Turma 1"],
            y=[1, 2],
            name=hostile,
            text=[hostile, "ok"],
            hovertemplate="%{x}: %{y}<extra>" + hostile + "</extra>",
        )
    )
    fig.update_layout(title=f"Jornada de {hostile}<br><b>Sem. 48</b>", xaxis_title=hostile)
    chart = Chart(fig, on_click=clicked.append)
    text = json.dumps(chart.spec["data"]) + json.dumps(chart.spec["layout"])
    assert "<a" not in text and "<span" not in text
    assert "&lt;a href=" in text and "&amp;" in text
    layout = chart.spec["layout"]
    assert layout["title"]["text"].endswith("<br><b>Sem. 48</b>")  # the panel's own tags stay
    assert chart.spec["data"][0]["hovertemplate"].startswith("%{x}: %{y}<extra>&lt;a")
    # a click on the (escaped) bar still reaches the server's own value
    chart._clicked(chart, {"event": "click", "x": chart.spec["data"][0]["x"][0]}, [])
    assert clicked == [hostile]


def test_a_table_reads_its_rows_a_page_at_a_time_from_a_source() -> None:
    """The same pages, sort, search and export as a DataFrame's, from a query per page."""
    import duckdb
    import pandas as pd

    from painel.dash.table import search_sql

    held, _ = make_table()
    df = held.frame
    con = duckdb.connect()
    con.register("t", df)
    asked: list[int | None] = []

    def source(
        *, terms: list[str], sort: str, descending: bool, offset: int, limit: int | None
    ) -> tuple[pd.DataFrame, int]:
        asked.append(limit)
        where, params = search_sql(['"Aluno"'], terms)
        order = f'"{sort}" {"DESC" if descending else "ASC"}, id' if sort else "id"
        page = f" LIMIT {limit} OFFSET {offset}" if limit is not None else ""
        rows = con.execute(f"SELECT * FROM t WHERE {where} ORDER BY {order}{page}", params).df()
        total = con.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchall()[0][0]
        return rows, int(total)

    table, clicked = make_table()
    table.set_source(source, len(df))
    assert asked == [25] and table._frame.empty  # one page asked, nothing held but the page
    for t in (held, table):
        t.page = 2
    assert table.rows == held.rows and len(table.rows) == 10
    for t in (held, table):
        t.sort, t.descending = "Progresso", True
    assert table.page == 0 and table.rows == held.rows
    for t in (held, table):
        t.search = "CONCEICAO"  # accents and case aside, as the held table's search
    assert (table.total, table.unfiltered) == (held.total, held.unfiltered) == (15, 60)
    assert table.rows == held.rows
    # what an export writes: the search and sort, every page
    assert table.view()["id"].tolist() == held.view()["id"].tolist()
    assert None in asked and max(a for a in asked if a is not None) == 25
    # a page past the end is the last page; a click gives the page's full record
    table.search = ""
    table.page = 10_000
    assert table.page == 2 and len(table.rows) == 10
    table._on_message(table, {"event": "row", "index": 0}, [])
    assert clicked[-1]["id"] == table._page_records[0]["id"]
    # a frame again replaces the source
    table.set_frame(df.head(3))
    assert table.total == 3 and len(table.frame) == 3


def test_search_sql_matches_the_tables_folded_search() -> None:
    import duckdb

    from painel.dash.fmt import fold
    from painel.dash.table import search_sql

    assert search_sql(["a"], []) == ("TRUE", [])
    words = ["Conceição", "ÁLVARO", "São João del-Rei", "50%_off", "o'brien"]
    con = duckdb.connect()
    for query in ("conceicao", "alvaro", "SAO JOAO", "50%_", "'", "joão del", "x%"):
        terms = fold(query).split()
        where, params = search_sql(["w"], terms)
        got = [
            r[0]
            for r in con.execute(
                f"SELECT w FROM (SELECT unnest(?) AS w) WHERE {where}", [words, *params]
            ).fetchall()
        ]
        want = [w for w in words if all(t in fold(w) for t in terms)]
        assert got == want, query
