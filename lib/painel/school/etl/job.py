"""One run of the ``school`` job: land the dumps not yet loaded, read them under the contract,
gate on quarantine and volume, build the tables and the checks, publish.

The newest dump is loaded in full; older dumps not yet loaded (a day the job did not run)
give only their daily attendance, so days without presence (Busca Ativa) count every school
day. Nothing is published unless every gate passes: the previous version stays current.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ... import checks
from ...config import Paths
from ...runctx import RunContext
from ...store import Build, Store
from .. import DATASET, TABLES, contract
from ..landing import Landed, LandingError, pending, prune
from . import model, rules
from .read import DumpFault, DumpLoad, read_dump
from .settings import Settings, from_parameters

JOB = "school"
PARAMETERS = (
    "source",
    "directory",
    "ftp_host",
    "ftp_port",
    "ftp_user",
    "ftp_password_env",
    "timeout_s",
    "stable_wait_s",
    "dump_date",
    "allow_older",
    "reload",
    "max_quarantine_share",
    "volume_threshold",
    "volume_min_rows",
    "accept_volume_change",
    "prazo_lancamento_dias",
    "dias_busca_ativa",
    "max_aulas_dia_componente",
    "pontos_ano",
    "idade_max_acima",
    "capacidade_padrao",
    "media_pct",
    "freq_minima_pct",
    "risco_faltas_pct",
    "idade_base",
    "integral_min",
    "memory_limit",
    "keep_landed",
)


def parameters(namespace: dict[str, Any]) -> dict[str, Any]:
    """The job's parameter values out of the notebook's namespace (its ``parameters`` cell)."""
    return {k: namespace[k] for k in PARAMETERS if k in namespace}


class SchoolJobError(Exception):
    """The run cannot publish; the one-line message names the culprit."""


@dataclass
class Job:
    paths: Paths
    settings: Settings
    store: Store
    landed: list[Landed] = field(default_factory=list)
    published_day: dt.date | None = None
    loads: list[DumpLoad] = field(default_factory=list)
    run: RunContext = field(default_factory=RunContext.from_env)
    log: Callable[[str], None] = print

    @property
    def landing_dir(self) -> Path:
        return self.paths.home / "landing" / "school"

    @property
    def work_dir(self) -> Path:
        return self.paths.work / "school"

    @property
    def day(self) -> dt.date:
        return self.landed[-1].day

    # ---- 1. land -------------------------------------------------------------------------
    def land(self) -> list[Landed]:
        self.landing_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.landed = pending(
                self.settings.source,
                self.landing_dir,
                self.published_day,
                day=self.settings.day,
                allow_older=self.settings.allow_older,
                reload=self.settings.reload,
            )
        except LandingError as exc:
            raise SchoolJobError(str(exc)) from None
        if not self.landed:
            raise SchoolJobError("no dump to load")
        return self.landed

    # ---- 2-3. read, gate, build --------------------------------------------------------------
    def build(self, build: Build) -> None:
        """Load the landed dumps into ``build`` (a carry-over build without a copy)."""
        s = self.settings
        con = build.con
        con.execute(f"SET memory_limit = '{s.memory_limit}'")
        work = self.work_dir
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        raw_db = work / f"raw-{build.version}.duckdb"
        con.execute(f"ATTACH '{raw_db}' AS raw")
        con.execute(f"SET temp_directory = '{work / 'tmp'}'")
        has_prev = build.base_path is not None
        if has_prev:
            con.execute(f"ATTACH '{build.base_path}' AS prev (READ_ONLY)")
        try:
            self._load(con, has_prev)
            self._model(con, build, has_prev)
        finally:
            with contextlib.suppress(Exception):
                con.execute("DETACH raw")
            if has_prev:
                with contextlib.suppress(Exception):
                    con.execute("DETACH prev")
            with contextlib.suppress(FileNotFoundError):
                raw_db.unlink()
            # the scratch CSVs go; DuckDB's temp_directory stays until the build's connection
            # closes (its CHECKPOINT at the publish removes its own spill files there); the
            # next run clears what is left
            shutil.rmtree(work / "csv", ignore_errors=True)

    def _load(self, con: Any, has_prev: bool) -> None:
        scratch = self.work_dir / "csv"
        meter = self.run.meter("ler o arquivo", len(contract.FILES) + len(self.landed) - 1)
        con.execute(
            "CREATE TABLE raw.diaria_hist (ID_MATRICULA BIGINT, DT_AULA DATE, "
            "QT_AULAS_PREVISTAS INTEGER, QT_FALTAS INTEGER)"
        )
        for older in self.landed[:-1]:
            self.log(f"{older.path.name}: daily attendance only (a day not loaded before)")
            try:
                load = read_dump(
                    con,
                    "raw",
                    older.path,
                    scratch,
                    files=("frequencia_diaria.csv",),
                    sha256=older.sha256,
                )
            except DumpFault as exc:
                raise self._fault(exc, older) from None
            con.execute("INSERT INTO raw.diaria_hist SELECT * FROM raw.frequencia_diaria")
            con.execute("DROP TABLE raw.frequencia_diaria")
            self.loads.append(load)
            meter.advance()
        newest = self.landed[-1]
        self.log(f"{newest.path.name}: loading")
        try:
            load = read_dump(
                con,
                "raw",
                newest.path,
                scratch,
                meter=lambda _n: meter.advance(),
                sha256=newest.sha256,
            )
        except DumpFault as exc:
            raise self._fault(exc, newest) from None
        self.loads.append(load)
        self._gate_quarantine(load)
        self._gate_volume(con, load, has_prev)

    def _fault(self, exc: DumpFault, landed: Landed) -> SchoolJobError:
        """The run's error for a fault of ``landed``; a corrupt copy downloaded into the landing
        directory goes, so the next run downloads it again (a local source is left as it is)."""
        if exc.corrupt and landed.path.parent == self.landing_dir:
            with contextlib.suppress(OSError):
                landed.path.unlink()
                self.log(f"{landed.path.name}: removed from the landing, to be downloaded again")
        return SchoolJobError(str(exc))

    def _gate_quarantine(self, load: DumpLoad) -> None:
        limit = self.settings.max_quarantine_share
        for f in load.files.values():
            if f.quarantined:
                self.log(
                    f"{f.name}: {f.quarantined} of {f.rows} rows quarantined ({f.first_problem})"
                )
            if f.rows and f.quarantined_share > limit:
                raise SchoolJobError(
                    f"{load.path.name}: {f.name}: {f.quarantined} of {f.rows} rows are bad "
                    f"({100 * f.quarantined_share:.2f}%, over the {100 * limit:g}% limit); "
                    f"first: {f.first_problem}"
                )

    def _gate_volume(self, con: Any, load: DumpLoad, has_prev: bool) -> None:
        if not has_prev or self.settings.accept_volume_change:
            return
        prev = {
            r[0]: (r[1], r[2])
            for r in con.execute(
                "SELECT arquivo, linhas, data_dump FROM prev.cargas WHERE data_dump = "
                "(SELECT max(data_dump) FROM prev.cargas WHERE completa)"
            ).fetchall()
        }
        s = self.settings
        for f in load.files.values():
            if f.name not in prev or not f.present:
                continue
            before, when = prev[f.name]
            delta = f.rows - before
            if abs(delta) < s.volume_min_rows or before == 0:
                continue
            if abs(delta) / before > s.volume_threshold:
                raise SchoolJobError(
                    f"{load.path.name}: {f.name} has {f.rows} rows against {before} in the "
                    f"published dump of {when:%d/%m/%Y} ({100 * delta / before:+.1f}%, over "
                    f"{100 * s.volume_threshold:g}%): held; run with "
                    "-p accept_volume_change=true to publish it"
                )

    def _model(self, con: Any, build: Build, has_prev: bool) -> None:
        s = self.settings
        day = self.day
        self.log("building tables")
        con.execute(
            "CREATE TABLE raw.diaria AS SELECT * FROM raw.diaria_hist UNION ALL "
            "SELECT * FROM raw.frequencia_diaria"
        )
        year = model.base_tables(con, day, s.rules)
        model.per_matricula(con, s.rules)
        model.presence(con, has_prev, year)
        newest = self.loads[-1]
        has_teachers = newest.files["docente_turma.csv"].present
        if not has_teachers:
            con.execute(
                "CREATE TABLE raw.docente_turma (CO_PESSOA_FISICA BIGINT, ID_TURMA BIGINT, "
                "CO_COMPONENTE VARCHAR, TP_TIPO_DOCENTE INTEGER)"
            )
        rules.run(con, s.rules, has_teachers, year)
        model.published(con, day, year, s.rules, has_prev)
        quarantine_places(con)
        con.execute(
            "CREATE TABLE quarentena AS SELECT q.data_dump, q.arquivo, q.linha, q.motivo, "
            "q.linha_original, q.sre_id, q.school_id FROM raw.quarentena q "
            "ORDER BY q.sre_id, q.school_id, q.data_dump, q.arquivo, q.linha"
        )
        self._cargas(con, has_prev)
        build.source_extracted_at = datetime.combine(day, dt.time(), UTC)
        build.notes.update(
            {
                "dump_date": day.isoformat(),
                "dump": newest.path.name,
                "dump_sha256": newest.sha256,
                "dump_bytes": newest.size,
                "daily_only": [ld.path.name for ld in self.loads[:-1]],
                "files": {
                    f.name: {"rows": f.rows, "quarantined": f.quarantined, "bytes": f.size}
                    for f in newest.files.values()
                    if f.present
                },
                "rules_evaluated": sorted(rules.queries(s.rules, has_teachers, year)),
                "rules": dataclasses.asdict(s.rules),
            }
        )
        build.check(*gate_checks(s.rules.freq_minima_pct))

    def _cargas(self, con: Any, has_prev: bool) -> None:
        con.execute(
            "CREATE TABLE cargas (data_dump DATE, dump VARCHAR, sha256 VARCHAR, bytes BIGINT, "
            "arquivo VARCHAR, linhas BIGINT, quarentena BIGINT, completa BOOLEAN, "
            "carregado_em TIMESTAMPTZ)"
        )
        if has_prev:
            con.execute(
                "INSERT INTO cargas SELECT * FROM prev.cargas WHERE NOT (data_dump IN ? AND "
                "completa)",
                [[ld.day for ld in self.loads if ld.day is not None]],
            )
        now = datetime.now(UTC)
        rows = []
        for i, load in enumerate(self.loads):
            complete = i == len(self.loads) - 1
            for f in load.files.values():
                if f.present:
                    rows.append(
                        (
                            load.day,
                            load.path.name,
                            load.sha256,
                            load.size,
                            f.name,
                            f.rows,
                            f.quarantined,
                            complete,
                            now,
                        )
                    )
        con.executemany("INSERT INTO cargas VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # ---- 4. publish ----------------------------------------------------------------------------
    def publish(self, build: Build) -> str:
        version = build.publish()
        with contextlib.suppress(OSError):
            prune(self.landing_dir, self.settings.keep_landed)
        return version


def quarantine_places(con: Any) -> None:
    """The school (and its SRE) of each quarantined row whose raw line names one: its
    CO_ENTIDADE, or the school of its ID_TURMA or ID_MATRICULA among the rows kept, so SRE and
    school users see their own bad rows. A row that names none (a student's record, the
    calendar, a line too broken to tell) stays the central office's."""
    by_file = []
    for spec in contract.FILES.values():
        names = list(spec.column_names)
        for column, lookup in (
            ("CO_ENTIDADE", "SELECT school_id AS k, school_id FROM raw.esc"),
            ("ID_TURMA", "SELECT ID_TURMA AS k, CO_ENTIDADE AS school_id FROM raw.turma"),
            ("ID_MATRICULA", "SELECT id_matricula AS k, school_id FROM raw.mat"),
        ):
            if column in names:
                by_file.append((spec.name, names.index(column) + 1, lookup))
                break
    for name, position, lookup in by_file:
        con.execute(
            f"UPDATE raw.quarentena q SET school_id = l.school_id FROM ({lookup}) l "
            f"WHERE q.arquivo = ? AND l.k = TRY_CAST(trim(split_part(q.linha_original, "
            f"'{contract.DELIMITER}', {position}), '\" ') AS BIGINT)",
            [name],
        )
    con.execute(
        "UPDATE raw.quarentena q SET sre_id = e.sre_id FROM raw.esc e "
        "WHERE e.school_id = q.school_id"
    )


