"""The procurement panels' queries, on the viewer's :class:`~painel.scope.ScopedDataset`
(an organ's user reads only its organ's rows; the public tables name organs, units,
suppliers and classes).

Every function takes the page's :class:`Filters` and binds its values as parameters; none
formats a value into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..scope import ScopedDataset
from . import codes
from .etl.rules import DISPENSA, RULES

DIRETA = "c.modalidade_id IN (8, 9)"  # dispensa, inexigibilidade (art. 72)


@dataclass(frozen=True)
class Filters:
    ano: int = 0  # 0: every year
    orgao: str = ""  # "": every organ the viewer sees
    regra: str = ""  # "": every rule (of ``regras``)
    regras: tuple[str, ...] = ()  # the rules a thematic panel shows (): all

    def where(self, alias: str, *, ano: str = "ano", regra: bool = False) -> tuple[str, list[Any]]:
        """``(sql, params)``: the year and organ (and the rules with ``regra``) of ``alias``."""
        sql = f"(? = 0 OR {alias}.{ano} = ?) AND (? = '' OR {alias}.orgao_cnpj = ?)"
        params: list[Any] = [self.ano, self.ano, self.orgao, self.orgao]
        if regra:
            sql += f" AND (? = '' OR {alias}.regra = ?)"
            params += [self.regra, self.regra]
            if self.regras:
                sql += f" AND {alias}.regra IN ({', '.join('?' for _ in self.regras)})"
                params += list(self.regras)
        return sql, params


def years(ds: ScopedDataset) -> list[int]:
    """The years with purchases the viewer sees, newest first."""
    df = ds.memo(
        "years",
        lambda: ds.sql(
            "SELECT DISTINCT ano FROM contratacoes WHERE ano IS NOT NULL ORDER BY ano DESC"
        ),
    )
    return [int(v) for v in df["ano"]]


def orgaos(ds: ScopedDataset) -> pd.DataFrame:
    """The organs whose rows the viewer sees: ``orgao_cnpj``, ``nome``."""
    return ds.memo(
        "orgaos",
        lambda: ds.sql(
            "SELECT o.orgao_cnpj, o.razao_social AS nome FROM orgaos o "
            "WHERE o.orgao_cnpj IN (SELECT DISTINCT orgao_cnpj FROM contratacoes) "
            "ORDER BY nome"
        ),
    )


def modalidade_names() -> dict[int, str]:
    return {int(k): str(v) for k, v in codes.modalidades().itertuples(index=False)}


WORKFLOW = "fluxo"  # the viewer's connection's copy of the workflow states (hold_workflow)
FINDING_SELECT = (
    "SELECT a.regra, a.titulo, a.fundamento, a.chave, a.orgao_cnpj, "
    "o.razao_social AS orgao, a.unidade_id, u.nome_unidade AS unidade, "
    "a.numero_controle_pncp, a.ano, a.risco, a.resumo, a.link_pncp, "
    f"coalesce(w.status, 'novo') AS status, w.visto_em FROM achados a "
    "LEFT JOIN orgaos o USING (orgao_cnpj) LEFT JOIN unidades u USING (unidade_id) "
    f"LEFT JOIN {WORKFLOW} w USING (regra, chave) "
)
FINDING_ORDER = "a.risco DESC, a.regra, a.chave"
# the list's columns a table sorts by, as SQL; and those its search reads
FINDING_SORT = {
    "regra_nome": "a.regra",
    "regra": "a.regra",
    "situacao": "coalesce(w.status, 'novo')",
    "orgao": "o.razao_social",
    "unidade": "u.nome_unidade",
    "resumo": "a.resumo",
    "risco": "a.risco",
    "visto_em": "w.visto_em",
}
FINDING_SEARCH = ("a.regra", "a.titulo", "o.razao_social", "u.nome_unidade", "a.resumo")


def hold_workflow(ds: ScopedDataset, opstate: Any, statuses: tuple[str, ...] = ()) -> None:
    """The analysts' workflow states (kept in the operational store) as table ``fluxo`` of
    the viewer's connection, read again only when one changed: the findings' queries join
    it to filter and count by status in SQL. ``statuses``: only those (an organ's page
    holds what was sent to it)."""
    from . import workflow

    ds.hold(
        WORKFLOW,
        (workflow.token(opstate), statuses),
        lambda: workflow.status_frame(opstate, statuses),
    )


def _finding_where(f: Filters, statuses: tuple[str, ...]) -> tuple[str, list[Any]]:
    where, params = f.where("a", regra=True)
    if statuses:
        where += f" AND coalesce(w.status, 'novo') IN ({', '.join('?' for _ in statuses)})"
        params += list(statuses)
    return where, params


def finding_status_counts(
    ds: ScopedDataset, f: Filters, statuses: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Per rule and workflow status: ``regra, status, n, risco`` (findings and their risk)
    of the filters (and of ``statuses`` when given)."""
    where, params = _finding_where(f, statuses)
    return ds.sql(
        "SELECT a.regra, coalesce(w.status, 'novo') AS status, count(*) AS n, "
        "coalesce(sum(a.risco), 0) AS risco FROM achados a "
        f"LEFT JOIN {WORKFLOW} w USING (regra, chave) WHERE {where} GROUP BY ALL",
        params,
    )


