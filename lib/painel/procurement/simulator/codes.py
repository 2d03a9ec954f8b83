"""PNCP's domain tables (Manual das APIs de Consultas PNCP v1.0 §5), as the simulator names codes.

The live ``/v1/amparos-legais`` has ~180 codes; :data:`AMPAROS` holds the ones of Lei
14.133/2021 art. 28, 74 and 75 the suite reads, with the names PNCP gives them
("Lei 14.133/2021, Art. 75, II"). Everything here is plain data.
"""

from __future__ import annotations

MODALIDADES: dict[int, str] = {
    1: "Leilão - Eletrônico",
    2: "Diálogo Competitivo",
    3: "Concurso",
    4: "Concorrência - Eletrônica",
    5: "Concorrência - Presencial",
    6: "Pregão - Eletrônico",
    7: "Pregão - Presencial",
    8: "Dispensa",
    9: "Inexigibilidade",
    10: "Manifestação de Interesse",
    11: "Pré-qualificação",
    12: "Credenciamento",
    13: "Leilão - Presencial",
}

INSTRUMENTOS: dict[int, str] = {
    1: "Edital",
    2: "Aviso de Contratação Direta",
    3: "Ato que autoriza a Contratação Direta",
}

MODOS_DISPUTA: dict[int, str] = {
    1: "Aberto",
    2: "Fechado",
    3: "Aberto-Fechado",
    4: "Dispensa Com Disputa",
    5: "Não se aplica",
    6: "Fechado-Aberto",
}

CRITERIOS_JULGAMENTO: dict[int, str] = {
    1: "Menor preço",
    2: "Maior desconto",
    4: "Técnica e preço",
    5: "Maior lance",
    6: "Maior retorno econômico",
    7: "Não se aplica",
    8: "Melhor técnica",
    9: "Conteúdo artístico",
}

SITUACOES_COMPRA: dict[int, str] = {
    1: "Divulgada no PNCP",
    2: "Revogada",
    3: "Anulada",
    4: "Suspensa",
}

SITUACOES_ITEM: dict[int, str] = {
    1: "Em Andamento",
    2: "Homologado",
    3: "Anulado/Revogado/Cancelado",
    4: "Deserto",
    5: "Fracassado",
}

SITUACOES_RESULTADO: dict[int, str] = {1: "Informado", 2: "Cancelado"}

PORTES: dict[int, str] = {
    1: "ME",
    2: "EPP",
    3: "Demais",
    4: "Não se aplica",
    5: "Não informado",
}

TIPOS_CONTRATO: dict[int, str] = {
    1: "Contrato (termo inicial)",
    2: "Comodato",
    3: "Arrendamento",
    4: "Concessão",
    5: "Termo de Adesão",
    6: "Convênio",
    7: "Empenho",
    8: "Outros",
    9: "Termo de Execução Descentralizada (TED)",
    10: "Acordo de Cooperação Técnica (ACT)",
    11: "Termo de Compromisso",
    12: "Carta Contrato",
}

TIPOS_TERMO: dict[int, str] = {
    1: "Termo de Rescisão",
    2: "Termo Aditivo",
    3: "Termo de Apostilamento",
}

# catalogo{id, nome} of an item (PNCP's "catálogo" domain)
CATALOGOS: dict[int, str] = {1: "Catálogo do Compras.gov.br", 2: "Outros"}

MATERIAL_OU_SERVICO: dict[str, str] = {"M": "Material", "S": "Serviço"}

UFS: dict[str, str] = {
    "AC": "Acre",
    "AL": "Alagoas",
    "AM": "Amazonas",
    "AP": "Amapá",
    "BA": "Bahia",
    "CE": "Ceará",
    "DF": "Distrito Federal",
    "ES": "Espírito Santo",
    "GO": "Goiás",
    "MA": "Maranhão",
    "MG": "Minas Gerais",
    "MS": "Mato Grosso do Sul",
    "MT": "Mato Grosso",
    "PA": "Pará",
    "PB": "Paraíba",
    "PE": "Pernambuco",
    "PI": "Piauí",
    "PR": "Paraná",
    "RJ": "Rio de Janeiro",
    "RN": "Rio Grande do Norte",
    "RO": "Rondônia",
    "RR": "Roraima",
    "RS": "Rio Grande do Sul",
    "SC": "Santa Catarina",
    "SE": "Sergipe",
    "SP": "São Paulo",
    "TO": "Tocantins",
}


def _amparos() -> dict[int, tuple[str, str]]:
    """code -> (nome, descricao): art. 28 I-V (1-5), art. 74 (6-17, 50), art. 75 (18-39)."""
    law = "Lei 14.133/2021"
    out: dict[int, tuple[str, str]] = {}
    for code, (inciso, what) in enumerate(
        [
            ("I", "pregão"),
            ("II", "concorrência"),
            ("III", "concurso"),
            ("IV", "leilão"),
            ("V", "diálogo competitivo"),
        ],
        start=1,
    ):
        out[code] = (f"{law}, Art. 28, {inciso}", what)
    art74 = ["I", "II", "III, a", "III, b", "III, c", "III, d", "III, e", "III, f", "III, g"]
    art74 += ["III, h", "IV", "V"]
    for code, inciso in enumerate(art74, start=6):
        out[code] = (f"{law}, Art. 74, {inciso}", "inexigibilidade de licitação")
    art75 = ["I", "II", "III, a", "III, b"]
    art75 += [f"IV, {c}" for c in "abcdefghijklm"]
    art75 += ["V", "VI", "VII", "VIII", "IX"]
    for code, inciso in enumerate(art75, start=18):
        what = "dispensa de licitação"
        if inciso == "I":
            what += ": obras, serviços de engenharia e manutenção de veículos automotores"
        elif inciso == "II":
            what += ": outros serviços e compras"
        elif inciso == "VIII":
            what += ": emergência ou calamidade pública"
        out[code] = (f"{law}, Art. 75, {inciso}", what)
    out[50] = (f"{law}, Art. 74, caput", "inexigibilidade de licitação")
    return dict(sorted(out.items()))


AMPAROS: dict[int, tuple[str, str]] = _amparos()
