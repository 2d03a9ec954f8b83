"""PNCP's code tables, the dispensa limits and the art. 55 minimum periods, as data.

Everything the rules R1-R9 (docs/procurement.md) look up lives here, each table with PNCP's
own pt-BR names and, for publishing, a :class:`pandas.DataFrame` (:func:`frames`):

* code tables (:class:`CodeTable`, a read-only ``Mapping[int, str]``): :data:`MODALIDADES`,
  :data:`SITUACOES_COMPRA`, :data:`SITUACOES_ITEM`, :data:`SITUACOES_RESULTADO`,
  :data:`MODOS_DISPUTA`, :data:`CRITERIOS_JULGAMENTO`, :data:`PORTES_FORNECEDOR`,
  :data:`TIPOS_BENEFICIO`, :data:`TIPOS_INSTRUMENTO`, :data:`TIPOS_CONTRATO`,
  :data:`TIPOS_TERMO`;
* amparos legais (:data:`AMPAROS`, :func:`amparo`, :func:`article`), codes 1-50 of Lei
  14.133/2021 with their article, inciso and alínea;
* dispensa limits (art. 75 I, II, §7) per year (:data:`LIMITES`, :func:`limit`,
  :func:`limits_frame`), extendable without code (:func:`load_limits`);
* art. 55 minimum periods for proposals (:func:`minimum_days`, :func:`minimum_days_frame`).

Sources: Manual das APIs de Consultas PNCP v1.0 and Manual de Integração PNCP (v2.2.1 for the
amparo list 1-50, v2.3.x for the later codes: modo de disputa 6, critérios 8/9, the revoked
contract types), Lei 14.133/2021 and the decrees that update its values (art. 182). Values not
checked against an official text are flagged (``verificado`` false in the limits table, a
comment elsewhere). PNCP's live domain (``/v1/amparos-legais``) has ~153 amparo codes: the
ones here are those of Lei 14.133; an unknown code raises :class:`CodeError`.

Only the standard library and pandas (imported lazily by the frame functions) are used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd


class CodeError(KeyError):
    """An unknown code, inciso or year; the message says which and what to do.

    A :class:`KeyError` so that ``Mapping.get`` and ``in`` work on the code tables, but its
    message prints without KeyError's quotes.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------------------------
# Code tables
# --------------------------------------------------------------------------------------------


class CodeTable(Mapping[int, str]):
    """A PNCP domain table: code → pt-BR name, read-only.

    ``table[code]`` raises :class:`CodeError` naming the table for an unknown code;
    ``table.get(code)`` returns None. :meth:`frame` gives the ``(codigo, nome)`` DataFrame.
    """

    def __init__(self, name: str, title: str, rows: Mapping[int, str]) -> None:
        self.name = name  # the published table's name, e.g. "modalidades"
        self.title = title  # PNCP's name of the domain, e.g. "Modalidade de Contratação"
        self._rows: Mapping[int, str] = MappingProxyType(dict(rows))

    def __getitem__(self, code: int) -> str:
        try:
            return self._rows[code]
        except (KeyError, TypeError):
            raise CodeError(
                f"{self.title}: unknown code {code!r} (known: {sorted(self._rows)})"
            ) from None

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"CodeTable({self.name!r}, {len(self)} codes)"

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({"codigo": list(self._rows), "nome": list(self._rows.values())}).astype(
            {"codigo": "int64"}
        )


# Modalidade de contratação ✅ [MC 5.2].
MODALIDADES = CodeTable(
    "modalidades",
    "Modalidade de Contratação",
    {
        1: "Leilão - Eletrônico",
        2: "Diálogo Competitivo",
        3: "Concurso",
        4: "Concorrência - Eletrônica",
        5: "Concorrência - Presencial",
        6: "Pregão - Eletrônico",
        7: "Pregão - Presencial",
        8: "Dispensa de Licitação",
        9: "Inexigibilidade",
        10: "Manifestação de Interesse",
        11: "Pré-qualificação",
        12: "Credenciamento",
        13: "Leilão - Presencial",
    },
)
MODALIDADES_LICITACAO = frozenset({4, 5, 6, 7})  # concorrência and pregão: R3, R7
DISPENSA = 8
INEXIGIBILIDADE = 9
CONTRATACAO_DIRETA = frozenset({DISPENSA, INEXIGIBILIDADE})  # art. 94: 10 d.u. (R5)

