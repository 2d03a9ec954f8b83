"""The procurement suite's demo and nbval fixture.

``painel demo prepare`` generates a world of Goiás's purchases at scale 0.01 (last year and
this one, seed 1: 8 organs, ~2,000 purchases), has the real job crawl it from the PNCP
simulator and publish, and plays a little of the analysts' workflow (findings in analysis,
confirmed, discarded, and some sent to the two demo organs). ``painel demo serve`` keeps the
simulator up on 127.0.0.1:8868 (so ``painel etl run procurement`` fetches the next days
there, parameters/demo/procurement.yaml) beside the mail catcher, and the demo's users have
addresses so the digests reach it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..config import Paths
from ..domain import DemoUser

SCALE = 0.01
SEED = 1
PORT = 8868  # parameters/demo/procurement.yaml
CRAWLED_DAYS = 14  # the demo's last days crawled through the simulator by the real job
SAUDE = "84468005000133"  # Secretaria de Estado da Saúde de Goiás in the seed-1 world
APARECIDA = "58588931000132"  # Prefeitura Municipal de Aparecida de Goiânia
ANALISTA = "cge.analista"
MAIL_DOMAIN = "cge.demo.invalid"  # RFC 2606: never a real mailbox


def address(username: str) -> str:
    return f"{username}@{MAIL_DOMAIN}"


USERS = (
    DemoUser(
        ANALISTA,
        "demo-cge-analista",
        "cge_analista",
        ("procurement:*",),
        "Analista da CGE",
        address(ANALISTA),
    ),
    DemoUser(
        "cge.gestora",
        "demo-cge-gestora",
        "cge_gestor",
        ("procurement:*",),
        "Gestora da CGE",
        address("cge.gestora"),
    ),
    DemoUser(
        "orgao.saude",
        "demo-orgao-saude",
        "orgao",
        (f"procurement:orgao:{SAUDE}",),
        "Secretaria da Saúde (GO)",
        address("orgao.saude"),
    ),
    DemoUser(
        "orgao.aparecida",
        "demo-orgao-aparecida",
        "orgao",
        (f"procurement:orgao:{APARECIDA}",),
        "Prefeitura de Aparecida de Goiânia",
        address("orgao.aparecida"),
    ),
)


def folder(paths: Paths) -> Path:
    return paths.sources / "procurement"


def write_world(paths: Paths, today: dt.date | None = None) -> Path:
    """The demo's world and catalogue (kept once written)."""
    from .etl.landing import export_catalogue
    from .generate import generate

    today = today or dt.date.today()
    out = folder(paths)
    world = out / "world.duckdb"
    if not world.exists():
        generate(
            world,
            scale=SCALE,
            seed=SEED,
            first_year=today.year - 1,
            last_year=today.year,
            today=today,
        )
    if not (out / "catalogo").exists():
        export_catalogue(world, out / "catalogo")
    return world


def prepare(paths: Paths, data: bool = True) -> list[str]:
    """Write the world; with ``data``, crawl and publish it and play some of the workflow."""
    from ..store import Store
    from . import DATASET

    today = dt.date.today()
    world = write_world(paths, today)
    out = [f"procurement world: {world} (scale {SCALE}, seed {SEED})"]
    if not data:
        return out
    if Store(paths.store).current_version(DATASET) is not None:
        out.append(f"dataset {DATASET} already published (painel etl run procurement refreshes it)")
        return out
    from .etl import job
    from .simulator import PncpSimulator

    first = today - dt.timedelta(days=CRAWLED_DAYS)
    landed = seed_landing(paths, world, first - dt.timedelta(days=1))
    with PncpSimulator(world) as sim:
        version = job.run_once(
            paths,
            {
                "base_url": sim.url,
                "por": "publicacao",
                "desde": first.isoformat(),
                "ate": (today - dt.timedelta(days=1)).isoformat(),
                "pace_s": 0.0,
                "catalogo": str(folder(paths) / "catalogo"),
            },
            log=lambda _line: None,
        )
    out.append(
        f"dataset {DATASET} published ({version}): {landed} purchases up to "
        f"{first - dt.timedelta(days=1):%d/%m/%Y} as a past crawl would have left them, the last "
        f"{CRAWLED_DAYS} days crawled from the PNCP simulator by the job"
    )
    out.extend(play_workflow(paths))
    return out