def gate_checks(freq_minima: float) -> list[checks.Check]:
    """The checks that gate the publish: totals reconcile, no orphans, indicators in bounds."""
    active = "SELECT count(*) FROM alunos WHERE ativa AND escolarizacao"

    def reconcile(name: str, total_sql: str, label: str) -> checks.Check:
        return checks.sql(
            name,
            f"SELECT a = b, a || ' vs ' || b FROM (SELECT ({active}) AS a, ({total_sql}) AS b)",
            label=label,
        )

    return [
        checks.not_empty("escolas"),
        checks.not_empty("alunos"),
        checks.unique("escolas", ["school_id"]),
        checks.unique("alunos", ["id_matricula"]),
        checks.unique("turmas", ["id_turma"]),
        checks.unique("boletim", ["id_matricula", "componente", "bimestre"]),
        reconcile(
            "agg_matricula reconciles with alunos",
            "SELECT coalesce(sum(ativas), 0) FROM agg_matricula",
            "Matrículas por etapa somam o total de matrículas ativas",
        ),
        reconcile(
            "agg_perfil reconciles with alunos",
            "SELECT coalesce(sum(n), 0) FROM agg_perfil",
            "O perfil dos estudantes soma o total de matrículas ativas",
        ),
        reconcile(
            "serie_diaria reconciles with alunos",
            "SELECT coalesce(sum(ativas), 0) FROM serie_diaria WHERE data_ref = "
            "(SELECT max(data_ref) FROM agg_matricula)",
            "A série diária do dia soma o total de matrículas ativas",
        ),
        checks.sql(
            "agg_rendimento reconciles with alunos",
            "SELECT a = b, a || ' vs ' || b FROM (SELECT (SELECT count(*) FROM alunos WHERE "
            "escolarizacao) AS a, (SELECT coalesce(sum(matriculas), 0) FROM agg_rendimento) AS b)",
            label="O rendimento soma todas as matrículas de escolarização",
        ),
        checks.sql(
            "inconsistencias reconcile with serie_inconsistencias",
            "SELECT a = b, a || ' vs ' || b FROM (SELECT (SELECT count(*) FROM inconsistencias) "
            "AS a, (SELECT coalesce(sum(n), 0) FROM serie_inconsistencias WHERE data_ref = "
            "(SELECT max(data_ref) FROM agg_matricula)) AS b)",
            label="As inconsistências do dia somam a série",
        ),
        checks.sql(
            "no orphan rows",
            "SELECT count(*) = 0, count(*) || ' rows without a school' FROM ("
            "SELECT school_id FROM alunos UNION ALL SELECT school_id FROM turmas UNION ALL "
            "SELECT school_id FROM inconsistencias UNION ALL SELECT school_id FROM boletim) x "
            "ANTI JOIN escolas USING (school_id)",
            label="Nenhuma linha sem escola",
        ),
        checks.between("alunos", "freq_pct", 0, 100),
        checks.between("alunos", "aproveitamento_pct", 0, 100),
        checks.between("turmas", "freq_pct", 0, 100),
        checks.between("turmas", "aproveitamento_pct", 0, 100),
        checks.sql(
            "dias_sem_presenca not negative",
            "SELECT count(*) = 0, count(*) || ' rows' FROM alunos WHERE dias_sem_presenca < 0",
            label="Dias sem presença nunca negativos",
        ),
    ]


