"""``painel generate procurement``: a synthetic PNCP world with planted irregularities.

:func:`generate` writes one DuckDB file holding every table of
:data:`painel.procurement.world.DDL`: organs and units of Goiás (and a few of the DF, which a
``uf=GO`` crawl must drop), suppliers, classes and catalogue, contratações with items and
results, contratos and termos, from ``first_year`` to ``today``. The background is legal by
design; each rule R1-R9 of docs/procurement.md is planted at the rates of :mod:`.params` with
look-alike decoys, and ``gabarito`` holds both. For R1-R5 and R9 the gabarito is complete: a
check of the rules' definitions on the written world (:mod:`.truth`) adds any natural
violation and fails when a decoy is one.

Scale 1 is ~100,000 contratações and ~1 M items a year; 0.01 is the demo. Same arguments,
same tables (named :mod:`numpy` streams of the seed).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

__all__ = ["MAX_SCALE", "GenerateError", "generate", "table_counts"]

MAX_SCALE = 4.0


class GenerateError(ValueError):
    """Bad arguments (a one-line message naming the parameter)."""


def _validate(scale: float, seed: int, first_year: int, last_year: int, today: date) -> None:
    from .params import LIMITES

    if not isinstance(scale, int | float) or not 0 < scale <= MAX_SCALE:
        raise GenerateError(
            f"scale must be > 0 and <= {MAX_SCALE:g} (1 = ~100,000 contratações a year), not {scale!r}"
        )
    if not isinstance(seed, int) or seed < 0:
        raise GenerateError(f"seed must be a non-negative integer, not {seed!r}")
    lo, hi = min(LIMITES), max(LIMITES)
    for name, y in (("first_year", first_year), ("last_year", last_year)):
        if not lo <= y <= hi:
            raise GenerateError(
                f"{name} must be between {lo} and {hi} (years with known dispensa limits), not {y}"
            )
    if first_year > last_year:
        raise GenerateError(f"first_year {first_year} is after last_year {last_year}")
    if not date(first_year, 3, 1) <= today:
        raise GenerateError(
            f"today {today.isoformat()} must be on or after {first_year}-03-01 (first_year {first_year})"
        )
    if today.year > last_year + 1:
        raise GenerateError(
            f"today {today.isoformat()} is more than a year after last_year {last_year}"
        )


def generate(
    path: Path,
    *,
    scale: float,
    seed: int = 1,
    first_year: int = 2023,
    last_year: int = 2026,
    today: date = date(2026, 11, 30),
) -> Path:
    """Write the world to ``path`` (replaced atomically) and return it."""
    import duckdb
    import pandas as pd

    from .. import world as contract
    from . import build, truth
    from .world import Ctx

    _validate(scale, seed, first_year, last_year, today)
    path = Path(path)
    if path.exists() and path.is_dir():
        raise GenerateError(f"path {path} is a directory")
    ctx = Ctx(float(scale), seed, first_year, last_year, today)
    tables, G, E = build.build(ctx)
    gab = build.gabarito_frame(G, tables, E)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute("SET enable_progress_bar = false")
            for stmt in contract.create_sql():
                con.execute(stmt)
            for name in contract.DDL:
                if name in tables:
                    df = tables[name]  # noqa: F841 - read by DuckDB's replacement scan
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM df")
            naturals = truth.reconcile(truth.check(con, ctx.cal), gab)
            gab_all = pd.concat([gab, naturals], ignore_index=True)  # noqa: F841
            con.execute("INSERT INTO gabarito BY NAME SELECT * FROM gab_all")
            meta = pd.DataFrame(  # noqa: F841
                {
                    "name": ["scale", "seed", "first_year", "last_year", "today"],
                    "value": [
                        f"{scale:g}",
                        str(seed),
                        str(first_year),
                        str(last_year),
                        today.isoformat(),
                    ],
                }
            )
            con.execute("INSERT INTO world_meta BY NAME SELECT * FROM meta")
            con.execute("DROP TABLE IF EXISTS _lim")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return path


def table_counts(path: Path) -> dict[str, int]:
    """Rows per table of a written world."""
    import duckdb

    from .. import world as contract

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in contract.DDL
        }
    finally:
        con.close()
