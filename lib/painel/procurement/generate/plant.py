"""Planted irregularities and their look-alike decoys (docs/procurement.md, rules R1-R9).

R1, R2 and R4 plant new, fully controlled purchases (appended headers, ``forced``: every item
homologated, fixed lags) in (unit, year, class) cells no background dispensa uses; R3 moves the
proposal deadline of background licitações; R6-R8 change background items and results; R5 and
R9 change background contracts and add termos. Every case is written to :class:`Gabarito`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import params
from .rand import pick
from .world import DAY, Ctx, Entities, termos_frame, with_defaults, years_of

# header tags
R1_PLANT, R1_DECOY, R2_PLANT, R2_DECOY = 1, 2, 3, 4
R4_LONG, R4_EXT, R4_PAIR_A, R4_PAIR_B = 5, 6, 7, 8
R4_D365, R4_D364, R4_DACR, R4_DPAIR_A, R4_DPAIR_B = 9, 10, 11, 12, 13


@dataclass
class Gabarito:
    """Ground-truth rows by position; keyed once the PNCP ids exist."""

    rows: list[tuple[str, str, Any, bool, list[dict[str, Any]]]] = field(default_factory=list)

    def add(self, rule: str, kind: str, ref: Any, planted: bool, prm: list[dict[str, Any]]) -> None:
        self.rows.append((rule, kind, ref, planted, prm))

    def count(self, rule: str, planted: bool) -> int:
        return sum(len(r[4]) for r in self.rows if r[0] == rule and r[3] == planted)


def n_plants(rate: float, population: int) -> int:
    return max(params.MIN_PLANTS, round(rate * population))


# ---- R1, R2, R4: new purchases -------------------------------------------------------------
class Cells:
    """(unit, year, class) cells no dispensa de valor uses yet."""

    def __init__(self, ctx: Ctx, E: Entities, h: pd.DataFrame, rng: np.random.Generator) -> None:
        m = (h["mod"].to_numpy() == 8) & np.isin(h["amparo"].to_numpy(), (18, 19))
        y = years_of(h["pub"].to_numpy()[m])
        self.used = set(
            zip(
                h["unit"].to_numpy()[m].tolist(),
                y.tolist(),
                h["cls"].to_numpy()[m].tolist(),
                strict=True,
            )
        )
        self.rng = rng
        self.E = E
        self.go_units = np.flatnonzero(E.unit_go)
        cons = E.org_consorcio[E.unit_org]
        self.cons_units = np.flatnonzero(E.unit_go & cons)
        self.plain_units = np.flatnonzero(E.unit_go & ~cons)
        self.years = list(
            range(ctx.first_year, years_of(np.array([ctx.today64 - 45 * DAY]))[0] + 1)
        )
        self.ctx = ctx

    def classes(self, inciso: str) -> np.ndarray:
        return np.flatnonzero(self.E.cls_valor & (self.E.cls_inciso == inciso))

    def take(self, unit: int, year: int, inciso: str) -> int:
        """A free class of ``inciso`` in (unit, year), marked used."""
        cl = self.classes(inciso)
        for c in self.rng.permutation(cl):
            key = (unit, year, int(c))
            if key not in self.used:
                self.used.add(key)
                return int(c)
        return -1

    def free(self, unit: int, year: int, c: int) -> bool:
        return (unit, year, c) not in self.used

    def days(self, year: int, lo: str = "01-01", hi: str = "12-31") -> np.ndarray:
        a = np.datetime64(f"{year}-{lo}", "D")
        b = min(np.datetime64(f"{year}-{hi}", "D"), self.ctx.today64 - 45 * DAY)
        return self.ctx.workdays(a, b) if b >= a else np.zeros(0, dtype="datetime64[D]")


def _limit(E: Entities, unit: int, year: int, inciso: str) -> float:
    cons = bool(E.org_consorcio[E.unit_org[unit]])
    return float(params.limite(np.array([year]), np.array([inciso]), np.array([cons]))[0])


def _dispensa(
    unit: int,
    E: Entities,
    day: np.datetime64,
    cls: int,
    inciso: str,
    target: float,
    n_items: int,
    disc: float,
    tag: int,
) -> dict[str, Any]:
    return {
        "unit": unit,
        "org": int(E.unit_org[unit]),
        "pub": day,
        "mod": 8,
        "amparo": 18 if inciso == "I" else 19,
        "sit": 1,
        "cls": cls,
        "n_items": n_items,
        "crit": 1,
        "secret": False,
        "srp": False,
        "instr": 3,
        "modo": 5,
        "target": target,
        "forced": True,
        "disc": disc,
        "tag": tag,
    }


def plant_headers(ctx: Ctx, E: Entities, h: pd.DataFrame, G: Gabarito) -> pd.DataFrame:
    rng = ctx.rng("plant-headers")
    cells = Cells(ctx, E, h, rng)
    new: list[dict[str, Any]] = []
    disp = (h["mod"].to_numpy() == 8) & np.isin(h["amparo"].to_numpy(), (18, 19))
    n_groups = len(cells.used)
    _r1(ctx, E, cells, new, G, n_plants(params.RATES["R1"], n_groups))
    _r2(ctx, E, cells, new, G, n_plants(params.RATES["R2"], int(disp.sum())))
    n_em = int(((h["mod"] == 8) & (h["amparo"] == 38)).sum())
    G.rows = [
        (r, "c", np.asarray(ref) + len(h), pl, p) if k == "new" else (r, k, ref, pl, p)
        for r, k, ref, pl, p in G.rows
    ]
    out = with_defaults(pd.concat([h, pd.DataFrame(new)], ignore_index=True))
    return _r4(ctx, E, out, G, n_plants(params.RATES["R4"], n_em), rng)


def _pick_unit(cells: Cells, cons: bool | None = None) -> int:
    pool = cells.go_units if cons is None else (cells.cons_units if cons else cells.plain_units)
    if len(pool) == 0:
        pool = cells.go_units
    return int(pool[cells.rng.integers(len(pool))])


def _r1(
    ctx: Ctx, E: Entities, cells: Cells, new: list[dict[str, Any]], G: Gabarito, n: int
) -> None:
    rng = cells.rng
    groups: list[tuple[int, int, int, str]] = []
    prm: list[dict[str, Any]] = []
    done = 0
    while done < n:
        unit = _pick_unit(cells)
        year = int(rng.choice(cells.years))
        inc = "I" if rng.random() < 0.35 else "II"
        cls = cells.take(unit, year, inc)
        days = cells.days(year)
        if cls < 0 or len(days) == 0:
            continue
        lim = _limit(E, unit, year, inc)
        k = int(rng.integers(2, 6))
        shares = rng.uniform(0.60, 0.95, k)
        disc = rng.uniform(0.0, 0.03, k)
        for s, d, day in zip(shares, disc, np.sort(rng.choice(days, k)), strict=True):
            est = round(lim * s / (1 - d), 2)
            new.append(
                _dispensa(unit, E, day, cls, inc, est, int(rng.integers(1, 4)), float(d), R1_PLANT)
            )
        groups.append((unit, year, cls, inc))
        prm.append(
            {
                "n": k,
                "limit": lim,
                "shares": [round(float(x), 4) for x in shares],
                "sum_over_limit": round(float(shares.sum()), 4),
            }
        )
        done += 1
    G.add("R1", "g1", groups, True, prm)
    # decoys: the same money split across classes, units or the year boundary
    dgroups: list[tuple[int, int, int, str]] = []
    dprm: list[dict[str, Any]] = []
    n_d = max(params.MIN_PLANTS, n // 2)
    i = 0
    tries = 0
    while i < n_d and tries < 50 * n_d:
        tries += 1
        how = ("classes", "units", "year")[i % 3]
        unit = _pick_unit(cells)
        inc = "I" if rng.random() < 0.35 else "II"
        year = int(rng.choice(cells.years))
        if how == "year":
            if year + 1 not in cells.years:
                continue
            parts = [
                (unit, year, cells.days(year, "12-01", "12-22")),
                (unit, year + 1, cells.days(year + 1, "01-05", "01-28")),
            ]
            if any(len(p[2]) == 0 for p in parts):
                continue
            c = cells.take(unit, year, inc)
            if c < 0 or not cells.free(unit, year + 1, c):
                continue
            cells.used.add((unit, year + 1, c))
            cl = [c, c]
        elif how == "units":
            org = E.unit_org[unit]
            sib = np.flatnonzero((E.unit_org == org) & E.unit_go)
            sib = sib[sib != unit]
            if len(sib) == 0:
                continue
            u2 = int(rng.choice(sib))
            c = cells.take(unit, year, inc)
            if c < 0 or not cells.free(u2, year, c):
                continue
            cells.used.add((u2, year, c))
            parts = [(unit, year, cells.days(year)), (u2, year, cells.days(year))]
            cl = [c, c]
        else:
            c1 = cells.take(unit, year, inc)
            c2 = cells.take(unit, year, inc)
            if c1 < 0 or c2 < 0:
                continue
            parts = [(unit, year, cells.days(year)), (unit, year, cells.days(year))]
            cl = [c1, c2]
        if any(len(p[2]) == 0 for p in parts):
            continue
        for (u, y, days), c in zip(parts, cl, strict=True):
            lim = _limit(E, u, y, inc)
            shares = rng.uniform(0.36, 0.46, 2)
            for s, day in zip(shares, np.sort(rng.choice(days, 2)), strict=True):
                new.append(
                    _dispensa(
                        u, E, day, c, inc, round(lim * s, 2), int(rng.integers(1, 3)), 0.0, R1_DECOY
                    )
                )
            dgroups.append((u, y, c, inc))
            dprm.append(
                {
                    "split": how,
                    "n": 2,
                    "limit": lim,
                    "sum_over_limit": round(float(shares.sum()), 4),
                }
            )
        i += 1
    G.add("R1", "g1", dgroups, False, dprm)


def _r2(
    ctx: Ctx, E: Entities, cells: Cells, new: list[dict[str, Any]], G: Gabarito, n: int
) -> None:
    rng = cells.rng
    start = len(new)
    prm: list[dict[str, Any]] = []
    dprm: list[dict[str, Any]] = []
    planted: list[bool] = []
    n_d = max(params.MIN_PLANTS, n // 2)
    i = 0
    while i < n + n_d:
        is_plant = i < n
        j = i if is_plant else i - n
        cons = None if len(cells.cons_units) == 0 else (j % 5 == 4)
        unit = _pick_unit(cells, cons)
        year = int(rng.choice(cells.years))
        inc = "I" if rng.random() < 0.3 else "II"
        cls = cells.take(unit, year, inc)
        days = cells.days(year)
        if cls < 0 or len(days) == 0:
            continue
        lim = _limit(E, unit, year, inc)
        single = lim / (2 if E.org_consorcio[E.unit_org[unit]] else 1)
        if is_plant:
            what = "exact" if j % 3 == 0 else "above"
            v = lim if what == "exact" else round(lim * rng.uniform(1.01, 3.0), 2)
            prm.append({"value": v, "limit": lim, "case": what})
        elif E.org_consorcio[E.unit_org[unit]] and j % 2 == 0:
            v = round(single * rng.uniform(1.05, 1.9), 2)
            dprm.append({"value": v, "limit": lim, "case": "consorcio_double_limit"})
        else:
            v = round(lim - 0.01, 2)
            dprm.append({"value": v, "limit": lim, "case": "limit_minus_0.01"})
        new.append(
            _dispensa(
                unit,
                E,
                rng.choice(days),
                cls,
                inc,
                v,
                int(rng.integers(2, 5)),  # 2+ items: the value is exact to the cent
                float(rng.uniform(0, 0.05)),
                R2_PLANT if is_plant else R2_DECOY,
            )
        )
        planted.append(is_plant)
        i += 1
    pos = np.array(planted)
    G.add("R2", "new", np.flatnonzero(pos) + start, True, prm)
    G.add("R2", "new", np.flatnonzero(~pos) + start, False, dprm)


def _r4(
    ctx: Ctx, E: Entities, h: pd.DataFrame, G: Gabarito, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Emergency purchases (amparo 38) whose contracts R4 flags, and look-alikes."""
    go = np.flatnonzero(E.unit_go)
    cls_ok = np.flatnonzero(E.cls_disp)
    wd = ctx.workdays(ctx.start, ctx.today64 - 120 * DAY)
    rows: list[dict[str, Any]] = []
    sup_k = 0
    reserved = E.sup_pj[len(E.sup_pj) - max(64, len(E.sup_pj) // 20) :]

    def em(unit: int, day: np.datetime64, tag: int, vig: int, fsup: int = -1) -> dict[str, Any]:
        return {
            "unit": unit,
            "org": int(E.unit_org[unit]),
            "pub": day,
            "mod": 8,
            "amparo": 38,
            "sit": 1,
            "cls": int(rng.choice(cls_ok)),
            "n_items": int(rng.integers(1, 4)),
            "crit": 1,
            "secret": False,
            "srp": False,
            "instr": 3,
            "modo": 5,
            "forced": True,
            "disc": 0.0,
            "fsup": fsup,
            "tag": tag,
            "vig": vig,
        }

    n_d = max(3, n // 2)
    for _ in range(n):
        rows.append(em(int(rng.choice(go)), rng.choice(wd), R4_LONG, int(rng.integers(366, 541))))
        rows.append(em(int(rng.choice(go)), rng.choice(wd), R4_EXT, int(rng.integers(120, 241))))
    for tag, vig in ((R4_D365, 365), (R4_D364, 364), (R4_DACR, 180)):
        for _ in range(n_d):
            rows.append(em(int(rng.choice(go)), rng.choice(wd), tag, vig))
    for tags, lo, hi, cnt in (
        ((R4_PAIR_A, R4_PAIR_B), 30, 300, n),
        ((R4_DPAIR_A, R4_DPAIR_B), 380, 500, n_d),
    ):
        wa = wd[wd <= ctx.today64 - (hi + 150) * DAY]
        if len(wa) == 0:
            continue
        for _ in range(cnt):
            unit = int(rng.choice(go))
            a = rng.choice(wa)
            gap = int(rng.integers(lo, hi + 1))
            b = np.busday_offset(a + gap * DAY, 0, roll="forward", holidays=ctx.holidays)
            s = int(reserved[sup_k % len(reserved)])
            sup_k += 1
            rows.append(em(unit, a, tags[0], int(rng.integers(90, 181)), s))
            rows.append(em(unit, b, tags[1], int(rng.integers(90, 181)), s))
    return with_defaults(pd.concat([h, pd.DataFrame(rows)], ignore_index=True))


# ---- R3: proposal windows ------------------------------------------------------------------
def plant_r3(ctx: Ctx, E: Entities, h: pd.DataFrame, d: dict[str, np.ndarray], G: Gabarito) -> None:
    rng = ctx.rng("plant-r3")
    pub, minimo = d["pub"], d["minimo"]
    el = np.flatnonzero(
        np.isin(h["mod"].to_numpy(), params.LICITACOES)
        & (h["sit"].to_numpy() == 1)
        & E.unit_go[h["unit"].to_numpy()]
    )
    n = n_plants(params.RATES["R3"], len(el))
    chosen = el[pick(rng, len(el), n)]
    short = rng.integers(1, 4, len(chosen))
    d["enc"][chosen] = ctx.cal.add_array(pub[chosen], minimo[chosen] - short)
    rest = np.setdiff1d(el, chosen)
    at_min = ctx.cal.add_array(pub[rest], minimo[rest])
    naive = np.busday_count(pub[rest] + DAY, at_min + DAY)
    hol = naive - minimo[rest]
    cand = rest[hol > 0]
    if len(cand) < params.MIN_PLANTS:
        cand = rest
    decoys = cand[pick(rng, len(cand), max(params.MIN_PLANTS, n // 3))]
    d["enc"][decoys] = ctx.cal.add_array(pub[decoys], minimo[decoys])

    def prm(idx: np.ndarray, planted: bool) -> list[dict[str, Any]]:
        du = ctx.cal.count_array(pub[idx], d["enc"][idx])
        naive = np.busday_count(pub[idx] + DAY, d["enc"][idx] + DAY)
        return [
            {"du": int(a), "minimo": int(b), "holidays_in_window": int(c - a)}
            for a, b, c in zip(du, minimo[idx], naive, strict=True)
        ]

    G.add("R3", "c", chosen, True, prm(chosen, True))
    G.add("R3", "c", decoys, False, prm(decoys, False))


# ---- R6, R7, R8: items and results ---------------------------------------------------------
def plant_items(
    ctx: Ctx,
    E: Entities,
    h: pd.DataFrame,
    it: dict[str, np.ndarray],
    hom: np.ndarray,
    disc: np.ndarray,
    pub: np.ndarray,
    G: Gabarito,
) -> None:
    rng = ctx.rng("plant-items")
    owner = it["owner"]
    mod = h["mod"].to_numpy()[owner]
    base = (
        hom
        & (h["sit"].to_numpy()[owner] == 1)
        & E.unit_go[h["unit"].to_numpy()[owner]]
        & ~h["forced"].to_numpy()[owner]
    )
    lic = np.isin(mod, params.LICITACOES)
    # R7: discount below 1 %
    el7 = np.flatnonzero(base & lic)
    r7 = el7[pick(rng, len(el7), n_plants(params.RATES["R7"], len(el7)))]
    disc[r7] = rng.uniform(0, 0.0099, len(r7))
    G.add("R7", "i", r7, True, [{"discount": round(float(x), 5)} for x in disc[r7]])
    taken = np.zeros(len(owner), dtype=bool)
    taken[r7] = True
    # R6: 1.6-5x the reference (estimate and result both inflated, the discount kept)
    catd = base & (it["cat_id"] == 1) & E.opt_parse[it["opt"]] & (mod != 8) & ~taken
    seen = np.bincount(it["cat"][base & (it["cat_id"] == 1)], minlength=len(E.cat_cls))
    old = pub[owner] >= ctx.start + 365 * DAY
    el6 = np.flatnonzero(catd & old & (seen[it["cat"]] >= 25))
    if len(el6) < params.MIN_PLANTS:
        el6 = np.flatnonzero(catd & old)
    r6 = el6[pick(rng, len(el6), n_plants(params.RATES["R6"], int(catd.sum())))]
    f = rng.uniform(1.6, 5.0, len(r6))
    it["p"][r6] = np.round(it["p"][r6] * f, 4)
    G.add("R6", "i", r6, True, [{"factor": round(float(x), 3)} for x in f])
    taken[r6] = True
    # R6 decoys: a box of 100 (or a pack of 10) priced as 100 (10) units
    un = E.opt_off["UN"][0]
    el6d = np.flatnonzero(
        base & lic & (it["cat_id"] == 1) & np.isin(it["opt"], (un, un + 1, un + 2)) & ~taken
    )
    dd = el6d[pick(rng, len(el6d), max(params.MIN_PLANTS, len(r6) // 3))]
    box = np.where(rng.random(len(dd)) < 0.6, un + 5, un + 6)  # CX C/ 100 UN, PCT 10 UN
    m = E.opt_mult[box]
    it["opt"][dd] = box
    it["q"][dd] = np.maximum(1.0, np.round(it["q"][dd] / m))
    it["p"][dd] = np.round(it["p"][dd] * m, 4)
    G.add(
        "R6",
        "i",
        dd,
        False,
        [{"unit": str(E.opt_text[b]), "multiplier": float(x)} for b, x in zip(box, m, strict=True)],
    )


def plant_r8(
    ctx: Ctx,
    E: Entities,
    h: pd.DataFrame,
    it: dict[str, np.ndarray],
    hom: np.ndarray,
    sup: np.ndarray,
    value: np.ndarray,
    pub: np.ndarray,
    rday: np.ndarray,
    G: Gabarito,
) -> None:
    rng = ctx.rng("plant-r8")
    owner = it["owner"]
    org = h["org"].to_numpy()[owner]
    py = years_of(pub[owner])
    ry = years_of(rday[owner])
    cls = it["cls"]
    go = E.unit_go[h["unit"].to_numpy()[owner]]
    movable = hom & ~h["forced"].to_numpy()[owner] & (h["amparo"].to_numpy()[owner] != 38)
    g = pd.DataFrame({"o": org, "y": py, "c": cls, "hom": hom & go})[hom & go]
    cnt = g.groupby(["o", "y", "c"]).size()
    cand = cnt[(cnt >= 6) & (cnt <= 60)].index.to_numpy()
    groups: list[tuple[int, int, int]] = []
    prm: list[dict[str, Any]] = []
    for j in rng.permutation(len(cand)):
        if len(groups) >= params.R8_GROUPS:
            break
        o, y, c = (int(x) for x in cand[j])
        sel = movable & (org == o) & (cls == c) & ((py == y) | (ry == y))
        grp = hom & (org == o) & (cls == c) & (py == y)
        dom = int(E.sup_perm[(E.pool_off[c] + rng.integers(E.pool_size[c])) % len(E.sup_perm)])
        new = np.where(sel, dom, sup)
        share = value[grp & (new == dom)].sum() / max(value[grp].sum(), 1e-9)
        if share <= 0.85:
            continue
        sup[sel] = dom
        groups.append((o, y, c))
        prm.append({"results": int(grp.sum()), "share": round(float(share), 4)})
    G.add("R8", "g8", groups, True, prm)


# ---- R4, R5, R9: contracts and termos --------------------------------------------------------
def plant_contracts(
    ctx: Ctx, E: Entities, h: pd.DataFrame, K: pd.DataFrame, G: Gabarito
) -> tuple[pd.DataFrame, np.ndarray]:
    """R4's contract-level cases, R5's late publications and R9's acréscimos; returns the
    planted termos and the contracts background termos must leave alone."""
    rng = ctx.rng("plant-contracts")
    n = len(K)
    tag = K["tag"].to_numpy()
    assin = K["assin"].to_numpy()
    vi = K["valor_inicial"].to_numpy().copy()
    age = ((ctx.today64 - assin) / DAY).astype(np.int64)
    vig = ((K["fim"] - K["ini"]) / DAY).to_numpy().astype(np.int64)
    T: list[pd.DataFrame] = []
    busy = tag > 0
    # R4
    for t, planted, case in (
        (R4_LONG, True, "vigencia_over_365"),
        (R4_EXT, True, "prorrogada"),
        (R4_PAIR_B, True, "recontratacao"),
        (R4_D365, False, "vigencia_365"),
        (R4_D364, False, "vigencia_364"),
        (R4_DACR, False, "acrescimo_sem_prazo"),
        (R4_PAIR_A, False, "first_of_pair"),
        (R4_DPAIR_B, False, "recontratacao_after_365"),
        (R4_DPAIR_A, False, "first_of_pair"),
    ):
        idx = np.flatnonzero(tag == t)
        p: list[dict[str, Any]] = [{"case": case, "vigencia_dias": int(v)} for v in vig[idx]]
        if t == R4_EXT:
            prazo = rng.integers(30, 181, len(idx))
            when = assin[idx] + np.minimum(rng.integers(20, 100, len(idx)), age[idx] - 10) * DAY
            T.append(
                termos_frame(
                    idx, 2, False, True, False, np.round(vi[idx] * prazo / 365, 2), prazo, when
                )
            )
            for q, x in zip(p, prazo, strict=True):
                q["prazo_aditado_dias"] = int(x)
        if t == R4_DACR:
            T.append(
                termos_frame(
                    idx, 2, True, False, False, np.round(vi[idx] * 0.1, 2), 0, assin[idx] + 20 * DAY
                )
            )
        if t in (R4_PAIR_B, R4_DPAIR_B):
            first = R4_PAIR_A if t == R4_PAIR_B else R4_DPAIR_A
            a = np.flatnonzero(tag == first)
            ka = pd.Series(a, index=K["s"].to_numpy()[a])
            for q, i in zip(p, idx, strict=True):
                q["dias_desde_anterior"] = int((assin[i] - assin[int(ka[K["s"].iat[i]])]) / DAY)
        G.add("R4", "k", idx, planted, p)
    # R5: published 1-20 d.u. after the deadline; decoys exactly on it
    link_mod = np.where(K["link"].to_numpy(), h["mod"].to_numpy()[K["h"].to_numpy()], 0)
    thr = np.where(np.isin(link_mod, (8, 9)), 10, 20)
    el = np.flatnonzero(~busy & E.unit_go[h["unit"].to_numpy()[K["h"].to_numpy()]] & (age > 80))
    n5 = n_plants(params.RATES["R5"], n)
    sel = el[pick(rng, len(el), n5 + max(params.MIN_PLANTS, n5 // 3))]
    sel = rng.permutation(sel)
    r5, d5 = np.sort(sel[:n5]), np.sort(sel[n5:])
    du = np.concatenate([thr[r5] + rng.integers(1, 21, len(r5)), thr[d5]])
    both = np.concatenate([r5, d5])
    pub = K["pub"].to_numpy().copy()
    pub[both] = ctx.cal.add_array(assin[both], du)
    K["pub"] = pub
    lk = K["link"].to_numpy()
    G.add(
        "R5",
        "k",
        r5,
        True,
        [
            {"du": int(x), "limite": int(thr[i]), "vinculo": bool(lk[i])}
            for x, i in zip(du[: len(r5)], r5, strict=True)
        ],
    )
    G.add(
        "R5",
        "k",
        d5,
        False,
        [{"du": int(thr[i]), "limite": int(thr[i]), "vinculo": bool(lk[i])} for i in d5],
    )
    busy[both] = True
    # R9: acréscimos over 25 % (50 % for a reforma); decoys at the limits and inflated globals
    reforma = E.cls_reforma[h["cls"].to_numpy()[K["h"].to_numpy()]]
    el9 = np.flatnonzero(
        ~busy
        & (K["tipo"].to_numpy() == 1)
        & ~K["em"].to_numpy()
        & (age > 150)
        & (vi >= 1000)
        & E.unit_go[h["unit"].to_numpy()[K["h"].to_numpy()]]
    )
    n9 = n_plants(params.RATES["R9"], int((K["tipo"] == 1).sum()))
    nd = max(params.MIN_PLANTS // 2, n9 // 4)
    ref = el9[reforma[el9]]
    plain = el9[~reforma[el9]]
    pr = rng.permutation(plain)
    r9 = np.sort(np.concatenate([pr[:n9], ref[: min(3, len(ref))]]))
    d_infl, d_25 = np.sort(pr[n9 : n9 + nd]), np.sort(pr[n9 + nd : n9 + 2 * nd])
    rr = rng.permutation(ref[3:])
    d_ref, d_ref50 = np.sort(rr[:3]), np.sort(rr[3:6])
    ratio = np.where(
        reforma[r9], rng.uniform(0.51, 0.60, len(r9)), rng.uniform(0.26, 0.60, len(r9))
    )
    parts = rng.integers(1, 4, len(r9))
    for j in range(3):
        m = parts > j
        w = np.where(parts[m] == 1, 1.0, np.where(j == 0, 0.5, 0.5 / np.maximum(parts[m] - 1, 1)))
        span = np.minimum(age[r9[m]] - 10, 500)
        T.append(
            termos_frame(
                r9[m],
                2,
                True,
                False,
                False,
                np.round(vi[r9[m]] * ratio[m] * w, 2),
                0,
                assin[r9[m]] + (span * (j + 1) // 4) * DAY,
            )
        )
    G.add(
        "R9",
        "k",
        r9,
        True,
        [
            {"ratio": round(float(x), 4), "reforma": bool(reforma[i]), "termos": int(p)}
            for x, i, p in zip(ratio, r9, parts, strict=True)
        ],
    )
    # decoy: acréscimos <= 22 % but reajuste + prorrogação push valor_global over 125 %
    ra = rng.uniform(0.10, 0.22, len(d_infl))
    T.append(
        termos_frame(
            d_infl, 2, True, False, False, np.round(vi[d_infl] * ra, 2), 0, assin[d_infl] + 30 * DAY
        )
    )
    T.append(
        termos_frame(
            d_infl,
            3,
            False,
            False,
            True,
            np.round(vi[d_infl] * 0.07, 2),
            0,
            assin[d_infl] + 60 * DAY,
        )
    )
    T.append(
        termos_frame(
            d_infl,
            2,
            False,
            True,
            False,
            np.round(vi[d_infl] * 0.8, 2),
            365,
            assin[d_infl] + 90 * DAY,
        )
    )
    # decoys exactly at 25 % / 50 %: valor_inicial a multiple of R$ 4 / R$ 2
    for idx, div in ((d_25, 4), (d_ref50, 2)):
        vi[idx] = np.maximum(div, np.round(vi[idx] / div)) * div
        T.append(termos_frame(idx, 2, True, False, False, vi[idx] / div, 0, assin[idx] + 40 * DAY))
    rf = rng.uniform(0.30, 0.48, len(d_ref))
    T.append(
        termos_frame(
            d_ref, 2, True, False, False, np.round(vi[d_ref] * rf, 2), 0, assin[d_ref] + 40 * DAY
        )
    )
    K["valor_inicial"] = vi
    G.add(
        "R9",
        "k",
        d_infl,
        False,
        [{"case": "reajuste_prorrogacao", "acrescimo": round(float(x), 4)} for x in ra],
    )
    G.add("R9", "k", d_25, False, [{"case": "exactly_25"} for _ in d_25])
    G.add(
        "R9",
        "k",
        d_ref,
        False,
        [{"case": "reforma_under_50", "acrescimo": round(float(x), 4)} for x in rf],
    )
    G.add("R9", "k", d_ref50, False, [{"case": "reforma_exactly_50"} for _ in d_ref50])
    for idx in (r9, d_infl, d_25, d_ref, d_ref50):
        busy[idx] = True
    return pd.concat(T, ignore_index=True), busy
