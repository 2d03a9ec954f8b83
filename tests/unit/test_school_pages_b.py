"""Infrequência, Busca Ativa and Ficha do Estudante on the hand-written tiny dump, built
outside a server (no kernel): what each viewer sees, drill-down, filters and exports.

Values are worked out by hand from tests/school_tiny.py. Bimestre 1: 40 classes a component
(AI 8 components, AF 9, EM 12); the absences per component are FALTAS_B1 (1008's MATEMATICA
45, clipped to the 40 given; 1016 has no HISTORIA row). Matrícula -> student (``_mat``):
1001 Ana, 1002 Bruno, 1003 Carla, 1004 Davi, 1005 Eva (T101, school 11); 1007 Gabriela,
1008 Hugo, 1009 Iara, 1010 João, 1011 Kátia, 1012/1013 Luís (T102, school 11); 1014 Marta,
1015 Nilo, 1016 Olga, 1017 Paulo, 1018 Fábio, 1025 Téo (T201, school 12); 1019 Quésia,
1020 Rui, 1021 Sara, 1022 Téo, 1023 Úrsula, 1024 Vítor (T301, school 21); 1026 Wanda (no turma).

The fixture loads 16 daily dumps (27/04-19/05/2026, school days: ``tiny.write_history``, as
tests/integration/test_school_etl.py does) so days without presence exist: Úrsula (1023)
never came (16 days), Sara (1021) came only on 27/04 (15), Quésia (1019) on 27/04 and 28/04
(14); the last dump is the tiny dump of 20/05, so every other table is the tiny dump's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import school_tiny as tiny
from school_pages_testing import (
    CENTRAL,
    ESCOLA_JF,
    NOBODY,
    SRE_METRO,
    column,
    home_fixture,
    panel,
    text,
    xlsx_rows,
)


def publish_history(home: Path) -> str:
    """The tiny dump of each school day 27/04-19/05 (16), loaded by one run of the job."""
    dumps = home.parent / f"{home.name}-dumps"
    tiny.write_history(dumps)
    return tiny.run_job(home, dumps)


home = home_fixture(publish_history)


def cards(page: object) -> list[str]:
    """Each KPI card as "label|value|note" (tags dropped)."""
    out = []
    for card in page.cards:  # type: ignore[attr-defined]
        parts = [p for p in re.split(r"<[^>]+>", card.value) if p.strip()]
        out.append("|".join(parts))
    return out


# ---- 4. Infrequência ----------------------------------------------------------------------------
def test_infrequencia_central_drill_and_no_names(home: Path) -> None:
    from painel.school.pages import infrequencia

    page = panel(infrequencia, CENTRAL)
    # with attendance: 25 active escolarização minus 1018, 1025 (arrived after bimestre 1) and
    # 1026 (no turma) = 22; infrequentes (< 75 %): 1002 70, 1005 50, 1008 73.3, 1015 72.5,
    # 1022 0 -> 5/22 = 22.7 %; em risco (absences > 7.5 %): those 5 + 1004 10 %, 1009 25 %,
    # 1017 15 %, 1021 22.5 % = 9/22 = 40.9 %
    # frequência: classes T101 5x8x40 1600 + T102 7x12x40 3360 + T201 (3x9+8)x40 1400 +
    # T301 6x9x40 2160 = 8520; absences (2+12+0+4+20)x8 304 + (0+8+10+2+0+1+1)x12 + 32
    # (1008's 45 clipped to 40) 296 + (3+11+0+6)x9 180 + (0+2+9+40+1+0)x9 468 = 1248
    # -> 1 - 1248/8520 = 85.35 %
    assert cards(page) == [
        "Infrequentes|22,7%|frequência abaixo de 75%, entre 22 matrículas com frequência lançada",
        "Em risco|40,9%|faltas acima de 7,5% das aulas dadas",
        "Estudantes infrequentes|5",
        "Frequência|85,4%|1 − faltas ÷ aulas dadas, no ano",
    ]
    # SRE 22: 16 with attendance (12 in school 11, 4 in school 12), 4 infrequentes (1002,
    # 1005, 1008, 1015) = 25 %; SRE 19: 6, 1 (1022) = 16.7 %
    pcts = column(page.table, "pct_infrequentes")
    assert pcts == pytest.approx({"SRE Metropolitana A": 25.0, "SRE Juiz de Fora": 100 / 6})
    # frequência SRE 22: 1 - (304+296+180)/(1600+3360+1400) = 1 - 780/6360; SRE 19: 1 - 468/2160
    assert column(page.table, "frequencia") == pytest.approx(
        {"SRE Metropolitana A": 100 * (1 - 780 / 6360), "SRE Juiz de Fora": 100 * (1 - 468 / 2160)}
    )
    # the bars are the % infrequentes by SRE, clickable by label
    bars = page.chart.figure["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx(pcts)
    # only bimestre 1 has attendance: 85.35 %
    line = page.by_bimestre.figure["data"][0]
    assert line["x"] == ["1º bimestre"] and line["y"] == pytest.approx([100 * (1 - 1248 / 8520)])
    assert page.students_box.layout.display == "none"  # no student list above a school
    assert "Dados do SIMADE/DED de 20/05/2026" in text(page.widget())
    # drill: a bar of SRE -> municípios -> schools -> the school's turmas
    page.open_label("SRE Metropolitana A")
    assert set(page.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    page.open_label("Belo Horizonte")
    page.open_unit(31000011)
    assert page.drill.labels[-1] == "E.E. Afonso Pena"
    # T101: 1002, 1005 of 5 = 40 %; T102: 1008 of 7 = 14.3 %
    assert column(page.table, "pct_infrequentes") == pytest.approx(
        {"1º ano A": 40.0, "1ª série EM – noite": 100 / 7}
    )
    # a central user reaches the school but reads no names
    assert page.students_box.layout.display is None
    assert "equipes das SREs e das escolas" in page.students_note.value
    assert page.students.frame.empty and page.students.layout.display == "none"
    page.drill.go(0)
    assert len(page.table.frame) == 2


def test_infrequencia_sre_and_school_lists(home: Path) -> None:
    from painel.school.pages import infrequencia

    sre = panel(infrequencia, SRE_METRO)
    # SRE 22: 4/16 = 25 %; em risco 1002, 1004, 1005, 1008, 1009, 1015, 1017 = 7/16 = 43.75 %;
    # frequência 1 - 780/6360 = 87.7 %
    assert cards(sre)[0].startswith("Infrequentes|25,0%|")
    assert cards(sre)[1].startswith("Em risco|43,8%|")
    assert cards(sre)[2] == "Estudantes infrequentes|4"
    assert cards(sre)[3].startswith("Frequência|87,7%|")
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    sre.open_label("SRE Juiz de Fora")  # not below its place: nothing happens
    assert sre.drill.labels == ["SRE Metropolitana A"]
    sre.open_label("Belo Horizonte")
    sre.open_label("E.E. Afonso Pena")
    # school 11's infrequentes, lowest first: Eva 1005 (160/320 = 50 %), Bruno 1002
    # (96/320 = 70 %), Hugo 1008 (128/480 = 73.3 %)
    rows = sre.students.frame
    assert list(rows["nome"]) == ["Eva Nunes", "Bruno Lima", "Hugo Pires"]
    assert list(rows["turma"]) == ["1º ano A", "1º ano A", "1ª série EM – noite"]
    assert list(rows["faltas"]) == [160, 96, 128] and list(rows["aulas"]) == [320, 320, 480]
    # down to a turma: only its students, no unit bars below a turma
    sre.open_label("1ª série EM – noite")
    assert list(sre.students.frame["nome"]) == ["Hugo Pires"]
    assert sre.units_box.layout.display == "none"

    esc = panel(infrequencia, ESCOLA_JF)
    # school 21: 1022 of 6 = 16.7 %; em risco 1021, 1022 = 33.3 %; 1 - 468/2160 = 78.3 %
    assert [c.split("|")[1] for c in cards(esc)] == ["16,7%", "33,3%", "1", "78,3%"]
    assert list(esc.table.frame["label"]) == ["9º ano integral"]
    rows = esc.students.frame
    assert rows[["nome", "turma", "freq_pct", "faltas", "aulas"]].values.tolist() == [
        ["Téo Freitas", "9º ano integral", 0.0, 360, 360]  # 40 of 40 in 9 components
    ]
    # the list of students at risk: Téo (0 %) and Sara 1021 (81/360 absences: 77.5 %)
    esc.lista.value = "risco"
    assert list(esc.students.frame["nome"]) == ["Téo Freitas", "Sara Moura"]
    assert esc.students.frame["freq_pct"].tolist() == pytest.approx([0.0, 77.5])
    rows = xlsx_rows(esc.students_export)
    assert rows[0] == ("Estudante", "Turma", "Frequência (%)", "Faltas", "Aulas dadas")
    assert rows[1:] == [
        ("Téo Freitas", "9º ano integral", 0, 360, 360),
        ("Sara Moura", "9º ano integral", pytest.approx(0.775), 81, 360),
    ]


def test_infrequencia_filter_and_export(home: Path) -> None:
    from painel.school.pages import infrequencia

    page = panel(infrequencia, CENTRAL)
    page.grupo.value = "EM"
    # EM: T102 only: 7 with attendance, 1008 infrequente = 14.3 %; em risco 1008, 1009 = 28.6 %
    # frequência 1 - 296/3360 = 91.2 %
    assert [c.split("|")[1] for c in cards(page)] == ["14,3%", "28,6%", "1", "91,2%"]
    assert page.by_bimestre.figure["data"][0]["y"] == pytest.approx([100 * (1 - 296 / 3360)])
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Matrículas ativas",
        "Com frequência lançada",
        "Infrequentes",
        "Infrequentes (%)",
        "Em risco",
        "Em risco (%)",
        "Frequência (%)",
    )
    # sorted by label; percentages as Excel fractions; SRE 19 has no EM: zeros, no percentage
    assert rows[1:] == [
        ("SRE Juiz de Fora", 0, 0, 0, None, 0, None, None),
        (
            "SRE Metropolitana A",
            7,
            7,
            1,
            pytest.approx(1 / 7),
            2,
            pytest.approx(2 / 7),
            pytest.approx(1 - 296 / 3360),
        ),
    ]
    # turno Manhã: T101 only: 1002, 1005 of 5 = 40 %
    page.grupo.value = ""
    page.turno.value = "Manhã"
    assert cards(page)[0].startswith("Infrequentes|40,0%|")
    # nothing recorded for a selection: a message, not an empty chart without a word
    page.turno.value = "Sem turma"
    assert "Não há frequência lançada" in page.empty.value


# ---- 5. Busca Ativa -------------------------------------------------------------------------------
def test_busca_ativa_school_list_and_days(home: Path) -> None:
    from painel.school.pages import busca_ativa

    esc = panel(busca_ativa, ESCOLA_JF)
    assert "Dados do SIMADE/DED de 20/05/2026" in text(esc.widget())
    assert esc.dias in esc.filter_bar().children
    assert esc.dias.value == 15  # the job's default (the manifest records no other)
    assert [v for _, v in esc.dias.options] == [5, 10, 15, 20, 30]
    # school 21: 6 followed (1019-1024); 15 days or more: 1023 (16), 1021 (15); atenção
    # from ceil(15/2) = 8 to 14 days: 1019 (14); 2/6 = 33.3 %
    assert cards(esc) == [
        "Sem presença há 15 dias letivos ou mais|2|estudantes para a busca ativa",
        "Atenção|1|de 8 a 14 dias letivos sem presença",
        "Sem presença (%)|33,3%|das 6 matrículas acompanhadas",
        "Matrículas acompanhadas|6|ativas e enturmadas, com frequência diária",
    ]
    rows = esc.students.frame
    assert rows[["nome", "turma", "ultima", "dias_sem_presenca", "situacao"]].values.tolist() == [
        [
            "Úrsula Lopes",
            "9º ano integral",
            "nunca registrada",
            16,
            "Busca ativa (15 dias ou mais)",
        ],
        ["Sara Moura", "9º ano integral", "27/04/2026", 15, "Busca ativa (15 dias ou mais)"],
        ["Quésia Ramos", "9º ano integral", "28/04/2026", 14, "Atenção"],
    ]
    assert esc.table_box.layout.display == "none"  # at a school: the list, no unit table
    bars = esc.chart.figure["data"][0]
    assert bars["y"] == ["9º ano integral"] and bars["x"] == [2]
    out = xlsx_rows(esc.students_export)
    assert out[0] == (
        "Estudante",
        "Turma",
        "Última presença",
        "Dias letivos sem presença",
        "Situação",
    )
    assert out[1] == (
        "Úrsula Lopes",
        "9º ano integral",
        "nunca registrada",
        16,
        "Busca ativa (15 dias ou mais)",
    )
    assert len(out) == 4
    # another N: 20 days -> nobody yet; atenção 10-19: all three
    esc.dias.value = 20
    assert [c.split("|")[1] for c in cards(esc)[:2]] == ["0", "3"]
    assert "Nenhum estudante sem presença há 20 dias letivos ou mais" in esc.empty.value
    assert set(esc.students.frame["situacao"]) == {"Atenção"}
    # 10 days -> the three; atenção 5-9: nobody
    esc.dias.value = 10
    assert [c.split("|")[1] for c in cards(esc)[:2]] == ["3", "0"]
    assert esc.empty.value == ""
    # a value the server did not offer is not used
    assert esc.n == 10


def test_busca_ativa_central_sre_and_filters(home: Path) -> None:
    from painel.school.pages import busca_ativa

    page = panel(busca_ativa, CENTRAL)
    # followed: 24 enturmadas (not 1026); 2 of them 15+ days, both in SRE 19
    assert [c.split("|")[1] for c in cards(page)] == ["2", "1", "8,3%", "24"]
    table = page.table.frame.set_index("label")
    assert table.loc["SRE Juiz de Fora", ["acompanhadas", "busca", "atencao"]].tolist() == [6, 2, 1]
    assert table.loc["SRE Metropolitana A", ["acompanhadas", "busca", "atencao"]].tolist() == [
        18,
        0,
        0,
    ]
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Matrículas acompanhadas",
        "Sem presença (busca ativa)",
        "Sem presença (%)",
        "Atenção",
    )
    assert rows[1:] == [
        ("SRE Juiz de Fora", 6, 2, pytest.approx(2 / 6), 1),
        ("SRE Metropolitana A", 18, 0, 0, 0),
    ]
    # drill by a bar down to the school: a central user sees the counts, never the names
    page.open_label("SRE Juiz de Fora")
    page.open_label("Juiz de Fora")
    page.open_label("E.E. “Duque” de Caxias")
    assert page.drill.labels[-1] == "E.E. “Duque” de Caxias"
    assert "equipes das SREs e das escolas" in page.students_note.value
    assert page.students.frame.empty
    # a filter: turno Manhã (T101, school 11) has nobody in school 21
    page.turno.value = "Manhã"
    assert "Ainda não há frequência diária registrada" in page.empty.value

    sre = panel(busca_ativa, SRE_METRO)
    # SRE 22: 18 followed (T101 5, T102 7, T201 4 + 1018 + 1025), all present on 19/05
    assert [c.split("|")[1] for c in cards(sre)] == ["0", "0", "0,0%", "18"]
    assert "Nenhum estudante sem presença há 15 dias letivos ou mais" in sre.empty.value
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}


def test_busca_ativa_days_from_the_manifest() -> None:
    from painel.school.pages.busca_ativa import atencao_desde, dias_do_job

    assert dias_do_job({}) == 15
    assert dias_do_job({"parameters": {"dias_busca_ativa": 10}}) == 10
    assert dias_do_job({"parameters": {"dias_busca_ativa": "20"}}) == 20
    assert dias_do_job({"parameters": {"dias_busca_ativa": "x"}}) == 15
    assert dias_do_job({"parameters": None}) == 15
    assert [atencao_desde(n) for n in (5, 10, 15, 20, 30)] == [3, 5, 8, 10, 15]


# ---- 12. Ficha do Estudante ---------------------------------------------------------------------
def test_ficha_sre_picks_a_student(home: Path) -> None:
    from painel.school.pages import ficha

    page = panel(ficha, SRE_METRO)
    assert "Dados do SIMADE/DED de 20/05/2026" in text(page.widget())
    # the SRE's schools only, names not ids; the first school's turmas
    assert page.escola.options == (
        ("E.E. Afonso Pena", 31000011),
        ("E.E. Contagem – Centro", 31000012),
    )
    assert page.sre.layout.display == "none"  # one SRE: no SRE picker
    assert [label for label, _ in page.turma.options] == ["1ª série EM – noite", "1º ano A"]
    assert page.aluno.value == 0 and "Escolha a escola" in page.message.value
    page.turma.value = 102
    # T102: Luís has two matrículas: told apart by their dates
    assert [label for label, _ in page.aluno.options] == [
        "Escolha um estudante",
        "Gabriela Melo",
        "Hugo Pires",
        "Iara Costa",
        "João Batista",
        "Kátia Reis",
        "Luís Gomes – matrícula de 09/02/2026",
        "Luís Gomes – matrícula de 02/03/2026",
    ]
    page.aluno.value = 1008
    header = page.header.value
    for part in (
        "Hugo Pires",
        "03/03/2008",
        "E.E. Afonso Pena",
        "1ª série EM – noite",
        "EM 1ª série",
        "Em andamento",
    ):
        assert part in header
    # frequência 1 - (8x11 + 40)/(12x40) = 1 - 128/480 = 73.3 %; aproveitamento 12x12/(12x25)
    # = 48 %; present on every school day; 12/25 = 48 % < 60 % in all 12 components
    assert cards(page) == [
        "Frequência|73,3%|no ano, sobre as aulas dadas",
        "Aproveitamento|48,0%|pontos obtidos ÷ pontos distribuídos",
        "Dias letivos sem presença|0|última presença: 19/05/2026",
        "Componentes abaixo da média|12|abaixo de 60% dos pontos",
    ]
    table = page.table.frame
    assert len(table) == 12 and table["componente"].iloc[0] == "Língua Portuguesa"
    mat = table.set_index("componente").loc["Matemática"]
    # as posted (45 absences of 40: rule I9), the frequência clipped: 0 %
    assert (mat["nota_1"], mat["faltas_1"], mat["frequencia"]) == ("12,0 / 25,0", "45 / 40", 0.0)
    assert page.spark.figure["data"][0]["y"] == [48.0, None]  # bimestre 2 not posted
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Componente",
        "1º bimestre – nota",
        "1º bimestre – faltas",
        "2º bimestre – nota",
        "2º bimestre – faltas",
        "Aproveitamento (%)",
        "Frequência (%)",
    )
    assert rows[1] == (
        "Língua Portuguesa",
        "12,0 / 25,0",
        "8 / 40",
        None,
        None,
        pytest.approx(0.48),
        pytest.approx(0.8),
    )
    assert len(rows) == 13
    name, _data, _rows = page.export._make()
    assert name.startswith("boletim_Hugo_Pires_")
    # a closed matrícula: its status in the label, and no boletim
    page.escola.value = 31000012
    page.turma.value = 201
    labels = dict(page.aluno.options)
    assert labels["Yara Teixeira – Reprovado"] == 1029
    assert labels["Yara Teixeira – Aprovado"] == 1030
    page.aluno.value = 1029
    assert "Reprovado" in page.header.value
    assert "Ainda não há notas nem frequência" in page.message.value


def test_ficha_search_by_name_within_scope(home: Path) -> None:
    from painel.school.pages import ficha

    sre = panel(ficha, SRE_METRO)
    # accent-insensitive; Téo Freitas has matrículas in school 12 (1025) and school 21 (1022):
    # the SRE 22 user finds only the first
    sre.busca.value = "teo"
    assert sre.encontrados.options == (
        ("Escolha um estudante", 0),
        ("Téo Freitas — 6º ano B — E.E. Contagem – Centro", 1025),
    )
    sre.encontrados.value = 1025
    assert (sre.escola.value, sre.turma.value, sre.aluno.value) == (31000012, 201, 1025)
    assert "EF 9º ano" in sre.header.value  # his matrícula's etapa (in a 6º ano turma: I13)
    # no attendance posted (arrived 04/05): no frequência; present on 19/05
    assert cards(sre)[0].startswith("Frequência|—|")
    sre.busca.value = "LUIS gomes"
    assert len(sre.encontrados.options) == 3  # his two matrículas
    sre.busca.value = "x"
    assert "ao menos 2 letras" in sre.busca_note.value
    sre.busca.value = "zzz"
    assert "Nenhum estudante encontrado" in sre.busca_note.value
    sre.select(1022)  # a matrícula of another SRE: nothing changes
    assert sre.aluno.value == 1025

    esc = panel(ficha, ESCOLA_JF)
    assert esc.escola.options == (("E.E. “Duque” de Caxias", 31000021),)
    # escolarização turmas and the matrículas without one (Wanda); not the AEE turma
    assert esc.turma.options == (("9º ano integral", 301), ("Sem turma", -1))
    esc.busca.value = "téo"
    assert [v for _, v in esc.encontrados.options] == [0, 1022]
    esc.encontrados.value = 1022
    # 40 of 40 absences in 9 components: 0 %; 24 of 25 points: 96 %
    assert [c.split("|")[1] for c in cards(esc)[:2]] == ["0,0%", "96,0%"]
    # Úrsula: never present, 16 school days
    esc.busca.value = "ursula"
    esc.encontrados.value = 1023
    assert cards(esc)[2] == "Dias letivos sem presença|16|última presença: nunca registrada"
    esc.turma.value = -1
    assert [label for label, _ in esc.aluno.options] == ["Escolha um estudante", "Wanda Neves"]
    esc.aluno.value = 1026
    assert "Sem turma" in esc.header.value


def test_ficha_is_not_for_central_users(home: Path) -> None:
    from painel.school.pages import ficha

    page = panel(ficha, CENTRAL)
    assert "restrita às equipes das SREs e das escolas" in text(page.widget())
    assert page.escola.options == () and page.table.frame.empty
    assert "Você não tem acesso" in text(ficha.build(NOBODY))
