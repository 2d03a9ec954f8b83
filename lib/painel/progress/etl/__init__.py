"""The ``progress`` ETL: one weekly snapshot of every registered class's progress in Cademi.

A run (``notebooks/etl/progress.ipynb``):

1. ``prepare`` validates the parameters, reads the active class tags from the operational
   store and checks the API once (``GET /tag``, ``GET /produto``): a wrong key, an API that
   is down, a registered tag or a configured product Cademi does not know stop the run here.
2. ``collect`` lists each class's students, then asks the progress of each student in each
   product of the class's track, under the rate limit, with retries. Every answer goes to
   the week's resume journal first, so a killed run resumes where it stopped.
3. ``load`` writes the week into a carry-over build of dataset ``progress``: the week's
   rows are replaced (never duplicated), older weeks are kept as they were.
4. ``publish`` refuses when a class could not be listed or when more than
   ``max_failed_share`` of the progress calls failed, naming the students and products.

Only what the dashboards need is stored: Cademi's student id and name, never the CPF,
e-mail or phone. The schema is documented in docs/progress.md.

Modules, one per stage: :mod:`.prepare`, :mod:`.collect` (with the resume :mod:`.journal`),
:mod:`.load` (and the publish check); :mod:`.job` ties them into one :class:`Job`.
"""

from .. import DATASET, TABLES
from .collect import (
    MAX_CONSECUTIVE_UNAVAILABLE,
    Collection,
    CollectionFailed,
    Failure,
    log_every_s,
)
from .job import Job
from .journal import Journal
from .load import _create_tables as _create_tables  # the tests and bench/ build the tables
from .load import check_publishable, load_week
from .prepare import check_week, prepare, validate

__all__ = [
    "DATASET",
    "MAX_CONSECUTIVE_UNAVAILABLE",
    "TABLES",
    "Collection",
    "CollectionFailed",
    "Failure",
    "Job",
    "Journal",
    "check_publishable",
    "check_week",
    "load_week",
    "log_every_s",
    "prepare",
    "validate",
]
