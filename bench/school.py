"""The school suite's figures (issue 10), at ``SCHOOL_BENCH_SCALE`` (default 1: the state).

1. **refresh**: the ``school`` job from the zip to a published version (landing from a local
   folder, contract and quarantine, volume gate, model, checks, publish), in a child process
   (its peak RSS is the job's), against — in the same run, on the same machine — bare DuckDB
   reading the same files, already transcoded to UTF-8, into tables with the same types and
   running the same model SQL (no contract, no quarantine, no checks, no publish). Target:
   job ≤ 1.3 × bare, peak RSS ≤ 4 GB.
2. **scoped queries** on the published version: what the panels ask (the totals and the
   per-unit rows of Visão Geral; a school's student list) as a school user, an SRE user and
   a central user, p95. Targets: ≤ 20 ms (school, SRE), ≤ 100 ms (central).
3. **export**: a school's student list to Excel (the panel's exporter), seconds. Target ≤ 1 s.
4. **panels** (:mod:`bench.school_panels`): each panel's preheated render and filter change in
   chromium on that version. Targets: render p50 ≤ 0.5 s, filter → chart p95 ≤ 150 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

_JOB = r"""
import json, os, resource, sys, time
from painel.config import Paths
from painel.school.etl import job as school
t0 = time.perf_counter()
paths = Paths.from_env().ensure()
job = school.prepare(paths, {"source": "local", "directory": sys.argv[1], "stable_wait_s": 0.0,
                             "memory_limit": sys.argv[2]}, log=lambda _l: None)