def seed_landing(paths: Paths, world: Path, until: dt.date) -> int:
    """The landing as the daily runs up to ``until`` would have left it (the world's purchases
    and the journal of every window): crawling two years at the simulator's speed takes
    minutes, the last days show the crawl itself. Returns the purchases landed."""
    from .etl.crawl import days_between
    from .etl.landing import Landing, from_world
    from .etl.settings import MODALIDADES

    landing = paths.home / "landing" / "procurement" / "pncp.duckdb"  # Job.landing_path
    landing.parent.mkdir(parents=True, exist_ok=True)
    from_world(world, landing, until=until)
    with Landing(landing) as land:
        con = land.con
        bought = dict(
            ((d, m), n)
            for d, m, n in con.execute(
                "SELECT CAST(data_publicacao_pncp AS DATE), modalidade_id, count(*) "
                "FROM contratacoes GROUP BY ALL"
            ).fetchall()
        )
        signed = dict(
            con.execute(
                "SELECT CAST(data_publicacao_pncp AS DATE), count(*) FROM contratos GROUP BY ALL"
            ).fetchall()
        )
        for day in days_between(dt.date(until.year - 1, 1, 1), until):
            # a window's calls, about: its pages (a 204 is one call) and one per record for
            # its items or terms (results not counted)
            for mod in MODALIDADES:
                n = int(bought.get((day, mod), 0))
                land.mark_done("contratacoes", day, mod, "publicacao", n, max(1, -(-n // 50)) + n)
            n = int(signed.get(day, 0))
            land.mark_done("contratos", day, 0, "publicacao", n, max(1, -(-n // 500)) + n)
        return int(con.execute("SELECT count(*) FROM contratacoes").fetchall()[0][0])


def play_workflow(paths: Paths) -> list[str]:
    """Some analyst work on the published findings: the riskiest of each demo organ sent to it
    (so Meus Alertas has rows), others in analysis, confirmed, or discarded with a reason."""
    from ..opstate import OpState
    from . import workflow as wf

    ops = OpState(paths.opstate)
    with ops.connect() as con:
        rows = con.execute(
            "SELECT regra, chave, orgao_cnpj FROM procurement_achados WHERE status = 'novo' "
            "ORDER BY risco DESC, regra, chave"
        ).fetchall()
    plan: list[tuple[str, str, list[tuple[str, str]]]] = []
    per_organ: dict[str, int] = {}
    for i, (regra, chave, orgao) in enumerate(rows):
        if orgao in (SAUDE, APARECIDA) and per_organ.get(orgao, 0) < 3:
            per_organ[orgao] = per_organ.get(orgao, 0) + 1
            steps = [("em_analise", ""), ("confirmado", ""), ("enviado", "Ofício CGE nº 1/2026")]
        elif i % 7 == 1:
            steps = [("em_analise", "")]
        elif i % 7 == 3:
            steps = [("em_analise", ""), ("confirmado", "")]
        elif i % 7 == 5:
            steps = [("descartado", "Compra regular: objeto distinto, conferido no processo")]
        else:
            continue
        plan.append((regra, chave, steps))
    for regra, chave, steps in plan:
        seen = wf.NOVO
        for to, why in steps:
            wf.change(
                ops,
                regra=regra,
                chave=chave,
                seen=seen,
                to=to,
                actor=ANALISTA,
                role="cge_analista",
                motivo=why,
            )
            seen = to
    sent = sum(per_organ.values())
    return [f"procurement workflow: {len(plan)} findings moved, {sent} sent to the demo organs"]


@contextlib.contextmanager
def services(paths: Paths) -> Iterator[dict[str, str]]:
    """The PNCP simulator over the demo's world on 127.0.0.1:8868, for the daily job."""
    world = folder(paths) / "world.duckdb"
    if not world.exists():
        yield {}
        return
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "painel.cli",
            "simulate",
            "pncp",
            "--world",
            str(world),
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
        ],
        stdin=subprocess.DEVNULL,
    )
    print(f"PNCP simulator on 127.0.0.1:{PORT} (parameters/demo/procurement.yaml)", flush=True)
    try:
        for line in send_digests(paths):
            print(line, flush=True)
        yield {}
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def send_digests(paths: Paths, today: dt.date | None = None) -> list[str]:
    """The digests of this week to the demo's mail catcher (core demo services): today's
    daily, the organs' weekly of the last Monday, management's monthly of the 1st — each
    once (dedup keys), whatever day the demo starts."""
    from .. import mail
    from ..opstate import OpState
    from ..store import Store
    from . import DATASET, digests

    if Store(paths.store).current_version(DATASET) is None:
        return []
    today = today or dt.date.today()
    days = {today, today - dt.timedelta(days=today.weekday()), today.replace(day=1)}
    try:
        queued = [line for day in sorted(days) for line in digests.queue_due(paths, today=day)]
        ops = OpState(paths.opstate)
        mail.retry_now(ops)  # what prepare queued while no catcher ran is backing off
        report = mail.deliver(ops, mail.load_settings(paths))
    except Exception as exc:  # noqa: BLE001 - the demo serves without its mail
        return [f"procurement digests not sent: {type(exc).__name__}: {exc}"]
    return [f"procurement digests: {len(queued)} considered, {report.summary()}"]


def notebook_fixture(paths: Paths, stack: ExitStack) -> dict[str, dict[str, Any]]:
    """A small world served by a simulator: published once for the dashboards, and crawled
    again by the ETL notebook."""
    from .etl.landing import export_catalogue
    from .simulator import PncpSimulator
    from .simulator.sample import DAYS, FIRST_DAY, write_sample_world

    out = folder(paths)
    out.mkdir(parents=True, exist_ok=True)
    world = write_sample_world(out / "world.duckdb", big_items=30)
    export_catalogue(world, out / "catalogo")
    sim = stack.enter_context(PncpSimulator(world))
    values = {
        "base_url": sim.url,
        "por": "publicacao",
        "desde": FIRST_DAY.isoformat(),
        "ate": (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat(),
        "pace_s": 0.0,
        "catalogo": str(out / "catalogo"),
    }
    # the dashboards read a published version; the ETL notebook's own run publishes the next
    from .etl import job

    job.run_once(paths, values, log=lambda _line: None)
    return {"procurement": values}
