"""Synthetic pt-BR names: municipalities, schools, students, turmas.

Every name encodes in cp1252; a share of them holds the bytes 0x80-0x9F that break a latin-1
reader (– “ ” ’), and most hold accented letters. No name holds ``;``, ``"`` or a line break,
so no CSV field needs quoting.
"""

from __future__ import annotations

import numpy as np

FIRST_F = (
    "Maria",
    "Ana",
    "Júlia",
    "Luíza",
    "Beatriz",
    "Vitória",
    "Conceição",
    "Letícia",
    "Inês",
    "Ângela",
    "Érica",
    "Lívia",
    "Sofia",
    "Helena",
    "Alice",
    "Cecília",
    "Larissa",
    "Bárbara",
    "Fernanda",
    "Patrícia",
    "Mônica",
    "Lúcia",
    "Gabriela",
    "Camila",
    "Débora",
    "Tânia",
    "Rosângela",
    "Aparecida",
    "Isabela",
    "Lorena",
    "Natália",
    "Valéria",
    "Yasmin",
    "Raíssa",
    "Quitéria",
    "Jéssica",
    "Sônia",
    "Glória",
    "Eduarda",
    "Amália",
)
FIRST_M = (
    "João",
    "José",
    "Pedro",
    "Lucas",
    "Gabriel",
    "Matheus",
    "Rafael",
    "Gonçalo",
    "Sebastião",
    "Otávio",
    "Ítalo",
    "Antônio",
    "Luís",
    "Vinícius",
    "Caio",
    "Túlio",
    "Márcio",
    "Flávio",
    "Sérgio",
    "Cláudio",
    "Rogério",
    "Emanuel",
    "Davi",
    "Heitor",
    "Théo",
    "Benício",
    "Joaquim",
    "Miguel",
    "Arthur",
    "Bernardo",
    "Henrique",
    "Lázaro",
    "Inácio",
    "Raí",
    "Ênio",
    "Fábio",
    "André",
    "Estêvão",
    "Tomás",
    "Augusto",
)
SURNAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Costa",
    "Rodrigues",
    "Almeida",
    "Nascimento",
    "Lima",
    "Araújo",
    "Fernandes",
    "Carvalho",
    "Gomes",
    "Martins",
    "Rocha",
    "Ribeiro",
    "Alves",
    "Monteiro",
    "Mendes",
    "Barros",
    "Freitas",
    "Barbosa",
    "Pinto",
    "Moura",
    "Cavalcanti",
    "Dias",
    "Castro",
    "Campos",
    "Cardoso",
    "Gonçalves",
    "Conceição",
    "Magalhães",
    "Simões",
    "Assunção",
    "Brandão",
    "Falcão",
    "Guimarães",
    "Patrício",
    "Romão",
    "Estêvão",
    "Leão",
    "Anunciação",
    "Ribeirão",
    "Jesus",
    "Teixeira",
    "Vieira",
    "Lopes",
    "Matos",
    "Queiroz",
)
APOSTROPHE_SURNAMES = ("D’Ávila", "D’Angelo", "D’Assunção", "Sant’Anna", "D’Almeida")
NICKNAMES = (
    "Zeca",
    "Tião",
    "Juca",
    "Nenê",
    "Dudu",
    "Bia",
    "Lulu",
    "Tatá",
    "Cacá",
    "Zé",
    "Mané",
    "Preta",
    "Dinho",
    "Neném",
    "Quinzinho",
)
CONNECTORS = ("da", "de", "dos", "das", "do")

_SAINTS = (
    "São João",
    "Santa Rita",
    "São José",
    "Santo Antônio",
    "Conceição",
    "Nossa Senhora",
    "Bom Jesus",
    "Espírito Santo",
    "Santa Bárbara",
    "São Sebastião",
    "Divino",
    "Santana",
    "São Gonçalo",
    "São Tomé",
    "Santa Luzia",
    "São Francisco",
    "São Geraldo",
    "Senhora",
    "São Pedro",
    "Santa Maria",
    "São Vicente",
    "Santa Cruz",
    "São Domingos",
    "São Brás",
)
_PLACES = (
    "Rio Pardo",
    "Serra",
    "Campo Alegre",
    "Paraíso",
    "Itambé",
    "Jequitinhonha",
    "Sapucaí",
    "Mucuri",
    "Pará",
    "Turvo",
    "Abaeté",
    "Paraopeba",
    "Araguari",
    "Ouro Fino",
    "Pedra Azul",
    "Mato Dentro",
    "Rio Doce",
    "Glória",
    "Cachoeira",
    "Monte Alto",
    "Boa Vista",
    "Jacuí",
    "Piranga",
    "Manhuaçu",
    "Capelinha",
    "Bicas",
    "Lajeado",
    "Barreiro",
    "Cerrado",
    "Anta",
    "Aiuruoca",
    "Caratinga",
    "Suaçuí",
    "Paracatu",
    "Urucuia",
    "Itacambira",
    "Guarani",
)
_ADJ_A = ("Nova", "Boa", "Bela", "Alta", "Santa", "Grande")
_ADJ_B = ("Esperança", "Vista", "Era", "União", "Aliança", "Floresta", "Lagoa", "Palmeira")
_SYL = (
    "ita",
    "pe",
    "ba",
    "cu",
    "ru",
    "ti",
    "ja",
    "ra",
    "ní",
    "lu",
    "ca",
    "tu",
    "bi",
    "ma",
    "na",
    "quá",
    "gua",
    "po",
    "ran",
    "ju",
    "iú",
    "bo",
    "ta",
    "ó",
)

