"""``painel users import`` (painel.userfile) against a real operational store."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel import audit, userfile
from painel.auth import Users
from painel.opstate import OpState

HEADER = "email;nome;papel;acessos\n"


@pytest.fixture
def op(tmp_path: Path) -> OpState:
    return OpState(tmp_path / "home" / "painel.sqlite")


def write(tmp_path: Path, text: str, encoding: str = "utf-8-sig", name: str = "u.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def users_of(op: OpState) -> dict[str, tuple[object, ...]]:
    return {
        str(u["username"]): (u["role"], u["display_name"], tuple(u["grants"]))  # type: ignore[arg-type]
        for u in Users(op).list()
    }


def test_an_excel_file_creates_the_accounts_and_again_changes_nothing(op, tmp_path) -> None:
    text = HEADER + (
        "Maria.Silva@educacao.mg.gov.br;Maria Conceição;school_sre;school:sre:12\n"
        "jose@educacao.mg.gov.br;José;school_director;school:school:31000001 | school:school:31000002\n"
        "\n"
    )
    path = write(tmp_path, text, encoding="cp1252")  # what Excel saves in Brazil
    report = userfile.apply(op, path, actor="cli:rh")
    assert report.summary() == "2 added, 0 changed, 0 unchanged, 0 rejected"
    assert users_of(op) == {
        "maria.silva@educacao.mg.gov.br": ("school_sre", "Maria Conceição", ("school:sre:12",)),
        "jose@educacao.mg.gov.br": (
            "school_director",
            "José",
            ("school:school:31000001", "school:school:31000002"),
        ),
    }
    # no password: nothing logs in with one until an admin sets it (or single sign-on)
    assert Users(op).authenticate("jose@educacao.mg.gov.br", userfile.NO_PASSWORD) is None
    entries = audit.search(op, action="user_added", limit=None)[0]
    assert {e.actor for e in entries} == {"cli:rh"} and len(entries) == 2
    # the same file again: nothing changes, nothing is recorded
    recorded = audit.search(op, limit=None)[1]
    again = userfile.apply(op, path, actor="cli:rh")
    assert again.summary() == "0 added, 0 changed, 2 unchanged, 0 rejected"
    assert audit.search(op, limit=None)[1] == recorded


def test_the_file_is_the_truth_for_its_people_and_a_dry_run_changes_nothing(op, tmp_path) -> None:
    first = write(
        tmp_path,
        "email,name,role,grants\n"
        "ana@cge.go.gov.br,Ana,cge_analista,procurement:*\n"
        "bia@cge.go.gov.br,Bia,orgao,procurement:orgao:01909911000107\n",
        encoding="utf-8",
    )
    userfile.apply(op, first, actor="cli:rh")
    Users(op).add("fora.do.arquivo", "uma senha longa", "admin")
    second = write(
        tmp_path,
        "email,name,role,grants\n"
        "ana@cge.go.gov.br,Ana Souza,cge_gestor,procurement:*\n"
        "bia@cge.go.gov.br,Bia,orgao,procurement:orgao:01135345000115\n"
        "caio@cge.go.gov.br,Caio,cge_analista,procurement:*\n",
        encoding="utf-8",
        name="v2.csv",
    )
    before = users_of(op)
    plan = userfile.apply(op, second, actor="cli:rh", dry_run=True)
    assert users_of(op) == before  # a dry run changes nothing
    assert plan.added == ["caio@cge.go.gov.br"]
    assert plan.changed == {
        "ana@cge.go.gov.br": ["papel cge_analista -> cge_gestor", "nome 'Ana' -> 'Ana Souza'"],
        "bia@cge.go.gov.br": [
            "+procurement:orgao:01135345000115",
            "-procurement:orgao:01909911000107",
        ],
    }
    done = userfile.apply(op, second, actor="cli:rh")
    assert (done.added, done.changed) == (plan.added, plan.changed)
    after = users_of(op)
    assert after["bia@cge.go.gov.br"][2] == ("procurement:orgao:01135345000115",)
    assert after["ana@cge.go.gov.br"][:2] == ("cge_gestor", "Ana Souza")
    assert after["fora.do.arquivo"] == before["fora.do.arquivo"]  # not in the file: untouched
    [change] = [
        e
        for e in audit.search(op, action="user_changed", limit=None)[0]
        if e.target == "bia@cge.go.gov.br"
    ]
    assert change.detail["arquivo"] == "v2.csv" and change.detail["linha"] == 3


def test_bad_lines_are_rejected_by_number_and_the_others_imported(op, tmp_path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "ok@x.gov.br;Ok;analyst;*\n"
        + "sem-arroba;Ruim;analyst;*\n"
        + "papel@x.gov.br;Papel;diretor;*\n"
        + "acesso@x.gov.br;Acesso;analyst;school:nada\n"
        + "OK@x.gov.br;De novo;analyst;*\n",
    )
    report = userfile.apply(op, path, actor="cli:rh")
    assert report.added == ["ok@x.gov.br"]
    assert [line for line, _ in report.rejected] == [3, 4, 5, 6]
    why = dict(report.rejected)
    assert "not an e-mail address" in why[3] and "unknown role 'diretor'" in why[4]
    assert "school:nada" in why[5] and "already on line 2" in why[6]


def test_a_file_without_the_columns_is_named(op, tmp_path) -> None:
    path = write(tmp_path, "nome;acessos\nMaria;*\n")
    with pytest.raises(userfile.ImportFileError, match=r"u\.csv: no column email or papel"):
        userfile.apply(op, path, actor="cli:rh")
    with pytest.raises(userfile.ImportFileError, match="empty"):
        userfile.apply(op, write(tmp_path, "", name="vazio.csv"), actor="cli:rh")
