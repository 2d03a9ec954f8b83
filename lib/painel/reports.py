"""Report bursts: one report notebook, executed by Papermill once per scope, delivered per scope.

The seed's secretariat split one report into hundreds of files per SRE and school by hand, on
every update. ``painel report burst NAME`` makes that a job:

1. **What, from which data.** ``NAME`` is a :class:`painel.domain.Report` some domain declares;
   its notebook is ``notebooks/reports/NAME.ipynb``. The burst reads the dataset's current
   version once and *pins* it: every scope's report reads that version, even if a newer one
   is published meanwhile. The **period** (the dump's date, else the version's publication
   day) names the burst: ``NAME:PERIOD``.
2. **Which scopes.** The report's ``scopes`` function lists the units (each SRE, each school)
   from the whole dataset; ``--kind``, ``--only`` and ``--limit`` narrow them.
3. **One scope.** Papermill executes the notebook with ``escopo``, ``escopo_id``, ``versao``
   and ``saida`` as parameters, in a fresh kernel. The notebook reads the data through a
   viewer that holds exactly that scope's grant (:func:`open_scope`), so the scoped query
   layer keeps every other scope's rows out, whatever the notebook's SQL says. The executed
   notebook becomes an HTML file (nbconvert, no code), the notebook writes its spreadsheet,
   and Chromium prints a PDF when it is installed (``--pdf auto``).
4. **Delivery.** The files move, each atomically, into ``<out>/NAME/PERIOD/<scope folder>/``
   (``PAINEL_REPORTS_DIR``, default ``<home>/relatorios``): a killed burst leaves no half
   file there. Each active user with an e-mail whose grants hold exactly that scope gets one
   mail with the files attached, through the outbox (:mod:`painel.mail`), which sends each
   mail once. Every scope mailed is an audit entry naming its recipients (the reports list
   students).
5. **Workers.** ``--workers`` processes (default: the machine's cores) each run one scope at a
   time.
6. **Re-runnable.** The ledger (``report_items``, one row per burst and scope) records what
   was made. Running the same burst again makes only what is not done (failed, never
   started, or left by a killed burst) and skips the rest; ``--force`` makes everything
   again, and the outbox's dedup keys still send no mail twice.
7. **Summary.** made, failed, skipped, mails queued and sent; also written as
   ``resumo.csv`` beside the folders. A failed scope names its error; the executed
   notebook of a failed scope is kept under ``<home>/runs/reports/``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .config import HOME_ENV, PROJECT_ENV, TIMEZONE, Paths
from .domain import Report, reports
from .opstate import OpState, iso, utcnow
from .store import Store

PDF_MODES = ("auto", "yes", "no")
PDF_TIMEOUT_S = 60.0
STATUSES = ("running", "done", "failed")


class ReportError(Exception):
    """A burst that cannot start (unknown report, no data, a bad option); one line."""


@dataclass(frozen=True)
class ReportScope:
    """One unit a report is made for."""

    kind: str  # the grant kind: "sre", "school"
    id: str
    label: str  # how people name it: "SRE Uberlândia", "E.E. Dom Pedro II"
    folder: str  # its folder under the burst's, e.g. "sre-45-uberlandia/escola-31212401-ee-dom-pedro-ii"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def slug(text: str, limit: int = 60) -> str:
    """``E.E. Dom Pedro II – Polo`` -> ``ee-dom-pedro-ii-polo``: ASCII, lower case, a safe
    folder name on any file system."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"[.']", "", ascii_text.lower())
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return out[:limit].rstrip("-") or "sem-nome"


# ---- inside a report notebook ---------------------------------------------------------------
def open_scope(dataset: str, kind: str, scope_id: str, version: str = "") -> Any:
    """The dataset as the scope's own users see it (a :class:`painel.scope.ScopedDataset`
    whose viewer holds only ``dataset:kind:scope_id``), at ``version`` (the burst's) or
    the current one. A report notebook reads its data only through this."""
    from .access import Grant, Viewer
    from .scope import ScopedDataset

    if not str(scope_id).strip():
        raise ReportError("escopo_id is empty: the burst passes the scope's id")
    grant = Grant.parse(f"{dataset}:{kind}:{scope_id}")
    viewer = Viewer(f"relatorio:{kind}:{scope_id}", "analyst", frozenset({grant}))
    store = Store(Paths.from_env().store)
    return ScopedDataset(viewer, dataset, store, version=version or None)


_EXCEL_FORMATS = {
    "id": "0",
    "int": "#,##0",
    "decimal": "#,##0.0",
    "percent": "0.0%",  # values 0-100, written as fractions
    "date": "dd/mm/yyyy",
}


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a report's spreadsheet: ``columns`` are ``(key, label, kind)`` with
    kind text, id, int, decimal, percent (0-100) or date."""

    name: str
    rows: Any  # a pandas DataFrame
    columns: Sequence[tuple[str, str, str]]


def write_workbook(path: str | Path, sheets: Sequence[Sheet]) -> Path:
    """The report's spreadsheet: pt-BR headers, real numbers, dates and percentages, a
    frozen header and a filter on every sheet."""
    import xlsxwriter

    target = Path(path).with_suffix(".xlsx")
    wb = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    header = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79"})
    formats = {k: wb.add_format({"num_format": f}) for k, f in _EXCEL_FORMATS.items()}
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name[:31])
        for i, (_key, label, _kind) in enumerate(sheet.columns):
            ws.set_column(i, i, max(10, min(50, len(label) + 4)))
            ws.write_string(0, i, label, header)
        ws.freeze_panes(1, 0)
        keys = [c[0] for c in sheet.columns]
        kinds = [c[2] for c in sheet.columns]
        for r, row in enumerate(sheet.rows[keys].itertuples(index=False, name=None), start=1):
            for i, value in enumerate(row):
                if value is None or value != value:
                    continue
                if hasattr(value, "item"):  # numpy scalars
                    value = value.item()
                kind = kinds[i]
                if kind == "date" and hasattr(value, "year"):
                    value = dt.datetime(value.year, value.month, value.day)
                    ws.write_datetime(r, i, value, formats["date"])
                elif kind in ("int", "decimal", "id", "percent") and isinstance(value, int | float):
                    number = value / 100.0 if kind == "percent" else value
                    ws.write_number(r, i, number, formats[kind])
                else:
                    ws.write_string(r, i, str(value))
        ws.autofilter(0, 0, max(len(sheet.rows), 1), max(len(sheet.columns) - 1, 0))
    wb.close()
    return target


# ---- the burst -------------------------------------------------------------------------------
@dataclass
class ItemResult:
    scope: str
    label: str
    status: str  # done | failed
    folder: str = ""
    files: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    mail_keys: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0


@dataclass
class BurstSummary:
    report: str
    period: str
    version: str
    folder: Path
    scopes: int = 0
    made: list[ItemResult] = field(default_factory=list)
    failed: list[ItemResult] = field(default_factory=list)
    skipped: int = 0
    mails_queued: int = 0
    mails_sent: int = 0
    mail_problem: str | None = None
    duration_s: float = 0.0
    workers: int = 1

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = [
            f"report {self.report}, period {self.period} (version {self.version}): "
            f"{self.scopes} scope(s), {self.workers} worker(s), {self.duration_s:.1f} s",
            f"  made {len(self.made)}, failed {len(self.failed)}, "
            f"skipped {self.skipped} (done before)",
            f"  mail: {self.mails_queued} queued, {self.mails_sent} sent"
            + (f" ({self.mail_problem})" if self.mail_problem else ""),
            f"  folder: {self.folder}",
        ]
        for item in self.failed[:20]:
            out.append(f"  FAILED {item.scope} ({item.label}): {item.error}")
        if len(self.failed) > 20:
            out.append(f"  ... and {len(self.failed) - 20} more (resumo.csv lists them)")
        return out


def find_report(paths: Paths, name: str) -> tuple[Report, Path]:
    known = reports()
    spec = known.get(name)
    notebook = paths.report_notebooks / f"{name}.ipynb"
    if spec is None or not notebook.is_file():
        raise ReportError(
            f"unknown report {name!r} (reports: {', '.join(sorted(known)) or 'none'})"
        )
    return spec, notebook


def period_of(manifest: dict[str, Any]) -> str:
    """The burst's period: the dump's date the version holds, else the day (São Paulo) it
    was published."""
    day = str((manifest.get("notes") or {}).get("dump_date") or "")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        return day
    published = manifest.get("published_at")
    if published:
        moment = dt.datetime.fromisoformat(str(published))
        return moment.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    raise ReportError("the dataset's version names no date to report on")


def list_scopes(spec: Report, store: Store, version: str) -> list[ReportScope]:
    """Every unit the report is made for, from the whole dataset at ``version``."""
    from .access import Viewer
    from .domain import resolve
    from .scope import ScopedDataset

    ds = ScopedDataset(Viewer("relatorio", "admin"), spec.dataset, store, version=version)
    try:
        scopes = list(resolve(spec.scopes)(ds))
    finally:
        ds.close()
    keys = [s.key for s in scopes]
    if len(set(keys)) != len(keys):
        raise ReportError(f"report {spec.name!r}: its scopes function lists a scope twice")
    return [s for s in scopes if s.kind in spec.kinds]


def recipients_of(opstate: OpState, dataset: str, scope: ReportScope) -> list[tuple[str, str]]:
    """``(username, address)`` of active users with an address whose grants hold exactly
    this scope, by username."""
    grant = f"{dataset}:{scope.kind}:{scope.id}"
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT u.username, u.email FROM users u JOIN grants g ON g.username = u.username "
            "WHERE g.grant_ = ? AND u.disabled = 0 AND u.email != '' ORDER BY u.username",
            [grant],
        ).fetchall()
    return [(r["username"], r["email"]) for r in rows]


def pdf_printer(mode: str) -> str | None:
    """The Chromium that prints PDFs, or None (``no``, or ``auto`` without one); ``yes``
    without one fails."""
    if mode not in PDF_MODES:
        raise ReportError(f"--pdf must be one of {', '.join(PDF_MODES)}, got {mode!r}")
    if mode == "no":
        return None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and mode == "yes":
        raise ReportError("--pdf yes: no chromium on this machine (apt-get install chromium)")
    return found


def burst(
    paths: Paths,
    name: str,
    *,
    kinds: Sequence[str] = (),
    only: Sequence[str] = (),
    limit: int | None = None,
    workers: int | None = None,
    pdf: str = "auto",
    mail: bool = True,
    force: bool = False,
    fork: bool = True,
    actor: str = "painel",
    log: Callable[[str], None] = lambda _line: None,
) -> BurstSummary:
    """Make report ``name`` for its scopes (see the module's text); returns the summary.
    Raises :class:`ReportError` before anything is made when it cannot start, and
    :class:`painel.runner.JobBusy` when the same report's burst is already running."""
    from .runner import job_lock

    paths.ensure()
    spec, notebook = find_report(paths, name)
    printer = pdf_printer(pdf)
    store = Store(paths.store)
    version = store.current_version(spec.dataset)
    if version is None:
        raise ReportError(f"dataset {spec.dataset!r} has no published version to report on")
    manifest = store.manifest(spec.dataset, version)
    period = period_of(manifest)
    burst_key = f"{name}:{period}"
    workers = max(1, workers or os.cpu_count() or 1)
    out = paths.reports_out / name / period
    opstate = OpState(paths.opstate)
    t0 = time.monotonic()
    with job_lock(paths, f"report-{name}"):
        scopes = list_scopes(spec, store, version)
        unknown = [k for k in kinds if k not in spec.kinds]
        if unknown:
            raise ReportError(
                f"report {name!r} is made for {', '.join(spec.kinds)}, not {unknown[0]!r}"
            )
        if kinds:
            scopes = [s for s in scopes if s.kind in kinds]
        if only:
            wanted = set(only)
            scopes = [s for s in scopes if s.key in wanted or s.id in wanted]
            missing = wanted - {s.key for s in scopes} - {s.id for s in scopes}
            if missing:
                raise ReportError(f"report {name!r} has no scope {sorted(missing)[0]!r}")
        if limit is not None:
            scopes = scopes[: max(0, limit)]
        summary = BurstSummary(name, period, version, out, scopes=len(scopes), workers=workers)
        done = _done_scopes(opstate, burst_key) if not force else set()
        todo = [s for s in scopes if s.key not in done]
        summary.skipped = len(scopes) - len(todo)
        out.mkdir(parents=True, exist_ok=True)
        _clear_partial(out)
        log(
            f"report {name} for {len(scopes)} scope(s) of {spec.dataset} {version} "
            f"(period {period}): {len(todo)} to make, {summary.skipped} done before"
        )
        tasks = [
            _Task(
                home=str(paths.home),
                project=str(paths.project),
                report=asdict(spec),
                notebook=str(notebook),
                scope=asdict(s),
                version=version,
                burst=burst_key,
                period=period,
                out=str(out),
                pdf=printer,
                mail=mail,
                actor=actor,
            )
            for s in todo
        ]
        for result in _run_all(tasks, workers, log, fork):
            (summary.made if result.status == "done" else summary.failed).append(result)
            summary.mails_queued += len(result.mail_keys)
        _clear_partial(out)
        _write_summary(out, opstate, burst_key, scopes)
        if mail:  # this run's mail, and any a killed run of this burst left queued
            keys = _queued_keys(opstate, burst_key)
            if keys:
                summary.mails_sent, summary.mail_problem = _deliver(paths, opstate, keys)
        summary.duration_s = time.monotonic() - t0
        from . import audit

        audit.record(
            opstate,
            "report_burst",
            actor=actor,
            target=burst_key,
            detail={
                "versao": version,
                "escopos": len(scopes),
                "feitos": len(summary.made),
                "falharam": len(summary.failed),
                "ignorados": summary.skipped,
                "emails": summary.mails_queued,
                "pasta": str(out),
            },
        )
    return summary


def _done_scopes(opstate: OpState, burst_key: str) -> set[str]:
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT scope FROM report_items WHERE burst = ? AND status = 'done'", [burst_key]
        ).fetchall()
    return {r["scope"] for r in rows}


def _clear_partial(out: Path) -> None:
    """What a killed burst left half made (it never reached a scope's folder)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(out / ".parcial")


def _worker_env(env: dict[str, str]) -> None:
    os.environ.update(env)


def _run_all(
    tasks: list[_Task], workers: int, log: Callable[[str], None], fork: bool
) -> list[ItemResult]:
    """Every task in ``workers`` processes; with ``fork``, their kernels are forks of one warm
    zygote (:mod:`painel.forkkernel`) instead of new Python processes."""
    import multiprocessing

    from .forkkernel import Zygote, ZygoteError

    results: list[ItemResult] = []
    if not tasks:
        return results
    zygote = None
    if fork:
        try:
            zygote = Zygote()
        except ZygoteError as exc:  # the burst goes on with kernels started afresh
            log(f"kernels start afresh: {exc}")
    try:
        env = zygote.env() if zygote else {}
        with _pool(workers, env, multiprocessing) as pool:
            _drain(pool, tasks, workers, log, results)
    finally:
        if zygote:
            zygote.stop()
    return results


def _pool(workers: int, env: dict[str, str], multiprocessing: Any) -> ProcessPoolExecutor:
    # spawn: a worker starts clean (no inherited connections or threads of this process)
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_env,
        initargs=(env,),
    )


def _drain(
    pool: ProcessPoolExecutor,
    tasks: list[_Task],
    workers: int,
    log: Callable[[str], None],
    results: list[ItemResult],
) -> None:
    pending: dict[Future[ItemResult], _Task] = {}
    queue = list(reversed(tasks))
    while queue or pending:
        while queue and len(pending) < workers * 2:
            task = queue.pop()
            pending[pool.submit(make_one, task)] = task
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in finished:
            task = pending.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died: that scope failed
                from .runner import summarize_exception

                scope = ReportScope(**task.scope)
                result = ItemResult(
                    scope.key, scope.label, "failed", error=summarize_exception(exc)
                )
                _ledger_failed(task, result.error or "")
            results.append(result)
            _progress(log, result, len(results), len(tasks))


def _progress(log: Callable[[str], None], result: ItemResult, n: int, total: int) -> None:
    if result.status == "failed":
        log(f"[{n}/{total}] {result.scope} FAILED: {result.error}")
    elif n == total or n % 50 == 0:
        log(f"[{n}/{total}] {result.scope} done")


# ---- one scope (in a worker process) ---------------------------------------------------------
@dataclass(frozen=True)
class _Task:
    home: str
    project: str
    report: dict[str, Any]
    notebook: str
    scope: dict[str, str]
    version: str
    burst: str
    period: str
    out: str
    pdf: str | None
    mail: bool
    actor: str


def make_one(task: _Task) -> ItemResult:
    """Execute, render and deliver one scope's report; never raises (the error is the result's)."""
    from .runner import summarize_exception

    paths = Paths(Path(task.home), Path(task.project))
    opstate = OpState(paths.opstate)
    scope = ReportScope(**task.scope)
    spec = Report(**{**task.report, "kinds": tuple(task.report["kinds"])})
    result = ItemResult(scope.key, scope.label, "failed")
    t0 = time.monotonic()
    with opstate.connect() as con:
        con.execute(
            "INSERT INTO report_items (burst, scope, status, version, attempts, pid, started_at) "
            "VALUES (?, ?, 'running', ?, 1, ?, ?) ON CONFLICT (burst, scope) DO UPDATE SET "
            "status = 'running', version = excluded.version, attempts = attempts + 1, "
            "pid = excluded.pid, started_at = excluded.started_at, error = NULL",
            [task.burst, scope.key, task.version, os.getpid(), iso(utcnow())],
        )
    out = Path(task.out)
    work = out / ".parcial" / slug(scope.key)
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        files = _render(paths, spec, Path(task.notebook), scope, task, work)
        folder = out / scope.folder
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:  # each file whole or not at all: rename within one file system
            os.replace(f, folder / f.name)
        result.folder = scope.folder
        result.files = [f.name for f in files]
        if task.mail:
            result.recipients, result.mail_keys = _queue_mail(
                opstate, spec, scope, task, [folder / f.name for f in files]
            )
        result.status = "done"
    except Exception as exc:  # noqa: BLE001 - the scope fails, the burst goes on
        result.error = summarize_exception(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.duration_s = time.monotonic() - t0
    with opstate.connect() as con:
        con.execute(
            "UPDATE report_items SET status = ?, folder = ?, files = ?, recipients = ?, "
            "error = ?, finished_at = ?, duration_s = ? WHERE burst = ? AND scope = ?",
            [
                result.status,
                result.folder or None,
                json.dumps(result.files),
                len(result.mail_keys),
                result.error,
                iso(utcnow()),
                round(result.duration_s, 3),
                task.burst,
                scope.key,
            ],
        )
    return result


def _ledger_failed(task: _Task, error: str) -> None:
    paths = Paths(Path(task.home), Path(task.project))
    scope = ReportScope(**task.scope)
    with OpState(paths.opstate).connect() as con:
        con.execute(
            "UPDATE report_items SET status = 'failed', error = ?, finished_at = ? "
            "WHERE burst = ? AND scope = ?",
            [error, iso(utcnow()), task.burst, scope.key],
        )


def file_stem(report: str, scope: ReportScope, period: str) -> str:
    return f"{report}_{scope.kind}-{slug(scope.id, 24)}_{period}"


def _render(
    paths: Paths, spec: Report, notebook: Path, scope: ReportScope, task: _Task, work: Path
) -> list[Path]:
    """Papermill, then HTML (and PDF); the notebook writes its own spreadsheet into ``work``."""
    from .runner import execute

    stem = file_stem(spec.name, scope, task.period)
    executed = work / f"{stem}.ipynb"
    env = {HOME_ENV: str(paths.home), PROJECT_ENV: str(paths.project)}
    try:
        execute(
            notebook,
            executed,
            {
                "escopo": scope.kind,
                "escopo_id": scope.id,
                "versao": task.version,
                "saida": str(work / stem),
            },
            cwd=paths.project,
            env=env,
            kernel_log=work / "kernel.log",
            report_mode=True,
        )
    except Exception:
        keep = paths.runs / "reports" / task.burst.replace(":", "_")
        keep.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            shutil.copyfile(executed, keep / f"{slug(scope.key)}.ipynb")
        raise
    page = work / f"{stem}.html"
    page.write_text(to_html(executed, f"{spec.title} – {scope.label}"), encoding="utf-8")
    files = [page]
    for extra in sorted(work.glob(f"{stem}.*")):
        if extra.suffix in (".xlsx", ".csv") and extra not in files:
            files.append(extra)
    if task.pdf:
        files.append(print_pdf(task.pdf, page, work / f"{stem}.pdf"))
    return files


_CSS = """
body{font-family:'Segoe UI',Roboto,Arial,sans-serif;color:#1b2733;max-width:1000px;margin:24px auto;
padding:0 16px;font-size:14px;line-height:1.45}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #1F4E79;
padding-bottom:4px}.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th{background:#1F4E79;color:#fff;text-align:left;padding:5px 8px;font-weight:600}
td{padding:4px 8px;border-bottom:1px solid #dde3ea}td:first-child{min-width:7em}td.n,th.n{text-align:right;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #cfd8e3;border-radius:6px;
padding:8px 12px;min-width:140px;flex:1}.card b{display:block;font-size:20px}.card span{color:#555;font-size:12px}
.wrap{overflow-x:auto;max-width:100%}.bar{background:#dde7f2;height:10px;border-radius:3px;min-width:60px}.bar i{display:block;height:10px;
background:#1F4E79;border-radius:3px}.note{color:#555;font-size:12px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def to_html(executed: Path, title: str) -> str:
    """The executed notebook's outputs as one self-contained page (no code, no prompts)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_markdown=True,  # the notebook's notes are for analysts, not the report's readers
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def print_pdf(chromium: str, page: Path, target: Path) -> Path:
    """``page`` printed to ``target`` by headless Chromium (A4, no header or footer)."""
    with tempfile.TemporaryDirectory(prefix="painel-pdf-") as profile:
        proc = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-extensions",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={target}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=PDF_TIMEOUT_S,
            check=False,
        )
    if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise ReportError(f"chromium could not print {page.name} to PDF: {last}")
    return target


def _queue_mail(
    opstate: OpState, spec: Report, scope: ReportScope, task: _Task, files: list[Path]
) -> tuple[list[str], list[str]]:
    from . import audit
    from .mail import Mail, html_document, queue

    people = recipients_of(opstate, spec.dataset, scope)
    if not people:
        return [], []
    day = dt.date.fromisoformat(task.period).strftime("%d/%m/%Y")
    attach = [f for f in files if f.suffix in (".xlsx", ".pdf")] or files
    subject = f"{spec.title} – {scope.label} – dados de {day}"
    names = ", ".join(f.name for f in attach)
    text = (
        f"Olá,\n\nSegue o {spec.title.lower()} de {scope.label}, com os dados de {day}.\n"
        f"Arquivos anexos: {names}.\n\n"
        "Este relatório lista estudantes: guarde-o apenas em local de acesso restrito.\n\n"
        "Mensagem automática do painel; não é preciso responder.\n"
    )
    body = (
        f"<p>Olá,</p><p>Segue o {html.escape(spec.title.lower())} de "
        f"<b>{html.escape(scope.label)}</b>, com os dados de {day}.</p>"
        f"<p>Arquivos anexos: {html.escape(names)}.</p>"
        "<p>Este relatório lista estudantes: guarde-o apenas em local de acesso restrito.</p>"
        "<p style='color:#666'>Mensagem automática do painel; não é preciso responder.</p>"
    )
    keys = []
    for username, address in people:
        key = f"report:{task.burst}:{scope.key}:{username}"
        queue(
            opstate,
            Mail(
                to=address,
                subject=subject,
                text=text,
                html=html_document(subject, body),
                kind=f"report.{spec.name}",
                username=username,
                attachments=tuple(str(f) for f in attach),
            ),
            key,
        )
        keys.append(key)
    audit.record(
        opstate,
        "report_sent",
        actor=task.actor,
        target=f"{task.burst}:{scope.key}",
        detail={
            "unidade": scope.label,
            "destinatarios": [u for u, _ in people],
            "arquivos": [f.name for f in attach],
            "versao": task.version,
        },
    )
    return [u for u, _ in people], keys


def _queued_keys(opstate: OpState, burst_key: str) -> list[str]:
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT dedup_key FROM mail_outbox WHERE dedup_key LIKE ? ESCAPE '\\' "
            "AND status IN ('pending', 'sending')",
            ["report:" + burst_key.replace("%", "\\%").replace("_", "\\_") + ":%"],
        ).fetchall()
    return [r["dedup_key"] for r in rows]


def _deliver(paths: Paths, opstate: OpState, keys: list[str]) -> tuple[int, str | None]:
    from .mail import MailSettingsError, deliver, load_settings

    try:
        settings = load_settings(paths)
        report = deliver(opstate, settings, keys=keys)
    except MailSettingsError as exc:
        return 0, f"mail left queued: {exc}"
    problem = None if report.ok else report.summary()
    return len(report.sent), problem


def _write_summary(out: Path, opstate: OpState, burst_key: str, scopes: list[ReportScope]) -> None:
    """``resumo.csv``: every scope of the burst, its state, files, recipients and error."""
    with opstate.connect() as con:
        rows = {
            r["scope"]: r
            for r in con.execute("SELECT * FROM report_items WHERE burst = ?", [burst_key])
        }
    tmp = out / ".resumo.csv.tmp"
    labels = {"done": "feito", "failed": "falhou", "running": "interrompido"}
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["escopo", "unidade", "situacao", "pasta", "arquivos", "emails", "erro"])
        for s in scopes:
            r = rows.get(s.key)
            w.writerow(
                [
                    s.key,
                    s.label,
                    labels.get(r["status"], r["status"]) if r else "não feito",
                    (r["folder"] or "") if r else "",
                    " ".join(json.loads(r["files"])) if r else "",
                    r["recipients"] if r else 0,
                    (r["error"] or "") if r else "",
                ]
            )
    os.replace(tmp, out / "resumo.csv")


def items(opstate: OpState, burst_key: str) -> list[dict[str, Any]]:
    """The ledger of one burst, by scope."""
    with opstate.connect() as con:
        return [
            dict(r)
            for r in con.execute(
                "SELECT * FROM report_items WHERE burst = ? ORDER BY scope", [burst_key]
            )
        ]