# Situação da contratação ✅ [MC 5.5].
SITUACOES_COMPRA = CodeTable(
    "situacoes_compra",
    "Situação da Contratação",
    {1: "Divulgada no PNCP", 2: "Revogada", 3: "Anulada", 4: "Suspensa"},
)
SITUACAO_DIVULGADA = 1

# Situação do item da contratação ✅ [MC 5.6].
SITUACOES_ITEM = CodeTable(
    "situacoes_item",
    "Situação do Item da Contratação",
    {
        1: "Em Andamento",
        2: "Homologado",
        3: "Anulado/Revogado/Cancelado",
        4: "Deserto",
        5: "Fracassado",
    },
)
SITUACAO_ITEM_HOMOLOGADO = 2

# Situação do resultado do item ✅ [MC 5.8].
SITUACOES_RESULTADO = CodeTable(
    "situacoes_resultado",
    "Situação do Resultado do Item da Contratação",
    {1: "Informado", 2: "Cancelado"},
)

# Modo de disputa ✅ [MC 5.3]; 6 (Fechado-Aberto) is in the later manuals, not in v2.2.1.
MODOS_DISPUTA = CodeTable(
    "modos_disputa",
    "Modo de Disputa",
    {
        1: "Aberto",
        2: "Fechado",
        3: "Aberto-Fechado",
        4: "Dispensa Com Disputa",
        5: "Não se aplica",
        6: "Fechado-Aberto",
    },
)

# Critério de julgamento ✅ [MC 5.4]. Code 3 ("Melhor técnica ou conteúdo artístico") is the
# Manual de Integração v2.2.1's; later manuals split it into 8 and 9 and no longer list 3, but
# old records may carry it.
CRITERIOS_JULGAMENTO = CodeTable(
    "criterios_julgamento",
    "Critério de Julgamento",
    {
        1: "Menor preço",
        2: "Maior desconto",
        3: "Melhor técnica ou conteúdo artístico",
        4: "Técnica e preço",
        5: "Maior lance",
        6: "Maior retorno econômico",
        7: "Não se aplica",
        8: "Melhor técnica",
        9: "Conteúdo artístico",
    },
)

# Porte da empresa ✅ [MC 5.14; Manual de Integração v2.3]: 4 is a natural person (pessoa física).
PORTES_FORNECEDOR = CodeTable(
    "portes_fornecedor",
    "Porte da Empresa",
    {1: "ME", 2: "EPP", 3: "Demais", 4: "Não se aplica", 5: "Não informado"},
)

# Tipo de benefício ✅ [MC 5.7].
TIPOS_BENEFICIO = CodeTable(
    "tipos_beneficio",
    "Tipo de Benefício",
    {
        1: "Participação exclusiva para ME/EPP",
        2: "Subcontratação para ME/EPP",
        3: "Cota reservada para ME/EPP",
        4: "Sem benefício",
        5: "Não se aplica",
    },
)

# Instrumento convocatório ✅ [MC 5.1].
TIPOS_INSTRUMENTO = CodeTable(
    "tipos_instrumento",
    "Instrumento Convocatório",
    {
        1: "Edital",
        2: "Aviso de Contratação Direta",
        3: "Ato que autoriza a Contratação Direta",
    },
)

# Tipo de contrato ✅ [MC 5.9]: the full list. 6, 9, 10 and 11 were revoked by art. 40 of
# Portaria Conjunta MGI/MF/CGU nº 33/2023 but remain in older records.
TIPOS_CONTRATO = CodeTable(
    "tipos_contrato",
    "Tipo de Contrato",
    {
        1: "Contrato (termo inicial)",
        2: "Comodato",
        3: "Arrendamento",
        4: "Concessão",
        5: "Termo de Adesão",
        6: "Convênio",  # revoked
        7: "Empenho",
        8: "Outros",
        9: "Termo de Execução Descentralizada (TED)",  # revoked
        10: "Acordo de Cooperação Técnica (ACT)",  # revoked
        11: "Termo de Compromisso",  # revoked
        12: "Carta Contrato",
    },
)
TIPOS_CONTRATO_REVOGADOS = frozenset({6, 9, 10, 11})
TIPO_CONTRATO_EMPENHO = 7

