"""The findings workflow: statuses carried across published versions, the allowed moves, the
reasons they need, a concurrent change refused, every change audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel.opstate import OpState
from painel.procurement import workflow as wf


@pytest.fixture
def ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OpState:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path))
    return OpState(tmp_path / "opstate.sqlite")


def row(regra: str, chave: str, risco: float = 100.0, orgao: str = "01409580000138") -> tuple:
    return (regra, chave, orgao, f"{orgao}-1", f"{orgao}-1-000001/2026", risco, f"{regra} {chave}")


def move(ops: OpState, chave: str, seen: str, to: str, **kw: object) -> dict:
    args: dict = {"regra": "R2", "chave": chave, "seen": seen, "to": to, "actor": "ana"}
    args.update({"role": "cge_analista", **kw})
    return wf.change(ops, **args)


def test_a_first_sync_makes_every_finding_new_and_says_so(ops: OpState) -> None:
    report = wf.sync(ops, "v1", [row("R2", "a"), row("R2", "b"), row("R1", "a")])
    assert (report.novos, report.vistos, report.encerrados) == (3, 0, 0)
    got = wf.statuses(ops, [("R2", "a"), ("R1", "a"), ("R2", "zzz")])
    assert {k: v["status"] for k, v in got.items()} == {("R2", "a"): "novo", ("R1", "a"): "novo"}
    assert [(e["de"], e["para"], e["por"], e["versao"]) for e in wf.history(ops, "R2", "a")] == [
        (None, "novo", "painel", "v1")
    ]


def test_a_status_carries_over_to_the_next_version_with_its_new_figures(ops: OpState) -> None:
    wf.sync(ops, "v1", [row("R2", "a", 100.0), row("R2", "b")])
    move(ops, "a", "novo", "em_analise")
    report = wf.sync(ops, "v2", [row("R2", "a", 250.0), row("R2", "b")])
    assert (report.novos, report.vistos, report.encerrados) == (0, 2, 0)
    with ops.connect() as con:
        status, risco, ultima, primeira = con.execute(
            "SELECT status, risco, ultima_versao, primeira_versao FROM procurement_achados "
            "WHERE chave = 'a'"
        ).fetchone()
    assert (status, risco, ultima, primeira) == ("em_analise", 250.0, "v2", "v1")


def test_syncing_the_same_version_twice_changes_nothing(ops: OpState) -> None:
    rows = [row("R2", "a"), row("R5", "x")]
    wf.sync(ops, "v1", rows)
    again = wf.sync(ops, "v1", rows)
    assert (again.novos, again.encerrados) == (0, 0)
    assert len(wf.history(ops, "R2", "a")) == 1


def test_a_finding_no_longer_found_is_kept_inactive_and_comes_back_with_its_status(
    ops: OpState,
) -> None:
    wf.sync(ops, "v1", [row("R2", "a"), row("R2", "b")])
    move(ops, "a", "novo", "em_analise")
    gone = wf.sync(ops, "v2", [row("R2", "b")])
    assert gone.encerrados == 1
    state = wf.statuses(ops, [("R2", "a")])[("R2", "a")]
    assert (state["ativo"], state["status"]) == (0, "em_analise")
    back = wf.sync(ops, "v3", [row("R2", "a"), row("R2", "b")])
    assert (back.novos, back.reabertos) == (0, 1)
    state = wf.statuses(ops, [("R2", "a")])[("R2", "a")]
    assert (state["ativo"], state["status"]) == (1, "em_analise")
    motives = [e["motivo"] for e in wf.history(ops, "R2", "a")]
    assert "Não encontrado nos dados atuais" in motives
    assert motives[-1] == "Encontrado de novo pela regra"


def test_the_whole_path_to_the_organ_is_audited(ops: OpState) -> None:
    wf.sync(ops, "v1", [row("R2", "a")])
    move(ops, "a", "novo", "em_analise")
    move(ops, "a", "em_analise", "confirmado", actor="bia")
    final = move(ops, "a", "confirmado", "enviado", actor="bia", motivo="Ofício 12/2026")
    assert final["status"] == "enviado"
    events = wf.history(ops, "R2", "a")
    assert [(e["de"], e["para"], e["por"]) for e in events] == [
        (None, "novo", "painel"),
        ("novo", "em_analise", "ana"),
        ("em_analise", "confirmado", "bia"),
        ("confirmado", "enviado", "bia"),
    ]
    assert events[-1]["motivo"] == "Ofício 12/2026"
    # the history names people as the pages do: by their display name, when they have one
    from painel.auth import Users

    Users(ops).add("bia", "senha-longa-da-bia", "cge_analista", ("procurement:*",), "Beatriz Lima")
    assert [e["quem"] for e in wf.history(ops, "R2", "a")] == [
        "painel",
        "ana",
        "Beatriz Lima",
        "Beatriz Lima",
    ]
    assert all(e["em"] for e in events)
    with pytest.raises(wf.WorkflowError, match="não pode passar"):
        move(ops, "a", "enviado", "em_analise", motivo="reabrir")  # sent is final


@pytest.mark.parametrize(
    ("seen", "to"),
    [("novo", "descartado"), ("em_analise", "descartado"), ("confirmado", "em_analise")],
)
def test_discarding_and_going_back_need_a_reason(ops: OpState, seen: str, to: str) -> None:
    wf.sync(ops, "v1", [row("R2", "a")])
    with ops.transaction() as con:
        con.execute("UPDATE procurement_achados SET status = ? WHERE chave = 'a'", [seen])
    with pytest.raises(wf.WorkflowError, match="Diga o motivo"):
        move(ops, "a", seen, to, motivo="   ")
    assert wf.statuses(ops, [("R2", "a")])[("R2", "a")]["status"] == seen
    move(ops, "a", seen, to, motivo="Compra de itens distintos")
    state = wf.statuses(ops, [("R2", "a")])[("R2", "a")]
    assert (state["status"], state["motivo"]) == (to, "Compra de itens distintos")


def test_a_move_from_a_status_someone_else_changed_is_refused(ops: OpState) -> None:
    wf.sync(ops, "v1", [row("R2", "a")])
    move(ops, "a", "novo", "em_analise", actor="bia")
    # ana's page still shows "novo": her discard must not overwrite bia's move
    with pytest.raises(wf.WorkflowError, match="já foi passado a em análise por bia"):
        move(ops, "a", "novo", "descartado", motivo="duplicado")
    assert wf.statuses(ops, [("R2", "a")])[("R2", "a")]["status"] == "em_analise"
    assert len(wf.history(ops, "R2", "a")) == 2


@pytest.mark.parametrize("role", ["orgao", "orgao_unidade", "cge_gestor", "analyst", ""])
def test_only_cge_analysts_move_findings(ops: OpState, role: str) -> None:
    wf.sync(ops, "v1", [row("R2", "a")])
    with pytest.raises(wf.WorkflowError, match="Só analistas da CGE"):
        move(ops, "a", "novo", "em_analise", role=role)
    assert len(wf.history(ops, "R2", "a")) == 1


def test_a_published_finding_not_yet_synced_can_be_moved(ops: OpState) -> None:
    finding = dict(zip(wf.FINDING_FIELDS, row("R3", "late"), strict=True))
    with pytest.raises(wf.WorkflowError, match="não está nos dados atuais"):
        wf.change(
            ops,
            regra="R3",
            chave="late",
            seen="novo",
            to="em_analise",
            actor="ana",
            role="cge_analista",
        )
    wf.change(
        ops,
        regra="R3",
        chave="late",
        seen="novo",
        to="em_analise",
        actor="ana",
        role="cge_analista",
        finding=finding,
    )
    wf.sync(ops, "v2", [row("R3", "late")])  # the sync that follows keeps the analyst's move
    state = wf.statuses(ops, [("R3", "late")])[("R3", "late")]
    assert state["status"] == "em_analise"


def test_unknown_statuses_and_long_reasons_are_refused(ops: OpState) -> None:
    wf.sync(ops, "v1", [row("R2", "a")])
    with pytest.raises(wf.WorkflowError, match="Situação desconhecida"):
        move(ops, "a", "novo", "arquivado")
    with pytest.raises(wf.WorkflowError, match="passa de 1000"):
        move(ops, "a", "novo", "descartado", motivo="x" * 1001)
