"""The procurement panels on the simulator's sample world, built outside a server (no kernel):
what a CGE analyst and each organ see, the workflow on the Painel de Alertas, the drill-down
to a purchase, the exports.

The sample world (painel.procurement.simulator.sample): two organs, the state's health
secretariat (SES, CNPJ 01909911000107: 20 purchases) and the municipality of Anápolis
(01135345000115: 10 purchases); its findings are 2 R2 (one per organ), 8 R3 (5 of SES, 3 of Anápolis)
and 3 R7 (all of SES).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from painel.access import Grant, Viewer
from painel.opstate import OpState
from painel.procurement import workflow
from procurement_testing import publish_sample

SES, ANAPOLIS = "01909911000107", "01135345000115"
CGE = Viewer("ana", "cge_analista", frozenset({Grant.parse("procurement:*")}))
GESTOR = Viewer("gil", "cge_gestor", frozenset({Grant.parse("procurement:*")}))
ORGAO_SES = Viewer("ses", "orgao", frozenset({Grant.parse(f"procurement:orgao:{SES}")}))
ORGAO_ANA = Viewer("anapolis", "orgao", frozenset({Grant.parse(f"procurement:orgao:{ANAPOLIS}")}))
NOBODY = Viewer("ninguem", "orgao", frozenset())

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from painel.config import Paths

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("procurement")
    mp.setenv("PAINEL_HOME", str(root / "home"))
    paths = Paths.from_env().ensure()
    publish_sample(paths, root)
    yield paths.home
    mp.undo()


def panel(module: object, viewer: Viewer) -> object:
    from painel.dash.identity import open_dataset

    cls = module.build.__closure__[0].cell_contents  # type: ignore[attr-defined]
    page = cls(viewer, open_dataset(viewer, "procurement"))
    page.watch(page.refresh)
    page.refresh()
    return page


def cards(page: object) -> dict[str, str]:
    out = {}
    for card in page.cards:  # type: ignore[attr-defined]
        label = re.search(r'aria-label="([^"]*)"', card.value)
        value = re.search(r'font-size:22px;font-weight:600">([^<]*)<', card.value)
        assert label and value, card.value
        out[label.group(1)] = value.group(1)
    return out


def text(w: object) -> str:
    value = getattr(w, "value", None)
    if isinstance(value, str) and not getattr(w, "children", None):
        return value
    return " ".join(text(c) for c in getattr(w, "children", ()))


def xlsx(download: object) -> list[tuple]:
    _name, data, _rows = download._make()  # type: ignore[attr-defined]
    return [
        tuple(r)
        for r in openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True)
    ]


def ops() -> OpState:
    from painel.config import Paths

    return OpState(Paths.from_env().opstate)


def keys(page: object) -> set[tuple[str, str]]:
    df = page.table.frame  # type: ignore[attr-defined]
    return set(zip(df["regra"], df["chave"], strict=True))


def test_the_analyst_sees_every_finding_new_by_rule(home: Path) -> None:
    from painel.procurement.pages import alertas

    page = panel(alertas, CGE)
    assert cards(page)["Alertas"] == "13"
    assert cards(page)["Novos"] == "13"
    fig = page.by_rule.figure  # type: ignore[attr-defined]
    bars = dict(zip(fig["data"][0]["y"], fig["data"][0]["x"], strict=True))
    assert (bars["R2 – Dispensa acima do limite"], bars["R3 – Prazo mínimo de propostas"]) == (2, 8)
    assert (
        bars["R7 – Baixa competição (indício)"] == 3 and bars["R1 – Fracionamento de despesa"] == 0
    )
    # riskiest first, money in pt-BR
    frame = page.table.frame  # type: ignore[attr-defined]
    assert list(frame["risco"]) == sorted(frame["risco"], reverse=True)
    assert {r for r in frame["resumo"] if r.startswith("Homologado")} == {
        f"Homologado a {v}% do valor estimado" for v in ("98,9", "98,4", "98,6")
    }  # pt-BR decimals in the summaries people read
    assert page.table.rows[0][5] == "R$ 518.187,68"  # type: ignore[attr-defined]
    # a click on a rule's bar narrows to it
    page.by_rule._clicked(None, {"event": "click", "y": "R2 – Dispensa acima do limite"}, [])  # type: ignore[attr-defined]
    assert page.regra.value == "R2" and len(page.table.frame) == 2  # type: ignore[attr-defined]


def test_the_list_of_findings_is_read_a_page_at_a_time(home: Path) -> None:
    """A year holds tens of thousands of findings: the page holds one page of them, and the
    table's pages, sort, search and export are queries."""
    from painel.procurement.pages import alertas

    page = panel(alertas, CGE)
    table = page.table  # type: ignore[attr-defined]
    table.page_size = 10
    assert table._frame.empty and len(table._page_records) == 10
    assert (table.total, table.unfiltered) == (13, 13)
    table.page = 1
    assert len(table.rows) == 3
    everything = table.frame
    table.sort, table.descending = "risco", False
    shown = [r["risco"] for r in table._page_records]
    assert shown == sorted(everything["risco"])[:10]
    table.search = "homologado estimado"  # R7's summaries, words in any order
    assert table.total == 3 and table.unfiltered == 13
    assert {r["regra"] for r in table._page_records} == {"R7"}
    rows = xlsx(page.export)  # type: ignore[attr-defined]
    assert len(rows) == 1 + 3 and all(r[0] == "R7 – Baixa competição (indício)" for r in rows[1:])
    # the status filter is a query too
    states = workflow.statuses(ops(), zip(everything["regra"], everything["chave"], strict=True))
    for status in ("novo", "em_analise"):
        want = sum(
            1
            for k in zip(everything["regra"], everything["chave"], strict=True)
            if states.get(k, {}).get("status", "novo") == status
        )
        page.situacao.value = status  # type: ignore[attr-defined]
        assert table.unfiltered == want and cards(page)["Alertas"] == str(want)