# Tipo de termo de contrato ✅ [MC 5.10].
TIPOS_TERMO = CodeTable(
    "tipos_termo",
    "Tipo de Termo de Contrato",
    {1: "Termo de Rescisão", 2: "Termo Aditivo", 3: "Termo de Apostilamento"},
)
TIPO_TERMO_ADITIVO = 2  # R9 sums the acréscimos of these

CODE_TABLES: tuple[CodeTable, ...] = (
    MODALIDADES,
    SITUACOES_COMPRA,
    SITUACOES_ITEM,
    SITUACOES_RESULTADO,
    MODOS_DISPUTA,
    CRITERIOS_JULGAMENTO,
    PORTES_FORNECEDOR,
    TIPOS_BENEFICIO,
    TIPOS_INSTRUMENTO,
    TIPOS_CONTRATO,
    TIPOS_TERMO,
)


# --------------------------------------------------------------------------------------------
# Amparo legal
# --------------------------------------------------------------------------------------------

Hipotese = Literal["licitacao", "inexigibilidade", "dispensa", "procedimento_auxiliar"]

_HIPOTESE_BY_ARTICLE: dict[int, Hipotese] = {
    28: "licitacao",  # art. 28: the modalidades
    74: "inexigibilidade",
    75: "dispensa",
    78: "procedimento_auxiliar",  # art. 78: credenciamento, pré-qualificação, PMI
}


@dataclass(frozen=True)
class Amparo:
    """One amparo legal: ``nome`` is PNCP's spelling (``"Lei 14.133/2021, Art. 75, I"``)."""

    codigo: int
    lei: str  # "14.133/2021"
    artigo: int
    inciso: str | None  # roman numeral, None for the caput
    alinea: str | None

    @property
    def nome(self) -> str:
        parts = [f"Lei {self.lei}", f"Art. {self.artigo}", self.inciso or "Caput"]
        if self.alinea:
            parts.append(self.alinea)
        return ", ".join(parts)

    @property
    def article(self) -> str:
        """``"art. 75, I"``, ``"art. 74, III, a"``, ``"art. 74, caput"``."""
        parts = [f"art. {self.artigo}", self.inciso or "caput"]
        if self.alinea:
            parts.append(self.alinea)
        return ", ".join(parts)

    @property
    def hipotese(self) -> Hipotese:
        return _HIPOTESE_BY_ARTICLE[self.artigo]

    @property
    def inciso_dispensa(self) -> str | None:
        """``"I"`` or ``"II"`` for the dispensas by value (art. 75 I/II), else None."""
        if self.artigo == 75 and self.inciso in ("I", "II"):
            return self.inciso
        return None


def _amparos() -> dict[int, Amparo]:
    # Manual de Integração PNCP v2.2.1 §5.15 ✅: codes 1-50 are Lei 14.133/2021's.
    spec: list[tuple[int, str | None, str | None]] = [
        *[(28, i, None) for i in ("I", "II", "III", "IV", "V")],  # 1-5
        (74, "I", None),  # 6
        (74, "II", None),  # 7
        *[(74, "III", a) for a in "abcdefgh"],  # 8-15
        (74, "IV", None),  # 16
        (74, "V", None),  # 17
        (75, "I", None),  # 18: dispensa by value, obras/engenharia/manutenção de veículos
        (75, "II", None),  # 19: dispensa by value, other purchases and services
        *[(75, "III", a) for a in "ab"],  # 20-21
        *[(75, "IV", a) for a in "abcdefghijklm"],  # 22-34
        *[
            (75, i, None)
            for i in ("V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI")
        ],  # 35-46; 38 = VIII, emergência ou calamidade
        *[(78, i, None) for i in ("I", "II", "III")],  # 47-49
        (74, None, None),  # 50: art. 74, caput
    ]
    assert len(spec) == 50
    return {
        codigo: Amparo(codigo, "14.133/2021", artigo, inciso, alinea)
        for codigo, (artigo, inciso, alinea) in enumerate(spec, start=1)
    }


