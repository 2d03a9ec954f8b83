"""The daily SIMADE/DED dump's contract: files, columns, types, codes, keys and foreign keys.

SIMADE's real layout is not public; this follows INEP's Censo Escolar names and codes
(docs/school.md, "The dump"). The generator writes it, the ETL enforces it, docs/school.md
documents it; all three read this module, which imports nothing heavy.

Conventions of every file: ``;``-delimited, cp1252, a header row, CRLF line ends, decimal
comma, dates as ``dd/mm/yyyy``, an empty field for "no value". One zip a day,
``simade_AAAAMMDD.zip``, holds the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ENCODING = "cp1252"
DELIMITER = ";"
DATE_FORMAT = "%d/%m/%Y"
ZIP_PATTERN = re.compile(r"^simade_(\d{8})\.zip$")


def zip_name(day: date) -> str:
    return f"simade_{day:%Y%m%d}.zip"


def zip_date(name: str) -> date | None:
    """The dump date in a zip's file name, or None for any other name."""
    m = ZIP_PATTERN.match(name)
    if not m:
        return None
    try:
        return date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type the reader casts to ("DATE" reads dd/mm/yyyy, decimals a comma)
    required: bool = True  # an empty field is a bad row (not-null)
    codes: tuple[int, ...] | None = None  # allowed values (a code table); None = any
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    file: str  # the referenced file
    ref: tuple[str, ...]  # its key columns


@dataclass(frozen=True)
class FileContract:
    name: str  # e.g. "matricula.csv"
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    optional: bool = False  # a dump may leave it out
    description: str = ""

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".csv")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# ---- code tables (INEP, docs/school.md) ---------------------------------------------------
FLAG = (0, 1)
TP_DEPENDENCIA = {1: "Federal", 2: "Estadual", 3: "Municipal", 4: "Privada"}
TP_LOCALIZACAO = {1: "Urbana", 2: "Rural"}
TP_SITUACAO_FUNCIONAMENTO = {1: "Em atividade", 2: "Paralisada", 3: "Extinta", 4: "Extinta"}
TP_SEXO = {1: "Masculino", 2: "Feminino"}
TP_COR_RACA = {
    0: "Não declarada",
    1: "Branca",
    2: "Preta",
    3: "Parda",
    4: "Amarela",
    5: "Indígena",
}
TP_ZONA_RESIDENCIAL = {1: "Urbana", 2: "Rural"}
TP_MEDIACAO = {1: "Presencial", 2: "Semipresencial", 3: "EAD"}
TP_UNIFICADA = {0: "Não", 1: "Unificada", 2: "Multietapa", 3: "Multi", 4: "Correção de fluxo"}
TP_TIPO_ATENDIMENTO_TURMA = {1: "Escolarização", 2: "Atividade complementar", 3: "AEE"}
TP_TIPO_DOCENTE = {1: "Docente", 2: "Auxiliar", 3: "Intérprete de Libras", 4: "Tutor"}
# the matrícula's status (Educacenso's second stage): 7 while the year runs
TP_SITUACAO_ALUNO = {
    1: "Transferido",
    2: "Deixou de frequentar",
    3: "Falecido",
    4: "Reprovado",
    5: "Aprovado",
    6: "Aprovado concluinte",
    7: "Em andamento",
}
SITUACAO_ATIVA = 7
SITUACAO_TRANSFERIDO = 1
SITUACAO_FALECIDO = 3
SITUACOES_RESULTADO = (2, 4, 5, 6)  # a final outcome (abandono, reprovado, aprovado, concluinte)

