"""Identifiers and names: CNPJ/CPF with valid check digits, GO municipalities (real IBGE
codes), organ, unit and supplier names."""

from __future__ import annotations

import numpy as np

_W1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_W2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])


def _dv(s: np.ndarray) -> np.ndarray:
    r = s % 11
    return np.where(r < 2, 0, 11 - r)


def _digits(x: np.ndarray, n: int) -> np.ndarray:
    p = 10 ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return (np.asarray(x, dtype=np.int64)[:, None] // p) % 10


def cnpj_from_base(base12: np.ndarray) -> np.ndarray:
    """14-digit CNPJ strings from 12-digit bases (root 8 + branch 4)."""
    d = _digits(base12, 12)
    d1 = _dv((d * _W1).sum(axis=1))
    d2 = _dv((np.column_stack([d, d1]) * _W2).sum(axis=1))
    full = np.asarray(base12, dtype=np.int64) * 100 + d1 * 10 + d2
    return np.char.zfill(full.astype(str), 14).astype(object)


def cpf_from_base(base9: np.ndarray) -> np.ndarray:
    """11-digit CPF strings from 9-digit bases."""
    d = _digits(base9, 9)
    d1 = _dv((d * np.arange(10, 1, -1)).sum(axis=1))
    d2 = _dv((np.column_stack([d, d1]) * np.arange(11, 1, -1)).sum(axis=1))
    full = np.asarray(base9, dtype=np.int64) * 100 + d1 * 10 + d2
    return np.char.zfill(full.astype(str), 11).astype(object)


def unique_ints(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    """``n`` distinct integers in [lo, hi), in random order."""
    out = np.unique(rng.integers(lo, hi, size=int(n * 1.3) + 16))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(lo, hi, size=n)]))
    return rng.permutation(out)[:n]


def cnpj_ok(s: str) -> bool:
    """Scalar check of a CNPJ's check digits (for tests and asserts)."""
    if len(s) != 14 or not s.isdigit():
        return False
    d = [int(c) for c in s]
    return (
        int(_dv(np.array(sum(a * b for a, b in zip(d[:12], _W1, strict=True))))) == d[12]
        and int(_dv(np.array(sum(a * b for a, b in zip(d[:13], _W2, strict=True))))) == d[13]
    )


# (IBGE code, name) of GO municipalities; weights ~ population.
MUNICIPIOS_GO: tuple[tuple[str, str, float], ...] = (
    ("5208707", "Goiânia", 30),
    ("5201108", "Anápolis", 8),
    ("5201405", "Aparecida de Goiânia", 9),
    ("5218805", "Rio Verde", 5),
    ("5212501", "Luziânia", 4),
    ("5200258", "Águas Lindas de Goiás", 4),
    ("5221858", "Valparaíso de Goiás", 4),
    ("5221403", "Trindade", 3),
    ("5208004", "Formosa", 3),
    ("5205109", "Catalão", 2.5),
    ("5211503", "Itumbiara", 2.5),
    ("5211909", "Jataí", 2.5),
    ("5220454", "Senador Canedo", 3),
    ("5204508", "Caldas Novas", 2),
    ("5208608", "Goianésia", 1.5),
    ("5213103", "Mineiros", 1.5),
    ("5208905", "Goiás", 1),
    ("5218300", "Porangatu", 1),
    ("5210000", "Inhumas", 1.5),
    ("5217609", "Planaltina", 2),
)
BRASILIA = ("5300108", "Brasília")