AMPAROS: Mapping[int, Amparo] = MappingProxyType(_amparos())
AMPAROS_DISPENSA_VALOR: Mapping[int, str] = MappingProxyType({18: "I", 19: "II"})  # R1, R2
AMPARO_EMERGENCIAL = 38  # art. 75 VIII (R4)
AMPAROS_INEXIGIBILIDADE = frozenset(c for c, a in AMPAROS.items() if a.artigo == 74)  # 6-17, 50


def amparo(codigo: int) -> Amparo:
    """The amparo legal of a code; :class:`CodeError` if it is not one of Lei 14.133's 1-50."""
    try:
        return AMPAROS[codigo]
    except (KeyError, TypeError):
        raise CodeError(
            f"amparo legal {codigo!r} is not in the table (codes 1-50, Lei 14.133/2021); "
            "PNCP's live list is /v1/amparos-legais"
        ) from None


def article(codigo: int) -> str:
    """The article of an amparo code: ``article(18) == "art. 75, I"``."""
    return amparo(codigo).article


_ARTICLE_RE = re.compile(
    r"art\.?\s*(?P<artigo>\d+)\s*(?:º|°|o)?\s*(?:,\s*(?:inciso\s+)?(?P<inciso>[IVXLC]+|caput)\b)?"
    r"(?:\s*,\s*(?:al[ií]nea\s+)?(?P<alinea>[a-z])\b)?",
    re.IGNORECASE,
)


def parse_article(nome: str) -> str | None:
    """The article in a free amparo name, in :attr:`Amparo.article`'s form, or None.

    For codes outside the table: ``parse_article("Lei 14.133/2021, Art. 75, VIII")`` is
    ``"art. 75, VIII"``.
    """
    m = _ARTICLE_RE.search(nome or "")
    if not m:
        return None
    parts = [f"art. {int(m['artigo'])}"]
    if m["inciso"]:
        parts.append("caput" if m["inciso"].lower() == "caput" else m["inciso"].upper())
        if m["alinea"]:
            parts.append(m["alinea"].lower())
    return ", ".join(parts)


def amparos_frame() -> pd.DataFrame:
    """Table ``amparos``: codigo, nome, lei, artigo, inciso, alinea, artigo_texto, hipotese,
    inciso_dispensa (``'I'``/``'II'`` joins ``limites_dispensa.inciso``)."""
    import pandas as pd

    rows = [
        {
            "codigo": a.codigo,
            "nome": a.nome,
            "lei": a.lei,
            "artigo": a.artigo,
            "inciso": a.inciso,
            "alinea": a.alinea,
            "artigo_texto": a.article,
            "hipotese": a.hipotese,
            "inciso_dispensa": a.inciso_dispensa,
        }
        for a in AMPAROS.values()
    ]
    return pd.DataFrame(rows).astype({"codigo": "int64", "artigo": "int64"})


# --------------------------------------------------------------------------------------------
# Dispensa limits (art. 75 I, II and §7)
# --------------------------------------------------------------------------------------------

INCISOS = ("I", "II", "§7")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Limite:
    """A dispensa limit of one year and inciso.

    I and II are strict ("inferiores a": a dispensa of exactly the value is over the limit);
    §7 (small vehicle maintenance, exempt from the §1 sum) is inclusive ("até").
    """

    ano: int
    inciso: str  # "I", "II" or "§7"
    valor: Decimal
    ato: str
    fonte: str
    verificado: bool = True  # False: not checked against the act's text

    @property
    def estrito(self) -> bool:
        return self.inciso != "§7"


def _row(ano: int, inciso: str, valor: str, ato: str, fonte: str, ok: bool = True) -> Limite:
    return Limite(ano, inciso, Decimal(valor), ato, fonte, ok)


