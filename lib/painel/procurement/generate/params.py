"""The law's numbers the generator plants against (docs/procurement.md) and the plant rates."""

from __future__ import annotations

import numpy as np

# Art. 75 I / II dispensa limits by year of dataPublicacaoPncp (strict: value >= limit violates).
LIMITES: dict[int, tuple[float, float]] = {
    2022: (108040.82, 54020.41),
    2023: (114416.65, 57208.33),
    2024: (119812.02, 59906.02),
    2025: (125451.15, 62725.59),
    2026: (130984.20, 65492.11),
}
AMPARO_INCISO = {18: "I", 19: "II"}
AMPARO_EMERGENCIAL = 38
MOD_DISPENSA, MOD_INEXIG = 8, 9
LICITACOES = (4, 5, 6, 7)

# Art. 55 minimum (working days) by item 1's kind and criterion (docs/procurement.md R3).
CRIT_PRICE = (1, 2)  # menor preço, maior desconto
CRIT_35 = (4, 8, 9)  # técnica e preço, melhor técnica, conteúdo artístico


def prazo_minimo(kind: np.ndarray, crit: np.ndarray) -> np.ndarray:
    """Art. 55 minimum in d.u. for arrays of item-1 kinds ('M'/'S') and criteria."""
    kind = np.asarray(kind)
    crit = np.asarray(crit)
    price = np.isin(crit, CRIT_PRICE)
    out = np.where(kind == "M", np.where(price, 8, 15), np.where(price, 10, 35))
    out = np.where(crit == 5, 15, out)
    return np.where(np.isin(crit, CRIT_35), 35, out)


def limite(year: np.ndarray, inciso: np.ndarray, consorcio: np.ndarray) -> np.ndarray:
    """The dispensa limit of each (year, inciso 'I'/'II', consórcio doubles)."""
    year = np.asarray(year)
    inc = np.asarray(inciso)
    out = np.full(year.shape, np.nan)
    for y, (l1, l2) in LIMITES.items():
        out = np.where((year == y) & (inc == "I"), l1, out)
        out = np.where((year == y) & (inc == "II"), l2, out)
    return np.where(np.asarray(consorcio), out * 2, out)


PUBLICACAO_DU = {"direta": 10, "outras": 20}  # art. 94: dispensa/inexigibilidade 10, else 20
EMERGENCIA_DIAS = 365
ADITIVO_MAX, ADITIVO_REFORMA = 0.25, 0.50

# Plant rates: share of each rule's eligible population (docs/shared §5); MIN_PLANTS at least.
RATES = {
    "R1": 0.02,  # of dispensa groups
    "R2": 0.005,  # of dispensas (amparo 18/19)
    "R3": 0.03,  # of licitações (situação 1)
    "R4": 0.01,  # of emergency contracts, each of: > 365 d, extended
    "R5": 0.05,  # of contratos
    "R6": 0.01,  # of homologated catalogued items
    "R7": 0.05,  # of homologated licitação items
    "R9": 0.02,  # of contratos (tipo Contrato)
}
R8_GROUPS = 10
MIN_PLANTS = 6