def test_a_finding_opens_with_its_evidence_its_purchase_and_the_pncp_link(home: Path) -> None:
    from painel.procurement.pages import alertas

    page = panel(alertas, CGE)
    page.regra.value = "R2"  # type: ignore[attr-defined]
    row = page.table.frame[page.table.frame["orgao_cnpj"] == SES].iloc[0].to_dict()  # type: ignore[attr-defined]
    page.open_finding(row)  # type: ignore[attr-defined]
    shown = text(page.finding)  # type: ignore[attr-defined]
    assert "Lei 14.133/2021, art. 75, I e II" in shown
    assert "Valor estimado" in shown and "R$ 84.427,84" in shown and "Limite" in shown
    assert "Histórico" in shown and "painel (regra)" in shown
    detail = text(page.detail)  # type: ignore[attr-defined]
    assert f"Contratação {SES}-1-000020/2026" in detail
    assert 'href="https://pncp.gov.br/app/editais/01909911000107/2026/20"' in detail
    assert 'rel="noopener noreferrer"' in detail
    items = page.items.frame  # type: ignore[attr-defined]
    assert len(items) > 0 and set(items["numero_item"]) == set(range(1, len(items) + 1))
    rows = xlsx(page.items_export)  # type: ignore[attr-defined]
    assert rows[0][:3] == ("Item", "Descrição", "Quantidade") and len(rows) == len(items) + 1


def test_the_workflow_on_the_page_is_audited_and_a_stale_page_cannot_overwrite(home: Path) -> None:
    from painel.procurement.pages import alertas

    first, second = panel(alertas, CGE), panel(alertas, CGE)
    for page in (first, second):
        page.regra.value = "R3"  # type: ignore[attr-defined]
    row = first.table.frame.iloc[0].to_dict()  # type: ignore[attr-defined]
    key = (row["regra"], row["chave"])
    first.open_finding(row)  # type: ignore[attr-defined]
    second.open_finding(row)  # type: ignore[attr-defined]
    controls = first.finding.children[-2]  # type: ignore[attr-defined]
    to, reason, apply, said = controls.children[1:]
    assert to.value == "em_analise"
    apply.click()
    assert workflow.statuses(ops(), [key])[key]["status"] == "em_analise"
    assert cards(first)["Em análise"] == "1"
    assert "Alerta passado a em análise." in text(first.finding)  # type: ignore[attr-defined]
    # the second analyst's page, opened before, still shows it new: discarding is refused
    assert "Novo" in text(second.finding)  # type: ignore[attr-defined]
    controls2 = second.finding.children[-2]  # type: ignore[attr-defined]
    to2, reason2, apply2, said2 = controls2.children[1:]
    to2.value = "descartado"
    reason2.value = "compra regular"
    apply2.click()
    assert "já foi passado a em análise por ana" in said2.value
    assert workflow.statuses(ops(), [key])[key]["status"] == "em_analise"
    # a discard without a reason is refused, with a reason it goes through and is audited
    first.open_finding(first.table.frame[first.table.frame["chave"] == key[1]].iloc[0].to_dict())  # type: ignore[attr-defined]
    to, reason, apply, said = first.finding.children[-2].children[1:]  # type: ignore[attr-defined]
    to.value = "descartado"
    apply.click()
    assert "Diga o motivo" in said.value
    reason.value = "Prazo contado com feriado municipal"
    apply.click()
    history = workflow.history(ops(), *key)
    assert [(e["para"], e["por"]) for e in history][-2:] == [
        ("em_analise", "ana"),
        ("descartado", "ana"),
    ]
    assert history[-1]["motivo"] == "Prazo contado com feriado municipal"
    first.situacao.value = "descartado"  # type: ignore[attr-defined]
    assert keys(first) == {key}


