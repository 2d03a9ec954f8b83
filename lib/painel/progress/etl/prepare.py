"""Step 1 of the ``progress`` ETL: validate the parameters and check the API once.

A wrong key, an API that is down, a registered tag or a configured product Cademi does not
know stop the run here, before the long part.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...config import Paths
from ...opstate import OpState
from .. import settings as settings_mod
from ..cademi import AuthFailed, CademiClient, CademiError, Unavailable, as_int
from ..settings import SettingsError
from ..tags import TagRegistry, class_label
from .collect import CollectionFailed
from .job import Job


def validate(params: dict[str, Any], now: dt.datetime | None = None) -> None:
    """The job's value checks, run by ``painel etl run`` before any kernel starts (exit code 2)
    and again by ``prepare`` in the notebook: settings, tracks and the week."""
    settings_mod.from_parameters(params)
    check_week(str(params.get("week") or ""), bool(params.get("allow_past_week")), now)


def check_week(
    week: str, allow_past_week: bool, now: dt.datetime | None = None
) -> tuple[str, dt.date]:
    this_week = settings_mod.current_week(now)
    week_label, week_start = settings_mod.parse_week(week or this_week)
    if week_label > this_week:
        raise SettingsError(
            f"parameter 'week': {week_label} is in the future (this week is {this_week})"
        )
    if week_label < this_week and not allow_past_week:
        raise SettingsError(
            f"parameter 'week': {week_label} is in the past (this week is {this_week}); Cademi reports "
            "progress as of now, so collecting it now would label today's progress with an old week. "
            "Set allow_past_week=true only for a simulator or a deliberate backfill"
        )
    return week_label, week_start


def prepare(
    paths: Paths,
    *,
    base_url: str,
    api_key_env: str,
    tracks: dict[str, Any],
    week: str | None = None,
    allow_past_week: bool = False,
    max_failed_share: float = 0.02,
    per_second: float = 2.0,
    per_minute: int = 120,
    rate_margin: float = 0.02,
    timeout_s: float = 30.0,
    retries: int = 5,
    backoff_s: float = 1.0,
    now: dt.datetime | None = None,
) -> Job:
    """Validate everything that can be validated before the long part, and check the API once."""
    settings = settings_mod.from_parameters(
        {
            "base_url": base_url,
            "api_key_env": api_key_env,
            "tracks": tracks,
            "per_second": per_second,
            "per_minute": per_minute,
            "rate_margin": rate_margin,
            "timeout_s": timeout_s,
            "retries": retries,
            "max_failed_share": max_failed_share,
        }
    )
    week_label, week_start = check_week(week or "", allow_past_week, now)
    registry = TagRegistry(OpState(paths.opstate))
    all_tags = registry.list(include_removed=True)
    tags = [t for t in all_tags if t.active]
    if not tags:
        raise CollectionFailed(
            "no class tags are registered: add one with `painel tags add` or the "
            "'Cadastro de turmas' dashboard"
        )
    for t in tags:
        if t.track not in settings.tracks:
            raise SettingsError(
                f"tag {t.tag_id} is registered in track {t.track!r}, which parameter 'tracks' no longer has "
                f"(tracks: {', '.join(settings.tracks)})"
            )
    client = CademiClient(
        settings.base_url,
        settings.api_key(),
        per_second=settings.per_second,
        per_minute=settings.per_minute,
        rate_margin=settings.rate_margin,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
        backoff_s=backoff_s,
    )
    try:
        listed = {as_int(i.get("id")) for i in client.tags() if isinstance(i, dict)}
        products = {
            as_int(p.get("id")): str(p.get("nome") or "")
            for p in client.products()
            if isinstance(p, dict)
        }
    except Unavailable as exc:
        raise CollectionFailed(
            f"the Cademi API at {settings.base_url} is unavailable: {exc}"
        ) from None
    except AuthFailed as exc:
        raise CollectionFailed(f"{exc} (key from ${settings.api_key_env})") from None
    except CademiError as exc:
        raise CollectionFailed(
            f"the Cademi API at {settings.base_url} gave an unusable reply: {exc}"
        ) from None
    unknown = [t for t in tags if t.tag_id not in listed]
    if unknown:
        raise CollectionFailed(
            "registered class tags that Cademi does not have (GET /tag): "
            + ", ".join(f"{t.tag_id} ({class_label(t.class_number)}, {t.track})" for t in unknown)
            + "; fix or remove them with `painel tags remove TAG`"
        )
    missing = sorted(
        {(k, p) for k, t in settings.tracks.items() for p in t.products if p not in products}
    )
    if missing:
        raise CollectionFailed(
            "products in parameter 'tracks' that Cademi does not have (GET /produto): "
            + ", ".join(f"{p} (track {k})" for k, p in missing)
        )
    return Job(
        paths,
        settings,
        week_label,
        week_start,
        tags,
        all_tags,
        client,
        {k: v for k, v in products.items() if k is not None},
    )
