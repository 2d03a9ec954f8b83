"""The school suite's demo: generated dumps at scale 0.01 behind a local FTP server, the first
published version (fetched through that server, as in production), the demo logins, and the
nbval fixture.

``make demo``: ``painel demo prepare`` writes the last school days' dumps (so Busca Ativa
has history) into ``PAINEL_HOME/sources/school``, serves them on ``127.0.0.1:2121`` and runs
the ``school`` job with the demo's parameters (``parameters/demo/school.yaml``: FTP on
loopback); ``painel demo serve`` keeps the FTP server up for runs started from the pages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..config import Paths
from . import DATASET

JOB = "school"
SCALE = 0.01
SEED = 7
HISTORY_DAYS = 20  # school days of dumps before the demo's date (days without presence)
TREND_DAYS = 10  # of which the last ones are published one by one (the panels' daily lines)
FTP_HOST, FTP_PORT = "127.0.0.1", 2121
FTP_USER = "simade"
# Demo only: the FTP server listens on loopback and serves synthetic data.
FTP_PASSWORD = "demo-ftp-simade"
PASSWORD_ENV = "SCHOOL_FTP_PASSWORD"


def demo_day(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(since, day) of the demo's dumps: today (São Paulo) inside its school year, else the
    last school day of the year before; ``since`` is ``HISTORY_DAYS`` school days earlier."""
    from .generate.calendario import build_calendar, ddate, dnum

    if today is None:
        from zoneinfo import ZoneInfo

        today = dt.datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    cal = build_calendar(today.year)
    if dnum(today) < cal.first_dump_day() + HISTORY_DAYS + 1:
        cal = build_calendar(today.year - 1)
        today = ddate(int(cal.days[-1]))
    days = [int(d) for d in cal.days if int(d) < dnum(today)]
    since = ddate(days[-HISTORY_DAYS]) if len(days) >= HISTORY_DAYS else ddate(days[0] + 1)
    return since, today


def folder(paths: Paths) -> Path:
    return paths.sources / "school"


def write_dumps(
    paths: Paths, *, scale: float = SCALE, today: dt.date | None = None, history: bool = True
) -> list[Path]:
    """The demo's dumps: the last ``HISTORY_DAYS`` school days', or only the newest without
    ``history`` (idempotent: dumps already written are kept)."""
    from .contract import zip_name
    from .generate import generate

    since, day = demo_day(today)
    out = folder(paths)
    out.mkdir(parents=True, exist_ok=True)
    first = since if history else day
    if (out / zip_name(first)).exists() and (out / zip_name(day)).exists():
        return sorted(out.glob("simade_*.zip"))
    return generate(out, scale=scale, day=day, seed=SEED, since=since if history else None)


@contextlib.contextmanager
def ftp(paths: Paths, port: int = FTP_PORT) -> Iterator[dict[str, str]]:
    """The demo's FTP server on loopback, serving the generated dumps."""
    from .ftpserver import serve

    root = folder(paths)
    root.mkdir(parents=True, exist_ok=True)
    with serve(root, host=FTP_HOST, port=port, user=FTP_USER, password=FTP_PASSWORD):
        yield {PASSWORD_ENV: FTP_PASSWORD}


def prepare(paths: Paths, data: bool = True) -> list[str]:
    """Write the demo dumps; with ``data``, fetch them through the demo FTP server and publish."""
    from ..store import Store

    dumps = write_dumps(paths, history=data)
    out = [f"school dumps: {len(dumps)} in {folder(paths)} (scale {SCALE})"]
    if not data:
        return out
    if Store(paths.store).current_version(DATASET) is not None:
        out.append(f"dataset {DATASET} already published (painel etl run {JOB} refreshes it)")
        return out
    from ..runner import run_job

    published = publish_history(paths, dumps[:-1])
    if published:
        out.append(f"dataset {DATASET}: {published} earlier days published one by one")
    saved = os.environ.get(PASSWORD_ENV)
    try:
        with ftp(paths) as env:
            os.environ.update(env)
            result = run_job(paths, JOB, trigger="demo")
    finally:
        if saved is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = saved
    if result.status != "succeeded":
        raise RuntimeError(f"demo: {JOB} failed: {result.error}")
    out.append(f"dataset {DATASET} published by run {result.run_id} (fetched by FTP)")
    return out


def publish_history(paths: Paths, dumps: list[Path], trend_days: int = TREND_DAYS) -> int:
    """Publish the demo's earlier dumps as the daily job would have: the first run reads the
    oldest ones' daily attendance and publishes the one ``trend_days`` before the newest, then
    one run a day, so the panels' daily lines have points. Returns the runs made."""
    import shutil
    import tempfile

    from .contract import zip_date
    from .etl import job as school

    if not dumps:
        return 0
    first = max(0, len(dumps) - trend_days)
    runs = 0
    with tempfile.TemporaryDirectory(prefix="school-demo-") as tmp:
        start = Path(tmp)
        for path in dumps[: first + 1]:
            shutil.copyfile(path, start / path.name)  # the first run sees only these
        for i, path in enumerate(dumps[first:]):
            values: dict[str, Any] = {"source": "local", "stable_wait_s": 0.0}
            if i == 0:
                values["directory"] = str(start)
            else:
                values["directory"] = str(path.parent)
                day = zip_date(path.name)
                assert day is not None, path  # named by write_dumps as the contract says
                values["dump_date"] = day.isoformat()
            school.run_once(paths, values, log=lambda _line: None)
            runs += 1
    return runs


@contextlib.contextmanager
def services(paths: Paths) -> Iterator[dict[str, str]]:
    """The demo FTP server beside ``painel demo serve``; yields the server's environment."""
    with ftp(paths) as env:
        print(f"FTP server with the school dumps on {FTP_HOST}:{FTP_PORT}", flush=True)
        yield env


def notebook_fixture(paths: Paths, stack: ExitStack) -> dict[str, dict[str, Any]]:
    """A tiny published ``school`` dataset for the panels, and a newer dump left in
    ``sources/school`` for the ETL notebook to load."""
    from .contract import zip_name
    from .etl import job as school
    from .generate import generate

    since, day = demo_day(dt.date(2026, 5, 20))
    out = folder(paths)
    generate(out, scale=0.001, day=since, seed=SEED)
    school.run_once(
        paths,
        {"source": "local", "directory": str(out), "stable_wait_s": 0.0},
        log=lambda _line: None,
    )
    generate(out, scale=0.001, day=day, seed=SEED)
    assert (out / zip_name(day)).exists()
    return {"school": {"stable_wait_s": 0.0, "accept_volume_change": True}}