STATE_ORGANS: tuple[tuple[str, str], ...] = (
    ("Secretaria de Estado da Saúde de Goiás", "E"),
    ("Secretaria de Estado da Educação de Goiás", "E"),
    ("Secretaria de Estado da Economia", "E"),
    ("Secretaria de Estado de Infraestrutura", "E"),
    ("Polícia Militar do Estado de Goiás", "E"),
    ("Corpo de Bombeiros Militar do Estado de Goiás", "E"),
    ("Departamento Estadual de Trânsito de Goiás - DETRAN/GO", "E"),
    ("Agência Goiana de Infraestrutura e Transportes - GOINFRA", "E"),
    ("Universidade Estadual de Goiás", "E"),
    ("Assembleia Legislativa do Estado de Goiás", "L"),
    ("Tribunal de Justiça do Estado de Goiás", "J"),
    ("Ministério Público do Estado de Goiás", "N"),
    ("Tribunal de Contas do Estado de Goiás", "L"),
    ("Secretaria de Estado de Desenvolvimento Social", "E"),
    ("Secretaria de Estado da Segurança Pública", "E"),
    ("Secretaria de Estado da Administração", "E"),
    ("Secretaria de Estado de Agricultura, Pecuária e Abastecimento", "E"),
    ("Secretaria de Estado de Cultura", "E"),
    ("Secretaria de Estado de Esporte e Lazer", "E"),
    ("Diretoria-Geral de Administração Penitenciária", "E"),
    ("Agência Goiana de Defesa Agropecuária - AGRODEFESA", "E"),
    ("Defensoria Pública do Estado de Goiás", "N"),
    ("Secretaria de Estado de Meio Ambiente e Desenvolvimento Sustentável", "E"),
    ("Instituto de Assistência dos Servidores Públicos - IPASGO", "E"),
    ("Goiás Previdência - GOIASPREV", "E"),
)
MUNICIPAL_KINDS: tuple[tuple[str, str], ...] = (
    ("Prefeitura Municipal de {m}", "E"),
    ("Fundo Municipal de Saúde de {m}", "E"),
    ("Câmara Municipal de {m}", "L"),
    ("Fundo Municipal de Educação de {m}", "E"),
    ("Instituto de Previdência dos Servidores de {m}", "E"),
    ("Fundo Municipal de Assistência Social de {m}", "E"),
)
CONSORCIOS = (
    "Consórcio Intermunicipal de Saúde da Região {m}",
    "Consórcio Público Intermunicipal de Infraestrutura {m}",
    "Consórcio Intermunicipal de Resíduos Sólidos {m}",
)
DF_ORGANS = (
    "Secretaria de Estado de Saúde do Distrito Federal",
    "Secretaria de Estado de Educação do Distrito Federal",
)
UNIT_NAMES = (
    "Gabinete",
    "Diretoria Administrativa e Financeira",
    "Superintendência de Compras e Contratos",
    "Fundo Especial",
    "Gerência de Licitações",
    "Hospital Regional",
    "Diretoria Regional",
    "Coordenação de Logística",
    "Almoxarifado Central",
    "Escola",
    "Unidade Descentralizada",
    "Núcleo de Manutenção",
)

FIRST = [
    "Maria",
    "José",
    "Ana",
    "Antônio",
    "Francisco",
    "Carlos",
    "Paulo",
    "Pedro",
    "Lucas",
    "Luiz",
    "Marcos",
    "Luís",
    "Gabriel",
    "Rafael",
    "Daniel",
    "Marcelo",
    "Bruno",
    "Eduardo",
    "Felipe",
    "Raimundo",
    "Rodrigo",
    "Juliana",
    "Márcia",
    "Fernanda",
    "Patrícia",
    "Aline",
    "Sandra",
    "Camila",
    "Amanda",
    "Bruna",
    "Jéssica",
    "Letícia",
    "Júlia",
    "Luciana",
    "Vanessa",
    "Mariana",
    "Gustavo",
    "Fábio",
    "Leandro",
    "Thiago",
    "Diego",
]
LAST = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
    "Cardoso",
    "Ramos",
    "Gonçalves",
    "Santana",
    "Teixeira",
    "Borges",
    "Moura",
    "Campos",
    "Rezende",
]
TRADE = (
    "Comércio de Materiais",
    "Distribuidora",
    "Serviços",
    "Construtora",
    "Engenharia",
    "Comércio e Serviços",
    "Tecnologia",
    "Alimentos",
    "Medicamentos",
    "Hospitalar",
    "Papelaria",
    "Auto Peças",
    "Transportes",
    "Locações",
    "Soluções",
    "Atacadista",
)
SUFFIX = ("Ltda", "LTDA", "EIRELI", "S.A.", "ME", "Ltda - EPP", "LTDA ME")


def supplier_names(rng: np.random.Generator, pj: np.ndarray) -> np.ndarray:
    """Company names for PJ rows, person names for the rest (vectorised)."""
    n = len(pj)
    first = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), n)]
    l1 = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    l2 = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    trade = np.array(TRADE, dtype=object)[rng.integers(0, len(TRADE), n)]
    suf = np.array(SUFFIX, dtype=object)[rng.integers(0, len(SUFFIX), n)]
    company = l1 + " " + trade + " " + suf
    person = first + " " + l1 + " " + l2
    upper = rng.random(n) < 0.4
    company = np.where(upper, np.char.upper(company.astype(str)).astype(object), company)
    return np.where(pj, company, person)
