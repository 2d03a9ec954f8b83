"""The red-flag rules R1-R9, one SQL query each (definitions and legal basis:
docs/procurement.md, "Rules R1–R9").

Each query selects findings as :data:`FINDING_COLUMNS` from the build's tables (built by
:mod:`.model`): the organ and unit the finding belongs to (row-level security), the rule's
stable key, the purchase or contract it points at, the year, the risk in R$, a one-line
summary in pt-BR and the evidence as JSON (the rows and the numbers compared).

Working days are counted with the table ``dias_uteis(dia, n)`` (``n`` = working days up to
and including ``dia``): the count from A to B (A excluded, B included, art. 183) is
``n(B) - n(A)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FINDING_COLUMNS = (
    "regra",
    "chave",
    "orgao_cnpj",
    "unidade_id",
    "numero_controle_pncp",
    "ano",
    "risco",
    "resumo",
    "evidencia",
)

RULES: dict[str, tuple[str, str]] = {
    "R1": ("Fracionamento de despesa", "Lei 14.133/2021, art. 75, § 1º"),
    "R2": ("Dispensa acima do limite", "Lei 14.133/2021, art. 75, I e II"),
    "R3": ("Prazo mínimo de propostas", "Lei 14.133/2021, art. 55"),
    "R4": ("Contratação emergencial irregular", "Lei 14.133/2021, art. 75, VIII"),
    "R5": ("Publicação tardia do contrato", "Lei 14.133/2021, art. 94"),
    "R6": ("Sobrepreço", "Lei 14.133/2021, art. 23; IN SEGES/ME 65/2021, art. 5º"),
    "R7": ("Baixa competição (indício)", "Indicador R018 (Open Contracting Cardinal), adaptado"),
    "R8": ("Concentração de fornecedor", "Indicador R025 (Open Contracting Cardinal), adaptado"),
    "R9": ("Aditivos acima do limite", "Lei 14.133/2021, art. 125"),
}


@dataclass(frozen=True)
class RuleParams:
    """Every threshold of the rules; the defaults are docs/procurement.md's."""

    r1_min_dispensas: int = 2
    r4_max_vigencia_dias: int = 365
    r4_recontratacao_dias: int = 365
    r5_dias_uteis_licitacao: int = 20
    r5_dias_uteis_direta: int = 10
    r6_razao: float = 1.5
    r6_min_precos: int = 5
    r6_min_orgaos: int = 3
    r6_janela_dias: int = 365
    r6_z_classe: float = 3.5  # a class-level reference also needs a robust log-z above this
    r6_prob_classe: float = 0.9  # ... and a class the model gives with at least this confidence
    r7_razao: float = 0.98
    r8_min_resultados: int = 5
    r8_participacao: float = 0.8
    r8_hhi: float = 0.70
    r9_limite: float = 0.25
    r9_limite_reforma: float = 0.50


DISPENSA = "c.modalidade_id = 8 AND c.amparo_legal_codigo IN (18, 19)"
LICITACAO = "c.modalidade_id IN (4, 5, 6, 7)"


def _limit_join(alias: str = "c") -> str:
    """Join the dispensa limit of the purchase's year and inciso (doubled for art. 75 §2)."""
    return (
        f"JOIN limites_dispensa l ON l.ano = {alias}.ano AND l.inciso = {alias}.inciso "
        f"JOIN orgaos o ON o.orgao_cnpj = {alias}.orgao_cnpj"
    )


_LIMIT = "(l.valor * CASE WHEN o.limite_dobrado THEN 2 ELSE 1 END)"


def _brl(expr: str) -> str:
    """A SQL expression formatting ``expr`` as 'R$ 1.234,56' (for the summaries)."""
    return (
        f"'R$ ' || replace(replace(replace(format('{{:,.2f}}', {expr}), ',', '#'), '.', ','), "
        "'#', '.')"
    )


