"""Panels Matrículas e Enturmação, Turmas e Ocupação, Distorção Idade-Série and Perfil dos
Estudantes on the hand-written tiny dump (tests/school_tiny.py), built outside a server:
KPIs, what each viewer sees, drill-down, a filter, exports. Every expected value is worked out
by hand from the dump's rows (the arithmetic is in the comments).

The active escolarização matrículas of the dump (status 7, no DT_ENCERRAMENTO, not in the AEE
turma 302), used throughout:
- school 31000011 (SRE 22, Belo Horizonte): T101 1001-1005 (1006 was transferred out),
  T102 1007-1013 (Luís twice) -> 5 + 7 = 12;
- school 31000012 (SRE 22, Contagem): T201 1014-1018 and 1025 (Téo) -> 6 (1029, 1030 closed);
- school 31000021 (SRE 19, Juiz de Fora): T301 1019-1024 -> 6, and 1026 (Wanda, no turma) -> 7
  (1027, 1028 are AEE).
Total 25 = SRE 22 18 + SRE 19 7; enturmadas 24 (all but Wanda).
"""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as widgets
import pytest

from school_pages_testing import (
    CENTRAL,
    ESCOLA_JF,
    SRE_METRO,
    column,
    home_fixture,
    panel,
    text,
    xlsx_rows,
)

ROOT = Path(__file__).resolve().parents[2]
home = home_fixture()


def cards(page: object) -> str:
    return text(widgets.VBox(page.cards))  # type: ignore[attr-defined]


def click_bar(chart: object, label: str) -> None:
    """What the browser sends when a horizontal bar is clicked."""
    chart._clicked(chart, {"event": "click", "y": label}, [])  # type: ignore[attr-defined]


def click_row(table: object, index: int) -> None:
    table._on_message(table, {"event": "row", "index": index}, [])  # type: ignore[attr-defined]


def traces(chart: object) -> dict[str, list]:
    """Stacked bars: legend name -> {unit label: value}."""
    return {
        t["name"]: dict(zip(t["y"], t["x"], strict=True))
        for t in chart.figure["data"]  # type: ignore[attr-defined]
    }


# ---- 2. Matrículas e Enturmação ------------------------------------------------------------
def test_matriculas_central(home: Path) -> None:
    from painel.school.pages import matriculas

    page = panel(matriculas, CENTRAL)
    c = cards(page)
    assert ">25<" in c and ">24<" in c and ">1<" in c  # ativas, enturmadas, Wanda
    assert "96,0%" in c  # 24 / 25
    assert column(page.table, "matriculas") == {"SRE Metropolitana A": 18, "SRE Juiz de Fora": 7}
    assert column(page.table, "nao_enturmadas") == {
        "SRE Metropolitana A": 0,
        "SRE Juiz de Fora": 1,
    }
    # by etapa group: SRE 22 = AI 5 (T101) + AF 6 (T201: five in etapa 19, Téo in 41) + EM 7
    # (T102); SRE 19 = AF 7 (T301's 6 and Wanda, etapa 41); groups with no matrícula left out
    assert traces(page.chart) == {
        "Anos iniciais": {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 5},
        "Anos finais": {"SRE Juiz de Fora": 7, "SRE Metropolitana A": 6},
        "Ensino médio": {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 7},
    }
    # the toggle: by turno, T101 manhã (7 h), T201 tarde (13 h), T102 noite (19 h), T301
    # integral (480 min), Wanda "Sem turma"
    page.split.value = "turno"
    assert traces(page.chart) == {
        "Manhã": {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 5},
        "Tarde": {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 6},
        "Noite": {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 7},
        "Integral": {"SRE Juiz de Fora": 6, "SRE Metropolitana A": 0},
        "Sem turma": {"SRE Juiz de Fora": 1, "SRE Metropolitana A": 0},
    }
    page.split.value = "grupo"
    assert "Anos iniciais" in traces(page.chart)
    # the daily line: one dump, 20/05/2026, summed over the 3 schools: 12+6+7 and 12+6+6
    trend = {t["name"]: t["y"] for t in page.trend.figure["data"]}
    assert trend == {"Matrículas ativas": [25], "Enturmadas": [24]}
    assert page.trend.figure["data"][0]["x"][0].startswith("2026-05-20")
    # above the school: no student list
    assert page.students_box.layout.display == "none"
    # a click on a stacked bar drills down: SRE 22 -> Belo Horizonte 12, Contagem 6
    click_bar(page.chart, "SRE Metropolitana A")
    assert page.drill.labels == ["Minas Gerais", "SRE Metropolitana A"]
    assert column(page.table, "matriculas") == {"Belo Horizonte": 12, "Contagem": 6}
    assert [t["y"] for t in page.trend.figure["data"]] == [[18], [18]]  # 12+6, all enturmadas
    # down to the Juiz de Fora school: the central user gets no student list
    page.drill.go(0)
    page.open_label("SRE Juiz de Fora")
    page.open_label("Juiz de Fora")
    page.open_unit(31000021)
    assert "85,7%" in cards(page)  # 6 / 7
    assert page.students.layout.display == "none"
    assert "restrita à escola e à sua SRE" in page.students_title.value
    assert len(page.students.frame) == 0


