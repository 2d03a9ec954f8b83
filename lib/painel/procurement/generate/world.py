"""The background world: organs, units, suppliers, classes and catalogue, contratações with
their items and results, contratos and termos (numpy, vectorised), clean of every rule's
violation by design (:mod:`.truth` checks it afterwards).

Rows are positions in arrays; the PNCP ids are assigned once at the end (:func:`assemble`),
so planting (:mod:`.plant`) works on positions and the ground truth is keyed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..workdays import WorkCalendar
from . import ids, params, vocab
from .rand import stream

K_DESC = 16  # description variants per catalogue item
K_VAGUE = 64  # vague description variants
P_VAGUE = 0.07  # share of items described vaguely
VAGUE_CATALOGUED = 0.12  # of vague items, the share still catalogued (of the usual share)
DISPENSA_PRICE = 0.05  # dispensas de valor buy classes whose unit price is <= this x limit
OTHER_DISPENSA = (20, 21, 22, 24, 25, 30)  # amparos of dispensas not "de valor"
K_OBJ = 4  # objeto variants per class
DAY = np.timedelta64(1, "D")


@dataclass
class Ctx:
    scale: float
    seed: int
    first_year: int
    last_year: int
    today: date
    cal: WorkCalendar = field(init=False)
    start: np.datetime64 = field(init=False)
    end: np.datetime64 = field(init=False)  # last publication day (<= today)
    today64: np.datetime64 = field(init=False)
    holidays: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.cal = WorkCalendar(self.first_year, self.last_year + 1)
        self.start = np.datetime64(f"{self.first_year}-01-01", "D")
        self.today64 = np.datetime64(self.today, "D")
        self.end = min(np.datetime64(f"{self.last_year}-12-31", "D"), self.today64)
        self.holidays = np.array(sorted(self.cal.holidays), dtype="datetime64[D]")

    def rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, name)

    def workdays(self, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
        days = np.arange(lo, hi + DAY, dtype="datetime64[D]")
        return days[np.is_busday(days, holidays=self.holidays)]


def years_of(d: np.ndarray) -> np.ndarray:
    return np.asarray(d, dtype="datetime64[Y]").astype(np.int64) + 1970


@dataclass
class Entities:
    orgaos: pd.DataFrame
    unidades: pd.DataFrame
    fornecedores: pd.DataFrame
    classes: pd.DataFrame
    catalogo: pd.DataFrame
    org_consorcio: np.ndarray
    unit_org: np.ndarray
    unit_go: np.ndarray
    unit_w: np.ndarray
    cls_family: np.ndarray
    cls_kind: np.ndarray
    cls_inciso: np.ndarray
    cls_w: np.ndarray
    cls_disp: np.ndarray
    cls_valor: np.ndarray  # may be bought by dispensa de valor (price fits the limit)
    cls_price: np.ndarray  # median unit price of the class (2023)
    cls_reforma: np.ndarray
    fam_start: np.ndarray
    fam_count: np.ndarray
    cat_start: np.ndarray
    cat_count: np.ndarray
    cat_cls: np.ndarray
    cat_price: np.ndarray
    cat_unit: np.ndarray  # base unit family (str)
    desc: np.ndarray  # K_DESC variants per catalogue item
    vague: np.ndarray  # K_VAGUE vague descriptions
    obj: np.ndarray  # K_OBJ variants per class
    pool_off: np.ndarray
    pool_size: np.ndarray  # 5-30 suppliers per class
    sup_perm: np.ndarray  # suppliers in pool order
    sup_pj: np.ndarray  # PJ supplier positions (emergency contracts)
    opt_text: np.ndarray
    opt_mult: np.ndarray
    opt_parse: np.ndarray
    opt_off: dict[str, tuple[int, np.ndarray]]  # unit family -> (first option, cumulative weights)


def build_entities(ctx: Ctx) -> Entities:
    rng = ctx.rng("entities")
    s = ctx.scale
    # ---- organs ---------------------------------------------------------------------------
    n_org = max(8, round(120 * s))
    n_df = 1 if n_org < 20 else 2
    n_cons = max(1, round(0.03 * n_org))
    n_state = max(2, round(0.35 * (n_org - n_df - n_cons)))
    n_mun = n_org - n_df - n_cons - n_state
    names: list[str] = []
    poder: list[str] = []
    esfera: list[str] = []
    cons: list[bool] = []
    muni: list[int] = []  # index into MUNICIPIOS_GO; -1 state; -2 DF
    state = list(ids.STATE_ORGANS)
    for i in range(n_state):
        nm, pd_ = state[i % len(state)]
        names.append(nm if i < len(state) else f"{nm} - Regional {i // len(state) + 1}")
        poder.append(pd_)
        esfera.append("E")
        cons.append(False)
        muni.append(-1)
    nmuni = len(ids.MUNICIPIOS_GO)
    for i in range(n_mun):
        kind, pd_ = ids.MUNICIPAL_KINDS[(i // nmuni) % len(ids.MUNICIPAL_KINDS)]
        m = i % nmuni
        names.append(kind.format(m=ids.MUNICIPIOS_GO[m][1]))
        poder.append(pd_)
        esfera.append("M")
        cons.append(False)
        muni.append(m)
    for i in range(n_cons):
        m = int(rng.integers(1, nmuni))
        names.append(ids.CONSORCIOS[i % len(ids.CONSORCIOS)].format(m=ids.MUNICIPIOS_GO[m][1]))
        poder.append("E")
        esfera.append("M")
        cons.append(True)
        muni.append(m)
    for i in range(n_df):
        names.append(ids.DF_ORGANS[i])
        poder.append("E")
        esfera.append("E")
        cons.append(False)
        muni.append(-2)
    n_sup = max(400, round(20000 * s))
    n_pf = round(0.12 * n_sup)
    roots = ids.unique_ints(rng, 1_000_000, 99_999_999, n_org + n_sup - n_pf)
    branch = np.where(rng.random(len(roots)) < 0.9, 1, rng.integers(2, 9, len(roots)))
    cnpjs = ids.cnpj_from_base(roots * 10_000 + branch)
    org_cnpj = cnpjs[:n_org]
    muni_a = np.array(muni)
    org_w = rng.lognormal(0, 0.8, n_org)
    org_w[muni_a == -1] *= 2.5  # state organs buy more
    org_go = muni_a != -2
    org_w[~org_go] = 0.02 / 0.98 * org_w[org_go].sum() / n_df
    orgaos = pd.DataFrame(
        {
            "cnpj": org_cnpj,
            "razao_social": np.array(names, dtype=object),
            "poder_id": np.array(poder, dtype=object),
            "esfera_id": np.array(esfera, dtype=object),
            "consorcio": np.array(cons),
        }
    )
    # ---- units ----------------------------------------------------------------------------
    n_units = max(2 * n_org, round(300 * s))
    extra = rng.multinomial(n_units - n_org, org_w / org_w.sum())
    per = 1 + extra
    unit_org = np.repeat(np.arange(n_org), per)
    k_in = np.arange(len(unit_org)) - np.repeat(np.cumsum(per) - per, per)
    base = rng.integers(10_000, 98_000, n_org) * 10
    codigo = (base[unit_org] + k_in).astype(str).astype(object)
    mw = np.array([m[2] for m in ids.MUNICIPIOS_GO])
    um = muni_a[unit_org].copy()
    st = um == -1
    um[st] = np.where(rng.random(st.sum()) < 0.6, 0, rng.choice(nmuni, st.sum(), p=mw / mw.sum()))
    go = um >= 0
    ibge = np.where(
        go,
        np.array([m[0] for m in ids.MUNICIPIOS_GO], dtype=object)[np.maximum(um, 0)],
        ids.BRASILIA[0],
    )
    mname = np.where(
        go,
        np.array([m[1] for m in ids.MUNICIPIOS_GO], dtype=object)[np.maximum(um, 0)],
        ids.BRASILIA[1],
    )
    uname = np.array(ids.UNIT_NAMES, dtype=object)[
        rng.integers(0, len(ids.UNIT_NAMES), len(unit_org))
    ]
    uname = (
        np.where(k_in == 0, "Unidade Sede", uname)
        + " - "
        + orgaos["razao_social"].to_numpy()[unit_org]
    )
    unidades = pd.DataFrame(
        {
            "cnpj": org_cnpj[unit_org],
            "codigo_unidade": codigo,
            "nome_unidade": uname,
            "codigo_ibge": ibge,
            "municipio_nome": mname,
            "uf_sigla": np.where(go, "GO", "DF").astype(object),
        }
    )
    uw = rng.lognormal(0, 0.6, len(unit_org))
    uw = uw / np.bincount(unit_org, uw)[unit_org] * org_w[unit_org]
    # ---- suppliers ------------------------------------------------------------------------
    pj = np.zeros(n_sup, dtype=bool)
    pj[: n_sup - n_pf] = True
    cpf = ids.cpf_from_base(ids.unique_ints(rng, 10_000_000, 999_999_999, n_pf))
    ni = np.concatenate([cnpjs[n_org:], cpf])
    porte = np.where(pj, rng.choice([1, 2, 3, 5], n_sup, p=[0.45, 0.2, 0.3, 0.05]), 4)
    fornecedores = pd.DataFrame(
        {
            "ni": ni,
            "tipo_pessoa": np.where(pj, "PJ", "PF").astype(object),
            "nome": ids.supplier_names(rng, pj),
            "porte_id": porte.astype(np.int32),
        }
    )
    # ---- classes and catalogue -----------------------------------------------------------
    rows = vocab.classes_round_robin()
    n_cls = min(len(rows), max(40, round(400 * s)))
    rows = sorted(rows[:n_cls], key=lambda r: r.family)
    fam = np.array([r.family for r in rows])
    F = vocab.FAMILIES
    ckind = np.array([F[f].kind for f in fam], dtype=object)
    inciso = np.array([F[f].inciso for f in fam], dtype=object)
    disp = np.array([F[f].dispensa for f in fam])
    reforma = np.array([F[f].name == "Reforma de edificações" for f in fam])
    ccode = ids.unique_ints(rng, 1000, 9999, n_cls).astype(str).astype(object)
    cname = np.array(
        [f"{r.noun[0].upper()}{r.noun[1:]} ({F[r.family].name})" for r in rows], dtype=object
    )
    classes = pd.DataFrame(
        {"codigo_classe": ccode, "nome": cname, "material_ou_servico": ckind, "inciso": inciso}
    )
    fam_start = np.full(len(F), -1)
    fam_count = np.zeros(len(F), dtype=np.int64)
    for i, f in enumerate(fam):
        if fam_start[f] < 0:
            fam_start[f] = i
        fam_count[f] += 1
    cat_count = rng.integers(3, 9, n_cls)
    cat_start = np.cumsum(cat_count) - cat_count
    cat_cls = np.repeat(np.arange(n_cls), cat_count)
    n_cat = len(cat_cls)
    cls_lvl = rng.lognormal(0, 0.5, n_cls)
    fam_price = np.array([F[f].price for f in fam])
    cls_price = fam_price * cls_lvl
    lim23 = np.array([params.LIMITES[2023][0 if i == "I" else 1] for i in inciso])
    cat_price = np.round(np.maximum(cls_price[cat_cls] * rng.lognormal(0, 0.25, n_cat), 0.05), 2)
    cat_unit = np.array([F[f].unit for f in fam], dtype=object)[cat_cls]
    rng_d = ctx.rng("descriptions")
    heads = vocab.heads(rows)
    cat_desc: list[str] = []
    desc: list[str] = []
    for c, r in enumerate(rows):
        specs = F[r.family].specs
        order = rng_d.permutation(len(specs))
        for j in range(int(cat_count[c])):
            spec = specs[order[j % len(specs)]]
            if j >= len(specs):
                spec = f"{spec} {specs[order[(j + 1) % len(specs)]]}"
            cat_desc.append(f"{r.noun.upper()}, {spec.upper()}")
            desc.extend(
                vocab.description_variants(rng_d, r.synonyms, spec, F[r.family], heads[c], K_DESC)
            )
    vague = vocab.vague_variants(rng_d, K_VAGUE)
    codes = ids.unique_ints(rng, 100_000, 999_999, n_cat).astype(str).astype(object)
    catalogo = pd.DataFrame(
        {
            "codigo_item": codes,
            "codigo_classe": ccode[cat_cls],
            "descricao": np.array(cat_desc, dtype=object),
            "unidade_base": cat_unit,
            "preco_base": cat_price,
        }
    )
    obj: list[str] = []
    for r in rows:
        v = vocab.objeto_variants(F[r.family], r.noun)
        obj.extend((v * K_OBJ)[:K_OBJ])
    # supplier pools per class: 5-30 plausible suppliers each
    pool_size = rng.integers(5, 31, n_cls)
    pool_off = rng.integers(0, n_sup, n_cls)
    # units of measure
    texts: list[str] = []
    mult: list[float] = []
    parse: list[bool] = []
    opt_off: dict[str, tuple[int, np.ndarray]] = {}
    for u, opts in vocab.UNITS.items():
        w = np.array([o[2] for o in opts], dtype=float)
        opt_off[u] = (len(texts), np.cumsum(w) / w.sum())
        texts.extend(o[0] for o in opts)
        mult.extend(o[1] for o in opts)
        parse.extend(o[3] for o in opts)
    return Entities(
        orgaos=orgaos,
        unidades=unidades,
        fornecedores=fornecedores,
        classes=classes,
        catalogo=catalogo,
        org_consorcio=np.array(cons),
        unit_org=unit_org,
        unit_go=go,
        unit_w=uw,
        cls_family=fam,
        cls_kind=ckind,
        cls_inciso=inciso,
        cls_w=rng.lognormal(0, 0.8, n_cls),
        cls_disp=disp,
        cls_valor=disp & (cls_price <= DISPENSA_PRICE * lim23),
        cls_price=cls_price,
        cls_reforma=reforma,
        fam_start=fam_start,
        fam_count=fam_count,
        cat_start=cat_start,
        cat_count=cat_count,
        cat_cls=cat_cls,
        cat_price=cat_price,
        cat_unit=cat_unit,
        desc=np.array(desc, dtype=object),
        vague=np.array(vague, dtype=object),
        obj=np.array(obj, dtype=object),
        pool_off=pool_off,
        pool_size=pool_size,
        sup_perm=rng.permutation(n_sup),
        sup_pj=rng.permutation(np.flatnonzero(pj)),
        opt_text=np.array(texts, dtype=object),
        opt_mult=np.array(mult, dtype=float),
        opt_parse=np.array(parse),
        opt_off=opt_off,
    )


# ---- contratação headers -------------------------------------------------------------------
HEADER_COLS = [
    "unit",
    "org",
    "pub",
    "mod",
    "amparo",
    "sit",
    "cls",
    "n_items",
    "crit",
    "secret",
    "srp",
    "instr",
    "modo",
    "target",
    "forced",
    "disc",
    "fsup",
    "tag",
    "vig",
    "gap",
]


def choose_class(rng: np.random.Generator, E: Entities, mask: np.ndarray, n: int) -> np.ndarray:
    w = np.where(mask, E.cls_w, 0.0)
    return rng.choice(len(w), n, p=w / w.sum())


def crit_for(rng: np.random.Generator, mod: np.ndarray, kind: np.ndarray) -> np.ndarray:
    n = len(mod)
    u = rng.random(n)
    pregao = np.where(u < 0.85, 1, 2)
    conc_s = np.select([u < 0.55, u < 0.85, u < 0.9], [1, 4, 8], 2)
    conc_m = np.select([u < 0.8, u < 0.9], [1, 2], 4)
    conc = np.where(kind == "S", conc_s, conc_m)
    return np.select([np.isin(mod, (6, 7)), np.isin(mod, (4, 5))], [pregao, conc], 1)


def background_headers(ctx: Ctx, E: Entities) -> pd.DataFrame:
    rng = ctx.rng("headers")
    frames = []
    for y in range(ctx.first_year, ctx.last_year + 1):
        lo = np.datetime64(f"{y}-01-01", "D")
        hi = min(np.datetime64(f"{y}-12-31", "D"), ctx.end)
        if hi < lo:
            break
        frac = ((hi - lo) / DAY + 1) / ((np.datetime64(f"{y + 1}-01-01", "D") - lo) / DAY)
        n = round(100_000 * ctx.scale * frac)
        wd = ctx.workdays(lo, hi)
        pub = wd[rng.integers(0, len(wd), n)]
        wk = rng.random(n) < 0.015
        pub[wk] = lo + rng.integers(0, int((hi - lo) / DAY) + 1, wk.sum()) * DAY
        frames.append(pub)
    pub = np.sort(np.concatenate(frames))
    n = len(pub)
    unit = rng.choice(len(E.unit_w), n, p=E.unit_w / E.unit_w.sum())
    mod = rng.choice([8, 6, 9, 4, 5, 7], n, p=[0.55, 0.26, 0.12, 0.045, 0.0125, 0.0125])
    u = rng.random(n)
    amp_d = np.select(
        [u < 0.7, u < 0.9, u < 0.93], [19, 18, 38], rng.choice([20, 21, 22, 24, 25, 30], n)
    )
    amparo = np.select(
        [mod == 8, mod == 9, np.isin(mod, (6, 7))], [amp_d, rng.integers(6, 18, n), 1], 2
    )
    cls = np.empty(n, dtype=np.int64)
    for mask, cm in (
        (amparo == 18, E.cls_valor & (E.cls_inciso == "I")),
        (amparo == 19, E.cls_valor & (E.cls_inciso == "II")),
        ((mod == 8) & ~np.isin(amparo, (18, 19, 38)), E.cls_disp & (E.cls_inciso == "II")),
        ((amparo == 38) | (mod == 9), E.cls_disp),
        (np.isin(mod, params.LICITACOES), np.ones(len(E.cls_w), dtype=bool)),
    ):
        cls[mask] = choose_class(rng, E, cm, int(mask.sum()))
    kind = E.cls_kind[cls]
    lic = np.isin(mod, params.LICITACOES)
    n_items = np.select(
        [lic, mod == 8],
        [
            np.clip(np.round(rng.lognormal(np.log(15), 1.0, n)), 1, 350),
            np.clip(np.round(rng.lognormal(np.log(2.2), 0.8, n)), 1, 20),
        ],
        rng.integers(1, 4, n),
    ).astype(np.int64)
    # a dispensa de valor buys what fits well below the limit at one unit per item
    lim23 = np.where(amparo == 18, params.LIMITES[2023][0], params.LIMITES[2023][1])
    fit = np.maximum(1, np.floor(0.25 * lim23 / (2 * E.cls_price[cls]))).astype(np.int64)
    n_items = np.where(np.isin(amparo, (18, 19)) & (mod == 8), np.minimum(n_items, fit), n_items)
    disputa = (mod == 8) & (rng.random(n) < 0.6)
    h = pd.DataFrame(
        {
            "unit": unit,
            "org": E.unit_org[unit],
            "pub": pub,
            "mod": mod,
            "amparo": amparo,
            "sit": rng.choice([1, 2, 3, 4], n, p=[0.94, 0.03, 0.01, 0.02]),
            "cls": cls,
            "n_items": n_items,
            "crit": crit_for(rng, mod, kind),
            "secret": lic & (rng.random(n) < 0.05),
            "srp": np.where(np.isin(mod, (6, 7)), rng.random(n) < 0.3, lic & (rng.random(n) < 0.1)),
            "instr": np.select([lic, disputa], [1, 2], 3),
            "modo": np.select(
                [np.isin(mod, (6, 7)), lic, disputa],
                [rng.choice([1, 3], n), rng.choice([1, 2, 3], n), 4],
                5,
            ),
        }
    )
    return with_defaults(h)


def with_defaults(h: pd.DataFrame) -> pd.DataFrame:
    defaults: dict[str, Any] = {
        "target": np.nan,
        "forced": False,
        "disc": np.nan,
        "fsup": -1,
        "tag": 0,
        "vig": -1,
        "gap": -1,
    }
    for k, v in defaults.items():
        if k not in h:
            h[k] = v
        else:
            h[k] = h[k].fillna(v).astype(type(v) if not isinstance(v, float) else float)
    ints = ["unit", "org", "mod", "amparo", "sit", "cls", "n_items", "crit", "instr", "modo"]
    h[ints] = h[ints].astype(np.int64)
    h[["secret", "srp"]] = h[["secret", "srp"]].astype(bool)
    h["pub"] = h["pub"].astype("datetime64[s]")
    return h[HEADER_COLS]


def header_dates(ctx: Ctx, E: Entities, h: pd.DataFrame) -> dict[str, np.ndarray]:
    """Publication time, the proposal window (legal with a margin) and the result day."""
    rng = ctx.rng("header-dates")
    n = len(h)
    pub = h["pub"].to_numpy().astype("datetime64[D]")
    mod = h["mod"].to_numpy()
    lic = np.isin(mod, params.LICITACOES)
    minimo = params.prazo_minimo(E.cls_kind[h["cls"].to_numpy()], h["crit"].to_numpy())
    steps = np.where(lic, minimo + rng.integers(2, 13, n), rng.integers(3, 6, n))
    enc = ctx.cal.add_array(pub, steps)
    has_enc = lic | (h["instr"].to_numpy() == 2)
    secs = rng.integers(8 * 3600, 19 * 3600, n).astype("timedelta64[s]")
    return {
        "pub": pub,
        "pub_ts": pub.astype("datetime64[s]") + secs,
        "enc": np.where(has_enc, enc, np.datetime64("NaT")),
        "has_enc": has_enc,
        "minimo": np.where(lic, minimo, 0),
    }


def result_days(ctx: Ctx, h: pd.DataFrame, d: dict[str, np.ndarray]) -> np.ndarray:
    rng = ctx.rng("result-days")
    n = len(h)
    mod = h["mod"].to_numpy()
    lic = np.isin(mod, params.LICITACOES)
    base = np.where(d["has_enc"], d["enc"], d["pub"])
    lag = np.where(lic, rng.integers(5, 46, n), rng.integers(2, 16, n))
    out = base + lag * DAY
    forced = h["forced"].to_numpy()
    return np.where(forced, d["pub"] + 7 * DAY, out)


def inflation(days: np.ndarray) -> np.ndarray:
    t = (days - np.datetime64("2023-01-01", "D")) / np.timedelta64(365, "D")
    return np.asarray(1.045**t, dtype=float)


# ---- items ---------------------------------------------------------------------------------
def build_items(ctx: Ctx, E: Entities, h: pd.DataFrame, pub: np.ndarray) -> dict[str, np.ndarray]:
    rng = ctx.rng("items")
    n_items = h["n_items"].to_numpy()
    C = len(h)
    owner = np.repeat(np.arange(C), n_items)
    N = len(owner)
    first = np.cumsum(n_items) - n_items
    numero = np.arange(N) - first[owner] + 1
    mod = h["mod"].to_numpy()[owner]
    forced = h["forced"].to_numpy()[owner]
    cls = h["cls"].to_numpy()[owner].copy()
    sw = np.isin(mod, params.LICITACOES) & (numero > 1) & ~forced & (rng.random(N) < 0.25)
    fam = E.cls_family[cls[sw]]
    cls[sw] = E.fam_start[fam] + (rng.random(sw.sum()) * E.fam_count[fam]).astype(np.int64)
    cat = E.cat_start[cls] + (rng.random(N) ** 1.3 * E.cat_count[cls]).astype(np.int64)
    ufam = E.cat_unit[cat]
    opt = np.zeros(N, dtype=np.int64)
    for u, (off, cum) in E.opt_off.items():
        m = ufam == u
        opt[m] = off + np.minimum(np.searchsorted(cum, rng.random(m.sum())), len(cum) - 1)
    opt[forced] = np.array([E.opt_off[u][0] for u in ufam[forced]], dtype=np.int64)
    mult = E.opt_mult[opt]
    qmed = np.array([f.qty for f in vocab.FAMILIES])[E.cls_family[cls]]
    q = np.maximum(1.0, np.round(rng.lognormal(np.log(qmed), 0.85) / mult))
    days = pub[owner]
    p = E.cat_price[cat] * mult * inflation(days) * rng.lognormal(0, 0.1, N)
    p = np.maximum(np.round(p, 4), 0.01)
    year = years_of(days)
    share = np.select([year >= 2025, year == 2024], [0.6, 0.35], 0.2)
    # vague descriptions (no class signal), mostly not catalogued; planted purchases are
    # catalogued and described plainly (their class must not hang on the model)
    vague = ~forced & (rng.random(N) < P_VAGUE)
    sv = share * VAGUE_CATALOGUED
    sn = (share - P_VAGUE * sv) / (1 - P_VAGUE)
    s = np.where(forced, 1.0, np.where(vague, sv, sn))
    uc = rng.random(N)
    cat_id = np.where(uc < s, 1, np.where(uc < s + 0.25 * (1 - s), 2, 0))
    desc = E.desc[cat * K_DESC + rng.integers(0, K_DESC, N)]
    desc[vague] = E.vague[rng.integers(0, len(E.vague), int(vague.sum()))]
    return {
        "owner": owner,
        "numero": numero,
        "cls": cls,
        "cat": cat,
        "opt": opt,
        "q": q,
        "p": p,
        "cat_id": cat_id,
        "desc": desc,
        "vague": vague,
    }


def totals(owner: np.ndarray, v: np.ndarray, C: int) -> np.ndarray:
    return np.bincount(owner, v, minlength=C)


def fit_values(
    ctx: Ctx, E: Entities, h: pd.DataFrame, it: dict[str, np.ndarray], pub: np.ndarray
) -> None:
    """Forced targets through quantities at the items' usual prices (exact to the cent for
    purchases of 2+ items); background dispensas (amparo 18/19) far below the limits, alone
    and per (unit, year, class) group, so R1/R2 never fire by accident: fewer units first,
    prices at most 20 % lower, and a purchase that still does not fit becomes a dispensa of
    another inciso (``h["amparo"]`` is changed in place)."""
    rng = ctx.rng("fit")
    C = len(h)
    owner = it["owner"]
    target = h["target"].to_numpy()
    fill_targets(rng, it, target)
    amp = h["amparo"].to_numpy().copy()
    bg = (h["mod"].to_numpy() == 8) & np.isin(amp, (18, 19)) & np.isnan(target)
    year = years_of(pub)
    lim = params.limite(year, np.where(amp == 18, "I", "II"), np.zeros(C, dtype=bool))
    one = totals(owner, it["p"], C)  # one unit of each item
    draw = lim * np.minimum(0.3, rng.lognormal(np.log(0.035), 0.9, C))
    other = rng.choice(OTHER_DISPENSA, C)
    flip = bg & (one > 0.25 * lim)
    bg &= ~flip
    _cap(it, np.where(bg, np.maximum(draw, 1.25 * one), np.inf), C)
    # per (unit, year, class) group: the sum stays below 70 % of the limit
    for last in (False, True):
        tot = totals(owner, np.round(it["q"] * it["p"], 2), C)
        g = pd.DataFrame(
            {"u": h["unit"].to_numpy(), "y": year, "c": h["cls"].to_numpy(), "t": tot}
        )[bg]
        key = g.groupby(["u", "y", "c"])["t"]
        gs = key.transform("sum").to_numpy()
        over = gs > 0.7 * lim[bg]
        pos = np.flatnonzero(bg)[over]
        if not last:
            cap = np.full(C, np.inf)
            cap[pos] = (tot[bg] * 0.7 * lim[bg] / gs)[over]
            _cap(it, cap, C)
        else:  # what still does not fit leaves the group, latest first
            run = key.cumsum().to_numpy()
            out = np.flatnonzero(bg)[run > 0.7 * lim[bg]]
            flip[out] = True
    amp[flip] = other[flip]
    h["amparo"] = amp


def fill_targets(rng: np.random.Generator, it: dict[str, np.ndarray], target: np.ndarray) -> None:
    """Reach each purchase's ``target`` (estimated total) through quantities at its items'
    prices: the dearest item takes 5-30 units and the rest of the value goes to the others
    in whole units; the dearest item's price then moves by a few percent so the total is
    exact (to the cent when the purchase has 2+ items)."""
    owner = it["owner"]
    tg = np.flatnonzero(~np.isnan(target))
    first = np.searchsorted(owner, tg)
    size = np.bincount(owner, minlength=len(target))[tg]
    q, p = it["q"], it["p"]
    for c, a, m in zip(tg.tolist(), first.tolist(), size.tolist(), strict=True):
        t = float(target[c])
        pr = p[a : a + m].copy()
        qq = np.ones(m)
        j = int(np.argmax(pr))
        o = np.arange(m) != j
        rest = t
        if m > 1:
            k = max(1.0, min(float(rng.integers(5, 31)), 0.5 * t / pr[j]))
            w = rng.uniform(0.5, 1.5, m - 1)
            qq[o] = np.maximum(1.0, np.floor((t - k * pr[j]) * w / w.sum() / pr[o]))
            rest = round(t - float(np.round(qq[o] * pr[o], 2).sum()), 2)
            if rest < 0.5 * pr[j]:  # the others' single units are already too dear
                qq[o] = 1.0
                pr[o] = np.round(pr[o] * min(1.0, 0.5 * t / pr[o].sum()), 4)
                rest = round(t - float(np.round(pr[o], 2).sum()), 2)
        qq[j] = max(1.0, round(rest / pr[j]))
        pr[j] = round(rest / qq[j], 4)
        q[a : a + m] = qq
        p[a : a + m] = pr


def _cap(it: dict[str, np.ndarray], cap: np.ndarray, C: int) -> None:
    """Bring each contratação's total to at most ``cap``: fewer units first, then prices
    lower by at most 20 %."""
    owner = it["owner"]
    for _ in range(2):
        tot = totals(owner, np.round(it["q"] * it["p"], 2), C)
        f = np.where(tot > cap, cap / np.where(tot > 0, tot, 1), 1.0)[owner]
        it["q"] = np.where(f < 1, np.maximum(1.0, np.floor(it["q"] * f)), it["q"])
    tot = totals(owner, np.round(it["q"] * it["p"], 2), C)
    f = np.where(tot > cap, np.maximum(0.8, cap / np.where(tot > 0, tot, 1) * 0.995), 1.0)
    f = f[owner]
    it["p"] = np.where(f < 1, np.maximum(0.01, np.floor(it["p"] * f * 1e4) / 1e4), it["p"])


def reserved(E: Entities) -> int:
    """How many PJ suppliers (the last of ``E.sup_pj``) are kept for planted emergency pairs."""
    return max(64, len(E.sup_pj) // 20)


# ---- results -------------------------------------------------------------------------------
def item_status(
    ctx: Ctx, h: pd.DataFrame, it: dict[str, np.ndarray], rday: np.ndarray
) -> np.ndarray:
    rng = ctx.rng("status")
    owner = it["owner"]
    N = len(owner)
    sit = h["sit"].to_numpy()[owner]
    done = (rday <= ctx.today64)[owner]
    lic = np.isin(h["mod"].to_numpy()[owner], params.LICITACOES)
    u = rng.random(N)
    drawn = np.where(
        lic, np.select([u < 0.86, u < 0.91, u < 0.95], [2, 4, 5], 3), np.where(u < 0.96, 2, 4)
    )
    drawn = np.where(h["forced"].to_numpy()[owner], 2, drawn)
    return np.select([np.isin(sit, (2, 3)), sit == 4, ~done], [3, 1, 1], drawn)


def discounts(ctx: Ctx, h: pd.DataFrame, owner: np.ndarray) -> np.ndarray:
    rng = ctx.rng("discounts")
    N = len(owner)
    mod = h["mod"].to_numpy()[owner]
    amp = h["amparo"].to_numpy()[owner]
    d = np.select(
        [np.isin(mod, params.LICITACOES), mod == 9, amp == 38],
        [
            np.clip(rng.normal(0.16, 0.06, N), 0.03, 0.4),
            0.0,
            np.clip(rng.normal(0.02, 0.02, N), 0.0, 0.08),
        ],
        np.clip(rng.normal(0.04, 0.03, N), 0.0, 0.15),
    )
    fd = h["disc"].to_numpy()[owner]
    return np.where(np.isnan(fd), d, fd)


ZIPF_S = 0.6  # exponent of the suppliers' ranks within an organ x class


def _zipf_rank(rng: np.random.Generator, m: np.ndarray) -> np.ndarray:
    """A rank in ``range(m)`` per entry, P(r) ~ 1 / (r + 1) ** ZIPF_S."""
    u = rng.random(len(m))
    out = np.zeros(len(m), dtype=np.int64)
    for size in np.unique(m):
        w = 1.0 / np.arange(1, size + 1) ** ZIPF_S
        cdf = np.cumsum(w) / w.sum()
        sel = m == size
        out[sel] = np.minimum(np.searchsorted(cdf, u[sel]), size - 1)
    return out


def winners(ctx: Ctx, E: Entities, h: pd.DataFrame, it: dict[str, np.ndarray]) -> np.ndarray:
    """The supplier of each homologated item. An organ buys a class from the class's pool
    (5-30 suppliers) with Zipf-like preferences of its own; a licitação's items go to about
    sqrt(items) winners, a direct contracting to one; emergency contracts never repeat a
    supplier within an organ."""
    rng = ctx.rng("winners")
    owner = it["owner"]
    C = len(h)
    mod = h["mod"].to_numpy()
    org = h["org"].to_numpy()
    n_items = h["n_items"].to_numpy()
    lic = np.isin(mod, params.LICITACOES)
    k = np.where(
        lic,
        np.clip(np.round(np.sqrt(n_items) * rng.uniform(1.0, 2.5, C)), 1, n_items),
        1,
    ).astype(np.int64)
    slot = (rng.random(len(owner)) * k[owner]).astype(np.int64)
    # one draw per (purchase, slot), for the class of the slot's first item
    first = np.cumsum(k) - k
    sid = first[owner] + slot
    n_slots = int(k.sum())
    lead = np.full(n_slots, -1, dtype=np.int64)
    lead[sid[::-1]] = np.arange(len(owner))[::-1]
    used = lead >= 0
    c = it["cls"][lead[used]]
    o = org[owner[lead[used]]]
    m = E.pool_size[c]
    shift = (o * 7919 + c * 104_729 + 17) % m
    rank = _zipf_rank(rng, m)
    pos_slot = np.zeros(n_slots, dtype=np.int64)
    pos_slot[used] = (E.pool_off[c] + (rank + shift) % m) % len(E.sup_perm)
    sup = E.sup_perm[pos_slot[sid]]
    # emergency: the organ's i-th emergency purchase gets its i-th reserved PJ supplier
    amp = h["amparo"].to_numpy()
    em = np.flatnonzero((mod == 8) & (amp == 38) & (h["fsup"].to_numpy() < 0))
    eorg = org[em]
    rank_e = pd.Series(eorg).groupby(eorg).cumcount().to_numpy()
    n_org = int(h["org"].max()) + 1
    n_res = len(E.sup_pj) - reserved(E)
    stride = max(1, n_res // n_org)
    esup = np.full(C, -1)
    esup[em] = E.sup_pj[(eorg * stride + rank_e) % n_res]
    fs = h["fsup"].to_numpy()
    esup = np.where(fs >= 0, fs, esup)
    return np.where(esup[owner] >= 0, esup[owner], sup)


# ---- contratos and termos ------------------------------------------------------------------
def build_contracts(
    ctx: Ctx,
    h: pd.DataFrame,
    owner: np.ndarray,
    sup: np.ndarray,
    vth: np.ndarray,
    rday: np.ndarray,
) -> pd.DataFrame:
    """One contract per (homologated contratação, winning supplier) for most of them, signed
    after the result and published within the legal working days (with a margin)."""
    rng = ctx.rng("contracts")
    df = pd.DataFrame({"h": owner, "s": sup, "v": vth}).groupby(["h", "s"], sort=True)["v"].sum()
    df = df.reset_index()
    H = df["h"].to_numpy()
    n = len(df)
    mod = h["mod"].to_numpy()[H]
    em = (mod == 8) & (h["amparo"].to_numpy()[H] == 38)
    forced = h["forced"].to_numpy()[H]
    sure = em | forced
    keep = rng.random(n) < np.where(sure, 1.0, np.where(h["srp"].to_numpy()[H], 0.45, 0.72))
    assin = rday[H] + np.where(forced, 5, rng.integers(1, 21, n)) * DAY
    tipo = np.where(sure, 1, rng.choice([1, 7, 12, 8], n, p=[0.55, 0.38, 0.04, 0.03]))
    thr = np.where(np.isin(mod, (8, 9)), 10, 20)
    k = np.where(forced, 2, np.minimum(thr - 2, rng.geometric(0.3, n) - 1))
    keep &= assin <= ctx.today64 - 45 * DAY
    assin = np.where(keep, assin, ctx.start)  # placeholders, dropped below
    pub = np.where(k == 0, assin, ctx.cal.add_array(assin, np.maximum(k, 1)))
    keep &= pub <= ctx.today64
    vig = np.select(
        [em, tipo == 7],
        [rng.choice([90, 120, 180, 240, 300], n), rng.integers(30, 181, n)],
        rng.choice([365, 180, 730, 90, 30], n, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
    )
    hv = h["vig"].to_numpy()[H]
    vig = np.where(hv >= 0, hv, vig)
    ini = assin + np.where(sure | (rng.random(n) < 0.8), 0, rng.integers(1, 4, n)) * DAY
    out = pd.DataFrame(
        {
            "h": H,
            "s": df["s"].to_numpy(),
            "valor_inicial": np.round(df["v"].to_numpy(), 2),
            "tipo": tipo,
            "assin": assin,
            "pub": pub,
            "secs": rng.integers(8 * 3600, 20 * 3600, n),
            "ini": ini,
            "fim": ini + vig * DAY,
            "link": sure | (rng.random(n) >= 0.04),
            "receita": ~sure & (rng.random(n) < 0.005),
            "em": em,
            "tag": h["tag"].to_numpy()[H],
        }
    )[keep]
    return out.reset_index(drop=True)


TERMO_COLS = ["k", "tipo", "acr", "vig", "reaj", "valor", "prazo", "assin"]


def termos_frame(
    k: np.ndarray,
    tipo: int,
    acr: bool,
    vig: bool,
    reaj: bool,
    valor: Any,
    prazo: Any,
    assin: np.ndarray,
) -> pd.DataFrame:
    n = len(k)
    return pd.DataFrame(
        {
            "k": k,
            "tipo": np.full(n, tipo),
            "acr": np.full(n, acr),
            "vig": np.full(n, vig),
            "reaj": np.full(n, reaj),
            "valor": np.broadcast_to(np.asarray(valor, dtype=float), (n,)).copy(),
            "prazo": np.broadcast_to(np.asarray(prazo, dtype=np.int64), (n,)).copy(),
            "assin": assin,
        }
    )


def background_termos(ctx: Ctx, K: pd.DataFrame, eligible: np.ndarray) -> pd.DataFrame:
    """Acréscimos (Σ <= 20 %), prorrogações of continuing contracts, reajustes and a few
    rescisões, none on emergency contracts."""
    rng = ctx.rng("termos")
    t = ctx.today64
    vi = K["valor_inicial"].to_numpy()
    assin = K["assin"].to_numpy()
    age = (t - assin) / DAY
    el = eligible & (K["tipo"].to_numpy() == 1) & ~K["em"].to_numpy()
    out = []
    # acréscimos
    a = np.flatnonzero(el & (age > 90) & (rng.random(len(K)) < 0.22))
    two = rng.random(len(a)) < 0.4
    r = rng.uniform(0.02, 0.20, len(a))
    for part, sel in ((np.where(two, r * 0.6, r), np.ones(len(a), dtype=bool)), (r * 0.4, two)):
        kk = a[sel]
        span = np.minimum(age[kk] - 5, 400).astype(np.int64)
        out.append(
            termos_frame(
                kk,
                2,
                True,
                False,
                False,
                np.round(vi[kk] * part[sel], 2),
                0,
                assin[kk] + rng.integers(30, span + 1) * DAY,
            )
        )
    # prorrogações (value for the new period; not an acréscimo)
    vd = ((K["fim"] - K["ini"]) / DAY).to_numpy()
    fim = K["fim"].to_numpy()
    p = np.flatnonzero(el & (vd >= 180) & (fim <= t + 20 * DAY) & (rng.random(len(K)) < 0.35))
    prazo = np.where(rng.random(len(p)) < 0.7, 365, 180)
    when = fim[p] - rng.integers(25, 45, len(p)) * DAY
    okp = (when <= t) & (when > assin[p] + 30 * DAY)
    p, prazo, when = p[okp], prazo[okp], when[okp]
    val = np.round(vi[p] * prazo / vd[p] * rng.uniform(0.95, 1.1, len(p)), 2)
    out.append(termos_frame(p, 2, False, True, False, val, prazo, when))
    # reajustes (apostilamento)
    ra = np.flatnonzero(el & (age > 400) & (rng.random(len(K)) < 0.3))
    out.append(
        termos_frame(
            ra,
            3,
            False,
            False,
            True,
            np.round(vi[ra] * rng.uniform(0.03, 0.08, len(ra)), 2),
            0,
            assin[ra] + rng.integers(365, 395, len(ra)) * DAY,
        )
    )
    # rescisões
    rs = np.flatnonzero(el & (age > 200) & (rng.random(len(K)) < 0.015))
    out.append(
        termos_frame(
            rs, 1, False, False, False, 0.0, 0, assin[rs] + rng.integers(30, 200, len(rs)) * DAY
        )
    )
    return pd.concat(out, ignore_index=True)


def apply_termos(ctx: Ctx, K: pd.DataFrame, T: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Number the termos, publish them (never before their contract nor after today) and
    bring the contracts' valor_global, vigência and data_atualizacao up to date."""
    rng = ctx.rng("termo-pub")
    T = T.sort_values(["k", "assin", "tipo"], kind="stable").reset_index(drop=True)
    n = len(T)
    kpub = K["pub"].to_numpy()[T["k"].to_numpy()]
    assin = np.maximum(T["assin"].to_numpy(), kpub)
    pub = np.maximum(assin + rng.integers(0, 6, n) * DAY, kpub + DAY)
    ok = pub <= ctx.today64
    T = T[ok].copy()
    T["assin"] = assin[ok]
    T["pub_ts"] = pub[ok].astype("datetime64[s]") + rng.integers(8 * 3600, 20 * 3600, n)[ok].astype(
        "timedelta64[s]"
    )
    T["seq"] = T.groupby("k").cumcount().to_numpy() + 1
    kk = T["k"].to_numpy()
    nk = len(K)
    K = K.copy()
    K["valor_global"] = np.round(
        K["valor_inicial"].to_numpy() + np.bincount(kk, T["valor"].to_numpy(), minlength=nk), 2
    )
    K["fim"] = (
        K["fim"].to_numpy()
        + np.bincount(kk, T["prazo"].to_numpy(), minlength=nk).astype(np.int64) * DAY
    )
    kts = K["pub"].to_numpy().astype("datetime64[s]") + K["secs"].to_numpy().astype(
        "timedelta64[s]"
    )
    last = pd.Series(T["pub_ts"].to_numpy()).groupby(kk).max()
    upd = kts.copy()
    upd[last.index.to_numpy()] = np.maximum(kts[last.index.to_numpy()], last.to_numpy())
    K["pub_ts"] = kts
    K["upd"] = upd
    return K, T