_LEI = "Lei 14.133/2021"
_DERIVED = (
    "derived: previous §7 × this year's IPCA-E factor of incisos I/II (consistent with 2022 "
    "and 2025); not checked against the decree"
)
LIMITES: tuple[Limite, ...] = (
    _row(2021, "I", "100000.00", _LEI, "Lei 14.133/2021, art. 75, I (texto original)"),
    _row(2021, "II", "50000.00", _LEI, "Lei 14.133/2021, art. 75, II (texto original)"),
    _row(2021, "§7", "8000.00", _LEI, "Lei 14.133/2021, art. 75, §7 (texto original)", False),
    _row(2022, "I", "108040.82", "Decreto nº 10.922/2021", "jurishand.com"),
    _row(2022, "II", "54020.41", "Decreto nº 10.922/2021", "jurishand.com"),
    _row(2022, "§7", "8643.27", "Decreto nº 10.922/2021", "jurishand.com"),
    _row(2023, "I", "114416.65", "Decreto nº 11.317/2022", "public code", False),
    _row(2023, "II", "57208.33", "Decreto nº 11.317/2022", "public code", False),
    _row(2023, "§7", "9153.34", "Decreto nº 11.317/2022", _DERIVED, False),
    _row(2024, "I", "119812.02", "Decreto nº 11.871/2023", "public code", False),
    _row(2024, "II", "59906.02", "Decreto nº 11.871/2023", "public code", False),
    _row(2024, "§7", "9584.97", "Decreto nº 11.871/2023", _DERIVED, False),
    _row(2025, "I", "125451.15", "Decreto nº 12.343/2024", "licitacao.com.br"),
    _row(2025, "II", "62725.59", "Decreto nº 12.343/2024", "licitacao.com.br"),
    _row(2025, "§7", "10036.10", "Decreto nº 12.343/2024", "licitacao.com.br"),
    _row(2026, "I", "130984.20", "Decreto nº 12.807/2025", "consultpublica.com.br"),
    _row(2026, "II", "65492.11", "Decreto nº 12.807/2025", "consultpublica.com.br"),
    _row(2026, "§7", "10478.74", "Decreto nº 12.807/2025", "consultpublica.com.br"),
)


def _inciso(value: object) -> str:
    text = re.sub(r"[\sº°o]", "", str(value)).upper().replace("PAR", "§")
    if text in ("7", "§7"):
        return "§7"
    if text in ("I", "II"):
        return text
    raise CodeError(f"inciso {value!r}: expected one of 'I', 'II', '§7'")


def _money(value: object) -> Decimal:
    """R$ amounts: Decimal, int, float or text (``"130.984,20"``, ``"130984.20"``)."""
    if isinstance(value, bool):
        raise CodeError(f"value {value!r} is not an amount")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | float):
        amount = Decimal(str(value))
    else:
        text = str(value).strip().removeprefix("R$").strip()
        if "," in text:  # pt-BR: dots group thousands, the comma is decimal
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CodeError(f"value {value!r} is not an amount") from None
    if not amount.is_finite() or amount <= 0:
        raise CodeError(f"value {value!r} is not a positive amount")
    return amount.quantize(CENT)


