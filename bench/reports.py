"""Report bursts at the state's scale (issue 12): ``painel report burst rede_escola``.

On a school dataset at scale 1 (3,496 schools, 47 SREs, 1.5 M students; built here by
:func:`bench.school.refresh`, or an existing home named by ``SCHOOL_BENCH_HOME``), each part a
real burst through the command line, Papermill and a fresh kernel per report, mail off:

1. **schools, all cores**: ``REPORTS_BENCH_SCHOOLS`` school reports (default 3,500: every
   school) with one worker per core, HTML and spreadsheet; reports per second, per second
   per core, and the projection to every school and SRE;
2. **one worker**: 60 school reports with one worker, for the scaling across cores;
3. **SREs**: the 47 SRE reports (the largest scopes), all cores;
4. **PDF**: 40 school reports with the PDF printed by chromium, all cores: the PDF's
   extra cost per report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _burst(home: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PAINEL_HOME": str(home), "PAINEL_PROJECT": str(REPO)}
    env.pop("PAINEL_REPORTS_DIR", None)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "painel.cli", "report", "burst", "rede_escola", "--no-mail", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stdout[-2000:] + out.stderr[-2000:])
    made = next(line for line in out.stdout.splitlines() if line.strip().startswith("made "))
    n = int(made.split()[1].rstrip(","))
    return {"reports": n, "wall_s": wall, "per_s": n / wall}


def _clear(home: Path) -> None:
    """Forget earlier bursts, so each part makes its reports again."""
    from painel.opstate import OpState

    with OpState(home / "painel.sqlite").connect() as con:
        con.execute("DELETE FROM report_items")


def run(work: Path) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    given = os.environ.get("SCHOOL_BENCH_HOME")
    if given:
        home = Path(given)
    else:
        from bench import school

        print("school data at scale 1 for the report bursts ...", flush=True)
        home = Path(school.refresh(work, float(os.environ.get("SCHOOL_BENCH_SCALE", "1")))["home"])
    from painel.store import Store

    store = Store(home / "store")
    version = store.current_version("school")
    assert version, f"no school data in {home}"
    import duckdb

    con = duckdb.connect(str(store.version_path("school", version)), read_only=True)
    schools, sres, students = con.execute(
        "SELECT (SELECT count(*) FROM escolas), (SELECT count(DISTINCT sre_id) FROM escolas), "
        "(SELECT count(*) FROM alunos WHERE ativa)"
    ).fetchone()
    con.close()
    n = min(int(os.environ.get("REPORTS_BENCH_SCHOOLS", "3500")), schools)
    out: dict[str, Any] = {"schools": schools, "sres": sres, "students": students, "cores": cores}

    _clear(home)
    print(f"report burst: {n} school reports, {cores} workers (no PDF) ...", flush=True)
    out["schools_all_cores"] = _burst(
        home, "--kind", "school", "--limit", str(n), "--workers", str(cores), "--pdf", "no"
    )
    _clear(home)
    print("report burst: 60 school reports, 1 worker ...", flush=True)
    out["schools_one_worker"] = _burst(
        home, "--kind", "school", "--limit", "60", "--workers", "1", "--pdf", "no"
    )
    _clear(home)
    print(f"report burst: the {sres} SRE reports ...", flush=True)
    out["sres_all_cores"] = _burst(home, "--kind", "sre", "--workers", str(cores), "--pdf", "no")
    _clear(home)
    print("report burst: 40 school reports with PDF ...", flush=True)
    out["pdf_all_cores"] = _burst(
        home, "--kind", "school", "--limit", "40", "--workers", str(cores), "--pdf", "yes"
    )
    _clear(home)

    rate = out["schools_all_cores"]["per_s"]
    out["per_s_per_core"] = rate / cores
    out["scaling"] = rate / out["schools_one_worker"]["per_s"]
    out["pdf_extra_s_per_report"] = cores / out["pdf_all_cores"]["per_s"] - cores / rate
    out["projected_state_min"] = (schools / rate + sres / out["sres_all_cores"]["per_s"]) / 60.0
    print(json.dumps(out, indent=2), flush=True)
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="painel-bench-") as tmp:
        run(Path(tmp))
