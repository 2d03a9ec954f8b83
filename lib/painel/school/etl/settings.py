"""The ``school`` job's settings: its notebook parameters, validated, with the assumptions of
docs/school.md as defaults (each one a parameter)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..landing import SourceSettings

CAPACIDADE_PADRAO = {"AI": 30, "AF": 35, "EJA": 35, "default": 40}


class SettingsError(ValueError):
    """A ``school`` parameter is malformed; the message names it."""


@dataclass(frozen=True)
class Rules:
    """The assumptions of the indicators and rules (docs/school.md), one parameter each."""

    prazo_lancamento_dias: int = 10
    dias_busca_ativa: int = 15
    max_aulas_dia_componente: int = 2
    pontos_ano: float = 100.0
    idade_max_acima: int = 5
    capacidade_padrao: dict[str, int] = field(default_factory=lambda: dict(CAPACIDADE_PADRAO))
    media_pct: float = 60.0  # aproveitamento below this in a component: "abaixo da média"
    freq_minima_pct: float = 75.0  # LDB art. 24 VI
    risco_faltas_pct: float = 7.5  # LDB art. 12 VIII read as 30 % of the 25 % allowed
    idade_base: str = "ano"  # "ano": Y - birth year; "31/05": completed years on 31 May of Y
    integral_min: int = 420  # a turma this long (minutes) or longer is "integral"

    def capacidade(self, grupo: str) -> int:
        return int(self.capacidade_padrao.get(grupo, self.capacidade_padrao.get("default", 40)))


@dataclass(frozen=True)
class Settings:
    source: SourceSettings
    day: dt.date | None = None  # a given dump date; None: every dump not yet loaded
    allow_older: bool = False
    reload: bool = False
    max_quarantine_share: float = 0.005
    volume_threshold: float = 0.10
    volume_min_rows: int = 1000
    accept_volume_change: bool = False
    rules: Rules = field(default_factory=Rules)
    memory_limit: str = "3GB"
    keep_landed: int = 7


def _share(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"parameter {name} must be a number (got {value!r})") from None
    if not 0 <= v <= 1:
        raise SettingsError(f"parameter {name} must be between 0 and 1 (got {v})")
    return v


def _positive(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SettingsError(f"parameter {name} must be a positive whole number (got {value!r})")
    return value


def from_parameters(p: dict[str, Any]) -> Settings:
    """Settings from the notebook's parameter values (names as in the ``parameters`` cell)."""
    kind = str(p.get("source", "local"))
    if kind not in ("ftp", "ftps", "local"):
        raise SettingsError(f"parameter source must be ftp, ftps or local (got {kind!r})")
    if kind != "local" and not p.get("ftp_host"):
        raise SettingsError("parameter ftp_host is empty (needed when source is ftp or ftps)")
    if kind == "local" and not p.get("directory"):
        raise SettingsError("parameter directory is empty (the folder holding the dumps)")
    source = SourceSettings(
        kind=kind,
        host=str(p.get("ftp_host", "")),
        port=int(p.get("ftp_port", 21)),
        user=str(p.get("ftp_user", "")),
        directory=str(p.get("directory", "/")),
        password_env=str(p.get("ftp_password_env", "SCHOOL_FTP_PASSWORD")),
        timeout_s=float(p.get("timeout_s", 60.0)),
        stable_wait_s=float(p.get("stable_wait_s", 2.0)),
    )
    day_text = str(p.get("dump_date", "") or "")
    day = None
    if day_text:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise SettingsError(
                f"parameter dump_date must be a date as AAAA-MM-DD (got {day_text!r})"
            ) from None
    idade_base = str(p.get("idade_base", "ano"))
    if idade_base not in ("ano", "31/05"):
        raise SettingsError(f"parameter idade_base must be 'ano' or '31/05' (got {idade_base!r})")
    cap = p.get("capacidade_padrao", CAPACIDADE_PADRAO)
    if not isinstance(cap, dict) or not all(isinstance(v, int) and v > 0 for v in cap.values()):
        raise SettingsError(
            "parameter capacidade_padrao must map etapa groups to positive whole numbers"
        )
    rules = Rules(
        prazo_lancamento_dias=int(p.get("prazo_lancamento_dias", 10)),
        dias_busca_ativa=_positive("dias_busca_ativa", p.get("dias_busca_ativa", 15)),
        max_aulas_dia_componente=_positive(
            "max_aulas_dia_componente", p.get("max_aulas_dia_componente", 2)
        ),
        pontos_ano=float(p.get("pontos_ano", 100.0)),
        idade_max_acima=_positive("idade_max_acima", p.get("idade_max_acima", 5)),
        capacidade_padrao={str(k): int(v) for k, v in cap.items()},
        media_pct=float(p.get("media_pct", 60.0)),
        freq_minima_pct=float(p.get("freq_minima_pct", 75.0)),
        risco_faltas_pct=float(p.get("risco_faltas_pct", 7.5)),
        idade_base=idade_base,
        integral_min=_positive("integral_min", p.get("integral_min", 420)),
    )
    return Settings(
        source=source,
        day=day,
        allow_older=bool(p.get("allow_older", False)),
        reload=bool(p.get("reload", False)),
        max_quarantine_share=_share("max_quarantine_share", p.get("max_quarantine_share", 0.005)),
        volume_threshold=_share("volume_threshold", p.get("volume_threshold", 0.10)),
        volume_min_rows=int(p.get("volume_min_rows", 1000)),
        accept_volume_change=bool(p.get("accept_volume_change", False)),
        rules=rules,
        memory_limit=str(p.get("memory_limit", "3GB")),
        keep_landed=_positive("keep_landed", p.get("keep_landed", 7)),
    )