def test_an_organ_sees_only_what_the_cge_sent_it_and_cannot_change_it(home: Path) -> None:
    from painel.procurement.pages import meus_alertas

    ses = panel(meus_alertas, ORGAO_SES)
    assert ses.single_organ and ses.filter_items() == [ses.ano, ses.regra]  # type: ignore[attr-defined]
    before = len(ses.table.frame)  # type: ignore[attr-defined]
    # the analyst sends one SES finding (R7) to the organ
    key = ("R7", f"{SES}-1-000012/2026|1")
    for seen, to in (
        ("novo", "em_analise"),
        ("em_analise", "confirmado"),
        ("confirmado", "enviado"),
    ):
        workflow.change(
            ops(), regra=key[0], chave=key[1], seen=seen, to=to, actor="ana", role="cge_analista"
        )
    ses.refresh()  # type: ignore[attr-defined]
    assert key in keys(ses) and len(ses.table.frame) == before + 1  # type: ignore[attr-defined]
    assert set(ses.table.frame["orgao_cnpj"]) == {SES}  # type: ignore[attr-defined]
    ses.open_finding(ses.table.frame.iloc[0].to_dict())  # type: ignore[attr-defined]
    shown = text(ses.finding)  # type: ignore[attr-defined]
    assert "Mudar a situação" not in shown and "Histórico" not in shown
    # Anápolis sees none of SES's, even when its page is handed SES's keys and purchases
    ana = panel(meus_alertas, ORGAO_ANA)
    assert key not in keys(ana)
    ana.open_finding({"regra": key[0], "chave": key[1]})  # type: ignore[attr-defined]
    assert ana.finding.children == ()  # type: ignore[attr-defined]
    ana.open_purchase(f"{SES}-1-000012/2026")  # type: ignore[attr-defined]
    assert ana.detail.children == ()  # type: ignore[attr-defined]
    rows = xlsx(ses.export)  # type: ignore[attr-defined]
    assert rows[0] == ("Regra", "Unidade", "Resumo", "Risco estimado", "Encontrado em")
    assert len(rows) == len(ses.table.frame) + 1  # type: ignore[attr-defined]


def test_a_user_without_grants_is_told_to_ask_for_access(home: Path) -> None:
    from painel.procurement.pages import meus_alertas

    page = meus_alertas.build(NOBODY)
    assert "Você não tem acesso aos dados de nenhum órgão" in text(page)


def test_saldo_adds_each_organs_dispensas_per_class_against_the_limit(home: Path) -> None:
    from painel.dash.identity import open_dataset
    from painel.procurement.pages import saldo

    page = panel(saldo, ORGAO_SES)
    df = page.table.frame  # type: ignore[attr-defined]
    assert set(df["orgao_cnpj"]) == {SES}
    # worked out apart from the page: every published dispensa (art. 75 I/II) of SES in 2026
    raw = open_dataset(CGE, "procurement").sql(
        "SELECT codigo_classe, amparo_legal_codigo, valor_total_estimado, valor_total_homologado "
        "FROM contratacoes WHERE orgao_cnpj = ? AND modalidade_id = 8 AND situacao_compra_id = 1 "
        "AND amparo_legal_codigo IN (18, 19) AND codigo_classe IS NOT NULL AND year(data_publicacao_pncp) = 2026",
        [SES],
    )
    raw["valor"] = raw["valor_total_homologado"].where(
        raw["valor_total_homologado"] > 0, raw["valor_total_estimado"]
    )
    raw["inciso"] = raw["amparo_legal_codigo"].map({18: "I", 19: "II"})
    want = raw.groupby(["codigo_classe", "inciso"])["valor"].agg(["sum", "count"])
    got = df.set_index(["codigo_classe", "inciso"])
    assert len(got) == len(want) > 0
    for k, (total, n) in want.iterrows():
        assert got.loc[k, "dispensas"] == n and got.loc[k, "gasto"] == pytest.approx(total)
        limit = 65_492.11 if k[1] == "II" else 130_984.20
        assert got.loc[k, "limite"] == pytest.approx(limit)
        assert got.loc[k, "uso"] == pytest.approx(100 * total / limit)
    over = got[got["uso"] >= 100]
    assert (over["situacao"] == "Acima do limite").all() and len(over) >= 1  # the R2 dispensa
    # a class opens its dispensas, and one of them its purchase
    first = df.iloc[0].to_dict()
    page.open_class(first)  # type: ignore[attr-defined]
    assert len(page.dispensas.frame) == first["dispensas"]  # type: ignore[attr-defined]
    page.open_purchase(page.dispensas.frame.iloc[0]["numero_controle_pncp"])  # type: ignore[attr-defined]
    assert "Contratação" in text(page.detail)  # type: ignore[attr-defined]
    assert xlsx(page.export)[0][:4] == ("Órgão", "Classe", "Inciso", "Dispensas")  # type: ignore[attr-defined]


