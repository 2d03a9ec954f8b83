"""The ``procurement`` job's settings: its notebook parameters, validated, with the
assumptions of docs/procurement.md as defaults (each one a parameter)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .model import ModelParams
from .rules import RuleParams


class SettingsError(ValueError):
    """A ``procurement`` parameter is malformed; the message names it."""


MODALIDADES = (4, 5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Settings:
    base_url: str
    uf: str = "GO"
    modalidades: tuple[int, ...] = MODALIDADES
    por: str = "atualizacao"  # daily: updated that day; a backfill: "publicacao"
    desde: dt.date | None = None  # first day to crawl when the journal is empty / a backfill
    ate: dt.date | None = None  # last day to crawl (None: yesterday)
    pace_s: float = 2.0
    retries: int = 8
    budget_s: float = 600.0
    timeout_s: float = 90.0
    catalogo: str = ""  # folder with catalogo.csv and classes.csv (CATMAT/CATSER → class)
    model: ModelParams = field(default_factory=ModelParams)
    modelo_precisao: float = 0.95  # the classifier answers only above this precision
    modelo_dias: int = 7  # retrain the item classifier when older than this
    modelo_max_por_classe: int = 300  # training items per class (the newest)
    memory_limit: str = "3GB"


def _date(name: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SettingsError(f"parameter {name} must be a date AAAA-MM-DD (got {value!r})") from None


def _number(name: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool):
        raise SettingsError(f"parameter {name} must be a number (got {value!r})")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"parameter {name} must be a number (got {value!r})") from None
    if v < minimum:
        raise SettingsError(f"parameter {name} must be at least {minimum:g} (got {v:g})")
    return v


def _whole(name: str, value: Any, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise SettingsError(f"parameter {name} must be a whole number ≥ {minimum} (got {value!r})")
    return value


def from_parameters(p: dict[str, Any]) -> Settings:
    """Settings from the notebook's parameter values (names as in the ``parameters`` cell)."""
    base_url = str(p.get("base_url") or "").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(f"parameter base_url must be an http(s) URL (got {base_url!r})")
    por = str(p.get("por", "atualizacao"))
    if por not in ("atualizacao", "publicacao"):
        raise SettingsError(f"parameter por must be atualizacao or publicacao (got {por!r})")
    mods = p.get("modalidades", list(MODALIDADES))
    if (
        not isinstance(mods, list)
        or not mods
        or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 13 for m in mods)
    ):
        raise SettingsError(f"parameter modalidades must be a list of codes 1-13 (got {mods!r})")
    desde, ate = _date("desde", p.get("desde")), _date("ate", p.get("ate"))
    if desde and ate and desde > ate:
        raise SettingsError(f"parameter desde ({desde}) is after ate ({ate})")
    rule_values: dict[str, Any] = {}
    for f in dataclasses.fields(RuleParams):
        if f.name in p:
            kind = int if isinstance(f.default, int) else float
            rule_values[f.name] = (
                _whole(f.name, p[f.name]) if kind is int else _number(f.name, p[f.name])
            )
    dobrado = p.get("limite_dobrado", [])
    if not isinstance(dobrado, list) or not all(
        isinstance(c, str) and c.isdigit() and len(c) == 14 for c in dobrado
    ):
        raise SettingsError(
            f"parameter limite_dobrado must be a list of 14-digit CNPJs (got {dobrado!r})"
        )
    extras = p.get("feriados_extras", [])
    if not isinstance(extras, list):
        raise SettingsError(f"parameter feriados_extras must be a list of dates (got {extras!r})")
    feriados = tuple(d for d in (_date("feriados_extras", x) for x in extras) if d)
    precision = _number("modelo_precisao", p.get("modelo_precisao", 0.95))
    if not 0.5 <= precision < 1:
        raise SettingsError(f"parameter modelo_precisao must be in [0.5, 1) (got {precision:g})")
    return Settings(
        base_url=base_url,
        uf=str(p.get("uf", "GO")),
        modalidades=tuple(mods),
        por=por,
        desde=desde,
        ate=ate,
        pace_s=_number("pace_s", p.get("pace_s", 2.0)),
        retries=_whole("retries", p.get("retries", 8)),
        budget_s=_number("budget_s", p.get("budget_s", 600.0), minimum=1),
        timeout_s=_number("timeout_s", p.get("timeout_s", 90.0), minimum=1),
        catalogo=str(p.get("catalogo") or ""),
        model=ModelParams(
            rules=RuleParams(**rule_values),
            limite_dobrado=tuple(dobrado),
            feriados_extras=feriados,
        ),
        modelo_precisao=precision,
        modelo_dias=_whole("modelo_dias", p.get("modelo_dias", 7)),
        modelo_max_por_classe=_whole(
            "modelo_max_por_classe", p.get("modelo_max_por_classe", 300), minimum=10
        ),
        memory_limit=str(p.get("memory_limit", "3GB")),
    )
