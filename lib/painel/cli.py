"""The ``painel`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .config import ConfigError, Paths

EXIT_FAILED = 1  # the work ran and failed (a run, a check)
EXIT_USAGE = 2  # bad input: unknown job, bad parameter, broken YAML, unknown user
EXIT_BUSY = 3  # the job is already running elsewhere


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


def _paths() -> Paths:
    return Paths.from_env().ensure()


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[c for c in columns]] + [
        ["" if r.get(c) is None else str(r[c]) for c in columns] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


# ---- etl ----------------------------------------------------------------------------------
def cmd_etl_run(args: argparse.Namespace) -> int:
    from .runner import run_job

    paths = _paths()
    result = run_job(
        paths,
        args.job,
        files=args.file or [],
        pairs=args.param or [],
        trigger=args.trigger,
        attempt=args.attempt,
    )
    if result.status == "succeeded":
        published = ", ".join(result.published) or "nothing"
        print(
            f"run {result.run_id} of {args.job} succeeded in {result.duration_s:.1f}s; published {published}"
        )
        print(f"notebook: {result.notebook_out}")
        return 0
    print(
        f"painel: etl run {args.job} failed (run {result.run_id}): {result.error}; "
        f"notebook: {result.notebook_out}",
        file=sys.stderr,
    )
    return EXIT_FAILED


def cmd_etl_list(args: argparse.Namespace) -> int:
    from .params import notebook_parameters
    from .runner import job_notebook, list_jobs
    from .schedule import load_schedule

    paths = _paths()
    schedule = {j.name: j for j in load_schedule(paths)}
    for job in list_jobs(paths):
        sched = schedule.get(job)
        when = f"cron '{sched.cron}' ({sched.timezone})" if sched else "not scheduled"
        print(f"{job}  [{when}]")
        for p in notebook_parameters(job_notebook(paths, job)).values():
            print(f"    {p.name}: {p.type_src} = {p.default!r}  # {p.help}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from .opstate import OpState
    from .runner import recent_runs

    rows = recent_runs(OpState(_paths().opstate), job=args.job, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        r["published"] = ", ".join(json.loads(r["published"] or "[]"))
        r["duration"] = "" if r["duration_s"] is None else f"{r['duration_s']:.1f}s"
        if r["status"] == "running" and r.get("progress"):
            p = json.loads(r["progress"])
            eta = "" if p.get("eta_s") is None else f", ETA {int(p['eta_s']) // 60} min"
            r["duration"] = f"{p['done']}/{p['total']} calls{eta}"
    print(
        _table(
            rows,
            ["run_id", "job", "status", "trigger_", "started_at", "duration", "published", "error"],
        )
    )
    if rows and args.job:
        print(f"latest notebook: {rows[0]['notebook_out']}")
    return 0


# ---- store --------------------------------------------------------------------------------
def cmd_store_status(args: argparse.Namespace) -> int:
    from .store import Store

    store = Store(_paths().store)
    datasets = [args.dataset] if args.dataset else store.datasets()
    if not datasets:
        print("no dataset published yet")
    for ds in datasets:
        m = store.manifest(ds)
        failed = [c["name"] for c in m.get("checks", []) if not c["passed"]]
        print(
            f"{ds}: current {m['version']} published {m.get('published_at')} by run {m.get('run_id')} "
            f"(job {m.get('job')}); source extracted {m.get('source_extracted_at')}"
        )
        print(f"  rows: {', '.join(f'{t}={n}' for t, n in m.get('row_counts', {}).items())}")
        print(
            f"  checks: {len(m.get('checks', [])) - len(failed)} passed"
            + (f", failed: {failed}" if failed else "")
        )
        for v in reversed(store.versions(ds)):
            mark = "*" if v.current else " "
            print(
                f"  {mark} {v.version}  run {v.manifest.get('run_id')}  published {v.manifest.get('published_at')}"
            )
    return 0


def cmd_store_path(args: argparse.Namespace) -> int:
    from .store import Store

    print(Store(_paths().store).current_path(args.dataset))
    return 0


def cmd_store_rollback(args: argparse.Namespace) -> int:
    from .store import Store

    store = Store(_paths().store)
    before = store.current_version(args.dataset)
    after = store.rollback(args.dataset, to=args.to, actor=getpass.getuser())
    print(f"{args.dataset}: current version {before} -> {after}")
    return 0


# ---- schedule -----------------------------------------------------------------------------
def cmd_schedule(args: argparse.Namespace) -> int:
    from .schedule import Scheduler

    scheduler = Scheduler(_paths())
    if args.once:
        results = scheduler.run_once()
        for r in results:
            print(f"{r.job}: {r.status}" + (f" ({r.error})" if r.error else ""))
        if not results:
            print("nothing due")
        return EXIT_FAILED if any(r.status == "failed" for r in results) else 0
    scheduler.run_forever()
    return 0


# ---- serve --------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from .web.app import serve

    return serve(
        _paths(),
        host=args.host,
        port=args.port,
        preheat=not args.no_preheat,
        config_file=args.config,
    )


# ---- users --------------------------------------------------------------------------------
def _read_password(args: argparse.Namespace, prompt: str = "password: ") -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CliError("no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError("no terminal to prompt for a password: use --password-stdin")
    first = getpass.getpass(prompt)
    if getpass.getpass("again: ") != first:
        raise CliError("the two passwords differ")
    return first


def _users():  # type: ignore[no-untyped-def]
    from .auth import Users
    from .opstate import OpState

    return Users(OpState(_paths().opstate))


def cmd_users_add(args: argparse.Namespace) -> int:
    users = _users()
    password = _read_password(args)
    users.add(
        args.name,
        password,
        args.role,
        grants=args.grant or [],
        display_name=args.display_name or "",
    )
    print(
        f"user {args.name} added with role {args.role}"
        + (f" and grants {', '.join(args.grant)}" if args.grant else "")
    )
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    rows = _users().list()
    for r in rows:
        r["grants"] = " ".join(r["grants"]) or ("*" if r["role"] == "admin" else "-")
        r["state"] = "disabled" if r["disabled"] else "active"
    print(_table(rows, ["username", "role", "state", "grants", "display_name"]))
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    _users().set_disabled(args.name, True)
    print(f"user {args.name} disabled; their sessions ended")
    return 0


def cmd_users_enable(args: argparse.Namespace) -> int:
    _users().set_disabled(args.name, False)
    print(f"user {args.name} enabled")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    users = _users()
    users.set_password(args.name, _read_password(args, "new password: "))
    print(f"password of {args.name} changed; their sessions ended")
    return 0


def cmd_users_grant(args: argparse.Namespace) -> int:
    _users().grant(args.name, args.grants)
    print(f"granted {' '.join(args.grants)} to {args.name}")
    return 0


def cmd_users_revoke(args: argparse.Namespace) -> int:
    _users().revoke(args.name, args.grants)
    print(f"revoked {' '.join(args.grants)} from {args.name}")
    return 0


# ---- demo ---------------------------------------------------------------------------------
def cmd_demo_prepare(args: argparse.Namespace) -> int:
    from .demo.seed import prepare

    for line in prepare(_paths()):
        print(line)
    return 0


def cmd_demo_progress_history(args: argparse.Namespace) -> int:
    from .progress.demo import progress_history

    try:
        progress_history(_paths(), weeks=args.weeks)
    except RuntimeError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    return 0


def cmd_demo_logins(args: argparse.Namespace) -> int:
    from .demo.seed import logins_text

    print(logins_text())
    return 0


# ---- tags (learning-progress suite) -------------------------------------------------------
def cmd_tags_add(args: argparse.Namespace) -> int:
    from .progress import admin
    from .progress.tags import TagError

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
    from .progress import admin

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
    from .progress import admin
    from .progress.tags import TagError

    try:
        tag = admin.registry(_paths()).remove(args.tag, args.by or _os_user())
    except TagError as exc:
        raise CliError(str(exc)) from None
    print(
        f"tag {tag.tag_id} ({tag.class_name}, {tag.track}) is no longer collected; its history stays"
    )
    return 0


def _os_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001
        return "cli"


def cmd_simulate_cademi(args: argparse.Namespace) -> int:
    from .progress import simulator

    return simulator.run(args)


# ---- parser -------------------------------------------------------------------------------
def _simulator_arguments(parser: argparse.ArgumentParser) -> None:
    from .progress import simulator

    simulator.add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    from .auth import ROLES

    p = argparse.ArgumentParser(
        prog="painel",
        description="Notebook-based reporting: Papermill ETL into a versioned DuckDB store, "
        "login-protected Voilà dashboards with row-level security. Data directory: "
        "$PAINEL_HOME (default ./data).",
    )
    p.add_argument("--version", action="version", version=f"painel {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    etl = sub.add_parser("etl", help="run and list ETL jobs (notebooks/etl/*.ipynb)")
    etl_sub = etl.add_subparsers(dest="etl_command", required=True, metavar="SUBCOMMAND")
    run = etl_sub.add_parser(
        "run",
        help="execute an ETL notebook with Papermill",
        description="Execute notebooks/etl/JOB.ipynb. Parameters merge the notebook's defaults, "
        "parameters/JOB.yaml, then -f files, then -p pairs; unknown, missing or ill-typed "
        "parameters are an error before the notebook starts. The executed notebook is kept "
        "under $PAINEL_HOME/runs/JOB/. Exit code 1 when the run fails, 2 on bad input.",
    )
    run.add_argument("job", metavar="JOB")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="set one parameter (repeatable)",
    )
    run.add_argument(
        "-f",
        "--file",
        action="append",
        metavar="FILE.yaml",
        help="parameters from a YAML file (repeatable)",
    )
    run.add_argument("--trigger", default="manual", help=argparse.SUPPRESS)
    run.add_argument("--attempt", type=int, default=1, help=argparse.SUPPRESS)
    run.set_defaults(fn=cmd_etl_run)
    lst = etl_sub.add_parser("list", help="list the jobs, their schedules and parameters")
    lst.set_defaults(fn=cmd_etl_list)

    runs = sub.add_parser(
        "runs", help="recent ETL runs (status, duration, error, versions published)"
    )
    runs.add_argument("job", nargs="?", metavar="JOB")
    runs.add_argument("-n", "--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true", help="machine-readable output")
    runs.set_defaults(fn=cmd_runs)

    store = sub.add_parser("store", help="published datasets: status, file path, rollback")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="SUBCOMMAND")
    st = store_sub.add_parser("status", help="current version, manifest summary and kept versions")
    st.add_argument("dataset", nargs="?", metavar="DATASET")
    st.set_defaults(fn=cmd_store_status)
    sp = store_sub.add_parser("path", help="the current version's DuckDB file (open it read-only)")
    sp.add_argument("dataset", metavar="DATASET")
    sp.set_defaults(fn=cmd_store_path)
    rb = store_sub.add_parser(
        "rollback", help="point DATASET back at the previous published version"
    )
    rb.add_argument("dataset", metavar="DATASET")
    rb.add_argument(
        "--to", metavar="VERSION", help="a specific kept version instead of the previous one"
    )
    rb.set_defaults(fn=cmd_store_rollback)

    sch = sub.add_parser(
        "schedule",
        help="run due jobs from parameters/schedule.yaml",
        description="Run ETL jobs when their cron expression (parameters/schedule.yaml) is due. "
        "Long-lived by default; --once runs what is due and exits (for cron or a systemd timer). "
        "Missed runs are coalesced into one; failed runs are retried with backoff.",
    )
    sch.add_argument("--once", action="store_true", help="run what is due now, then exit")
    sch.set_defaults(fn=cmd_schedule)

    srv = sub.add_parser(
        "serve",
        help="serve the dashboards (Voilà) behind the login",
        description="Serve notebooks/dashboards/ with standalone Voilà behind painel's login; "
        "each user sees the dashboards their role allows and only the rows their grants allow.",
    )
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8866)
    srv.add_argument(
        "--no-preheat", action="store_true", help="start a kernel per page view (slower)"
    )
    srv.add_argument(
        "--config", metavar="FILE.json", help="settings layered over voila.json (same format)"
    )
    srv.set_defaults(fn=cmd_serve)

    users = sub.add_parser("users", help="manage dashboard users, roles and grants")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    add = users_sub.add_parser(
        "add",
        help="add a user",
        description=f"Add a user. Roles: {', '.join(ROLES)}. Grants: '*', 'DATASET:*' or "
        "'DATASET:KIND:ID' (e.g. school:regional:12). The password is read from a prompt, "
        "or from the first line of standard input with --password-stdin.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--grant", action="append", metavar="DATASET:KIND:ID")
    add.add_argument("--display-name", metavar="TEXT")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(fn=cmd_users_add)
    ul = users_sub.add_parser("list", help="list users with role, state and grants")
    ul.set_defaults(fn=cmd_users_list)
    for name, fn, text in (
        ("disable", cmd_users_disable, "disable a user and end their sessions"),
        ("enable", cmd_users_enable, "enable a disabled user"),
    ):
        sp_ = users_sub.add_parser(name, help=text)
        sp_.add_argument("name", metavar="NAME")
        sp_.set_defaults(fn=fn)
    pw = users_sub.add_parser("passwd", help="change a user's password (ends their sessions)")
    pw.add_argument("name", metavar="NAME")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(fn=cmd_users_passwd)
    for name, fn, text in (
        ("grant", cmd_users_grant, "add grants to a user"),
        ("revoke", cmd_users_revoke, "remove grants from a user"),
    ):
        g = users_sub.add_parser(name, help=text)
        g.add_argument("name", metavar="NAME")
        g.add_argument("grants", nargs="+", metavar="GRANT")
        g.set_defaults(fn=fn)

    tags = sub.add_parser("tags", help="class tags whose progress the `progress` job collects")
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

    simulate = sub.add_parser("simulate", help="simulators of external APIs, on loopback")
    simulate_sub = simulate.add_subparsers(dest="simulate_command", required=True, metavar="API")
    sc = simulate_sub.add_parser(
        "cademi",
        help="serve a simulated Cademi API (deterministic from --seed, with fault injection)",
        description="Serve a Cademi REST API simulator at http://HOST:PORT/api/v1: bare-key "
        "Authorization, the success/code/data/profiler envelope, cursor pagination, 2 calls/s and "
        "120/min (scaled with --rate-scale), weekly-growing progress and injectable faults.",
    )
    _simulator_arguments(sc)
    sc.set_defaults(fn=cmd_simulate_cademi)

    demo = sub.add_parser("demo", help="demo data and users")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, metavar="SUBCOMMAND")
    dp = demo_sub.add_parser(
        "prepare", help="write the demo source extract and create the demo users"
    )
    dp.set_defaults(fn=cmd_demo_prepare)
    dh = demo_sub.add_parser(
        "progress-history",
        help="fill weeks of progress history: one real progress run per week against an in-process simulator",
    )
    dh.add_argument("--weeks", type=int, default=12)
    dh.set_defaults(fn=cmd_demo_progress_history)
    dl = demo_sub.add_parser("logins", help="print the demo logins")
    dl.set_defaults(fn=cmd_demo_logins)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from .auth import AuthError
    from .params import ParameterError
    from .runner import JobBusy, RunError
    from .schedule import ScheduleError
    from .store import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except JobBusy as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except CliError as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigError, ParameterError, RunError, AuthError, ScheduleError, StoreError) as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("painel: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
