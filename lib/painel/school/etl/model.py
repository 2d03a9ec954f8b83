"""From the dump's checked rows to the published tables: base tables, indicators, history.

Everything here is SQL over the scratch catalog ``raw`` (the dump's rows, see :mod:`.read`)
and, when a version is published, ``prev`` (that version, attached read-only) for what is
kept across days. The published tables are written into the build's own catalog, each
sorted by ``(sre_id, school_id, ...)`` so a scoped read skips other scopes' row groups.
Formulas: docs/school.md, "Indicators".
"""

from __future__ import annotations

import datetime as dt

import duckdb

from .. import contract
from .settings import Rules


def lit(value: object) -> str:
    """A SQL literal for a date, number or string."""
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def grupo_sql(col: str) -> str:
    parts = []
    for g in contract.GRUPOS:
        codes = [e for e in contract.ETAPAS if contract.grupo(e) == g]
        parts.append(f"WHEN {col} IN ({', '.join(map(str, codes))}) THEN '{g}'")
    return f"(CASE {' '.join(parts)} END)"


def idade_esperada_sql(col: str) -> str:
    parts = " ".join(f"WHEN {e} THEN {a}" for e, a in sorted(contract.IDADE_ESPERADA.items()))
    return f"(CASE {col} {parts} END)"


def etapa_nome_sql(col: str) -> str:
    parts = " ".join(f"WHEN {e} THEN {lit(n)}" for e, n in sorted(contract.ETAPAS.items()))
    return f"(CASE {col} {parts} END)"


def _x(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql)


