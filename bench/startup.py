"""What the server and a dashboard kernel load (``python -m bench startup``; part of ``make bench``).

1. imports: a fresh interpreter imports the server (``painel.web.app``) and, separately, what a
   dashboard kernel imports before its first request (``painel.dash`` and a page module, then
   ``dash.warm_up()``); wall time, RSS, and whether pandas, duckdb or argon2 came along;
2. a live ``painel serve`` on the demo data with preheated pools: the server process's own
   RSS (kernels excluded) and each idle pooled kernel's RSS.

Each import is measured in its own interpreter, median of several, so the figures compare
across releases run on the same machine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
mods = {m: m in sys.modules for m in ("pandas", "duckdb", "argon2", "plotly", "painel.progress", "painel.school")}
print(json.dumps({"s": dt, "rss_mb": rss, "loaded": mods}))
"""

SERVER = "import painel.web.app"
KERNEL_PAGES = ("painel.progress.pages.progresso",)


def _kernel_code() -> str:
    return (
        "import importlib\nfrom painel import dash\n"
        f"for name in {KERNEL_PAGES!r}:\n"
        "    try:\n        importlib.import_module(name); break\n"
        "    except ImportError:\n        pass\n"
        "dash.warm_up()\n"
    )


def probe(code: str, repeats: int = 5) -> dict[str, Any]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, code],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            timeout=120,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "import_s_p50": statistics.median(r["s"] for r in runs),
        "rss_mb_p50": statistics.median(r["rss_mb"] for r in runs),
        "loaded": runs[-1]["loaded"],
    }


def live_server(work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "tests"))
    from painel_testing import prepare_demo_home, start_server

    home = work / "startup-home"
    home.mkdir()
    prepare_demo_home(home)
    server = start_server(home)
    try:
        time.sleep(5)  # let the pools settle
        proc = psutil.Process(server.proc.pid)
        kernels = [p for p in proc.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
        return {
            "server_rss_mb": proc.memory_info().rss / 2**20,
            "pooled_kernels": len(kernels),
            "pooled_kernel_rss_mb_p50": statistics.median(
                p.memory_info().rss / 2**20 for p in kernels
            )
            if kernels
            else None,
        }
    finally:
        server.stop()


def run(work: Path) -> dict[str, dict[str, Any]]:
    server = probe(SERVER)
    kernel = probe(_kernel_code())
    return {
        "server_import": {k: v for k, v in server.items() if k != "loaded"}
        | {f"loads_{m}": v for m, v in server["loaded"].items()},
        "kernel_import": {k: v for k, v in kernel.items() if k != "loaded"}
        | {f"loads_{m}": v for m, v in kernel["loaded"].items()},
        "live": live_server(work),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
