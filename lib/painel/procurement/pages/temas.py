"""The CGE's thematic panels: each the Painel de Alertas narrowed to the rules of one theme
(with the same drill-down and workflow), plus the data that puts them in context.

- Fracionamento de Despesas (R1): the organs' classes near or over the dispensa limit.
- Contratações Diretas (R2, R4): direct awards by legal ground (amparo).
- Preços Praticados e Sobrepreço (R6): the prices furthest above their reference.
- Prazos e Publicidade (R3, R5): per organ, tenders with a short proposal period and
  contracts published late.
- Fornecedores (R7, R8): the suppliers that won the most.
- Contratos e Aditivos (R4, R9): contracts whose amendments added the most.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.download import Download
from ...dash.table import Column, Table
from .. import queries
from . import saldo
from .alertas import Alertas
from .frame import build_panel, hbars
from .saldo import ALERTA, usage_bars


class Tema(Alertas):
    """A theme: ``rules`` and a context table (``context_columns``, filled by ``context``)."""

    context_caption = ""
    context_columns: list[Column] = []
    context_unit = "linhas"
    context_click: str | None = None  # the context row's column naming a purchase to open

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context_chart = ui.ClickChart(lambda _x: None, filename=f"{self.name}_contexto")
        self.context_table: Table
        self.context_export: Download
        self.context_table, self.context_export = self.table_export(
            self.context_columns,
            name=f"{self.name}_contexto",
            sheet="Contexto",
            caption=self.context_caption,
            unit=self.context_unit,
            click_hint="clique em uma linha para abrir a contratação" if self.context_click else "",
        )
        if self.context_click:
            self.opens_purchases(self.context_table, self.context_click)
        self._context_of: tuple[Any, ...] | None = None

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        raise NotImplementedError

    def refresh(self) -> None:
        """The page's first chart first: the rules' (several rules) or the context's."""
        if len(self.rules) > 1:
            super().refresh()
        f = self.filters
        of = (self.ds.version, f.ano, f.orgao)  # the context follows the year and organ only
        if of != self._context_of:
            self.refresh_context(f)
            self._context_of = of
        if len(self.rules) == 1:
            super().refresh()

    def refresh_context(self, f: queries.Filters) -> None:
        df, fig = self.context(f)
        if fig is not None:
            self.context_chart.figure = fig
        self.context_chart.layout.display = None if fig is not None else "none"
        self.context_table.set_frame(df)

    def body(self) -> list[widgets.Widget]:
        head: list[widgets.Widget] = [ui.kpi_row(self.cards)]
        if len(self.rules) > 1:
            head.append(self.by_rule)
        return [
            *head,
            self.table,
            self.export,
            self.finding,
            self.context_chart,
            self.context_table,
            self.context_export,
        ]


# ---- Fracionamento -----------------------------------------------------------------------------
class Fracionamento(Tema):
    title = "Fracionamento de Despesas"
    rules = ("R1",)
    name = "fracionamento"
    context_caption = f"Classes a partir de {fmt.percent(ALERTA, 0)} do limite de dispensa no ano"
    context_unit = "classes"
    context_columns = saldo.COLUMNS  # the classes as Saldo de Dispensa shows them

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        df = saldo.balance(self.ds, f)
        df = df[df["uso"] >= ALERTA].reset_index(drop=True)
        return df, usage_bars(df.head(15))


# ---- Contratações diretas ----------------------------------------------------------------------
class Diretas(Tema):
    title = "Contratações Diretas"
    rules = ("R2", "R4")
    name = "contratacoes_diretas"
    context_caption = "Contratações diretas por fundamento legal"
    context_unit = "fundamentos"
    context_columns = [
        Column("modalidade", "Modalidade"),
        Column("amparo", "Fundamento legal"),
        Column("compras", "Contratações", kind="int"),
        Column("valor", "Valor", kind="money"),
        Column("pct", "Do valor das diretas", kind="percent"),
    ]

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        where, params = f.where("c")
        df = self.ds.sql(
            "SELECT m.nome AS modalidade, coalesce(a.nome, 'Não informado') AS amparo, "
            "count(*) AS compras, coalesce(sum(c.valor), 0) AS valor FROM contratacoes c "
            "LEFT JOIN modalidades m ON m.codigo = c.modalidade_id "
            "LEFT JOIN amparos a ON a.codigo = c.amparo_legal_codigo "
            f"WHERE {queries.DIRETA} AND {where} GROUP BY ALL ORDER BY valor DESC",
            params,
        )
        total = df["valor"].sum()
        df["pct"] = 100 * df["valor"] / total if total else None
        top = df.head(12)
        fig = hbars(
            top["amparo"],
            top["valor"],
            [fmt.money_short(v) for v in top["valor"]],
            title="Valor das contratações diretas por fundamento",
            axis="Valor (R$)",
            color="#c77c02",
        )
        return df, fig


