"""PNCP unidadeMedida → (family, multiplier) (painel.procurement.units)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from painel.procurement.units import (
    FAMILIES,
    RULES,
    Unit,
    fold,
    normalise,
    normalise_series,
    parse_number,
    unparsed,
)

CASES: list[tuple[str, tuple[str, float] | None]] = [
    # pieces
    ("UN", ("UN", 1)),
    ("Unidade", ("UN", 1)),
    ("UNIDADE", ("UN", 1)),
    ("und", ("UN", 1)),
    ("unid.", ("UN", 1)),
    ("UNID", ("UN", 1)),
    ("Unidades", ("UN", 1)),
    ("PÇ", ("UN", 1)),
    ("Peça", ("UN", 1)),
    ("COMPRIMIDO", ("UN", 1)),
    ("Ampola", ("UN", 1)),
    ("FRASCO-AMPOLA", ("UN", 1)),
    ("UNIDADE (UN)", ("UN", 1)),
    ("UN/UND", ("UN", 1)),
    # counted packs
    ("CX C/ 100 UN", ("UN", 100)),
    ("caixa com 100 unidades", ("UN", 100)),
    ("CX 100UN", ("UN", 100)),
    ("CX C/100UN", ("UN", 100)),
    ("CX100UN", ("UN", 100)),
    ("PCT 10 UN", ("UN", 10)),
    ("pacote c/ 10", ("UN", 10)),
    ("Caixa c/ 50 unid.", ("UN", 50)),
    ("CX C/ 1.000 UN", ("UN", 1000)),
    ("CX - 100 UN", ("UN", 100)),
    ("Caixa (100 un)", ("UN", 100)),
    ("EMB C/ 12 UN", ("UN", 12)),
    ("KIT COM 5 PEÇAS", ("UN", 5)),
    ("frasco com 30 comprimidos", ("UN", 30)),
    ("BLOCO C/ 50 FOLHAS", ("UN", 50)),
    ("DZ", ("UN", 12)),
    ("Dúzia", ("UN", 12)),
    ("CX 2 DZ", ("UN", 24)),
    ("Cento", ("UN", 100)),
    ("MILHEIRO", ("UN", 1000)),
    # mass
    ("KG", ("KG", 1)),
    ("quilo", ("KG", 1)),
    ("Quilograma", ("KG", 1)),
    ("G", ("KG", 0.001)),
    ("GR", ("KG", 0.001)),
    ("500G", ("KG", 0.5)),
    ("saco 50 kg", ("KG", 50)),
    ("PCT 1 KG", ("KG", 1)),
    ("Tonelada", ("KG", 1000)),
    ("KG - quilograma", ("KG", 1)),
    # volume
    ("L", ("L", 1)),
    ("litro", ("L", 1)),
    ("LT", ("L", 1)),
    ("ML", ("L", 0.001)),
    ("frasco 500 ml", ("L", 0.5)),
    ("FRASCO 500ML", ("L", 0.5)),
    ("frasco 0,5 L", ("L", 0.5)),
    ("frasco 0.5 L", ("L", 0.5)),
    ("Galão 5 L", ("L", 5)),
    ("GL 20L", ("L", 20)),
    ("lata 350ml", ("L", 0.35)),
    ("garrafa 1,5 litros", ("L", 1.5)),
    ("CX 12 X 1 L", ("L", 12)),
    ("CX12X1L", ("L", 12)),
    ("CX C/ 12 FR DE 500 ML", ("L", 6)),
    ("fardo com 6 garrafas de 2 litros", ("L", 12)),
    ("FRASCO 1.000 ML", ("L", 1)),
    # length, area, volume
    ("M", ("M", 1)),
    ("metro", ("M", 1)),
    ("Metro Linear", ("M", 1)),
    ("CM", ("M", 0.01)),
    ("rolo 50 m", ("M", 50)),
    ("KM", ("M", 1000)),
    ("km rodado", ("M", 1000)),
    ("M2", ("M2", 1)),
    ("m²", ("M2", 1)),
    ("M²", ("M2", 1)),
    ("metro quadrado", ("M2", 1)),
    ("100M2", ("M2", 100)),
    ("Hectare", ("M2", 10000)),
    ("M3", ("M3", 1)),
    ("m³", ("M3", 1)),
    ("Metro Cúbico", ("M3", 1)),
    # time and services
    ("Hora", ("H", 1)),
    ("H", ("H", 1)),
    ("HR", ("H", 1)),
    ("hora técnica", ("H", 1)),
    ("Mês", ("MES", 1)),
    ("MES", ("MES", 1)),
    ("mensal", ("MES", 1)),
    ("12 meses", ("MES", 12)),
    ("Diária", ("DIA", 1)),
    ("DIA", ("DIA", 1)),
    ("Anual", ("ANO", 1)),
    ("Serviço", ("SV", 1)),
    ("SERVICO", ("SV", 1)),
    ("SV", ("SV", 1)),
    # own families
    ("Par", ("PAR", 1)),
    ("CX C/ 50 PARES", ("PAR", 50)),
    ("Resma", ("RESMA", 1)),
    ("CX C/ 10 RESMAS", ("RESMA", 10)),
    # unread: containers without size, ambiguity, nesting, lump sums, garbage
    ("CX", None),
    ("Caixa", None),
    ("Pacote", None),
    ("Frasco", None),
    ("Galão", None),
    ("Rolo", None),
    ("KIT", None),
    ("Fardo", None),
    ("saco 50", None),
    ("frasco 30", None),
    ("FD C/ 12 PCT", None),
    ("CX C/ 10 PCT C/ 100 UN", None),
    ("CX C/ 2,5 UN", None),
    ("CX C/ 0 UN", None),
    ("UNIDADE (CAIXA C/ 100)", None),
    ("M2/MES", None),
    ("1/2 L", None),
    ("12 x 1 l", None),
    ("chapa 2 x 1 m", None),
    ("rolo 30 m x 5 cm", None),
    ("M.L.", None),
    ("Verba", None),
    ("Global", None),
    ("100", None),
    ("", None),
    ("   ", None),
    ("???", None),
]


def _expect(expected):
    return None if expected is None else Unit(expected[0], float(expected[1]))


def test_table_is_big_enough():
    assert len(CASES) >= 40
    assert len({text for text, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_normalise(text, expected):
    got = normalise(text)
    want = _expect(expected)
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert got.family == want.family
        assert got.multiplier == pytest.approx(want.multiplier, rel=1e-12)
        assert got.family in FAMILIES


@pytest.mark.parametrize(
    "variants",
    [
        ["UN", "un", " Un ", "uN"],
        ["CX C/ 100 UN", "cx c/ 100 un", "Cx  C/  100   Un", "CX c/100 un", " cx C /100un "],
        ["Mês", "MÊS", "mes", "MES", "mês"],
        ["Diária", "DIARIA", "diaria", "DIÁRIA"],
        ["Serviço", "SERVIÇO", "servico", "Servico"],
        ["frasco 500 ml", "FRASCO 500 ML", "Frasco 500ml", "frasco  500  mL"],
        ["m²", "M2", "m2", "M²"],
        ["Peça", "PEÇA", "peca", "PECA"],
    ],
)
def test_case_accents_and_spaces_do_not_matter(variants):
    units = {normalise(v) for v in variants}
    assert len(units) == 1
    assert None not in units


def test_non_text_is_unread():
    for value in (None, float("nan"), 3, b"UN", pd.NA):
        assert normalise(value) is None


def test_unit_is_frozen_and_printable():
    unit = normalise("CX C/ 100 UN")
    assert unit == Unit("UN", 100.0)
    assert str(unit) == "UN×100"
    with pytest.raises(AttributeError):
        unit.family = "KG"


def test_fold():
    assert fold("CX C/100UN") == "cx com 100 un"
    assert fold("Frasco-Ampola") == "frasco ampola"
    assert fold("unid.") == "unid"
    assert fold("100M²") == "100 m2"
    assert fold("CX12X1L") == "cx 12 x 1 l"
    assert fold("1,5L") == "1,5 l"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0,5", "0.5"),
        ("1.000", "1000"),
        ("1.000,5", "1000.5"),
        ("1.5", "1.5"),
        ("0.500", "0.500"),
        ("12", "12"),
        ("1.000.000", "1000000"),
        ("1,2,3", None),
        ("1.2.3", None),
        ("12.34,5", None),
    ],
)
def test_parse_number(text, value):
    from decimal import Decimal

    got = parse_number(text)
    assert (got is None) if value is None else (got == Decimal(value))


def test_rules_are_documented_with_examples_they_read():
    assert [r.name for r in RULES] == ["word", "count", "pack", "content"]
    for rule in RULES:
        assert rule.examples
        for example in rule.examples:
            assert normalise(example) is not None, (rule.name, example)
            assert rule.pattern.fullmatch(fold(example)), (rule.name, example)


def _mix(rng: random.Random, n_distinct: int) -> list[object]:
    base = [text for text, _ in CASES]
    values: list[object] = list(base)
    while len(values) < n_distinct:
        kind = rng.randrange(6)
        n = rng.choice([1, 2, 5, 10, 12, 20, 24, 50, 100, 500, 1000])
        if kind == 0:
            values.append(f"CX C/ {n} UN")
        elif kind == 1:
            values.append(f"frasco {n} ml")
        elif kind == 2:
            values.append(f"pacote com {n} unidades")
        elif kind == 3:
            values.append(f"saco {n} kg")
        elif kind == 4:
            text = rng.choice(base)
            values.append("".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text))
        else:
            values.append(f"ITEM {rng.randrange(10**6)}")  # unread
        values = list(dict.fromkeys(values))
    values.extend([None, np.nan])
    return values


def test_series_equals_scalar_on_random_mixes():
    rng = random.Random(20260927)
    for _ in range(3):
        distinct = _mix(rng, 300)
        data = [rng.choice(distinct) for _ in range(5000)]
        series = pd.Series(data, index=pd.RangeIndex(10, 10 + len(data)))
        frame = normalise_series(series)
        assert list(frame.columns) == ["family", "multiplier"]
        assert frame.index.equals(series.index)
        for value, family, multiplier in zip(
            data, frame["family"], frame["multiplier"], strict=True
        ):
            unit = normalise(value)
            if unit is None:
                assert pd.isna(family) and np.isnan(multiplier)
            else:
                assert family == unit.family and multiplier == unit.multiplier


def test_series_keeps_a_custom_index_and_empty_input():
    series = pd.Series(["UN", None, "CX C/ 10 UN"], index=["a", "b", "c"])
    frame = normalise_series(series)
    assert frame.loc["a", "family"] == "UN" and frame.loc["c", "multiplier"] == 10.0
    assert pd.isna(frame.loc["b", "family"]) and np.isnan(frame.loc["b", "multiplier"])
    empty = normalise_series(pd.Series([], dtype=object))
    assert empty.empty and list(empty.columns) == ["family", "multiplier"]


def test_series_of_a_million_rows():
    rng = random.Random(7)
    distinct = _mix(rng, 500)[:500]
    assert len(distinct) == 500
    series = pd.Series(
        np.asarray(distinct, dtype=object)[np.random.default_rng(7).integers(0, 500, 1_000_000)]
    )
    frame = normalise_series(series)  # not timed: a few seconds at most
    assert len(frame) == 1_000_000
    assert frame["family"].notna().sum() > 500_000


def test_unparsed_counts_rows():
    series = pd.Series(["UN", "CX", "CX", "Kit", None, "KG", "CX"])
    out = unparsed(series)
    assert out.name == "rows"
    assert out.iloc[0] == 3 and out.index[0] == "CX"
    assert out.sum() == 5  # CX ×3, Kit, missing
    assert "UN" not in out.index
