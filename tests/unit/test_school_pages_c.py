"""Notas e Aproveitamento, Painel DED – Lançamentos, Painel SIMADE – Inconsistências de
Matrícula and Rendimento on the hand-written tiny dump, built outside a server (no kernel):
what each viewer sees, drill-down, filters and exports. Every expected value is worked out
by hand from tests/school_tiny.py (the arithmetic is in the comments).

Reminders from the dump: bimestre 1 is due on D = 20/05/2026, bimestre 2 has begun and is
not; grades are out of 25 per component and bimestre 1 only; curricula: AI 8 components,
AF 9, EM 12. Schools: 11 Afonso Pena (Belo Horizonte) and 12 Contagem – Centro (Contagem)
in SRE 22 Metropolitana A; 21 “Duque” de Caxias (Juiz de Fora) in SRE 19.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from school_pages_testing import (
    CENTRAL,
    ESCOLA_JF,
    NOBODY,
    SRE_METRO,
    home_fixture,
    panel,
    text,
    xlsx_rows,
)

home = home_fixture()


def cards(page: object) -> dict[str, str]:
    """KPI card label -> the value shown."""
    out = {}
    for card in page.cards:  # type: ignore[attr-defined]
        label = re.search(r'aria-label="([^"]*)"', card.value)
        value = re.search(r'font-size:22px;font-weight:600">([^<]*)<', card.value)
        assert label and value, card.value
        out[label.group(1)] = value.group(1)
    return out


def by_label(table: object, column: str) -> dict:
    df = table.frame  # type: ignore[attr-defined]
    return {
        k: (None if v != v else round(float(v), 2))
        for k, v in zip(df["label"], df[column], strict=True)
    }


# ---- 6. Notas e Aproveitamento -------------------------------------------------------------------
# Points of bimestre 1 (grade x components of the turma; impossible grades clipped):
#   T101 (AI, 8): 1001 20x8=160, 1002 15x8=120, 1003 10x7=70 (ARTES missing), 1004 25x8=200,
#        1005 12.5x8=100 -> 650 of 25 x 39 grades = 975
#   T102 (EM, 12): 1007 18x12=216, 1008 12x12=144, 1009 14x12=168, 1010 20x11+25 (26 clipped)
#        =245, 1011 16x12=192, 1012 19x12=228, 1013 19x12=228 -> 1421 of 25 x 84 = 2100
#   T201 (AF, 9): 1014 21x9=189, 1015 9x9=81, 1016 17x9=153, 1017 13x9=117 -> 540 of 900
#   T301 (AF, 9): 1019 22x9=198, 1020 16x9=144, 1021 11x9=99, 1022 24x9=216, 1023 20x9=180,
#        1024 15x9=135 -> 972 of 1350
# State 3583 / 5325 = 67.29 %; SRE 22 (T101+T102+T201) 2611 / 3975 = 65.69 %; SRE 19 72.0 %.
# Grades recorded: 39 + 84 + 36 + 54 = 213. Grades below 60 % (< 15 of 25): 1003 x7, 1005 x8,
# 1008 x12, 1009 x12, 1015 x9, 1017 x9, 1021 x9 = 66 -> 66 / 213 = 30.99 %.
# Students below the average (a component < 60 %): 1003, 1005, 1008, 1009, 1015, 1017, 1021
# = 7 of the 22 with grades (1018, 1025 arrived after bimestre 1; 1026 has no turma) = 31.8 %.
def test_notas_central_drill_and_heatmap(home: Path) -> None:
    from painel.school.pages import notas

    page = panel(notas, CENTRAL)
    assert cards(page) == {
        "Aproveitamento": "67,3%",  # 3583 / 5325
        "Estudantes abaixo da média": "31,8%",  # 7 / 22
        "Notas abaixo da média": "31,0%",  # 66 / 213
        "Notas lançadas": "213",
    }
    assert by_label(page.table, "aproveitamento") == {
        "SRE Metropolitana A": round(100 * 2611 / 3975, 2),  # 65.69
        "SRE Juiz de Fora": 72.0,  # 972 / 1350
    }
    # students below: SRE 22 1003, 1005, 1008, 1009, 1015, 1017 of 16; SRE 19 1021 of 6
    assert by_label(page.table, "pct_abaixo") == {
        "SRE Metropolitana A": 37.5,
        "SRE Juiz de Fora": round(100 / 6, 2),
    }
    # heatmap: one column (only bimestre 1 has grades), a row per component by its name.
    # Matemática: T101 20+15+10+25+12.5 = 82.5 of 125, T102 18+12+14+25+16+19+19 = 123 of 175,
    # T201 21+9+17+13 = 60 of 100, T301 22+16+11+24+20+15 = 108 of 150 -> 373.5 / 550 = 67.9 %.
    # Artes: T101 without 1003 72.5 of 100, T102 18+12+14+20+16+19+19 = 118 of 175, 60 of 100,
    # 108 of 150 -> 358.5 / 525 = 68.3 %. Filosofia (EM only, T102): 18+12+14+20+16+19+19
    # = 118 of 175 = 67.4 %.
    trace = page.heatmap.figure["data"][0]
    assert trace["x"] == ["1º bimestre"]
    cells = dict(zip(trace["y"], [row[0] for row in trace["z"]], strict=True))
    assert len(cells) == 14  # 8 AI + LINGUA_INGLES + the 5 EM-only components
    assert cells["Matemática"] == 67.9 and cells["Artes"] == 68.3 and cells["Filosofia"] == 67.4
    # drill: a bar (named by its unit) goes down; then a município, a school
    page.open_label("SRE Metropolitana A")
    # Belo Horizonte = school 11: 650 + 1421 = 2071 of 3075 = 67.35 %; Contagem 540 / 900
    assert by_label(page.table, "aproveitamento") == {
        "Belo Horizonte": round(100 * 2071 / 3075, 2),
        "Contagem": 60.0,
    }
    assert page.turmas_box.layout.display == "none"  # turma x componente only at a school
    page.open_label("Contagem")
    page.open_unit(31000012)
    assert page.drill.labels[-1] == "E.E. Contagem – Centro"
    assert list(page.table.frame["label"]) == ["6º ano B"]
    # turma x componente: 9 components of T201, each 21+9+17+13 = 60 of 100; below 60 %: 1015
    # (9) and 1017 (13) -> 2 of 4
    grid = page.turmas.frame
    assert page.turmas_box.layout.display is None and len(grid) == 9
    assert set(grid["turma"]) == {"6º ano B"} and "Língua Inglesa" in set(grid["componente"])
    assert set(grid["aproveitamento"]) == {60.0} and set(grid["n_abaixo"]) == {2}
    # a turma row goes down to the turma
    page.open_unit(int(grid["id"].iloc[0]))
    assert page.drill.labels[-1] == "6º ano B"
    assert page.units_box.layout.display == "none"  # nothing below a turma
    assert cards(page)["Aproveitamento"] == "60,0%"


def test_notas_filters_scopes_and_export(home: Path) -> None:
    from painel.school.pages import notas

    page = panel(notas, CENTRAL)
    page.grupo.value = "EM"  # T102 only: 1421 / 2100 = 67.67 %; 1008, 1009 below of 7
    assert cards(page)["Aproveitamento"] == "67,7%"
    assert cards(page)["Estudantes abaixo da média"] == "28,6%"  # 2 / 7
    assert by_label(page.table, "aproveitamento") == {
        "SRE Metropolitana A": round(100 * 1421 / 2100, 2),
        "SRE Juiz de Fora": None,  # no EM grade: shown as "—", no bar
    }
    assert page.chart.figure["data"][0]["y"] == ["SRE Metropolitana A"]
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Notas lançadas",
        "Aproveitamento (%)",
        "Notas abaixo da média (%)",
        "Estudantes com notas",
        "Estudantes abaixo da média",
        "Estudantes abaixo da média (%)",
    )
    # sorted by label; percentages as fractions; EM: 84 grades, 24 below (1008, 1009 x 12)
    assert rows[1][0] == "SRE Juiz de Fora" and rows[1][1] == 0 and rows[1][2] is None
    assert rows[2][:2] == ("SRE Metropolitana A", 84)
    assert rows[2][2] == pytest.approx(1421 / 2100)
    assert rows[2][3] == pytest.approx(24 / 84)
    assert rows[2][4:6] == (7, 2)
    # bimestre 2: nothing recorded yet, said so
    page.grupo.value = ""
    page.bimestre.value = 2
    assert cards(page)["Aproveitamento"] == "—" and cards(page)["Notas lançadas"] == "0"
    assert "Ainda não há notas lançadas" in page.note.value
    # the SRE user: its schools only
    sre = panel(notas, SRE_METRO)
    assert cards(sre)["Aproveitamento"] == "65,7%"  # 2611 / 3975
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    # the school user: T301, 972 / 1350 = 72 %; 1021 below of 6 = 16.7 %
    esc = panel(notas, ESCOLA_JF)
    assert cards(esc)["Aproveitamento"] == "72,0%"
    assert cards(esc)["Estudantes abaixo da média"] == "16,7%"
    assert list(esc.table.frame["label"]) == ["9º ano integral"]
    grid = xlsx_rows(esc.turmas_export)
    assert grid[0][:3] == ("Turma", "Componente", "Notas lançadas")
    # 9 components of T301, each 108 / 150 = 72 %, 6 grades, 1 below (1021: 11)
    assert len(grid) == 10 and {r[0] for r in grid[1:]} == {"9º ano integral"}
    assert all((r[2], r[3], r[4]) == (6, pytest.approx(0.72), 1) for r in grid[1:])


# ---- 7. Painel DED – Lançamentos -----------------------------------------------------------------
# turma x componente pairs per bimestre: T101 8, T102 12, T201 9, T301 9 = 38 (bimestre 1 is
# due, bimestre 2 begun). Bimestre 1: every grade and attendance recorded but T101 ARTES (1003's
# grade missing: 4 of 5) and T201 HISTORIA (1016's attendance missing: 3 of 4). T201 ARTES has
# no teacher. Bimestre 2: nothing recorded.
def test_lancamentos_central_drill_and_progress(home: Path) -> None:
    from painel.school.pages import lancamentos

    page = panel(lancamentos, CENTRAL)
    assert "bimestres com prazo de lançamento encerrado: 1º" in page.period.value
    assert cards(page) == {
        "Notas lançadas": "97,4%",  # 37 / 38
        "Frequência lançada": "97,4%",  # 37 / 38
        "Lançamentos completos": "94,7%",  # 36 / 38
        "Sem professor(a) vinculado(a)": "1",  # T201 ARTES
    }
    # progress per bimestre begun: bimestre 1 37/38; bimestre 2 (deadline open) 0 of 38
    notas, freq = page.progress.figure["data"]
    assert notas["x"] == ["1º bimestre", "2º bimestre (prazo em aberto)"]
    assert notas["y"] == [pytest.approx(100 * 37 / 38), 0.0]
    assert freq["y"] == [pytest.approx(100 * 37 / 38), 0.0]
    # SRE 22: 8 + 12 + 9 = 29 pairs, 28 with grades, 28 with attendance, 27 complete
    assert by_label(page.table, "pct_completo") == {
        "SRE Metropolitana A": round(100 * 27 / 29, 2),
        "SRE Juiz de Fora": 100.0,
    }
    page.open_label("SRE Metropolitana A")
    # Belo Horizonte (school 11): 20 pairs, 19 complete (T101 ARTES) = 95 %;
    # Contagem (school 12): 9 pairs, 8 complete (T201 HISTORIA) = 88.9 %, 1 without teacher
    assert by_label(page.table, "pct_completo") == {
        "Belo Horizonte": 95.0,
        "Contagem": round(100 * 8 / 9, 2),
    }
    assert by_label(page.table, "sem_professor") == {"Belo Horizonte": 0, "Contagem": 1}
    # the ranking puts the lowest on top
    bars = page.chart.figure
    assert bars["data"][0]["y"] == ["Contagem", "Belo Horizonte"]
    assert bars["layout"]["yaxis"]["autorange"] == "reversed"
    page.open_label("Contagem")
    page.open_unit(31000012)
    pending = page.pending.frame
    assert list(
        zip(pending["componente"], pending["falta"], pending["professor"], strict=True)
    ) == [
        ("Artes", "professor(a) não vinculado(a)", "Sem professor(a) titular vinculado(a)"),
        ("História", "1 registro de frequência", "Professor(a) nº 330000000201"),
    ]
    # by teacher: 330000000201 holds the 8 other components, 7 complete (HISTORIA)
    teachers = page.teachers.frame.set_index("professor")
    assert teachers.loc["Professor(a) nº 330000000201", "pares"] == 8
    assert teachers.loc["Professor(a) nº 330000000201", "pct_completo"] == 87.5
    assert teachers.loc["Sem professor(a) titular vinculado(a)", "pares"] == 1
    rows = xlsx_rows(page.teachers_export)
    assert rows[0][0] == "Professor(a) titular (nº no SIMADE; o arquivo não traz nomes)"
    assert rows[1][0] == "Professor(a) nº 330000000201"  # lowest first (87.5 % < 100 %)
    rows = xlsx_rows(page.pending_export)
    assert rows[0] == (
        "Turma",
        "Componente",
        "Bimestre",
        "Estudantes",
        "Notas lançadas",
        "Frequências lançadas",
        "O que falta",
        "Professor(a) titular (nº no SIMADE; o arquivo não traz nomes)",
    )
    assert rows[2] == (
        "6º ano B",
        "História",
        "1º",
        4,
        4,
        3,
        "1 registro de frequência",
        "Professor(a) nº 330000000201",
    )


def test_lancamentos_filters_scopes_and_export(home: Path) -> None:
    from painel.school.pages import lancamentos

    page = panel(lancamentos, CENTRAL)
    page.grupo.value = "EM"  # T102 (via turmas): 12 pairs, all complete, all with a teacher
    assert cards(page)["Notas lançadas"] == "100,0%"
    assert cards(page)["Sem professor(a) vinculado(a)"] == "0"
    page.grupo.value = ""
    page.turno.value = "Tarde"  # T201: 9 pairs, attendance 8 / 9
    assert cards(page)["Frequência lançada"] == "88,9%"
    assert cards(page)["Notas lançadas"] == "100,0%"
    page.turno.value = ""
    page.bimestre.value = 2  # the chosen bimestre is counted, deadline or not: 0 of 38
    assert "2º bimestre (prazo de lançamento em aberto)" in page.period.value
    assert cards(page)["Notas lançadas"] == "0,0%"
    # T201 ARTES, counted on its 2nd bimestre's row (over both bimestres: once, on the 1st)
    assert cards(page)["Sem professor(a) vinculado(a)"] == "1"
    page.bimestre.value = 0
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Turmas × componentes (por bimestre)",
        "Notas lançadas (%)",
        "Frequência lançada (%)",
        "Lançamentos completos (%)",
        "Turmas × componentes sem professor(a)",
    )
    # sorted by completeness, lowest first: SRE 22 (27 / 29) then SRE 19 (9 / 9)
    assert rows[1][:2] == ("SRE Metropolitana A", 29)
    assert rows[1][2:5] == (
        pytest.approx(28 / 29),
        pytest.approx(28 / 29),
        pytest.approx(27 / 29),
    )
    assert rows[1][5] == 1
    assert rows[2] == ("SRE Juiz de Fora", 9, 1, 1, 1, 0)
    sre = panel(lancamentos, SRE_METRO)
    assert cards(sre)["Lançamentos completos"] == "93,1%"  # 27 / 29
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    esc = panel(lancamentos, ESCOLA_JF)  # T301: 9 pairs, everything recorded
    assert cards(esc)["Lançamentos completos"] == "100,0%"
    assert esc.pending.frame.empty and "Nenhuma pendência" in esc.pending_note.value
    assert list(esc.teachers.frame["professor"]) == ["Professor(a) nº 330000000301"]


def test_lancamentos_on_a_version_published_before_primeiro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version published before an upgrade has no ``agg_lancamento.primeiro``: the panel
    still opens on it, counting each pair without a teacher once (until the next refresh)."""
    import duckdb

    import school_tiny as tiny
    from painel.school.pages import lancamentos
    from painel.store import Store

    old = tmp_path / "home"
    monkeypatch.setenv("PAINEL_HOME", str(old))
    tiny.publish(old)
    con = duckdb.connect(str(Store(old / "store").current_path("school")))
    con.execute("ALTER TABLE agg_lancamento DROP COLUMN primeiro")
    con.close()
    page = panel(lancamentos, CENTRAL)
    assert cards(page)["Sem professor(a) vinculado(a)"] == "1"  # T201 ARTES, both bimestres
    assert cards(page)["Lançamentos completos"] == "94,7%"


