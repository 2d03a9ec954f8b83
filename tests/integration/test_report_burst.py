"""``painel report burst rede_escola`` as an operator runs it: Papermill once per SRE and
school of the tiny dump, HTML, spreadsheet and PDF in a folder per scope, mail with the files
to each scope's own users through a real SMTP server on loopback, and again without
duplicates, after a failure and after a SIGKILL in the middle."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

import school_tiny as tiny
from mail_testing import MailCatcher
from painel_testing import REPO, Cli, copy_project, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

AFONSO, CONTAGEM, DUQUE = "31000011", "31000012", "31000021"
PERIOD = tiny.D.isoformat()
NAMES = {AFONSO: "Afonso Pena", CONTAGEM: "Contagem", DUQUE: "Duque"}
PEOPLE = [
    # username, role, grants, e-mail
    ("dir.afonso", "school_director", ["school:school:31000011"], "dir.afonso@educacao.mg.gov.br"),
    ("sec.afonso", "school_secretary", ["school:school:31000011"], "sec.afonso@educacao.mg.gov.br"),
    ("sre.metro", "school_sre", ["school:sre:22"], "sre.metro@educacao.mg.gov.br"),
    ("dir.duque", "school_director", ["school:school:31000021"], ""),  # no address: no mail
    ("central", "school_central", ["school:*"], "central@educacao.mg.gov.br"),  # no scope's own
    ("ex.contagem", "school_director", ["school:school:31000012"], "ex@educacao.mg.gov.br"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("reports") / "home"
    mp.setenv("PAINEL_HOME", str(home))
    tiny.publish(home)
    from painel.auth import Users
    from painel.opstate import OpState

    users = Users(OpState(home / "painel.sqlite"), actor="teste")
    for username, role, grants, email in PEOPLE:
        users.add(username, None, role, grants, email=email)
    users.set_disabled("ex.contagem", True)  # left the school: no more mail
    yield home
    mp.undo()


def _cli(home: Path, catcher: MailCatcher, project: Path = REPO) -> Cli:
    return Cli(
        home=home,
        project=project,
        extra_env={"PAINEL_SMTP_HOST": catcher.host, "PAINEL_SMTP_PORT": str(catcher.port)},
    )


def _folder(home: Path) -> Path:
    return home / "relatorios" / "rede_escola" / PERIOD


def _ledger(home: Path) -> dict[str, dict[str, object]]:
    from painel.opstate import OpState

    with OpState(home / "painel.sqlite").connect() as con:
        return {r["scope"]: dict(r) for r in con.execute("SELECT * FROM report_items").fetchall()}


def _fresh_home(home: Path, dest: Path) -> Path:
    """A copy of the module's home with no burst made and no mail sent from it yet."""
    from painel.opstate import OpState

    shutil.copytree(home, dest, ignore=shutil.ignore_patterns("relatorios"))
    with OpState(dest / "painel.sqlite").connect() as con:
        con.execute("DELETE FROM report_items")
        con.execute("DELETE FROM mail_outbox")
    return dest