def prepare(paths: Paths, parameters: dict[str, Any], *, log: Callable[[str], None] = print) -> Job:
    """Validate the parameters, find the published dump's date and land the dumps to load."""
    from ... import etl

    values = dict(parameters)
    if values.get("source", "local") == "local" and values.get("directory"):
        values["directory"] = str(etl.data_path(values["directory"]))
    settings = from_parameters(values)
    store = etl.store()
    job = Job(paths, settings, store, log=log)
    if store.current_version(DATASET) is not None:
        text = (store.manifest(DATASET).get("notes") or {}).get("dump_date")
        job.published_day = dt.date.fromisoformat(text) if text else None
    job.land()
    return job


def new_build(job: Job) -> Build:
    return job.store.build(DATASET, TABLES, carry_over=True, copy_base=False, run=job.run)


def run_once(
    paths: Paths, parameters: dict[str, Any], *, log: Callable[[str], None] = print
) -> str:
    """The job's steps in this process, outside the runner (the demo's earlier days, the
    notebooks' fixture, tests): prepare, build (abandoned on any error), publish. Returns
    the version published."""
    job = prepare(paths, parameters, log=log)
    build = new_build(job)
    try:
        job.build(build)
    except BaseException:
        build.abort()
        raise
    return job.publish(build)
