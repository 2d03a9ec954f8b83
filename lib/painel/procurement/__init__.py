"""The procurement-compliance suite: PNCP purchases and contracts of the state of Goiás,
checked daily against the red-flag rules of Lei 14.133/2021 (R1-R9), item classes and price
anomalies by machine learning, an analysts' findings workflow and e-mail digests
(docs/procurement.md).

This module is the domain's declaration (:class:`painel.domain.Domain`), found by the core
through the ``painel.domains`` entry point. It imports nothing heavy.
"""

from __future__ import annotations

from ..domain import PUBLIC, Domain, Scope
from .demo import USERS

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

# the operational store (painel.procurement.workflow): the analysts' findings workflow
MIGRATIONS = [
    # 1: each finding's status across days, and every change to it
    """
    CREATE TABLE procurement_achados (
        regra                TEXT NOT NULL,
        chave                TEXT NOT NULL,
        orgao_cnpj           TEXT NOT NULL,
        unidade_id           TEXT,
        numero_controle_pncp TEXT,
        risco                REAL NOT NULL DEFAULT 0,
        resumo               TEXT NOT NULL DEFAULT '',
        status               TEXT NOT NULL DEFAULT 'novo',
        motivo               TEXT,                 -- the reason of the last change, if any
        alterado_por         TEXT,                 -- the last analyst who moved it
        alterado_em          TEXT,
        primeira_versao      TEXT NOT NULL,        -- the dataset version that first found it
        visto_em             TEXT NOT NULL,        -- when it was first synced (UTC ISO)
        ultima_versao        TEXT NOT NULL,        -- the newest version that found it
        ativo                INTEGER NOT NULL DEFAULT 1,  -- 0: the newest version no longer does
        PRIMARY KEY (regra, chave)
    );
    CREATE INDEX procurement_achados_orgao ON procurement_achados(orgao_cnpj, status);
    CREATE INDEX procurement_achados_visto ON procurement_achados(visto_em);
    CREATE TABLE procurement_achados_eventos (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        regra   TEXT NOT NULL,
        chave   TEXT NOT NULL,
        de      TEXT,                               -- NULL: the finding appeared
        para    TEXT NOT NULL,
        motivo  TEXT,
        por     TEXT NOT NULL,                      -- a username, or 'painel' for the job
        em      TEXT NOT NULL,
        versao  TEXT                                -- the dataset version (sync events)
    );
    CREATE INDEX procurement_achados_eventos_chave
        ON procurement_achados_eventos(regra, chave, id);
    """,
]


DOMAIN = Domain(
    name="procurement",
    title="Compras públicas – conformidade",
    datasets={DATASET: TABLES},
    roles=ROLES,
    migrations=MIGRATIONS,
    cli="painel.procurement.cli:add_commands",
    demo="painel.procurement.demo:prepare",
    demo_users=USERS,
    demo_services="painel.procurement.demo:services",
    notebook_fixture="painel.procurement.demo:notebook_fixture",
    docs="docs/procurement.md",
)