def test_a_burst_delivers_each_scope_to_its_folder_and_its_own_users_once(home: Path) -> None:
    with MailCatcher() as catcher:
        cli = _cli(home, catcher)
        first = cli.run("report", "burst", "rede_escola", "--workers", "2", timeout=300)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "5 scope(s)" in first.stdout and "made 5, failed 0, skipped 0" in first.stdout
        out = _folder(home)
        folders = {
            "sre:19": out / "sre-19-juiz-de-fora",
            "sre:22": out / "sre-22-metropolitana-a",
            AFONSO: out / "sre-22-metropolitana-a" / "escola-31000011-ee-afonso-pena",
            CONTAGEM: out / "sre-22-metropolitana-a" / "escola-31000012-ee-contagem-centro",
            DUQUE: out / "sre-19-juiz-de-fora" / "escola-31000021-ee-duque-de-caxias",
        }
        pdf = shutil.which("chromium") is not None
        for key, folder in folders.items():
            kinds = sorted(p.suffix for p in folder.iterdir() if p.is_file())
            assert kinds == sorted([".html", ".xlsx", *([".pdf"] if pdf else [])]), (key, kinds)
        assert not (out / ".parcial").exists()

        # each report holds its own scope's rows only
        afonso = next(folders[AFONSO].glob("*.html")).read_text(encoding="utf-8")
        assert "E.E. Afonso Pena" in afonso and "SRE Metropolitana A" in afonso
        assert "Contagem" not in afonso.split("</h1>", 1)[1] and "Duque" not in afonso
        assert "<script" not in afonso.lower() and "import " not in afonso  # no code
        sre22 = next(folders["sre:22"].glob("*.html")).read_text(encoding="utf-8")
        assert "E.E. Afonso Pena" in sre22 and "E.E. Contagem – Centro" in sre22
        assert "Duque" not in sre22
        book = openpyxl.load_workbook(next(folders[AFONSO].glob("*.xlsx")))
        assert book.sheetnames == ["Resumo", "Por turma", "Inconsistências", "Busca Ativa"]
        from painel.store import Store

        ver = Store(home / "store").current_version("school")
        import duckdb

        con = duckdb.connect(str(Store(home / "store").version_path("school", ver)), read_only=True)
        want = con.execute(
            "SELECT count(*) FROM alunos WHERE school_id = 31000011 AND ativa AND escolarizacao"
        ).fetchone()[0]
        turmas = {
            str(r[0])
            for r in con.execute(
                "SELECT id_turma FROM turmas WHERE school_id = 31000011"
            ).fetchall()
        }
        con.close()
        resumo = {r[0].value: r[1].value for r in book["Resumo"].iter_rows(min_row=2)}
        assert resumo["Matrículas ativas"] == want > 0
        ids = {str(r[0].value) for r in book["Por turma"].iter_rows(min_row=2) if r[0].value}
        assert ids and ids <= turmas

        # mail: the scope's own active users with an address, with the files attached
        catcher.wait_for(3, timeout=30)
        time.sleep(0.5)
        got = {m.rcpt_tos[0]: m for m in catcher.messages}
        assert sorted(got) == [
            "dir.afonso@educacao.mg.gov.br",
            "sec.afonso@educacao.mg.gov.br",
            "sre.metro@educacao.mg.gov.br",
        ]
        to_afonso = got["dir.afonso@educacao.mg.gov.br"].message
        assert to_afonso["Subject"] == (
            "Relatório da rede estadual – E.E. Afonso Pena – dados de 20/05/2026"
        )
        names = sorted(a.get_filename() for a in to_afonso.iter_attachments())
        assert names == sorted(
            f"rede_escola_school-31000011_{PERIOD}{ext}"
            for ext in [".xlsx", ".pdf" if pdf else ".html"]
        )
        assert "Metropolitana" in str(got["sre.metro@educacao.mg.gov.br"].message["Subject"])

        # the summary beside the folders, and the audit log
        with open(out / "resumo.csv", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        assert {r["escopo"]: r["situacao"] for r in rows} == {
            "sre:19": "feito",
            "sre:22": "feito",
            f"school:{AFONSO}": "feito",
            f"school:{CONTAGEM}": "feito",
            f"school:{DUQUE}": "feito",
        }
        audit = cli.run("audit", "list", "--action", "report_sent", "--json", check=True)
        sent = json.loads(audit.stdout)
        assert {e["target"].rsplit(":", 2)[-1] for e in sent} == {AFONSO, "22"}
        afonso_entry = next(e for e in sent if e["target"].endswith(AFONSO))
        assert afonso_entry["detail"]["destinatarios"] == ["dir.afonso", "sec.afonso"]

        # again: nothing made, nothing mailed
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*.xlsx")}
        again = cli.run("report", "burst", "rede_escola", timeout=120)
        assert again.returncode == 0, again.stderr
        assert "made 0, failed 0, skipped 5" in again.stdout
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*.xlsx")} == before
        # forced: made again, and still no mail twice
        forced = cli.run("report", "burst", "rede_escola", "--only", AFONSO, "--force", timeout=120)
        assert forced.returncode == 0 and "made 1" in forced.stdout, forced.stdout + forced.stderr
        time.sleep(1.0)
        assert len(catcher.messages) == 3


def test_a_failed_scope_is_named_kept_out_of_its_folder_and_made_by_the_next_run(
    tmp_path: Path, home: Path
) -> None:
    project = copy_project(tmp_path / "project")
    notebook = project / "notebooks" / "reports" / "rede_escola.ipynb"
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"].insert(
        2,
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [f'if escopo_id == "{DUQUE}":\n', '    raise ValueError("falha de teste")'],
        },
    )
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    fresh = _fresh_home(home, tmp_path / "home")
    with MailCatcher() as catcher:
        broken = _cli(fresh, catcher, project)
        run = broken.run("report", "burst", "rede_escola", "--pdf", "no", timeout=300)
        assert run.returncode == 1, run.stdout + run.stderr
        assert "made 4, failed 1" in run.stdout
        assert (
            f"FAILED school:{DUQUE} (E.E. “Duque” de Caxias): ValueError: falha de teste"
            in run.stdout
        )
        assert not (
            _folder(fresh) / "sre-19-juiz-de-fora" / "escola-31000021-ee-duque-de-caxias"
        ).exists()
        kept = list((fresh / "runs" / "reports").rglob("*.ipynb"))
        assert len(kept) == 1 and "falha de teste" in kept[0].read_text(encoding="utf-8")
        assert _ledger(fresh)[f"school:{DUQUE}"]["status"] == "failed"
        mails = len(catcher.wait_for(3, timeout=30))

        fixed = _cli(fresh, catcher)  # the notebook fixed: only the failed scope is made
        again = fixed.run("report", "burst", "rede_escola", "--pdf", "no", timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "made 1, failed 0, skipped 4" in again.stdout
        assert _ledger(fresh)[f"school:{DUQUE}"]["status"] == "done"
        assert _ledger(fresh)[f"school:{DUQUE}"]["attempts"] == 2
        time.sleep(1.0)
        assert len(catcher.messages) == mails  # nobody of that school has an address


def test_a_killed_burst_leaves_whole_files_only_and_the_next_run_finishes_it(
    tmp_path: Path, home: Path
) -> None:
    fresh = _fresh_home(home, tmp_path / "home")
    with MailCatcher() as catcher:
        cli = _cli(fresh, catcher)
        proc = cli.popen("report", "burst", "rede_escola", "--workers", "1", "--pdf", "no")
        wait_for(
            lambda: any(r["status"] == "done" for r in _ledger(fresh).values()),
            120,
            "the first scope made",
            interval=0.05,
        )
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        out = _folder(fresh)
        for folder in [p for p in out.rglob("*") if p.is_dir() and ".parcial" not in p.parts]:
            files = sorted(p.suffix for p in folder.iterdir() if p.is_file())
            assert files in ([], [".html", ".xlsx"]), (folder, files)  # whole, or not there
        done_before = {k for k, r in _ledger(fresh).items() if r["status"] == "done"}
        assert 0 < len(done_before) < 5

        again = cli.run("report", "burst", "rede_escola", "--pdf", "no", timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"skipped {len(done_before)}" in again.stdout
        assert not (out / ".parcial").exists()
        assert all(r["status"] == "done" for r in _ledger(fresh).values())
        time.sleep(1.0)
        # every recipient once: the killed run's queued mail went with the next run's pass
        assert sorted(m.rcpt_tos[0] for m in catcher.messages) == [
            "dir.afonso@educacao.mg.gov.br",
            "sec.afonso@educacao.mg.gov.br",
            "sre.metro@educacao.mg.gov.br",
        ]


def test_the_scheduler_runs_a_report_burst_named_in_schedule_yaml(
    tmp_path: Path, home: Path
) -> None:
    from datetime import UTC, datetime

    from painel.config import Paths
    from painel.schedule import ScheduleError, Scheduler, load_schedule

    fresh = _fresh_home(home, tmp_path / "home")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text('jobs:\n  "report:nada":\n    cron: "0 7 * * 1"\n', encoding="utf-8")
    paths = Paths(fresh, REPO)
    with pytest.raises(ScheduleError, match="no notebook notebooks/reports/nada.ipynb"):
        load_schedule(paths, schedule)
    schedule.write_text(
        'jobs:\n  "report:rede_escola":\n    cron: "0 7 * * 1"\n    catch_up: true\n',
        encoding="utf-8",
    )
    [job] = load_schedule(paths, schedule)
    assert job.name == "report:rede_escola"
    with MailCatcher() as catcher:
        os.environ["PAINEL_SMTP_HOST"], os.environ["PAINEL_SMTP_PORT"] = (
            catcher.host,
            str(catcher.port),
        )
        try:
            scheduler = Scheduler(paths, schedule)
            monday = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # 07:30 in São Paulo
            outcomes = scheduler.run_once(monday)
            assert scheduler.run_once(monday) == []  # that fire time is taken
        finally:
            del os.environ["PAINEL_SMTP_HOST"], os.environ["PAINEL_SMTP_PORT"]
        assert [(o.job, o.status) for o in outcomes] == [("report:rede_escola", "succeeded")]
        assert sorted(_ledger(fresh)) == [
            f"school:{AFONSO}",
            f"school:{CONTAGEM}",
            f"school:{DUQUE}",
            "sre:19",
            "sre:22",
        ]
        assert len(catcher.wait_for(3, timeout=30)) == 3