build = school.new_build(job)
job.build(build)
version = job.publish(build)
print(json.dumps({"s": time.perf_counter() - t0, "version": version,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_BARE = r"""
import json, resource, sys, time
from pathlib import Path
import duckdb
from painel.school import contract
from painel.school.etl import model, rules
from painel.school.etl.settings import Rules
from datetime import date
folder, day, memory = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
con = duckdb.connect(str(folder / "bare.duckdb"))
con.execute(f"SET memory_limit = '{memory}'")
con.execute(f"ATTACH '{folder / 'bare-raw.duckdb'}' AS raw")
for spec in contract.FILES.values():
    path = folder / f"{spec.stem}.utf8.csv"
    con.execute(
        f"CREATE TABLE raw.{spec.stem} AS SELECT * FROM read_csv(?, delim=';', header=true, "
        "auto_detect=false, columns=?, dateformat='%d/%m/%Y', decimal_separator=',')",
        [str(path), {c.name: c.type for c in spec.columns}],
    )
con.execute("CREATE TABLE raw.diaria AS SELECT * FROM raw.frequencia_diaria")
r = Rules()
year = model.base_tables(con, day, r)
model.per_matricula(con, r)
model.presence(con, False, year)
rules.run(con, r, True, year)
model.published(con, day, year, r, False)
con.execute("CHECKPOINT")
con.close()
print(json.dumps({"s": time.perf_counter() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PAINEL_HOME": str(home), "PAINEL_PROJECT": str(REPO)}


def _run(code: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _transcode(zip_path: Path, out: Path) -> None:
    """The dump's members as UTF-8 files (the bare baseline reads these, untimed)."""
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            stem = name.removesuffix(".csv")
            with zf.open(name) as src, open(out / f"{stem}.utf8.csv", "w", encoding="utf-8") as dst:
                while chunk := src.read(16 << 20):
                    dst.write(chunk.decode("cp1252"))


def refresh(work: Path, scale: float, memory: str = "3GB") -> dict[str, Any]:
    from datetime import date

    from painel.school.generate import generate

    dumps = work / "school-dumps"
    dumps.mkdir(parents=True, exist_ok=True)
    day = date(2026, 11, 30)
    t0 = time.perf_counter()
    zips = generate(dumps, scale=scale, day=day, seed=1)
    gen_s = time.perf_counter() - t0
    zip_path = zips[-1]
    sizes = {}
    with zipfile.ZipFile(zip_path) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    home = work / "school-home"
    job = _run(_JOB, str(dumps), memory, env=_env(home))
    bare_dir = work / "school-bare"
    bare_dir.mkdir(exist_ok=True)
    _transcode(zip_path, bare_dir)
    bare = _run(_BARE, str(bare_dir), day.isoformat(), memory, env=_env(home))
    from painel.store import Store

    counts = Store(home / "store").manifest("school")["notes"]["files"]
    return {
        "scale": scale,
        "generate_s": gen_s,
        "zip_mb": zip_path.stat().st_size / 1e6,
        "csv_mb": sum(sizes.values()) / 1e6,
        "rows": {k: v["rows"] for k, v in counts.items()},
        "job_s": job["s"],
        "job_peak_rss_mb": job["peak_rss_mb"],
        "bare_s": bare["s"],
        "bare_peak_rss_mb": bare["peak_rss_mb"],
        "job_over_bare": job["s"] / bare["s"],
        "home": str(home),
    }


def scoped_queries(home: Path, n: int = 60) -> dict[str, Any]:
    """What the panels ask, per viewer kind, p50/p95 in ms (the connection already open)."""
    os.environ["PAINEL_HOME"] = str(home)
    from painel.access import Grant, Viewer
    from painel.school import queries
    from painel.scope import ScopedDataset
    from painel.store import Store

    store = Store(home / "store")
    con = store.connect("school")
    sre, school = con.execute(
        "SELECT sre_id, school_id FROM escolas ORDER BY school_id LIMIT 1"
    ).fetchall()[0]
    con.close()
    viewers = {
        "central": Viewer("c", "school_central", frozenset({Grant.parse("school:*")})),
        "sre": Viewer("s", "school_sre", frozenset({Grant.parse(f"school:sre:{sre}")})),
        "school": Viewer(
            "e", "school_director", frozenset({Grant.parse(f"school:school:{school}")})
        ),
    }
    out: dict[str, Any] = {}
    for kind, viewer in viewers.items():
        ds = ScopedDataset(viewer, "school", store)
        place, _ = queries.home(ds, viewer.sees_all("school"))
        view = queries.View(place)
        timings: list[float] = []
        for i in range(n):
            t0 = time.perf_counter()
            if i % 3 == 0:
                queries.matriculas_total(ds, view)
            elif i % 3 == 1:
                queries.matriculas_by_child(ds, view)
            else:
                queries.totals(ds, view, "inconsistencias", "count(*) AS n", filters=False)
            timings.append((time.perf_counter() - t0) * 1000)
        out[f"{kind}_ms_p50"] = _pct(timings, 0.5)
        out[f"{kind}_ms_p95"] = _pct(timings, 0.95)
        ds.close()
    return out


def export(home: Path) -> dict[str, Any]:
    """A school's student list (the largest school) to Excel with the panels' exporter."""
    os.environ["PAINEL_HOME"] = str(home)
    from painel.access import Grant, Viewer
    from painel.dash import excel
    from painel.dash.table import Column
    from painel.scope import ScopedDataset
    from painel.store import Store

    store = Store(home / "store")
    con = store.connect("school")
    school = con.execute(
        "SELECT school_id FROM alunos GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    viewer = Viewer("e", "school_director", frozenset({Grant.parse(f"school:school:{school}")}))
    ds = ScopedDataset(viewer, "school", store)
    columns = [
        Column("nome", "Estudante"),
        Column("turma", "Turma"),
        Column("freq_pct", "Frequência (%)", kind="percent"),
        Column("aproveitamento_pct", "Aproveitamento (%)", kind="percent"),
        Column("dias_sem_presenca", "Dias sem presença", kind="int"),
        Column("dt_nascimento", "Nascimento", kind="date"),
    ]
    t0 = time.perf_counter()
    df = ds.sql(
        "SELECT e.nome, t.nome AS turma, a.freq_pct, a.aproveitamento_pct, a.dias_sem_presenca, "
        "e.dt_nascimento FROM alunos a JOIN estudantes e USING (id_matricula) "
        "LEFT JOIN turmas t ON t.id_turma = a.id_turma WHERE a.ativa ORDER BY e.nome"
    )
    data = excel.workbook(df, columns, sheet="Estudantes", filters=[], exported_by="bench")
    seconds = time.perf_counter() - t0
    ds.close()
    return {"rows": len(df), "bytes": len(data), "export_s": seconds}


def run(work: Path) -> dict[str, dict[str, Any]]:
    scale = float(os.environ.get("SCHOOL_BENCH_SCALE", "1"))
    print(f"school refresh at scale {scale:g} (job vs bare DuckDB) ...", flush=True)
    r = refresh(work, scale)
    home = Path(r.pop("home"))
    print("school scoped queries ...", flush=True)
    q = scoped_queries(home)
    print("school export ...", flush=True)
    e = export(home)
    print("school panels in chromium: render and filter change (about 15 min) ...", flush=True)
    from bench import school_panels

    return {"refresh": r, "queries": q, "export": e, "panels": school_panels.run(home)}
