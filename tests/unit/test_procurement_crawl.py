"""The crawl through the real simulator lands exactly what a complete crawl of the world
would (landing.from_world), resumes after a failure without refetching, and never keeps half
a window."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from painel.procurement.etl import landing as landing_mod
from painel.procurement.etl.crawl import Crawler, days_between
from painel.procurement.pncp.client import PncpClient, PncpUnavailable
from painel.procurement.simulator import PncpSimulator
from painel.procurement.simulator.sample import DAYS, FIRST_DAY, write_sample_world

pytestmark = pytest.mark.timeout(120)

LAST_DAY = date.fromordinal(FIRST_DAY.toordinal() + DAYS + 3)
TABLES = ("orgaos", "unidades", "contratacoes", "itens", "resultados", "contratos", "termos")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("world") / "world.duckdb"
    return write_sample_world(path, big_items=620)


def rows(land: landing_mod.Landing, table: str) -> list[tuple]:
    cols = landing_mod.columns(land.con, table)
    if table == "resultados":  # PNCP gives dataResultado as a date: compare the day
        cols = [f"CAST({c} AS DATE)" if c == "data_resultado" else c for c in cols]
    return land.con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()


def crawl(sim_url: str, path: Path, **kw) -> Crawler:
    client = PncpClient(sim_url, pace=0.0, retries=kw.pop("retries", 3), budget_s=5, backoff_s=0.01)
    with landing_mod.Landing(path) as land:
        crawler = Crawler(client, land, por="publicacao", log=lambda _m: None)
        crawler.run(days_between(FIRST_DAY, LAST_DAY))
    return crawler


def test_a_crawl_lands_what_the_world_holds_for_the_state(sample: Path, tmp_path: Path) -> None:
    with PncpSimulator(sample) as sim:
        crawler = crawl(sim.url, tmp_path / "crawl.duckdb")
    expected = landing_mod.from_world(sample, tmp_path / "expected.duckdb")
    with (
        landing_mod.Landing(tmp_path / "crawl.duckdb") as got,
        landing_mod.Landing(expected) as want,
    ):
        for table in TABLES:
            assert rows(got, table) == rows(want, table), table
        assert rows(want, "itens") and len(rows(want, "itens")) > 620  # the big purchase paged
        ufs = {r[0] for r in got.con.execute("SELECT DISTINCT uf_sigla FROM unidades").fetchall()}
        assert ufs == {"GO"}
    assert crawler.stats.windows == len(days_between(FIRST_DAY, LAST_DAY)) * 7


def test_a_crawl_stopped_by_an_outage_resumes_without_refetching(
    sample: Path, tmp_path: Path
) -> None:
    path = tmp_path / "crawl.duckdb"
    with PncpSimulator(sample) as sim:
        sim.faults.outage_after = 40
        sim.faults.outage_calls = 10_000
        with pytest.raises(PncpUnavailable):
            crawl(sim.url, path, retries=2)
        with landing_mod.Landing(path) as land:
            done = land.con.execute("SELECT count(*), sum(chamadas) FROM journal").fetchone()
            # every journalled window is whole: its purchases' items are all there
            orphan = land.con.execute(
                "SELECT count(*) FROM contratacoes c WHERE NOT EXISTS (SELECT 1 FROM itens i "
                "WHERE i.numero_controle_pncp = c.numero_controle_pncp)"
            ).fetchone()[0]
        assert 0 < done[0] < len(days_between(FIRST_DAY, LAST_DAY)) * 7
        assert orphan == 0
        sim.faults.outage_calls = 0
        sim.reset_stats()
        crawler = crawl(sim.url, path)
        assert crawler.stats.skipped == done[0]
    expected = landing_mod.from_world(sample, tmp_path / "expected.duckdb")
    with landing_mod.Landing(path) as got, landing_mod.Landing(expected) as want:
        for table in TABLES:
            assert rows(got, table) == rows(want, table), table


def test_an_unchanged_purchase_is_not_fetched_again(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "crawl.duckdb"
    with PncpSimulator(sample) as sim:
        crawl(sim.url, path)
        with landing_mod.Landing(path) as land:
            land.con.execute("DELETE FROM journal")  # the same days asked again
        second = crawl(sim.url, path)
    assert second.stats.itens == 0 and second.stats.termos == 0
    assert second.stats.unchanged == second.stats.contratacoes + second.stats.contratos
