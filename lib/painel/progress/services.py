"""What ``painel serve`` answers for this domain's dashboard kernels (``Domain.services``).

Light on purpose: the server imports it (no pandas, no DuckDB).
"""

from __future__ import annotations

from typing import Any

from ..config import Paths

SERVICE_TAGS = "progress.cademi_tags"


def fetch_cademi_tags(paths: Paths) -> list[dict[str, Any]]:
    """``GET /tag`` with the key from the environment, on a short leash (a person waits)."""
    from . import settings as settings_mod
    from .cademi.client import CademiClient

    settings = settings_mod.load(paths)
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


def _serve_tags(paths: Paths, arg: str, actor: str) -> list[dict[str, Any]]:
    return [
        {"id": i.get("id"), "nome": i.get("nome")}
        for i in fetch_cademi_tags(paths)
        if isinstance(i, dict)
    ]


SERVICES = {SERVICE_TAGS: _serve_tags}
