"""The inconsistency rules I1-I14, one SQL query each (definitions: docs/school.md).

Each query selects findings as ``(school_id, id_turma, id_matricula, co_pessoa_fisica,
componente, bimestre, dt_aula, detalhe)`` from the scratch tables of :mod:`.model`; a
finding's key is its rule plus the ids the rule names (the others are NULL).
"""

from __future__ import annotations

import duckdb

from ..contract import RULE_NAMES
from .model import etapa_nome_sql, lit
from .settings import Rules

__all__ = ["FINDING_COLUMNS", "RULE_NAMES", "queries", "run"]

FINDING_COLUMNS = (
    "school_id",
    "id_turma",
    "id_matricula",
    "co_pessoa_fisica",
    "componente",
    "bimestre",
    "dt_aula",
    "detalhe",
)


_ESC_ATIVA = "m.escolarizacao AND m.ativa"


def _none(*given: str) -> str:
    """The finding columns, NULL except those ``given`` as ``column=expression``."""
    values = dict(g.split("=", 1) for g in given)
    return ", ".join(f"{values.get(c, 'NULL')} AS {c}" for c in FINDING_COLUMNS)


def queries(rules: Rules, has_teachers: bool, year: int) -> dict[str, str]:
    """Rule -> SELECT of its findings."""
    r = rules
    out: dict[str, str] = {}
    out["I1"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe='também ativa em ' || o.n_escolas || ' outra(s) escola(s)'",
        )
    }
        FROM raw.mat m JOIN (SELECT a.id_matricula, count(DISTINCT b.school_id) AS n_escolas
            FROM raw.mat a JOIN raw.mat b ON a.co_pessoa_fisica = b.co_pessoa_fisica
            AND a.id_matricula <> b.id_matricula AND a.school_id <> b.school_id
            WHERE a.escolarizacao AND a.ativa AND b.escolarizacao AND b.ativa GROUP BY ALL) o
        USING (id_matricula)"""
    out["I2"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe='outra matrícula ativa na escola'",
        )
    }
        FROM raw.mat m WHERE {_ESC_ATIVA} AND EXISTS (SELECT 1 FROM raw.mat b
            WHERE b.co_pessoa_fisica = m.co_pessoa_fisica AND b.id_matricula <> m.id_matricula
            AND b.school_id = m.school_id AND b.escolarizacao AND b.ativa)"""
    out["I3"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe='sem turma'",
        )
    }
        FROM raw.mat m WHERE {_ESC_ATIVA} AND NOT m.enturmada"""
    too_young = (
        f"(m.etapa = 14 AND date_part('year', age(DATE '{year}-03-31', m.dt_nascimento)) < 6) OR "
        "(m.etapa <> 14 AND m.idade_ano < m.idade_esperada - 1)"
    )
    out["I4"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe=CASE WHEN m.etapa = 14 AND date_part('year', age(DATE '"
            + str(year)
            + "-03-31', m.dt_nascimento)) < 6 THEN 'menos de 6 anos completos em 31/03' "
            "ELSE m.idade_ano || ' anos; idade esperada ' || m.idade_esperada END",
        )
    }
        FROM (SELECT *, {year} - year(dt_nascimento) AS idade_ano FROM raw.mat) m
        WHERE {_ESC_ATIVA} AND m.dt_nascimento IS NOT NULL AND m.idade_esperada IS NOT NULL
        AND (({too_young}) OR m.idade_ano >= m.idade_esperada + {int(r.idade_max_acima)})"""
    out["I5"] = f"""SELECT {
        _none(
            "school_id=t.school_id",
            "id_turma=t.id_turma",
            "detalhe=a.n || ' ativos; capacidade ' || t.capacidade",
        )
    }
        FROM raw.tur t JOIN (SELECT id_turma, count(*) AS n FROM raw.mat m
            WHERE m.ativa AND m.enturmada GROUP BY ALL) a USING (id_turma)
        WHERE t.escolarizacao AND a.n > t.capacidade"""
    if has_teachers:
        out["I6"] = f"""SELECT {
            _none(
                "school_id=t.school_id",
                "id_turma=t.id_turma",
                "componente=c.componente",
                "detalhe='sem professor'",
            )
        }
            FROM raw.tur t JOIN raw.curriculo c ON c.grupo = t.grupo
            WHERE t.escolarizacao AND t.etapa IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM raw.docente_turma d WHERE d.ID_TURMA = t.id_turma
                AND d.CO_COMPONENTE = c.componente)"""
    expected = f"""SELECT m.school_id, m.id_turma, m.id_matricula, m.co_pessoa_fisica,
        c.componente, b.bimestre FROM raw.mat m JOIN raw.tur t ON t.id_turma = m.id_turma
        JOIN raw.curriculo c ON c.grupo = t.grupo
        JOIN raw.cal b ON b.devido AND m.dt_matricula <= b.dt_inicio
        WHERE {_ESC_ATIVA} AND m.enturmada"""
    out["I7"] = f"""SELECT {
        _none(
            "school_id=e.school_id",
            "id_matricula=e.id_matricula",
            "co_pessoa_fisica=e.co_pessoa_fisica",
            "componente=e.componente",
            "bimestre=e.bimestre",
            "detalhe='nota não lançada'",
        )
    }
        FROM ({expected}) e ANTI JOIN (SELECT * FROM raw.nota WHERE VL_NOTA IS NOT NULL) n
        ON n.ID_MATRICULA = e.id_matricula AND n.CO_COMPONENTE = e.componente
        AND n.NU_BIMESTRE = e.bimestre"""
    out["I8"] = f"""SELECT {
        _none(
            "school_id=e.school_id",
            "id_matricula=e.id_matricula",
            "co_pessoa_fisica=e.co_pessoa_fisica",
            "componente=e.componente",
            "bimestre=e.bimestre",
            "detalhe='frequência não lançada'",
        )
    }
        FROM ({expected}) e ANTI JOIN raw.frequencia f
        ON f.ID_MATRICULA = e.id_matricula AND f.CO_COMPONENTE = e.componente
        AND f.NU_BIMESTRE = e.bimestre"""
    out["I9"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "componente=f.CO_COMPONENTE",
            "bimestre=f.NU_BIMESTRE",
            "detalhe=CASE WHEN f.QT_FALTAS > f.QT_AULAS_DADAS THEN f.QT_FALTAS || ' faltas em ' "
            "|| f.QT_AULAS_DADAS || ' aulas' ELSE f.QT_AULAS_DADAS || ' aulas em ' || c.dias_letivos "
            "|| ' dias letivos' END",
        )
    }
        FROM raw.frequencia f JOIN raw.mat m ON m.id_matricula = f.ID_MATRICULA
        LEFT JOIN raw.cal c ON c.bimestre = f.NU_BIMESTRE
        WHERE f.QT_FALTAS > f.QT_AULAS_DADAS
           OR f.QT_AULAS_DADAS > c.dias_letivos * {int(r.max_aulas_dia_componente)}
        UNION ALL
        SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "dt_aula=d.DT_AULA",
            "detalhe=CASE WHEN d.DT_AULA < m.dt_matricula THEN 'aula antes da matrícula' "
            "WHEN d.DT_AULA > m.dt_encerramento THEN 'aula depois do encerramento' "
            "ELSE 'aula fora do calendário' END",
        )
    }
        FROM raw.frequencia_diaria d JOIN raw.mat m ON m.id_matricula = d.ID_MATRICULA
        WHERE d.DT_AULA < m.dt_matricula OR d.DT_AULA > m.dt_encerramento
           OR NOT EXISTS (SELECT 1 FROM raw.cal c WHERE d.DT_AULA BETWEEN c.dt_inicio AND c.dt_fim)"""
    out["I10"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "componente=n.CO_COMPONENTE",
            "bimestre=n.NU_BIMESTRE",
            "detalhe=replace(CASE WHEN n.VL_NOTA < 0 OR n.VL_NOTA > n.VL_PONTOS_DISTRIBUIDOS THEN "
            "'nota ' || n.VL_NOTA || ' de ' || n.VL_PONTOS_DISTRIBUIDOS ELSE 'recuperação ' || "
            "n.VL_NOTA_RECUPERACAO || ' de ' || n.VL_PONTOS_DISTRIBUIDOS END, '.', ',')",
        )
    }
        FROM raw.nota n JOIN raw.mat m ON m.id_matricula = n.ID_MATRICULA
        WHERE n.VL_NOTA < 0 OR n.VL_NOTA > n.VL_PONTOS_DISTRIBUIDOS
           OR n.VL_NOTA_RECUPERACAO < 0 OR n.VL_NOTA_RECUPERACAO > n.VL_PONTOS_DISTRIBUIDOS
        UNION ALL
        SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "componente=y.CO_COMPONENTE",
            "detalhe=replace(y.total::VARCHAR, '.', ',') || ' pontos distribuídos no ano'",
        )
    }
        FROM (SELECT ID_MATRICULA, CO_COMPONENTE, sum(VL_PONTOS_DISTRIBUIDOS) AS total
              FROM raw.nota GROUP BY ALL HAVING count(DISTINCT NU_BIMESTRE) = 4
              AND sum(VL_PONTOS_DISTRIBUIDOS) <> {r.pontos_ano!r}) y
        JOIN raw.mat m ON m.id_matricula = y.ID_MATRICULA"""
    out["I11"] = f"""SELECT {
        _none("school_id=p.school_id", "co_pessoa_fisica=p.co_pessoa_fisica", "detalhe=p.detalhe")
    } FROM (
        SELECT co_pessoa_fisica,
        arg_max(school_id, (dt_matricula, id_matricula)) AS school_id,
        count(*) FILTER (WHERE situacao IN (2, 4, 5, 6)) AS resultados,
        count(*) FILTER (WHERE situacao = 3) AS falecido,
        count(*) FILTER (WHERE situacao IN (2, 4, 5, 6, 7)) AS outras,
        'situações no ano: ' || string_agg(CASE situacao WHEN 1 THEN 'transferido'
            WHEN 2 THEN 'deixou de frequentar' WHEN 3 THEN 'falecido' WHEN 4 THEN 'reprovado'
            WHEN 5 THEN 'aprovado' WHEN 6 THEN 'aprovado concluinte' ELSE 'em andamento' END,
            ', ' ORDER BY dt_matricula, id_matricula) AS detalhe
        FROM raw.mat WHERE escolarizacao GROUP BY ALL) p
        WHERE p.resultados >= 2 OR (p.falecido >= 1 AND p.outras >= 1)"""
    out["I12"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe=concat_ws(', ', CASE WHEN m.dt_nascimento IS NULL THEN 'sem data de nascimento' END, "
            "CASE WHEN m.sexo IS NULL THEN 'sem sexo' END, CASE WHEN m.co_municipio_end IS NULL "
            "THEN 'sem município de residência' END)",
        )
    }
        FROM raw.mat m WHERE {_ESC_ATIVA} AND (m.dt_nascimento IS NULL OR m.sexo IS NULL
        OR m.co_municipio_end IS NULL)"""
    out["I13"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe="
            + etapa_nome_sql("m.etapa")
            + " || ' numa turma de ' || "
            + etapa_nome_sql("m.turma_etapa"),
        )
    }
        FROM raw.mat m WHERE {_ESC_ATIVA} AND m.enturmada AND m.unificada = 0
        AND m.turma_etapa IS DISTINCT FROM m.etapa"""
    out["I14"] = f"""SELECT {
        _none(
            "school_id=m.school_id",
            "id_matricula=m.id_matricula",
            "co_pessoa_fisica=m.co_pessoa_fisica",
            "detalhe=s.dias_sem_presenca || ' dias letivos sem presença'",
        )
    }
        FROM raw.mat m JOIN raw.sem_pres s USING (id_matricula)
        WHERE {_ESC_ATIVA} AND m.enturmada AND s.dias_sem_presenca >= {int(r.dias_busca_ativa)}"""
    return out


def run(con: duckdb.DuckDBPyConnection, rules: Rules, has_teachers: bool, year: int) -> None:
    """``raw.findings``: every rule's findings, with the rule."""
    cols = ", ".join(FINDING_COLUMNS)
    con.execute(
        "CREATE OR REPLACE TABLE raw.findings (regra VARCHAR, school_id BIGINT, id_turma BIGINT, "
        "id_matricula BIGINT, co_pessoa_fisica BIGINT, componente VARCHAR, bimestre INTEGER, "
        "dt_aula DATE, detalhe VARCHAR)"
    )
    for rule, sql in queries(rules, has_teachers, year).items():
        con.execute(f"INSERT INTO raw.findings SELECT {lit(rule)}, {cols} FROM ({sql})")
