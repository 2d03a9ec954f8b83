"""The learning-progress suite's commands: ``painel tags``, ``painel simulate cademi`` and
``painel demo progress-history`` (added through the domain's ``cli`` hook)."""

from __future__ import annotations

import argparse
import getpass
import json

from ..config import Paths
from ..domain import CommandGroups
from ..exits import FAILED, CliError


def _paths() -> Paths:
    return Paths.from_env().ensure()


def _table(rows: list[dict[str, object]], columns: list[str]) -> str:
    from ..cli import table

    return table(rows, columns)


def _os_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli"


def cmd_tags_add(args: argparse.Namespace) -> int:
    from . import admin
    from .tags import TagError

    try:
        tag = admin.register(
            _paths(), args.tag, args.track, args.class_number, args.by or _os_user()
        )
    except TagError as exc:
        raise CliError(str(exc)) from None
    print(
        f"registered tag {tag.tag_id} ({tag.cademi_name}) as {tag.class_name} of track {tag.track}; "
        "it enters the next progress run"
    )
    return 0


def cmd_tags_list(args: argparse.Namespace) -> int:
    from . import admin

    rows = [t.as_dict() for t in admin.registry(_paths()).list(include_removed=args.all)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        r["state"] = (
            "active" if r["active"] else f"removed {r['removed_at'][:10]} by {r['removed_by']}"
        )
    print(
        _table(
            rows,
            [
                "tag_id",
                "track",
                "class_name",
                "cademi_name",
                "registered_by",
                "registered_at",
                "state",
            ],
        )
    )
    return 0


def cmd_tags_remove(args: argparse.Namespace) -> int:
    from . import admin
    from .tags import TagError

    try:
        tag = admin.registry(_paths()).remove(args.tag, args.by or _os_user())
    except TagError as exc:
        raise CliError(str(exc)) from None
    print(
        f"tag {tag.tag_id} ({tag.class_name}, {tag.track}) is no longer collected; its history stays"
    )
    return 0


def cmd_tags_change(args: argparse.Namespace) -> int:
    from . import admin
    from .tags import TagError

    try:
        tag = admin.change(_paths(), args.tag, args.track, args.class_number, args.by or _os_user())
    except TagError as exc:
        raise CliError(str(exc)) from None
    print(f"tag {tag.tag_id} ({tag.cademi_name}) is now {tag.class_name} of track {tag.track}")
    return 0


def cmd_simulate_cademi(args: argparse.Namespace) -> int:
    from . import simulator

    return int(simulator.run(args) or 0)


def cmd_demo_progress_history(args: argparse.Namespace) -> int:
    from .demo import progress_history

    try:
        progress_history(_paths(), weeks=args.weeks)
    except RuntimeError as exc:
        raise CliError(str(exc), FAILED) from None
    return 0


def add_commands(groups: CommandGroups) -> None:
    tags = groups.top.add_parser(
        "tags", help="class tags whose progress the `progress` job collects"
    )
    tags_sub = tags.add_subparsers(dest="tags_command", required=True, metavar="SUBCOMMAND")
    ta = tags_sub.add_parser(
        "add",
        help="register a class tag",
        description="Register Cademi tag TAG as class number --class of track --track, after the same "
        "checks as the 'Cadastro de turmas' dashboard: both integers, the tag exists in Cademi "
        "(GET /tag, needs the API key in the environment), neither the tag nor the class is "
        "registered yet. The tag enters the next progress run.",
    )
    ta.add_argument("tag", metavar="TAG")
    ta.add_argument(
        "--track", required=True, help="a track key of the progress job (parameters/progress.yaml)"
    )
    ta.add_argument(
        "--class",
        dest="class_number",
        required=True,
        metavar="NUMBER",
        help="the class number (Turma N)",
    )
    ta.add_argument("--by", metavar="NAME", help="who registers it (default: cli:<os user>)")
    ta.set_defaults(fn=cmd_tags_add)
    tl = tags_sub.add_parser("list", help="registered class tags, who registered them and when")
    tl.add_argument("--all", action="store_true", help="include removed tags")
    tl.add_argument("--json", action="store_true", help="machine-readable output")
    tl.set_defaults(fn=cmd_tags_list)
    tr = tags_sub.add_parser("remove", help="stop collecting a tag (its history stays)")
    tr.add_argument("tag", metavar="TAG")
    tr.add_argument("--by", metavar="NAME", help="who removes it (default: cli:<os user>)")
    tr.set_defaults(fn=cmd_tags_remove)
    tc = tags_sub.add_parser(
        "change",
        help="correct a registered tag's track or class number (recorded: who and when)",
        description="Correct the track or class number of registered tag TAG, with the checks of "
        "'tags add' (a class taken by another tag, a track the tag's Cademi name contradicts).",
    )
    tc.add_argument("tag", metavar="TAG")
    tc.add_argument("--track", required=True, help="a track key of the progress job")
    tc.add_argument("--class", dest="class_number", required=True, metavar="NUMBER")
    tc.add_argument("--by", metavar="NAME", help="who corrects it (default: cli:<os user>)")
    tc.set_defaults(fn=cmd_tags_change)

    sc = groups.simulate.add_parser(
        "cademi",
        help="serve a simulated Cademi API (deterministic from --seed, with fault injection)",
        description="Serve a Cademi REST API simulator at http://HOST:PORT/api/v1: bare-key "
        "Authorization, the success/code/data/profiler envelope, cursor pagination, 2 calls/s and "
        "120/min (scaled with --rate-scale), weekly-growing progress and injectable faults.",
    )
    from .simulator import add_arguments

    add_arguments(sc)
    sc.set_defaults(fn=cmd_simulate_cademi)

    dh = groups.demo.add_parser(
        "progress-history",
        help="fill weeks of progress history: one real progress run per week against an in-process simulator",
    )
    dh.add_argument("--weeks", type=int, default=12)
    dh.set_defaults(fn=cmd_demo_progress_history)
