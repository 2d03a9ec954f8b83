"""PNCP code tables, dispensa limits and art. 55 minimum periods (painel.procurement.codes)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from painel.procurement import codes
from painel.procurement.codes import (
    AMPAROS,
    CODE_TABLES,
    CRITERIOS_JULGAMENTO,
    MODALIDADES,
    CodeError,
    Limite,
    amparo,
    article,
    limit,
    limits_frame,
    load_limits,
    minimum_days,
    minimum_days_frame,
)

# --- code tables --------------------------------------------------------------------------


def test_modalidades_full_table():
    assert sorted(MODALIDADES) == list(range(1, 14))
    assert MODALIDADES[6] == "Pregão - Eletrônico"
    assert MODALIDADES[8] == "Dispensa de Licitação"
    assert MODALIDADES[9] == "Inexigibilidade"
    assert MODALIDADES[4] == "Concorrência - Eletrônica"
    licitacoes = codes.MODALIDADES_LICITACAO
    assert licitacoes == {4, 5, 6, 7}
    assert codes.CONTRATACAO_DIRETA == {codes.DISPENSA, codes.INEXIGIBILIDADE} == {8, 9}


@pytest.mark.parametrize(
    ("table", "code", "name"),
    [
        (codes.SITUACOES_COMPRA, 1, "Divulgada no PNCP"),
        (codes.SITUACOES_COMPRA, 2, "Revogada"),
        (codes.SITUACOES_COMPRA, 3, "Anulada"),
        (codes.SITUACOES_COMPRA, 4, "Suspensa"),
        (codes.SITUACOES_ITEM, 1, "Em Andamento"),
        (codes.SITUACOES_ITEM, 2, "Homologado"),
        (codes.SITUACOES_ITEM, 3, "Anulado/Revogado/Cancelado"),
        (codes.SITUACOES_ITEM, 4, "Deserto"),
        (codes.SITUACOES_ITEM, 5, "Fracassado"),
        (codes.SITUACOES_RESULTADO, 1, "Informado"),
        (codes.SITUACOES_RESULTADO, 2, "Cancelado"),
        (codes.MODOS_DISPUTA, 1, "Aberto"),
        (codes.MODOS_DISPUTA, 4, "Dispensa Com Disputa"),
        (codes.MODOS_DISPUTA, 6, "Fechado-Aberto"),
        (codes.CRITERIOS_JULGAMENTO, 1, "Menor preço"),
        (codes.CRITERIOS_JULGAMENTO, 2, "Maior desconto"),
        (codes.CRITERIOS_JULGAMENTO, 4, "Técnica e preço"),
        (codes.CRITERIOS_JULGAMENTO, 5, "Maior lance"),
        (codes.CRITERIOS_JULGAMENTO, 8, "Melhor técnica"),
        (codes.CRITERIOS_JULGAMENTO, 9, "Conteúdo artístico"),
        (codes.PORTES_FORNECEDOR, 1, "ME"),
        (codes.PORTES_FORNECEDOR, 2, "EPP"),
        (codes.PORTES_FORNECEDOR, 5, "Não informado"),
        (codes.TIPOS_INSTRUMENTO, 1, "Edital"),
        (codes.TIPOS_INSTRUMENTO, 2, "Aviso de Contratação Direta"),
        (codes.TIPOS_INSTRUMENTO, 3, "Ato que autoriza a Contratação Direta"),
        (codes.TIPOS_CONTRATO, 1, "Contrato (termo inicial)"),
        (codes.TIPOS_CONTRATO, 7, "Empenho"),
        (codes.TIPOS_CONTRATO, 12, "Carta Contrato"),
        (codes.TIPOS_TERMO, 1, "Termo de Rescisão"),
        (codes.TIPOS_TERMO, 2, "Termo Aditivo"),
        (codes.TIPOS_TERMO, 3, "Termo de Apostilamento"),
    ],
)
def test_code_names(table, code, name):
    assert table[code] == name


def test_named_constants_match_tables():
    assert codes.SITUACAO_DIVULGADA == 1 and codes.SITUACAO_ITEM_HOMOLOGADO == 2
    assert codes.TIPOS_TERMO[codes.TIPO_TERMO_ADITIVO] == "Termo Aditivo"
    assert codes.TIPOS_CONTRATO[codes.TIPO_CONTRATO_EMPENHO] == "Empenho"
    revoked = codes.TIPOS_CONTRATO_REVOGADOS
    assert revoked == {6, 9, 10, 11}


def test_unknown_code_raises_code_error_naming_the_table():
    with pytest.raises(CodeError, match=r"Modalidade de Contratação: unknown code 14"):
        MODALIDADES[14]
    with pytest.raises(KeyError):  # CodeError is a KeyError: Mapping semantics hold
        MODALIDADES["6"]
    assert MODALIDADES.get(99) is None
    assert 6 in MODALIDADES and 99 not in MODALIDADES
    assert str(CodeError("plain message")) == "plain message"


def test_code_tables_are_read_only():
    with pytest.raises(TypeError):
        MODALIDADES[99] = "x"


def test_code_table_frames():
    frame = MODALIDADES.frame()
    assert list(frame.columns) == ["codigo", "nome"]
    assert len(frame) == 13
    assert str(frame["codigo"].dtype) == "int64"
    assert frame.set_index("codigo")["nome"].to_dict() == dict(MODALIDADES)
    assert codes.modalidades().equals(frame)
    names = {t.name for t in CODE_TABLES}
    assert len(names) == len(CODE_TABLES)


def test_frames_holds_every_published_table():
    frames = codes.frames()
    assert {"modalidades", "amparos", "limites_dispensa", "prazos_minimos"} <= set(frames)
    assert {t.name for t in CODE_TABLES} <= set(frames)
    # the tables the domain declares are among them
    from painel.procurement import TABLES

    assert {"modalidades", "amparos", "limites_dispensa"} <= set(TABLES)


# --- amparo legal -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1, "art. 28, I"),
        (2, "art. 28, II"),
        (3, "art. 28, III"),
        (4, "art. 28, IV"),
        (5, "art. 28, V"),
        (6, "art. 74, I"),
        (7, "art. 74, II"),
        (8, "art. 74, III, a"),
        (15, "art. 74, III, h"),
        (16, "art. 74, IV"),
        (17, "art. 74, V"),
        (18, "art. 75, I"),
        (19, "art. 75, II"),
        (20, "art. 75, III, a"),
        (22, "art. 75, IV, a"),
        (34, "art. 75, IV, m"),
        (35, "art. 75, V"),
        (38, "art. 75, VIII"),
        (46, "art. 75, XVI"),
        (47, "art. 78, I"),
        (49, "art. 78, III"),
        (50, "art. 74, caput"),
    ],
)
def test_article_of_amparo(code, text):
    assert article(code) == text


def test_amparo_groups_the_rules_use():
    assert sorted(AMPAROS) == list(range(1, 51))
    inexigibilidade = codes.AMPAROS_INEXIGIBILIDADE
    assert inexigibilidade == set(range(6, 18)) | {50}
    assert dict(codes.AMPAROS_DISPENSA_VALOR) == {18: "I", 19: "II"}
    assert codes.AMPARO_EMERGENCIAL == 38
    assert amparo(18).hipotese == "dispensa" and amparo(18).inciso_dispensa == "I"
    assert amparo(19).inciso_dispensa == "II"
    assert amparo(38).inciso_dispensa is None
    assert amparo(6).hipotese == "inexigibilidade" and amparo(50).hipotese == "inexigibilidade"
    assert amparo(1).hipotese == "licitacao" and amparo(48).hipotese == "procedimento_auxiliar"
    assert {c for c, a in AMPAROS.items() if a.hipotese == "dispensa"} == set(range(18, 47))
    assert amparo(18).nome == "Lei 14.133/2021, Art. 75, I"
    assert amparo(9).nome == "Lei 14.133/2021, Art. 74, III, b"
    assert amparo(50).nome == "Lei 14.133/2021, Art. 74, Caput"


def test_unknown_amparo():
    with pytest.raises(CodeError, match="amparo legal 151"):
        article(151)
    with pytest.raises(CodeError):
        amparo(None)


@pytest.mark.parametrize(
    ("nome", "text"),
    [
        ("Lei 14.133/2021, Art. 75, VIII", "art. 75, VIII"),
        ("Lei 14.133/2021, Art. 74, III, a", "art. 74, III, a"),
        ("Lei 14.133/2021, Art. 74, Caput", "art. 74, caput"),
        ("Lei 14.133/2021, art. 75, inciso II", "art. 75, II"),
        ("Lei 13.303/2016, Art. 29, II", "art. 29, II"),
        ("Lei 14.133/2021, Art. 79", "art. 79"),
        ("sem artigo", None),
    ],
)
def test_parse_article(nome, text):
    assert codes.parse_article(nome) == text


def test_amparos_frame():
    frame = codes.amparos()
    assert len(frame) == 50
    row = frame.set_index("codigo").loc[19]
    assert row["artigo_texto"] == "art. 75, II"
    assert row["inciso_dispensa"] == "II"
    assert row["hipotese"] == "dispensa"
    assert frame["inciso_dispensa"].notna().sum() == 2


# --- dispensa limits ----------------------------------------------------------------------

EXPECTED = {
    (2021, "I"): "100000.00",
    (2021, "II"): "50000.00",
    (2021, "§7"): "8000.00",
    (2022, "I"): "108040.82",
    (2022, "II"): "54020.41",
    (2022, "§7"): "8643.27",
    (2023, "I"): "114416.65",
    (2023, "II"): "57208.33",
    (2023, "§7"): "9153.34",
    (2024, "I"): "119812.02",
    (2024, "II"): "59906.02",
    (2024, "§7"): "9584.97",
    (2025, "I"): "125451.15",
    (2025, "II"): "62725.59",
    (2025, "§7"): "10036.10",
    (2026, "I"): "130984.20",
    (2026, "II"): "65492.11",
    (2026, "§7"): "10478.74",
}


@pytest.mark.parametrize(("key", "value"), sorted(EXPECTED.items()))
def test_limits_exact(key, value):
    year, inciso = key
    got = limit(year, inciso)
    assert isinstance(got, Decimal)
    assert got == Decimal(value)
    assert str(got) == value  # two places, no float in between


def test_limits_2026_from_decree_12807():
    assert limit(2026, "I") == Decimal("130984.20")
    assert limit(2026, "II") == Decimal("65492.11")
    assert limit(2026, "§7") == Decimal("10478.74")
    row = codes.DEFAULT_LIMITS.row(2026, "II")
    assert row.ato == "Decreto nº 12.807/2025" and row.verificado


def test_consorcio_doubles_incisos_i_and_ii_only():
    assert limit(2026, "II", consorcio=True) == Decimal("130984.22")
    assert limit(2026, "I", consorcio=True) == Decimal("261968.40")
    assert limit(2022, "II", consorcio=True) == Decimal("108040.82")
    assert limit(2026, "§7", consorcio=True) == Decimal("10478.74")  # §2 names I and II


def test_inciso_spellings():
    assert limit(2025, " ii ") == limit(2025, "II")
    assert limit(2025, "§ 7º") == limit(2025, "7") == limit(2025, "§7")
    with pytest.raises(CodeError, match="inciso 'III'"):
        limit(2025, "III")


def test_missing_year_names_it():
    with pytest.raises(CodeError, match=r"no dispensa limit for 2027 .*load_limits"):
        limit(2027, "II")
    with pytest.raises(CodeError, match="2020"):
        limit(2020, "I")


def test_load_limits_adds_a_year_without_code():
    table = load_limits(
        [
            {"ano": 2027, "inciso": "I", "valor": "136.000,00", "ato": "Portaria MGI nº X/2026"},
            {"year": 2027, "inciso": "II", "value": 68000.5, "ato": "Portaria MGI nº X/2026"},
            {"ano": "2027", "inciso": "§7", "valor": Decimal("10900"), "ato": "Portaria"},
        ]
    )
    assert limit(2027, "I", table=table) == Decimal("136000.00")
    assert limit(2027, "II", table=table) == Decimal("68000.50")
    assert limit(2027, "II", consorcio=True, table=table) == Decimal("136001.00")
    assert limit(2027, "§7", table=table) == Decimal("10900.00")
    assert limit(2026, "II", table=table) == Decimal("65492.11")  # defaults kept
    assert table.years[-1] == 2027
    with pytest.raises(CodeError):
        limit(2027, "I")  # the default table is untouched
    row = table.row(2027, "I")
    assert row.fonte == "parameter" and row.verificado


def test_load_limits_replaces_a_row_and_accepts_limite():
    fixed = Limite(2023, "§7", Decimal("9153.35"), "Decreto nº 11.317/2022", "DOU", True)
    table = load_limits([fixed])
    assert limit(2023, "§7", table=table) == Decimal("9153.35")
    assert len(table.rows) == len(codes.LIMITES)


@pytest.mark.parametrize(
    "row",
    [
        {"inciso": "I", "valor": "1", "ato": "x"},  # no year
        {"ano": 2027, "inciso": "I", "ato": "x"},  # no value
        {"ano": 2027, "inciso": "I", "valor": "abc", "ato": "x"},
        {"ano": 2027, "inciso": "I", "valor": "-5", "ato": "x"},
        {"ano": 2027, "inciso": "IV", "valor": "5", "ato": "x"},
    ],
)
def test_load_limits_rejects_bad_rows(row):
    with pytest.raises(CodeError):
        load_limits([row])


def test_limits_frame():
    frame = limits_frame()
    assert list(frame.columns) == [
        "ano",
        "inciso",
        "valor",
        "valor_consorcio",
        "estrito",
        "ato",
        "fonte",
        "verificado",
    ]
    assert len(frame) == 18
    got = {(r.ano, r.inciso): r.valor for r in frame.itertuples()}
    assert got == {k: Decimal(v) for k, v in EXPECTED.items()}
    seven = frame[frame["inciso"] == "§7"]
    assert not seven["estrito"].any() and frame[frame["inciso"] != "§7"]["estrito"].all()
    assert (seven["valor_consorcio"] == seven["valor"]).all()
    unverified = set(frame.loc[~frame["verificado"], "ano"])
    assert unverified == {2021, 2023, 2024}


def test_limits_frame_in_duckdb_keeps_cents():
    frame = limits_frame()
    con = duckdb.connect()
    con.register("limites_dispensa", frame)
    got = con.execute(
        "SELECT valor, valor_consorcio FROM limites_dispensa WHERE ano = 2026 AND inciso = 'II'"
    ).fetchone()
    assert got == (Decimal("65492.11"), Decimal("130984.22"))


# --- art. 55 minimum periods --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "criterio", "days"),
    [
        ("M", 1, 8),
        ("M", 2, 8),
        ("M", 3, 35),
        ("M", 4, 35),
        ("M", 5, 15),
        ("M", 6, 15),
        ("M", 8, 35),
        ("M", 9, 35),
        ("S", 1, 10),
        ("S", 2, 10),
        ("S", 3, 35),
        ("S", 4, 35),
        ("S", 5, 15),
        ("S", 6, 35),
        ("S", 8, 35),
        ("S", 9, 35),
    ],
)
def test_minimum_days(kind, criterio, days):
    assert minimum_days(kind, criterio) == days
    assert minimum_days(kind.lower(), criterio) == days


def test_minimum_days_covers_every_criterion_but_not_applicable():
    for criterio in CRITERIOS_JULGAMENTO:
        for kind in "MS":
            if criterio == 7:
                with pytest.raises(CodeError, match=r"7 \(Não se aplica\)"):
                    minimum_days(kind, criterio)
            else:
                assert minimum_days(kind, criterio) in (8, 10, 15, 35)


def test_minimum_days_bad_input():
    with pytest.raises(CodeError, match="'X'"):
        minimum_days("X", 1)
    with pytest.raises(CodeError, match="critério de julgamento 42"):
        minimum_days("M", 42)


def test_minimum_days_frame_matches_scalar():
    frame = minimum_days_frame()
    assert list(frame.columns) == [
        "material_ou_servico",
        "criterio_julgamento_id",
        "dias",
        "base_legal",
    ]
    assert len(frame) == 16
    for r in frame.itertuples():
        assert minimum_days(r.material_ou_servico, r.criterio_julgamento_id) == r.dias
    assert frame.set_index(["material_ou_servico", "criterio_julgamento_id"]).loc[
        ("M", 1), "base_legal"
    ] == ("art. 55, I, a")