def test_matriculas_sre_school_filter_export(home: Path) -> None:
    from painel.school.pages import matriculas

    # SRE 22: starts at its SRE, sees only its municípios; in a school it gets the list
    sre = panel(matriculas, SRE_METRO)
    assert sre.drill.labels == ["SRE Metropolitana A"]
    assert column(sre.table, "matriculas") == {"Belo Horizonte": 12, "Contagem": 6}
    sre.open_label("Contagem")
    sre.open_unit(31000012)
    assert column(sre.table, "matriculas") == {"6º ano B": 6}  # 1014-1018 + 1025
    assert sre.students.layout.display is None
    assert len(sre.students.frame) == 0  # every active matrícula of school 12 has a turma
    assert "Nenhum estudante ativo sem turma" in sre.students_title.value
    # the school user: Wanda (1026, etapa 41, since 09/02/2026, born 17/05/2012)
    esc = panel(matriculas, ESCOLA_JF)
    assert esc.drill.labels == ["SRE Juiz de Fora › Juiz de Fora › E.E. “Duque” de Caxias"]
    assert ">7<" in cards(esc) and "85,7%" in cards(esc)
    rows = xlsx_rows(esc.students_export)
    assert rows[0] == (
        "Estudante",
        "Matrícula",
        "Etapa",
        "Data da matrícula",
        "Data de nascimento",
    )
    assert rows[1][:3] == ("Wanda Neves", "1026", "EF 9º ano")
    assert rows[1][3].date().isoformat() == "2026-02-09"
    assert rows[1][4].date().isoformat() == "2012-05-17"
    assert len(rows) == 2
    # a filter: turno "Noite" is T102 only (7 matrículas, all enturmadas, SRE 22)
    page = panel(matriculas, CENTRAL)
    page.turno.value = "Noite"
    assert ">7<" in cards(page) and "100,0%" in cards(page)
    assert column(page.table, "matriculas") == {"SRE Metropolitana A": 7, "SRE Juiz de Fora": 0}
    assert "filtros não se aplicam" in page.trend_note.value  # the daily series has no turno
    page.turno.value = ""
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Matrículas ativas",
        "Enturmadas",
        "Não enturmadas",
        "Enturmação (%)",
    )
    # 6/7 = 0.857, 18/18 = 1 (Excel percentages are fractions)
    assert [r[:4] for r in rows[1:]] == [
        ("SRE Juiz de Fora", 7, 6, 1),
        ("SRE Metropolitana A", 18, 18, 0),
    ]
    assert rows[1][4] == pytest.approx(6 / 7) and rows[2][4] == pytest.approx(1.0)


