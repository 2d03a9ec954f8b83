"""What coordinators do, from the dashboard or from scripts: register tags, start a run now."""

from __future__ import annotations

import subprocess
from typing import Any

from ..config import Paths
from ..opstate import OpState
from ..runner import JobBusy, job_lock, recent_runs, spawn
from . import settings as settings_mod
from .cademi import CademiClient
from .settings import JOB
from .tags import ClassTag, TagError, TagRegistry


def registry(paths: Paths) -> TagRegistry:
    return TagRegistry(OpState(paths.opstate))


def register(paths: Paths, tag: Any, track: str, class_number: Any, actor: str) -> ClassTag:
    """Validate (the four checks) and register a class tag; raises :class:`TagError`."""
    try:
        settings = settings_mod.load(paths)
    except Exception as exc:  # noqa: BLE001 - a broken configuration refuses the registration
        raise TagError("cademi_down", detail=f"configuração do job progress: {exc}") from None
    tracks = {k: t.name for k, t in settings.tracks.items()}

    def cademi_tags() -> list[dict[str, Any]]:
        # a short leash: a person is waiting on the page
        client = CademiClient(
            settings.base_url,
            settings.api_key(),
            per_second=settings.per_second,
            per_minute=settings.per_minute,
            rate_margin=settings.rate_margin,
            timeout_s=10,
            retries=2,
            backoff_s=0.5,
        )
        try:
            return client.tags()
        finally:
            client.close()

    return registry(paths).add(tag, track, class_number, actor, tracks, cademi_tags)


def _tracks(paths: Paths) -> dict[str, str]:
    try:
        settings = settings_mod.load(paths)
    except Exception as exc:  # noqa: BLE001 - a broken configuration refuses the change
        raise TagError("cademi_down", detail=f"configuração do job progress: {exc}") from None
    return {k: t.name for k, t in settings.tracks.items()}


def change(paths: Paths, tag: Any, track: str, class_number: Any, actor: str) -> ClassTag:
    """Correct a registered tag's track or class number; raises :class:`TagError`."""
    return registry(paths).change(tag, track, class_number, actor, _tracks(paths))


def deactivate(paths: Paths, tag: Any, actor: str) -> ClassTag:
    """Stop collecting a tag (its history stays); who and when are recorded."""
    return registry(paths).remove(tag, actor)


def run_busy(paths: Paths) -> bool:
    try:
        with job_lock(paths, JOB):
            return False
    except JobBusy:
        return True


def start_run_now(paths: Paths, actor: str) -> str:
    """Start ``painel etl run progress`` in the background; returns a pt-BR status line."""
    if run_busy(paths):
        return "Uma coleta já está em andamento; a nova turma entra na próxima."
    log = paths.runs / JOB
    log.mkdir(parents=True, exist_ok=True)
    with open(log / "started-from-dashboard.log", "a", encoding="utf-8") as fh:
        fh.write(f"run requested by {actor}\n")
        fh.flush()
        spawn(paths, JOB, f"manual:{actor}", stdout=fh, stderr=subprocess.STDOUT)
    return "Coleta iniciada. Acompanhe o andamento abaixo."


def last_runs(paths: Paths, limit: int = 5) -> list[dict[str, Any]]:
    return recent_runs(OpState(paths.opstate), job=JOB, limit=limit)
