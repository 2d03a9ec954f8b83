"""``painel generate school``: synthetic daily SIMADE/DED dumps with planted inconsistencies.

:func:`generate` builds the year's world once (``world``, vectorised numpy), plants every rule
of docs/school.md at :data:`DEFAULT_RATES` with look-alike decoys (``plant``), and writes one
``simade_AAAAMMDD.zip`` per date with its ``simade_AAAAMMDD.truth.json`` beside it (``write``,
``truth``): the findings each rule must return on that dump, for a job that loaded every dump
the same call wrote, and the decoys it must not return.

Scale 1 is the state (47 SREs, ~3,500 schools, 1.5 M students); 0.01 is the demo.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .calendario import build_calendar, ddate, dnum
from .params import DEFAULT_RATES, PARAMS, RULES

__all__ = ["DEFAULT_RATES", "PARAMS", "GenerateError", "dump_dates", "generate"]

MAX_SCALE = 2.0


class GenerateError(ValueError):
    """Bad arguments (a one-line message)."""


def dump_dates(day: date, since: date | None = None) -> list[date]:
    """The dates :func:`generate` writes: every school day from ``since`` to ``day`` and
    ``day`` itself (just ``day`` without ``since``). Raises GenerateError when a date falls
    outside the school year: after its first school day and up to 31 December."""
    cal = build_calendar(day.year)
    lo, hi = cal.first_dump_day(), cal.last_dump_day()
    for name, d in (("--date", day), ("--since", since)):
        if d is not None and not lo <= dnum(d) <= hi:
            raise GenerateError(
                f"{name} {d.isoformat()} is outside school year {day.year}: dumps run from "
                f"{ddate(lo).isoformat()} (the day after the first school day) to {ddate(hi).isoformat()}"
            )
    if since is None:
        return [day]
    if since > day:
        raise GenerateError(f"--since {since.isoformat()} is after --date {day.isoformat()}")
    out = [ddate(int(d)) for d in cal.days if dnum(since) <= d < dnum(day)]
    return [*out, day]


def generate(
    out: Path,
    *,
    scale: float,
    day: date,
    seed: int = 1,
    since: date | None = None,
    rates: dict[str, float] | None = None,
) -> list[Path]:
    """Write the dumps of ``day`` (or of every school day from ``since`` to ``day``) into
    ``out`` and return the zip paths, oldest first."""
    from .world import build_world
    from .write import write_dump

    if not 0 < scale <= MAX_SCALE:
        raise GenerateError(
            f"--scale must be > 0 and <= {MAX_SCALE:g} (1 = the state), not {scale:g}"
        )
    merged = dict(DEFAULT_RATES)
    for rule, rate in (rates or {}).items():
        if rule not in DEFAULT_RATES:
            raise GenerateError(f"unknown rule {rule!r} in rates (known: {', '.join(RULES)})")
        if not 0 <= rate < 0.5:
            raise GenerateError(f"rate of {rule} must be in [0, 0.5), not {rate}")
        merged[rule] = float(rate)
    dates = dump_dates(day, since)
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(scale, seed, day.year, merged)
    first = world.cal.previous(dnum(dates[0]))
    assert first is not None
    return [write_dump(world, dnum(d), out, first) for d in dates]
