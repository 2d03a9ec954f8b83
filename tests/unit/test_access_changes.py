"""A served page re-checks its viewer's access before each query and each action (issue 9).

The viewer is read once, when the page is built; a revoked grant, a changed role or a
disabled user must stop what the open page serves next: queries, table pages, row clicks,
exports and the page's own callbacks.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from painel.access import AccessChanged
from painel.auth import Users
from painel.dash import identity, ui
from painel.dash.download import Download
from painel.dash.table import Column, Table
from painel.opstate import OpState
from painel.runctx import RunContext
from painel.scope import ScopedDataset
from painel.store import Store
from painel.wire import USER_ENV

PASSWORD = "correct horse battery"


@pytest.fixture
def served(tmp_path, monkeypatch) -> Users:
    """A kernel under ``painel serve`` whose visitor is maria (regional 1 of dataset demo)."""
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path))
    monkeypatch.setenv("VOILA_PREHEAT", "False")  # served, already past the visitor's wait
    monkeypatch.setenv(USER_ENV, "maria")
    monkeypatch.setattr(identity, "_served", None)
    monkeypatch.setattr(identity, "_access_changed", False)
    op = OpState(tmp_path / "painel.sqlite")
    op.migrate()
    users = Users(op)
    users.add("maria", PASSWORD, "school_sre", grants=["demo:regional:1", "demo:regional:2"])
    assert identity.current_viewer().username == "maria"
    return users


def publish(store: Store) -> None:
    build = store.build(
        "demo", {"enrolment": {"regional": "regional_id"}}, run=RunContext("r", "test")
    )
    build.con.execute(
        "CREATE TABLE enrolment AS SELECT * FROM (VALUES (1, 10), (2, 20)) t(regional_id, n)"
    )
    build.publish()


def test_nothing_changed_nothing_refused(served) -> None:
    identity.check_access()
    identity.check_access()


def test_the_check_reads_the_store_of_the_current_home(served, tmp_path, monkeypatch) -> None:
    """The kept connection follows PAINEL_HOME: another home's store, another answer."""
    identity.check_access()
    other = tmp_path / "other"
    monkeypatch.setenv("PAINEL_HOME", str(other))
    op = OpState(other / "painel.sqlite")
    op.migrate()
    Users(op).add("maria", PASSWORD, "school_sre", grants=["demo:regional:1"])  # fewer grants
    with pytest.raises(AccessChanged):
        identity.check_access()


@pytest.mark.parametrize(
    "change",
    [
        lambda u: u.revoke("maria", ["demo:regional:2"]),
        lambda u: u.grant("maria", ["demo:regional:3"]),
        lambda u: u.set_role("maria", "admin"),
        lambda u: u.set_disabled("maria", True),
    ],
    ids=["revoked", "granted", "role", "disabled"],
)
def test_any_change_of_access_is_refused_from_then_on(served, change) -> None:
    identity.check_access()  # the kernel's connection to the store is open from here on
    change(served)  # committed by another connection
    with pytest.raises(AccessChanged):
        identity.check_access()
    served.set_disabled("maria", False)  # even back as before: the page must be reloaded
    with pytest.raises(AccessChanged):
        identity.check_access()


def test_the_next_query_after_a_revocation_reads_nothing(served, tmp_path) -> None:
    store = Store(tmp_path / "store")
    publish(store)
    ds = identity.open_dataset(identity.current_viewer(), "demo")
    assert sorted(ds.sql("SELECT regional_id FROM enrolment")["regional_id"]) == [1, 2]
    served.revoke("maria", ["demo:regional:2"])
    with pytest.raises(AccessChanged):
        ds.sql("SELECT regional_id FROM enrolment")
    with pytest.raises(AccessChanged):  # and stays closed
        ds.sql("SELECT 1")


def test_a_remembered_answer_is_refused_after_a_revocation(served, tmp_path) -> None:
    store = Store(tmp_path / "store")
    publish(store)
    ds = identity.open_dataset(identity.current_viewer(), "demo")
    assert ds.memo("n", lambda: 2) == 2
    served.revoke("maria", ["demo:regional:2"])
    with pytest.raises(AccessChanged):
        ds.memo("n", lambda: 2)