# ---- 3. Turmas e Ocupação -----------------------------------------------------------------
# escolarização turmas (T302 is AEE): T101 5 active of capacity 5 (100%), T102 7 of the EM
# default 40 (17.5%), T201 6 (1014-1018, 1025) of 4 (150%: over), T301 6 of 10 (60%).
def test_turmas_central(home: Path) -> None:
    from painel.school.pages import turmas

    page = panel(turmas, CENTRAL)
    c = cards(page)
    assert ">4<" in c  # 4 turmas with students
    assert "6,0" in c  # ATU (5 + 7 + 6 + 6) / 4 = 24 / 4
    assert ">1<" in c  # T201 over capacity
    assert ">37<" in c  # idle seats: 0 + (40 - 7) + 0 (T201 over) + (10 - 6) = 37
    bands = page.bands.figure["data"][0]
    # < 50%: T102; 50-80%: T301; 80-100%: T101 (exactly full); > 100%: T201
    assert bands["x"] == ["Menos de 50%", "50% a 80%", "80% a 100%", "Acima de 100%"]
    assert bands["y"] == [1, 1, 1, 1]
    f = page.table.frame.set_index("label")
    # SRE 22: T101, T102, T201 = 3 turmas, 18 students, ATU 6.0, 1 over, 33 idle (T102)
    # SRE 19: T301 = 1 turma, 6 students, ATU 6.0, none over, 4 idle
    assert f.loc["SRE Metropolitana A", ["turmas", "alunos", "acima", "vagas"]].tolist() == [
        3,
        18,
        1,
        33,
    ]
    assert f.loc["SRE Juiz de Fora", ["turmas", "alunos", "acima", "vagas"]].tolist() == [
        1,
        6,
        0,
        4,
    ]
    assert f.loc["SRE Metropolitana A", "atu"] == pytest.approx(6.0)
    # the bands per unit (stacked): SRE 22 one turma in each band but 50-80%
    assert traces(page.chart)["Acima de 100%"] == {"SRE Juiz de Fora": 0, "SRE Metropolitana A": 1}
    assert traces(page.chart)["50% a 80%"] == {"SRE Juiz de Fora": 1, "SRE Metropolitana A": 0}
    # drill: a bar, then a município, then a school: its turmas, then a turma
    click_bar(page.chart, "SRE Metropolitana A")
    assert column(page.table, "vagas") == {"Belo Horizonte": 33, "Contagem": 0}
    page.open_label("Contagem")
    page.open_unit(31000012)
    assert page.above.layout.display == "none" and page.inside.layout.display is None
    t = page.turmas.frame.iloc[0]
    assert (t["label"], t["etapa_nome"], t["turno"], t["capacidade"], t["ativos"]) == (
        "6º ano B",
        "EF 6º ano",
        "Tarde",
        4,
        6,
    )
    assert t["ocupacao"] == pytest.approx(150.0)  # 6 / 4
    click_row(page.turmas, 0)
    assert page.drill.labels[-1] == "6º ano B"
    assert page.turma_box.layout.display is None
    # a central user never gets names
    assert page.students.layout.display == "none"
    assert "restrita à escola e à sua SRE" in page.students_title.value


def test_turmas_sre_school_filter_export(home: Path) -> None:
    from painel.school.pages import turmas

    sre = panel(turmas, SRE_METRO)
    # Belo Horizonte: T101 + T102 = 2 turmas, 12 students, idle 33; Contagem: T201 over
    assert column(sre.table, "turmas") == {"Belo Horizonte": 2, "Contagem": 1}
    assert column(sre.table, "acima") == {"Belo Horizonte": 0, "Contagem": 1}
    sre.open_label("Contagem")
    sre.open_unit(31000012)
    sre.open_unit(201)
    # the SRE user, inside a school, sees T201's 6 active students (not 1029/1030: closed),
    # by name without accents: Fábio, Marta, Nilo, Olga, Paulo, Téo
    assert list(sre.students.frame["nome"]) == [
        "Fábio Alves",
        "Marta Silva",
        "Nilo Prado",
        "Olga Teles",
        "Paulo Vaz",
        "Téo Freitas",
    ]
    # the school user: its one escolarização turma (not the AEE), then its students
    esc = panel(turmas, ESCOLA_JF)
    assert ">37<" not in cards(esc) and ">4<" in cards(esc)  # idle: 10 - 6 = 4
    assert list(esc.turmas.frame["label"]) == ["9º ano integral"]
    rows = xlsx_rows(esc.turmas_export)
    assert rows[0] == (
        "Turma",
        "Etapa",
        "Turno",
        "Capacidade",
        "Alunos ativos",
        "Ocupação (%)",
        "Vagas ociosas",
    )
    assert rows[1][:5] == ("9º ano integral", "EF 9º ano", "Integral", 10, 6)
    assert rows[1][5] == pytest.approx(0.6) and rows[1][6] == 4
    click_row(esc.turmas, 0)
    assert esc.drill.labels[-1] == "9º ano integral"
    # 1019-1024 (Vítor without a birth date); Sara's AEE matrícula 1028 is in T302
    names = ["Quésia Ramos", "Rui Barros", "Sara Moura", "Téo Freitas", "Úrsula Lopes"]
    assert list(esc.students.frame["nome"]) == [*names, "Vítor Cunha"]
    rows = xlsx_rows(esc.students_export)
    assert rows[0][:4] == ("Estudante", "Matrícula", "Data de nascimento", "Idade")
    assert rows[1][0] == "Quésia Ramos" and rows[1][1] == "1019" and rows[1][3] == 14
    assert rows[6][0] == "Vítor Cunha" and rows[6][2] is None
    # a filter: turno "Noite" leaves T102 only: 1 turma, ATU 7,0, none over, 33 idle
    page = panel(turmas, CENTRAL)
    page.turno.value = "Noite"
    c = cards(page)
    assert "7,0" in c and ">33<" in c and ">0<" in c
    assert page.bands.figure["data"][0]["y"] == [1, 0, 0, 0]
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Turmas com alunos",
        "Alunos enturmados",
        "Alunos por turma",
        "Turmas acima da capacidade",
        "Vagas ociosas",
    )
    assert rows[1] == ("SRE Juiz de Fora", 0, 0, None, 0, 0)
    assert rows[2] == ("SRE Metropolitana A", 1, 7, 7.0, 0, 33)