class DispensaLimits:
    """The dispensa limits by (year, inciso). Immutable; :func:`load_limits` makes a new one."""

    def __init__(self, rows: Iterable[Limite]) -> None:
        table: dict[tuple[int, str], Limite] = {}
        for row in rows:
            table[(row.ano, row.inciso)] = row  # a later row replaces an earlier one
        self._table: Mapping[tuple[int, str], Limite] = MappingProxyType(
            dict(sorted(table.items(), key=lambda kv: (kv[0][0], INCISOS.index(kv[0][1]))))
        )

    @property
    def rows(self) -> tuple[Limite, ...]:
        return tuple(self._table.values())

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({ano for ano, _ in self._table}))

    def row(self, year: int, inciso: str) -> Limite:
        key = (int(year), _inciso(inciso))
        try:
            return self._table[key]
        except KeyError:
            known = f"{self.years[0]}-{self.years[-1]}" if self.years else "none"
            raise CodeError(
                f"no dispensa limit for {key[0]} (art. 75, {key[1]}): the act for {key[0]} is "
                f"not in the table (years known: {known}). Since Dec. 12.807/2025 the yearly "
                "update comes by ministerial act (MGI): add its values with "
                "codes.load_limits([...]) or the deployment's limits parameter."
            ) from None

    def limit(self, year: int, inciso: str, consorcio: bool = False) -> Decimal:
        """The limit in R$; doubled for consórcios públicos and agências executivas
        (art. 75 §2, incisos I and II only)."""
        row = self.row(year, inciso)
        if consorcio and row.inciso in ("I", "II"):
            return row.valor * 2
        return row.valor

    def frame(self) -> pd.DataFrame:
        """Table ``limites_dispensa``: ano, inciso, valor, valor_consorcio (Decimal, R$),
        estrito (true: "inferiores a"; §7 is "até"), ato, fonte, verificado."""
        import pandas as pd

        rows = [
            {
                "ano": r.ano,
                "inciso": r.inciso,
                "valor": r.valor,
                "valor_consorcio": self.limit(r.ano, r.inciso, consorcio=True),
                "estrito": r.estrito,
                "ato": r.ato,
                "fonte": r.fonte,
                "verificado": r.verificado,
            }
            for r in self.rows
        ]
        columns = [
            "ano",
            "inciso",
            "valor",
            "valor_consorcio",
            "estrito",
            "ato",
            "fonte",
            "verificado",
        ]
        return pd.DataFrame(rows, columns=columns).astype(
            {"ano": "int64", "estrito": "bool", "verificado": "bool"}
        )


DEFAULT_LIMITS = DispensaLimits(LIMITES)


def load_limits(
    extra_rows: Iterable[Limite | Mapping[str, Any]],
    base: DispensaLimits = DEFAULT_LIMITS,
) -> DispensaLimits:
    """A limits table: ``base`` plus ``extra_rows`` (which replace rows of the same year and
    inciso). A row is a :class:`Limite` or a mapping with ``ano`` (or ``year``), ``inciso``,
    ``valor`` (or ``value``: Decimal, number or ``"130.984,20"``), ``ato`` and optionally
    ``fonte`` and ``verificado``: a deployment's parameter file can add 2027 without code."""
    rows = list(base.rows)
    for i, extra in enumerate(extra_rows):
        if isinstance(extra, Limite):
            rows.append(extra)
            continue
        try:
            year = extra["ano"] if "ano" in extra else extra["year"]
            value = extra["valor"] if "valor" in extra else extra["value"]
            ato = str(extra["ato"])
        except KeyError as exc:
            raise CodeError(f"limits row {i} ({dict(extra)!r}) lacks {exc}") from None
        rows.append(
            Limite(
                ano=int(year),
                inciso=_inciso(extra["inciso"]),
                valor=_money(value),
                ato=ato,
                fonte=str(extra.get("fonte", "parameter")),
                verificado=bool(extra.get("verificado", True)),
            )
        )
    return DispensaLimits(rows)


def limit(
    year: int, inciso: str, consorcio: bool = False, table: DispensaLimits | None = None
) -> Decimal:
    """The dispensa limit (R$) of ``year`` for inciso ``'I'``, ``'II'`` or ``'§7'``; doubled
    when ``consorcio`` (art. 75 §2, I and II). :class:`CodeError` for a year without an act."""
    return (table or DEFAULT_LIMITS).limit(year, inciso, consorcio)


def limits_frame(table: DispensaLimits | None = None) -> pd.DataFrame:
    """The table ``limites_dispensa`` the ETL publishes (see :meth:`DispensaLimits.frame`)."""
    return (table or DEFAULT_LIMITS).frame()


# --------------------------------------------------------------------------------------------
# Art. 55: minimum periods for proposals (working days), rule R3
# --------------------------------------------------------------------------------------------

