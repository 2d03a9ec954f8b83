"""The job parameters the generator plants against (docs/school.md's assumptions, defaults)
and the default plant rates.

The truth file echoes :data:`PARAMS`; a job run with other values would find other findings.
"""

from __future__ import annotations

from typing import Any

PRAZO_LANCAMENTO_DIAS = 10  # a bimestre is due when D > DT_FIM + prazo
DIAS_BUSCA_ATIVA = 15  # I14: school days without presence
MAX_AULAS_DIA_COMPONENTE = 2  # I9(b)
PONTOS_ANO = 100  # I10(c); 25 per bimestre
PONTOS_BIMESTRE = 25
IDADE_MAX_ACIMA = 5  # I4: too old when age >= E + 5
CAPACIDADE_PADRAO = {"AI": 30, "AF": 35, "EJA": 35, "default": 40}

PARAMS: dict[str, Any] = {
    "prazo_lancamento_dias": PRAZO_LANCAMENTO_DIAS,
    "dias_busca_ativa": DIAS_BUSCA_ATIVA,
    "max_aulas_dia_componente": MAX_AULAS_DIA_COMPONENTE,
    "pontos_ano": PONTOS_ANO,
    "idade_max_acima": IDADE_MAX_ACIMA,
    "capacidade_padrao": CAPACIDADE_PADRAO,
}

# Share of each rule's scanned population that is planted (the rule's "unit" in brackets).
# A rule with a rate > 0 gets at least MIN_PLANTS cases when the population allows.
DEFAULT_RATES: dict[str, float] = {
    "I1": 0.002,  # students with two active matrículas in two schools [active matrículas]
    "I2": 0.001,  # students with two active matrículas in one school [active matrículas]
    "I3": 0.003,  # active matrículas without turma [active matrículas]
    "I4": 0.003,  # too young / too old [matrículas in etapas with an expected age]
    "I5": 0.01,  # turmas over capacity [escolarização turmas]
    "I6": 0.002,  # turma x component without a teacher [turma x curriculum component]
    "I7": 0.0005,  # missing grade [matrícula x component x bimestre]
    "I8": 0.0005,  # missing attendance [matrícula x component x bimestre]
    "I9": 0.0005,  # impossible attendance [frequencia rows; (c): daily rows]
    "I10": 0.0005,  # impossible grades [nota rows; (c): matrícula x component]
    "I11": 0.001,  # two outcomes / falecido with another [students]
    "I12": 0.003,  # missing birth date, sex or municipality [active matrículas]
    "I13": 0.002,  # etapa differs from a TP_UNIFICADA = 0 turma's [active matrículas]
    "I14": 0.003,  # stopped coming [active enturmada matrículas]
}
RULES = tuple(DEFAULT_RATES)
MIN_PLANTS = 2


def capacidade_padrao(grupo: str) -> int:
    """The default capacity of a turma of an etapa group (I5, when NU_CAPACIDADE is empty)."""
    return CAPACIDADE_PADRAO.get(grupo, CAPACIDADE_PADRAO["default"])