# ---- 9. Distorção Idade-Série -------------------------------------------------------------
# age = 2026 - birth year; distorted when age >= expected + 2. T101 (E 6): 6, 6, 6, 6, 7 (Eva);
# T102 (E 15): 15, 18 (Hugo), 20 (Iara), 15, 15, 15, 15 -> 2 distorted; T201 (E 11): five of 11,
# Téo (etapa 41, E 14) 14; T301 (E 14): five of 14, Vítor without a birth date (out of the base);
# Wanda (41) 14. Base 5 + 7 + 6 + 5 + 1 = 24, distorted 2: TDI 8,3%.
def test_distorcao_central(home: Path) -> None:
    from painel.school.pages import distorcao

    page = panel(distorcao, CENTRAL)
    c = cards(page)
    assert "8,3%" in c and ">2<" in c and ">24<" in c
    # by etapa, in etapa order (14, 19, 41, 25): EM 1ª série 2 / 7 = 28,6%, the rest 0
    e = page.etapas.figure["data"][0]
    assert e["x"] == ["EF 1º ano", "EF 6º ano", "EF 9º ano", "EM 1ª série"]
    assert e["y"] == pytest.approx([0, 0, 0, 100 * 2 / 7])
    # by unit: SRE 22 2 / 18 = 11,1%; SRE 19 0 / 6 (Wanda + 5 of T301)
    assert column(page.table, "base_tdi") == {"SRE Metropolitana A": 18, "SRE Juiz de Fora": 6}
    assert column(page.table, "tdi")["SRE Metropolitana A"] == pytest.approx(100 / 9)
    # the age x etapa matrix of the 25 (the state has fewer than MATRIX_MAX_ROWS)
    h = page.matrix.figure["data"][0]
    assert h["y"] == ["EF 1º ano", "EF 6º ano", "EF 9º ano", "EM 1ª série"]
    assert h["x"] == [
        "6 anos",
        "7 anos",
        "11 anos",
        "14 anos",
        "15 anos",
        "18 anos",
        "20 anos",
        "Sem data de nascimento",
    ]
    grid = {
        (y, x): v
        for y, row in zip(h["y"], h["z"], strict=True)
        for x, v in zip(h["x"], row, strict=True)
    }
    assert {k: v for k, v in grid.items() if v} == {
        ("EF 1º ano", "6 anos"): 4,  # Ana, Bruno, Carla, Davi
        ("EF 1º ano", "7 anos"): 1,  # Eva
        ("EF 6º ano", "11 anos"): 5,  # T201's etapa-19 five
        ("EF 9º ano", "14 anos"): 7,  # Téo (1025), T301's five with a date, Wanda
        ("EF 9º ano", "Sem data de nascimento"): 1,  # Vítor
        ("EM 1ª série", "15 anos"): 5,  # Gabriela, João, Kátia, Luís x 2
        ("EM 1ª série", "18 anos"): 1,  # Hugo
        ("EM 1ª série", "20 anos"): 1,  # Iara
    }
    # a click on a unit's bar goes down: Belo Horizonte 2 / 12 = 16,7%, Contagem 0 / 6
    click_bar(page.chart, "SRE Metropolitana A")
    assert page.drill.labels == ["Minas Gerais", "SRE Metropolitana A"]
    assert column(page.table, "tdi")["Belo Horizonte"] == pytest.approx(100 * 2 / 12)
    assert column(page.table, "tdi")["Contagem"] == 0