# TP_ETAPA_ENSINO: INEP codes the state network offers, with their names
ETAPAS: dict[int, str] = {
    14: "EF 1º ano",
    15: "EF 2º ano",
    16: "EF 3º ano",
    17: "EF 4º ano",
    18: "EF 5º ano",
    19: "EF 6º ano",
    20: "EF 7º ano",
    21: "EF 8º ano",
    41: "EF 9º ano",
    25: "EM 1ª série",
    26: "EM 2ª série",
    27: "EM 3ª série",
    28: "EM 4ª série",
    29: "EM não seriado",
    30: "Técnico integrado 1ª série",
    31: "Técnico integrado 2ª série",
    32: "Técnico integrado 3ª série",
    33: "Técnico integrado 4ª série",
    34: "Técnico integrado não seriado",
    35: "Normal 1ª série",
    36: "Normal 2ª série",
    37: "Normal 3ª série",
    38: "Normal 4ª série",
    39: "Técnico concomitante",
    40: "Técnico subsequente",
    69: "EJA EF anos iniciais",
    70: "EJA EF anos finais",
    71: "EJA ensino médio",
}
# the etapa groups panels filter on, and their order
GRUPOS = ("AI", "AF", "EM", "INT", "NORMAL", "TEC", "EJA")
GRUPO_NOME = {
    "AI": "Anos iniciais",
    "AF": "Anos finais",
    "EM": "Ensino médio",
    "INT": "Técnico integrado",
    "NORMAL": "Normal (magistério)",
    "TEC": "Técnico",
    "EJA": "EJA",
}


def grupo(etapa: int) -> str:
    if 14 <= etapa <= 18:
        return "AI"
    if 19 <= etapa <= 21 or etapa == 41:
        return "AF"
    if 25 <= etapa <= 29:
        return "EM"
    if 30 <= etapa <= 34:
        return "INT"
    if 35 <= etapa <= 38:
        return "NORMAL"
    if etapa in (39, 40):
        return "TEC"
    if etapa in (69, 70, 71):
        return "EJA"
    raise KeyError(etapa)


# the etapas' order on a chart or in a table: as listed in ETAPAS (EF 9º ano after the 8º)
ETAPA_ORDER = {e: i for i, e in enumerate(ETAPAS)}

# The age bands of alunos.faixa_idade (etl/model.py), youngest first: (band, oldest age in
# it; None = no upper bound); a missing birth date is FAIXA_SEM_IDADE.
FAIXAS_LIMITE: tuple[tuple[str, int | None], ...] = (
    ("Até 5 anos", 5),
    ("6 a 10 anos", 10),
    ("11 a 14 anos", 14),
    ("15 a 17 anos", 17),
    ("18 a 24 anos", 24),
    ("25 anos ou mais", None),
)
FAIXA_SEM_IDADE = "Não informada"
FAIXAS_IDADE = (*(name for name, _ in FAIXAS_LIMITE), FAIXA_SEM_IDADE)

# Expected age by etapa (age-grade distortion, I4): the age a student completes in the
# school year when on track. Etapas without one (29, 34, 39, 40, EJA) have no TDI.
IDADE_ESPERADA: dict[int, int] = {
    14: 6,
    15: 7,
    16: 8,
    17: 9,
    18: 10,
    19: 11,
    20: 12,
    21: 13,
    41: 14,
    25: 15,
    26: 16,
    27: 17,
    28: 18,
    30: 15,
    31: 16,
    32: 17,
    33: 18,
    35: 15,
    36: 16,
    37: 17,
    38: 18,
}

