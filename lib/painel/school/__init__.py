"""The school-network suite: the daily SIMADE/DED dump of Minas Gerais' state schools,
quality-gated into dataset ``school``, and its panels (docs/school.md).

This module is the domain's declaration (:class:`painel.domain.Domain`), found by the core
through the ``painel.domains`` entry point. It imports nothing heavy.
"""

from __future__ import annotations

from ..domain import PUBLIC, DemoUser, Domain, Report, Scope

DATASET = "school"
SCOPE = {"sre": "sre_id", "school": "school_id"}
TABLES: dict[str, Scope] = {
    "sres": PUBLIC,  # the 47 regional offices
    "municipios": PUBLIC,  # municipalities with state schools, and their SRE
    "componentes": PUBLIC,
    "calendario": PUBLIC,
    "escolas": SCOPE,  # dim_escola
    "turmas": SCOPE,  # one row per turma with its measures (agg_turma)
    "alunos": SCOPE,  # one row per matrícula: situation, frequency, grades, flags (aluno_situacao)
    "estudantes": SCOPE,  # names and birth dates, only for the panels that list students
    "boletim": SCOPE,  # matrícula x component x bimestre: grade and attendance (Ficha do Estudante)
    "agg_matricula": SCOPE,
    "agg_freq": SCOPE,
    "agg_notas": SCOPE,
    "agg_lancamento": SCOPE,
    "agg_rendimento": SCOPE,
    "agg_perfil": SCOPE,
    "inconsistencias": SCOPE,  # one row per finding of the day
    "serie_diaria": SCOPE,  # daily totals per school, kept across days (trends)
    "serie_inconsistencias": SCOPE,  # findings per day, school and rule, kept across days
    "presenca": SCOPE,  # last presence per matrícula, kept across days (Busca Ativa)
    "dias_letivos": SCOPE,  # each school's school days seen, kept across days
    "quarentena": SCOPE,  # bad rows of the dump: file, line, reason, raw line
    "cargas": PUBLIC,  # the dumps loaded: date, files, sizes, SHA-256, rows
}

ROLES = {
    "school_central": "Órgão central da SEE",
    "school_sre": "Servidor(a) de Superintendência Regional de Ensino",
    "school_director": "Direção escolar",
    "school_secretary": "Secretaria escolar",
    "school_pedagogue": "Coordenação pedagógica",
}

DOMAIN = Domain(
    name="school",
    title="Rede estadual de ensino",
    datasets={DATASET: TABLES},
    roles=ROLES,
    cli="painel.school.cli:add_commands",
    demo="painel.school.demo:prepare",
    # Demo accounts only: the data is generated (scale 0.01, seed 7: painel.school.demo) and
    # the server listens on loopback by default. tests/unit/test_school_demo.py checks that
    # these SREs and school exist in the demo's dump.
    demo_users=(
        DemoUser(
            "central", "demo-central", "school_central", ("school:*",), "Órgão central – SEE/MG"
        ),
        DemoUser(
            "sre.metropolitana",
            "demo-sre-metropolitana",
            "school_sre",
            ("school:sre:22",),
            "SRE Metropolitana A",
        ),
        DemoUser(
            "sre.uberlandia",
            "demo-sre-uberlandia",
            "school_sre",
            ("school:sre:45",),
            "SRE Uberlândia",
        ),
        DemoUser(
            "escola.31212401",
            "demo-escola-dom-pedro",
            "school_director",
            ("school:school:31212401",),
            "Direção – E.E. Dom Pedro II – Polo",
        ),
    ),
    demo_services="painel.school.demo:services",
    notebook_fixture="painel.school.demo:notebook_fixture",
    docs="docs/school.md",
    reports=(
        Report(
            name="rede_escola",
            title="Relatório da rede estadual",
            dataset=DATASET,
            scopes="painel.school.report:scopes",
            kinds=("sre", "school"),
        ),
    ),
)
