"""ETL runs as people read them, in pt-BR: status, who or what started it, progress, ETA."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import fmt

STATUS = {"running": "em andamento", "succeeded": "concluída", "failed": "falhou"}


def duration(seconds: float | None) -> str:
    """95 → "1 min 35 s"; 4000 → "1 h 07 min"."""
    if seconds is None:
        return fmt.EMPTY
    seconds = int(round(float(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {s:02d} s"
    return f"{s} s"


def trigger(run: dict[str, Any]) -> str:
    """Who or what started a run: "agendada", "manual (coordenacao)", "nova tentativa"."""
    raw = str(run.get("trigger_") or "")
    if raw == "schedule":
        return "agendada"
    if raw.startswith("retry"):
        return "nova tentativa automática"
    if raw.startswith("manual:"):
        return f"manual ({raw.split(':', 1)[1]})"
    if raw == "manual":
        return "manual"
    if raw == "demo":
        return "preparação da demonstração"
    return raw or fmt.EMPTY


def progress_text(run: dict[str, Any]) -> str:
    """ "340 de 1.124 consultas (30%), faltam cerca de 6 min" for a running run; "" otherwise."""
    raw = run.get("progress")
    if run.get("status") != "running" or not raw:
        return ""
    try:
        p = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        return ""
    done, total = int(p.get("done") or 0), int(p.get("total") or 0)
    units = {"calls": "consultas", "rows": "linhas", "files": "arquivos", "weeks": "semanas"}
    unit = units.get(str(p.get("unit") or ""), str(p.get("unit") or "etapas"))
    text = f"{fmt.number(done)} de {fmt.number(total)} {unit}"
    if total:
        text += f" ({fmt.number(100 * done / total)}%)"
    eta = p.get("eta_s")
    if eta is not None:
        minutes = float(eta) / 60
        text += (
            f", faltam cerca de {fmt.number(max(1, round(minutes)))} min"
            if minutes >= 1
            else ", falta menos de 1 min"
        )
    return text


def elapsed(run: dict[str, Any], now: dt.datetime | None = None) -> float | None:
    if run.get("duration_s") is not None:
        return float(run["duration_s"])
    try:
        started = dt.datetime.fromisoformat(str(run["started_at"]))
    except (KeyError, ValueError):
        return None
    return ((now or dt.datetime.now(dt.UTC)) - started).total_seconds()


def line(run: dict[str, Any]) -> str:
    """One line of a run timeline: "29/11/2026 14:05 · manual (coordenacao) · concluída em 2 min 10 s"."""
    status = run.get("status", "")
    text = f"{fmt.datetime(run.get('started_at'))} · {trigger(run)} · {STATUS.get(status, status)}"
    if status == "running":
        progress = progress_text(run)
        text += f" há {duration(elapsed(run))}" + (f": {progress}" if progress else "")
    elif run.get("duration_s") is not None:
        text += f" em {duration(run['duration_s'])}"
    return text
