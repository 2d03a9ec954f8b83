"""The school panels on the hand-written tiny dump, built outside a server (no kernel):
what each viewer sees, drill-down, filters and exports. Values are worked out by hand from
tests/school_tiny.py."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

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


def test_visao_geral_central_sre_school(home: Path) -> None:
    from painel.school.pages import visao_geral

    page = panel(visao_geral, CENTRAL)
    cards = text(widgets.VBox(page.cards))
    assert ">3<" in cards  # 3 schools
    assert ">25<" in cards  # 25 active matrículas
    assert "22,7%" in cards  # 5 infrequentes of 22 with attendance
    assert "8,3%" in cards  # TDI 2 of 24
    assert ">18<" in cards  # 18 findings
    units = dict(zip(page.table.frame["label"], page.table.frame["matriculas"], strict=True))
    assert units == {"SRE Metropolitana A": 18, "SRE Juiz de Fora": 7}
    # a click on a bar (named by its label) goes down; the breadcrumb and the table follow
    page.open_label("SRE Metropolitana A")
    assert page.drill.labels == ["Minas Gerais", "SRE Metropolitana A"]
    assert set(page.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    page.open_label("Contagem")
    page.open_unit(31000012)
    assert page.drill.labels[-1] == "E.E. Contagem – Centro"
    assert list(page.table.frame["label"]) == ["6º ano B"]
    page.drill.go(0)
    assert len(page.table.frame) == 2
    # the SRE user starts at the SRE and sees only its schools
    sre = panel(visao_geral, SRE_METRO)
    assert sre.drill.labels == ["SRE Metropolitana A"]
    assert set(sre.table.frame["label"]) == {"Belo Horizonte", "Contagem"}
    sre.open_label("SRE Juiz de Fora")  # not a unit of its place: nothing happens
    assert sre.drill.labels == ["SRE Metropolitana A"]
    # the school user starts at the school, its turmas below
    esc = panel(visao_geral, ESCOLA_JF)
    assert esc.drill.labels == ["SRE Juiz de Fora › Juiz de Fora › E.E. “Duque” de Caxias"]
    assert list(esc.table.frame["label"]) == ["9º ano integral"]
    assert ">7<" in text(widgets.VBox(esc.cards))  # 6 in the turma + Wanda without one


def test_visao_geral_filters_and_export(home: Path) -> None:
    from painel.school.pages import visao_geral

    page = panel(visao_geral, CENTRAL)
    page.grupo.value = "EM"
    units = dict(zip(page.table.frame["label"], page.table.frame["matriculas"], strict=True))
    assert units == {"SRE Metropolitana A": 7, "SRE Juiz de Fora": 0}
    rows = xlsx_rows(page.export)
    assert rows[0][:4] == ("Unidade", "Escolas", "Turmas", "Matrículas")
    assert {r[0]: r[3] for r in rows[1:]} == {"SRE Metropolitana A": 7, "SRE Juiz de Fora": 0}


def test_no_grant_sees_a_message(home: Path) -> None:
    from painel.school.pages import visao_geral

    page = visao_geral.build(NOBODY)
    assert "Você não tem acesso a dados da rede estadual" in text(page)