def _dec(expr: str, decimals: int = 1) -> str:
    """A SQL expression formatting ``expr`` with a decimal comma ('98,9'; '85' with 0)."""
    return f"replace(format('{{:.{decimals}f}}', ({expr})::DOUBLE), '.', ',')"


def queries(p: RuleParams) -> dict[str, str]:
    """Rule -> SELECT of its findings (columns :data:`FINDING_COLUMNS`)."""
    q: dict[str, str] = {}
    q["R1"] = f"""
        WITH d AS (
            SELECT c.*, {_LIMIT} AS limite FROM contratacoes c {_limit_join()}
            WHERE {DISPENSA} AND c.situacao_compra_id = 1 AND c.codigo_classe IS NOT NULL
        ), g AS (
            SELECT orgao_cnpj, codigo_unidade, unidade_id, ano, codigo_classe, inciso,
                   any_value(limite) AS limite, count(*) AS n, sum(valor) AS total,
                   max(valor) AS maior,
                   list(struct_pack(numero_controle_pncp, valor, data_publicacao_pncp)
                        ORDER BY data_publicacao_pncp, numero_controle_pncp) AS compras
            FROM d GROUP BY ALL
        )
        SELECT 'R1', concat_ws('|', orgao_cnpj, codigo_unidade, ano, codigo_classe, inciso),
               orgao_cnpj, unidade_id, NULL, ano, total - limite,
               n || ' dispensas da mesma classe somam ' || {_brl("total")}
                 || ', acima do limite de ' || {_brl("limite")} || ' (inciso ' || inciso || ')',
               to_json(struct_pack(classe := codigo_classe, inciso, limite, total, n, compras))
        FROM g WHERE n >= {p.r1_min_dispensas} AND maior < limite AND total >= limite"""
    q["R2"] = f"""
        SELECT 'R2', c.numero_controle_pncp, c.orgao_cnpj, c.unidade_id, c.numero_controle_pncp,
               c.ano, greatest(c.valor_total_estimado, coalesce(c.valor_total_homologado, 0)),
               'Dispensa de ' || {_brl("greatest(c.valor_total_estimado, coalesce(c.valor_total_homologado, 0))")}
                 || ', limite de ' || {_brl(_LIMIT)} || ' (inciso ' || c.inciso || ')',
               to_json(struct_pack(estimado := c.valor_total_estimado,
                   homologado := c.valor_total_homologado, limite := {_LIMIT}, c.inciso, c.ano))
        FROM contratacoes c {_limit_join()}
        WHERE {DISPENSA}
          AND greatest(c.valor_total_estimado, coalesce(c.valor_total_homologado, 0)) >= {_LIMIT}"""
    q["R3"] = (
        """
        WITH x AS (
            SELECT c.*, m.dias AS minimo,
                   e.n - b.n AS dias_uteis
            FROM contratacoes c
            JOIN prazos_minimos m ON m.material_ou_servico = c.material_ou_servico
                 AND m.criterio_julgamento_id = c.criterio_julgamento_id
            JOIN dias_uteis b ON b.dia = CAST(c.data_publicacao_pncp AS DATE)
            JOIN dias_uteis e ON e.dia = CAST(c.data_encerramento_proposta AS DATE)
            WHERE """
        + LICITACAO
        + """ AND c.situacao_compra_id = 1
              AND c.data_encerramento_proposta IS NOT NULL
        )
        SELECT 'R3', numero_controle_pncp, orgao_cnpj, unidade_id, numero_controle_pncp, ano,
               valor_total_estimado,
               'Propostas abertas por ' || dias_uteis || ' dia(s) útil(eis); o mínimo é '
                 || minimo,
               to_json(struct_pack(publicacao := data_publicacao_pncp,
                   encerramento := data_encerramento_proposta, dias_uteis, minimo,
                   material_ou_servico, criterio_julgamento_id))
        FROM x WHERE dias_uteis < minimo"""
    )
    q["R4"] = f"""
        WITH e AS (
            SELECT k.*, c.amparo_legal_codigo FROM contratos k
            JOIN contratacoes c ON c.numero_controle_pncp = k.numero_controle_pncp_compra
            WHERE c.amparo_legal_codigo = 38
        ), prorrogado AS (
            SELECT numero_controle_pncp, sum(prazo_aditado_dias) AS dias_aditados
            FROM termos WHERE prazo_aditado_dias > 0 GROUP BY ALL
        ), anterior AS (
            SELECT a.numero_controle_pncp, min(b.numero_controle_pncp) AS contrato_anterior,
                   min(b.data_assinatura) AS assinatura_anterior
            FROM e a JOIN e b ON a.orgao_cnpj = b.orgao_cnpj AND a.ni_fornecedor = b.ni_fornecedor
                 AND b.data_assinatura < a.data_assinatura
                 AND b.data_assinatura >= a.data_assinatura - INTERVAL {p.r4_recontratacao_dias} DAY
            GROUP BY ALL
        ), x AS (
            SELECT e.*, date_diff('day', e.data_vigencia_inicio, e.data_vigencia_fim) AS vigencia,
                   p.dias_aditados, a.contrato_anterior, a.assinatura_anterior
            FROM e LEFT JOIN prorrogado p USING (numero_controle_pncp)
            LEFT JOIN anterior a USING (numero_controle_pncp)
        )
        SELECT 'R4', numero_controle_pncp, orgao_cnpj, unidade_id, numero_controle_pncp,
               year(data_assinatura), valor_global,
               concat_ws('; ',
                   CASE WHEN vigencia > {p.r4_max_vigencia_dias}
                        THEN 'vigência de ' || vigencia || ' dias (máximo 1 ano)' END,
                   CASE WHEN dias_aditados > 0
                        THEN 'prorrogado por ' || dias_aditados || ' dias (vedado)' END,
                   CASE WHEN contrato_anterior IS NOT NULL
                        THEN 'recontratação do mesmo fornecedor em menos de 1 ano' END),
               to_json(struct_pack(vigencia_dias := vigencia, dias_aditados, contrato_anterior,
                   assinatura_anterior, fornecedor := ni_fornecedor,
                   inicio := data_vigencia_inicio, fim := data_vigencia_fim))
        FROM x WHERE vigencia > {p.r4_max_vigencia_dias} OR dias_aditados > 0
              OR contrato_anterior IS NOT NULL"""
    q["R5"] = f"""
        WITH x AS (
            SELECT k.*, c.modalidade_id AS modalidade_compra,
                   c.numero_controle_pncp IS NULL AS sem_vinculo,
                   CASE WHEN c.modalidade_id IN (8, 9) THEN {p.r5_dias_uteis_direta}
                        ELSE {p.r5_dias_uteis_licitacao} END AS prazo,
                   p.n - a.n AS dias_uteis
            FROM contratos k
            LEFT JOIN contratacoes c ON c.numero_controle_pncp = k.numero_controle_pncp_compra
            JOIN dias_uteis a ON a.dia = k.data_assinatura
            JOIN dias_uteis p ON p.dia = CAST(k.data_publicacao_pncp AS DATE)
        )
        SELECT 'R5', numero_controle_pncp, orgao_cnpj, unidade_id, numero_controle_pncp,
               year(data_assinatura), valor_global,
               'Publicado ' || dias_uteis || ' dia(s) útil(eis) após a assinatura; o prazo é '
                 || prazo || CASE WHEN sem_vinculo THEN ' (vínculo com a contratação ausente)'
                                  ELSE '' END,
               to_json(struct_pack(assinatura := data_assinatura,
                   publicacao := data_publicacao_pncp, dias_uteis, prazo, modalidade_compra,
                   vinculo_ausente := sem_vinculo))
        FROM x WHERE dias_uteis > prazo"""
    q["R6"] = f"""
        WITH p AS (
            SELECT r.*, date_trunc('month', r.data_resultado) AS mes,
                   coalesce(i.catalogo_codigo_item, 'classe:' || i.codigo_classe) AS referencia,
                   i.unidade_familia, i.descricao, i.unidade_medida,
                   r.valor_unitario_homologado / i.unidade_mult AS preco,
                   r.quantidade_homologada * i.unidade_mult AS quantidade_base
            FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item)
            WHERE i.unidade_familia IS NOT NULL AND r.valor_unitario_homologado > 0
              AND (i.catalogo_codigo_item IS NOT NULL
                   OR (i.codigo_classe IS NOT NULL
                       AND (i.classe_fonte = 'catalogo' OR i.classe_prob >= {p.r6_prob_classe})))
        ), meses AS (SELECT DISTINCT referencia, unidade_familia, mes FROM p),
        ref AS (
            SELECT m.referencia, m.unidade_familia, m.mes, median(q.preco) AS referencia_preco,
                   median(ln(q.preco)) AS mediana_log, mad(ln(q.preco)) AS mad_log,
                   count(*) AS n, count(DISTINCT q.orgao_cnpj) AS orgaos
            FROM meses m JOIN p q ON q.referencia = m.referencia
                 AND q.unidade_familia = m.unidade_familia
                 AND q.data_resultado < m.mes
                 AND q.data_resultado >= m.mes - INTERVAL {p.r6_janela_dias} DAY
            GROUP BY ALL HAVING count(*) >= {p.r6_min_precos}
                 AND count(DISTINCT q.orgao_cnpj) >= {p.r6_min_orgaos}
        )
        SELECT 'R6', p.numero_controle_pncp || '|' || p.numero_item, p.orgao_cnpj, p.unidade_id,
               p.numero_controle_pncp, year(p.data_resultado),
               (p.preco - ref.referencia_preco) * p.quantidade_base,
               'Preço ' || {_dec("p.preco / ref.referencia_preco")} || '× a mediana de '
                 || ref.n || CASE WHEN starts_with(p.referencia, 'classe:')
                                  THEN ' preços da mesma classe' ELSE ' preços do mesmo item'
                             END || ' nos 12 meses anteriores',
               to_json(struct_pack(item := p.numero_item, p.descricao, p.unidade_medida,
                   preco_unitario := p.valor_unitario_homologado, preco_base := p.preco,
                   referencia := ref.referencia_preco, n := ref.n, orgaos := ref.orgaos,
                   base := CASE WHEN starts_with(p.referencia, 'classe:') THEN 'classe'
                                ELSE 'item do catálogo' END,
                   fornecedor := p.ni_fornecedor, quantidade := p.quantidade_homologada))
        FROM p JOIN ref USING (referencia, unidade_familia, mes)
        WHERE p.preco >= {p.r6_razao} * ref.referencia_preco
          AND (NOT starts_with(p.referencia, 'classe:')
               OR (ref.mad_log > 0 AND (ln(p.preco) - ref.mediana_log) / (1.4826 * ref.mad_log)
                   > {p.r6_z_classe}))"""
    q["R7"] = f"""
        SELECT 'R7', r.numero_controle_pncp || '|' || r.numero_item, r.orgao_cnpj, r.unidade_id,
               r.numero_controle_pncp, c.ano, r.valor_total_homologado,
               'Homologado a ' || {_dec("100 * r.valor_unitario_homologado / i.valor_unitario_estimado")}
                   || '% do valor estimado',
               to_json(struct_pack(item := r.numero_item, i.descricao,
                   estimado := i.valor_unitario_estimado,
                   homologado := r.valor_unitario_homologado, fornecedor := r.ni_fornecedor))
        FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item)
        JOIN contratacoes c USING (numero_controle_pncp)
        WHERE {LICITACAO} AND i.valor_unitario_estimado > 0
          AND r.valor_unitario_homologado >= {p.r7_razao} * i.valor_unitario_estimado"""
    q["R8"] = f"""
        WITH r AS (
            SELECT r.orgao_cnpj, c.ano, i.codigo_classe, r.ni_fornecedor,
                   r.valor_total_homologado AS valor
            FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item)
            JOIN contratacoes c USING (numero_controle_pncp)
            WHERE i.codigo_classe IS NOT NULL AND r.valor_total_homologado > 0
        ), f AS (
            SELECT orgao_cnpj, ano, codigo_classe, ni_fornecedor, sum(valor) AS valor,
                   count(*) AS n FROM r GROUP BY ALL
        ), g AS (
            SELECT orgao_cnpj, ano, codigo_classe, sum(n) AS n, sum(valor) AS total,
                   arg_max(ni_fornecedor, valor) AS principal, max(valor) AS valor_principal,
                   sum((valor / t.total) ^ 2) AS hhi
            FROM f JOIN (SELECT orgao_cnpj, ano, codigo_classe, sum(valor) AS total FROM f
                         GROUP BY ALL) t USING (orgao_cnpj, ano, codigo_classe)
            GROUP BY ALL
        )
        SELECT 'R8', concat_ws('|', orgao_cnpj, ano, codigo_classe), orgao_cnpj, NULL, NULL, ano,
               valor_principal,
               'Um fornecedor recebeu ' || {_dec("100 * valor_principal / total", 0)} || '% de '
                 || {_brl("total")} || ' gastos na classe (' || n || ' resultados)',
               to_json(struct_pack(classe := codigo_classe, fornecedor := principal,
                   valor_fornecedor := valor_principal, total, n, hhi))
        FROM g WHERE n >= {p.r8_min_resultados}
          AND (valor_principal / total > {p.r8_participacao} OR hhi > {p.r8_hhi})"""
    q["R9"] = f"""
        WITH a AS (
            SELECT numero_controle_pncp, sum(valor_acrescido) AS acrescido, count(*) AS termos
            FROM termos WHERE tipo_termo_contrato_id = 2 AND qualificacao_acrescimo_supressao
            GROUP BY ALL
        ), x AS (
            SELECT k.*, a.acrescido, a.termos,
                   CASE WHEN lower(k.objeto_contrato) LIKE 'reforma%' THEN {p.r9_limite_reforma}
                        ELSE {p.r9_limite} END AS limite
            FROM contratos k JOIN a USING (numero_controle_pncp) WHERE k.valor_inicial > 0
        )
        SELECT 'R9', numero_controle_pncp, orgao_cnpj, unidade_id, numero_controle_pncp,
               year(data_assinatura), acrescido - limite * valor_inicial,
               'Aditivos somam ' || {_dec("100 * acrescido / valor_inicial")}
                 || '% do valor inicial; o limite é ' || {_dec("100 * limite", 0)} || '%',
               to_json(struct_pack(valor_inicial, acrescido, termos, limite))
        FROM x WHERE acrescido / valor_inicial > limite"""
    return q


def run(con: Any, params: RuleParams, only: tuple[str, ...] = ()) -> dict[str, int]:
    """Create table ``achados`` with every rule's findings; returns the count per rule."""
    cols = ", ".join(FINDING_COLUMNS)
    con.execute(
        "CREATE OR REPLACE TABLE achados (regra VARCHAR, chave VARCHAR, orgao_cnpj VARCHAR, "
        "unidade_id VARCHAR, numero_controle_pncp VARCHAR, ano INTEGER, risco DOUBLE, "
        "resumo VARCHAR, evidencia JSON)"
    )
    counts = {}
    for rule, sql in queries(params).items():
        if only and rule not in only:
            continue
        con.execute(f"INSERT INTO achados ({cols}) {sql}")
        counts[rule] = con.execute(
            "SELECT count(*) FROM achados WHERE regra = ?", [rule]
        ).fetchall()[0][0]
    return counts
