"""PNCP's JSON records → the landing's rows (snake_case, :data:`painel.procurement.world.DDL`).

The inverse of the simulator's shapes (``painel.procurement.simulator.server``), which follow
PNCP's live payloads. A record missing a field the landing needs raises :class:`RecordError`
naming the record and the field: a malformed record stops the window, it is never half-kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


class RecordError(ValueError):
    """A PNCP record without a field the landing needs, or with one of the wrong type."""


def _req(rec: dict[str, Any], key: str, what: str) -> Any:
    value = rec.get(key)
    if value is None:
        raise RecordError(f"{what}: field {key!r} is missing")
    return value


def _ts(value: Any, what: str, key: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        text = str(value)
        return (
            datetime.fromisoformat(text[:19]) if "T" in text else datetime.fromisoformat(text[:10])
        )
    except ValueError:
        raise RecordError(f"{what}: field {key!r} is not a date: {value!r}") from None


def _date(value: Any, what: str, key: str) -> date | None:
    ts = _ts(value, what, key)
    return ts.date() if ts else None


def _num(value: Any, what: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{what}: field {key!r} is not a number: {value!r}")
    return float(value)


def _orgao(rec: dict[str, Any], what: str) -> dict[str, Any]:
    o = _req(rec, "orgaoEntidade", what)
    return {
        "cnpj": _req(o, "cnpj", what + " orgaoEntidade"),
        "razao_social": o.get("razaoSocial") or "",
        "poder_id": o.get("poderId") or "",
        "esfera_id": o.get("esferaId") or "",
    }


def _unidade(rec: dict[str, Any], cnpj: str, what: str) -> dict[str, Any]:
    u = _req(rec, "unidadeOrgao", what)
    return {
        "cnpj": cnpj,
        "codigo_unidade": str(_req(u, "codigoUnidade", what + " unidadeOrgao")),
        "nome_unidade": u.get("nomeUnidade") or "",
        "codigo_ibge": str(u.get("codigoIbge") or ""),
        "municipio_nome": u.get("municipioNome") or "",
        "uf_sigla": u.get("ufSigla") or "",
    }


def contratacao(rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(contratação row, orgão row, unidade row)."""
    numero = rec.get("numeroControlePNCP")
    what = f"contratação {numero or '(sem numeroControlePNCP)'}"
    if not numero:
        raise RecordError(f"{what}: field 'numeroControlePNCP' is missing")
    orgao = _orgao(rec, what)
    unidade = _unidade(rec, orgao["cnpj"], what)
    amparo = _req(rec, "amparoLegal", what)
    row = {
        "numero_controle_pncp": numero,
        "cnpj": orgao["cnpj"],
        "codigo_unidade": unidade["codigo_unidade"],
        "ano_compra": int(_req(rec, "anoCompra", what)),
        "sequencial_compra": int(_req(rec, "sequencialCompra", what)),
        "numero_compra": str(rec.get("numeroCompra") or ""),
        "processo": str(rec.get("processo") or ""),
        "modalidade_id": int(_req(rec, "modalidadeId", what)),
        "tipo_instrumento_id": int(
            rec.get("tipoInstrumentoConvocatorioCodigo")
            or rec.get("tipoInstrumentoConvocatorioId")
            or 0
        ),
        "modo_disputa_id": int(rec.get("modoDisputaId") or 0),
        "situacao_compra_id": int(_req(rec, "situacaoCompraId", what)),
        "amparo_legal_codigo": int(_req(amparo, "codigo", what + " amparoLegal")),
        "srp": bool(rec.get("srp")),
        "objeto_compra": rec.get("objetoCompra") or "",
        "informacao_complementar": rec.get("informacaoComplementar"),
        "valor_total_estimado": _num(
            rec.get("valorTotalEstimado") or 0, what, "valorTotalEstimado"
        ),
        "valor_total_homologado": _num(
            rec.get("valorTotalHomologado"), what, "valorTotalHomologado"
        ),
        "data_publicacao_pncp": _ts(
            _req(rec, "dataPublicacaoPncp", what), what, "dataPublicacaoPncp"
        ),
        "data_abertura_proposta": _ts(
            rec.get("dataAberturaProposta"), what, "dataAberturaProposta"
        ),
        "data_encerramento_proposta": _ts(
            rec.get("dataEncerramentoProposta"), what, "dataEncerramentoProposta"
        ),
        "data_inclusao": _ts(
            rec.get("dataInclusao") or rec.get("dataPublicacaoPncp"), what, "dataInclusao"
        ),
        "data_atualizacao": _ts(
            rec.get("dataAtualizacao") or rec.get("dataPublicacaoPncp"), what, "dataAtualizacao"
        ),
        "data_atualizacao_global": _ts(
            rec.get("dataAtualizacaoGlobal")
            or rec.get("dataAtualizacao")
            or rec.get("dataPublicacaoPncp"),
            what,
            "dataAtualizacaoGlobal",
        ),
        "link_sistema_origem": rec.get("linkSistemaOrigem"),
    }
    return row, orgao, unidade


