"""``painel etl run procurement_mail``: the digests job as the scheduler runs it (papermill,
parameters from the notebook and parameters/), against a published sample world and a real
SMTP server on loopback: it sends the day's digests once, and fails in one line, keeping the
mail, when the server is down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mail_testing import MailCatcher
from painel.opstate import OpState
from painel_testing import free_port, one_line_error

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

SES = "01909911000107"


@pytest.fixture
def published(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The sample world published in the CLI's data directory, an analyst and an organ with
    addresses (added after the publish: no same-day alert)."""
    from painel.auth import Users
    from painel.config import Paths
    from painel.procurement.etl import job
    from painel.procurement.etl.landing import export_catalogue
    from painel.procurement.simulator import PncpSimulator
    from painel.procurement.simulator.sample import DAYS, FIRST_DAY, write_sample_world

    monkeypatch.setenv("PAINEL_HOME", str(cli.home))
    paths = Paths.from_env().ensure()
    world = write_sample_world(cli.home / "world.duckdb", big_items=40)
    export_catalogue(world, cli.home / "catalogo")
    with PncpSimulator(world) as sim:
        job.run_once(
            paths,
            {
                "base_url": sim.url,
                "por": "publicacao",
                "desde": FIRST_DAY.isoformat(),
                "ate": (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat(),
                "pace_s": 0.0,
                "catalogo": str(cli.home / "catalogo"),
            },
            log=lambda _m: None,
        )
    users = Users(OpState(paths.opstate))
    users.add("ana", "senha-longa-123", "cge_analista", ["procurement:*"], "", "ana@cge.go.gov.br")
    users.add("ses", "senha-longa-123", "orgao", [f"procurement:orgao:{SES}"], "", "ses@go.gov.br")
    yield cli


def test_the_job_mails_the_days_digests_once_and_fails_in_one_line_without_smtp(
    published: Any,
) -> None:
    cli = published
    with MailCatcher() as catcher:
        cli.extra_env.update(
            {"PAINEL_SMTP_HOST": catcher.host, "PAINEL_SMTP_PORT": str(catcher.port)}
        )
        first = cli.run("etl", "run", "procurement_mail", "-p", "dia=2026-01-26")  # a Monday
        assert first.returncode == 0, first.stderr
        got = catcher.wait_for(2)
        assert sorted(r for m in got for r in m.rcpt_tos) == ["ana@cge.go.gov.br", "ses@go.gov.br"]
        subjects = sorted(str(m.message["Subject"]) for m in got)
        assert subjects[0].startswith("[CGE-GO] Alertas de compras – 26/01/2026: 13 novos")
        assert subjects[1].startswith("[CGE-GO] Resumo semanal de compras – 26/01/2026: ")
        # parameters/procurement_mail.yaml (production) leaves painel_url empty: no such links
        assert all("voila/render" not in m.text() for m in got)

        again = cli.run("etl", "run", "procurement_mail", "-p", "dia=2026-01-26")
        assert again.returncode == 0, again.stderr
        assert len(catcher.messages) == 2  # nothing twice

    down = free_port()
    cli.extra_env["PAINEL_SMTP_PORT"] = str(down)
    failed = cli.run("etl", "run", "procurement_mail", "-p", "dia=2026-01-27")
    assert failed.returncode == 1
    line = one_line_error(failed.stderr)
    assert "MailJobError: cannot reach the SMTP server" in line and f"127.0.0.1:{down}" in line
    assert "stay queued" in line
    with OpState(cli.home / "painel.sqlite").connect() as con:
        pending = con.execute(
            "SELECT dedup_key FROM mail_outbox WHERE status = 'pending'"
        ).fetchall()
    assert [r[0] for r in pending] == ["procurement.daily:2026-01-27:ana"]


def test_a_bad_day_is_refused_before_the_run(cli: Any) -> None:
    bad = cli.run("etl", "run", "procurement_mail", "-p", "dia=27/01/2026")
    assert bad.returncode == 2
    assert "parameter dia: expected AAAA-MM-DD" in one_line_error(bad.stderr)
    assert not (Path(cli.home) / "runs" / "procurement_mail").exists()