# ---- 8. Painel SIMADE – Inconsistências de Matrícula ------------------------------------------
# The 18 findings of tests/integration/test_school_etl.py: school 11 has 8 (I2 x2, I4 x2, I7,
# I9, I10, I12), school 12 has 7 (I1, I5, I6, I8, I11, I12, I13), school 21 has 3 (I1, I3,
# I12). Matrículas named: 1002 1003 1008 1009 1010 1012 1013 1016 1017 1022 1024 1025 1026 = 13.
def test_inconsistencias_central_rules_and_drill(home: Path) -> None:
    from painel.school.pages import inconsistencias

    page = panel(inconsistencias, CENTRAL)
    assert cards(page) == {
        "Inconsistências": "18",
        "Matrículas afetadas": "13",
        "Escolas com inconsistências": "3",
        "Regras com ocorrências": "13",  # every rule but I14
    }
    assert "Os filtros de etapa, turno e modalidade não se aplicam" in text(page.filter_bar())
    rules = page.by_rule.figure["data"][0]
    counts = dict(zip(rules["y"], rules["x"], strict=True))
    assert counts["I12 – Cadastro do aluno incompleto"] == 3
    assert counts["I1 – Matrícula ativa duplicada em outra escola"] == 2
    assert sum(counts.values()) == 18 and rules["y"][-1].startswith("I12")  # largest on top
    trend = page.trend.figure["data"][0]
    assert trend["x"] == ["2026-05-20T00:00:00"] and trend["y"] == [18]
    units = page.chart.figure["data"][0]
    assert dict(zip(units["y"], units["x"], strict=True)) == {
        "SRE Metropolitana A": 15,
        "SRE Juiz de Fora": 3,
    }
    items = page.items.view()
    assert len(items) == 18 and page.students_box.layout.display == "none"
    assert list(items["regra"].head(3)) == ["I1", "I1", "I2"]  # the rules' order, not the text's
    assert "estudante" not in [c.key for c in inconsistencias.ITEM_COLUMNS]
    # a click on a rule's bar chooses the rule: the list, the ranking and the trend follow
    page.choose_rule("I12 – Cadastro do aluno incompleto")
    assert page.rule.value == "I12"
    assert set(page.items.view()["detalhe"]) == {
        "sem sexo",  # 1010, school 11
        "sem município de residência",  # 1017, school 12
        "sem data de nascimento",  # 1024, school 21
    }
    units = page.chart.figure["data"][0]
    assert dict(zip(units["y"], units["x"], strict=True)) == {
        "SRE Metropolitana A": 2,
        "SRE Juiz de Fora": 1,
    }
    assert page.trend.figure["data"][0]["y"] == [3]
    assert cards(page)["Inconsistências"] == "18"  # the cards stay on every rule
    page.rule.value = ""
    page.open_label("SRE Metropolitana A")
    units = page.chart.figure["data"][0]
    assert dict(zip(units["y"], units["x"], strict=True)) == {"Belo Horizonte": 8, "Contagem": 7}
    page.open_label("Contagem")
    page.open_unit(31000012)
    # a central user at a school: the list without student names
    assert page.students_box.layout.display == "none" and len(page.items.view()) == 7
    i11 = page.items.view().set_index("regra").loc["I11"]
    assert i11["detalhe"] == "situações no ano: reprovado, aprovado"  # codes 4, 5


