"""The procurement-compliance suite: PNCP purchases and contracts of the state of Goiás,
checked daily against the red-flag rules of Lei 14.133/2021 (R1-R9), item classes and price
anomalies by machine learning, an analysts' findings workflow and e-mail digests
(docs/procurement.md).

This module is the domain's declaration (:class:`painel.domain.Domain`), found by the core
through the ``painel.domains`` entry point. It imports nothing heavy.
"""

from __future__ import annotations

from ..domain import PUBLIC, Domain, Scope

DATASET = "procurement"
# An organ's users see its rows (grant procurement:orgao:<CNPJ>); a unit's users only that
# unit's (grant procurement:unidade:<CNPJ>-<codigoUnidade>).
SCOPE = {"orgao": "orgao_cnpj", "unidade": "unidade_id"}
TABLES: dict[str, Scope] = {
    "contratacoes": SCOPE,
    "itens": SCOPE,
    "resultados": SCOPE,
    "contratos": SCOPE,
    "termos": SCOPE,
    "achados": SCOPE,  # findings of the rules R1-R9: rule, key, legal basis, evidence, risk
    "orgaos": PUBLIC,  # organs and units are public PNCP data, and every page names them
    "unidades": PUBLIC,
    "fornecedores": PUBLIC,
    "classes": PUBLIC,
    "modalidades": PUBLIC,
    "amparos": PUBLIC,
    "limites_dispensa": PUBLIC,
    "prazos_minimos": PUBLIC,  # art. 55 minimum periods per goods/services and criterion
    "dias_uteis": PUBLIC,  # the working-day counter the deadlines use
    "unidades_medida": PUBLIC,  # each free-text unit seen → family and multiplier
    "cargas": PUBLIC,  # the days crawled: calls, records, coverage
}

ROLES = {
    "cge_analista": "Analista da CGE: todos os alertas e o fluxo de análise",
    "cge_gestor": "Gestão da CGE: visão geral e resumos",
    "orgao": "Órgão auditado: os alertas e a conformidade do próprio órgão",
    "orgao_unidade": "Unidade gestora de um órgão: só os da unidade",
}

DOMAIN = Domain(
    name="procurement",
    title="Compras públicas – conformidade",
    datasets={DATASET: TABLES},
    roles=ROLES,
    cli="painel.procurement.cli:add_commands",
    notebook_fixture="painel.procurement.demo:notebook_fixture",
    docs="docs/procurement.md",
)
