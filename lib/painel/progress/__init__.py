"""The learning-progress suite: weekly Cademi progress snapshots, class tags, tutor dashboards.

This module is the domain's declaration (:class:`painel.domain.Domain`), found by the core
through the ``painel.domains`` entry point. It imports nothing heavy: everything else is
named by ``"module:function"`` and imported when used. See docs/progress.md.
"""

from __future__ import annotations

from ..domain import PUBLIC, DemoUser, Domain, Scope

DATASET = "progress"
CLASS = {"class": "tag_id"}
TABLES: dict[str, Scope] = {
    "progress_weekly": CLASS,  # one row per week, class, student and product
    "class_weekly": CLASS,  # summary the dashboards read for the over-the-weeks views
    "students": CLASS,  # student id and name per class, with the weeks they were seen
    "classes": CLASS,
    "tracks": PUBLIC,
    "track_products": PUBLIC,
    "weeks": PUBLIC,
}

MIGRATIONS = [
    # 1: the class-tag registry (coordinators write it while runs read it)
    """
    CREATE TABLE IF NOT EXISTS progress_tags (
        tag_id        INTEGER PRIMARY KEY,   -- the class tag's id in Cademi
        track         TEXT NOT NULL,         -- a key of the progress job's `tracks`
        class_number  INTEGER NOT NULL,      -- "Turma 12" -> 12, unique within a track
        cademi_name   TEXT NOT NULL DEFAULT '',
        registered_by TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        active        INTEGER NOT NULL DEFAULT 1,
        removed_by    TEXT,
        removed_at    TEXT
    );
    CREATE UNIQUE INDEX IF NOT EXISTS progress_tags_class ON progress_tags(track, class_number);
    """,
    # 2: a registration corrected on the page (track or class number) says who and when
    """
    ALTER TABLE progress_tags ADD COLUMN changed_by TEXT;
    ALTER TABLE progress_tags ADD COLUMN changed_at TEXT;
    ALTER TABLE progress_tags ADD COLUMN changes TEXT NOT NULL DEFAULT '[]';  -- JSON history
    """,
]

DOMAIN = Domain(
    name="progress",
    title="Progresso de aprendizagem",
    datasets={DATASET: TABLES},
    roles={
        "coordinator": "Coordenação pedagógica",
        "tutor": "Tutor(a) de turmas",
    },
    migrations=MIGRATIONS,
    cli="painel.progress.cli:add_commands",
    demo="painel.progress.demo:prepare",
    demo_users=(
        DemoUser(
            "coordenacao",
            "demo-coordenacao",
            "coordinator",
            ("progress:*",),
            "Coordenação de ensino",
        ),
        DemoUser(
            "tutora.ana",
            "demo-tutora-ana",
            "tutor",
            ("progress:class:5001", "progress:class:5003"),
            "Tutora Ana",
        ),
        DemoUser(
            "tutor.bruno", "demo-tutor-bruno", "tutor", ("progress:class:5002",), "Tutor Bruno"
        ),
    ),
    demo_services="painel.progress.demo:services",
    notebook_fixture="painel.progress.demo:notebook_fixture",
    docs="docs/progress.md",
    services="painel.progress.services:SERVICES",
)