def test_inconsistencias_scopes_names_and_export(home: Path) -> None:
    from painel.school.pages import inconsistencias

    sre = panel(inconsistencias, SRE_METRO)
    assert cards(sre)["Inconsistências"] == "15"  # schools 11 and 12
    assert set(sre.items.view()["escola"]) == {"E.E. Afonso Pena", "E.E. Contagem – Centro"}
    assert sre.students_box.layout.display == "none"  # no names above a school
    sre.open_label("Contagem")
    sre.open_unit(31000012)
    # an SRE user at a school reads the students' names (I5, I6 name a turma only; I11 the
    # student Yara by her person id)
    names = dict(zip(sre.students.view()["regra"], sre.students.view()["estudante"], strict=True))
    assert names["I8"] == "Olga Teles"  # 1016
    assert names["I11"] == "Yara Teixeira"
    assert names["I12"] == "Paulo Vaz"  # 1017
    assert names["I13"] == "Téo Freitas"  # 1025
    assert pd.isna(names["I5"])  # a turma's finding: no student
    esc = panel(inconsistencias, ESCOLA_JF)
    assert cards(esc)["Inconsistências"] == "3"
    esc.rule.value = "I3"
    rows = xlsx_rows(esc.students_export)
    assert rows[0] == (
        "Regra",
        "Estudante",
        "Turma",
        "Componente",
        "Bimestre",
        "Data da aula",
        "Detalhe",
        "Escola",
    )
    assert rows[1:] == [
        (
            "I3 – Matrícula ativa sem enturmação",
            "Wanda Neves",
            None,
            None,
            None,
            None,
            "sem turma",
            "E.E. “Duque” de Caxias",
        )
    ]
    # the rule chosen travels in the file's "Filtros" sheet
    _name, data, _rows = esc.students_export._make()
    meta = openpyxl.load_workbook(io.BytesIO(data)).worksheets[1]
    assert ("Regra", "I3 – Matrícula ativa sem enturmação") in [
        tuple(r) for r in meta.iter_rows(values_only=True)
    ]