# ---- Preços --------------------------------------------------------------------------------------
class Precos(Tema):
    title = "Preços Praticados e Sobrepreço"
    rules = ("R6",)
    name = "precos"
    context_caption = "Preços mais acima da referência (mediana de outras compras)"
    context_unit = "itens"
    context_click = "numero_controle_pncp"
    context_columns = [
        Column("orgao", "Órgão"),
        Column("descricao", "Item"),
        Column("unidade_medida", "Unidade"),
        Column("preco_unitario", "Preço unitário", kind="money"),
        Column("referencia", "Referência (por unidade básica)", kind="money"),
        Column("razao", "Vezes a referência", kind="decimal", decimals=2),
        Column("risco", "Sobrepreço estimado", kind="money"),
    ]

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        where, params = f.where("a")
        df = self.ds.sql(
            "SELECT a.numero_controle_pncp, o.razao_social AS orgao, "
            "a.evidencia->>'descricao' AS descricao, a.evidencia->>'unidade_medida' AS unidade_medida, "
            "TRY_CAST(a.evidencia->>'preco_unitario' AS DOUBLE) AS preco_unitario, "
            "TRY_CAST(a.evidencia->>'referencia' AS DOUBLE) AS referencia, "
            "TRY_CAST(a.evidencia->>'preco_base' AS DOUBLE) / "
            "nullif(TRY_CAST(a.evidencia->>'referencia' AS DOUBLE), 0) AS razao, a.risco "
            "FROM achados a LEFT JOIN orgaos o USING (orgao_cnpj) "
            f"WHERE a.regra = 'R6' AND {where} ORDER BY razao DESC NULLS LAST LIMIT 500",
            params,
        )
        top = df.head(15)
        fig = hbars(
            top["descricao"],
            top["razao"],
            [f"{fmt.number(v, 1)}×" for v in top["razao"]],
            title="Itens mais acima da referência (vezes a mediana)",
            axis="Vezes a referência",
            color="#9b1c1c",
        )
        return df, fig


# ---- Prazos e publicidade ------------------------------------------------------------------------
class Prazos(Tema):
    title = "Prazos e Publicidade"
    rules = ("R3", "R5")
    name = "prazos"
    context_caption = "Prazos e publicidade por órgão"
    context_unit = "órgãos"
    context_columns = [
        Column("orgao", "Órgão"),
        Column("licitacoes", "Licitações", kind="int"),
        Column("prazo_curto", "Com prazo de propostas abaixo do mínimo", kind="int"),
        Column("contratos", "Contratos", kind="int"),
        Column("tardios", "Publicados fora do prazo", kind="int"),
        Column("pct_em_dia", "Contratos publicados em dia", kind="percent"),
    ]

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        cw, cp = f.where("c")
        kw, kp = f.where("k", ano="ano_contrato")
        aw, ap = f.where("a")
        df = self.ds.sql(
            "WITH l AS (SELECT c.orgao_cnpj, count(*) AS licitacoes FROM contratacoes c "
            f"WHERE c.modalidade_id IN (4, 5, 6, 7) AND {cw} GROUP BY ALL), "
            f"k AS (SELECT k.orgao_cnpj, count(*) AS contratos FROM contratos k WHERE {kw} "
            "GROUP BY ALL), a AS (SELECT a.orgao_cnpj, count(*) FILTER (WHERE a.regra = 'R3') "
            "AS prazo_curto, count(*) FILTER (WHERE a.regra = 'R5') AS tardios FROM achados a "
            f"WHERE {aw} GROUP BY ALL) "
            "SELECT o.orgao_cnpj, o.razao_social AS orgao, coalesce(l.licitacoes, 0) AS licitacoes, "
            "coalesce(a.prazo_curto, 0) AS prazo_curto, coalesce(k.contratos, 0) AS contratos, "
            "coalesce(a.tardios, 0) AS tardios, "
            "100.0 * (k.contratos - coalesce(a.tardios, 0)) / nullif(k.contratos, 0) AS pct_em_dia "
            "FROM orgaos o LEFT JOIN l USING (orgao_cnpj) LEFT JOIN k USING (orgao_cnpj) "
            "LEFT JOIN a USING (orgao_cnpj) WHERE coalesce(l.licitacoes, 0) + "
            "coalesce(k.contratos, 0) > 0 ORDER BY pct_em_dia NULLS LAST, orgao",
            [*cp, *kp, *ap],
        )
        top = df.dropna(subset=["pct_em_dia"]).head(15)
        fig = hbars(
            top["orgao"],
            top["pct_em_dia"],
            [fmt.percent(v, 0) for v in top["pct_em_dia"]],
            title="Contratos publicados no prazo do art. 94 (os 15 piores)",
            axis="% em dia",
            color="#1f4e79",
        )
        return df, fig