def test_visao_geral_counts_and_narrows_to_an_organ(home: Path) -> None:
    from painel.procurement.pages import visao_geral

    page = panel(visao_geral, GESTOR)
    c = cards(page)
    assert (c["Contratações"], c["Órgãos"], c["Alertas"]) == ("30", "2", "13")
    table = page.table.frame  # type: ignore[attr-defined]
    assert dict(zip(table["orgao_cnpj"], table["compras"], strict=True)) == {SES: 20, ANAPOLIS: 10}
    page.table._on_message(None, {"event": "row", "index": 0}, [])  # type: ignore[attr-defined]
    assert page.orgao.value in (SES, ANAPOLIS)  # type: ignore[attr-defined]
    assert cards(page)["Órgãos"] == "1"
    chosen = page.orgao.value  # type: ignore[attr-defined]
    months = page.months.figure  # type: ignore[attr-defined]
    assert (
        sum(months["data"][0]["y"]) + sum(months["data"][1]["y"]) == {SES: 20, ANAPOLIS: 10}[chosen]
    )


def build_of(module: object, name: str, viewer: Viewer) -> object:
    from painel.dash.identity import open_dataset

    cls = getattr(module, name).__closure__[0].cell_contents
    page = cls(viewer, open_dataset(viewer, "procurement"))
    page.watch(page.refresh)
    page.refresh()
    return page


def test_fracionamento_lists_saldos_classes_near_the_limit_read_once_per_year_and_organ(
    home: Path,
) -> None:
    from painel.procurement.pages import saldo, temas

    page = build_of(temas, "build_fracionamento", CGE)
    everything = panel(saldo, CGE).table.frame  # type: ignore[attr-defined]
    near = everything[everything["uso"] >= saldo.ALERTA]
    got = page.context_table.frame  # type: ignore[attr-defined]
    assert len(near) > 0
    cols = ["orgao", "classe", "inciso", "gasto", "limite", "saldo", "uso", "situacao"]
    assert got[cols].values.tolist() == near[cols].values.tolist()
    read: list[object] = []
    context = page.context  # type: ignore[attr-defined]
    page.context = lambda f: (read.append(f), context(f))[1]  # type: ignore[attr-defined]
    page.situacao.value = "em_analise"  # type: ignore[attr-defined]
    assert read == []  # the findings' status does not change the context
    page.ano.value = 0  # type: ignore[attr-defined]
    assert len(read) == 1 and read[0].ano == 0  # type: ignore[attr-defined]


def test_prazos_lists_the_short_tenders_and_counts_them_per_organ(home: Path) -> None:
    from painel.dash.identity import open_dataset
    from painel.procurement.pages import temas

    page = build_of(temas, "build_prazos", CGE)
    assert set(page.table.frame["regra"]) == {"R3"} and len(page.table.frame) == 8  # type: ignore[attr-defined]
    ctx = page.context_table.frame.set_index("orgao_cnpj")  # type: ignore[attr-defined]
    tenders = (
        open_dataset(CGE, "procurement")
        .sql(
            "SELECT cnpj_ AS orgao_cnpj, count(*) AS n FROM (SELECT orgao_cnpj AS cnpj_ FROM contratacoes "
            "WHERE modalidade_id IN (4, 5, 6, 7) AND ano = 2026) GROUP BY ALL"
        )
        .set_index("orgao_cnpj")["n"]
    )
    short = {SES: 5, ANAPOLIS: 3}  # the R3 findings of each (module docstring)
    for cnpj, n in tenders.items():
        assert ctx.loc[cnpj, "licitacoes"] == n and ctx.loc[cnpj, "prazo_curto"] == short[cnpj]
    rows = xlsx(page.context_export)  # type: ignore[attr-defined]
    assert rows[0][0] == "Órgão" and len(rows) == len(ctx) + 1