_PATRONS = (
    "Professora Maria Amália",
    "Professor José Inácio",
    "Dom Pedro II",
    "Afonso Pena",
    "Tiradentes",
    "Juscelino Kubitschek",
    "Doutor Lund",
    "Padre Cícero",
    "Cônego Lafayette",
    "Princesa Isabel",
    "Marília de Dirceu",
    "Santos Dumont",
    "Monsenhor Horta",
    "Professora Helena Antipoff",
    "Cecília Meireles",
    "Guimarães Rosa",
    "Carlos Drummond",
    "Coronel Fabriciano",
    "Desembargador Guimarães",
    "Irmã Dulce",
    "Madre Paulina",
    "Mestre Ataíde",
    "Aleijadinho",
    "Chico Rei",
    "Bárbara Heliodora",
    "Zumbi dos Palmares",
    "Milton Campos",
    "Israel Pinheiro",
    "Bueno Brandão",
    "Teófilo Ottoni",
)
_SCHOOL_SUFFIX = ("Unidade II", "Anexo", "Centro", "Zona Rural", "Polo", "Ensino Médio")


def municipalities(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct plausible municipality names."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        kind = rng.integers(0, 4)
        if kind == 0:
            name = (
                f"{_SAINTS[rng.integers(len(_SAINTS))]} "
                f"{CONNECTORS[rng.integers(len(CONNECTORS))]} {_PLACES[rng.integers(len(_PLACES))]}"
            )
        elif kind == 1:
            name = f"{_ADJ_A[rng.integers(len(_ADJ_A))]} {_ADJ_B[rng.integers(len(_ADJ_B))]}"
            if rng.random() < 0.6:
                name += f" {CONNECTORS[rng.integers(len(CONNECTORS))]} {_PLACES[rng.integers(len(_PLACES))]}"
        else:
            k = int(rng.integers(2, 5))
            word = "".join(_SYL[i] for i in rng.integers(0, len(_SYL), k))
            name = word[:1].upper() + word[1:]
            if rng.random() < 0.25:
                name += " de Minas"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def schools(rng: np.random.Generator, n: int) -> list[str]:
    """School names ("E.E. ..."), about a third with – or “ ”."""
    out = []
    for i in range(n):
        patron = _PATRONS[rng.integers(len(_PATRONS))]
        r = rng.random()
        if r < 0.2:
            name = f"Escola Estadual “{patron}”"
        elif r < 0.4:
            name = f"E.E. {patron} – {_SCHOOL_SUFFIX[rng.integers(len(_SCHOOL_SUFFIX))]}"
        else:
            name = f"E.E. {patron}"
        out.append(f"{name} ({i + 1})" if rng.random() < 0.05 else name)
    return out


def _pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]


def students(rng: np.random.Generator, sexo: np.ndarray) -> np.ndarray:
    """A full name per student (object array); ~3 % with a nickname in “ ”, ~1 % with ’."""
    n = len(sexo)
    first = np.where(sexo == 2, _pick(rng, FIRST_F, n), _pick(rng, FIRST_M, n))
    s1 = _pick(rng, SURNAMES, n)
    s2 = _pick(rng, SURNAMES, n)
    conn = _pick(rng, CONNECTORS[:3], n)
    apos = rng.random(n) < 0.01
    s2 = np.where(apos, _pick(rng, APOSTROPHE_SURNAMES, n), s2)
    nick = rng.random(n) < 0.03
    nick_txt = np.where(nick, "“" + _pick(rng, NICKNAMES, n) + "” ", "")
    with_conn = rng.random(n) < 0.3
    middle = np.where(with_conn, conn + " ", "")
    out: np.ndarray = first + " " + nick_txt + s1 + " " + middle + s2
    return out


def turma_name(etapa: int | None, letter: str, tipo: int, extra: str = "") -> str:
    """A turma's name: "6º ano B", "1ª série EM – noite", "AEE – Sala de recursos"."""
    if tipo == 3:
        return f"AEE – Sala de recursos {letter}"
    if tipo == 2:
        return (
            f"Atividade complementar – {('Xadrez', 'Coral', 'Robótica', 'Horta')[ord(letter) % 4]}"
        )
    assert etapa is not None
    if 14 <= etapa <= 18 or 19 <= etapa <= 21:
        base = f"{etapa - 13}º ano {letter}"
    elif etapa == 41:
        base = f"9º ano {letter}"
    elif 25 <= etapa <= 28:
        base = f"{etapa - 24}ª série EM {letter}"
    elif etapa == 29:
        base = f"EM não seriado {letter}"
    elif 30 <= etapa <= 34:
        base = f"Técnico integrado {etapa - 29}ª série {letter}"
    elif 35 <= etapa <= 38:
        base = f"Normal {etapa - 34}ª série {letter}"
    elif etapa in (39, 40):
        base = f"Técnico {'concomitante' if etapa == 39 else 'subsequente'} {letter}"
    else:
        base = f"EJA {('anos iniciais', 'anos finais', 'ensino médio')[etapa - 69]} {letter}"
    return f"{base} – {extra}" if extra else base
