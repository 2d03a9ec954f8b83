"""Benchmarks of the procurement suite (``python -m bench procurement``; part of ``make bench``).

1. year build: a year of the state at ``PROCUREMENT_BENCH_SCALE`` (1 = 100,000 contratações
   and ~1 M items) already in the landing (the simulator's pages fetched) to a published
   dataset, with the item classifier applied and every rule run. Target ≤ 3 min. The
   classifier's training (weekly: ``modelo_dias``) is timed on its own first.
2. daily increment: one more day crawled from the simulator (no pace) into that landing and
   the dataset built and published again. Target ≤ 30 s plus the API's pace.
3. crawl pace: a few days crawled from the simulator at a small pace; the wall time over
   calls × pace (target ≤ 1.10: the crawl itself adds little to PNCP's pace).
4. panels (:mod:`bench.procurement_panels`, unless ``PROCUREMENT_BENCH_PANELS=0``): each
   panel's preheated render and a filter change to the redrawn chart in chromium (target
   p95 ≤ 150 ms).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from painel.config import Paths
from painel.procurement.etl import job as procurement
from painel.procurement.etl import landing
from painel.procurement.etl.crawl import Crawler, days_between
from painel.procurement.generate import generate
from painel.procurement.pncp.client import PncpClient
from painel.procurement.simulator import PncpSimulator

TODAY = dt.date(2026, 11, 27)  # a Friday: the daily increment is a working day's


class PeakRss:
    """The peak RSS of this process, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_build(paths: Paths, params: dict[str, Any], days: list[dt.date]) -> tuple[float, str]:
    job = procurement.prepare(paths, params, log=lambda _m: None)
    job.days = days
    start = time.perf_counter()
    build = procurement.new_build(job)
    job.build(build)
    version = job.publish(build)
    return time.perf_counter() - start, version


def run(work: Path) -> dict[str, Any]:
    scale = float(os.environ.get("PROCUREMENT_BENCH_SCALE", "1"))
    out: dict[str, Any] = {}
    home = work / "procurement-home"
    os.environ["PAINEL_HOME"] = str(home)
    paths = Paths.from_env().ensure()
    world = work / "procurement-world.duckdb"
    print(f"procurement: generating a year at scale {scale} ...", flush=True)
    t0 = time.perf_counter()
    generate(world, scale=scale, first_year=TODAY.year, last_year=TODAY.year, today=TODAY, seed=5)
    out["generate"] = {"scale": scale, "seconds": time.perf_counter() - t0}
    last = TODAY - dt.timedelta(days=2)
    land = home / "landing" / "procurement" / "pncp.duckdb"
    land.parent.mkdir(parents=True, exist_ok=True)
    landing.from_world(world, land, until=last)
    landing.export_catalogue(world, work / "catalogo")
    with landing.Landing(land) as lnd:
        counts = {
            t: lnd.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("contratacoes", "itens", "resultados", "contratos")
        }
        for day in days_between(dt.date(TODAY.year, 1, 1), last):
            for mod in (4, 5, 6, 7, 8, 9):
                lnd.mark_done("contratacoes", day, mod, "publicacao", 0, 0)
            lnd.mark_done("contratos", day, 0, "publicacao", 0, 0)

    with PncpSimulator(world) as sim:
        params = {
            "base_url": sim.url,
            "por": "publicacao",
            "pace_s": 0.0,
            "catalogo": str(work / "catalogo"),
            "desde": dt.date(TODAY.year, 1, 1).isoformat(),
            "ate": last.isoformat(),
        }
        print("procurement: training the item classifier ...", flush=True)
        job = procurement.prepare(paths, params, log=lambda _m: None)
        with landing.Landing(land) as lnd:
            landing.load_catalogue(lnd, work / "catalogo")
        t0 = time.perf_counter()
        job.classifier("bench")  # saved under models/: the builds below load it
        out["train"] = {
            "seconds": time.perf_counter() - t0,
            **{
                k: v
                for k, v in (job.classified.get("classificador") or {}).items()
                if k == "metrics"
            },
        }
        print(f"procurement: year build ({counts}) ...", flush=True)
        with PeakRss() as rss:
            seconds, version = _run_build(
                paths, params, days_between(dt.date(TODAY.year, 1, 1), last)
            )
        out["year_build"] = {
            **counts,
            "seconds": seconds,
            "peak_rss_mb": rss.peak / 2**20,
            "version": version,
        }
        # the daily increment: one more day from the simulator, then the build
        print("procurement: daily increment ...", flush=True)
        day = last + dt.timedelta(days=1)
        client = PncpClient(sim.url, pace=0.0)
        t0 = time.perf_counter()
        with landing.Landing(land) as lnd:
            Crawler(client, lnd, por="publicacao", log=lambda _m: None).run([day])
        crawl_s = time.perf_counter() - t0
        calls = client.stats.calls
        build_s, _ = _run_build(
            paths, {**params, "desde": day.isoformat(), "ate": day.isoformat()}, [day]
        )
        out["daily"] = {
            "calls": calls,
            "crawl_s_without_pace": crawl_s,
            "build_s": build_s,
            "total_s_without_pace": crawl_s + build_s,
            "pace_s_at_2s": calls * 2.0,
        }
        # the crawl's own overhead against PNCP's pace
        print("procurement: crawl pace ...", flush=True)
        pace = 0.1
        client = PncpClient(sim.url, pace=pace)
        crawl_land = work / "pace.duckdb"
        t0 = time.perf_counter()
        with landing.Landing(crawl_land) as lnd:
            Crawler(client, lnd, por="publicacao", log=lambda _m: None).run([last])
        wall = time.perf_counter() - t0
        out["crawl_pace"] = {
            "pace_s": pace,
            "calls": client.stats.calls,
            "wall_s": wall,
            "floor_s": client.stats.calls * pace,
            "wall_over_floor": wall / (client.stats.calls * pace),
        }
    if os.environ.get("PROCUREMENT_BENCH_PANELS", "1") != "0":
        print("procurement: panels in chromium (render and filter change) ...", flush=True)
        from bench import procurement_panels

        out["panels"] = procurement_panels.run(home)
    return out
