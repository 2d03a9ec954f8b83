"""PNCP's free-text ``unidadeMedida`` normalised to a unit family and a multiplier.

PNCP takes the unit of an item as free text ("UN", "Unidade", "CX C/ 100 UN", "frasco 500 ml",
...: 499+ spellings). The price rule R6 compares unit prices per *base unit*: an item bought
in "CX C/ 100 UN" at R$ 50 costs R$ 0,50 per UN. :func:`normalise` turns a spelling into a
:class:`Unit` ``(family, multiplier)``: the quantity of one purchase unit in the family's base
unit, so ``unit price / multiplier`` is the price per base unit. A spelling it cannot read
with confidence gives None: those items are left out of the price rules and counted
(:func:`unparsed`). Being conservative (None) beats guessing wrong.

**Families** (:data:`FAMILIES`): ``UN`` (pieces), ``KG``, ``L``, ``M``, ``M2``, ``M3``, ``H``,
``DIA``, ``MES``, ``ANO``, ``SV`` (serviço), ``PAR``, ``RESMA``. Units convert only inside a
family (G → KG ×0.001, ML → L ×0.001, CM → M ×0.01, HA → M2 ×10 000, T → KG ×1000). Not
converted, on purpose:

* M3 is not L ×1000: bulk goods (concrete, sand, water by tanker) are priced per m³, liquids
  per litre; the markets do not mix.
* time units do not convert (a monthly rate is not 30 daily rates);
* PAR and RESMA are their own families: a pair of shoes or gloves is often written "UN"
  too, and a ream is the unit paper is priced in;
* METRO LINEAR is M; a bare "ML" is millilitre (L ×0.001) as PNCP's medicines use it, while
  "M.L." (with dots) is left unread.

**What is read.** The text is case-, accent- and space-insensitive: it is folded (NFKD,
casefold; "²" → "2"), "c/" becomes "com", dots and commas that are not inside a number
become spaces, a number glued to a word is split from it ("100UN", "500ml", "CX12X1L"; not
the exponent of "m2"/"m3"). Then the first rule of :data:`RULES` that matches the whole text
decides:

1. ``word``: a unit word alone ("UN", "Unidade", "KG", "litro", "M²", "Mês", "Serviço",
   "DZ" → UN ×12, "cento" → UN ×100, "milheiro" → UN ×1000);
2. ``count``: an optional container, an integer and an optional counted word ("CX C/ 100 UN",
   "caixa com 100 unidades", "PCT 10 UN", "pacote c/ 10", "100 un", "CX 2 DZ" → UN ×24);
   a container or a counted word must be there (a bare "100" is not a unit);
3. ``pack``: a count of items each of a measured content, joined by "de", "x" or "com"
   ("CX 12 X 1 L" → L ×12, "CX C/ 12 FR DE 500 ML" → L ×6, "fardo com 6 garrafas de 2
   litros" → L ×12); a container word must be there, so dimensions ("chapa 2 x 1 m",
   "rolo 30 m x 5 cm") are not read as packs;
4. ``content``: an optional container and a measured content ("frasco 500 ml" → L ×0.5,
   "frasco 0,5 L", "saco 50 kg", "rolo 50 m", "1 kg").

When no rule matches and the text has parts ("UNIDADE (UN)", "KG - quilograma", "UN/UND"),
the parts are read alone and the unit is theirs if every part reads to the same unit;
"M2/MES" or "UNIDADE (CAIXA C/ 100)" stay unread.

**Numbers**: a comma is the decimal mark ("0,5"); dots group thousands when every group after
the first has three digits and the first does not start with 0 ("1.000" is 1000, so
"1.250 L" is 1250 L), otherwise a dot is a decimal mark ("1.5", "0.500"). Counts must be
whole and positive ("CX C/ 2,5 UN" is unread).

**Not read** (None): a container without its content or count ("CX", "Caixa", "Pacote",
"Frasco", "Galão", "Rolo", "Kit", "Jogo", "Fardo", "Saco"): its size is unknown; nested
packs ("FD C/ 12 PCT", "CX C/ 10 PCT C/ 100 UN"); lump sums ("Verba", "Global"); anything
else unknown.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FAMILIES: dict[str, str] = {
    "UN": "unidade (peça, comprimido, folha...)",
    "KG": "quilograma",
    "L": "litro",
    "M": "metro",
    "M2": "metro quadrado",
    "M3": "metro cúbico",
    "H": "hora",
    "DIA": "dia (diária)",
    "MES": "mês",
    "ANO": "ano",
    "SV": "serviço",
    "PAR": "par",
    "RESMA": "resma",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit family and how many base units one purchase unit holds."""

    family: str
    multiplier: float

    def __str__(self) -> str:
        return f"{self.family}×{self.multiplier:g}"


