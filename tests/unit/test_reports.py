"""painel.reports and the school network's report: scopes, the scoped report itself, its
spreadsheet, the pinned version every scope reads, recipients, and mail with files attached
(a real SMTP server on loopback)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

import school_tiny as tiny
from mail_testing import MailCatcher
from painel import reports
from painel.access import Viewer
from painel.auth import Users
from painel.config import Paths
from painel.mail import Mail, deliver, outbox, queue, settings_from
from painel.opstate import OpState
from painel.reports import ReportError, ReportScope, Sheet, slug, write_workbook
from painel.scope import ScopedDataset
from painel.store import NoVersion, Store

pytestmark = [pytest.mark.timeout(120)]

AFONSO, CONTAGEM, DUQUE = "31000011", "31000012", "31000021"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("reports") / "home"
    mp.setenv("PAINEL_HOME", str(home))
    tiny.publish(home)
    yield home
    mp.undo()


def _reference(home: Path, sql: str) -> list[tuple]:
    store = Store(home / "store")
    path = store.version_path("school", store.current_version("school"))
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_slug_makes_safe_folder_names() -> None:
    assert slug("E.E. “Duque” de Caxias") == "ee-duque-de-caxias"
    assert slug("E.E. Contagem – Centro") == "ee-contagem-centro"
    assert slug("São João del-Rei") == "sao-joao-del-rei"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("???") == "sem-nome"
    assert len(slug("x" * 200)) == 60


def test_the_school_report_lists_each_sre_then_each_school_with_folders(home: Path) -> None:
    from painel.school.report import scopes

    ds = ScopedDataset(Viewer("relatorio", "admin"), "school", Store(home / "store"))
    found = scopes(ds)
    assert [(s.kind, s.id) for s in found] == [
        ("sre", "19"),
        ("sre", "22"),
        ("school", DUQUE),
        ("school", AFONSO),
        ("school", CONTAGEM),
    ]
    by = {s.key: s for s in found}
    assert by["sre:22"].label == "SRE Metropolitana A"
    assert by[f"school:{CONTAGEM}"].folder == (
        "sre-22-metropolitana-a/escola-31000012-ee-contagem-centro"
    )


def test_a_school_report_reads_only_its_school(home: Path, tmp_path: Path) -> None:
    from painel.school import report

    r = report.build("school", AFONSO)
    [(active,)] = _reference(
        home,
        f"SELECT count(*) FROM alunos WHERE school_id = {AFONSO} AND ativa AND escolarizacao",
    )
    assert r.totais["matriculas"] == active > 0
    [(turmas,)] = _reference(
        home, f"SELECT count(*) FROM turmas WHERE school_id = {AFONSO} AND escolarizacao"
    )
    assert r.totais["turmas"] == turmas
    own = {
        str(t)
        for (t,) in _reference(home, f"SELECT id_turma FROM turmas WHERE school_id = {AFONSO}")
    }
    assert set(r.por_unidade["id"]) - {""} <= own
    assert int(r.por_unidade["matriculas"].sum()) == active
    [(findings,)] = _reference(
        home, f"SELECT count(*) FROM inconsistencias WHERE school_id = {AFONSO}"
    )
    assert r.totais["inconsistencias"] == int(r.por_regra["quantidade"].sum()) == findings
    page = r.pagina()
    assert "E.E. Afonso Pena" in page and "Duque" not in page and "Busca Ativa" in page
    others = {
        n for (n,) in _reference(home, f"SELECT nome FROM estudantes WHERE school_id != {AFONSO}")
    }
    assert not any(name in page for name in others)

    path = r.planilha(str(tmp_path / "afonso"))
    book = openpyxl.load_workbook(path)
    resumo = {row[0].value: row[1].value for row in book["Resumo"].iter_rows(min_row=2)}
    assert resumo["Matrículas ativas"] == active
    assert resumo["Dados de"] == "20/05/2026"


def test_an_sre_report_lists_its_schools_and_no_students(home: Path) -> None:
    from painel.school import report

    r = report.build("sre", "22")
    assert sorted(r.por_unidade["unidade"]) == ["E.E. Afonso Pena", "E.E. Contagem – Centro"]
    [(active,)] = _reference(
        home, "SELECT count(*) FROM alunos WHERE sre_id = 22 AND ativa AND escolarizacao"
    )
    assert r.totais["matriculas"] == active
    page = r.pagina()
    assert "Busca Ativa:" not in page and "Duque" not in page
    with pytest.raises(ValueError, match="escopo"):
        report.build("turma", "1")


def test_a_scope_nobody_has_reads_nothing(home: Path) -> None:
    from painel.school import report

    with pytest.raises(LookupError, match="no school"):
        report.build("school", "99999999")


def test_a_burst_reads_its_pinned_version_and_fails_once_it_is_pruned(tmp_path: Path) -> None:
    store = Store(tmp_path / "store", keep=1)
    versions = []
    for n in (1, 2):
        b = store.build("fx", {"t": {"school": "school_id"}})
        b.con.execute(f"CREATE TABLE t AS SELECT {n} AS n, 7 AS school_id")
        versions.append(b.publish())
    viewer = Viewer("v", "admin")
    pinned = ScopedDataset(viewer, "fx", store, version=versions[1])
    assert pinned.sql("SELECT n FROM t")["n"].tolist() == [2]
    b = store.build("fx", {"t": {"school": "school_id"}})
    b.con.execute("CREATE TABLE t AS SELECT 3 AS n, 7 AS school_id")
    b.publish()  # keep=1 prunes versions[1] (not open here: pinned read it and holds it)
    assert pinned.sql("SELECT n FROM t")["n"].tolist() == [2]  # the burst's data stays
    pinned.close()
    late = ScopedDataset(viewer, "fx", store, version=versions[0])
    with pytest.raises(NoVersion, match="no longer kept"):
        late.sql("SELECT n FROM t")


def test_the_spreadsheet_writes_real_numbers_percentages_and_dates(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "id": ["31000011", "31000012"],
            "n": [1234, None],
            "p": [41.7, float("nan")],
            "d": [dt.date(2026, 5, 20), pd.NaT],
        }
    )
    path = write_workbook(
        tmp_path / "r",
        [
            Sheet(
                "Uma planilha com nome longo demais para o Excel",
                df,
                [
                    ("id", "Código", "id"),
                    ("n", "N", "int"),
                    ("p", "%", "percent"),
                    ("d", "Dia", "date"),
                ],
            )
        ],
    )
    assert path.suffix == ".xlsx"
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.title == "Uma planilha com nome longo dem"  # 31 characters
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["Código", "N", "%", "Dia"]
    assert rows[1][:3] == ["31000011", 1234, pytest.approx(0.417)]
    assert rows[1][3] == dt.datetime(2026, 5, 20)
    assert rows[2] == ["31000012", None, None, None]
    assert ws["C2"].number_format == "0.0%" and ws["D2"].number_format == "dd/mm/yyyy"


def test_recipients_are_the_active_users_holding_exactly_the_scope(tmp_path: Path) -> None:
    op = OpState(tmp_path / "painel.sqlite")
    users = Users(op, actor="teste")
    users.add("ua", None, "school_director", ["school:school:1"], email="a@x.gov.br")
    users.add(
        "ub", None, "school_secretary", ["school:school:1", "school:school:2"], email="b@x.gov.br"
    )
    users.add("uc", None, "school_director", ["school:school:1"])  # no address
    users.add("ud", None, "school_director", ["school:school:1"], email="d@x.gov.br")
    users.set_disabled("ud", True)
    users.add("ue", None, "school_central", ["school:*"], email="e@x.gov.br")
    users.add("uf", None, "school_sre", ["school:sre:1"], email="f@x.gov.br")
    scope = ReportScope("school", "1", "Escola 1", "x")
    assert reports.recipients_of(op, "school", scope) == [
        ("ua", "a@x.gov.br"),
        ("ub", "b@x.gov.br"),
    ]
    sre = ReportScope("sre", "1", "SRE 1", "y")
    assert reports.recipients_of(op, "school", sre) == [("uf", "f@x.gov.br")]


def test_the_period_is_the_dump_day_else_the_publication_day() -> None:
    assert reports.period_of({"notes": {"dump_date": "2026-05-20"}}) == "2026-05-20"
    # 01:30 UTC is still the previous day in São Paulo
    assert reports.period_of({"published_at": "2026-12-02T01:30:00+00:00"}) == "2026-12-01"
    with pytest.raises(ReportError, match="no date"):
        reports.period_of({})


def test_unknown_report_and_pdf_options_fail_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths(tmp_path / "home", Path(__file__).resolve().parents[2])
    with pytest.raises(ReportError, match=r"unknown report 'nada' \(reports: rede_escola\)"):
        reports.burst(paths, "nada")
    with pytest.raises(ReportError, match="--pdf must be one of"):
        reports.pdf_printer("talvez")
    monkeypatch.setattr(reports.shutil, "which", lambda _name: None)
    assert reports.pdf_printer("auto") is None
    with pytest.raises(ReportError, match="no chromium"):
        reports.pdf_printer("yes")
    with pytest.raises(ReportError, match="no published version"):
        reports.burst(paths, "rede_escola", pdf="no")


def test_mail_carries_its_files_read_when_sent_and_a_missing_one_fails_that_mail_only(
    tmp_path: Path,
) -> None:
    op = OpState(tmp_path / "painel.sqlite")
    sheet = tmp_path / "relatorio.xlsx"
    sheet.write_bytes(b"PK\x03\x04 planilha")
    gone = tmp_path / "sumiu.pdf"
    gone.write_bytes(b"%PDF-1.7")
    ok = Mail("a@x.gov.br", "Relatório", "texto", "<p>texto</p>", attachments=(str(sheet),))
    bad = Mail("b@x.gov.br", "Relatório", "texto", "<p>texto</p>", attachments=(str(gone),))
    assert queue(op, ok, "k1") and queue(op, bad, "k2")
    gone.unlink()
    with pytest.raises(ValueError, match="absolute path"):
        queue(op, Mail("c@x.gov.br", "R", "t", "h", attachments=("rel.pdf",)), "k3")
    with MailCatcher() as catcher:
        report = deliver(op, settings_from({"host": "127.0.0.1", "port": catcher.port}))
        assert report.sent == ["k1"] and "k2" in report.failed
        assert "cannot attach" in report.failed["k2"] and "sumiu.pdf" in report.failed["k2"]
        [got] = catcher.wait_for(1)
    [attached] = list(got.message.iter_attachments())
    assert attached.get_filename() == "relatorio.xlsx"
    assert attached.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert attached.get_content() == b"PK\x03\x04 planilha"
    assert {e.dedup_key: e.status for e in outbox(op)} == {"k1": "sent", "k2": "pending"}