# (material_ou_servico, criterio_julgamento_id) → (dias úteis, legal basis). Services are
# assumed common (art. 55 II a, 10 d.u.): special services (II b, 25) and contratação integrada
# or semi-integrada (II c/d, 60/35) cannot be told apart in PNCP's data. Criterion 7
# ("Não se aplica") has no minimum here: minimum_days raises and the frame leaves it out, so a
# licitação with an uninformative criterion is not judged.
_MINIMUM_DAYS: dict[tuple[str, int], tuple[int, str]] = {
    ("M", 1): (8, "art. 55, I, a"),
    ("M", 2): (8, "art. 55, I, a"),
    ("M", 3): (35, "art. 55, IV"),
    ("M", 4): (35, "art. 55, IV"),
    ("M", 5): (15, "art. 55, III"),
    ("M", 6): (15, "art. 55, I, b"),
    ("M", 8): (35, "art. 55, IV"),
    ("M", 9): (35, "art. 55, IV"),
    ("S", 1): (10, "art. 55, II, a"),
    ("S", 2): (10, "art. 55, II, a"),
    ("S", 3): (35, "art. 55, IV"),
    ("S", 4): (35, "art. 55, IV"),
    ("S", 5): (15, "art. 55, III"),
    ("S", 6): (35, "art. 55, II, d"),
    ("S", 8): (35, "art. 55, IV"),
    ("S", 9): (35, "art. 55, IV"),
}
MINIMUM_DAYS: Mapping[tuple[str, int], int] = MappingProxyType(
    {key: days for key, (days, _) in _MINIMUM_DAYS.items()}
)


def minimum_days(material_ou_servico: str, criterio_julgamento_id: int) -> int:
    """Art. 55's minimum working days from publication to the end of proposals.

    Goods (``'M'``): menor preço / maior desconto 8, otherwise 15; services (``'S'``, assumed
    common): menor preço / maior desconto 10, maior retorno econômico 35; maior lance 15;
    técnica e preço, melhor técnica, conteúdo artístico (and the old code 3) 35.
    :class:`CodeError` for criterion 7 (Não se aplica) and unknown values.
    """
    kind = str(material_ou_servico).strip().upper()
    if kind not in ("M", "S"):
        raise CodeError(f"material_ou_servico {material_ou_servico!r}: expected 'M' or 'S'")
    try:
        return MINIMUM_DAYS[(kind, int(criterio_julgamento_id))]
    except (KeyError, TypeError, ValueError):
        name = CRITERIOS_JULGAMENTO.get(criterio_julgamento_id)
        what = f" ({name})" if name else ""
        raise CodeError(
            f"critério de julgamento {criterio_julgamento_id!r}{what} has no art. 55 minimum"
        ) from None


def minimum_days_frame() -> pd.DataFrame:
    """Table ``prazos_minimos``: material_ou_servico, criterio_julgamento_id, dias (working
    days), base_legal — join it on the item's (material_ou_servico, criterio_julgamento_id)."""
    import pandas as pd

    rows = [
        {
            "material_ou_servico": kind,
            "criterio_julgamento_id": criterio,
            "dias": days,
            "base_legal": basis,
        }
        for (kind, criterio), (days, basis) in _MINIMUM_DAYS.items()
    ]
    return pd.DataFrame(rows).astype({"criterio_julgamento_id": "int64", "dias": "int64"})


# --------------------------------------------------------------------------------------------
# Everything, for publishing
# --------------------------------------------------------------------------------------------


def modalidades() -> pd.DataFrame:
    """Table ``modalidades`` (codigo, nome)."""
    return MODALIDADES.frame()


def amparos() -> pd.DataFrame:
    """Table ``amparos`` (see :func:`amparos_frame`)."""
    return amparos_frame()


def frames(limits: DispensaLimits | None = None) -> dict[str, pd.DataFrame]:
    """Every table by its published name: the code tables, ``amparos``, ``limites_dispensa``
    and ``prazos_minimos``."""
    out = {table.name: table.frame() for table in CODE_TABLES}
    out["amparos"] = amparos_frame()
    out["limites_dispensa"] = limits_frame(limits)
    out["prazos_minimos"] = minimum_days_frame()
    return out
