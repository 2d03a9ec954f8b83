"""The Usuários page (painel.usuarios) as an admin uses it, against a real operational store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from painel import audit, usuarios
from painel.access import Viewer
from painel.auth import Users
from painel.dash.table import Table
from painel.opstate import OpState

PASSWORD = "uma senha longa"


@pytest.fixture
def op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OpState:
    from painel.dash import identity

    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(identity.TEST_USER_ENV, raising=False)
    ops = OpState(tmp_path / "home" / "painel.sqlite")
    Users(ops).add("admin.rui", PASSWORD, "admin", display_name="Rui")
    Users(ops).add("maria", PASSWORD, "school_sre", ["school:sre:12"], "Maria")
    identity.view_as("admin.rui")
    return ops


def page_of(op: OpState) -> dict[str, Any]:
    page = usuarios.build(Viewer("admin.rui", "admin"), op)
    _intro, notice, add, table, form = page.children
    title, username, nome, papel, email, acessos, senha, ativo, buttons, said = form.children
    return dict(
        page=page,
        notice=notice,
        add=add,
        table=table,
        form=form,
        username=username,
        nome=nome,
        papel=papel,
        email=email,
        acessos=acessos,
        senha=senha,
        ativo=ativo,
        save=buttons.children[0],
        said=said,
    )


def test_an_admin_adds_a_user_without_a_password_and_it_is_audited(op) -> None:
    p = page_of(op)
    table: Table = p["table"]
    assert table.total == 2 and table.rows[0][0] == "admin.rui"
    p["add"].click()
    p["username"].value = "Jose@Educacao.mg.gov.br"
    p["nome"].value = "José"
    p["papel"].value = "school_director"
    p["acessos"].value = "school:school:31000001\nschool:school:31000002"
    p["email"].value = "jose@educacao.mg.gov.br"
    p["save"].click()
    assert "Usuário jose@educacao.mg.gov.br criado." in p["said"].value
    assert table.total == 3
    [jose] = [u for u in Users(op).list() if u["username"] == "jose@educacao.mg.gov.br"]
    assert (jose["role"], jose["grants"]) == (
        "school_director",
        ["school:school:31000001", "school:school:31000002"],
    )
    assert Users(op).authenticate("jose@educacao.mg.gov.br", "x" * 12) is None  # no password
    [e] = audit.search(op, action="user_added", actor="admin.rui", limit=None)[0]
    assert e.target == "jose@educacao.mg.gov.br"


def test_bad_input_is_said_in_portuguese_and_changes_nothing(op) -> None:
    p = page_of(op)
    p["add"].click()
    p["username"].value = "ana"
    p["acessos"].value = "school:sre"
    p["save"].click()
    assert "Acesso inválido: «school:sre»" in p["said"].value
    p["acessos"].value = "*"
    p["email"].value = "ana-sem-arroba"
    p["save"].click()
    assert "E-mail inválido" in p["said"].value
    p["email"].value = ""
    p["username"].value = "maria"
    p["save"].click()
    assert "Já existe o usuário «maria»" in p["said"].value
    assert {u["username"] for u in Users(op).list()} == {"admin.rui", "maria"}


def test_an_admin_changes_a_user_and_each_change_is_an_entry(op) -> None:
    p = page_of(op)
    table: Table = p["table"]
    maria = next(r for r in table._page_records if r["username"] == "maria")
    table._on_message(table, {"event": "row", "index": table._page_records.index(maria)}, [])
    assert p["username"].disabled and p["acessos"].value == "school:sre:12"
    assert table.layout.display == "none" and p["form"].layout.display is None  # in its place
    p["papel"].value = "school_central"
    p["acessos"].value = "school:*"
    p["ativo"].value = False
    p["save"].click()
    assert "Usuário maria alterado." in p["said"].value
    [u] = [u for u in Users(op).list() if u["username"] == "maria"]
    assert (u["role"], u["grants"], u["disabled"]) == ("school_central", ["school:*"], 1)
    got = [
        e.action
        for e in reversed(
            audit.search(op, actor="admin.rui", target_only=None)
            if False
            else audit.search(op, actor="admin.rui", limit=None)[0]
        )
    ]
    assert got == ["user_changed", "grant", "revoke", "user_changed"]
    # an admin cannot lock itself out
    me = next(r for r in table._page_records if r["username"] == "admin.rui")
    table._on_message(table, {"event": "row", "index": table._page_records.index(me)}, [])
    p["ativo"].value = False
    p["save"].click()
    assert "não pode desativar a própria conta" in p["said"].value


def test_a_demoted_admin_changes_nothing_more_and_others_see_nothing(op, monkeypatch) -> None:
    from painel.dash import identity

    # a kernel under painel serve whose visitor is admin.rui
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv(identity.USER_ENV, "admin.rui")
    monkeypatch.setattr(identity, "_served", None)
    monkeypatch.setattr(identity, "_access_changed", False)
    assert identity.current_viewer().username == "admin.rui"
    p = page_of(op)
    Users(op).set_role("admin.rui", "analyst")  # demoted while the page is open
    p["add"].click()
    p["username"].value = "intruso"
    p["acessos"].value = "*"
    p["save"].click()
    assert "intruso" not in {u["username"] for u in Users(op).list()}
    assert "mudou" in str(p["notice"].outputs) or "acesso" in str(p["notice"].outputs).lower()
    shown = usuarios.build(Viewer("maria", "school_sre"), op)
    assert "Só a administração" in shown.value