def test_fornecedores_ranks_the_suppliers_by_what_they_won(home: Path) -> None:
    from painel.dash.identity import open_dataset
    from painel.procurement.pages import temas

    page = build_of(temas, "build_fornecedores", CGE)
    assert set(page.table.frame["regra"]) == {"R7"}  # type: ignore[attr-defined]
    won = open_dataset(CGE, "procurement").sql(
        "SELECT ni_fornecedor, valor_total_homologado FROM resultados"
    )
    want = won.groupby("ni_fornecedor")["valor_total_homologado"].sum().sort_values(ascending=False)
    ctx = page.context_table.frame  # type: ignore[attr-defined]
    assert list(ctx["ni_fornecedor"]) == list(want.index)
    assert list(ctx["valor"]) == pytest.approx(list(want.to_numpy()))


def test_every_panel_keeps_an_organ_inside_its_own_rows(home: Path) -> None:
    """Each procurement panel as Anápolis' user: no row, chart bar or card of SES."""
    from painel.procurement.pages import (
        conformidade,
        meus_alertas,
        qualidade,
        saldo,
        temas,
        visao_geral,
    )

    pages = [
        build_of(m, "build", ORGAO_ANA)
        for m in (conformidade, meus_alertas, saldo, visao_geral, qualidade)
    ]
    pages += [
        build_of(temas, n, ORGAO_ANA)
        for n in dir(temas)
        if n.startswith("build_") and n != "build_panel"
    ]
    for page in pages:
        assert tuple(page.orgao.options) == (("MUNICIPIO DE ANAPOLIS", ANAPOLIS),)  # type: ignore[attr-defined]
        for attr in ("table", "context_table"):
            table = getattr(page, attr, None)
            if table is not None and "orgao_cnpj" in table.frame:
                assert set(table.frame["orgao_cnpj"]) <= {ANAPOLIS}, (page.title, attr)
            if table is not None:
                assert SES not in repr(table.rows), (page.title, attr)
        for card in getattr(page, "cards", []):
            assert "SAUDE" not in card.value


def test_conformidade_of_an_organ_month_by_month(home: Path) -> None:
    from painel.dash.identity import open_dataset
    from painel.procurement.pages import conformidade

    page = build_of(conformidade, "build", ORGAO_SES)
    df = page.table.frame  # type: ignore[attr-defined]
    raw = open_dataset(ORGAO_SES, "procurement").sql(
        "SELECT month(data_publicacao_pncp) AS m, count(*) AS n FROM contratacoes "
        "WHERE ano = 2026 GROUP BY ALL"
    )
    by_month = dict(zip(pd.to_datetime(df["dia"]).dt.month, df["compras"], strict=True))
    assert {m: by_month.get(m) for m in raw["m"]} == dict(zip(raw["m"], raw["n"], strict=True))
    c = cards(page)
    # SES's 5 short tenders (R3) of its tenders: the share that met art. 55
    tenders = (
        open_dataset(ORGAO_SES, "procurement")
        .sql(
            "SELECT count(*) AS n FROM contratacoes WHERE modalidade_id IN (4, 5, 6, 7) AND ano = 2026"
        )["n"]
        .iloc[0]
    )
    assert c["Prazo de propostas legal"] == f"{100 * (tenders - 5) / tenders:.1f}%".replace(
        ".", ","
    )
    with ops().connect() as con:
        sent = con.execute(
            "SELECT count(*) FROM procurement_achados WHERE status = 'enviado' AND orgao_cnpj = ?",
            [SES],
        ).fetchone()[0]
    assert c["Alertas recebidos"] == str(sent)


def test_qualidade_counts_the_items_and_their_classes(home: Path) -> None:
    from painel.dash.identity import open_dataset
    from painel.procurement.pages import qualidade

    page = build_of(qualidade, "build", CGE)
    items = (
        open_dataset(CGE, "procurement")
        .sql(
            "SELECT count(*) AS n, count(i.codigo_classe) AS k FROM itens i "
            "JOIN contratacoes c USING (numero_controle_pncp) WHERE c.ano = 2026"
        )
        .iloc[0]
    )
    c = cards(page)
    assert c["Itens"] == str(items["n"])
    assert c["Itens com classe"] == f"{100 * items['k'] / items['n']:.1f}%".replace(".", ",")
    days = open_dataset(CGE, "procurement").sql("SELECT count(DISTINCT dia) AS n FROM cargas")
    assert len(page.table.frame) == days["n"].iloc[0]  # type: ignore[attr-defined]
