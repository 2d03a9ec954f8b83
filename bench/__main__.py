"""``make bench``: the foundation's figures, measured as ratios within one run where possible.

1. publish overhead: Store.build + checks + publish vs. writing the same DuckDB file directly;
2. read-only connect + scoped query: first query (connect, attach, views) and warm queries;
3. Voilà GET-to-complete-HTML: cold kernels (--no-preheat) vs. preheated kernels;
4. RSS of an idle dashboard kernel;
5. (bench/startup.py) what the server and a dashboard kernel import: time, RSS, and whether
   pandas, duckdb or argon2 come along; the live server's own RSS;
6. (bench/viewers.py) painel's Progresso page against the same page in Streamlit, N = 1, 10,
   50 open pages: time to usable, server CPU per open, PSS per page, filter latency.

Targets (issue 2): preheated render <= 0.5 s p50; idle kernel <= 200 MB RSS.
Results print as a table and go to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import duckdb  # noqa: E402
import psutil  # noqa: E402

from painel.auth import Grant, Viewer  # noqa: E402
from painel.scope import ScopedDataset  # noqa: E402
from painel.store import Store  # noqa: E402
from painel_testing import login, prepare_demo_home, start_server  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


PUBLISH_SQL = (
    "CREATE TABLE t AS SELECT range AS id, range % 1000 AS school_id, range % 47 AS sre_id, "
    "(range * 7919) % 1000 AS n, 'escola ' || (range % 1000) AS name FROM range(36000)"
)
PUBLISH_TABLES = {"t": {"school": "school_id", "sre": "sre_id"}}


def bench_publish(work: Path, repeats: int = 5) -> dict[str, Any]:
    """Store.build + checks + publish of a 36,000-row table against the same SQL written
    straight to a DuckDB file."""
    from painel import checks

    direct, published = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        store = Store(work / f"store-{i}")
        build = store.build("bench", PUBLISH_TABLES)
        build.con.execute(PUBLISH_SQL)
        build.check(
            checks.not_empty("t"),
            checks.unique("t", ["id"]),
            checks.not_null("t", ["school_id", "sre_id"]),
        )
        build.publish()
        published.append(time.perf_counter() - t0)

        t0 = time.perf_counter()  # the same work straight to a file: no checks, no publish
        path = work / f"direct-{i}.duckdb"
        con = duckdb.connect(str(path))
        con.execute(PUBLISH_SQL)
        con.execute("CHECKPOINT")
        con.close()
        direct.append(time.perf_counter() - t0)
    d, p = statistics.median(direct), statistics.median(published)
    return {"rows": 36_000, "direct_s_p50": d, "publish_s_p50": p, "overhead_ratio": p / d}


def bench_scoped_query(work: Path, n: int = 200) -> dict[str, Any]:
    store = Store(work / "store-0")
    viewer = Viewer("bench", "school_sre", frozenset({Grant.parse("bench:sre:2")}))
    first = []
    for _ in range(20):
        t0 = time.perf_counter()
        ds = ScopedDataset(viewer, "bench", store)
        ds.sql("SELECT count(*) FROM t")
        first.append(time.perf_counter() - t0)
        ds.close()
    ds = ScopedDataset(viewer, "bench", store)
    warm = []
    for i in range(n):
        t0 = time.perf_counter()
        ds.sql(
            "SELECT school_id, sum(n) FROM t WHERE $1 IS NULL OR school_id = $1 GROUP BY ALL",
            [None if i % 2 else 96],
        )
        warm.append(time.perf_counter() - t0)
    ro = []
    for _ in range(20):
        t0 = time.perf_counter()
        con = duckdb.connect(str(store.current_path("bench")), read_only=True)
        con.execute("SELECT 1").fetchone()
        con.close()
        ro.append(time.perf_counter() - t0)
    return {
        "read_only_connect_ms_p50": 1000 * statistics.median(ro),
        "scoped_open_and_first_query_ms_p50": 1000 * statistics.median(first),
        "scoped_query_ms_p50": 1000 * statistics.median(warm),
        "scoped_query_ms_p95": 1000 * pct(warm, 0.95),
    }


def bench_voila(work: Path, renders: int = 8) -> dict[str, Any]:
    home = work / "home"
    home.mkdir()
    prepare_demo_home(home)
    out: dict[str, Any] = {}
    for mode, preheat in (("cold", False), ("preheated", True)):
        server = start_server(home, preheat=preheat)
        try:
            s = login(server, "sre.metropolitana")
            times = []
            for _ in range(renders):
                if preheat:  # let the pool refill (fill_delay + kernel start), then pre-run
                    server.wait_pools_ready(30)
                    time.sleep(1.0)
                t0 = time.perf_counter()
                r = s.get(server.base + "/voila/render/rede_visao_geral.ipynb", timeout=120)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200 and "kernelId" in r.text
            out[f"{mode}_render_s_p50"] = statistics.median(times)
            out[f"{mode}_render_s_max"] = max(times)
            if preheat:
                time.sleep(3)
                kernels = [
                    p
                    for p in psutil.Process(server.proc.pid).children(recursive=True)
                    if "ipykernel" in " ".join(p.cmdline())
                ]
                rss = [p.memory_info().rss / 2**20 for p in kernels]
                out["kernels_measured"] = len(rss)
                out["idle_kernel_rss_mb_p50"] = statistics.median(rss) if rss else None
                out["idle_kernel_rss_mb_max"] = max(rss) if rss else None
        finally:
            server.stop()
    out["cold_over_preheated"] = out["cold_render_s_p50"] / out["preheated_render_s_p50"]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m bench [foundation] [progress] [startup] [panels] [school] [procurement]
    [portal] [load] [viewers] [--viewers options]`` (default: all; ``SCHOOL_BENCH_SCALE`` and
    ``PROCUREMENT_BENCH_SCALE`` set the suites' scales, 1 = the state; ``SCHOOL_BENCH_HOME``
    gives ``portal`` a data directory with the state's school data instead of building it;
    the options after the section names go to ``viewers``: ``python -m bench viewers --help``)."""
    args = list(argv if argv is not None else sys.argv[1:])
    first_option = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    args, viewer_options = args[:first_option], args[first_option:]
    wanted = set(args) or {
        "foundation",
        "progress",
        "startup",
        "panels",
        "school",
        "procurement",
        "portal",
        "load",
        "viewers",
    }
    if viewer_options and "viewers" not in wanted:
        print(f"options {viewer_options} are the viewers section's", file=sys.stderr)
        return 2
    results: dict[str, Any] = {"cpu_count": os.cpu_count()}
    targets: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="painel-bench-") as tmp:
        work = Path(tmp)
        if "foundation" in wanted:
            print("publish overhead ...", flush=True)
            results["publish"] = bench_publish(work)
            print("scoped queries ...", flush=True)
            results["query"] = bench_scoped_query(work)
            print("voila renders and kernel memory ...", flush=True)
            results["voila"] = bench_voila(work)
            targets["preheated render <= 0.5 s p50"] = (
                results["voila"]["preheated_render_s_p50"] <= 0.5
            )
            targets["idle kernel <= 200 MB RSS"] = (
                results["voila"].get("idle_kernel_rss_mb_max") or 1e9
            ) <= 200
        if "progress" in wanted:
            from bench import progress

            for section, values in progress.run(work).items():
                results[f"progress.{section}"] = values
            rate = results["progress.rate"]
            targets["progress collection within 10% of calls / rate"] = (
                rate["wall_over_floor"] <= 1.10
            )
            targets["progress collection: zero refusals"] = rate["refusals"] == 0
            loaded = results["progress.rate_under_load"]
            targets["progress collection under CPU load: zero refusals"] = (
                loaded["scaled_loaded_refusals"] == 0 and loaded["real_loaded_refusals"] == 0
            )
        if "startup" in wanted:
            from bench import startup

            print("server and kernel imports, live server RSS ...", flush=True)
            for section, values in startup.run(work).items():
                results[f"startup.{section}"] = values
            targets["server loads neither pandas nor duckdb"] = not (
                results["startup.server_import"]["loads_pandas"]
                or results["startup.server_import"]["loads_duckdb"]
            )
            targets["a dashboard kernel loads no argon2"] = not results["startup.kernel_import"][
                "loads_argon2"
            ]
        if "school" in wanted:
            from bench import school

            for section, values in school.run(work).items():
                results[f"school.{section}"] = values
            refresh = results["school.refresh"]
            targets["school refresh <= 1.3x bare DuckDB"] = refresh["job_over_bare"] <= 1.3
            targets["school refresh peak RSS <= 4 GB"] = refresh["job_peak_rss_mb"] <= 4096
            q = results["school.queries"]
            targets["school scoped query p95 <= 20 ms (school, SRE)"] = (
                max(q["school_ms_p95"], q["sre_ms_p95"]) <= 20
            )
            targets["school scoped query p95 <= 100 ms (central)"] = q["central_ms_p95"] <= 100
            targets["school student-list export <= 1 s"] = (
                results["school.export"]["export_s"] <= 1.0
            )
            sp = results["school.panels"]
            targets["school panel preheated render <= 0.5 s p50 (each)"] = sp["render_worst"] <= 0.5
            targets["school panel filter change to chart <= 150 ms p95 (each)"] = (
                sp["filter_worst"] <= 0.150
            )
        if "procurement" in wanted:
            from bench import procurement

            for section, values in procurement.run(work).items():
                results[f"procurement.{section}"] = values
            year = results["procurement.year_build"]
            targets["procurement year build <= 3 min"] = year["seconds"] <= 180
            daily = results["procurement.daily"]
            targets["procurement daily increment <= 30 s + pace"] = (
                daily["total_s_without_pace"] <= 30
            )
            targets["procurement crawl within 10% of calls x pace"] = (
                results["procurement.crawl_pace"]["wall_over_floor"] <= 1.10
            )
            shown = results.get("procurement.panels")
            if shown:
                targets["procurement panel filter change to chart <= 150 ms p95 (each)"] = (
                    shown["filter_worst"] <= 0.150
                )
                targets["procurement panel preheated render <= 0.5 s p50 (each)"] = (
                    shown["render_worst"] <= 0.5
                )
        if "panels" in wanted:
            from bench import panels

            for section, values in panels.run(work).items():
                results[f"panels.{section}"] = values
            targets["click to usable panel <= 0.8 s p50"] = (
                results["panels.click"]["p50_all"] <= 0.8
            )
            targets["filter change to chart (1M rows) <= 150 ms p95"] = (
                results["panels.filter"]["filter_to_chart_s_p95"] <= 0.150
            )
        if "portal" in wanted:
            from bench import portal, reports

            results["portal.users_import"] = portal.run(work)["users_import"]
            targets["users import: 8,000 users in seconds (<= 10 s)"] = (
                results["portal.users_import"]["first_s"] <= 10
            )
            targets["users import: a second import changes nothing"] = (
                results["portal.users_import"]["again_changes"] == 0
            )
            results["portal.reports"] = reports.run(work)
        if "load" in wanted:  # bench/load.py
            from bench import load

            for section, values in load.run(work).items():
                results[f"load.{section}"] = values
            targets["load: some level held with interaction p95 <= 300 ms"] = (
                results["load.summary"]["baseline_sessions_held"] > 0
            )
        if "viewers" in wanted:  # bench/viewers.py
            from bench import viewers

            for section, values in viewers.run(work, viewer_options).items():
                results[f"viewers.{section}"] = values
            top = max(results["viewers.run"]["levels"])
            shown = results.get(f"viewers.painel.n{top}")
            if shown:  # issue 13's goals, at the highest level
                targets["viewers: PSS per additional page <= 40 MB"] = (
                    shown["pss_per_page_mb"] <= 40
                )
                targets["viewers: server CPU per page open <= 0.3 s"] = (
                    shown["cpu_per_open_s_p50"] <= 0.3
                )
                targets["viewers: time to usable p50 <= 2.18 s"] = shown["usable_s_p50"] <= 2.18
                targets["viewers: filter latency p50 <= 0.20 s"] = shown["filter_s_p50"] <= 0.20
    results["targets_met"] = targets
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    name = (
        "latest.json"
        if wanted >= {"foundation", "progress", "startup", "panels"}
        else f"latest-{'-'.join(sorted(wanted))}.json"
    )
    (out_dir / name).write_text(json.dumps(results, indent=2, default=str))
    for section in [k for k in results if isinstance(results[k], dict) and k != "targets_met"]:
        for key, value in results[section].items():
            print(
                f"{section:8} {key:40} {value:.3f}"
                if isinstance(value, float)
                else f"{section:8} {key:40} {value}"
            )
    for name, ok in targets.items():
        print(f"target   {name:40} {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
