"""The progress job's settings: one source of truth for the ETL, the CLI and the dashboards.

They are the ``progress`` ETL notebook's parameters (its ``parameters`` cell, then
``parameters/progress.yaml``), so a track added there is offered by ``painel tags add`` and
the registration page too. The API key itself is never a parameter: only the *name* of the
environment variable holding it is.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..config import Paths
from .cademi.ratelimit import check_margin

JOB = "progress"
TZ = ZoneInfo("America/Sao_Paulo")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
LIMIT_PER_SECOND = 2.0  # Cademi's documented limits (../shared domain notes)
LIMIT_PER_MINUTE = 120


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (a simulator), where any rate is allowed."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(ValueError):
    """A progress setting is missing or malformed; the message names the parameter."""


@dataclass(frozen=True)
class Track:
    key: str
    name: str
    products: tuple[int, ...]
    expected_pct_per_week: float


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_key_env: str
    tracks: dict[str, Track]
    per_second: float = 2.0
    per_minute: int = 120
    rate_margin: float = 0.02
    timeout_s: float = 30.0
    retries: int = 5
    max_failed_share: float = 0.02

    def api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise SettingsError(
                f"the Cademi API key is not set: export it in the environment variable {self.api_key_env}"
            )
        return key

    def track(self, key: str) -> Track:
        try:
            return self.tracks[key]
        except KeyError:
            raise SettingsError(
                f"unknown track {key!r} (tracks: {', '.join(self.tracks)})"
            ) from None


def parse_tracks(value: Any, origin: str = "tracks") -> dict[str, Track]:
    """``{"analista": {"name": ..., "products": [ids], "expected_pct_per_week": 8}}`` -> Tracks."""
    if not isinstance(value, dict) or not value:
        raise SettingsError(
            f"parameter {origin!r} must be a non-empty mapping of track keys to settings"
        )
    out: dict[str, Track] = {}
    for key, spec in value.items():
        where = f"parameter {origin!r}, track {key!r}"
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", key):
            raise SettingsError(f"{where}: the key must be lowercase letters, digits or _")
        if not isinstance(spec, dict):
            raise SettingsError(
                f"{where}: expected a mapping with name, products, expected_pct_per_week"
            )
        unknown = set(spec) - {"name", "products", "expected_pct_per_week"}
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{where}: 'name' must be a non-empty text")
        products = spec.get("products")
        if (
            not isinstance(products, list)
            or not products
            or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in products)
            or len(set(products)) != len(products)
        ):
            raise SettingsError(
                f"{where}: 'products' must be a non-empty list of distinct Cademi product ids"
            )
        pace = spec.get("expected_pct_per_week", 10.0)
        if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not 0 < pace <= 100:
            raise SettingsError(f"{where}: 'expected_pct_per_week' must be a number in (0, 100]")
        out[key] = Track(key, name.strip(), tuple(products), float(pace))
    return out


def from_parameters(params: dict[str, Any]) -> Settings:
    base_url = str(params.get("base_url") or "").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise SettingsError(f"parameter 'base_url' must be an http(s) URL, got {base_url!r}")
    env = str(params.get("api_key_env") or "")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise SettingsError(
            f"parameter 'api_key_env' must name an environment variable, got {env!r}"
        )
    if "SUBDOMAIN" in base_url:
        raise SettingsError(
            f"parameter 'base_url' is still the placeholder {base_url!r}: set it to your Cademi "
            "account's API (parameters/progress.yaml)"
        )
    per_second = float(params.get("per_second", 2.0))
    per_minute = int(params.get("per_minute", 120))
    if per_second <= 0 or per_minute <= 0:
        raise SettingsError("parameters 'per_second' and 'per_minute' must be positive")
    if not is_loopback(base_url) and (
        per_second > LIMIT_PER_SECOND or per_minute > LIMIT_PER_MINUTE
    ):
        raise SettingsError(
            f"parameters 'per_second' = {per_second:g} and 'per_minute' = {per_minute} exceed Cademi's "
            f"documented limits ({LIMIT_PER_SECOND:g} calls/s, {LIMIT_PER_MINUTE}/min) for {base_url}; "
            "only a simulator on loopback may be called faster"
        )
    try:
        margin = check_margin(params.get("rate_margin", 0.02), "parameter 'rate_margin'")
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    share = float(params.get("max_failed_share", 0.02))
    if not 0 <= share < 1:
        raise SettingsError(f"parameter 'max_failed_share' must be in [0, 1), got {share}")
    retries = int(params.get("retries", 5))
    if retries < 1:
        raise SettingsError("parameter 'retries' must be at least 1")
    return Settings(
        base_url=base_url,
        api_key_env=env,
        tracks=parse_tracks(params.get("tracks")),
        per_second=per_second,
        per_minute=per_minute,
        rate_margin=margin,
        timeout_s=float(params.get("timeout_s", 30.0)),
        retries=retries,
        max_failed_share=share,
    )


def load(paths: Paths | None = None) -> Settings:
    """The settings the next ``progress`` run will use (notebook defaults < parameters/progress.yaml)."""
    from ..runner import resolve_parameters

    return from_parameters(resolve_parameters(paths or Paths.from_env(), JOB))


# ---- ISO weeks ----------------------------------------------------------------------------
def current_week(now: dt.datetime | None = None) -> str:
    moment = (now or dt.datetime.now(TZ)).astimezone(TZ)
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str, origin: str = "week") -> tuple[str, dt.date]:
    """``'2026-W07'`` -> (the same text, its Monday); a clear error for anything else."""
    m = _WEEK.match(str(text).strip())
    if not m:
        raise SettingsError(f"parameter {origin!r} must be an ISO week like 2026-W07, got {text!r}")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise SettingsError(f"parameter {origin!r}: {year} has no week {week}") from None
    return f"{year}-W{week:02d}", monday


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