# ---- 10. Rendimento -----------------------------------------------------------------------------
# Escolarização matrículas by situation: 25 em andamento (active), 1006 transferred, 1029
# reprovada, 1030 aprovada (both Yara, school 12) -> 28; TA = 1 / (1 + 1 + 0) = 50 %, TR 50 %,
# TAB 0 %. At risk of failing (below the average or infrequente, active): 1002 (70 %
# attendance), 1003, 1005, 1008, 1009 (school 11), 1015, 1017 (school 12), 1021, 1022 (school
# 21: 1021 below, 1022 0 % attendance) = 9.
def test_rendimento_central_drill_and_filter(home: Path) -> None:
    from painel.school.pages import rendimento

    page = panel(rendimento, CENTRAL)
    assert cards(page) == {
        "Taxa de aprovação": "50,0%",
        "Taxa de reprovação": "50,0%",
        "Taxa de abandono": "0,0%",
        "Em andamento": "25",
        "Em risco de reprovação": "9",
    }
    assert "as taxas são parciais" in page.note.value
    # SRE 22: 12 + 6 active, 1006, 1029, 1030 = 21; SRE 19: 7 active, no outcome
    assert by_label(page.table, "matriculas") == {"SRE Metropolitana A": 21, "SRE Juiz de Fora": 7}
    assert by_label(page.table, "ta") == {"SRE Metropolitana A": 50.0, "SRE Juiz de Fora": None}
    # 100 % bars over aprovados, reprovados, abandono, em andamento: SRE 22 1 + 1 + 0 + 18 = 20
    bars = {t["name"]: dict(zip(t["y"], t["x"], strict=True)) for t in page.chart.figure["data"]}
    assert bars["Aprovados"]["SRE Metropolitana A"] == 5.0  # 1 / 20
    assert bars["Em andamento"]["SRE Metropolitana A"] == 90.0  # 18 / 20
    assert bars["Em andamento"]["SRE Juiz de Fora"] == 100.0
    page.open_label("SRE Juiz de Fora")  # no outcome yet: the rates wait for the year's end
    assert cards(page)["Taxa de aprovação"] == "—"
    assert "Ano letivo em andamento: taxas disponíveis após o encerramento" in page.note.value
    page.drill.go(0)
    page.grupo.value = "AI"  # T101: 5 active + 1006 transferred, no outcome; 1002 1003 1005
    assert cards(page)["Em andamento"] == "5" and cards(page)["Em risco de reprovação"] == "3"
    assert cards(page)["Taxa de aprovação"] == "—"
    assert by_label(page.table, "matriculas") == {"SRE Metropolitana A": 6, "SRE Juiz de Fora": 0}
    page.grupo.value = ""
    page.open_label("SRE Metropolitana A")
    page.open_label("Contagem")
    page.open_unit(31000012)
    # at the school the units are its turmas (from alunos): T201 = 1014-1018, 1025, 1029, 1030
    assert by_label(page.table, "matriculas") == {"6º ano B": 8}
    # a central user never gets the student list
    assert page.risk_box.layout.display == "none" and page.risk.frame.empty
    assert "disponível para a SRE e para a escola" in page.risk_note.value
    rows = xlsx_rows(page.export)
    assert rows[0][:3] == ("Unidade", "Matrículas", "Aprovados")
    assert rows[1][:8] == ("6º ano B", 8, 1, 1, 0, 6, 0, 0.5)