def base_tables(con: duckdb.DuckDBPyConnection, day: dt.date, rules: Rules) -> int:
    """Scratch tables every later step reads (``raw.esc``, ``raw.tur``, ``raw.mat`` ...).
    Returns the school year."""
    year = con.execute("SELECT max(NU_ANO_LETIVO) FROM raw.calendario").fetchall()[0][0]
    if year is None:
        from .read import DumpFault

        raise DumpFault("calendario.csv: no bimestre (the school year is unknown)")
    year = int(year)
    cap = rules.capacidade_padrao
    cap_case = " ".join(f"WHEN '{g}' THEN {int(v)}" for g, v in cap.items() if g != "default")
    cap_default = int(cap.get("default", 40))
    _x(
        con,
        "CREATE OR REPLACE TABLE raw.esc AS SELECT CO_ENTIDADE AS school_id, NO_ENTIDADE AS nome, "
        "CO_SRE AS sre_id, NO_SRE AS sre_nome, CO_MUNICIPIO AS co_municipio, "
        "NO_MUNICIPIO AS municipio, CO_ORGAO_REGIONAL AS co_orgao_regional, "
        "TP_LOCALIZACAO AS localizacao, TP_SITUACAO_FUNCIONAMENTO AS funcionamento "
        "FROM raw.escola",
    )
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.cal AS SELECT NU_BIMESTRE AS bimestre, DT_INICIO AS dt_inicio,
        DT_FIM AS dt_fim, QT_DIAS_LETIVOS AS dias_letivos,
        {lit(day)} > DT_FIM + {int(rules.prazo_lancamento_dias)} AS devido,
        DT_INICIO <= {lit(day)} AS iniciado
        FROM raw.calendario WHERE NU_ANO_LETIVO = {year}""",
    )
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.tur AS SELECT t.ID_TURMA AS id_turma, t.CO_ENTIDADE AS school_id,
        e.sre_id, e.co_municipio, t.NO_TURMA AS nome, t.NU_ANO_LETIVO AS ano,
        t.TP_ETAPA_ENSINO AS etapa, {grupo_sql("t.TP_ETAPA_ENSINO")} AS grupo,
        CASE WHEN t.NU_DURACAO_TURMA >= {int(rules.integral_min)} THEN 'Integral'
             WHEN t.TX_HR_INICIAL < 12 THEN 'Manhã' WHEN t.TX_HR_INICIAL < 18 THEN 'Tarde'
             ELSE 'Noite' END AS turno,
        CASE WHEN t.IN_EJA = 1 THEN 'EJA' WHEN t.IN_ESPECIAL_EXCLUSIVA = 1 THEN 'Especial'
             WHEN t.IN_PROFISSIONALIZANTE = 1 THEN 'Profissional' ELSE 'Regular' END AS modalidade,
        t.TP_TIPO_ATENDIMENTO_TURMA AS atendimento, t.TP_TIPO_ATENDIMENTO_TURMA = 1 AS escolarizacao,
        t.TP_UNIFICADA AS unificada, t.TP_MEDIACAO_DIDATICO_PEDAGO AS mediacao,
        t.NU_CAPACIDADE AS capacidade_informada,
        coalesce(t.NU_CAPACIDADE, CASE {grupo_sql("t.TP_ETAPA_ENSINO")} {cap_case}
                 ELSE {cap_default} END) AS capacidade
        FROM raw.turma t JOIN raw.esc e ON e.school_id = t.CO_ENTIDADE""",
    )
    if rules.idade_base == "31/05":
        idade = f"date_part('year', age(DATE '{year}-05-31', a.DT_NASCIMENTO))"
    else:
        idade = f"{year} - year(a.DT_NASCIMENTO)"
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.mat AS SELECT m.ID_MATRICULA AS id_matricula,
        m.CO_PESSOA_FISICA AS co_pessoa_fisica, m.ID_TURMA AS id_turma, m.CO_ENTIDADE AS school_id,
        e.sre_id, e.co_municipio, m.TP_ETAPA_ENSINO AS etapa, {grupo_sql("m.TP_ETAPA_ENSINO")} AS grupo,
        coalesce(t.turno, 'Sem turma') AS turno,
        coalesce(t.modalidade, CASE WHEN m.TP_ETAPA_ENSINO IN (69, 70, 71) THEN 'EJA'
                 ELSE 'Regular' END) AS modalidade,
        m.TP_SITUACAO_ALUNO AS situacao, m.DT_MATRICULA AS dt_matricula,
        m.DT_ENCERRAMENTO AS dt_encerramento,
        (m.ID_TURMA IS NULL OR coalesce(t.escolarizacao, FALSE)) AS escolarizacao,
        (m.TP_SITUACAO_ALUNO = {contract.SITUACAO_ATIVA} AND m.DT_ENCERRAMENTO IS NULL) AS ativa,
        m.ID_TURMA IS NOT NULL AS enturmada,
        t.etapa AS turma_etapa, t.grupo AS turma_grupo, t.unificada,
        a.DT_NASCIMENTO AS dt_nascimento, a.TP_SEXO AS sexo, a.TP_COR_RACA AS cor_raca,
        a.IN_NECESSIDADE_ESPECIAL AS pcd, a.CO_MUNICIPIO_END AS co_municipio_end,
        a.TP_ZONA_RESIDENCIAL AS zona,
        {idade} AS idade,
        {idade_esperada_sql("m.TP_ETAPA_ENSINO")} AS idade_esperada
        FROM raw.matricula m JOIN raw.esc e ON e.school_id = m.CO_ENTIDADE
        JOIN raw.aluno a ON a.CO_PESSOA_FISICA = m.CO_PESSOA_FISICA
        LEFT JOIN raw.tur t ON t.id_turma = m.ID_TURMA""",
    )
    # the curriculum: which components each etapa group's turmas have
    _x(con, "CREATE OR REPLACE TABLE raw.curriculo (grupo VARCHAR, componente VARCHAR)")
    con.executemany(
        "INSERT INTO raw.curriculo VALUES (?, ?)",
        [(g, c) for g, comps in contract.CURRICULO.items() for c in comps],
    )
    return year


def per_matricula(con: duckdb.DuckDBPyConnection, rules: Rules) -> None:
    """Attendance and grade measures per matrícula (impossible values clipped: I9, I10)."""
    _x(
        con,
        """CREATE OR REPLACE TABLE raw.freq_m AS SELECT ID_MATRICULA AS id_matricula,
        sum(QT_AULAS_DADAS)::BIGINT AS aulas, sum(least(QT_FALTAS, QT_AULAS_DADAS))::BIGINT AS faltas
        FROM raw.frequencia GROUP BY ALL""",
    )
    _x(
        con,
        """CREATE OR REPLACE TABLE raw.nota_mc AS SELECT ID_MATRICULA AS id_matricula,
        CO_COMPONENTE AS componente,
        sum(greatest(0, least(VL_NOTA, VL_PONTOS_DISTRIBUIDOS)))::DOUBLE AS pontos,
        sum(VL_PONTOS_DISTRIBUIDOS)::DOUBLE AS distribuidos
        FROM raw.nota WHERE VL_NOTA IS NOT NULL GROUP BY ALL""",
    )
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.nota_m AS SELECT id_matricula, sum(pontos) AS pontos,
        sum(distribuidos) AS distribuidos,
        count(*) FILTER (WHERE distribuidos > 0
                         AND 100 * pontos / distribuidos < {rules.media_pct!r})::INTEGER AS n_comp_abaixo
        FROM raw.nota_mc GROUP BY ALL""",
    )


