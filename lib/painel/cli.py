"""The ``painel`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, exits
from .config import ConfigError, Paths
from .exits import CliError


def _paths() -> Paths:
    return Paths.from_env().ensure()


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
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
class LiveProgress:
    """What a running job reports (``runs.progress``), drawn while ``painel etl run`` waits:
    a progress bar with the ETA on a terminal, else one line per step (and per tenth of it)."""

    def __init__(
        self, paths: Paths, run_id: str, stream: Any = None, poll_s: float = 0.5, job: str = ""
    ):
        import threading
        import time

        self.paths, self.run_id, self.poll_s, self.job = paths, run_id, poll_s, job
        self._t0 = time.monotonic()
        self.stream = (
            stream if stream is not None else (sys.stderr if sys.stderr.isatty() else sys.stdout)
        )
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="painel-progress", daemon=True)
        self._last: tuple[str, int] | None = None
        self._drawn = False
        self._opstate: Any = None  # opened on the first read, then reused every poll

    def __enter__(self) -> LiveProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._show(final=True)
        if self._drawn and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _read(self) -> dict[str, Any] | None:
        from .opstate import OpState

        try:
            if self._opstate is None:
                self._opstate = OpState(self.paths.opstate)
            with self._opstate.connect() as con:
                row = con.execute(
                    "SELECT progress FROM runs WHERE run_id = ?", [self.run_id]
                ).fetchone()
        except Exception:  # noqa: BLE001 - the display never fails the run
            return None
        if row is None or not row["progress"]:
            return None
        try:
            return dict(json.loads(row["progress"]))
        except ValueError:
            return None

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._show()

    def _show(self, final: bool = False) -> None:
        import time

        from .runctx import describe

        p = self._read()
        if p is None:
            if self.tty and not final:  # before the job reports anything (kernel start, imports)
                self.stream.write(
                    f"\rrunning {self.job or 'job'}... {time.monotonic() - self._t0:.0f}s\033[K"
                )
                self.stream.flush()
                self._drawn = True
            return
        done, total = int(p.get("done") or 0), int(p.get("total") or 0)
        share = done / total if total else 1.0
        if self.tty:
            width = 30
            bar = "#" * int(width * share) + "." * (width - int(width * share))
            self.stream.write(f"\r[{bar}] {describe(p)}\033[K")
            self.stream.flush()
            self._drawn = True
            return
        key = (str(p.get("step")), int(10 * share))
        if (
            self._last is None
            or key[0] != self._last[0]
            or key[1] > self._last[1]
            or (final and key != self._last)
        ):
            self._last = key
            print(describe(p), file=self.stream, flush=True)


def cmd_etl_run(args: argparse.Namespace) -> int:
    from .runctx import new_run_id
    from .runner import run_job

    paths = _paths()
    run_id = new_run_id()
    if args.trigger == "manual":
        from . import audit
        from .opstate import OpState

        audit.record(
            OpState(paths.opstate),
            "run",
            actor=audit.cli_actor(),
            target=args.job,
            detail={
                "run_id": run_id,
                "parametros": list(args.param or []),
                "arquivos": list(args.file or []),
            },
        )
    with LiveProgress(paths, run_id, job=args.job):
        result = run_job(
            paths,
            args.job,
            files=args.file or [],
            pairs=args.param or [],
            trigger=args.trigger,
            attempt=args.attempt,
            run_id=run_id,
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
    return exits.FAILED


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
    from .runctx import describe
    from .runner import recent_runs

    rows = recent_runs(OpState(_paths().opstate), job=args.job, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        r["published"] = ", ".join(json.loads(r["published"] or "[]"))
        r["duration"] = "" if r["duration_s"] is None else f"{r['duration_s']:.1f}s"
        if r["status"] == "running" and r.get("progress"):
            r["duration"] = describe(json.loads(r["progress"]))
    print(
        table(
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
    from . import audit
    from .opstate import OpState

    audit.record(
        OpState(_paths().opstate),
        "rollback",
        actor=audit.cli_actor(),
        target=args.dataset,
        detail={"de": before, "para": after},
    )
    print(f"{args.dataset}: current version {before} -> {after}")
    return 0


# ---- audit --------------------------------------------------------------------------------
def _audit_day(text: str | None, end: bool = False) -> Any:
    """A day (YYYY-MM-DD) in São Paulo as the UTC moment it starts (``end``: the next day's)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise CliError(f"{text!r} is not a day (YYYY-MM-DD)") from None
    start = day.replace(tzinfo=ZoneInfo("America/Sao_Paulo"))
    return start + timedelta(days=1) if end else start


def cmd_audit_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from . import audit
    from .opstate import OpState

    if args.action and args.action not in audit.ACTIONS:
        raise CliError(f"unknown action {args.action!r} (actions: {', '.join(audit.ACTIONS)})")
    entries, total = audit.search(
        OpState(_paths().opstate),
        actor=args.user or "",
        action=args.action or "",
        text=args.grep or "",
        since=_audit_day(args.since),
        until=_audit_day(args.until, end=True),
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return 0
    rows = [
        {
            "at": e.at[:19].replace("T", " "),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "client": e.client,
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        }
        for e in entries
    ]
    print(table(rows, ["at", "actor", "action", "target", "client", "detail"]))
    if total > len(entries):
        print(f"({len(entries)} of {total} entries, newest first: --limit for more)")
    return 0


def cmd_audit_retention(args: argparse.Namespace) -> int:
    from . import audit
    from .opstate import OpState

    ops = OpState(_paths().opstate)
    if args.days is not None:
        try:
            audit.set_retention(ops, args.days, actor=audit.cli_actor())
        except audit.AuditError as exc:
            raise CliError(str(exc)) from None
    print(f"the audit log keeps its entries {audit.retention_days(ops)} days")
    return 0


def cmd_audit_purge(args: argparse.Namespace) -> int:
    from . import audit
    from .opstate import OpState

    ops = OpState(_paths().opstate)
    n = audit.purge(ops)
    print(f"{n} audit entries older than {audit.retention_days(ops)} days deleted")
    return 0


# ---- report bursts -------------------------------------------------------------------------
def cmd_report_list(args: argparse.Namespace) -> int:
    from .domain import reports
    from .schedule import load_schedule

    paths = _paths()
    schedule = {j.name: j for j in load_schedule(paths)}
    for name, spec in sorted(reports().items()):
        here = "" if (paths.report_notebooks / f"{name}.ipynb").is_file() else " (notebook missing)"
        sched = schedule.get(f"report:{name}")
        when = f"cron '{sched.cron}' ({sched.timezone})" if sched else "not scheduled"
        print(
            f"{name}  [{when}]  {spec.title} · {spec.dataset} · per {', '.join(spec.kinds)}{here}"
        )
    return 0


def cmd_report_burst(args: argparse.Namespace) -> int:
    from . import audit
    from .reports import ReportError, burst

    try:
        summary = burst(
            _paths(),
            args.report,
            kinds=args.kind or (),
            only=args.only or (),
            limit=args.limit,
            workers=args.workers,
            pdf=args.pdf,
            mail=not args.no_mail,
            force=args.force,
            fork=not args.no_fork,
            actor=audit.cli_actor(),
            log=lambda line: print(line, flush=True),
        )
    except ReportError as exc:
        raise CliError(str(exc)) from None
    for line in summary.lines():
        print(line)
    return 0 if summary.ok else exits.FAILED


def cmd_report_status(args: argparse.Namespace) -> int:
    from .opstate import OpState

    with OpState(_paths().opstate).connect() as con:
        where, params = ("WHERE burst LIKE ?", [f"{args.report}:%"]) if args.report else ("", [])
        rows = con.execute(
            "SELECT burst, count(*) AS n, sum(status = 'done') AS done, "
            "sum(status = 'failed') AS failed, sum(status = 'running') AS running, "
            "sum(recipients) AS mails, max(finished_at) AS last "
            f"FROM report_items {where} GROUP BY burst ORDER BY burst DESC LIMIT ?",
            [*params, args.limit],
        ).fetchall()
    if not rows:
        print("no report burst recorded")
    for r in rows:
        print(
            f"{r['burst']:<32} {r['done']}/{r['n']} done, {r['failed']} failed, "
            f"{r['running']} unfinished, {r['mails']} mails queued, last {r['last'] or '-'}"
        )
    return 0


def cmd_usage_ingest(args: argparse.Namespace) -> int:
    from . import usage
    from .opstate import OpState

    paths = _paths()
    report = usage.ingest(OpState(paths.opstate), paths.home)
    print(
        f"{report.events} usage events from {report.files} spool file(s); "
        f"{report.removed} finished file(s) removed; {report.bad_lines} unreadable line(s)"
    )
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
        return exits.FAILED if any(r.status == "failed" for r in results) else 0
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


def cmd_lab(args: argparse.Namespace) -> int:
    from .lab import run

    return run(_paths(), args.as_user, args.port, not args.no_browser, dry_run=args.dry_run)


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


def _users() -> Any:
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
        email=args.email or "",
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
    print(table(rows, ["username", "role", "state", "email", "grants", "display_name"]))
    return 0


def cmd_users_email(args: argparse.Namespace) -> int:
    _users().set_email(args.name, args.address)
    address = args.address.strip()
    print(
        f"e-mail of {args.name} set to {address}" if address else f"e-mail of {args.name} cleared"
    )
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


def cmd_users_import(args: argparse.Namespace) -> int:
    from . import audit, userfile
    from .opstate import OpState

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        report = userfile.apply(
            OpState(_paths().opstate), path, actor=audit.cli_actor(), dry_run=args.dry_run
        )
    except userfile.ImportFileError as exc:
        raise CliError(str(exc)) from None
    verb = "would be" if args.dry_run else "were"
    for name in report.added:
        print(f"add {name}")
    for name, what in report.changed.items():
        print(f"change {name}: {'; '.join(what)}")
    for line, why in report.rejected:
        print(f"{path}:{line}: rejected: {why}", file=sys.stderr)
    print(
        f"{path.name}: {report.summary()}" + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    if report.rejected:
        print(
            f"{len(report.rejected)} line(s) rejected; the other lines {verb} imported",
            file=sys.stderr,
        )
        return exits.FAILED
    return 0


# ---- mail ---------------------------------------------------------------------------------
def _mail() -> tuple[Any, Any]:
    from . import mail
    from .opstate import OpState

    paths = _paths()
    return OpState(paths.opstate), mail.load_settings(paths)


def cmd_mail_send(args: argparse.Namespace) -> int:
    from .mail import deliver, outbox, retry_now

    opstate, settings = _mail()
    if args.now:
        print(f"{retry_now(opstate)} mail(s) waiting out a back-off made due now")
    report = deliver(opstate, settings, limit=args.limit)
    if not (report.sent or report.failed or report.given_up or report.unreachable):
        waiting = outbox(opstate, pending=True, limit=1_000_000)
        if waiting:
            first = min(e.next_attempt_at for e in waiting)
            print(f"nothing due; {len(waiting)} mail(s) wait for their next attempt (from {first})")
        else:
            print("nothing due")
        return 0
    print(f"mail: {report.summary()}")
    if report.unreachable:
        queued = len(outbox(opstate, pending=True, limit=1_000_000))
        raise CliError(f"{report.unreachable}; {queued} mail(s) stay queued", exits.FAILED)
    if not report.ok:
        raise CliError(f"mail not accepted by {report.summary()}", exits.FAILED)
    return 0


def cmd_mail_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .mail import outbox

    opstate, _settings = _mail()
    entries = outbox(opstate, pending=args.pending, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return 0
    rows = [
        {
            **asdict(e),
            "when": e.sent_at if e.status == "sent" else e.next_attempt_at,
            "last_error": e.last_error if e.status != "sent" else "",
        }
        for e in entries
    ]
    columns = ["id", "status", "attempts", "when", "kind", "recipient", "subject", "last_error"]
    print(table(rows, columns))
    return 0


def cmd_mail_test(args: argparse.Namespace) -> int:
    import uuid

    from .mail import deliver, probe_mail, queue

    opstate, settings = _mail()
    key = f"test:{uuid.uuid4().hex}"
    queue(opstate, probe_mail(args.address, settings), key)
    report = deliver(opstate, settings, keys=[key])
    if report.sent:
        print(f"test mail sent to {args.address.strip()} through {settings.server}")
        return 0
    reason = report.unreachable or next(iter({**report.failed, **report.given_up}.values()), "")
    raise CliError(f"test mail not sent: {reason}; it stays queued", exits.FAILED)


def cmd_simulate_mail(args: argparse.Namespace) -> int:
    from .mailcatcher import serve

    try:
        return serve(args.folder, args.smtp_port, args.http_port)
    except OSError as exc:  # the port is taken, the folder cannot be written
        raise CliError(f"mail catcher: {exc}", exits.FAILED) from None


# ---- demo ---------------------------------------------------------------------------------
def cmd_demo_prepare(args: argparse.Namespace) -> int:
    from .demos import prepare

    try:
        lines = prepare(_paths(), data=not args.no_data)
    except RuntimeError as exc:
        raise CliError(str(exc), exits.FAILED) from None
    for line in lines:
        print(line)
    return 0


def cmd_demo_logins(args: argparse.Namespace) -> int:
    from .demos import logins_text

    print(logins_text())
    return 0


def cmd_demo_serve(args: argparse.Namespace) -> int:
    import os

    from .demos import logins_text, services
    from .web.app import serve

    paths = _paths()
    print(logins_text(), flush=True)
    with services(paths) as env:
        os.environ.update(env)  # this process is the server: its kernels inherit it
        return serve(paths, host=args.host, port=args.port)


# ---- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import domain
    from .access import roles

    known_roles = roles()

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

    lab = sub.add_parser(
        "lab",
        help="JupyterLab on the project, for writing panels and jobs",
        description="Open JupyterLab on the project with painel's environment as the kernel. "
        "Dashboard notebooks run there render as --as USER (change it in a cell with "
        "dash.view_as('USER')); ETL notebooks write to a scratch store under "
        "<PAINEL_HOME>/lab/store, never the published one.",
    )
    lab.add_argument(
        "--as",
        dest="as_user",
        default="analista",
        metavar="USER",
        help="whose view dashboards show",
    )
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--no-browser", action="store_true")
    lab.add_argument("--dry-run", action="store_true", help="print the JupyterLab command and exit")
    lab.set_defaults(fn=cmd_lab)

    users = sub.add_parser("users", help="manage dashboard users, roles and grants")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    add = users_sub.add_parser(
        "add",
        help="add a user",
        description=f"Add a user. Roles: {', '.join(known_roles)}. Grants: '*', 'DATASET:*' or "
        "'DATASET:KIND:ID' (e.g. school:regional:12). The password is read from a prompt, "
        "or from the first line of standard input with --password-stdin.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=list(known_roles))
    add.add_argument("--grant", action="append", metavar="DATASET:KIND:ID")
    add.add_argument("--display-name", metavar="TEXT")
    add.add_argument("--email", metavar="ADDRESS", help="where painel mails the user")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(fn=cmd_users_add)
    ul = users_sub.add_parser("list", help="list users with role, state, e-mail and grants")
    ul.set_defaults(fn=cmd_users_list)
    ui = users_sub.add_parser(
        "import",
        help="create or update users from a CSV (email, nome, papel, acessos)",
        description="Idempotent: the file says how each of its people should be; importing it "
        "again changes nothing. New accounts have no password (single sign-on). Exit 1 when a "
        "line was rejected (the others are imported).",
    )
    ui.add_argument("file", metavar="FILE.csv")
    ui.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    ui.set_defaults(fn=cmd_users_import)
    em = users_sub.add_parser(
        "email",
        help="set the address painel mails a user at ('' clears it)",
        description="Set the e-mail address painel mails the user at (digests are built with "
        "the user's own grants); an empty ADDRESS clears it. One bare address, ASCII.",
    )
    em.add_argument("name", metavar="NAME")
    em.add_argument("address", metavar="ADDRESS")
    em.set_defaults(fn=cmd_users_email)
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

    audit_p = sub.add_parser(
        "audit",
        help="the audit log: logins, exports, user and grant changes, runs, rollbacks",
        description="Append-only: entries go only once older than the retention (default 5 "
        "years). Days are São Paulo days.",
    )
    audit_sub = audit_p.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    al = audit_sub.add_parser("list", help="entries, newest first")
    al.add_argument("--user", help="only this actor (a username, cli:<os user>)")
    al.add_argument("--action", help="only this action (login, export, grant...)")
    al.add_argument("--since", metavar="YYYY-MM-DD", help="from this day")
    al.add_argument("--until", metavar="YYYY-MM-DD", help="up to this day, inclusive")
    al.add_argument("--grep", metavar="TEXT", help="words in the target, client or detail")
    al.add_argument("-n", "--limit", type=int, default=100)
    al.add_argument("--json", action="store_true", help="machine-readable output")
    al.set_defaults(fn=cmd_audit_list)
    ar = audit_sub.add_parser("retention", help="show or set (DAYS, at least 30) the retention")
    ar.add_argument("days", nargs="?", type=int, metavar="DAYS")
    ar.set_defaults(fn=cmd_audit_retention)
    ap = audit_sub.add_parser("purge", help="delete the entries older than the retention")
    ap.set_defaults(fn=cmd_audit_purge)

    report_p = sub.add_parser(
        "report",
        help="report bursts: a report notebook made once per scope (each SRE, each school)",
        description="painel report burst NAME executes notebooks/reports/NAME.ipynb with "
        "Papermill once per scope on the dataset's current version, renders HTML (and a PDF "
        "when chromium is installed) beside the notebook's spreadsheet, moves them into a "
        "folder per scope under PAINEL_REPORTS_DIR (default <home>/relatorios) and mails "
        "them to each scope's users. Running it again makes only what is not done.",
    )
    report_sub = report_p.add_subparsers(dest="report_command", required=True, metavar="SUBCOMMAND")
    report_sub.add_parser("list", help="the reports the installed domains declare").set_defaults(
        fn=cmd_report_list
    )
    rb_ = report_sub.add_parser(
        "burst", help="make a report for every scope (exit 1 when a scope failed)"
    )
    rb_.add_argument("report", metavar="NAME")
    rb_.add_argument(
        "--kind", action="append", metavar="KIND", help="only scopes of this kind (sre, school)"
    )
    rb_.add_argument(
        "--only",
        action="append",
        metavar="SCOPE",
        help="only this scope (school:31212401 or 31212401)",
    )
    rb_.add_argument("--limit", type=int, metavar="N", help="only the first N scopes")
    rb_.add_argument(
        "--workers", type=int, metavar="N", help="parallel workers (default: the machine's cores)"
    )
    rb_.add_argument(
        "--pdf",
        choices=("auto", "yes", "no"),
        default="auto",
        help="print a PDF with chromium: auto (when installed, the default), yes, no",
    )
    rb_.add_argument("--no-mail", action="store_true", help="deliver to the folders only")
    rb_.add_argument(
        "--force", action="store_true", help="make every scope again (mail is still sent once)"
    )
    rb_.add_argument(
        "--no-fork",
        action="store_true",
        help="start each report's kernel afresh, not as a fork of a warm parent",
    )
    rb_.set_defaults(fn=cmd_report_burst)
    rs_ = report_sub.add_parser("status", help="the bursts recorded, newest first")
    rs_.add_argument("report", nargs="?", metavar="NAME")
    rs_.add_argument("-n", "--limit", type=int, default=20)
    rs_.set_defaults(fn=cmd_report_status)

    usage_p = sub.add_parser(
        "usage",
        help="usage monitoring: move the panels' usage events into the store",
        description="Each dashboard kernel appends its events to a spool file; `painel serve` "
        "moves them every few seconds and `painel schedule` on each pass.",
    )
    usage_sub = usage_p.add_subparsers(dest="usage_command", required=True, metavar="SUBCOMMAND")
    usage_sub.add_parser("ingest", help="move the spooled events now").set_defaults(
        fn=cmd_usage_ingest
    )

    mail = sub.add_parser(
        "mail",
        help="the e-mail outbox: send what is due, list, send a test",
        description="Mail is queued in the outbox of the operational store and sent over SMTP "
        "(parameters/mail.yaml; PAINEL_SMTP_HOST and PAINEL_SMTP_PORT override the server). "
        "A mail the server did not take stays queued and is retried with backoff.",
    )
    mail_sub = mail.add_subparsers(dest="mail_command", required=True, metavar="SUBCOMMAND")
    ms = mail_sub.add_parser(
        "send",
        help="send every due mail (exit 1 when the server is down: the mail stays queued)",
    )
    ms.add_argument("-n", "--limit", type=int, default=None, help="at most this many")
    ms.add_argument(
        "--now",
        action="store_true",
        help="also the mail waiting out a back-off after a failure (the server is back)",
    )
    ms.set_defaults(fn=cmd_mail_send)
    ml = mail_sub.add_parser("list", help="the outbox, newest first")
    ml.add_argument("--pending", action="store_true", help="only mail not sent nor given up")
    ml.add_argument("-n", "--limit", type=int, default=100)
    ml.add_argument("--json", action="store_true", help="machine-readable output")
    ml.set_defaults(fn=cmd_mail_list)
    mt = mail_sub.add_parser("test", help="send a pt-BR test message to ADDRESS now")
    mt.add_argument("address", metavar="ADDRESS")
    mt.set_defaults(fn=cmd_mail_test)

    simulate = sub.add_parser("simulate", help="simulators of external APIs, on loopback")
    simulate_sub = simulate.add_subparsers(dest="simulate_command", required=True, metavar="API")
    sm = simulate_sub.add_parser(
        "mail",
        help="a mail catcher: an SMTP server on loopback and a page to read what it received",
        description="Accept every message on SMTP (nothing is relayed), keep each as an .eml "
        "file in --folder, and list them (newest first) on a read-only web page that shows "
        "each message's text and HTML (mail HTML runs no script: a strict "
        "Content-Security-Policy). Point painel at it with PAINEL_SMTP_HOST=127.0.0.1 "
        "PAINEL_SMTP_PORT=<--smtp-port>.",
    )
    sm.add_argument("--smtp-port", type=int, default=8025, help="SMTP port (default: 8025)")
    sm.add_argument("--http-port", type=int, default=8026, help="web page port (default: 8026)")
    sm.add_argument(
        "--folder", required=True, type=Path, metavar="DIR", help="where the messages are kept"
    )
    sm.set_defaults(fn=cmd_simulate_mail)
    generate = sub.add_parser("generate", help="synthetic source files (dumps) for tests and demos")
    generate_sub = generate.add_subparsers(dest="generate_command", required=True, metavar="SOURCE")

    demo = sub.add_parser("demo", help="demo data, users and server")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, metavar="SUBCOMMAND")
    dp = demo_sub.add_parser(
        "prepare",
        help="mark the data directory as a demo one; demo users, sources and first published versions",
        description="Idempotent. Uses the 'demo' parameter profile for this data directory "
        "(parameters/demo/*.yaml over parameters/*.yaml), creates the demo users and runs each "
        "domain's demo preparation; without --no-data it also publishes each dataset once.",
    )
    dp.add_argument(
        "--no-data", action="store_true", help="sources, users and registrations only; run no ETL"
    )
    dp.set_defaults(fn=cmd_demo_prepare)
    dl = demo_sub.add_parser("logins", help="print the demo logins")
    dl.set_defaults(fn=cmd_demo_logins)
    ds = demo_sub.add_parser(
        "serve", help="start the demo's simulated APIs and serve the dashboards"
    )
    ds.add_argument("--host", default="127.0.0.1")
    ds.add_argument("--port", type=int, default=8866)
    ds.set_defaults(fn=cmd_demo_serve)

    groups = domain.CommandGroups(
        top=sub, demo=demo_sub, simulate=simulate_sub, generate=generate_sub
    )
    for d in domain.domains():
        if d.cli:
            domain.resolve(d.cli)(groups)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from .access import AuthError
    from .domain import DomainError
    from .mail import AddressError, MailSettingsError
    from .params import ParameterError
    from .runner import JobBusy, RunError
    from .schedule import ScheduleError
    from .store import StoreError

    try:
        parser = build_parser()
    except DomainError as exc:  # a broken plug-in: say which, whatever the command
        print(f"painel: {exc}", file=sys.stderr)
        return exits.USAGE
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except JobBusy as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return exits.BUSY
    except CliError as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return exc.code
    except (
        ConfigError,
        ParameterError,
        RunError,
        AuthError,
        ScheduleError,
        StoreError,
        DomainError,
        MailSettingsError,
        AddressError,
    ) as exc:
        print(f"painel: {exc}", file=sys.stderr)
        return exits.USAGE
    except KeyboardInterrupt:
        print("painel: interrupted", file=sys.stderr)
        return exits.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
