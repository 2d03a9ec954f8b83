"""One week's run of the ``progress`` ETL, from :func:`~.prepare.prepare` to the publish.

The :class:`Job` holds what ``prepare`` checked (settings, week, tags, client, products) and
what ``collect`` gathered; its steps are the functions of :mod:`.collect` and :mod:`.load`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ...config import Paths
from ...runctx import RunContext
from ...store import Build
from ..cademi import CademiClient
from ..settings import Settings
from ..tags import ClassTag
from .collect import Collection, collect_week
from .journal import Journal
from .load import check_publishable, load_week


@dataclass
class Job:
    paths: Paths
    settings: Settings
    week: str
    week_start: dt.date
    tags: list[ClassTag]
    all_tags: list[ClassTag]
    client: CademiClient
    products: dict[int, str]  # product id -> name in Cademi
    collection: Collection | None = None
    run: RunContext = field(default_factory=RunContext.from_env)
    log: Callable[[str], None] = print

    # ---- 2. collect ------------------------------------------------------------------------
    def journal(self) -> Journal:
        return Journal(self.paths.work / "progress", self.week)

    def collect(self) -> Collection:
        self.collection = collect_week(self)
        return self.collection

    # ---- 3. load ---------------------------------------------------------------------------
    def check_publishable(self) -> None:
        check_publishable(self)

    def load(self, build: Build) -> None:
        """Replace this week in ``build`` (a carry-over build of dataset ``progress``)."""
        load_week(self, build)

    # ---- 4. publish ------------------------------------------------------------------------
    def publish(self, build: Build) -> str:
        version = build.publish()
        journal = self.journal()
        journal.discard()
        return version
