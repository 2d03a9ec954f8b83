"""One run of the ``procurement`` job: crawl PNCP's days not yet in the landing, classify the
items, build dataset ``procurement`` with the findings of R1-R9, gate, publish.

Nothing is published unless the crawl reached ``ate`` and every check passes: a PNCP outage
of hours stops the run after the last whole window (the landing keeps it, the next run
resumes there) and the published version stays as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ... import checks
from ...config import Paths
from ...opstate import OpState
from ...runctx import RunContext
from ...store import Build, Store
from .. import DATASET, TABLES, workflow
from . import model
from .crawl import Crawler, CrawlStats, days_between
from .landing import Landing, load_catalogue
from .settings import Settings, from_parameters

JOB = "procurement"
PARAMETERS = (
    "base_url",
    "uf",
    "modalidades",
    "por",
    "desde",
    "ate",
    "pace_s",
    "retries",
    "budget_s",
    "timeout_s",
    "catalogo",
    "limite_dobrado",
    "feriados_extras",
    "modelo_precisao",
    "modelo_dias",
    "modelo_max_por_classe",
    "memory_limit",
    *(f.name for f in model.rules.RuleParams.__dataclass_fields__.values()),
)


class ProcurementJobError(Exception):
    """The run cannot publish; the one-line message names the culprit."""


def parameters(namespace: dict[str, Any]) -> dict[str, Any]:
    """The job's parameter values out of the notebook's namespace (its ``parameters`` cell)."""
    return {k: namespace[k] for k in PARAMETERS if k in namespace}


@dataclass
class Job:
    paths: Paths
    settings: Settings
    store: Store
    days: list[dt.date] = field(default_factory=list)
    crawl_stats: CrawlStats | None = None
    client_stats: dict[str, Any] = field(default_factory=dict)
    classified: dict[str, Any] = field(default_factory=dict)
    run: RunContext = field(default_factory=RunContext.from_env)
    log: Callable[[str], None] = print

    @property
    def landing_path(self) -> Path:
        return self.paths.home / "landing" / "procurement" / "pncp.duckdb"

    @property
    def models_dir(self) -> Path:
        return self.paths.home / "models" / "procurement"

    def plan(self, today: dt.date | None = None) -> list[dt.date]:
        """The days to crawl: from the day after the last whole one in the journal (or
        ``desde``) to ``ate`` (default: yesterday)."""
        s = self.settings
        today = today or dt.date.today()
        last = s.ate or today - dt.timedelta(days=1)
        with Landing(self.landing_path) as land:
            done = land.last_complete_day("contratos")
        if s.desde is not None:
            first = s.desde
        elif done is not None:
            first = done + dt.timedelta(days=1)
        else:
            raise ProcurementJobError(
                "the landing is empty: set parameter desde (the first day to crawl), "
                "e.g. -p desde=2026-01-01 -p por=publicacao for a backfill"
            )
        self.days = days_between(first, last) if first <= last else []
        return self.days

    def crawl(self) -> CrawlStats:
        from ..pncp.client import PncpClient, PncpError

        s = self.settings
        client = PncpClient(
            s.base_url, pace=s.pace_s, retries=s.retries, budget_s=s.budget_s, timeout=s.timeout_s
        )
        meter = self.run.meter("coletar no PNCP", len(self.days) or 1)
        try:
            with Landing(self.landing_path) as land:
                crawler = Crawler(
                    client, land, uf=s.uf, modalidades=s.modalidades, por=s.por, log=self.log
                )
                try:
                    self.crawl_stats = crawler.run(self.days, meter)
                except PncpError as exc:
                    raise ProcurementJobError(
                        f"PNCP: {exc}. The windows fetched so far are kept; the next run "
                        "resumes there. Nothing was published."
                    ) from None
        finally:
            self.client_stats = client.stats.as_dict()
            client.close()
        return self.crawl_stats

    # ---- the item classifier -----------------------------------------------------------------
    def classifier(self, version_hint: str) -> model.Classifier | None:
        """The item classifier: the saved one when younger than ``modelo_dias``, else one
        trained now on the items that carry a catalogue code."""
        from .. import ml

        s = self.settings
        path = self.models_dir / "itens.joblib"
        clf = None
        if path.exists() and time.time() - path.stat().st_mtime < s.modelo_dias * 86400:
            try:
                clf = ml.ItemClassifier.load(path)
            except Exception as exc:  # noqa: BLE001 - a stale or foreign model is retrained
                self.log(f"{path.name}: not used ({exc}); training again")
        if clf is None:
            with Landing(self.landing_path) as land:
                # at most modelo_max_por_classe items per class (the newest), so training
                # stays minutes at the state's scale; the sample is deterministic
                train = land.con.execute(
                    "SELECT descricao, codigo_classe, numero_controle_pncp FROM ("
                    "SELECT i.descricao, k.codigo_classe, i.numero_controle_pncp, "
                    "row_number() OVER (PARTITION BY k.codigo_classe ORDER BY "
                    "i.data_inclusao DESC, i.numero_controle_pncp, i.numero_item) AS n "
                    "FROM itens i JOIN catalogo k ON k.codigo_item = i.catalogo_codigo_item "
                    "WHERE i.catalogo_id = 1) WHERE n <= ? ORDER BY ALL",
                    [s.modelo_max_por_classe],
                ).df()
            if len(train) < 200 or train["codigo_classe"].nunique() < 2:
                self.log(
                    f"item classifier: {len(train)} items with a catalogue code, too few to "
                    "train; items without one stay without a class"
                )
                self.classified["classificador"] = None
                return None
            start = time.monotonic()
            clf = ml.train(
                train["descricao"].tolist(),
                train["codigo_classe"].tolist(),
                groups=train["numero_controle_pncp"].tolist(),
                target_precision=s.modelo_precisao,
                dataset_version=version_hint,
            )
            self.models_dir.mkdir(parents=True, exist_ok=True)
            clf.save(path)
            self.log(
                f"item classifier trained on {len(train)} items in {time.monotonic() - start:.1f} s"
            )
        self.classified["classificador"] = clf.metadata.as_dict()

        def classify(frame: pd.DataFrame) -> pd.DataFrame:
            got = clf.predict(frame["descricao"].tolist())
            return pd.DataFrame(
                {
                    "numero_controle_pncp": frame["numero_controle_pncp"].to_numpy(),
                    "numero_item": frame["numero_item"].to_numpy(),
                    "codigo_classe": got["classe"].to_numpy(),
                    "prob": got["prob"].to_numpy(),
                }
            )

        return classify

    # ---- build ---------------------------------------------------------------------------------
    def build(self, build: Build) -> None:
        s = self.settings
        con = build.con
        con.execute(f"SET memory_limit = '{s.memory_limit}'")
        if s.catalogo:
            with Landing(self.landing_path) as land:
                load_catalogue(land, Path(s.catalogo))
        classify = self.classifier(build.version)
        self.log("building tables and running the rules")
        result = model.build(con, self.landing_path, s.model, classify)
        self.classified.update(result["classes"])
        cargas(con, self.landing_path)
        last = self.days[-1] if self.days else None
        build.source_extracted_at = (
            datetime.combine(last + dt.timedelta(days=1), dt.time(), UTC) if last else None
        )
        build.notes.update(
            {
                "dias": [self.days[0].isoformat(), self.days[-1].isoformat()] if self.days else [],
                "crawl": self.crawl_stats.as_dict() if self.crawl_stats else {},
                "api": self.client_stats,
                "classes": self.classified,
                "achados": result["achados"],
                "regras": json.loads(json.dumps(s.model.rules.__dict__)),
            }
        )
        build.check(*gate_checks())

    def publish(self, build: Build) -> str:
        version = build.publish()
        self.sync_findings(version)
        return version

    def sync_findings(self, version: str) -> workflow.SyncReport:
        """Carry the analysts' statuses over to the published findings (a finding the
        workflow has not seen yet reads as ``novo`` on the pages meanwhile, so a sync that
        fails here is made whole by the next run's)."""
        import duckdb

        con = duckdb.connect(str(self.store.version_path(DATASET, version)), read_only=True)
        try:
            rows = con.execute(
                f"SELECT {', '.join(workflow.FINDING_FIELDS)} FROM achados"
            ).fetchall()
        finally:
            con.close()
        try:
            report = workflow.sync(OpState(self.paths.opstate), version, rows)
        except Exception as exc:  # noqa: BLE001 - named, and the run fails with it
            raise ProcurementJobError(
                f"version {version} was published, but its findings did not reach the "
                f"analysts' workflow ({type(exc).__name__}: {exc}); the next run does it"
            ) from None
        self.log(
            f"findings: {report.novos} new, {report.vistos} seen again, "
            f"{report.encerrados} no longer found"
        )
        try:  # same-day alerts to the analysts; a mail problem never fails a publish
            from .. import digests

            for line in digests.alert_same_day(self.paths, version, store=self.store):
                self.log(line)
        except Exception as exc:  # noqa: BLE001 - one line; the procurement_mail job catches up
            self.log(f"same-day alerts: {type(exc).__name__}: {exc} (the next mail run retries)")
        return report