# Components (CO_COMPONENTE), one per INEP IN_DISC_* flag the curriculum uses
COMPONENTES: dict[str, str] = {
    "LINGUA_PORTUGUESA": "Língua Portuguesa",
    "MATEMATICA": "Matemática",
    "CIENCIAS": "Ciências",
    "HISTORIA": "História",
    "GEOGRAFIA": "Geografia",
    "ARTES": "Artes",
    "EDUCACAO_FISICA": "Educação Física",
    "LINGUA_INGLES": "Língua Inglesa",
    "ENSINO_RELIGIOSO": "Ensino Religioso",
    "FISICA": "Física",
    "QUIMICA": "Química",
    "BIOLOGIA": "Biologia",
    "FILOSOFIA": "Filosofia",
    "SOCIOLOGIA": "Sociologia",
    "PROFISSIONALIZANTE": "Formação profissional",
    "PEDAGOGICAS": "Disciplinas pedagógicas",
}
_AI = (
    "LINGUA_PORTUGUESA",
    "MATEMATICA",
    "CIENCIAS",
    "HISTORIA",
    "GEOGRAFIA",
    "ARTES",
    "EDUCACAO_FISICA",
    "ENSINO_RELIGIOSO",
)
_AF = (*_AI, "LINGUA_INGLES")
_EM = (
    "LINGUA_PORTUGUESA",
    "MATEMATICA",
    "HISTORIA",
    "GEOGRAFIA",
    "ARTES",
    "EDUCACAO_FISICA",
    "LINGUA_INGLES",
    "FISICA",
    "QUIMICA",
    "BIOLOGIA",
    "FILOSOFIA",
    "SOCIOLOGIA",
)
# The curriculum: the components a turma of each etapa group has (AI 8, AF 9, EM 12, EJA 9).
# Grades, attendance and a linked teacher are expected for each (rules I6-I8).
CURRICULO: dict[str, tuple[str, ...]] = {
    "AI": _AI,
    "AF": _AF,
    "EM": _EM,
    "INT": (*_EM[:8], "PROFISSIONALIZANTE"),
    "NORMAL": (*_EM[:8], "PEDAGOGICAS"),
    "TEC": ("PROFISSIONALIZANTE",),
    "EJA": _AF,
}

# The 47 regional offices (Superintendências Regionais de Ensino), CO_SRE 1-47 in this order.
SRES: tuple[str, ...] = (
    "Almenara",
    "Araçuaí",
    "Barbacena",
    "Campo Belo",
    "Carangola",
    "Caratinga",
    "Caxambu",
    "Conselheiro Lafaiete",
    "Coronel Fabriciano",
    "Curvelo",
    "Diamantina",
    "Divinópolis",
    "Governador Valadares",
    "Guanhães",
    "Itajubá",
    "Ituiutaba",
    "Janaúba",
    "Januária",
    "Juiz de Fora",
    "Leopoldina",
    "Manhuaçu",
    "Metropolitana A",
    "Metropolitana B",
    "Metropolitana C",
    "Monte Carmelo",
    "Montes Claros",
    "Muriaé",
    "Nova Era",
    "Ouro Preto",
    "Pará de Minas",
    "Paracatu",
    "Passos",
    "Patos de Minas",
    "Patrocínio",
    "Pirapora",
    "Poços de Caldas",
    "Ponte Nova",
    "Pouso Alegre",
    "São João del-Rei",
    "São Sebastião do Paraíso",
    "Sete Lagoas",
    "Teófilo Otoni",
    "Ubá",
    "Uberaba",
    "Uberlândia",
    "Unaí",
    "Varginha",
)

_E = tuple(sorted(ETAPAS))


def _c(name: str, type_: str = "INTEGER", **kw: object) -> Column:
    return Column(name, type_, **kw)  # type: ignore[arg-type]