def test_rendimento_students_at_risk(home: Path) -> None:
    from painel.school.pages import rendimento

    sre = panel(rendimento, SRE_METRO)
    assert cards(sre)["Em risco de reprovação"] == "7"  # 1002 1003 1005 1008 1009 1015 1017
    assert sre.risk_box.layout.display == "none"  # no list above a school
    sre.open_label("Belo Horizonte")
    sre.open_unit(31000011)
    assert list(sre.risk.view()["nome"]) == [
        "Bruno Lima",  # 1002: 70 % attendance
        "Carla Dias",  # 1003: 10 of 25
        "Eva Nunes",  # 1005
        "Hugo Pires",  # 1008
        "Iara Costa",  # 1009
    ]
    esc = panel(rendimento, ESCOLA_JF)
    assert cards(esc)["Taxa de aprovação"] == "—"
    rows = xlsx_rows(esc.risk_export)
    assert rows[0] == ("Estudante", "Turma", "Aproveitamento (%)", "Frequência (%)", "Motivo")
    # Sara (1021): 11 of 25 = 44 % in 9 components, 9 absences in 40 = 77.5 %;
    # Téo (1022): 24 of 25 = 96 %, 40 absences in 40 = 0 %
    assert rows[1] == (
        "Sara Moura",
        "9º ano integral",
        pytest.approx(0.44),
        pytest.approx(0.775),
        "abaixo da média em 9 componentes",
    )
    assert rows[2] == (
        "Téo Freitas",
        "9º ano integral",
        pytest.approx(0.96),
        0,
        "frequência abaixo de 75%",
    )
    esc.open_unit(301)  # the turma: the same two, nothing below it
    assert len(esc.risk.view()) == 2 and esc.units_box.layout.display == "none"


def test_my_panels_say_no_access(home: Path) -> None:
    from painel.school.pages import inconsistencias, lancamentos, notas, rendimento

    for module in (notas, lancamentos, inconsistencias, rendimento):
        page = module.build(NOBODY)
        assert "Você não tem acesso a dados da rede estadual" in text(page)
