"""A straightforward check of R1-R5 and R9 (docs/procurement.md) on a written world, so the
gabarito is complete for them: every violation the world holds is planted (natural ones are
added with ``{"natural": true}``) and no decoy is one.

It reads the tables as the suite would after a ``uf=GO`` crawl (units of GO only) and uses
the true class of each item (``itens.codigo_classe``).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..workdays import WorkCalendar
from . import params

CHECKED = ("R1", "R2", "R3", "R4", "R5", "R9")


def _limits(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        (y, inc, v) for y, (l1, l2) in params.LIMITES.items() for inc, v in (("I", l1), ("II", l2))
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _lim (year INTEGER, inciso VARCHAR, value DOUBLE)")
    con.executemany("INSERT INTO _lim VALUES (?, ?, ?)", rows)


def dispensas(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Dispensas de valor (mod. 8, amparo 18/19) of GO units with class, value and limit."""
    _limits(con)
    return con.sql(
        """
        WITH d AS (
            SELECT c.numero_controle_pncp, c.cnpj, c.codigo_unidade,
                   year(c.data_publicacao_pncp) AS ano,
                   CASE c.amparo_legal_codigo WHEN 18 THEN 'I' ELSE 'II' END AS inciso,
                   coalesce(c.valor_total_homologado, c.valor_total_estimado) AS v,
                   greatest(c.valor_total_estimado, coalesce(c.valor_total_homologado, 0)) AS vmax,
                   c.situacao_compra_id AS sit, o.consorcio
            FROM contratacoes c
            JOIN unidades u USING (cnpj, codigo_unidade)
            JOIN orgaos o USING (cnpj)
            WHERE c.modalidade_id = 8 AND c.amparo_legal_codigo IN (18, 19) AND u.uf_sigla = 'GO'
        ), cls AS (
            SELECT i.numero_controle_pncp, i.codigo_classe
            FROM itens i SEMI JOIN d USING (numero_controle_pncp)
            QUALIFY row_number() OVER (
                PARTITION BY i.numero_controle_pncp ORDER BY i.valor_total DESC, i.numero_item) = 1
        )
        SELECT d.*, cls.codigo_classe,
               l.value * CASE WHEN d.consorcio THEN 2 ELSE 1 END AS lim
        FROM d JOIN cls USING (numero_controle_pncp)
        JOIN _lim l ON l.year = d.ano AND l.inciso = d.inciso
        """
    ).df()


