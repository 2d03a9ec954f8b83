"""Demo of the learning-progress suite: registered classes, weeks of history, the simulated API.

``painel demo prepare`` registers six of the simulated school's eight class tags (two stay
free for a coordinator to register) and, the first time, fills ``WEEKS`` weeks of history by
running the real ``progress`` job once per week against an in-process simulator whose clock
is set to each week in turn (Cademi only reports progress "as of now", so history can only
be made this way or by waiting). ``painel demo serve`` starts the simulator the demo's
parameters (``parameters/demo/progress.yaml``) point at.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

from ..config import Paths
from ..opstate import OpState
from . import DATASET
from . import settings as settings_mod
from .simulator import CademiSimulator
from .tags import TagError, TagRegistry

SEED = 7
STUDENTS = 300
CLASSES = 6
KEY = "painel-demo-key"
PORT = 8867  # parameters/demo/progress.yaml points here
RATE_SCALE = 50  # the simulator's limits x50, as parameters/demo/progress.yaml expects
REGISTERED = 6  # of the 6 + 2 class tags the simulated school has
WEEKS = 12


def simulator(**overrides: object) -> CademiSimulator:
    """The demo's simulated school (the same world `make demo` serves on port 8867)."""
    options: dict[str, object] = {
        "seed": SEED,
        "students": STUDENTS,
        "classes": CLASSES,
        "key": KEY,
    }
    options.update(overrides)
    return CademiSimulator(**options)  # type: ignore[arg-type]


def register_tags(paths: Paths, sim: CademiSimulator, count: int, actor: str = "demo") -> list[str]:
    registry = TagRegistry(OpState(paths.opstate))
    tracks = {k: k for k in settings_mod.load(paths).tracks}
    items = [{"id": t.tag_id, "nome": t.name} for t in sim.world.class_tags()]
    out = []
    for tag in sim.world.class_tags()[:count]:
        try:
            registry.add(tag.tag_id, tag.track, tag.class_number, actor, tracks, lambda: items)
            out.append(f"demo class tag {tag.tag_id} registered")
        except TagError as exc:
            out.append(f"demo class tag {tag.tag_id}: {exc}")
    return out


def prepare(paths: Paths, data: bool = True) -> list[str]:
    out = register_tags(paths, simulator(), REGISTERED)
    if not data:
        return out
    from ..store import Store

    if Store(paths.store).current_version(DATASET) is not None:
        out.append(
            f"dataset {DATASET} already published (painel demo progress-history rebuilds weeks)"
        )
        return out
    out.extend(progress_history(paths, weeks=WEEKS, log=lambda line: print(line, flush=True)))
    return out


@contextlib.contextmanager
def services(paths: Paths) -> Iterator[dict[str, str]]:
    """The simulated Cademi API on 127.0.0.1:8867 for the demo server; yields the server's env."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "painel.cli",
            "simulate",
            "cademi",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--rate-scale",
            str(RATE_SCALE),
            "--key",
            KEY,
            "--seed",
            str(SEED),
            "--students",
            str(STUDENTS),
            "--classes",
            str(CLASSES),
        ],
        stdin=subprocess.DEVNULL,
    )
    print(
        f"Cademi simulator on 127.0.0.1:{PORT} (limits scaled {RATE_SCALE}x, as parameters/demo/progress.yaml "
        "expects)",
        flush=True,
    )
    try:
        yield {"CADEMI_API_KEY": KEY}
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def weeks_back(
    count: int, now: dt.datetime | None = None
) -> Iterator[tuple[str, dt.datetime | None]]:
    """The last ``count`` ISO weeks, oldest first, with the clock to collect each at (Monday 06:00)."""
    now = (now or dt.datetime.now(settings_mod.TZ)).astimezone(settings_mod.TZ)
    for back in range(count - 1, -1, -1):
        day = (now - dt.timedelta(weeks=back)).date()
        week, monday = settings_mod.parse_week(settings_mod.week_of(day))
        at = dt.datetime.combine(monday, dt.time(6), settings_mod.TZ)
        yield week, (None if back == 0 else at)


def progress_history(
    paths: Paths, weeks: int = WEEKS, log: Callable[[str], None] = print
) -> list[str]:
    """Run the ``progress`` job once per week, oldest first, against an in-process simulator."""
    from ..runner import run_job

    published = []
    with simulator(per_second=2000, per_minute=120000) as sim:
        saved = os.environ.get("CADEMI_DEMO_HISTORY_KEY")
        os.environ["CADEMI_DEMO_HISTORY_KEY"] = KEY
        try:
            for week, at in weeks_back(weeks):
                sim.as_of = at
                result = run_job(
                    paths,
                    settings_mod.JOB,
                    pairs=[
                        f"week={week}",
                        "allow_past_week=true",
                        f"base_url={sim.base_url}",
                        "api_key_env=CADEMI_DEMO_HISTORY_KEY",
                        "per_second=2000",
                        "per_minute=120000",
                    ],
                    trigger="demo",
                )
                if result.status != "succeeded":
                    raise RuntimeError(f"demo history: week {week} failed: {result.error}")
                log(f"progress history: week {week} published ({result.duration_s:.1f}s)")
                published.extend(result.published)
        finally:
            if saved is None:
                os.environ.pop("CADEMI_DEMO_HISTORY_KEY", None)
            else:
                os.environ["CADEMI_DEMO_HISTORY_KEY"] = saved
    return [f"progress history: {len(published)} weeks published"] if published else []


def notebook_fixture(paths: Paths, stack: ExitStack) -> dict[str, dict[str, Any]]:
    """A tiny simulated school on a free port, one class registered and one week published;
    the progress ETL notebook gets the simulator's address injected as its ``base_url``."""
    from ..store import Store
    from . import TABLES
    from . import etl as progress
    from .simulator import TRACKS

    sim = CademiSimulator(seed=11, students=16, classes=2, key="nbval-key")
    sim.start()
    stack.callback(sim.stop)
    os.environ["CADEMI_API_KEY"] = "nbval-key"
    tag = sim.world.class_tags()[0]
    TagRegistry(OpState(paths.opstate)).add(
        tag.tag_id,
        tag.track,
        tag.class_number,
        "nbval",
        {tag.track: tag.track},
        lambda: [{"id": tag.tag_id, "nome": tag.name}],
    )
    job = progress.prepare(
        paths,
        base_url=sim.base_url,
        api_key_env="CADEMI_API_KEY",
        per_second=1000,
        per_minute=60000,
        tracks={k: {"name": k.title(), "products": v} for k, v in TRACKS.items()},
    )
    job.log = lambda line: None
    job.collect()
    build = Store(paths.store).build(DATASET, TABLES, carry_over=True)
    job.load(build)
    job.publish(build)
    return {"progress": {"base_url": sim.base_url, "per_second": 1000.0, "per_minute": 60000}}
