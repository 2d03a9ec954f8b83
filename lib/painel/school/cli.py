"""The school suite's commands (added through the domain's ``cli`` hook)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from ..domain import CommandGroups
from ..exits import CliError


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be a date AAAA-MM-DD, not {value!r}") from None


def _number(value: str, option: str, kind: type[float] | type[int]) -> float:
    try:
        return kind(value)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise CliError(f"{option} must be {what}, not {value!r}") from None


def cmd_generate_school(args: argparse.Namespace) -> int:
    """Write the dumps (and truth files) and print one line per zip."""
    from .generate import GenerateError, generate

    scale = float(_number(args.scale, "--scale", float))
    seed = int(_number(args.seed, "--seed", int))
    day = _date(args.date, "--date")
    since = _date(args.since, "--since") if args.since else None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} exists and is not a directory")
    try:
        paths = generate(out, scale=scale, day=day, seed=seed, since=since)
    except GenerateError as exc:
        raise CliError(str(exc)) from None
    for p in paths:
        print(f"{p} (truth: {p.name.removesuffix('.zip')}.truth.json)")
    return 0


def add_commands(groups: CommandGroups) -> None:
    """``painel generate school``."""
    if groups.generate is None:
        return
    g = groups.generate.add_parser(
        "school",
        help="synthetic daily SIMADE/DED dumps with planted inconsistencies (docs/school.md)",
        description="Write DIR/simade_AAAAMMDD.zip (the SIMADE/DED dump of docs/school.md) and, beside "
        "it, simade_AAAAMMDD.truth.json: the findings each inconsistency rule (I1-I14) must return on "
        "that dump and the decoys it must not. With --since, one zip for every school day from that "
        "date to --date (and --date itself); the truth files assume a job that loaded all of them. "
        "The same scale and seed give the same students, turmas and ids on every date.",
    )
    g.add_argument(
        "--scale",
        required=True,
        metavar="S",
        help="1 = the state (1.5 M students); 0.01 = the demo",
    )
    g.add_argument(
        "--date",
        required=True,
        metavar="AAAA-MM-DD",
        help="the dump date D (school year = its year)",
    )
    g.add_argument(
        "--out", required=True, metavar="DIR", help="directory for the zips and truth files"
    )
    g.add_argument("--seed", default="1", metavar="N", help="random seed (default 1)")
    g.add_argument(
        "--since", metavar="AAAA-MM-DD", help="also write every school day's dump from this date"
    )
    g.set_defaults(fn=cmd_generate_school)
