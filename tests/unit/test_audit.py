"""The audit log (painel.audit) against a real operational store: what is recorded, by whom,
that nothing rewrites it, and the retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from painel import audit
from painel.auth import LoginThrottled, Users
from painel.opstate import OpState, utcnow

PASSWORD = "uma senha longa"


@pytest.fixture
def op(tmp_path: Path) -> OpState:
    return OpState(tmp_path / "home" / "painel.sqlite")


def entries(op: OpState, **kw: Any) -> list[audit.Entry]:
    return audit.search(op, limit=None, **kw)[0]


def test_entries_are_found_by_actor_action_words_and_days(op) -> None:
    t0 = datetime(2026, 11, 30, 12, tzinfo=UTC)
    audit.record(op, "login", actor="maria", client="203.0.113.5", at=t0)
    audit.record(
        op,
        "export",
        actor="maria",
        target="alunos_SRE.xlsx",
        detail={"linhas": 2522},
        at=t0 + timedelta(hours=1),
    )
    audit.record(
        op,
        "export",
        actor="jose",
        target="notas.xlsx",
        detail={"linhas": 10},
        at=t0 + timedelta(days=1),
    )
    got, total = audit.search(op, limit=2)
    assert total == 3 and [e.target for e in got] == [
        "notas.xlsx",
        "alunos_SRE.xlsx",
    ]  # newest first
    assert [e.actor for e in entries(op, actor="maria")] == ["maria", "maria"]
    assert [e.target for e in entries(op, action="export", text="SRE 2522")] == ["alunos_SRE.xlsx"]
    assert [
        e.action
        for e in entries(op, since=t0 + timedelta(minutes=30), until=t0 + timedelta(hours=2))
    ] == ["export"]
    assert entries(op, text="203.0.113")[0].label == "Entrada"  # the client is searched too
    assert audit.search(op, limit=1, offset=1)[0][0].target == "alunos_SRE.xlsx"
    with pytest.raises(audit.AuditError, match="unknown audit action 'coffee'"):
        audit.record(op, "coffee", actor="maria")


def test_nothing_rewrites_the_log_and_only_the_retention_lets_entries_go(op) -> None:
    old = utcnow() - timedelta(days=audit.retention_days(op) + 2)
    audit.record(op, "login", actor="velho", at=old)
    audit.record(op, "login", actor="novo")
    con = sqlite3.connect(op.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit_log SET actor = 'outro'")
    with pytest.raises(sqlite3.IntegrityError, match="retention"):
        con.execute("DELETE FROM audit_log")  # by hand, even all at once: refused
    con.close()
    assert [e.actor for e in entries(op)] == ["novo", "velho"]
    assert audit.purge(op) == 1  # the one past the retention
    assert [e.actor for e in entries(op)] == ["novo"]
    # a far-future clock asks nothing of the trigger it would refuse
    assert audit.purge(op, now=utcnow() + timedelta(days=10_000)) == 0


def test_the_retention_is_at_least_30_days_and_changing_it_is_an_entry(op) -> None:
    assert audit.retention_days(op) == 1825
    with pytest.raises(audit.AuditError, match="at least 30 days"):
        audit.set_retention(op, 7, actor="cli:root")
    audit.set_retention(op, 90, actor="cli:root")
    assert audit.retention_days(op) == 90
    [e] = entries(op, action="retention")
    assert (e.actor, e.detail) == ("cli:root", {"de": 1825, "para": 90})
    con = sqlite3.connect(op.path)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE audit_settings SET retention_days = 1")  # the CHECK holds by hand too
    con.close()


def test_user_and_grant_changes_are_entries_by_their_actor(op) -> None:
    users = Users(op, actor="admin.rui")
    users.add("maria", PASSWORD, "school_sre", grants=["school:sre:12"], display_name="Maria")
    users.set_role("maria", "school_central")
    users.grant("maria", ["school:*"])
    users.revoke("maria", ["school:sre:12"])
    users.set_disabled("maria", True)
    users.set_email("maria", "maria@educacao.mg.gov.br")
    users.set_email("maria", "maria@educacao.mg.gov.br")  # no change: no entry
    users.set_password("maria", PASSWORD + "!")
    got = [(e.action, e.detail) for e in reversed(entries(op))]
    assert got == [
        (
            "user_added",
            {"acessos": ["school:sre:12"], "email": "", "nome": "Maria", "papel": "school_sre"},
        ),
        ("user_changed", {"papel": {"de": "school_sre", "para": "school_central"}}),
        ("grant", {"acessos": ["school:*"]}),
        ("revoke", {"acessos": ["school:sre:12"]}),
        ("user_changed", {"desativado": {"de": False, "para": True}}),
        ("user_changed", {"email": {"de": "", "para": "maria@educacao.mg.gov.br"}}),
        ("user_changed", {"senha": "alterada"}),
    ]
    assert {e.actor for e in entries(op)} == {"admin.rui"}
    assert {e.target for e in entries(op)} == {"maria"}
    assert PASSWORD not in str([e.detail for e in entries(op)])  # never a password
    Users(op).grant("maria", ["school:sre:13"])  # a command line's: the OS user
    assert entries(op, action="grant")[0].actor.startswith("cli:")
    # a refused change leaves no entry
    with pytest.raises(Exception, match="no such user"):
        users.grant("ghost", ["school:*"])
    assert not entries(op, text="ghost")


def test_logins_and_their_failures_are_entries_with_the_client(op) -> None:
    users = Users(op)
    users.add("maria", PASSWORD, "school_sre")
    assert users.authenticate("maria", PASSWORD, remote_ip="203.0.113.5") is not None
    assert users.authenticate("maria", "errada", remote_ip="203.0.113.5") is None
    assert users.authenticate("ghost", "errada", remote_ip="198.51.100.7") is None
    users.set_disabled("maria", True)
    assert users.authenticate("maria", PASSWORD, remote_ip="203.0.113.5") is None
    got = [
        (e.action, e.actor, e.client, e.detail.get("motivo"))
        for e in reversed(entries(op, text="."))
    ]
    assert got == [
        ("login", "maria", "203.0.113.5", None),
        ("login_failed", "maria", "203.0.113.5", "senha errada"),
        ("login_failed", "ghost", "198.51.100.7", "usuário desconhecido"),
        ("login_failed", "maria", "203.0.113.5", "usuário desativado"),
    ]
    attacker = "198.51.100.9"
    with pytest.raises(LoginThrottled):
        for i in range(50):
            users.authenticate(f"u{i}", "guess", remote_ip=attacker)
    [throttled] = [
        e
        for e in entries(op, action="login_failed")
        if e.detail.get("motivo") == "tentativas demais"
    ]
    assert throttled.client == attacker and throttled.detail["espera_s"] >= 1


def test_a_finding_moved_is_an_entry_and_a_refused_move_is_none(op) -> None:
    from painel.procurement import workflow

    finding = {
        "orgao_cnpj": "01909911000107",
        "unidade_id": "1",
        "numero_controle_pncp": "x-1",
        "risco": 10.0,
        "resumo": "r",
    }
    fields = {f: finding.get(f) for f in workflow.FINDING_FIELDS}
    workflow.change(
        op,
        regra="R2",
        chave="k1",
        seen="novo",
        to="em_analise",
        actor="ana",
        role="cge_analista",
        finding=fields,
    )
    with pytest.raises(workflow.WorkflowError):
        workflow.change(
            op,
            regra="R2",
            chave="k1",
            seen="novo",
            to="descartado",
            actor="bia",
            role="cge_analista",
            motivo="x",
            finding=fields,
        )
    [e] = entries(op, action="finding_status")
    assert (e.actor, e.target, e.detail) == (
        "ana",
        "R2 k1",
        {"de": "novo", "para": "em_analise", "motivo": ""},
    )


def test_an_export_is_an_entry_before_the_file_leaves(op, monkeypatch) -> None:
    from painel.dash import identity
    from painel.dash.download import Download

    monkeypatch.setenv("PAINEL_HOME", str(op.path.parent))
    monkeypatch.delenv(identity.TEST_USER_ENV, raising=False)
    Users(op).add("maria", PASSWORD, "school_sre", grants=["school:sre:12"])
    identity.view_as("maria")
    sent: list[Any] = []
    dl = Download(
        "Exportar Excel",
        lambda: ("alunos_SRE_12.xlsx", b"PK-data", 2522),
        about=lambda: [("Painel", "Lista de Estudantes"), ("Regional", "SRE 12")],
    )
    dl.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    dl._on_message(dl, {"event": "click"}, [])
    assert [c["name"] for c in sent] == ["alunos_SRE_12.xlsx"]
    [e] = entries(op, action="export")
    assert (e.actor, e.target) == ("maria", "alunos_SRE_12.xlsx")
    assert e.detail["linhas"] == 2522 and e.detail["escopo"] == ["school:sre:12"]
    assert e.detail["filtros"] == {"Painel": "Lista de Estudantes", "Regional": "SRE 12"}

    # a file that cannot be recorded does not leave
    def broken(*_a: Any, **_k: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(audit, "record", broken)
    dl._on_message(dl, {"event": "click"}, [])
    assert len(sent) == 1 and dl.status == "Não foi possível gerar o arquivo. Tente novamente."


def test_the_auditoria_page_searches_the_log_a_page_at_a_time(op, monkeypatch) -> None:
    import io

    import openpyxl

    from painel import auditoria
    from painel.access import Viewer
    from painel.dash import identity
    from painel.dash.table import Table

    monkeypatch.setenv("PAINEL_HOME", str(op.path.parent))
    monkeypatch.delenv(identity.TEST_USER_ENV, raising=False)
    users = Users(op, actor="admin.rui")
    users.add("admin.rui", PASSWORD, "admin")
    identity.view_as("admin.rui")
    for i in range(30):
        audit.record(
            op, "login", actor=f"u{i}", client="203.0.113.5", at=utcnow() - timedelta(hours=2)
        )
    exported = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    audit.record(
        op,
        "export",
        actor="maria",
        target="alunos.xlsx",
        detail={"linhas": 2522, "escopo": ["school:sre:12"]},
        at=exported,
    )
    old = utcnow() - timedelta(days=40)
    audit.record(op, "login", actor="antigo", at=old)
    admin = Viewer("admin.rui", "admin")
    page = auditoria.build(admin, op)
    table = next(w for w in page.children if isinstance(w, Table))
    download = page.children[-1]
    assert (table.total, table.unfiltered) == (32, 32)  # the last 7 days: not the old login
    assert table._frame.empty and len(table.rows) == 25
    first = dict(zip([c["key"] for c in table.columns], table.rows[0], strict=True))
    assert first["acao"] == "Exportação" and first["quem"] == "maria"
    assert first["detalhe"] == "escopo: school:sre:12; linhas: 2.522"
    from zoneinfo import ZoneInfo

    brasilia = exported.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert first["quando"] == brasilia.strftime("%d/%m/%Y %H:%M")  # pt-BR, Brasília time
    period, action, person = page.children[1].children
    period.value = 90
    assert table.total == 33
    action.value = "export"
    assert table.total == 1
    action.value = ""
    person.value = "u7"
    assert table.total == 1 and table.rows[0][1] == "u7"
    person.value = ""
    table.search = "2522 sre"  # words in the detail, as stored
    assert table.total == 1
    _name, data, rows = download._make()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert rows == 1 and [c.value for c in sheet[1]][:3] == ["Quando", "Quem", "Ação"]
    download.send = lambda *a, **k: None  # type: ignore[method-assign]
    download._on_message(download, {"event": "click"}, [])
    [e] = entries(op, action="export", actor="admin.rui")  # exporting the log is an entry
    assert e.detail["filtros"]["Painel"] == "Auditoria" and e.detail["linhas"] == 1
    # only an admin reads it
    shown = auditoria.build(Viewer("maria", "school_central"), op)
    assert "Só a administração" in shown.value
