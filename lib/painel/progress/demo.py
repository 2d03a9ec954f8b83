"""Demo of the learning-progress suite: users, registered classes and weeks of history.

``painel demo prepare`` creates the users and registers six of the simulated school's eight
class tags (two stay free for a coordinator to register). ``painel demo progress-history``
fills ``--weeks`` weeks of history by running the real ``progress`` job once per week
against an in-process simulator whose clock is set to each week in turn (Cademi only
reports progress "as of now", so history can only be made this way or by waiting).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

from ..config import Paths
from ..opstate import OpState
from . import settings as settings_mod
from .simulator import CademiSimulator
from .tags import TagError, TagRegistry

SEED = 7
STUDENTS = 300
CLASSES = 6
KEY = "painel-demo-key"
PORT = 8867
REGISTERED = 6  # of the 6 + 2 class tags the simulated school has

USERS = [
    # username, password, role, grants, display name
    ("coordenacao", "demo-coordenacao", "coordinator", ["progress:*"], "Coordenação de ensino"),
    (
        "tutora.ana",
        "demo-tutora-ana",
        "tutor",
        ["progress:class:5001", "progress:class:5003"],
        "Tutora Ana",
    ),
    ("tutor.bruno", "demo-tutor-bruno", "tutor", ["progress:class:5002"], "Tutor Bruno"),
]


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


def prepare(paths: Paths) -> list[str]:
    from ..demo.seed import add_users

    out = add_users(paths, USERS)
    registry = TagRegistry(OpState(paths.opstate))
    sim = simulator()
    tracks = {k: k for k in settings_mod.load(paths).tracks}
    items = [{"id": t.tag_id, "nome": t.name} for t in sim.world.class_tags()]
    for tag in sim.world.class_tags()[:REGISTERED]:
        try:
            registry.add(tag.tag_id, tag.track, tag.class_number, "demo", tracks, lambda: items)
            out.append(f"demo class tag {tag.tag_id} registered")
        except TagError as exc:
            out.append(f"demo class tag {tag.tag_id}: {exc}")
    return out


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


def progress_history(paths: Paths, weeks: int = 12, log=print) -> list[str]:  # noqa: ANN001
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
    return published