def item(numero: str, rec: dict[str, Any]) -> dict[str, Any]:
    what = f"item {rec.get('numeroItem')} of {numero}"
    catalogo = rec.get("catalogo")
    return {
        "numero_controle_pncp": numero,
        "numero_item": int(_req(rec, "numeroItem", what)),
        "material_ou_servico": rec.get("materialOuServico") or "",
        "descricao": rec.get("descricao") or "",
        "quantidade": _num(rec.get("quantidade") or 0, what, "quantidade"),
        "unidade_medida": rec.get("unidadeMedida") or "",
        "valor_unitario_estimado": _num(
            rec.get("valorUnitarioEstimado") or 0, what, "valorUnitarioEstimado"
        ),
        "valor_total": _num(rec.get("valorTotal") or 0, what, "valorTotal"),
        "criterio_julgamento_id": int(rec.get("criterioJulgamentoId") or 0),
        "situacao_compra_item_id": int(
            rec.get("situacaoCompraItem") or rec.get("situacaoCompraItemId") or 0
        ),
        "tem_resultado": bool(rec.get("temResultado")),
        "catalogo_id": (catalogo or {}).get("id") if isinstance(catalogo, dict) else None,
        "catalogo_codigo_item": (
            str(rec["catalogoCodigoItem"]) if rec.get("catalogoCodigoItem") is not None else None
        ),
        "data_inclusao": _ts(rec.get("dataInclusao"), what, "dataInclusao"),
        "data_atualizacao": _ts(
            rec.get("dataAtualizacao") or rec.get("dataInclusao"), what, "dataAtualizacao"
        ),
    }


def resultado(numero: str, numero_item: int, rec: dict[str, Any]) -> dict[str, Any]:
    what = f"resultado of item {numero_item} of {numero}"
    return {
        "numero_controle_pncp": numero,
        "numero_item": numero_item,
        "sequencial_resultado": int(_req(rec, "sequencialResultado", what)),
        "ni_fornecedor": str(_req(rec, "niFornecedor", what)),
        "tipo_pessoa": rec.get("tipoPessoa") or "",
        "nome_razao_social_fornecedor": rec.get("nomeRazaoSocialFornecedor") or "",
        "porte_fornecedor_id": int(rec.get("porteFornecedorId") or 5),
        "quantidade_homologada": _num(
            rec.get("quantidadeHomologada") or 0, what, "quantidadeHomologada"
        ),
        "valor_unitario_homologado": _num(
            rec.get("valorUnitarioHomologado") or 0, what, "valorUnitarioHomologado"
        ),
        "valor_total_homologado": _num(
            rec.get("valorTotalHomologado") or 0, what, "valorTotalHomologado"
        ),
        "percentual_desconto": _num(rec.get("percentualDesconto"), what, "percentualDesconto"),
        "ordem_classificacao_srp": rec.get("ordemClassificacaoSrp"),
        "situacao_compra_item_resultado_id": int(rec.get("situacaoCompraItemResultadoId") or 1),
        "data_resultado": _ts(_req(rec, "dataResultado", what), what, "dataResultado"),
        "data_inclusao": _ts(
            rec.get("dataInclusao") or rec.get("dataResultado"), what, "dataInclusao"
        ),
        "data_atualizacao": _ts(
            rec.get("dataAtualizacao") or rec.get("dataResultado"), what, "dataAtualizacao"
        ),
    }