def check(con: duckdb.DuckDBPyConnection, cal: WorkCalendar) -> dict[str, set[str]]:
    """The keys of every violation of R1-R5 and R9 in the world."""
    out: dict[str, set[str]] = {}
    d = dispensas(con)
    # R1: situação 1, members below the limit, n >= 2 and Σ >= limit
    r1 = d[(d["sit"] == 1) & (d["v"] < d["lim"])]
    g = r1.groupby(["cnpj", "codigo_unidade", "ano", "codigo_classe", "inciso"]).agg(
        n=("v", "size"), s=("v", "sum"), lim=("lim", "first")
    )
    g = g[(g["n"] >= 2) & (g["s"] >= g["lim"])]
    out["R1"] = {"|".join(str(x) for x in k) for k in g.index}
    # R2: max(estimado, homologado) >= limit
    out["R2"] = set(d.loc[d["vmax"] >= d["lim"], "numero_controle_pncp"])
    # R3: d.u. from publication to the end of proposals < the minimum of item 1
    r3 = con.sql(
        """
        SELECT c.numero_controle_pncp, CAST(c.data_publicacao_pncp AS DATE) AS p,
               CAST(c.data_encerramento_proposta AS DATE) AS e,
               i.material_ou_servico AS k, i.criterio_julgamento_id AS crit
        FROM contratacoes c JOIN unidades u USING (cnpj, codigo_unidade)
        JOIN itens i ON i.numero_controle_pncp = c.numero_controle_pncp AND i.numero_item = 1
        WHERE c.modalidade_id BETWEEN 4 AND 7 AND c.situacao_compra_id = 1
          AND u.uf_sigla = 'GO' AND c.data_encerramento_proposta IS NOT NULL
        """
    ).df()
    du = cal.count_array(r3["p"].to_numpy(), r3["e"].to_numpy())
    out["R3"] = set(
        r3.loc[
            du < params.prazo_minimo(r3["k"].to_numpy(), r3["crit"].to_numpy()),
            "numero_controle_pncp",
        ]
    )
    # R4: emergency contracts: vigência > 365 d, extended, or a recontratação within 365 d
    r4 = con.sql(
        """
        SELECT k.numero_controle_pncp, k.cnpj, k.ni_fornecedor, k.data_assinatura AS a,
               datediff('day', k.data_vigencia_inicio, k.data_vigencia_fim) AS vig,
               coalesce(t.prazo, 0) AS prazo
        FROM contratos k JOIN unidades u USING (cnpj, codigo_unidade)
        JOIN contratacoes c ON c.numero_controle_pncp = k.numero_controle_pncp_compra
        LEFT JOIN (SELECT numero_controle_pncp, max(prazo_aditado_dias) AS prazo FROM termos
                   GROUP BY 1) t ON t.numero_controle_pncp = k.numero_controle_pncp
        WHERE c.amparo_legal_codigo = 38 AND u.uf_sigla = 'GO'
        """
    ).df()
    bad = set(
        r4.loc[(r4["vig"] > params.EMERGENCIA_DIAS) | (r4["prazo"] > 0), "numero_controle_pncp"]
    )
    m = r4.merge(r4, on=["cnpj", "ni_fornecedor"], suffixes=("", "_prev"))
    gap = (m["a"] - m["a_prev"]).dt.days
    m = m[
        (m["numero_controle_pncp"] != m["numero_controle_pncp_prev"])
        & (gap >= 0)
        & (gap <= params.EMERGENCIA_DIAS)
    ]
    out["R4"] = bad | set(m["numero_controle_pncp"])
    # R5: d.u. from signature to publication > 20 (10 when the purchase is mod. 8/9)
    r5 = con.sql(
        """
        SELECT k.numero_controle_pncp, k.data_assinatura AS a,
               CAST(k.data_publicacao_pncp AS DATE) AS p, c.modalidade_id AS m
        FROM contratos k JOIN unidades u USING (cnpj, codigo_unidade)
        LEFT JOIN contratacoes c ON c.numero_controle_pncp = k.numero_controle_pncp_compra
        WHERE u.uf_sigla = 'GO'
        """
    ).df()
    du5 = cal.count_array(r5["a"].to_numpy(), r5["p"].to_numpy())
    lim5 = np.where(r5["m"].isin([8, 9]).to_numpy(), 10, 20)
    out["R5"] = set(r5.loc[du5 > lim5, "numero_controle_pncp"])
    # R9: Σ acréscimos of termos aditivos / valor inicial > 25 % (50 % for a reforma)
    r9 = con.sql(
        """
        SELECT k.numero_controle_pncp
        FROM contratos k JOIN unidades u USING (cnpj, codigo_unidade)
        JOIN termos t ON t.numero_controle_pncp = k.numero_controle_pncp
        WHERE t.tipo_termo_contrato_id = 2 AND t.qualificacao_acrescimo_supressao AND u.uf_sigla = 'GO'
        GROUP BY k.numero_controle_pncp, k.valor_inicial, k.objeto_contrato
        HAVING sum(t.valor_acrescido) / k.valor_inicial
               > CASE WHEN k.objeto_contrato LIKE 'Reforma%' THEN 0.5 ELSE 0.25 END
        """
    ).df()
    out["R9"] = set(r9["numero_controle_pncp"])
    return out


def reconcile(found: dict[str, set[str]], gab: pd.DataFrame) -> pd.DataFrame:
    """The natural violations to add; raises when a planted case is missed or a decoy hit
    (a generator bug)."""
    rows: list[dict[str, Any]] = []
    for rule in CHECKED:
        g = gab[gab["rule"] == rule]
        planted = set(g.loc[g["planted"], "key"])
        decoys = set(g.loc[~g["planted"], "key"])
        f = found.get(rule, set())
        missed = planted - f
        hit = decoys & f
        if missed or hit:
            raise RuntimeError(
                f"{rule}: {len(missed)} planted cases not violations (e.g. {sorted(missed)[:3]}), "
                f"{len(hit)} decoys are (e.g. {sorted(hit)[:3]})"
            )
        for key in sorted(f - planted):
            rows.append({"rule": rule, "key": key, "planted": True, "params": '{"natural": true}'})
    return pd.DataFrame(rows, columns=["rule", "key", "planted", "params"])