def cargas(con: Any, landing: Path) -> None:
    """``cargas``: the windows crawled (the Qualidade e Cobertura panel)."""
    con.execute(f"ATTACH '{landing}' AS land (READ_ONLY)")
    try:
        con.execute(
            "CREATE OR REPLACE TABLE cargas AS SELECT kind AS tipo, dia, modalidade, por, "
            "registros, chamadas, concluido_em FROM land.journal ORDER BY dia, tipo, modalidade"
        )
    finally:
        con.execute("DETACH land")


def gate_checks() -> list[checks.Check]:
    return [
        checks.unique("contratacoes", ["numero_controle_pncp"]),
        checks.unique("itens", ["numero_controle_pncp", "numero_item"]),
        checks.unique("contratos", ["numero_controle_pncp"]),
        checks.unique("achados", ["regra", "chave"]),
        checks.sql(
            "no orphan items",
            "SELECT count(*) = 0, count(*) || ' items without their purchase' FROM itens "
            "ANTI JOIN contratacoes USING (numero_controle_pncp)",
            label="Nenhum item sem a sua contratação",
        ),
        checks.sql(
            "every finding has an organ",
            "SELECT count(*) = 0, count(*) || ' findings' FROM achados WHERE orgao_cnpj IS NULL",
            label="Todo achado pertence a um órgão",
        ),
    ]


def prepare(
    paths: Paths,
    parameters: dict[str, Any],
    *,
    today: dt.date | None = None,
    log: Callable[[str], None] = print,
) -> Job:
    """Validate the parameters and plan the days to crawl."""
    from ... import etl

    values = dict(parameters)
    if values.get("catalogo"):
        values["catalogo"] = str(etl.data_path(values["catalogo"]))
    settings = from_parameters(values)
    job = Job(paths, settings, etl.store(), log=log)
    job.plan(today)
    return job


def new_build(job: Job) -> Build:
    return job.store.build(DATASET, TABLES, run=job.run)


def run_once(
    paths: Paths,
    parameters: dict[str, Any],
    *,
    today: dt.date | None = None,
    log: Callable[[str], None] = print,
) -> str:
    """The job's steps in this process (the demo, tests): prepare, crawl, build, publish."""
    job = prepare(paths, parameters, today=today, log=log)
    job.crawl()
    build = new_build(job)
    try:
        job.build(build)
    except BaseException:
        build.abort()
        raise
    return job.publish(build)