FILES: dict[str, FileContract] = {
    f.name: f
    for f in (
        FileContract(
            "escola.csv",
            (
                _c("CO_ENTIDADE", "BIGINT", low=10_000_000, high=99_999_999),
                _c("NO_ENTIDADE", "VARCHAR"),
                _c("CO_ORGAO_REGIONAL", "VARCHAR"),
                _c("CO_SRE", low=1, high=47),
                _c("NO_SRE", "VARCHAR"),
                _c("CO_MUNICIPIO", low=1_000_000, high=9_999_999),
                _c("NO_MUNICIPIO", "VARCHAR"),
                _c("CO_UF", low=11, high=53),
                _c("TP_DEPENDENCIA", codes=tuple(TP_DEPENDENCIA)),
                _c("TP_LOCALIZACAO", codes=tuple(TP_LOCALIZACAO)),
                _c("TP_SITUACAO_FUNCIONAMENTO", codes=tuple(TP_SITUACAO_FUNCIONAMENTO)),
            ),
            key=("CO_ENTIDADE",),
            description="one row per school of the network",
        ),
        FileContract(
            "turma.csv",
            (
                _c("ID_TURMA", "BIGINT"),
                _c("CO_ENTIDADE", "BIGINT"),
                _c("NO_TURMA", "VARCHAR"),
                _c("NU_ANO_LETIVO", low=2000, high=2100),
                # empty for atividade complementar and AEE turmas
                _c("TP_ETAPA_ENSINO", required=False, codes=_E),
                _c("TP_UNIFICADA", codes=tuple(TP_UNIFICADA)),
                _c("TX_HR_INICIAL", low=0, high=23),
                _c("TX_MINUTO_INICIAL", low=0, high=59),
                _c("NU_DURACAO_TURMA", low=1, high=1440),
                _c("NU_DIAS_ATIVIDADE", low=1, high=7),
                _c("TP_MEDIACAO_DIDATICO_PEDAGO", codes=tuple(TP_MEDIACAO)),
                _c("TP_TIPO_ATENDIMENTO_TURMA", codes=tuple(TP_TIPO_ATENDIMENTO_TURMA)),
                _c("IN_REGULAR", codes=FLAG),
                _c("IN_EJA", codes=FLAG),
                _c("IN_PROFISSIONALIZANTE", codes=FLAG),
                _c("IN_ESPECIAL_EXCLUSIVA", codes=FLAG),
                _c("NU_CAPACIDADE", required=False, low=1, high=200),
            ),
            key=("ID_TURMA",),
            foreign_keys=(ForeignKey(("CO_ENTIDADE",), "escola.csv", ("CO_ENTIDADE",)),),
            description="one row per class (turma) of the school year",
        ),
        FileContract(
            "aluno.csv",
            (
                _c("CO_PESSOA_FISICA", "BIGINT", low=100_000_000_000, high=999_999_999_999),
                _c("NO_ALUNO", "VARCHAR"),
                _c("DT_NASCIMENTO", "DATE", required=False),  # missing: rule I12
                _c("TP_SEXO", required=False, codes=tuple(TP_SEXO)),  # missing: rule I12
                _c("TP_COR_RACA", codes=tuple(TP_COR_RACA)),
                _c("IN_NECESSIDADE_ESPECIAL", codes=FLAG),
                _c("CO_MUNICIPIO_END", required=False, low=1_000_000, high=9_999_999),  # I12
                _c("TP_ZONA_RESIDENCIAL", required=False, codes=tuple(TP_ZONA_RESIDENCIAL)),
            ),
            key=("CO_PESSOA_FISICA",),
            description="one row per student with a matrícula this year",
        ),
        FileContract(
            "matricula.csv",
            (
                _c("ID_MATRICULA", "BIGINT"),
                _c("CO_PESSOA_FISICA", "BIGINT"),
                _c("ID_TURMA", "BIGINT", required=False),  # empty: not enturmado (rule I3)
                _c("CO_ENTIDADE", "BIGINT"),
                _c("TP_ETAPA_ENSINO", codes=_E),
                _c("DT_MATRICULA", "DATE"),
                _c("DT_ENCERRAMENTO", "DATE", required=False),  # empty while active
                _c("TP_SITUACAO_ALUNO", codes=tuple(TP_SITUACAO_ALUNO)),
                _c("IN_TRANSFERIDO", codes=FLAG),
                _c("IN_CONCLUINTE", codes=FLAG),
            ),
            key=("ID_MATRICULA",),
            foreign_keys=(
                ForeignKey(("CO_PESSOA_FISICA",), "aluno.csv", ("CO_PESSOA_FISICA",)),
                ForeignKey(("ID_TURMA",), "turma.csv", ("ID_TURMA",)),
                ForeignKey(("CO_ENTIDADE",), "escola.csv", ("CO_ENTIDADE",)),
            ),
            description="one row per enrolment (a student may have several: transfers)",
        ),
        FileContract(
            "nota.csv",
            (
                _c("ID_MATRICULA", "BIGINT"),
                _c("CO_COMPONENTE", "VARCHAR"),
                _c("NU_BIMESTRE", low=1, high=4),
                _c("VL_PONTOS_DISTRIBUIDOS", "DECIMAL(5,1)", low=0, high=100),
                _c("VL_NOTA", "DECIMAL(5,1)", required=False),  # empty: not yet recorded
                _c("VL_NOTA_RECUPERACAO", "DECIMAL(5,1)", required=False),
                _c("DT_FECHAMENTO", "DATE", required=False),
            ),
            key=("ID_MATRICULA", "CO_COMPONENTE", "NU_BIMESTRE"),
            foreign_keys=(ForeignKey(("ID_MATRICULA",), "matricula.csv", ("ID_MATRICULA",)),),
            description="grades per matrícula, component and bimestre (DED, migrated nightly)",
        ),
        FileContract(
            "frequencia.csv",
            (
                _c("ID_MATRICULA", "BIGINT"),
                _c("CO_COMPONENTE", "VARCHAR"),
                _c("NU_BIMESTRE", low=1, high=4),
                _c("QT_AULAS_DADAS", low=0, high=1000),
                _c("QT_FALTAS", low=0, high=1000),
                _c("DT_FECHAMENTO", "DATE", required=False),
            ),
            key=("ID_MATRICULA", "CO_COMPONENTE", "NU_BIMESTRE"),
            foreign_keys=(ForeignKey(("ID_MATRICULA",), "matricula.csv", ("ID_MATRICULA",)),),
            description="classes given and absences per matrícula, component and bimestre",
        ),
        FileContract(
            "frequencia_diaria.csv",
            (
                _c("ID_MATRICULA", "BIGINT"),
                _c("DT_AULA", "DATE"),
                _c("QT_AULAS_PREVISTAS", low=0, high=20),
                _c("QT_FALTAS", low=0, high=20),
            ),
            key=("ID_MATRICULA", "DT_AULA"),
            foreign_keys=(ForeignKey(("ID_MATRICULA",), "matricula.csv", ("ID_MATRICULA",)),),
            description="the previous school day's attendance, one row per active matrícula",
        ),
        FileContract(
            "calendario.csv",
            (
                _c("NU_ANO_LETIVO", low=2000, high=2100),
                _c("NU_BIMESTRE", low=1, high=4),
                _c("DT_INICIO", "DATE"),
                _c("DT_FIM", "DATE"),
                _c("QT_DIAS_LETIVOS", low=1, high=100),
            ),
            key=("NU_ANO_LETIVO", "NU_BIMESTRE"),
            description="the school year's bimestres (SEE's yearly portaria)",
        ),
        FileContract(
            "docente_turma.csv",
            (
                _c("CO_PESSOA_FISICA", "BIGINT"),
                _c("ID_TURMA", "BIGINT"),
                _c("CO_COMPONENTE", "VARCHAR"),
                _c("TP_TIPO_DOCENTE", codes=tuple(TP_TIPO_DOCENTE)),
            ),
            key=("ID_TURMA", "CO_COMPONENTE", "CO_PESSOA_FISICA"),
            foreign_keys=(ForeignKey(("ID_TURMA",), "turma.csv", ("ID_TURMA",)),),
            optional=True,
            description="teachers linked to a turma and component (optional file)",
        ),
    )
}
# The inconsistency rules (docs/school.md, "Inconsistency rules"), as the panels name them.
RULE_NAMES = {
    "I1": "Matrícula ativa duplicada em outra escola",
    "I2": "Matrícula ativa duplicada na mesma escola",
    "I3": "Matrícula ativa sem enturmação",
    "I4": "Idade incompatível com a etapa",
    "I5": "Turma acima da capacidade",
    "I6": "Componente sem professor vinculado",
    "I7": "Nota não lançada",
    "I8": "Frequência não lançada",
    "I9": "Frequência impossível",
    "I10": "Nota impossível",
    "I11": "Situação final conflitante",
    "I12": "Cadastro do aluno incompleto",
    "I13": "Etapa da matrícula diferente da turma",
    "I14": "Sem presença há muitos dias (Busca Ativa)",
}

# load order: referenced files first
LOAD_ORDER = tuple(FILES)
COMPONENT_COLUMNS = {"CO_COMPONENTE"}  # their values must be a key of COMPONENTES
