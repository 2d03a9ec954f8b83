"""The ``procurement`` job end to end in this process: the simulator's PNCP crawled into the
landing, classified, the rules run, published; an outage publishes nothing and the next run
resumes without refetching; bad parameters are named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from painel.config import Paths
from painel.opstate import OpState
from painel.procurement import workflow
from painel.procurement.etl import job as procurement
from painel.procurement.etl.landing import Landing, export_catalogue
from painel.procurement.etl.settings import SettingsError, from_parameters
from painel.procurement.simulator import PncpSimulator
from painel.procurement.simulator.sample import DAYS, FIRST_DAY, write_sample_world
from painel.store import Store

pytestmark = pytest.mark.timeout(180)

LAST = FIRST_DAY + dt.timedelta(days=DAYS - 1)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    return Paths.from_env().ensure()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pncp")
    path = write_sample_world(folder / "world.duckdb", big_items=40)
    export_catalogue(path, folder / "catalogo")
    return path


def params(sim: PncpSimulator, world: Path, **extra: object) -> dict[str, object]:
    return {
        "base_url": sim.url,
        "por": "publicacao",
        "desde": FIRST_DAY.isoformat(),
        "ate": LAST.isoformat(),
        "pace_s": 0.0,
        "retries": 2,
        "budget_s": 2.0,
        "catalogo": str(world.parent / "catalogo"),
        **extra,
    }


def test_a_run_publishes_the_crawled_days_with_their_findings(home: Paths, world: Path) -> None:
    with PncpSimulator(world) as sim:
        version = procurement.run_once(home, params(sim, world), log=lambda _m: None)
    store = Store(home.store)
    assert store.current_version("procurement") == version
    notes = store.manifest("procurement")["notes"]
    assert notes["dias"] == [FIRST_DAY.isoformat(), LAST.isoformat()]
    assert notes["api"]["calls"] > 0 and notes["crawl"]["contratacoes"] > 0
    con = store.connect("procurement")
    try:
        ufs = {r[0] for r in con.execute("SELECT DISTINCT uf_sigla FROM unidades").fetchall()}
        assert ufs == {"GO"}
        # every purchase of a GO unit of the world is published, with its items
        n = con.execute("SELECT count(*) FROM contratacoes").fetchall()[0][0]
        achados = con.execute(
            "SELECT regra, titulo, fundamento, link_pncp FROM achados ORDER BY regra"
        ).fetchall()
    finally:
        con.close()
    assert n == notes["crawl"]["contratacoes"]
    assert achados, "the sample world has dispensas over the limit and short tender windows"
    for regra, titulo, fundamento, link in achados:
        assert titulo and "Lei 14.133" in fundamento or regra in ("R7", "R8")
        assert link.startswith("https://pncp.gov.br/app/")
    # every finding reached the analysts' workflow as new, and a re-run keeps their moves
    with OpState(home.opstate).connect() as ops:
        synced = ops.execute("SELECT count(*), min(status), max(status) FROM procurement_achados")
        assert tuple(synced.fetchone()) == (len(achados), "novo", "novo")
        regra, chave = ops.execute("SELECT regra, chave FROM procurement_achados").fetchone()
    workflow.change(
        OpState(home.opstate),
        regra=regra,
        chave=chave,
        seen="novo",
        to="em_analise",
        actor="ana",
        role="cge_analista",
    )
    with PncpSimulator(world) as sim:
        procurement.run_once(home, params(sim, world), log=lambda _m: None)
    state = workflow.statuses(OpState(home.opstate), [(regra, chave)])[(regra, chave)]
    assert (state["status"], state["ativo"]) == ("em_analise", 1)


def test_an_outage_publishes_nothing_and_the_next_run_resumes(home: Paths, world: Path) -> None:
    store = Store(home.store)
    with PncpSimulator(world) as sim:
        sim.faults.outage_after = 25
        sim.faults.outage_calls = 100_000
        with pytest.raises(procurement.ProcurementJobError, match="PNCP unavailable"):
            procurement.run_once(home, params(sim, world), log=lambda _m: None)
        assert store.current_version("procurement") is None
        with Landing(home.home / "landing" / "procurement" / "pncp.duckdb") as land:
            kept = land.con.execute("SELECT count(*) FROM journal").fetchall()[0][0]
        assert kept > 0
        sim.faults.outage_calls = 0
        sim.reset_stats()
        version = procurement.run_once(home, params(sim, world), log=lambda _m: None)
    notes = store.manifest("procurement", version)["notes"]
    assert notes["crawl"]["skipped"] == kept  # the windows kept were not asked again


def test_the_daily_run_starts_after_the_last_whole_day(home: Paths, world: Path) -> None:
    with PncpSimulator(world) as sim:
        procurement.run_once(home, params(sim, world), log=lambda _m: None)
        job = procurement.prepare(
            home,
            params(sim, world, desde="", ate="", por="atualizacao"),
            today=LAST + dt.timedelta(days=3),
            log=lambda _m: None,
        )
    assert job.days == [LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=2)]


def test_a_first_daily_run_without_desde_says_what_to_set(home: Paths, world: Path) -> None:
    with pytest.raises(procurement.ProcurementJobError, match="set parameter desde"):
        procurement.prepare(
            home, {"base_url": "http://127.0.0.1:9", "catalogo": ""}, log=lambda _m: None
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"base_url": "pncp.gov.br"}, "parameter base_url must be an http"),
        ({"base_url": "http://x", "por": "dia"}, "parameter por must be"),
        ({"base_url": "http://x", "modalidades": [6, 99]}, "parameter modalidades"),
        ({"base_url": "http://x", "desde": "2026-02-30"}, "parameter desde must be a date"),
        (
            {"base_url": "http://x", "desde": "2026-03-02", "ate": "2026-03-01"},
            "parameter desde .* is after ate",
        ),
        ({"base_url": "http://x", "limite_dobrado": ["123"]}, "parameter limite_dobrado"),
        ({"base_url": "http://x", "r6_razao": "x"}, "parameter r6_razao must be a number"),
        ({"base_url": "http://x", "r8_min_resultados": 0}, "parameter r8_min_resultados"),
        ({"base_url": "http://x", "modelo_precisao": 1.0}, "parameter modelo_precisao"),
    ],
)
def test_bad_parameters_are_named(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        from_parameters(values)