def test_distorcao_sre_school_filter_export(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from painel.school.pages import distorcao

    sre = panel(distorcao, SRE_METRO)
    assert "11,1%" in cards(sre)  # 2 / 18
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    esc = panel(distorcao, ESCOLA_JF)
    assert "0,0%" in cards(esc) and ">6<" in cards(esc)  # 0 / (5 + Wanda)
    assert column(esc.table, "base_tdi") == {"9º ano integral": 5}  # Wanda has no turma
    h = esc.matrix.figure["data"][0]
    assert h["y"] == ["EF 9º ano"] and h["z"] == [[6, 1]]  # 6 of 14 years, Vítor
    # a filter: EM only -> 2 / 7 = 28,6%; SRE 19 has no EM (TDI empty)
    page = panel(distorcao, CENTRAL)
    page.grupo.value = "EM"
    assert "28,6%" in cards(page)
    assert page.etapas.figure["data"][0]["x"] == ["EM 1ª série"]
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Matrículas ativas",
        "Base da TDI",
        "Distorcidas",
        "Distorção idade-série (%)",
    )
    assert rows[1] == ("SRE Juiz de Fora", 0, 0, 0, None)
    assert rows[2][:4] == ("SRE Metropolitana A", 7, 7, 2)
    assert rows[2][4] == pytest.approx(2 / 7)
    # a state above the matrix's limit: a message, and the matrix from the SRE down
    monkeypatch.setattr(distorcao, "MATRIX_MAX_ROWS", 10)
    page.grupo.value = ""
    assert page.matrix.layout.display == "none"
    assert "a partir de uma SRE" in page.matrix_note.value
    page.open_label("SRE Juiz de Fora")
    assert page.matrix.layout.display is None
    assert page.matrix.figure["data"][0]["z"] == [[6, 1]]  # Wanda + 5, Vítor


# ---- 11. Perfil dos Estudantes -------------------------------------------------------------
# sexo of the 25: school 11 F Ana, Carla, Eva, Gabriela, Iara, Kátia (6), M Bruno, Davi, Hugo,
# Luís x 2 (5), João none; school 12 F Marta, Olga (2), M Nilo, Paulo, Fábio, Téo (4); school
# 21 F Quésia, Sara, Úrsula, Wanda (4), M Rui, Téo, Vítor (3). F 12, M 12, none 1.
# PcD: Rui. Zona rural: Quésia, Rui. Cor: Kátia 0, Rui 1, the rest 3 (parda).
def test_perfil_central(home: Path) -> None:
    from painel.school.pages import perfil

    page = panel(perfil, CENTRAL)
    c = cards(page)
    assert ">25<" in c
    assert "48,0%" in c  # 12 / 25 feminino
    assert "4,0%" in c  # 1 / 25 PcD
    assert "8,0%" in c  # 2 / 25 rural
    sexo = page.sexo.figure["data"][0]
    assert dict(zip(sexo["labels"], sexo["values"], strict=True)) == {
        "Masculino": 12,
        "Feminino": 12,
        "Não informado": 1,
    }
    pcd = page.pcd.figure["data"][0]
    assert dict(zip(pcd["labels"], pcd["values"], strict=True)) == {"Sim": 1, "Não": 24}
    zona = page.zona.figure["data"][0]
    assert dict(zip(zona["labels"], zona["values"], strict=True)) == {"Urbana": 23, "Rural": 2}
    cor = page.cor.figure["data"][0]
    assert cor["x"] == ["Branca", "Preta", "Parda", "Amarela", "Indígena", "Não declarada"]
    assert cor["y"] == [1, 0, 23, 0, 0, 1]
    # ages: 6-10 Ana, Bruno, Carla, Davi (6), Eva (7) = 5; 11-14 T201's five (11), Téo (14),
    # T301's five (14), Wanda (14) = 12; 15-17 Gabriela, João, Kátia, Luís x 2 = 5;
    # 18-24 Hugo (18), Iara (20) = 2; Vítor not informed
    faixa = page.faixa.figure["data"][0]
    assert dict(zip(faixa["x"], faixa["y"], strict=True)) == {
        "Até 5 anos": 0,
        "6 a 10 anos": 5,
        "11 a 14 anos": 12,
        "15 a 17 anos": 5,
        "18 a 24 anos": 2,
        "25 anos ou mais": 0,
        "Não informada": 1,
    }
    # SRE 22: 6 + 2 = 8 F of 18; SRE 19: 4 F of 7, Rui PcD, 2 rural
    assert column(page.table, "feminino") == {"SRE Metropolitana A": 8, "SRE Juiz de Fora": 4}
    assert column(page.table, "pcd") == {"SRE Metropolitana A": 0, "SRE Juiz de Fora": 1}
    # no turno or modalidade filter (agg_perfil has neither)
    assert "Turno" not in dict(page.describe())
    # a row click drills down: Juiz de Fora has 7 (4 F)
    click_row(page.table, 0)  # sorted by label: "SRE Juiz de Fora" first
    assert page.drill.labels == ["Minas Gerais", "SRE Juiz de Fora"]
    assert column(page.table, "total") == {"Juiz de Fora": 7}


