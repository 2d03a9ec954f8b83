"""What coordinators do, from the dashboard or from scripts: register tags, start a run now.

A dashboard kernel holds no Cademi API key: it asks the server for the tag list and for a
run (:mod:`painel.service`); a script with the key in its environment calls Cademi itself.
"""

from __future__ import annotations

import os
from typing import Any

from .. import service
from ..config import Paths
from ..opstate import OpState
from ..runner import JobBusy, job_lock, recent_runs
from . import settings as settings_mod
from .services import SERVICE_TAGS, fetch_cademi_tags
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
        served = "VOILA_PREHEAT" in os.environ  # a dashboard kernel under painel serve
        if not served or os.environ.get(settings.api_key_env, "").strip():
            return fetch_cademi_tags(paths)  # a script: its own key (or a clear error)
        # a dashboard kernel holds no key: the server, which does, asks Cademi
        listed = service.call(OpState(paths.opstate), SERVICE_TAGS, "", actor, timeout=30)
        return list(listed or [])

    added = registry(paths).add(tag, track, class_number, actor, tracks, cademi_tags)
    _audit(paths, "tag_registered", actor, added)
    return added


def _audit(paths: Paths, action: str, actor: str, tag: ClassTag) -> None:
    from .. import audit

    detail = {k: v for k, v in vars(tag).items() if isinstance(v, str | int | float | bool)}
    audit.record(OpState(paths.opstate), action, actor=actor, target=str(tag.tag_id), detail=detail)


def _tracks(paths: Paths) -> dict[str, str]:
    try:
        settings = settings_mod.load(paths)
    except Exception as exc:  # noqa: BLE001 - a broken configuration refuses the change
        raise TagError("cademi_down", detail=f"configuração do job progress: {exc}") from None
    return {k: t.name for k, t in settings.tracks.items()}


def change(paths: Paths, tag: Any, track: str, class_number: Any, actor: str) -> ClassTag:
    """Correct a registered tag's track or class number; raises :class:`TagError`."""
    changed = registry(paths).change(tag, track, class_number, actor, _tracks(paths))
    _audit(paths, "tag_changed", actor, changed)
    return changed


def deactivate(paths: Paths, tag: Any, actor: str) -> ClassTag:
    """Stop collecting a tag (its history stays); who and when are recorded."""
    removed = registry(paths).remove(tag, actor)
    _audit(paths, "tag_deactivated", actor, removed)
    return removed


def run_busy(paths: Paths) -> bool:
    """A collection is running, or one was asked for and has not started yet."""
    if service.pending(OpState(paths.opstate), "run", JOB):
        return True
    try:
        with job_lock(paths, JOB):
            return False
    except JobBusy:
        return True


def start_run_now(paths: Paths, actor: str) -> str:
    """Ask the server for ``painel etl run progress`` now; returns a pt-BR status line."""
    if run_busy(paths):
        return "Uma coleta já está em andamento; a nova turma entra na próxima."
    service.submit(OpState(paths.opstate), "run", JOB, actor)
    return "Coleta pedida. Acompanhe o andamento abaixo."


def last_runs(paths: Paths, limit: int = 5) -> list[dict[str, Any]]:
    return recent_runs(OpState(paths.opstate), job=JOB, limit=limit)
