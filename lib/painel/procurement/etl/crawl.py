"""The crawl: PNCP's windows of one day into the landing store, resumable.

For each day and each modalidade, the contratações published (backfill) or updated (daily)
that day; for each one that is new or whose ``dataAtualizacaoGlobal`` moved, its items (pages
of 500) and the results of every item with ``temResultado``. Then the day's contratos and,
for each new or updated one, its termos. A window's records and children go into the
landing in one transaction with its journal row: a run killed or stopped by PNCP (hours of
outage) leaves every finished window in and none half-written, and the next run resumes at
the first window not in the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from . import records
from .landing import Landing


@dataclass
class CrawlStats:
    windows: int = 0  # windows fetched in this run
    skipped: int = 0  # windows already in the journal
    contratacoes: int = 0
    unchanged: int = 0  # contratações/contratos whose children were already current
    itens: int = 0
    resultados: int = 0
    contratos: int = 0
    termos: int = 0
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame | None:
    return pd.DataFrame(rows) if rows else None


def _dedupe(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        out[tuple(r[k] for k in keys)] = r
    return list(out.values())


class Crawler:
    def __init__(
        self,
        client: Any,
        landing: Landing,
        *,
        uf: str = "GO",
        modalidades: Iterable[int] = (4, 5, 6, 7, 8, 9),
        por: str = "atualizacao",
        log: Callable[[str], None] = print,
    ):
        self.client = client
        self.landing = landing
        self.uf = uf
        self.modalidades = tuple(modalidades)
        self.por = por
        self.log = log
        self.stats = CrawlStats()

    def _known(self, table: str, column: str, numeros: list[str]) -> dict[str, Any]:
        if not numeros:
            return {}
        rows = self.landing.con.execute(
            f"SELECT numero_controle_pncp, {column} FROM {table} "
            "WHERE numero_controle_pncp IN (SELECT unnest(?))",
            [numeros],
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    # ---- contratações ---------------------------------------------------------------------
    def contratacoes_window(self, day: date, modalidade: int) -> None:
        calls0 = self.client.stats.calls
        found = self.client.contratacoes(day, modalidade, uf=self.uf, by=self.por)
        rows, orgaos, unidades = [], [], []
        for rec in found:
            row, orgao, unidade = records.contratacao(rec)
            if self.uf and unidade["uf_sigla"] != self.uf:
                continue  # PNCP's uf filter is trusted, but a stray record is not kept
            rows.append(row)
            orgaos.append(orgao)
            unidades.append(unidade)
        known = self._known(
            "contratacoes", "data_atualizacao_global", [r["numero_controle_pncp"] for r in rows]
        )
        changed = [
            r for r in rows if known.get(r["numero_controle_pncp"]) != r["data_atualizacao_global"]
        ]
        self.stats.unchanged += len(rows) - len(changed)
        itens, resultados, fornecedores = [], [], []
        for r in changed:
            numero = r["numero_controle_pncp"]
            for it in self.client.itens(r["cnpj"], r["ano_compra"], r["sequencial_compra"]):
                irow = records.item(numero, it)
                itens.append(irow)
                if irow["tem_resultado"]:
                    for res in self.client.resultados(
                        r["cnpj"], r["ano_compra"], r["sequencial_compra"], irow["numero_item"]
                    ):
                        resultados.append(records.resultado(numero, irow["numero_item"], res))
                        fornecedores.append(records.fornecedor(res))
        con = self.landing.con
        con.execute("BEGIN TRANSACTION")
        try:
            self.landing.upsert("orgaos", _frame(_dedupe(orgaos, "cnpj")))
            self.landing.upsert("unidades", _frame(_dedupe(unidades, "cnpj", "codigo_unidade")))
            self.landing.upsert("fornecedores", _frame(_dedupe(fornecedores, "ni")))
            self.landing.upsert("contratacoes", _frame(rows))
            parents = [r["numero_controle_pncp"] for r in changed]
            self.landing.replace_children("itens", parents, _frame(itens))
            self.landing.replace_children("resultados", parents, _frame(resultados))
            self.landing.mark_done(
                "contratacoes",
                day,
                modalidade,
                self.por,
                len(rows),
                self.client.stats.calls - calls0,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.stats.windows += 1
        self.stats.contratacoes += len(rows)
        self.stats.itens += len(itens)
        self.stats.resultados += len(resultados)

    # ---- contratos ----------------------------------------------------------------------------
    def contratos_window(self, day: date) -> None:
        calls0 = self.client.stats.calls
        found = self.client.contratos(day, uf=self.uf, by=self.por)
        rows, orgaos, unidades, fornecedores = [], [], [], []
        for rec in found:
            row, orgao, unidade = records.contrato(rec)
            rows.append(row)
            orgaos.append(orgao)
            unidades.append(unidade)
            fornecedores.append(records.fornecedor(rec))
        known = self._known(
            "contratos", "data_atualizacao", [r["numero_controle_pncp"] for r in rows]
        )
        changed = [r for r in rows if known.get(r["numero_controle_pncp"]) != r["data_atualizacao"]]
        self.stats.unchanged += len(rows) - len(changed)
        termos = []
        for r in changed:
            for t in self.client.termos(r["cnpj"], r["ano_contrato"], r["sequencial_contrato"]):
                termos.append(records.termo(r["numero_controle_pncp"], t))
        con = self.landing.con
        con.execute("BEGIN TRANSACTION")
        try:
            self.landing.upsert("orgaos", _frame(_dedupe(orgaos, "cnpj")))
            self.landing.upsert("unidades", _frame(_dedupe(unidades, "cnpj", "codigo_unidade")))
            self.landing.upsert("fornecedores", _frame(_dedupe(fornecedores, "ni")))
            self.landing.upsert("contratos", _frame(rows))
            self.landing.replace_children(
                "termos", [r["numero_controle_pncp"] for r in changed], _frame(termos)
            )
            self.landing.mark_done(
                "contratos", day, 0, self.por, len(rows), self.client.stats.calls - calls0
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.stats.windows += 1
        self.stats.contratos += len(rows)
        self.stats.termos += len(termos)

    def run(self, days: list[date], meter: Any = None) -> CrawlStats:
        """Every window of ``days`` not yet in the journal, in date order."""
        start = time.monotonic()
        done_c = self.landing.done("contratacoes", self.por)
        done_k = self.landing.done("contratos", self.por)
        for day in days:
            for mod in self.modalidades:
                if (day, mod) in done_c:
                    self.stats.skipped += 1
                    continue
                self.contratacoes_window(day, mod)
            if (day, 0) in done_k:
                self.stats.skipped += 1
            else:
                self.contratos_window(day)
            if meter is not None:
                meter.advance()
            self.log(
                f"{day:%d/%m/%Y}: {self.stats.contratacoes} contratações, {self.stats.itens} "
                f"itens, {self.stats.contratos} contratos so far ({self.client.stats.calls} calls)"
            )
        self.stats.seconds = time.monotonic() - start
        return self.stats