def test_perfil_sre_school_filter_export(home: Path) -> None:
    from painel.school.pages import perfil

    sre = panel(perfil, SRE_METRO)
    assert ">18<" in cards(sre) and "44,4%" in cards(sre)  # 8 / 18
    assert column(sre.table, "total") == {"Belo Horizonte": 12, "Contagem": 6}
    esc = panel(perfil, ESCOLA_JF)
    c = cards(esc)
    assert ">7<" in c and "57,1%" in c and "14,3%" in c and "28,6%" in c  # 4, 1, 2 of 7
    # by turma: T301 holds 6 (Wanda has none): F Quésia, Sara, Úrsula
    assert column(esc.table, "total") == {"9º ano integral": 6}
    assert column(esc.table, "feminino") == {"9º ano integral": 3}
    esc.open_unit(301)
    assert ">6<" in cards(esc) and "50,0%" in cards(esc)
    assert esc.table.layout.display == "none"  # nothing below a turma
    # a filter: EM = T102's 7, F Gabriela, Iara, Kátia -> 42,9%
    page = panel(perfil, CENTRAL)
    page.grupo.value = "EM"
    assert ">7<" in cards(page) and "42,9%" in cards(page)
    rows = xlsx_rows(page.export)
    assert rows[0] == (
        "Unidade",
        "Matrículas ativas",
        "Feminino",
        "Masculino",
        "Feminino (%)",
        "Estudantes com deficiência (PcD)",
        "PcD (%)",
        "Zona rural",
        "Zona rural (%)",
    )
    assert rows[1] == ("SRE Juiz de Fora", 0, 0, 0, None, 0, None, 0, None)
    # SRE 22 EM: F 3, M Hugo, Luís x 2 = 3, João none
    assert rows[2][:4] == ("SRE Metropolitana A", 7, 3, 3)
    assert rows[2][4] == pytest.approx(3 / 7)


# ---- notebooks ------------------------------------------------------------------------------
EVERYONE = [
    "admin",
    "analyst",
    "school_central",
    "school_sre",
    "school_director",
    "school_secretary",
    "school_pedagogue",
]
STAFF = ["admin", "school_sre", "school_director", "school_secretary", "school_pedagogue"]


@pytest.mark.parametrize(
    ("name", "module", "roles"),
    [
        ("rede_matriculas", "matriculas", EVERYONE),
        ("rede_turmas", "turmas", STAFF),
        ("rede_distorcao", "distorcao", EVERYONE),
        ("rede_perfil", "perfil", EVERYONE),
    ],
)
def test_notebooks(name: str, module: str, roles: list[str]) -> None:
    nb = json.loads((ROOT / "notebooks" / "dashboards" / f"{name}.ipynb").read_text())
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "code"]
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert f"from painel.school.pages import {module} as page" in "".join(nb["cells"][1]["source"])
    assert "".join(nb["cells"][2]["source"]) == "dash.render(page.build)"
    meta = nb["metadata"]["painel"]
    assert meta["roles"] == roles and meta["title"] and meta["description"]
