"""``painel.dash.memory``: a page's state, signed for the browser, set again after a restart.

What the page remembers (filters, tabs, a table's order/search/page, a drill path), that it
comes back in page order through each widget's own checks (a cascade's later filter gets its
options from the earlier one first; a value no longer offered is skipped), and that only a
state this server signed for this viewer and panel is accepted.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ipywidgets as widgets
import pandas as pd
import pytest

from painel.dash import memory, tracking, ui
from painel.dash.table import Column, Table
from painel.wire import KERNEL_TOKEN_ENV

WHO = ("maria", "rede_visao_geral")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNEL_TOKEN_ENV, "server-token")


def cascade_page() -> tuple[widgets.VBox, dict[str, Any]]:
    """SRE → Escola (options follow the SRE), a search box, a date, tabs with a table and a
    drill-down, a password box (never kept)."""
    schools = {1: [("E.E. Um", 11), ("E.E. Dois", 12)], 2: [("E.E. Três", 21)]}
    sre = widgets.Dropdown(options=[("SRE A", 1), ("SRE B", 2)], value=1, description="SRE:")
    escola = widgets.Dropdown(options=schools[1], value=11, description="Escola:")

    def on_sre(change: dict[str, Any]) -> None:
        escola.options = schools[change["new"]]

    sre.observe(on_sre, names="value")
    text = widgets.Text(description="Buscar:")
    day = widgets.DatePicker(description="Dia:", value=dt.date(2026, 3, 2))
    multi = widgets.SelectMultiple(options=["a", "b", "c"], value=("a",), description="Turnos:")
    table = Table([Column("nome", "Nome"), Column("n", "N", kind="int")], caption="Alunos")
    table.frame = pd.DataFrame({"nome": [f"aluno {i}" for i in range(60)], "n": range(60)})
    drill = ui.Drill("Estado")
    tabs = widgets.Tab(children=[widgets.VBox([table]), widgets.VBox([drill])])
    secret = widgets.Password(description="Senha:", value="x")
    page = widgets.VBox([widgets.HBox([sre, escola, text]), day, multi, tabs, secret])
    parts = dict(sre=sre, escola=escola, text=text, day=day, multi=multi, table=table)
    parts.update(drill=drill, tabs=tabs, secret=secret)
    return page, parts


def test_the_state_names_every_kept_widget_in_page_order_and_never_a_password() -> None:
    page, _ = cascade_page()
    state = memory.PageMemory(page).snapshot()
    assert list(state) == [
        "Dropdown:SRE:#0",
        "Dropdown:Escola:#0",
        "Text:Buscar:#0",
        "DatePicker:Dia:#0",
        "SelectMultiple:Turnos:#0",
        "Tab:#0",
        "Table:Alunos#0",
        "Drill:#0",
    ]
    assert state["DatePicker:Dia:#0"] == "2026-03-02"
    assert state["Table:Alunos#0"]["page_size"] == 25
    json.dumps(state)  # all of it JSON


def test_a_changed_page_comes_back_in_a_new_kernel_through_the_cascade(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "_who", lambda: WHO)
    page, p = cascade_page()
    mem = memory.PageMemory(page)
    mem.capture()
    p["sre"].value = 2  # the escola options follow
    p["escola"].value = 21
    p["text"].value = "maria"
    p["day"].value = dt.date(2026, 4, 1)
    p["multi"].value = ("b", "c")
    p["tabs"].selected_index = 1
    p["table"].page_size = 10
    p["table"].sort, p["table"].search = "n", "aluno 1"
    p["table"].page = 1  # of 2: 15 rows match
    p["drill"].push("SRE B", 2)
    p["drill"].push("E.E. Três", 21)
    saved = mem.state  # what the browser keeps (captured on each change)
    assert memory.verify(saved, WHO) == mem.snapshot()

    again, q = cascade_page()  # the page as a new kernel builds it
    restored = memory.PageMemory(again)
    restored.capture()
    events: list[str] = []
    monkeypatch.setattr(tracking, "track", lambda event, **kw: events.append(event))
    restored._on_message(restored, {"event": "restore", "state": saved}, [])
    assert restored.restored == 7  # the escola took 21 by itself: its one option for SRE B
    assert q["sre"].value == 2 and q["escola"].value == 21  # options came with the SRE
    assert q["text"].value == "maria" and q["day"].value == dt.date(2026, 4, 1)
    assert q["multi"].value == ("b", "c") and q["tabs"].selected_index == 1
    assert (q["table"].sort, q["table"].search, q["table"].page) == ("n", "aluno 1", 1)
    assert q["table"].total == 15  # names with "aluno" and a "1": applied, not just set
    assert q["drill"].path == [2, 21] and q["drill"].labels[-1] == "E.E. Três"
    assert q["secret"].value == "x"
    assert memory.verify(restored.state, WHO) == memory.verify(saved, WHO)
    assert events == []  # setting a restored state is not the viewer's interaction


def test_a_value_no_longer_offered_is_skipped_and_the_rest_still_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "_who", lambda: WHO)
    page, p = cascade_page()
    mem = memory.PageMemory(page)
    p["escola"].value = 12
    p["text"].value = "ana"
    mem.capture()
    again, q = cascade_page()
    q["escola"].options = [("E.E. Um", 11)]  # the school left the data
    restored = memory.PageMemory(again)
    restored._on_message(restored, {"event": "restore", "state": mem.state}, [])
    assert q["escola"].value == 11 and q["text"].value == "ana"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s, w: memory.sign({**json.loads(json.loads(s)["body"])["s"]}, ("joao", w[1])),
        lambda s, w: memory.sign(json.loads(json.loads(s)["body"])["s"], (w[0], "outro_painel")),
        lambda s, w: s.replace("ana", "bob"),
        lambda s, w: json.dumps({"body": json.loads(s)["body"].replace("ana", "bob"), "mac": "0"}),
        lambda s, w: "x" * (memory.MAX_STATE + 1),
        lambda s, w: 42,
    ],
    ids=["other-viewer", "other-panel", "edited", "forged-mac", "too-big", "not-text"],
)
def test_only_a_state_this_server_signed_for_this_viewer_and_panel_is_restored(
    monkeypatch: pytest.MonkeyPatch, tamper: Any
) -> None:
    monkeypatch.setattr(memory, "_who", lambda: WHO)
    page, p = cascade_page()
    mem = memory.PageMemory(page)
    p["text"].value = "ana"
    mem.capture()
    again, q = cascade_page()
    restored = memory.PageMemory(again)
    restored._on_message(restored, {"event": "restore", "state": tamper(mem.state, WHO)}, [])
    assert restored.restored == 0 and q["text"].value == ""


def test_a_state_from_another_server_start_is_not_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page, p = cascade_page()
    p["text"].value = "ana"
    signed = memory.sign(memory.PageMemory(page).snapshot(), WHO)
    monkeypatch.setenv(KERNEL_TOKEN_ENV, "next-start")
    assert memory.verify(signed, WHO) is None
    monkeypatch.setenv(KERNEL_TOKEN_ENV, "")
    assert memory.verify(memory.sign({}, WHO), WHO) is None  # no token, no restore


def test_widgets_added_after_the_first_capture_are_watched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "_who", lambda: WHO)
    box = widgets.VBox([])
    mem = memory.PageMemory(box)
    mem.capture()
    late = widgets.Dropdown(options=["x", "y"], value="x", description="Mais tarde:")
    box.children = (late,)
    mem.capture()  # what the page's fill runs once the page is complete
    late.value = "y"
    assert memory.verify(mem.state, WHO) == {"Dropdown:Mais tarde:#0": "y"}