def presence(con: duckdb.DuckDBPyConnection, has_prev: bool, year: int) -> None:
    """Fold the daily attendance loaded (``raw.diaria``) into the history kept across days:
    each school's school days and each matrícula's last presence."""
    prev_days = (
        f"SELECT school_id, dt_aula FROM prev.dias_letivos WHERE year(dt_aula) = {year} UNION "
        if has_prev
        else ""
    )
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.dias AS SELECT school_id, dt_aula FROM (
        {prev_days} SELECT DISTINCT m.school_id, d.DT_AULA AS dt_aula FROM raw.diaria d
        JOIN raw.mat m ON m.id_matricula = d.ID_MATRICULA)""",
    )
    prev_pres = (
        "SELECT id_matricula, ultima_presenca, visto_desde FROM prev.presenca "
        f"WHERE year(visto_desde) = {year} UNION ALL "
        if has_prev
        else ""
    )
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.pres AS SELECT id_matricula, max(ultima_presenca) AS ultima_presenca,
        min(visto_desde) AS visto_desde FROM (
        {prev_pres} SELECT ID_MATRICULA AS id_matricula,
        max(DT_AULA) FILTER (WHERE QT_FALTAS < QT_AULAS_PREVISTAS) AS ultima_presenca,
        min(DT_AULA) AS visto_desde FROM raw.diaria GROUP BY ALL) GROUP BY ALL""",
    )
    # days without presence: the school's days after the last presence (or, never present,
    # from the later of the matrícula's start and the first day the job saw)
    _x(
        con,
        """CREATE OR REPLACE TABLE raw.dias_n AS SELECT school_id, dt_aula,
        row_number() OVER (PARTITION BY school_id ORDER BY dt_aula) AS n FROM raw.dias""",
    )
    _x(
        con,
        "CREATE OR REPLACE TABLE raw.dias_tot AS SELECT school_id, count(*) AS total "
        "FROM raw.dias GROUP BY ALL",
    )
    first = con.execute("SELECT min(dt_aula) FROM raw.dias").fetchall()[0][0]
    first_sql = lit(first) if first is not None else "NULL::DATE"
    _x(
        con,
        f"""CREATE OR REPLACE TABLE raw.sem_pres AS WITH base AS (
        SELECT m.id_matricula, m.school_id, p.ultima_presenca,
        coalesce(p.ultima_presenca, greatest(m.dt_matricula, {first_sql}) - 1) AS desde
        FROM raw.mat m LEFT JOIN raw.pres p USING (id_matricula)
        WHERE m.ativa AND m.enturmada AND m.escolarizacao)
        SELECT b.id_matricula, b.ultima_presenca, t.total - coalesce(d.n, 0) AS dias_sem_presenca
        FROM base b JOIN raw.dias_tot t USING (school_id)
        ASOF LEFT JOIN raw.dias_n d ON d.school_id = b.school_id AND b.desde >= d.dt_aula""",
    )


