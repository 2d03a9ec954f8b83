"""From the landing store to the published tables of dataset ``procurement``.

:func:`build` runs in a build's DuckDB connection with the landing attached read-only as
``land``. It writes the reference tables (limits, minimum periods, working days, codes), the
purchases, items, results, contracts and termos with the columns the rules and the panels
need (organ and unit ids for row-level security, the item's class and unit family), then
the findings of the rules (table ``achados``).

The class of an item is its catalogue class (CATMAT classe / CATSER grupo of
``catalogoCodigoItem`` when ``catalogo.id = 1``), else the class the model gives its
description when it does not abstain (``classe_fonte`` says which).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from ..workdays import WorkCalendar
from . import rules

# (descriptions frame with columns numero_controle_pncp, numero_item, descricao) ->
# frame with the same keys and codigo_classe (None: abstained), prob
Classifier = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class ModelParams:
    rules: rules.RuleParams = field(default_factory=rules.RuleParams)
    limite_dobrado: tuple[str, ...] = ()  # organ CNPJs with double limits (art. 75 §2)
    feriados_extras: tuple[date, ...] = ()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def reference_tables(con: Any, params: ModelParams, first: date, last: date) -> None:
    """Limits, minimum periods, codes and the working-day counter ``dias_uteis``."""
    from .. import codes

    con.register("_limites", codes.limits_frame())
    con.execute("CREATE OR REPLACE TABLE limites_dispensa AS SELECT * FROM _limites")
    con.unregister("_limites")
    con.register("_prazos", codes.minimum_days_frame())
    con.execute("CREATE OR REPLACE TABLE prazos_minimos AS SELECT * FROM _prazos")
    con.unregister("_prazos")
    for name, frame in (("modalidades", codes.modalidades()), ("amparos", codes.amparos())):
        con.register("_f", frame)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _f")
        con.unregister("_f")
    cal = WorkCalendar(first.year - 1, last.year + 1, extra=params.feriados_extras)
    days = pd.date_range(date(first.year - 1, 1, 1), date(last.year + 1, 12, 31), freq="D")
    working = [cal.is_working(d.date()) for d in days]
    frame = pd.DataFrame({"dia": days.date, "util": working})
    frame["n"] = frame["util"].cumsum().astype("int64")
    con.register("_dias", frame)
    con.execute("CREATE OR REPLACE TABLE dias_uteis AS SELECT dia, util, n FROM _dias ORDER BY dia")
    con.unregister("_dias")


def units_table(con: Any) -> None:
    """``unidades_medida``: each distinct free-text unit → family and multiplier (NULL:
    unparseable: the item is left out of price rules and counted)."""
    from .. import units

    distinct = con.execute("SELECT DISTINCT unidade_medida FROM land.itens").df()
    parsed = units.normalise_series(distinct["unidade_medida"])
    frame = pd.DataFrame(
        {
            "unidade_medida": distinct["unidade_medida"].to_numpy(),
            "familia": parsed["family"].to_numpy(),
            "mult": parsed["multiplier"].to_numpy(),
        }
    )
    con.register("_u", frame)
    con.execute("CREATE OR REPLACE TABLE unidades_medida AS SELECT * FROM _u")
    con.unregister("_u")


def item_classes(con: Any, classify: Classifier | None) -> dict[str, int]:
    """``classes_itens``: the class of every item and where it came from."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE classes_itens AS
        SELECT i.numero_controle_pncp, i.numero_item, k.codigo_classe,
               'catalogo' AS classe_fonte, 1.0::DOUBLE AS classe_prob
        FROM land.itens i JOIN land.catalogo k ON k.codigo_item = i.catalogo_codigo_item
        WHERE i.catalogo_id = 1"""
    )
    counts = {"catalogo": con.execute("SELECT count(*) FROM classes_itens").fetchall()[0][0]}
    if classify is not None:
        rest = con.execute(
            "SELECT numero_controle_pncp, numero_item, descricao FROM land.itens i "
            "ANTI JOIN classes_itens USING (numero_controle_pncp, numero_item)"
        ).df()
        if len(rest):
            got = classify(rest)
            con.register("_ml", got)
            con.execute(
                "INSERT INTO classes_itens SELECT numero_controle_pncp, numero_item, "
                "codigo_classe, 'modelo', prob FROM _ml WHERE codigo_classe IS NOT NULL"
            )
            con.unregister("_ml")
        counts["modelo"] = con.execute(
            "SELECT count(*) FROM classes_itens WHERE classe_fonte = 'modelo'"
        ).fetchall()[0][0]
        counts["sem_classe"] = len(rest) - counts["modelo"]
    return counts


def tables(con: Any, params: ModelParams) -> None:
    """The published tables, from ``land`` and the helper tables above."""
    con.register("_dobro", pd.DataFrame({"cnpj": list(params.limite_dobrado)}, dtype="object"))
    con.execute(
        """CREATE OR REPLACE TABLE orgaos AS
        SELECT o.cnpj AS orgao_cnpj, o.razao_social, o.poder_id, o.esfera_id,
               o.cnpj IN (SELECT cnpj FROM _dobro) AS limite_dobrado
        FROM land.orgaos o ORDER BY orgao_cnpj"""
    )
    con.unregister("_dobro")
    con.execute(
        """CREATE OR REPLACE TABLE unidades AS
        SELECT cnpj AS orgao_cnpj, codigo_unidade, cnpj || '-' || codigo_unidade AS unidade_id,
               nome_unidade, codigo_ibge, municipio_nome, uf_sigla
        FROM land.unidades ORDER BY orgao_cnpj, codigo_unidade"""
    )
    con.execute(
        "CREATE OR REPLACE TABLE fornecedores AS SELECT * FROM land.fornecedores ORDER BY ni"
    )
    con.execute(
        "CREATE OR REPLACE TABLE classes AS SELECT * FROM land.classes ORDER BY codigo_classe"
    )
    con.execute(
        """CREATE OR REPLACE TABLE itens AS
        SELECT c.cnpj AS orgao_cnpj, c.cnpj || '-' || c.codigo_unidade AS unidade_id, i.*,
               k.codigo_classe, k.classe_fonte, k.classe_prob,
               u.familia AS unidade_familia, u.mult AS unidade_mult
        FROM land.itens i JOIN land.contratacoes c USING (numero_controle_pncp)
        LEFT JOIN classes_itens k USING (numero_controle_pncp, numero_item)
        LEFT JOIN unidades_medida u USING (unidade_medida)
        ORDER BY orgao_cnpj, numero_controle_pncp, numero_item"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE contratacoes AS
        WITH principal AS (
            SELECT numero_controle_pncp, arg_min(codigo_classe, (-valor_total, numero_item))
                   AS codigo_classe
            FROM itens GROUP BY ALL
        ), primeiro AS (
            SELECT numero_controle_pncp, material_ou_servico, criterio_julgamento_id
            FROM itens WHERE numero_item = (SELECT min(numero_item) FROM itens j
                                            WHERE j.numero_controle_pncp = itens.numero_controle_pncp)
        ), n AS (SELECT numero_controle_pncp, count(*) AS itens FROM itens GROUP BY ALL)
        SELECT c.cnpj AS orgao_cnpj, c.cnpj || '-' || c.codigo_unidade AS unidade_id,
               c.* EXCLUDE (cnpj),
               year(c.data_publicacao_pncp) AS ano,
               CASE c.amparo_legal_codigo WHEN 18 THEN 'I' WHEN 19 THEN 'II' END AS inciso,
               CASE WHEN c.valor_total_homologado > 0 THEN c.valor_total_homologado
                    ELSE c.valor_total_estimado END AS valor,
               p.codigo_classe, f.material_ou_servico, f.criterio_julgamento_id,
               coalesce(n.itens, 0) AS itens,
               'https://pncp.gov.br/app/editais/' || c.cnpj || '/' || c.ano_compra || '/'
                 || c.sequencial_compra AS link_pncp
        FROM land.contratacoes c LEFT JOIN principal p USING (numero_controle_pncp)
        LEFT JOIN primeiro f USING (numero_controle_pncp)
        LEFT JOIN n USING (numero_controle_pncp)
        ORDER BY orgao_cnpj, numero_controle_pncp"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE resultados AS
        SELECT c.cnpj AS orgao_cnpj, c.cnpj || '-' || c.codigo_unidade AS unidade_id, r.*
        FROM land.resultados r JOIN land.contratacoes c USING (numero_controle_pncp)
        ORDER BY orgao_cnpj, numero_controle_pncp, numero_item, sequencial_resultado"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE contratos AS
        SELECT k.cnpj AS orgao_cnpj, k.cnpj || '-' || k.codigo_unidade AS unidade_id,
               k.* EXCLUDE (cnpj),
               'https://pncp.gov.br/app/contratos/' || k.cnpj || '/' || k.ano_contrato || '/'
                 || k.sequencial_contrato AS link_pncp
        FROM land.contratos k ORDER BY orgao_cnpj, numero_controle_pncp"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE termos AS
        SELECT k.orgao_cnpj, k.unidade_id, t.*
        FROM land.termos t JOIN contratos k USING (numero_controle_pncp)
        ORDER BY orgao_cnpj, numero_controle_pncp, sequencial_termo"""
    )


def findings(con: Any, params: ModelParams) -> dict[str, int]:
    counts = rules.run(con, params.rules)
    titles = pd.DataFrame(
        [(r, t, f) for r, (t, f) in rules.RULES.items()], columns=["regra", "titulo", "fundamento"]
    )
    con.register("_t", titles)
    con.execute(
        """CREATE OR REPLACE TABLE achados AS
        SELECT a.regra, t.titulo, t.fundamento, a.chave, a.orgao_cnpj,
               coalesce(a.unidade_id, c.unidade_id, k.unidade_id) AS unidade_id,
               a.numero_controle_pncp, a.ano, a.risco, a.resumo, a.evidencia,
               coalesce(c.link_pncp, k.link_pncp) AS link_pncp
        FROM achados a JOIN _t t USING (regra)
        LEFT JOIN contratacoes c ON c.numero_controle_pncp = a.numero_controle_pncp
        LEFT JOIN contratos k ON k.numero_controle_pncp = a.numero_controle_pncp
        ORDER BY a.regra, a.risco DESC, a.chave"""
    )
    con.unregister("_t")
    return counts


def build(
    con: Any, landing: Path, params: ModelParams, classify: Classifier | None = None
) -> dict[str, Any]:
    """Every published table of dataset ``procurement`` in ``con`` from ``landing``."""
    con.execute(f"ATTACH '{_sql_path(landing)}' AS land (READ_ONLY)")
    try:
        first, last = con.execute(
            "SELECT min(d), max(d) FROM (SELECT CAST(data_publicacao_pncp AS DATE) d FROM "
            "land.contratacoes UNION ALL SELECT data_assinatura FROM land.contratos UNION ALL "
            "SELECT CAST(data_encerramento_proposta AS DATE) FROM land.contratacoes)"
        ).fetchall()[0]
        today = date.today()
        reference_tables(con, params, first or today, (last or today) + timedelta(days=1))
        units_table(con)
        classified = item_classes(con, classify)
        tables(con, params)
    finally:
        con.execute("DETACH land")
    counts = findings(con, params)
    return {"classes": classified, "achados": counts}