# ---------------------------------------------------------------------------------------------
# Vocabulary (folded spellings: lower case, no accents). Word → (family, factor).
# ---------------------------------------------------------------------------------------------


def _words(family: str, factor: str, *spellings: str) -> dict[str, tuple[str, Decimal]]:
    return {s: (family, Decimal(factor)) for s in spellings}


def _tokens(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words for one piece: alone they are UN ×1, after a number they are what is counted.
PIECES = _words(
    "UN",
    "1",
    "un",
    "und",
    "unds",
    "ud",
    "uni",
    "unid",
    "unids",
    "unidade",
    "unidades",
    "pc",
    "pcs",
    "peca",
    "pecas",
    "comprimido",
    "comprimidos",
    "comp",
    "cp",
    "cpr",
    "capsula",
    "capsulas",
    "cap",
    "caps",
    "dragea",
    "drageas",
    "ampola",
    "ampolas",
    "amp",
    "frasco ampola",
    "frascos ampola",
    "folha",
    "folhas",
    "fl",
    "fls",
)
# Other counted words: dozens, pairs, reams, services.
COUNTED = {
    **PIECES,
    **_words("UN", "12", "duzia", "duzias", "dz", "dzs"),
    **_words("UN", "100", "cento", "centos", "cto"),
    **_words("UN", "1000", "milheiro", "milheiros", "milh"),
    **_words("PAR", "1", "par", "pares"),
    **_words("RESMA", "1", "resma", "resmas"),
    **_words("SV", "1", "servico", "servicos", "sv", "serv", "srv"),
}
# Measured quantities: alone they are the unit, after a number the content.
MEASURES = {
    **_words("KG", "1", "kg", "kgs", "kilo", "kilos", "quilo", "quilos"),
    **_words("KG", "1", "quilograma", "quilogramas", "kilograma", "kilogramas"),
    **_words("KG", "0.001", "g", "gr", "grs", "grama", "gramas"),
    **_words("KG", "0.000001", "mg", "miligrama", "miligramas"),
    **_words("KG", "1000", "t", "ton", "tons", "tonelada", "toneladas"),
    **_words("L", "1", "l", "lt", "lts", "ltr", "ltrs", "litro", "litros"),
    **_words("L", "0.001", "ml", "mililitro", "mililitros", "cm3"),
    **_words("M", "1", "m", "mt", "mts", "metro", "metros"),
    **_words("M", "1", "metro linear", "metros lineares", "m linear"),
    **_words("M", "0.01", "cm", "centimetro", "centimetros"),
    **_words("M", "0.001", "mm", "milimetro", "milimetros"),
    **_words("M", "1000", "km", "kms", "quilometro", "quilometros"),
    **_words("M", "1000", "km rodado", "kms rodados", "quilometro rodado", "quilometros rodados"),
    **_words("M2", "1", "m2", "mt2", "metro quadrado", "metros quadrados", "m quadrado"),
    **_words("M2", "0.0001", "cm2"),
    **_words("M2", "10000", "ha", "hectare", "hectares"),
    **_words("M3", "1", "m3", "mt3", "metro cubico", "metros cubicos", "m cubico"),
    **_words("H", "1", "h", "hr", "hrs", "hora", "horas", "hora tecnica", "horas tecnicas"),
    **_words("H", "1", "homem hora", "hora homem", "horas homem"),
    **_words("DIA", "1", "dia", "dias", "diaria", "diarias"),
    **_words("MES", "1", "mes", "meses", "mensal", "mensalidade", "mensalidades"),
    **_words("ANO", "1", "ano", "anos", "anual", "anuidade", "anuidades"),
}
# Containers: never a unit alone (their size is unknown), only with a count or a content.
CONTAINERS = _tokens(
    """
    cx cxs cxa caixa caixas pct pcts pcte pac pacote pacotes fardo fardos fd fdo
    saco sacos sc saca sacas embalagem embalagens emb cartela cartelas blister blisters
    kit kits jogo jogos jg conjunto conjuntos cj conj display frasco frascos fr frs fco
    lata latas galao galoes gl gal garrafa garrafas gf grf pote potes balde baldes
    tubo tubos tb bisnaga bisnagas bombona bombonas tambor tambores vidro vidros
    bobina bobinas rolo rolos rl envelope envelopes env sache saches refil refis
    bandeja bandejas barra barras bloco blocos
    """
)
# Containers that hold pieces: "CX 100", "pacote c/ 10" count pieces. Others need the counted
# word ("frasco 100" may be 100 ml or 100 comprimidos; "saco 50" may be 50 kg).
PIECE_CONTAINERS = _tokens(
    """
    cx cxs cxa caixa caixas pct pcts pcte pac pacote pacotes fardo fardos fd fdo
    embalagem embalagens emb cartela cartelas blister blisters kit kits jogo jogos jg
    conjunto conjuntos cj conj display
    """
)
ALONE = {**COUNTED, **MEASURES}


def _alternation(words: Iterable[str]) -> str:
    # longest first, so "metros quadrados" wins over "metros"
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NUM = r"\d+(?:[.,]\d+)*"
_CONTAINER = rf"(?:{_alternation(CONTAINERS)})"
_COUNTED = rf"(?:{_alternation(COUNTED)})"
_PIECE = rf"(?:{_alternation(PIECES)})"
_MEASURE = rf"(?:{_alternation(MEASURES)})"
_WITH = r"(?:(?:com|contendo|de)\s+)?"


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


def parse_number(text: str) -> Decimal | None:
    """pt-BR numbers: ``"0,5"`` 0.5, ``"1.000"`` 1000, ``"1.000,5"`` 1000.5, ``"1.5"`` 1.5."""
    if "," in text:
        head, _, tail = text.rpartition(",")
        if "," in head or not tail.isdigit():
            return None
        groups = head.split(".")
        if len(groups) > 1 and not _thousands(groups):
            return None
        return Decimal("".join(groups) + "." + tail)
    groups = text.split(".")
    if len(groups) == 1:
        return Decimal(text)
    if _thousands(groups):
        return Decimal("".join(groups))
    if len(groups) == 2:
        return Decimal(text)
    return None


def _thousands(groups: list[str]) -> bool:
    first = groups[0]
    return (
        1 <= len(first) <= 3
        and not first.startswith("0")
        and all(len(g) == 3 and g.isdigit() for g in groups[1:])
    )


def _count(text: str) -> Decimal | None:
    n = parse_number(text)
    if n is None or n <= 0 or n != n.to_integral_value():
        return None
    return n


def _unit(family: str, multiplier: Decimal | None) -> Unit | None:
    if multiplier is None or multiplier <= 0:
        return None
    return Unit(family, float(multiplier))


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One line of the table: a pattern over the folded text, matched whole, and what it
    makes of the match (None: this rule does not apply after all)."""

    name: str
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str]], Unit | None]
    examples: tuple[str, ...]


def _word(m: re.Match[str]) -> Unit | None:
    family, factor = ALONE[m["w"]]
    return _unit(family, factor)


def _count_rule(m: re.Match[str]) -> Unit | None:
    if not m["i"] and m["c"] not in PIECE_CONTAINERS:
        return None  # a bare number, or a container whose bare count is ambiguous
    n = _count(m["n"])
    if n is None:
        return None
    family, per = COUNTED[m["i"]] if m["i"] else ("UN", Decimal(1))
    return _unit(family, n * per)


def _pack(m: re.Match[str]) -> Unit | None:
    if not (m["c"] or m["i"]):
        return None
    n = _count(m["n"])
    q = parse_number(m["q"])
    if n is None or q is None:
        return None
    family, factor = MEASURES[m["u"]]
    return _unit(family, n * q * factor)


def _content(m: re.Match[str]) -> Unit | None:
    q = parse_number(m["q"])
    if q is None:
        return None
    family, factor = MEASURES[m["u"]]
    return _unit(family, q * factor)


RULES: tuple[Rule, ...] = (
    Rule(
        "word",
        re.compile(rf"(?P<w>{_alternation(ALONE)})"),
        _word,
        ("UN", "Unidade", "unid.", "KG", "litro", "M²", "Mês", "Diária", "Serviço", "DZ"),
    ),
    Rule(
        "count",
        re.compile(rf"(?:(?P<c>{_CONTAINER})\s+{_WITH})?(?P<n>{_NUM})\s*(?P<i>{_COUNTED})?"),
        _count_rule,
        ("CX C/ 100 UN", "caixa com 100 unidades", "CX 100UN", "pacote c/ 10", "CX 2 DZ"),
    ),
    Rule(
        "pack",
        re.compile(
            rf"(?:(?P<c>{_CONTAINER})\s+(?:(?:com|contendo)\s+)?)?(?P<n>{_NUM})\s*"
            rf"(?P<i>{_CONTAINER}|{_PIECE})?\s*(?:de|x|com)\s*(?P<q>{_NUM})\s*(?P<u>{_MEASURE})"
        ),
        _pack,
        ("CX 12 X 1 L", "CX C/ 12 FR DE 500 ML", "fardo com 6 garrafas de 2 litros"),
    ),
    Rule(
        "content",
        re.compile(
            rf"(?:(?P<c>{_CONTAINER}|{_PIECE})\s+{_WITH})?(?P<q>{_NUM})\s*(?P<u>{_MEASURE})"
        ),
        _content,
        ("frasco 500 ml", "frasco 0,5 L", "saco 50 kg", "rolo 50 m", "1 kg"),
    ),
)


# ---------------------------------------------------------------------------------------------
# Folding and the entry points
# ---------------------------------------------------------------------------------------------

_EXPONENT_BASES = frozenset({"m", "mt", "cm", "mm", "km"})
_PART_SEPARATORS = re.compile(r"[()\[\]{}/]|\s-\s")
_C_SLASH = re.compile(r"\b([cC])\s*/")


def fold(text: str) -> str:
    """Lower case, no accents, ``c/`` → ``com``, separators → spaces, numbers split from
    words, single spaces: the text the rules read."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"\bc\s*/\s*", " com ", text)
    text = re.sub(r"(?<!\d)[.,]|[.,](?!\d)", " ", text)  # dots and commas outside numbers
    text = re.sub(r"[-_:;*'\"#]", " ", text)
    text = re.sub(r"(?<=\d)(?=[a-z])", " ", text)  # "100un" → "100 un"
    text = re.sub(
        r"([a-z]+)(?=\d)",
        lambda m: m[1] if m[1] in _EXPONENT_BASES and _is_exponent(m) else m[1] + " ",
        text,
    )
    return " ".join(text.split())


def _is_exponent(m: re.Match[str]) -> bool:
    # "m2", "cm3": a 2 or 3 right after the unit and not followed by another digit
    rest = m.string[m.end() :]
    return bool(re.match(r"[23](?![\d.,])", rest))


def _read(folded: str) -> Unit | None:
    for rule in RULES:
        m = rule.pattern.fullmatch(folded)
        if m:
            unit = rule.build(m)
            if unit is not None:
                return unit
    return None


@functools.lru_cache(maxsize=65536)
def _normalise(text: str) -> Unit | None:
    protected = _C_SLASH.sub(lambda m: m[1] + "\x00", text)  # "c/" is "com", not a separator
    if "/" not in protected:  # "M2/MES", "1/2 L": only the parts, below, may read it
        whole = _read(fold(_PART_SEPARATORS.sub(" ", protected).replace("\x00", "/")))
        if whole is not None:
            return whole
    parts = [p.replace("\x00", "/") for p in _PART_SEPARATORS.split(protected)]
    parts = [p for p in parts if p.strip()]
    if len(parts) < 2:
        return None
    units = {_read(fold(p)) for p in parts}
    if len(units) == 1:
        return units.pop()  # every part the same unit (None included: unread)
    return None


def normalise(text: object) -> Unit | None:
    """The :class:`Unit` of a PNCP ``unidadeMedida``, or None when it cannot be read."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _normalise(text.strip())


def normalise_series(values: pd.Series) -> pd.DataFrame:
    """:func:`normalise` over a Series: a DataFrame with its index and columns ``family``
    (pandas' string dtype, missing when unread: NULL in DuckDB) and ``multiplier`` (float,
    NaN when unread). Each distinct value is read once, then mapped."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    units = [normalise(v) for v in uniques]
    # one slot more, at the end, for the missing values (code -1)
    family = np.array([u.family if u else None for u in units] + [None], dtype=object)
    multiplier = np.array([u.multiplier if u else np.nan for u in units] + [np.nan])
    return pd.DataFrame(
        {"family": family[codes], "multiplier": multiplier[codes]}, index=values.index
    )


def unparsed(values: pd.Series) -> pd.Series:
    """The spellings :func:`normalise` cannot read, with how many rows carry each (missing
    values included), most frequent first: the data-quality report of the price rules."""
    import pandas as pd

    counts = values.value_counts(dropna=False)
    mask = [normalise(v) is None for v in counts.index]
    out = counts[mask]
    return pd.Series(out.to_numpy(), index=out.index, name="rows")
