"""Where things live.

Everything painel writes hangs off one data directory, ``PAINEL_HOME`` (default ``./data``):

    <home>/painel.sqlite          operational state (users, sessions, runs, schedule)
    <home>/store/<dataset>/       published DuckDB versions, manifests, CURRENT pointer
    <home>/runs/<job>/            executed ETL notebooks, one per run
    <home>/locks/                 cross-process locks (one run per job at a time)
    <home>/relatorios/<report>/<period>/   report bursts: a folder per scope (``PAINEL_REPORTS_DIR``)
    <home>/secrets/               the server's cookie secret (mode 0600)
    <home>/sources/               demo sources (make demo: the school dumps the demo FTP server serves)
    <home>/profile                a parameter profile this data directory uses (``demo``), if any

Everything painel reads as code or configuration hangs off the project directory, the
checkout holding ``notebooks/`` and ``parameters/`` (``PAINEL_PROJECT``, else found by
walking up from the working directory, else the checkout this package was installed from).

Parameters: ``parameters/<job>.yaml`` hold production values. A *profile* layers
``parameters/<profile>/<job>.yaml`` over them: ``painel demo prepare`` marks its data
directory with the ``demo`` profile (file ``<home>/profile``), so every command on that
directory (runs, the scheduler, the server's pages) uses the demo's values; ``PAINEL_PROFILE``
overrides the file, and an empty value turns profiles off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "PAINEL_HOME"
REPORTS_DIR_ENV = "PAINEL_REPORTS_DIR"
PROJECT_ENV = "PAINEL_PROJECT"
PROFILE_ENV = "PAINEL_PROFILE"
TIMEZONE = "America/Sao_Paulo"


class ConfigError(Exception):
    """A configuration problem, with a message naming the culprit."""


def _looks_like_project(path: Path) -> bool:
    return (path / "notebooks").is_dir() and (path / "parameters").is_dir()


def find_project_dir() -> Path:
    env = os.environ.get(PROJECT_ENV)
    if env:
        path = Path(env).resolve()
        if not _looks_like_project(path):
            raise ConfigError(f"{PROJECT_ENV}={env} has no notebooks/ and parameters/ folders")
        return path
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_project(candidate):
            return candidate
    checkout = Path(__file__).resolve().parents[2]  # lib/painel/config.py -> checkout
    if _looks_like_project(checkout):
        return checkout
    raise ConfigError(
        "cannot find the painel project (a folder with notebooks/ and parameters/); "
        f"run from the checkout or set {PROJECT_ENV}"
    )


@dataclass(frozen=True)
class Paths:
    home: Path
    project: Path

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Paths:
        project = find_project_dir()
        raw = home if home is not None else os.environ.get(HOME_ENV)
        base = Path(raw) if raw else project / "data"
        return cls(home=base.resolve(), project=project)

    # data directory
    @property
    def opstate(self) -> Path:
        return self.home / "painel.sqlite"

    @property
    def store(self) -> Path:
        return self.home / "store"

    @property
    def runs(self) -> Path:
        return self.home / "runs"

    @property
    def locks(self) -> Path:
        return self.home / "locks"

    @property
    def reports_out(self) -> Path:
        """Where report bursts deliver their folders (``PAINEL_REPORTS_DIR``, e.g. a shared
        drive's mount; default ``<home>/relatorios``)."""
        override = os.environ.get(REPORTS_DIR_ENV, "").strip()
        return Path(override).resolve() if override else self.home / "relatorios"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def work(self) -> Path:
        """Scratch space of ETL jobs that must survive a killed run (resume journals)."""
        return self.home / "work"

    @property
    def sources(self) -> Path:
        return self.home / "sources"

    @property
    def profile(self) -> str | None:
        """The parameter profile (``demo``) this data directory uses, if any."""
        raw = os.environ.get(PROFILE_ENV)
        if raw is None:
            try:
                raw = (self.home / "profile").read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
        name = raw.strip()
        if not name:
            return None
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(
                f"parameter profile {name!r} (from {PROFILE_ENV} or {self.home / 'profile'}) "
                "must be letters, digits, '-' or '_'"
            )
        return name

    def set_profile(self, name: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "profile").write_text(name + "\n", encoding="utf-8")

    def parameter_files(self, job: str) -> list[Path]:
        """``parameters/<job>.yaml``, then the profile's ``parameters/<profile>/<job>.yaml``, if present."""
        files = [self.parameters / f"{job}.yaml"]
        if self.profile:
            files.append(self.parameters / self.profile / f"{job}.yaml")
        return [f for f in files if f.is_file()]

    # project directory
    @property
    def etl_notebooks(self) -> Path:
        return self.project / "notebooks" / "etl"

    @property
    def report_notebooks(self) -> Path:
        return self.project / "notebooks" / "reports"

    @property
    def dashboards(self) -> Path:
        return self.project / "notebooks" / "dashboards"

    @property
    def parameters(self) -> Path:
        return self.project / "parameters"

    def ensure(self) -> Paths:
        for path in (self.home, self.store, self.runs, self.locks):
            path.mkdir(parents=True, exist_ok=True)
        self.secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self