def finding_purchases(ds: ScopedDataset, f: Filters, statuses: tuple[str, ...] = ()) -> int:
    """How many purchases the findings of the filters (and ``statuses``) name."""
    where, params = _finding_where(f, statuses)
    got = ds.sql(
        "SELECT count(DISTINCT a.numero_controle_pncp) AS n FROM achados a "
        f"LEFT JOIN {WORKFLOW} w USING (regra, chave) WHERE {where}",
        params,
    )
    return int(got["n"].iloc[0])


def findings_page(
    ds: ScopedDataset,
    f: Filters,
    statuses: tuple[str, ...] = (),
    *,
    terms: list[str] | None = None,
    sort: str = "",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """``(rows, total)``: the findings of the filters (and ``statuses``) with their workflow
    status, riskiest first unless ``sort`` names a column of :data:`FINDING_SORT`; those
    matching every search term; from ``offset``, at most ``limit``. A table's
    :class:`~painel.dash.table.Source`."""
    from ..dash.table import search_sql

    where, params = _finding_where(f, statuses)
    found, found_params = search_sql(FINDING_SEARCH, terms or [])
    where = f"{where} AND {found}"
    params += found_params
    order = FINDING_ORDER
    if sort in FINDING_SORT:
        order = f"{FINDING_SORT[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, {order}"
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    rows = ds.sql(f"{FINDING_SELECT} WHERE {where} ORDER BY {order}{page}", params)
    if limit is None or (offset == 0 and len(rows) < limit):
        return rows, len(rows)
    total = ds.sql(
        "SELECT count(*) AS n FROM achados a LEFT JOIN orgaos o USING (orgao_cnpj) "
        f"LEFT JOIN unidades u USING (unidade_id) LEFT JOIN {WORKFLOW} w USING (regra, chave) "
        f"WHERE {where}",
        params,
    )
    return rows, int(total["n"].iloc[0])


def finding(
    ds: ScopedDataset, f: Filters, regra: str, chave: str, statuses: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """One finding, if the viewer sees it within the filters (and ``statuses``)."""
    where, params = _finding_where(f, statuses)
    df = ds.sql(
        f"{FINDING_SELECT} WHERE {where} AND a.regra = ? AND a.chave = ?",
        [*params, regra, chave],
    )
    return None if df.empty else df.iloc[0].to_dict()


def evidence_of(ds: ScopedDataset, regra: str, chave: str) -> str | None:
    """One finding's evidence (JSON text), read when the finding is opened: a year's list
    does not carry every finding's evidence."""
    df = ds.sql(
        "SELECT CAST(evidencia AS VARCHAR) AS e FROM achados WHERE regra = ? AND chave = ?",
        [regra, chave],
    )
    return None if df.empty else str(df["e"].iloc[0])


def findings_of(ds: ScopedDataset, numero_controle_pncp: str) -> pd.DataFrame:
    return ds.sql(
        "SELECT regra, titulo, fundamento, chave, resumo, risco FROM achados "
        "WHERE numero_controle_pncp = ? ORDER BY risco DESC",
        [numero_controle_pncp],
    )


def purchase(ds: ScopedDataset, numero_controle_pncp: str) -> dict[str, Any] | None:
    """One purchase (contratação) with its organ, unit and class names; None when the
    viewer does not see it."""
    df = ds.sql(
        "SELECT c.numero_controle_pncp, c.objeto_compra, c.modalidade_id, c.amparo_legal_codigo, "
        "c.valor_total_estimado, c.valor_total_homologado, c.data_publicacao_pncp, "
        "c.data_abertura_proposta, c.data_encerramento_proposta, c.situacao_compra_id, "
        "c.processo, c.numero_compra, c.itens, c.link_pncp, o.razao_social AS orgao, "
        "u.nome_unidade AS unidade, u.municipio_nome AS municipio, k.nome AS classe, "
        "m.nome AS modalidade, a.nome AS amparo "
        "FROM contratacoes c LEFT JOIN orgaos o USING (orgao_cnpj) "
        "LEFT JOIN unidades u USING (unidade_id) "
        "LEFT JOIN classes k USING (codigo_classe) "
        "LEFT JOIN modalidades m ON m.codigo = c.modalidade_id "
        "LEFT JOIN amparos a ON a.codigo = c.amparo_legal_codigo "
        "WHERE c.numero_controle_pncp = ?",
        [numero_controle_pncp],
    )
    return None if df.empty else df.iloc[0].to_dict()


def contract(ds: ScopedDataset, numero_controle_pncp: str) -> dict[str, Any] | None:
    df = ds.sql(
        "SELECT k.numero_controle_pncp, k.numero_controle_pncp_compra, k.objeto_contrato, "
        "k.nome_razao_social_fornecedor AS fornecedor, k.ni_fornecedor, k.valor_inicial, "
        "k.valor_global, k.data_assinatura, k.data_vigencia_inicio, k.data_vigencia_fim, "
        "k.data_publicacao_pncp, k.link_pncp, o.razao_social AS orgao, "
        "u.nome_unidade AS unidade FROM contratos k LEFT JOIN orgaos o USING (orgao_cnpj) "
        "LEFT JOIN unidades u USING (unidade_id) WHERE k.numero_controle_pncp = ?",
        [numero_controle_pncp],
    )
    return None if df.empty else df.iloc[0].to_dict()


def items(ds: ScopedDataset, numero_controle_pncp: str) -> pd.DataFrame:
    """A purchase's items with their class, normalised unit and winning price."""
    return ds.sql(
        "SELECT i.numero_item, i.descricao, i.quantidade, i.unidade_medida, "
        "i.valor_unitario_estimado, i.valor_total, k.nome AS classe, i.classe_fonte, "
        "r.valor_unitario_homologado, r.nome_razao_social_fornecedor AS fornecedor "
        "FROM itens i LEFT JOIN classes k USING (codigo_classe) "
        "LEFT JOIN (SELECT numero_controle_pncp, numero_item, "
        "  arg_min(valor_unitario_homologado, sequencial_resultado) AS valor_unitario_homologado, "
        "  arg_min(nome_razao_social_fornecedor, sequencial_resultado) "
        "    AS nome_razao_social_fornecedor "
        "  FROM resultados WHERE numero_controle_pncp = ? GROUP BY ALL) r "
        "USING (numero_controle_pncp, numero_item) "
        "WHERE i.numero_controle_pncp = ? ORDER BY i.numero_item",
        [numero_controle_pncp, numero_controle_pncp],
    )


def finding_counts(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    """Per rule: findings and risk (every rule listed, 0 where none)."""
    where, params = f.where("a")
    got = ds.sql(
        f"SELECT regra, count(*) AS n, sum(risco) AS risco FROM achados a WHERE {where} "
        "GROUP BY regra",
        params,
    )
    base = pd.DataFrame({"regra": list(RULES), "titulo": [t for t, _ in RULES.values()]})
    out = base.merge(got, on="regra", how="left")
    out["n"] = pd.to_numeric(out["n"]).fillna(0).astype(int)
    out["risco"] = pd.to_numeric(out["risco"]).fillna(0.0)
    return out


def dispensa_balance(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    """Per organ, class and inciso of the year: the dispensas (art. 75 I and II) spent and
    the limit (doubled for art. 75 §2 organs). The limit applies to the organ's spending on
    objects of the same kind in the year (art. 75 §1, I), as rule R1 reads it."""
    where, params = f.where("c")
    return ds.sql(
        "SELECT c.orgao_cnpj, o.razao_social AS orgao, c.codigo_classe, "
        "coalesce(k.nome, c.codigo_classe) AS classe, c.inciso, count(*) AS dispensas, "
        "sum(c.valor) AS gasto, any_value(l.valor * CASE WHEN o.limite_dobrado THEN 2 ELSE 1 "
        "END)::DOUBLE AS limite FROM contratacoes c "
        "JOIN orgaos o USING (orgao_cnpj) "
        "JOIN limites_dispensa l ON l.ano = c.ano AND l.inciso = c.inciso "
        "LEFT JOIN classes k USING (codigo_classe) "
        f"WHERE {DISPENSA} AND c.situacao_compra_id = 1 AND c.codigo_classe IS NOT NULL "
        f"AND {where} GROUP BY ALL ORDER BY sum(c.valor) / any_value(l.valor) DESC",
        params,
    )


def overview(ds: ScopedDataset, f: Filters) -> dict[str, Any]:
    where, params = f.where("c")
    df = ds.sql(
        "SELECT count(*) AS compras, coalesce(sum(c.valor), 0) AS valor, "
        f"count(*) FILTER (WHERE {DIRETA}) AS diretas, "
        f"coalesce(sum(c.valor) FILTER (WHERE {DIRETA}), 0) AS valor_diretas, "
        "count(DISTINCT c.orgao_cnpj) AS orgaos FROM contratacoes c "
        f"WHERE {where}",
        params,
    )
    return df.iloc[0].to_dict()


def by_month(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    where, params = f.where("c")
    return ds.sql(
        "SELECT date_trunc('month', c.data_publicacao_pncp)::DATE AS mes, "
        f"count(*) AS compras, count(*) FILTER (WHERE {DIRETA}) AS diretas, "
        "sum(c.valor) AS valor FROM contratacoes c "
        f"WHERE {where} GROUP BY ALL ORDER BY mes",
        params,
    )


def by_organ(ds: ScopedDataset, f: Filters) -> pd.DataFrame:
    """Per organ: purchases, value, direct share, findings and their risk."""
    where, params = f.where("c")
    fwhere, fparams = f.where("a")
    return ds.sql(
        "WITH c AS (SELECT c.orgao_cnpj, count(*) AS compras, sum(c.valor) AS valor, "
        f"count(*) FILTER (WHERE {DIRETA}) AS diretas FROM contratacoes c WHERE {where} "
        "GROUP BY ALL), a AS (SELECT a.orgao_cnpj, count(*) AS alertas, "
        f"sum(a.risco) AS risco FROM achados a WHERE {fwhere} GROUP BY ALL) "
        "SELECT o.orgao_cnpj, o.razao_social AS orgao, coalesce(c.compras, 0) AS compras, "
        "coalesce(c.valor, 0) AS valor, 100.0 * c.diretas / nullif(c.compras, 0) AS pct_diretas, "
        "coalesce(a.alertas, 0) AS alertas, coalesce(a.risco, 0) AS risco "
        "FROM c FULL JOIN a USING (orgao_cnpj) JOIN orgaos o USING (orgao_cnpj) "
        "ORDER BY risco DESC, valor DESC",
        [*params, *fparams],
    )
