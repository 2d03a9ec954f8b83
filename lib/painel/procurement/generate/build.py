"""One world, stage by stage: entities, headers (+R1/R2/R4 plants), dates (+R3), items and
results (+R6/R7/R8), contracts and termos (+R4/R5/R9), then the PNCP ids and the tables."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from . import plant, world
from .world import K_OBJ, Ctx, years_of


def _ts(days: np.ndarray, secs: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]") + np.asarray(
        secs
    ).astype("timedelta64[s]")


def _nullable(values: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(
        np.asarray(values, dtype=np.int32), ~np.asarray(valid, dtype=bool)
    )


def _seq(keys: list[np.ndarray], order: np.ndarray) -> np.ndarray:
    """1-based rank of each row within its key group, by ``order`` (then position)."""
    df = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    df["o"] = order
    df["i"] = np.arange(len(df))
    df = df.sort_values(["o", "i"], kind="stable")
    r = df.groupby([f"k{i}" for i in range(len(keys))], sort=False).cumcount().to_numpy() + 1
    out = np.empty(len(df), dtype=np.int64)
    out[df["i"].to_numpy()] = r
    return out


def build(ctx: Ctx) -> tuple[dict[str, pd.DataFrame], plant.Gabarito, world.Entities]:
    E = world.build_entities(ctx)
    G = plant.Gabarito()
    h = world.background_headers(ctx, E)
    h = plant.plant_headers(ctx, E, h, G)
    d = world.header_dates(ctx, E, h)
    plant.plant_r3(ctx, E, h, d, G)
    rday = world.result_days(ctx, h, d)
    pub = d["pub"]
    it = world.build_items(ctx, E, h, pub)
    world.fit_values(ctx, E, h, it, pub)
    status = world.item_status(ctx, h, it, rday)
    hom = status == 2
    owner = it["owner"]
    disc = world.discounts(ctx, h, owner)
    sup = world.winners(ctx, E, h, it)
    plant.plant_items(ctx, E, h, it, hom, disc, pub, G)
    ph = np.round(it["p"] * (1 - disc), 4)
    vth = np.round(it["q"] * ph, 2)
    plant.plant_r8(ctx, E, h, it, hom, sup, vth, pub, rday, G)
    vt = np.round(it["q"] * it["p"], 2)
    # contracts and termos
    K = world.build_contracts(ctx, h, owner[hom], sup[hom], vth[hom], rday)
    T_plant, busy = plant.plant_contracts(ctx, E, h, K, G)
    T_bg = world.background_termos(ctx, K, ~busy)
    K, T = world.apply_termos(ctx, K, pd.concat([T_bg, T_plant], ignore_index=True))
    tables = assemble(ctx, E, h, d, rday, it, status, disc, ph, vt, vth, sup, K, T)
    return tables, G, E


def assemble(
    ctx: Ctx,
    E: world.Entities,
    h: pd.DataFrame,
    d: dict[str, np.ndarray],
    rday: np.ndarray,
    it: dict[str, np.ndarray],
    status: np.ndarray,
    disc: np.ndarray,
    ph: np.ndarray,
    vt: np.ndarray,
    vth: np.ndarray,
    sup: np.ndarray,
    K: pd.DataFrame,
    T: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("assemble")
    C = len(h)
    end = ctx.today64.astype("datetime64[s]") + np.timedelta64(86399, "s")
    org_cnpj = E.orgaos["cnpj"].to_numpy()
    ucode = E.unidades["codigo_unidade"].to_numpy()
    org = h["org"].to_numpy()
    unit = h["unit"].to_numpy()
    mod = h["mod"].to_numpy()
    pub_ts = d["pub_ts"]
    ano = years_of(d["pub"])
    seq = _seq([org, ano], pub_ts.astype(np.int64))
    cnpj = org_cnpj[org]
    ncp = (
        cnpj
        + "-1-"
        + np.char.zfill(seq.astype(str), 6).astype(object)
        + "/"
        + ano.astype(str).astype(object)
    )
    nmod = _seq([org, ano, mod], pub_ts.astype(np.int64))
    owner = it["owner"]
    N = len(owner)
    secret = h["secret"].to_numpy()
    hid = secret[owner] & ~(status == 2)
    hom = status == 2
    has_hom = np.bincount(owner, hom, minlength=C) > 0
    est = np.where(secret, 0.0, np.round(np.bincount(owner, vt, minlength=C), 2))
    homv = np.where(
        has_hom, np.round(np.bincount(owner, np.where(hom, vth, 0.0), minlength=C), 2), np.nan
    )
    # timestamps
    rsecs = rng.integers(9 * 3600, 19 * 3600, C)
    r_ts = _ts(rday, rsecs)
    res_inc = np.minimum(r_ts[owner] + rng.integers(0, 3, N) * 86400 * np.timedelta64(1, "s"), end)
    res_upd = np.where(
        rng.random(N) < 0.9,
        res_inc,
        np.minimum(res_inc + rng.integers(1, 21, N) * np.timedelta64(86400, "s"), end),
    )
    decided = np.isin(status, (2, 4, 5))
    it_upd = np.where(hom, res_upd, np.where(decided, np.minimum(r_ts[owner], end), pub_ts[owner]))
    it_upd = np.maximum(it_upd, pub_ts[owner])
    upd = np.where(
        rng.random(C) < 0.1,
        np.minimum(pub_ts + rng.integers(1, 21, C) * np.timedelta64(86400, "s"), end),
        pub_ts,
    )
    child = pd.Series(it_upd).groupby(owner).max()
    glob = upd.copy()
    glob[child.index.to_numpy()] = np.maximum(upd[child.index.to_numpy()], child.to_numpy())
    enc = d["enc"]
    has_enc = d["has_enc"]
    enc_ts = np.where(
        has_enc,
        _ts(np.where(has_enc, enc, d["pub"]), rng.choice([9, 10, 14], C) * 3600),
        np.datetime64("NaT"),
    )
    info = np.array(
        [
            None,
            None,
            None,
            "Participação exclusiva ME/EPP",
            "Itens com cota reservada",
            "Sessão pública no Comprasnet.GO",
        ],
        dtype=object,
    )
    link = np.where(
        rng.random(C) < 0.8,
        "https://pncp.gov.br/app/editais/"
        + cnpj
        + "/"
        + ano.astype(str).astype(object)
        + "/"
        + seq.astype(str).astype(object),
        None,
    )
    objeto = E.obj[h["cls"].to_numpy() * K_OBJ + rng.integers(0, K_OBJ, C)]
    contratacoes = pd.DataFrame(
        {
            "numero_controle_pncp": ncp,
            "cnpj": cnpj,
            "codigo_unidade": ucode[unit],
            "ano_compra": ano.astype(np.int32),
            "sequencial_compra": seq.astype(np.int32),
            "numero_compra": np.char.zfill(nmod.astype(str), 5).astype(object)
            + "/"
            + ano.astype(str).astype(object),
            "processo": ano.astype(str).astype(object)
            + "."
            + np.char.zfill(rng.integers(0, 10**9, C).astype(str), 9).astype(object),
            "modalidade_id": mod.astype(np.int32),
            "tipo_instrumento_id": h["instr"].to_numpy().astype(np.int32),
            "modo_disputa_id": h["modo"].to_numpy().astype(np.int32),
            "situacao_compra_id": h["sit"].to_numpy().astype(np.int32),
            "amparo_legal_codigo": h["amparo"].to_numpy().astype(np.int32),
            "srp": h["srp"].to_numpy().astype(bool),
            "objeto_compra": objeto,
            "informacao_complementar": info[rng.integers(0, len(info), C)],
            "valor_total_estimado": est,
            "valor_total_homologado": homv,
            "data_publicacao_pncp": pub_ts,
            "data_abertura_proposta": np.where(has_enc, pub_ts, np.datetime64("NaT")),
            "data_encerramento_proposta": enc_ts,
            "data_inclusao": pub_ts,
            "data_atualizacao": upd,
            "data_atualizacao_global": glob,
            "link_sistema_origem": link,
        }
    )
    ccode = E.classes["codigo_classe"].to_numpy()
    cat_code = E.catalogo["codigo_item"].to_numpy()
    cat_id = it["cat_id"]
    itens = pd.DataFrame(
        {
            "numero_controle_pncp": ncp[owner],
            "numero_item": it["numero"].astype(np.int32),
            "material_ou_servico": E.cls_kind[it["cls"]],
            "descricao": it["desc"],
            "quantidade": it["q"],
            "unidade_medida": E.opt_text[it["opt"]],
            "valor_unitario_estimado": np.where(hid, 0.0, it["p"]),
            "valor_total": np.where(hid, 0.0, vt),
            "criterio_julgamento_id": h["crit"].to_numpy()[owner].astype(np.int32),
            "situacao_compra_item_id": status.astype(np.int32),
            "tem_resultado": hom,
            "catalogo_id": _nullable(cat_id, cat_id > 0),
            "catalogo_codigo_item": np.where(cat_id == 1, cat_code[it["cat"]], None),
            "codigo_classe": ccode[it["cls"]],
            "data_inclusao": pub_ts[owner],
            "data_atualizacao": it_upd,
        }
    )
    F = E.fornecedores
    ni, tp, nome, porte = (F[c].to_numpy() for c in ("ni", "tipo_pessoa", "nome", "porte_id"))
    r = np.flatnonzero(hom)
    s = sup[r]
    srp = h["srp"].to_numpy()[owner[r]]
    pct = np.round(100 * (1 - ph[r] / it["p"][r]), 2)
    resultados = pd.DataFrame(
        {
            "numero_controle_pncp": ncp[owner[r]],
            "numero_item": it["numero"][r].astype(np.int32),
            "sequencial_resultado": np.ones(len(r), dtype=np.int32),
            "ni_fornecedor": ni[s],
            "tipo_pessoa": tp[s],
            "nome_razao_social_fornecedor": nome[s],
            "porte_fornecedor_id": porte[s].astype(np.int32),
            "quantidade_homologada": it["q"][r],
            "valor_unitario_homologado": ph[r],
            "valor_total_homologado": vth[r],
            "percentual_desconto": pct,
            "ordem_classificacao_srp": _nullable(np.ones(len(r), dtype=np.int64), srp),
            "situacao_compra_item_resultado_id": np.ones(len(r), dtype=np.int32),
            "data_resultado": r_ts[owner[r]],
            "data_inclusao": res_inc[r],
            "data_atualizacao": res_upd[r],
        }
    )
    # contracts
    kh = K["h"].to_numpy()
    ks = K["s"].to_numpy()
    kano = years_of(K["assin"].to_numpy())
    korg = org[kh]
    kseq = _seq([korg, kano], K["pub_ts"].to_numpy().astype(np.int64))
    kid = (
        org_cnpj[korg]
        + "-2-"
        + np.char.zfill(kseq.astype(str), 6).astype(object)
        + "/"
        + kano.astype(str).astype(object)
    )
    tipo = K["tipo"].to_numpy()
    ncon = np.where(
        tipo == 7,
        kano.astype(str).astype(object) + "NE" + np.char.zfill(kseq.astype(str), 6).astype(object),
        np.char.zfill(kseq.astype(str), 3).astype(object) + "/" + kano.astype(str).astype(object),
    )
    contratos = pd.DataFrame(
        {
            "numero_controle_pncp": kid,
            "numero_controle_pncp_compra": np.where(K["link"].to_numpy(), ncp[kh], None),
            "cnpj": org_cnpj[korg],
            "codigo_unidade": ucode[unit[kh]],
            "ano_contrato": kano.astype(np.int32),
            "sequencial_contrato": kseq.astype(np.int32),
            "numero_contrato_empenho": ncon,
            "tipo_contrato_id": tipo.astype(np.int32),
            "ni_fornecedor": ni[ks],
            "nome_razao_social_fornecedor": nome[ks],
            "objeto_contrato": objeto[kh],
            "valor_inicial": K["valor_inicial"].to_numpy(),
            "valor_global": K["valor_global"].to_numpy(),
            "valor_acumulado": K["valor_global"].to_numpy(),
            "data_assinatura": K["assin"].to_numpy(),
            "data_vigencia_inicio": K["ini"].to_numpy(),
            "data_vigencia_fim": K["fim"].to_numpy(),
            "data_publicacao_pncp": K["pub_ts"].to_numpy(),
            "data_atualizacao": K["upd"].to_numpy(),
            "receita": K["receita"].to_numpy().astype(bool),
        }
    )
    termos = pd.DataFrame(
        {
            "numero_controle_pncp": kid[T["k"].to_numpy()],
            "sequencial_termo": T["seq"].to_numpy().astype(np.int32),
            "tipo_termo_contrato_id": T["tipo"].to_numpy().astype(np.int32),
            "qualificacao_acrescimo_supressao": T["acr"].to_numpy().astype(bool),
            "qualificacao_vigencia": T["vig"].to_numpy().astype(bool),
            "qualificacao_reajuste": T["reaj"].to_numpy().astype(bool),
            "valor_acrescido": T["valor"].to_numpy(),
            "prazo_aditado_dias": T["prazo"].to_numpy().astype(np.int32),
            "data_assinatura": T["assin"].to_numpy(),
            "data_publicacao_pncp": T["pub_ts"].to_numpy(),
        }
    )
    return {
        "orgaos": E.orgaos,
        "unidades": E.unidades,
        "fornecedores": E.fornecedores,
        "classes": E.classes,
        "catalogo": E.catalogo,
        "contratacoes": contratacoes,
        "itens": itens,
        "resultados": resultados,
        "contratos": contratos,
        "termos": termos,
        "_keys": pd.DataFrame({"ncp": ncp}),  # positions -> ids, for the gabarito
        "_kids": pd.DataFrame({"kid": kid}),
        "_item_key": pd.DataFrame(
            {"key": ncp[owner] + "|" + it["numero"].astype(str).astype(object)}
        ),
    }


def gabarito_frame(
    G: plant.Gabarito, tables: dict[str, pd.DataFrame], E: world.Entities
) -> pd.DataFrame:
    ncp = tables["_keys"]["ncp"].to_numpy()
    kid = tables["_kids"]["kid"].to_numpy()
    ikey = tables["_item_key"]["key"].to_numpy()
    org_cnpj = E.orgaos["cnpj"].to_numpy()
    ucode = E.unidades["codigo_unidade"].to_numpy()
    ccode = E.classes["codigo_classe"].to_numpy()
    rules: list[str] = []
    keys: list[str] = []
    planted: list[bool] = []
    prm: list[str] = []
    for rule, kind, ref, pl, p in G.rows:
        if kind == "c":
            k = list(ncp[np.asarray(ref, dtype=np.int64)])
        elif kind == "i":
            k = list(ikey[np.asarray(ref, dtype=np.int64)])
        elif kind == "k":
            k = list(kid[np.asarray(ref, dtype=np.int64)])
        elif kind == "g1":
            k = [
                f"{org_cnpj[E.unit_org[u]]}|{ucode[u]}|{y}|{ccode[c]}|{inc}" for u, y, c, inc in ref
            ]
        elif kind == "g8":
            k = [f"{org_cnpj[o]}|{y}|{ccode[c]}" for o, y, c in ref]
        else:
            raise ValueError(kind)
        assert len(k) == len(p), (rule, kind)
        rules.extend([rule] * len(k))
        keys.extend(k)
        planted.extend([pl] * len(k))
        prm.extend(json.dumps(x, ensure_ascii=False, sort_keys=True, default=_json) for x in p)
    return pd.DataFrame({"rule": rules, "key": keys, "planted": planted, "params": prm})


def _json(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(type(x))