def _faixa_sql(col: str) -> str:
    """The age band (contract.FAIXAS_IDADE) of the age in ``col``."""
    terms = [f"WHEN {col} IS NULL THEN '{contract.FAIXA_SEM_IDADE}'"]
    for name, oldest in contract.FAIXAS_LIMITE:
        last = oldest is None
        terms.append(f"ELSE '{name}'" if last else f"WHEN {col} <= {oldest} THEN '{name}'")
    return f"CASE {' '.join(terms)} END"


def published(
    con: duckdb.DuckDBPyConnection, day: dt.date, year: int, rules: Rules, has_prev: bool
) -> None:
    """Write every published table of dataset ``school`` into the build's catalog."""
    d = lit(day)
    media, fmin, risco = rules.media_pct, rules.freq_minima_pct, rules.risco_faltas_pct
    _x(
        con,
        "CREATE TABLE sres AS SELECT DISTINCT sre_id, sre_nome AS nome FROM raw.esc ORDER BY 1",
    )
    _x(
        con,
        "CREATE TABLE municipios AS SELECT co_municipio, any_value(municipio) AS nome, "
        "min(sre_id) AS sre_id FROM raw.esc GROUP BY ALL ORDER BY nome",
    )
    _x(con, "CREATE TABLE componentes (co_componente VARCHAR, nome VARCHAR)")
    con.executemany("INSERT INTO componentes VALUES (?, ?)", list(contract.COMPONENTES.items()))
    _x(
        con,
        f"CREATE TABLE calendario AS SELECT {year} AS ano, bimestre, dt_inicio, dt_fim, "
        "dias_letivos, devido, iniciado FROM raw.cal ORDER BY bimestre",
    )
    _x(
        con,
        "CREATE TABLE escolas AS SELECT school_id, nome, sre_id, sre_nome, co_municipio, "
        "municipio, co_orgao_regional, CASE localizacao WHEN 1 THEN 'Urbana' ELSE 'Rural' END "
        "AS localizacao, funcionamento FROM raw.esc ORDER BY sre_id, school_id",
    )
    # one row per matrícula: everything the student-level panels and the summaries need
    _x(
        con,
        f"""CREATE TABLE alunos AS SELECT m.sre_id, m.co_municipio, m.school_id, m.id_turma,
        m.id_matricula, m.co_pessoa_fisica, m.etapa, m.grupo, m.turno, m.modalidade, m.situacao,
        m.ativa, m.enturmada, m.escolarizacao, m.dt_matricula, m.dt_encerramento,
        m.idade, m.idade_esperada,
        (m.idade_esperada IS NOT NULL AND m.idade IS NOT NULL) AS base_tdi,
        coalesce(m.idade >= m.idade_esperada + 2, FALSE) AS distorcido,
        m.sexo, m.cor_raca, m.pcd = 1 AS pcd, m.zona, {_faixa_sql("m.idade")} AS faixa_idade,
        coalesce(f.aulas, 0) AS aulas, coalesce(f.faltas, 0) AS faltas,
        CASE WHEN f.aulas > 0 THEN 100.0 * (1 - f.faltas / f.aulas) END AS freq_pct,
        coalesce(f.aulas > 0 AND 100.0 * (1 - f.faltas / f.aulas) < {fmin!r}, FALSE) AS infrequente,
        coalesce(f.aulas > 0 AND 100.0 * f.faltas / f.aulas > {risco!r}, FALSE) AS em_risco,
        n.pontos, n.distribuidos,
        CASE WHEN n.distribuidos > 0 THEN 100.0 * n.pontos / n.distribuidos END AS aproveitamento_pct,
        coalesce(n.n_comp_abaixo, 0) AS n_comp_abaixo,
        coalesce(n.n_comp_abaixo, 0) > 0 AS abaixo_media,
        s.ultima_presenca, s.dias_sem_presenca
        FROM raw.mat m LEFT JOIN raw.freq_m f USING (id_matricula)
        LEFT JOIN raw.nota_m n USING (id_matricula) LEFT JOIN raw.sem_pres s USING (id_matricula)
        ORDER BY m.sre_id, m.school_id, m.id_turma, m.id_matricula""",
    )
    _x(
        con,
        "ALTER TABLE alunos ADD COLUMN risco_reprovacao BOOLEAN; UPDATE alunos SET "
        "risco_reprovacao = ativa AND escolarizacao AND (abaixo_media OR infrequente)",
    )
    _x(
        con,
        """CREATE TABLE estudantes AS SELECT m.sre_id, m.school_id, m.id_turma, m.id_matricula,
        m.co_pessoa_fisica, a.NO_ALUNO AS nome, a.DT_NASCIMENTO AS dt_nascimento
        FROM raw.mat m JOIN raw.aluno a ON a.CO_PESSOA_FISICA = m.co_pessoa_fisica
        ORDER BY m.sre_id, m.school_id, m.id_turma, m.id_matricula""",
    )
    _x(
        con,
        """CREATE TABLE turmas AS SELECT t.sre_id, t.co_municipio, t.school_id, t.id_turma, t.nome,
        t.ano, t.etapa, t.grupo, t.turno, t.modalidade, t.atendimento, t.escolarizacao, t.unificada,
        t.capacidade, t.capacidade_informada,
        count(a.id_matricula) FILTER (WHERE a.ativa)::INTEGER AS ativos,
        CASE WHEN sum(a.aulas) FILTER (WHERE a.ativa) > 0 THEN 100.0 * (1 - sum(a.faltas)
            FILTER (WHERE a.ativa) / sum(a.aulas) FILTER (WHERE a.ativa)) END AS freq_pct,
        CASE WHEN sum(a.distribuidos) FILTER (WHERE a.ativa) > 0 THEN 100.0 * sum(a.pontos)
            FILTER (WHERE a.ativa) / sum(a.distribuidos) FILTER (WHERE a.ativa) END
            AS aproveitamento_pct,
        count(*) FILTER (WHERE a.ativa AND a.infrequente)::INTEGER AS infrequentes,
        count(*) FILTER (WHERE a.ativa AND a.abaixo_media)::INTEGER AS abaixo_media
        FROM raw.tur t LEFT JOIN alunos a ON a.id_turma = t.id_turma
        GROUP BY ALL ORDER BY t.sre_id, t.school_id, t.id_turma""",
    )
    _x(con, "ALTER TABLE turmas ADD COLUMN acima_capacidade BOOLEAN")
    _x(con, "UPDATE turmas SET acima_capacidade = escolarizacao AND ativos > capacidade")
    # matrícula x component x bimestre: the student's report card (Ficha do Estudante)
    _x(
        con,
        """CREATE TABLE boletim AS SELECT m.sre_id, m.school_id, m.id_turma, m.id_matricula,
        coalesce(n.CO_COMPONENTE, f.CO_COMPONENTE) AS componente,
        coalesce(n.NU_BIMESTRE, f.NU_BIMESTRE) AS bimestre,
        n.VL_PONTOS_DISTRIBUIDOS::DOUBLE AS pontos_distribuidos, n.VL_NOTA::DOUBLE AS nota,
        n.VL_NOTA_RECUPERACAO::DOUBLE AS nota_recuperacao, f.QT_AULAS_DADAS AS aulas_dadas,
        f.QT_FALTAS AS faltas
        FROM raw.nota n FULL JOIN raw.frequencia f ON f.ID_MATRICULA = n.ID_MATRICULA
        AND f.CO_COMPONENTE = n.CO_COMPONENTE AND f.NU_BIMESTRE = n.NU_BIMESTRE
        JOIN raw.mat m ON m.id_matricula = coalesce(n.ID_MATRICULA, f.ID_MATRICULA)
        ORDER BY m.sre_id, m.school_id, m.id_turma, m.id_matricula, componente, bimestre""",
    )
    dims = "a.sre_id, a.co_municipio, a.school_id"
    _x(
        con,
        f"""CREATE TABLE agg_matricula AS SELECT {d} AS data_ref, {dims}, a.grupo, a.etapa,
        a.turno, a.modalidade,
        count(*)::INTEGER AS ativas, count(*) FILTER (WHERE a.enturmada)::INTEGER AS enturmadas,
        count(*) FILTER (WHERE NOT a.enturmada)::INTEGER AS nao_enturmadas,
        count(*) FILTER (WHERE a.distorcido)::INTEGER AS distorcidas,
        count(*) FILTER (WHERE a.base_tdi)::INTEGER AS base_tdi,
        count(*) FILTER (WHERE a.infrequente)::INTEGER AS infrequentes,
        count(*) FILTER (WHERE a.em_risco)::INTEGER AS em_risco,
        count(*) FILTER (WHERE a.aulas > 0)::INTEGER AS com_frequencia,
        count(*) FILTER (WHERE a.abaixo_media)::INTEGER AS abaixo_media,
        count(*) FILTER (WHERE a.distribuidos > 0)::INTEGER AS com_notas,
        count(*) FILTER (WHERE a.risco_reprovacao)::INTEGER AS risco_reprovacao,
        count(*) FILTER (WHERE a.sexo = 1)::INTEGER AS masculino,
        count(*) FILTER (WHERE a.sexo = 2)::INTEGER AS feminino
        FROM alunos a WHERE a.ativa AND a.escolarizacao GROUP BY ALL
        ORDER BY a.sre_id, a.school_id, a.grupo, a.etapa, a.turno, a.modalidade""",
    )
    _x(
        con,
        f"""CREATE TABLE agg_freq AS SELECT {dims}, a.id_turma, a.grupo, a.etapa, a.turno,
        a.modalidade, f.CO_COMPONENTE AS componente, f.NU_BIMESTRE AS bimestre,
        sum(f.QT_AULAS_DADAS)::BIGINT AS aulas_dadas,
        sum(least(f.QT_FALTAS, f.QT_AULAS_DADAS))::BIGINT AS faltas,
        count(*)::INTEGER AS n_alunos,
        count(*) FILTER (WHERE f.QT_AULAS_DADAS > 0 AND 100.0 * (1 - least(f.QT_FALTAS,
            f.QT_AULAS_DADAS) / f.QT_AULAS_DADAS) < {fmin!r})::INTEGER AS n_infreq,
        count(*) FILTER (WHERE f.QT_AULAS_DADAS > 0 AND 100.0 * least(f.QT_FALTAS,
            f.QT_AULAS_DADAS) / f.QT_AULAS_DADAS > {risco!r})::INTEGER AS n_risco
        FROM raw.frequencia f JOIN alunos a ON a.id_matricula = f.ID_MATRICULA
        WHERE a.ativa AND a.escolarizacao GROUP BY ALL
        ORDER BY a.sre_id, a.school_id, a.id_turma, componente, bimestre""",
    )
    _x(
        con,
        f"""CREATE TABLE agg_notas AS SELECT {dims}, a.id_turma, a.grupo, a.etapa, a.turno,
        a.modalidade, n.CO_COMPONENTE AS componente, n.NU_BIMESTRE AS bimestre,
        count(*)::INTEGER AS registros,
        count(n.VL_NOTA)::INTEGER AS lancadas,
        sum(greatest(0, least(n.VL_NOTA, n.VL_PONTOS_DISTRIBUIDOS)))::DOUBLE AS soma_notas,
        sum(n.VL_PONTOS_DISTRIBUIDOS) FILTER (WHERE n.VL_NOTA IS NOT NULL)::DOUBLE AS soma_distribuidos,
        count(*) FILTER (WHERE n.VL_PONTOS_DISTRIBUIDOS > 0 AND 100.0 * greatest(0, least(n.VL_NOTA,
            n.VL_PONTOS_DISTRIBUIDOS)) / n.VL_PONTOS_DISTRIBUIDOS < {media!r})::INTEGER AS n_abaixo
        FROM raw.nota n JOIN alunos a ON a.id_matricula = n.ID_MATRICULA
        WHERE a.ativa AND a.escolarizacao GROUP BY ALL
        ORDER BY a.sre_id, a.school_id, a.id_turma, componente, bimestre""",
    )
    # what each turma x component should have posted per bimestre begun, and what it did
    _x(
        con,
        """CREATE TABLE agg_lancamento AS WITH esperado AS (
        SELECT m.sre_id, m.co_municipio, m.school_id, m.id_turma, m.id_matricula, c.componente,
        b.bimestre, b.devido FROM raw.mat m JOIN raw.tur t ON t.id_turma = m.id_turma
        JOIN raw.curriculo c ON c.grupo = t.grupo
        JOIN raw.cal b ON b.iniciado AND m.dt_matricula <= b.dt_inicio
        WHERE m.escolarizacao AND m.ativa AND m.enturmada),
        docente AS (SELECT ID_TURMA AS id_turma, CO_COMPONENTE AS componente,
            min(CO_PESSOA_FISICA) FILTER (WHERE TP_TIPO_DOCENTE = 1) AS docente,
            count(*) AS vinculos FROM raw.docente_turma GROUP BY ALL)
        SELECT e.sre_id, e.co_municipio, e.school_id, e.id_turma, e.componente, e.bimestre,
        any_value(e.devido) AS devido, any_value(d.docente) AS docente,
        coalesce(any_value(d.vinculos), 0) > 0 AS com_professor,
        row_number() OVER (PARTITION BY e.id_turma, e.componente ORDER BY e.bimestre) = 1
            AS primeiro,
        count(*)::INTEGER AS esperadas,
        count(n.VL_NOTA)::INTEGER AS notas_lancadas,
        count(f.ID_MATRICULA)::INTEGER AS freq_lancadas,
        greatest(max(n.DT_FECHAMENTO), max(f.DT_FECHAMENTO)) AS dt_ultimo
        FROM esperado e LEFT JOIN raw.nota n ON n.ID_MATRICULA = e.id_matricula
            AND n.CO_COMPONENTE = e.componente AND n.NU_BIMESTRE = e.bimestre
        LEFT JOIN raw.frequencia f ON f.ID_MATRICULA = e.id_matricula
            AND f.CO_COMPONENTE = e.componente AND f.NU_BIMESTRE = e.bimestre
        LEFT JOIN docente d ON d.id_turma = e.id_turma AND d.componente = e.componente
        GROUP BY e.sre_id, e.co_municipio, e.school_id, e.id_turma, e.componente, e.bimestre
        ORDER BY e.sre_id, e.school_id, e.id_turma, e.componente, e.bimestre""",
    )
    _x(
        con,
        f"""CREATE TABLE agg_rendimento AS SELECT {year} AS ano, {dims}, a.grupo, a.etapa,
        count(*) FILTER (WHERE a.situacao IN (5, 6))::INTEGER AS aprovados,
        count(*) FILTER (WHERE a.situacao = 4)::INTEGER AS reprovados,
        count(*) FILTER (WHERE a.situacao = 2)::INTEGER AS abandonos,
        count(*) FILTER (WHERE a.situacao = 3)::INTEGER AS falecidos,
        count(*) FILTER (WHERE a.situacao = 1)::INTEGER AS transferidos,
        count(*) FILTER (WHERE a.situacao = 7)::INTEGER AS em_andamento,
        count(*) FILTER (WHERE a.risco_reprovacao)::INTEGER AS risco_reprovacao,
        count(*)::INTEGER AS matriculas
        FROM alunos a WHERE a.escolarizacao GROUP BY ALL ORDER BY a.sre_id, a.school_id, a.grupo, a.etapa""",
    )
    _x(
        con,
        f"""CREATE TABLE agg_perfil AS SELECT {dims}, a.grupo, a.etapa,
        coalesce(a.sexo, 0) AS sexo, a.cor_raca, a.faixa_idade, a.pcd, coalesce(a.zona, 0) AS zona,
        count(*)::INTEGER AS n
        FROM alunos a WHERE a.ativa AND a.escolarizacao GROUP BY ALL
        ORDER BY a.sre_id, a.school_id, a.grupo, a.etapa""",
    )
    _x(
        con,
        f"""CREATE TABLE inconsistencias AS SELECT {d} AS data_ref, f.regra, e.sre_id,
        e.co_municipio, f.school_id, coalesce(f.id_turma, m.id_turma) AS id_turma,
        f.id_matricula, f.co_pessoa_fisica, f.componente, f.bimestre, f.dt_aula, f.detalhe
        FROM raw.findings f JOIN raw.esc e USING (school_id)
        LEFT JOIN raw.mat m ON m.id_matricula = f.id_matricula
        ORDER BY e.sre_id, f.school_id, f.regra, id_turma, f.id_matricula""",
    )
    # kept across days: today's row replaces a same-day row of the published version
    prev = has_prev
    _x(
        con,
        f"""CREATE TABLE serie_diaria AS SELECT * FROM (
        {"SELECT * FROM prev.serie_diaria WHERE data_ref <> " + d + " UNION ALL " if prev else ""}
        SELECT {d} AS data_ref, e.sre_id, e.co_municipio, e.school_id,
        coalesce(sum(g.ativas), 0)::INTEGER AS ativas,
        coalesce(sum(g.enturmadas), 0)::INTEGER AS enturmadas,
        coalesce(sum(g.infrequentes), 0)::INTEGER AS infrequentes,
        coalesce(sum(g.com_frequencia), 0)::INTEGER AS com_frequencia,
        (SELECT count(*) FROM raw.findings f WHERE f.school_id = e.school_id)::INTEGER
            AS inconsistencias
        FROM raw.esc e LEFT JOIN agg_matricula g USING (school_id) GROUP BY ALL)
        ORDER BY sre_id, school_id, data_ref""",
    )
    _x(
        con,
        f"""CREATE TABLE serie_inconsistencias AS SELECT * FROM (
        {"SELECT * FROM prev.serie_inconsistencias WHERE data_ref <> " + d + " UNION ALL " if prev else ""}
        SELECT data_ref, sre_id, co_municipio, school_id, regra, count(*)::INTEGER AS n
        FROM inconsistencias GROUP BY ALL) ORDER BY sre_id, school_id, data_ref, regra""",
    )
    _x(
        con,
        """CREATE TABLE presenca AS SELECT m.sre_id, m.school_id, p.id_matricula,
        p.ultima_presenca, p.visto_desde FROM raw.pres p JOIN raw.mat m USING (id_matricula)
        ORDER BY m.sre_id, m.school_id, p.id_matricula""",
    )
    _x(
        con,
        """CREATE TABLE dias_letivos AS SELECT e.sre_id, d.school_id, d.dt_aula FROM raw.dias d
        JOIN raw.esc e USING (school_id) ORDER BY e.sre_id, d.school_id, d.dt_aula""",
    )
