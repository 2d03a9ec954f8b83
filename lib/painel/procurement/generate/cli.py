"""``painel generate procurement``: write a synthetic PNCP world (docs/procurement.md)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ...exits import CliError


def _parse(value: str, option: str, kind: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise CliError(f"{option} must be {what}, not {value!r}") from None


def cmd_generate_procurement(args: argparse.Namespace) -> int:
    """Write the world and print its path and the rows of each table."""
    from . import GenerateError, generate, table_counts

    scale = _parse(args.scale, "--scale", float, "a number")
    seed = _parse(args.seed, "--seed", int, "an integer")
    today = _parse(args.today, "--today", date.fromisoformat, "a date AAAA-MM-DD")
    first = _parse(args.first_year, "--first-year", int, "a year")
    out = Path(args.out) if args.out else Path(f"pncp-world-s{scale:g}-seed{seed}.duckdb")
    try:
        path = generate(
            out,
            scale=scale,
            seed=seed,
            first_year=first,
            last_year=max(first, today.year),
            today=today,
        )
    except GenerateError as exc:
        msg = str(exc)
        for name, opt in (
            ("scale", "--scale"),
            ("seed", "--seed"),
            ("first_year", "--first-year"),
            ("today", "--today"),
        ):
            msg = msg.replace(name, opt, 1) if msg.startswith(name) else msg
        raise CliError(msg) from None
    print(path)
    for table, n in table_counts(path).items():
        print(f"  {table:<14} {n:>10,}".replace(",", "."))
    return 0


def add(groups: Any) -> None:
    """``painel generate procurement``."""
    if groups.generate is None:
        return
    g = groups.generate.add_parser(
        "procurement",
        help="a synthetic PNCP world with planted irregularities (docs/procurement.md)",
        description="Write one DuckDB file with the tables of painel.procurement.world (organs, units, "
        "suppliers, classes, catalogue, contratações, items, results, contratos, termos) from "
        "--first-year to --today, with cases of the rules R1-R9 planted and their decoys, and the "
        "ground truth in the table gabarito. The same arguments give the same tables.",
    )
    g.add_argument(
        "--scale",
        required=True,
        metavar="S",
        help="1 = ~100,000 contratações a year (max 4); 0.01 = the demo",
    )
    g.add_argument("--seed", default="1", metavar="N", help="random seed (default 1)")
    g.add_argument(
        "--out", metavar="FILE", help="the DuckDB file (default pncp-world-sS-seedN.duckdb)"
    )
    g.add_argument(
        "--today",
        default="2026-11-30",
        metavar="AAAA-MM-DD",
        help="nothing is dated after it (default 2026-11-30)",
    )
    g.add_argument(
        "--first-year", default="2023", metavar="Y", help="the first year (default 2023)"
    )
    g.set_defaults(fn=cmd_generate_procurement)