def fornecedor(rec: dict[str, Any]) -> dict[str, Any]:
    ni = str(rec.get("niFornecedor") or "")
    tipo = rec.get("tipoPessoa") or ("PF" if len(ni) == 11 else "PJ")
    return {
        "ni": ni,
        "tipo_pessoa": tipo,
        "nome": rec.get("nomeRazaoSocialFornecedor") or "",
        "porte_id": int(rec.get("porteFornecedorId") or 5),
    }


def contrato(rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(contrato row, orgão row, unidade row)."""
    numero = rec.get("numeroControlePNCP")
    what = f"contrato {numero or '(sem numeroControlePNCP)'}"
    if not numero:
        raise RecordError(f"{what}: field 'numeroControlePNCP' is missing")
    orgao = _orgao(rec, what)
    unidade = _unidade(rec, orgao["cnpj"], what)
    tipo = rec.get("tipoContrato") or {}
    row = {
        "numero_controle_pncp": numero,
        "numero_controle_pncp_compra": rec.get("numeroControlePncpCompra"),
        "cnpj": orgao["cnpj"],
        "codigo_unidade": unidade["codigo_unidade"],
        "ano_contrato": int(_req(rec, "anoContrato", what)),
        "sequencial_contrato": int(_req(rec, "sequencialContrato", what)),
        "numero_contrato_empenho": str(rec.get("numeroContratoEmpenho") or ""),
        "tipo_contrato_id": int((tipo.get("id") if isinstance(tipo, dict) else tipo) or 0),
        "ni_fornecedor": str(_req(rec, "niFornecedor", what)),
        "nome_razao_social_fornecedor": rec.get("nomeRazaoSocialFornecedor") or "",
        "objeto_contrato": rec.get("objetoContrato") or "",
        "valor_inicial": _num(rec.get("valorInicial") or 0, what, "valorInicial"),
        "valor_global": _num(rec.get("valorGlobal") or 0, what, "valorGlobal"),
        "valor_acumulado": _num(rec.get("valorAcumulado") or 0, what, "valorAcumulado"),
        "data_assinatura": _date(_req(rec, "dataAssinatura", what), what, "dataAssinatura"),
        "data_vigencia_inicio": _date(
            _req(rec, "dataVigenciaInicio", what), what, "dataVigenciaInicio"
        ),
        "data_vigencia_fim": _date(_req(rec, "dataVigenciaFim", what), what, "dataVigenciaFim"),
        "data_publicacao_pncp": _ts(
            _req(rec, "dataPublicacaoPncp", what), what, "dataPublicacaoPncp"
        ),
        "data_atualizacao": _ts(
            rec.get("dataAtualizacao") or rec.get("dataPublicacaoPncp"), what, "dataAtualizacao"
        ),
        "receita": bool(rec.get("receita")),
    }
    return row, orgao, unidade


def termo(numero: str, rec: dict[str, Any]) -> dict[str, Any]:
    what = f"termo {rec.get('sequencialTermoContrato')} of {numero}"
    return {
        "numero_controle_pncp": numero,
        "sequencial_termo": int(_req(rec, "sequencialTermoContrato", what)),
        "tipo_termo_contrato_id": int(_req(rec, "tipoTermoContratoId", what)),
        "qualificacao_acrescimo_supressao": bool(rec.get("qualificacaoAcrescimoSupressao")),
        "qualificacao_vigencia": bool(rec.get("qualificacaoVigencia")),
        "qualificacao_reajuste": bool(rec.get("qualificacaoReajuste")),
        "valor_acrescido": _num(rec.get("valorAcrescido") or 0, what, "valorAcrescido"),
        "prazo_aditado_dias": int(rec.get("prazoAditadoDias") or 0),
        "data_assinatura": _date(_req(rec, "dataAssinatura", what), what, "dataAssinatura"),
        "data_publicacao_pncp": _ts(
            _req(rec, "dataPublicacaoPncp", what), what, "dataPublicacaoPncp"
        ),
    }
