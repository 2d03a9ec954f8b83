"""The procurement world: PNCP's records as the generator writes them and the simulator
serves them (docs/procurement.md).

This module is the contract between ``painel.procurement.generate`` (which writes a world),
``painel.procurement.simulator`` (which serves it with PNCP's quirks) and the tests (which
compare what the ETL published with the world and its ground truth). It imports nothing heavy.

A world is one DuckDB file holding the tables of :data:`DDL`. Column names are snake_case
spellings of PNCP's fields (``numero_controle_pncp`` is ``numeroControlePNCP``); the simulator
maps them to PNCP's JSON names and nesting (``orgaoEntidade{cnpj, razaoSocial, ...}``). Dates
and timestamps are Brasília local time without an offset, as PNCP gives them.

``gabarito`` is the ground truth: one row per planted irregularity (``planted`` true) and per
look-alike decoy (``planted`` false) with the rule's stable key (:data:`KEYS`), so a rule's
recall is ``|found ∩ planted| / |planted|`` and every decoy found is a false positive.
"""

from __future__ import annotations

# Years the generator covers by default, and the state.
FIRST_YEAR = 2023
LAST_YEAR = 2026
UF = "GO"

DDL: dict[str, str] = {
    # organs (órgãos/entidades) and their units (unidades gestoras ≈ codigoUnidade)
    "orgaos": """
        cnpj VARCHAR PRIMARY KEY,          -- 14 digits, valid check digits
        razao_social VARCHAR NOT NULL,
        poder_id VARCHAR NOT NULL,         -- 'E', 'L', 'J', 'N'
        esfera_id VARCHAR NOT NULL,        -- 'E' (state) for GO organs, 'M' municipal
        consorcio BOOLEAN NOT NULL         -- consórcio público / agência executiva: art. 75 §2 doubles limits
    """,
    "unidades": """
        cnpj VARCHAR NOT NULL,
        codigo_unidade VARCHAR NOT NULL,   -- e.g. '950001'
        nome_unidade VARCHAR NOT NULL,
        codigo_ibge VARCHAR NOT NULL,      -- 7-digit municipality code (GO: 52xxxxx)
        municipio_nome VARCHAR NOT NULL,
        uf_sigla VARCHAR NOT NULL,         -- 'GO' (a few other states' units exist: the uf filter must drop them)
        PRIMARY KEY (cnpj, codigo_unidade)
    """,
    "fornecedores": """
        ni VARCHAR PRIMARY KEY,            -- CNPJ (14) or CPF (11)
        tipo_pessoa VARCHAR NOT NULL,      -- 'PJ', 'PF'
        nome VARCHAR NOT NULL,
        porte_id INTEGER NOT NULL          -- 1 ME, 2 EPP, 3 Demais, 4 PF, 5 Não informado
    """,
    # object classes (CATMAT classe / CATSER grupo) and catalogue items
    "classes": """
        codigo_classe VARCHAR PRIMARY KEY,
        nome VARCHAR NOT NULL,
        material_ou_servico VARCHAR NOT NULL,  -- 'M' or 'S'
        inciso VARCHAR NOT NULL            -- 'I' (obras, engenharia, manutenção de veículos) or 'II'
    """,
    "catalogo": """
        codigo_item VARCHAR PRIMARY KEY,   -- CATMAT/CATSER item code
        codigo_classe VARCHAR NOT NULL,
        descricao VARCHAR NOT NULL,
        unidade_base VARCHAR NOT NULL,     -- the unit its reference price is in, e.g. 'UN', 'KG', 'L', 'M2', 'H', 'MES'
        preco_base DOUBLE NOT NULL         -- reference unit price in R$ at 2023 prices
    """,
    "contratacoes": """
        numero_controle_pncp VARCHAR PRIMARY KEY,  -- CNPJ-1-seq6/ano
        cnpj VARCHAR NOT NULL,
        codigo_unidade VARCHAR NOT NULL,
        ano_compra INTEGER NOT NULL,
        sequencial_compra INTEGER NOT NULL,
        numero_compra VARCHAR NOT NULL,
        processo VARCHAR NOT NULL,
        modalidade_id INTEGER NOT NULL,    -- 4..9 mostly (see codes)
        tipo_instrumento_id INTEGER NOT NULL,  -- 1 Edital, 2 Aviso de Contratação Direta, 3 Ato
        modo_disputa_id INTEGER NOT NULL,
        situacao_compra_id INTEGER NOT NULL,   -- 1 Divulgada, 2 Revogada, 3 Anulada, 4 Suspensa
        amparo_legal_codigo INTEGER NOT NULL,  -- 18 art. 75 I, 19 art. 75 II, 38 art. 75 VIII, ...
        srp BOOLEAN NOT NULL,
        objeto_compra VARCHAR NOT NULL,
        informacao_complementar VARCHAR,
        valor_total_estimado DOUBLE NOT NULL,  -- 0 when the budget is secret
        valor_total_homologado DOUBLE,         -- NULL until a result exists
        data_publicacao_pncp TIMESTAMP NOT NULL,
        data_abertura_proposta TIMESTAMP,      -- START of proposals (often the publication day)
        data_encerramento_proposta TIMESTAMP,  -- END of proposals: art. 55 counts to this
        data_inclusao TIMESTAMP NOT NULL,
        data_atualizacao TIMESTAMP NOT NULL,
        data_atualizacao_global TIMESTAMP NOT NULL,  -- >= data_atualizacao: a child (item, result) changed
        link_sistema_origem VARCHAR
    """,
    "itens": """
        numero_controle_pncp VARCHAR NOT NULL,
        numero_item INTEGER NOT NULL,      -- 1..n
        material_ou_servico VARCHAR NOT NULL,  -- 'M' or 'S'
        descricao VARCHAR NOT NULL,        -- free text, the ML classifies it
        quantidade DOUBLE NOT NULL,
        unidade_medida VARCHAR NOT NULL,   -- FREE TEXT: 'UN', 'Unidade', 'CX C/ 100 UN', 'KG', 'frasco 500ml', ...
        valor_unitario_estimado DOUBLE NOT NULL,
        valor_total DOUBLE NOT NULL,
        criterio_julgamento_id INTEGER NOT NULL,
        situacao_compra_item_id INTEGER NOT NULL,  -- 1 Em andamento, 2 Homologado, 3 Anulado, 4 Deserto, 5 Fracassado
        tem_resultado BOOLEAN NOT NULL,
        catalogo_id INTEGER,               -- 1 CNBS (CATMAT/CATSER), 2 Outros, NULL: not given
        catalogo_codigo_item VARCHAR,      -- a catalogo.codigo_item when catalogo_id = 1
        codigo_classe VARCHAR NOT NULL,    -- the TRUE class (not served: the ML's label to recover)
        data_inclusao TIMESTAMP NOT NULL,
        data_atualizacao TIMESTAMP NOT NULL,
        PRIMARY KEY (numero_controle_pncp, numero_item)
    """,
    "resultados": """
        numero_controle_pncp VARCHAR NOT NULL,
        numero_item INTEGER NOT NULL,
        sequencial_resultado INTEGER NOT NULL,
        ni_fornecedor VARCHAR NOT NULL,
        tipo_pessoa VARCHAR NOT NULL,
        nome_razao_social_fornecedor VARCHAR NOT NULL,
        porte_fornecedor_id INTEGER NOT NULL,
        quantidade_homologada DOUBLE NOT NULL,
        valor_unitario_homologado DOUBLE NOT NULL,
        valor_total_homologado DOUBLE NOT NULL,
        percentual_desconto DOUBLE,
        ordem_classificacao_srp INTEGER,
        situacao_compra_item_resultado_id INTEGER NOT NULL,  -- 1 Informado, 2 Cancelado
        data_resultado TIMESTAMP NOT NULL,
        data_inclusao TIMESTAMP NOT NULL,
        data_atualizacao TIMESTAMP NOT NULL,
        PRIMARY KEY (numero_controle_pncp, numero_item, sequencial_resultado)
    """,
    "contratos": """
        numero_controle_pncp VARCHAR PRIMARY KEY,  -- CNPJ-2-seq6/ano
        numero_controle_pncp_compra VARCHAR,       -- the contratação; NULL: link missing
        cnpj VARCHAR NOT NULL,
        codigo_unidade VARCHAR NOT NULL,
        ano_contrato INTEGER NOT NULL,
        sequencial_contrato INTEGER NOT NULL,
        numero_contrato_empenho VARCHAR NOT NULL,
        tipo_contrato_id INTEGER NOT NULL,  -- 1 Contrato, 7 Empenho, ...
        ni_fornecedor VARCHAR NOT NULL,
        nome_razao_social_fornecedor VARCHAR NOT NULL,
        objeto_contrato VARCHAR NOT NULL,
        valor_inicial DOUBLE NOT NULL,
        valor_global DOUBLE NOT NULL,       -- changes with amendments
        valor_acumulado DOUBLE NOT NULL,
        data_assinatura DATE NOT NULL,
        data_vigencia_inicio DATE NOT NULL,
        data_vigencia_fim DATE NOT NULL,
        data_publicacao_pncp TIMESTAMP NOT NULL,
        data_atualizacao TIMESTAMP NOT NULL,
        receita BOOLEAN NOT NULL
    """,
    "termos": """
        numero_controle_pncp VARCHAR NOT NULL,  -- the contrato's
        sequencial_termo INTEGER NOT NULL,
        tipo_termo_contrato_id INTEGER NOT NULL,  -- 1 Termo de Rescisão, 2 Termo Aditivo, 3 Termo de Apostilamento
        qualificacao_acrescimo_supressao BOOLEAN NOT NULL,
        qualificacao_vigencia BOOLEAN NOT NULL,
        qualificacao_reajuste BOOLEAN NOT NULL,
        valor_acrescido DOUBLE NOT NULL,        -- ± R$
        prazo_aditado_dias INTEGER NOT NULL,
        data_assinatura DATE NOT NULL,
        data_publicacao_pncp TIMESTAMP NOT NULL,
        PRIMARY KEY (numero_controle_pncp, sequencial_termo)
    """,
    # the ground truth
    "gabarito": """
        rule VARCHAR NOT NULL,     -- 'R1' .. 'R9'
        key VARCHAR NOT NULL,      -- see KEYS
        planted BOOLEAN NOT NULL,  -- true: an irregularity the rule must find; false: a decoy it must not
        params VARCHAR NOT NULL,   -- JSON: what was planted (values, days, ratio, ...)
        PRIMARY KEY (rule, key)
    """,
    "world_meta": """
        name VARCHAR PRIMARY KEY,  -- 'scale', 'seed', 'first_year', 'last_year', 'today'
        value VARCHAR NOT NULL
    """,
}

# Each rule's stable finding key: the same finding has the same key tomorrow.
KEYS: dict[str, str] = {
    "R1": "cnpj|codigo_unidade|ano|codigo_classe|inciso  (fracionamento group; ano of data_publicacao_pncp)",
    "R2": "numero_controle_pncp  (the dispensa)",
    "R3": "numero_controle_pncp  (the licitação)",
    "R4": "numero_controle_pncp  (the emergency contrato; for a recontratação, the later one)",
    "R5": "numero_controle_pncp  (the contrato)",
    "R6": "numero_controle_pncp|numero_item  (the item)",
    "R7": "numero_controle_pncp|numero_item  (the item)",
    "R8": "cnpj|ano|codigo_classe  (the organ's spend on a class in a year)",
    "R9": "numero_controle_pncp  (the contrato)",
}


def create_sql() -> list[str]:
    """``CREATE TABLE`` statements for an empty world."""
    return [f"CREATE TABLE {name} ({body})" for name, body in DDL.items()]