def test_a_remembered_answer_lasts_one_version(tmp_path) -> None:
    """``memo`` computes once per key and version; a new version computes again."""
    from painel.access import Grant, Viewer

    store = Store(tmp_path / "store")
    publish(store)
    viewer = Viewer("ana", "admin", frozenset({Grant.parse("demo:*")}))
    ds = ScopedDataset(viewer, "demo", store)
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return int(ds.sql("SELECT sum(n) AS n FROM enrolment")["n"].iloc[0])

    assert [ds.memo("n", count), ds.memo("n", count), ds.memo("m", count)] == [30, 30, 30]
    assert len(calls) == 2  # once per key
    publish(store)
    assert ds.memo("n", count) == 30 and len(calls) == 3  # the new version computes again


def test_a_scoped_dataset_without_a_check_is_unchanged(tmp_path) -> None:
    from painel.access import Viewer

    store = Store(tmp_path / "store")
    publish(store)
    ds = ScopedDataset(Viewer("x", "admin"), "demo", store)
    assert len(ds.sql("SELECT * FROM enrolment")) == 2
    ds.close()


def make_table() -> Table:
    table = Table([Column("Aluno", "Aluno")], page_size=25)
    table.set_frame(pd.DataFrame({"Aluno": [f"Aluno {i}" for i in range(60)]}))
    return table


def test_a_table_stops_serving_its_rows_once_access_changed(served) -> None:
    table = make_table()
    clicked: list[Any] = []
    table.on_row_click(clicked.append)
    table.page = 1
    assert table.rows[0] == ["Aluno 25"]
    served.revoke("maria", ["demo:regional:1"])
    table.page = 2  # the next page: not served
    assert table.rows == [] and table.total == 0 and table.page == 0
    assert table.empty_text == ui.ACCESS_CHANGED
    assert len(table.view()) == 0  # nothing left for an export either
    table._on_message(table, {"event": "row", "index": 0}, [])
    assert clicked == []


def test_a_table_fed_by_a_source_stops_asking_it_once_access_changed(served) -> None:
    asked: list[int] = []

    def source(**ask: Any) -> tuple[pd.DataFrame, int]:
        asked.append(ask["offset"])
        rows = [f"Aluno {i}" for i in range(60)][ask["offset"] :][: ask["limit"] or 60]
        return pd.DataFrame({"Aluno": rows}), 60

    table = Table([Column("Aluno", "Aluno")], page_size=25)
    table.set_source(source, 60)
    table.page = 1
    assert table.rows[0] == ["Aluno 25"] and asked == [0, 25]
    served.revoke("maria", ["demo:regional:1"])
    table.page = 2
    assert table.rows == [] and table.total == 0 and table.empty_text == ui.ACCESS_CHANGED
    assert len(table.view()) == 0 and len(table.frame) == 0  # nor for an export
    table.search = "Aluno"
    assert asked == [0, 25]  # the source was never asked again


def test_an_export_is_refused_once_access_changed(served) -> None:
    made: list[int] = []

    def make() -> tuple[str, bytes, int]:
        made.append(1)
        return "x.xlsx", b"data", 1

    dl = Download("Exportar Excel", make)
    served.set_role("maria", "tutor")
    dl._on_message(dl, {"event": "click"}, [])
    assert made == [] and dl.status == ui.ACCESS_CHANGED


def test_a_guarded_callback_says_access_changed_instead_of_running(served) -> None:
    import ipywidgets as widgets

    out = widgets.Output()
    ran: list[int] = []
    callback = ui.guarded(out)(lambda: ran.append(1))
    callback()
    assert ran == [1]
    served.revoke("maria", ["demo:regional:2"])
    callback()
    assert ran == [1]
    shown = out.outputs[0]["data"]["text/html"]
    assert "Seu acesso a estes dados mudou" in shown and 'role="alert"' in shown


def test_outside_painel_serve_nothing_is_checked(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setattr(identity, "_served", None)
    monkeypatch.setattr(identity, "_access_changed", False)
    identity.check_access()  # JupyterLab, nbval: no served visitor, no lookup