# ---- Fornecedores --------------------------------------------------------------------------------
class Fornecedores(Tema):
    title = "Fornecedores"
    rules = ("R7", "R8")
    name = "fornecedores"
    context_caption = "Fornecedores que mais venceram (itens homologados)"
    context_unit = "fornecedores"
    context_columns = [
        Column("nome", "Fornecedor"),
        Column("ni_fornecedor", "CNPJ/CPF", kind="id"),
        Column("valor", "Valor homologado", kind="money"),
        Column("itens", "Itens", kind="int"),
        Column("compras", "Contratações", kind="int"),
        Column("orgaos", "Órgãos", kind="int"),
    ]

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        where, params = f.where("c")
        df = self.ds.sql(
            "SELECT r.ni_fornecedor, any_value(r.nome_razao_social_fornecedor) AS nome, "
            "sum(r.valor_total_homologado) AS valor, count(*) AS itens, "
            "count(DISTINCT r.numero_controle_pncp) AS compras, "
            "count(DISTINCT r.orgao_cnpj) AS orgaos FROM resultados r "
            "JOIN contratacoes c USING (numero_controle_pncp) "
            f"WHERE {where} GROUP BY ALL ORDER BY valor DESC LIMIT 500",
            params,
        )
        top = df.head(15)
        fig = hbars(
            top["nome"],
            top["valor"],
            [fmt.money_short(v) for v in top["valor"]],
            title="Fornecedores por valor homologado (os 15 maiores)",
            axis="Valor (R$)",
            color="#2e7d32",
        )
        return df, fig


# ---- Contratos e aditivos ------------------------------------------------------------------------
class Contratos(Tema):
    title = "Contratos e Aditivos"
    rules = ("R4", "R9")
    name = "contratos"
    context_caption = "Contratos com termos aditivos de valor"
    context_unit = "contratos"
    context_click = "numero_controle_pncp"
    context_columns = [
        Column("orgao", "Órgão"),
        Column("fornecedor", "Fornecedor"),
        Column("objeto", "Objeto"),
        Column("valor_inicial", "Valor inicial", kind="money"),
        Column("acrescido", "Acréscimos", kind="money"),
        Column("pct", "Acréscimo (%)", kind="percent"),
        Column("termos", "Termos", kind="int"),
    ]

    def context(self, f: queries.Filters) -> tuple[pd.DataFrame, plots.Spec | None]:
        where, params = f.where("k", ano="ano_contrato")
        df = self.ds.sql(
            "WITH t AS (SELECT numero_controle_pncp, sum(valor_acrescido) AS acrescido, "
            "count(*) AS termos FROM termos WHERE valor_acrescido > 0 GROUP BY ALL) "
            "SELECT k.numero_controle_pncp, o.razao_social AS orgao, "
            "k.nome_razao_social_fornecedor AS fornecedor, k.objeto_contrato AS objeto, "
            "k.valor_inicial, t.acrescido, t.termos, "
            "100 * t.acrescido / nullif(k.valor_inicial, 0) AS pct "
            "FROM contratos k JOIN t USING (numero_controle_pncp) "
            "LEFT JOIN orgaos o ON o.orgao_cnpj = k.orgao_cnpj "
            f"WHERE {where} ORDER BY pct DESC NULLS LAST "
            "LIMIT 500",
            params,
        )
        top = df.head(15)
        fig = hbars(
            [f"{o} – {str(x)[:30]}" for o, x in zip(top["orgao"], top["objeto"], strict=True)],
            top["pct"],
            [fmt.percent(v, 0) for v in top["pct"]],
            title="Contratos com mais acréscimos (% do valor inicial)",
            axis="Acréscimo (%)",
            color="#6a1b9a",
        )
        return df, fig


build_fracionamento = build_panel(Fracionamento)
build_diretas = build_panel(Diretas)
build_precos = build_panel(Precos)
build_prazos = build_panel(Prazos)
build_fornecedores = build_panel(Fornecedores)
build_contratos = build_panel(Contratos)
