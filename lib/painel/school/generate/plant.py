"""Plants every rule's cases (docs/school.md, I1-I14) and look-alike decoys into the world.

Each plant takes matrículas, students or turmas nobody else uses (the matrícula ``role``), and
is shaped so it triggers its own rule only: a duplicated matrícula takes a free place in a
turma of its etapa (no I5, no I13), has grades and attendance (no I7/I8/I14), and is closed
as a transfer at the year's end (no I11); an age plant keeps the etapa of its turma; and so
on. Every plant is recorded as an :class:`~.world.Item` with the dumps it is a finding in;
decoys likewise, with a one-line ``why``. Findings that depend on history (I9c, I14) and
decoys that depend on the date are worked out per dump in :mod:`.truth`.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from .. import contract
from . import attendance
from .calendario import dnum
from .params import (
    IDADE_MAX_ACIMA,
    MAX_AULAS_DIA_COMPONENTE,
    MIN_PLANTS,
    PONTOS_BIMESTRE,
    PRAZO_LANCAMENTO_DIAS,
)
from .world import (
    AEE,
    COMPS,
    CONSTRUCT,
    CURR,
    DECOY,
    E_TABLE,
    GI,
    INF,
    MAXC,
    MIXED,
    NCOMP,
    PLANTED,
    Builder,
    Item,
    mc_key,
    row_key,
)

PONTOS_T = PONTOS_BIMESTRE * 10  # tenths
NEXT_ETAPA = {
    14: 15,
    15: 16,
    16: 17,
    17: 18,
    18: 17,
    19: 20,
    20: 21,
    21: 41,
    41: 21,
    25: 26,
    26: 27,
    27: 26,
}
RETURNERS_PER_SCALE = 4  # returner cycles (15 each) per unit of scale, at least one


def mat_id(i: int | np.integer) -> int:
    return 100_000_001 + int(i)


def aluno_id(i: int | np.integer) -> int:
    return 310_000_000_001 + int(i)


def turma_id(i: int | np.integer) -> int:
    return 10_000_001 + int(i)


def count(b: Builder, rule: str, population: float) -> int:
    """How many cases to plant: the rate's share, at least MIN_PLANTS when the rate is > 0."""
    rate = b.rates.get(rule, 0.0)
    if rate <= 0:
        return 0
    return max(MIN_PLANTS, round(rate * population))


def _first_dump(b: Builder) -> int:
    return b.first_day + 1


def _add(b: Builder, rule: str, key: dict[str, object], since: int, until: int = INF) -> None:
    b.plants.append(Item(rule, key, since, until))


def _decoy(
    b: Builder, rule: str, key: dict[str, object], why: str, since: int, until: int = INF
) -> None:
    b.decoys.append(Item(rule, key, since, until, why))


# ---- I5: turmas over capacity (reserved before the students are made) ---------------------
def reserve_turmas(b: Builder) -> None:
    """I5 plants (over capacity, with and without NU_CAPACIDADE) and decoys (exactly full)."""
    rng = b.rng
    ordinary = np.flatnonzero((b.t_grp <= GI["EM"]) & (b.t_unif == 0))
    n = min(count(b, "I5", len(b.t_grp)), max(0, len(ordinary) - 4))
    chosen = rng.choice(ordinary, n + 2, replace=False) if len(ordinary) >= n + 2 else ordinary[:0]
    until = b.last_day
    for i, t in enumerate(chosen):
        t = int(t)
        b.t_reserved[t] = True
        default = int(b.cap_default[t])
        if i < n:
            extra = 1 + int(rng.integers(0, 3))
            if i % 2 == 0:
                b.t_cap[t] = int(b.t_n0[t]) - extra
            else:
                b.t_n0[t] = default + extra
                b.t_cap[t] = 0
            _add(b, "I5", {"id_turma": turma_id(t)}, _first_dump(b), until)
        elif i == n:
            b.t_cap[t] = int(b.t_n0[t])
            _decoy(
                b,
                "I5",
                {"id_turma": turma_id(t)},
                "active matrículas exactly equal NU_CAPACIDADE",
                _first_dump(b),
                until,
            )
        else:
            b.t_n0[t] = default
            b.t_cap[t] = 0
            _decoy(
                b,
                "I5",
                {"id_turma": turma_id(t)},
                f"no NU_CAPACIDADE; active matrículas exactly equal the default ({default})",
                _first_dump(b),
                until,
            )


# ---- matrícula-level plants --------------------------------------------------------------
def _construct(
    b: Builder, statuses: list[int], etapa: int = 20, missing: tuple[str, ...] = ()
) -> tuple[int, list[int]]:
    """A new student whose matrículas (no turma) all closed before the school year, in
    different schools, with ``statuses`` in order. Returns (student, matrículas)."""
    rng = b.rng
    ns = len(b.esc_id)
    s0 = int(rng.integers(ns))
    cols = b.new_students(b.births(np.array([etapa]), np.array([etapa])), np.array([s0]))
    for f in missing:
        cols[f] = np.array([INF if f == "birth" else 0])
    al = int(b.append_students(cols)[0])
    day = b.year_start + int(rng.integers(0, 4))
    ms = []
    for j, st in enumerate(statuses):
        school = (s0 + j * (1 + int(rng.integers(max(1, ns - 1))))) % ns if ns > 1 else 0
        start, end = day, day + 2
        day = end + 1
        assert end < b.first_day
        ms.append(
            int(
                b.append_matriculas(
                    aluno=np.array([al]),
                    school=np.array([school]),
                    etapa=np.array([etapa]),
                    dtmat=np.array([start]),
                    exit=np.array([end]),
                    enc=np.array([end]),
                    final=np.array([st]),
                    att=np.array([0]),
                    role=np.array([CONSTRUCT]),
                )[0]
            )
        )
    return al, ms


def _duplicates(b: Builder, rule: str, same_school: bool) -> None:
    """I1/I2: a second active escolarização matrícula of the same student."""
    rng = b.rng
    n = count(b, rule, len(b.m["aluno"]) / 2)
    role = PLANTED + int(rule[1:])
    firsts = b.pick(4 * n, role=role)  # more than needed: some etapas have no free place
    dup = b.notes.setdefault("dup_extra", [])
    done = 0
    for m1 in firsts:
        m1 = int(m1)
        t = (
            -1
            if done >= n
            else b.take_slot(int(b.m["etapa"][m1]), int(b.m["school"][m1]), same_school=same_school)
        )
        if t < 0:
            b.m["role"][m1] = 0
            continue
        i = done
        done += 1
        if i % 3 == 2:  # enrolled again during the year
            dtmat = int(b.cal.days[rng.integers(5, b.cal.n_days - 30)])
        else:
            dtmat = int(rng.integers(b.year_start, b.first_day + 1))
        m2 = int(
            b.append_matriculas(
                aluno=b.m["aluno"][[m1]],
                turma=np.array([t]),
                school=b.t_school[[t]],
                etapa=b.m["etapa"][[m1]],
                dtmat=np.array([dtmat]),
                role=np.array([role]),
            )[0]
        )
        dup.append(m2)
        since = max(_first_dump(b), dtmat + 1)
        for mi in (m1, m2):
            _add(b, rule, {"id_matricula": mat_id(mi)}, since, b.last_day)


def _set_birth(b: Builder, m: np.ndarray, age: np.ndarray, doy: np.ndarray | None = None) -> None:
    y = b.year
    jan1 = np.array([dnum(date(y - int(a), 1, 1)) for a in age], dtype=np.int64)
    if doy is None:
        doy = b.rng.integers(0, 365, len(m))
    b.a["birth"][b.m["aluno"][m]] = jan1 + doy


def _ages(b: Builder) -> None:
    """I4 plants (too old, too young, 1º ano under 6 on 31 March) and their decoys."""
    rng = b.rng
    m = b.m
    e = E_TABLE[m["etapa"]]
    has_e = e >= 0
    first = m["etapa"] == 14
    n = count(b, "I4", int(has_e.sum()))
    until = b.last_day
    n14 = n // 3 if (first & (m["role"] == 0)).sum() > n // 3 + 1 else 0
    young = n // 3
    old = n - n14 - young
    role = PLANTED + 4
    p_old = b.pick(old, has_e, role)
    _set_birth(b, p_old, e[p_old] + IDADE_MAX_ACIMA + rng.integers(0, 3, len(p_old)))
    p_young = b.pick(young, has_e & ~first & (e >= 8), role)
    _set_birth(b, p_young, e[p_young] - 2)
    p14 = b.pick(n14, first, role)
    apr1 = dnum(date(b.year - 6, 4, 1))
    b.a["birth"][m["aluno"][p14]] = apr1 + rng.integers(0, 270, len(p14))
    for mi in np.concatenate([p_old, p_young, p14]):
        _add(b, "I4", {"id_matricula": mat_id(mi)}, _first_dump(b), until)
    # decoys: exactly E + 4, exactly E - 1, 1º ano exactly 6 on 31 March
    d = DECOY + 4
    for mi in b.pick(1, has_e & ~first, d):
        _set_birth(b, np.array([mi]), np.array([e[mi] + IDADE_MAX_ACIMA - 1]))
        _decoy(
            b,
            "I4",
            {"id_matricula": mat_id(mi)},
            f"age exactly E + 4 ({e[mi] + 4}) in etapa {m['etapa'][mi]}",
            _first_dump(b),
            until,
        )
    for mi in b.pick(1, has_e & ~first, d):
        _set_birth(b, np.array([mi]), np.array([e[mi] - 1]))
        _decoy(
            b,
            "I4",
            {"id_matricula": mat_id(mi)},
            f"age exactly E - 1 ({e[mi] - 1}) in etapa {m['etapa'][mi]}",
            _first_dump(b),
            until,
        )
    for mi in b.pick(1, first, d):
        b.a["birth"][m["aluno"][mi]] = dnum(date(b.year - 6, 3, 31))
        _decoy(
            b,
            "I4",
            {"id_matricula": mat_id(mi)},
            "1º ano, born 31/03: exactly 6 on 31 March",
            _first_dump(b),
            until,
        )


def plant_matriculas(b: Builder) -> None:
    """I1-I4, I11-I14 on free matrículas (and new students for I11's constructs)."""
    rng = b.rng
    m = b.m
    first_dump, until = _first_dump(b), b.last_day
    _duplicates(b, "I1", same_school=False)
    _duplicates(b, "I2", same_school=True)
    # I3: not enturmado
    for mi in b.pick(count(b, "I3", len(m["aluno"])), role=PLANTED + 3):
        m["turma"][mi] = -1
        m["att"][mi] = 0
        _add(b, "I3", {"id_matricula": mat_id(mi)}, first_dump, until)
    _, ms = _construct(b, [2])
    _decoy(
        b,
        "I3",
        {"id_matricula": mat_id(ms[0])},
        "no turma, but closed (status 2) before the year began",
        first_dump,
    )
    _ages(b)
    # I11: two outcomes, or falecido and another
    n = count(b, "I11", len(b.a["birth"]))
    for _ in range((n + 1) // 2):
        al, _ms = _construct(b, [2, 2])
        _add(b, "I11", {"co_pessoa_fisica": aluno_id(al)}, first_dump)
    alive = b.pick(n // 2, role=PLANTED + 11)
    ns = len(b.esc_id)
    days = b.year_start + rng.integers(0, 10, len(alive))
    b.append_matriculas(
        aluno=m["aluno"][alive],
        school=(m["school"][alive] + 1) % ns,
        etapa=m["etapa"][alive],
        dtmat=days,
        exit=days + 3,
        enc=days + 3,
        final=np.full(len(alive), contract.SITUACAO_FALECIDO),
        att=np.zeros(len(alive)),
        role=np.full(len(alive), CONSTRUCT),
    )
    for mi in alive:
        _add(b, "I11", {"co_pessoa_fisica": aluno_id(m["aluno"][mi])}, first_dump)
    for statuses, why in (
        ([1, 3], "transferred (1), then falecido (3): 1 is not an outcome"),
        ([1, 2], "transferred (1), then deixou de frequentar (2): one outcome"),
        ([1, 5], "transferred (1), then aprovado (5) in another school: one outcome"),
    ):
        al, _ = _construct(b, statuses)
        _decoy(b, "I11", {"co_pessoa_fisica": aluno_id(al)}, why, first_dump)
    # I12: cadastro
    fields = ("birth", "sexo", "mun")
    for i, mi in enumerate(b.pick(count(b, "I12", len(m["aluno"])), role=PLANTED + 12)):
        f = fields[i % 3]
        b.a[f][m["aluno"][mi]] = INF if f == "birth" else 0
        _add(b, "I12", {"id_matricula": mat_id(mi)}, first_dump, until)
    for mi in b.pick(1, role=DECOY + 12):
        b.a["cor"][m["aluno"][mi]] = 0
        _decoy(
            b,
            "I12",
            {"id_matricula": mat_id(mi)},
            "TP_COR_RACA = 0 (não declarada) is valid",
            first_dump,
            until,
        )
    for mi in b.pick(1, role=DECOY + 12):
        b.a["zona"][m["aluno"][mi]] = 0
        _decoy(
            b,
            "I12",
            {"id_matricula": mat_id(mi)},
            "TP_ZONA_RESIDENCIAL empty is not part of the rule",
            first_dump,
            until,
        )
    _, ms = _construct(b, [2], missing=("birth", "sexo"))
    _decoy(
        b,
        "I12",
        {"id_matricula": mat_id(ms[0])},
        "no birth date or sex, but the matrícula is closed",
        first_dump,
    )
    # I13: etapa other than the turma's in a TP_UNIFICADA = 0 turma
    movable = np.isin(m["etapa"], list(NEXT_ETAPA))
    for mi in b.pick(count(b, "I13", len(m["aluno"])), movable, PLANTED + 13):
        t_e = int(m["etapa"][mi])
        new = NEXT_ETAPA[t_e]
        m["etapa"][mi] = new
        age = max(E_TABLE[new], E_TABLE[t_e]) + int(rng.integers(0, 2))
        _set_birth(b, np.array([mi]), np.array([age]))
        _add(b, "I13", {"id_matricula": mat_id(mi)}, first_dump, until)
    mixed = np.flatnonzero(
        (m["role"] == MIXED) & (m["etapa"] != b.t_etapa[np.maximum(m["turma"], 0)])
    )
    for mi in mixed[:2]:
        t = int(m["turma"][mi])
        _decoy(
            b,
            "I13",
            {"id_matricula": mat_id(mi)},
            f"etapa {m['etapa'][mi]} in turma of etapa {b.t_etapa[t]} with TP_UNIFICADA = {b.t_unif[t]}",
            first_dump,
            until,
        )
    # I14: stoppers (plants, counted per dump in truth.py) and returners (decoys)
    n_days = b.cal.n_days
    n = count(b, "I14", len(m["aluno"]))
    stoppers = b.pick(max(4, n) if n else 0, role=PLANTED + 14)
    ks = np.linspace(3, n_days - 4, len(stoppers)).round().astype(np.int64)
    m["att"][stoppers] = attendance.STOPPER
    m["attk"][stoppers] = rng.permutation(ks)
    n_ret = attendance.RETURN_PERIOD * max(1, round(b.scale * RETURNERS_PER_SCALE))
    returners = b.pick(n_ret, role=DECOY + 14)
    m["att"][returners] = attendance.RETURNER
    m["attk"][returners] = np.arange(len(returners)) % attendance.RETURN_PERIOD
    b.notes["stoppers"] = stoppers
    b.notes["returners"] = returners
    # exits of ordinary matrículas: daily rows after them are I9(c) plants (truth.py)
    b.notes["aee"] = np.flatnonzero(m["role"] == AEE)


# ---- row-level plants (after the posting days are known) ----------------------------------
def _slots_of(b: Builder, mi: np.ndarray) -> np.ndarray:
    """A random curriculum slot for each matrícula (of its turma's group)."""
    grp = b.t_grp[b.m["turma"][mi]]
    return (b.rng.random(len(mi)) * NCOMP[grp]).astype(np.int64)


def _bimestres(b: Builder, n: int, top: int) -> np.ndarray:
    """Bimestres 1..top for n plants: the first ones early so that most dates show some."""
    out = b.rng.integers(1, top + 1, n)
    out[: min(n, top)] = np.arange(1, min(n, top) + 1)
    return out


def _comp(b: Builder, mi: int, slot: int) -> str:
    return COMPS[CURR[b.t_grp[b.m["turma"][mi]], slot]]


def plant_rows(b: Builder) -> None:
    """I6 (teachers), I7/I8 (missing rows), I9 (attendance), I10 (grades)."""
    rng = b.rng
    m = b.m
    ov = b.ov
    first_dump, until = _first_dump(b), b.last_day
    fim = b.cal.fim
    # I6: turma x component with no docente
    esc = np.flatnonzero((b.t_tipo == 1) & ~b.t_reserved)
    pop = int(NCOMP[b.t_grp[esc]].sum())
    n6 = min(count(b, "I6", pop), max(0, len(esc) - 1))
    chosen = rng.choice(esc, n6 + 1, replace=False) if len(esc) > n6 else esc[:0]
    drop: set[int] = set()
    for t in chosen[:n6]:
        slot = int(rng.integers(NCOMP[b.t_grp[t]]))
        drop.add(int(t) * MAXC + slot)
        _add(
            b,
            "I6",
            {"id_turma": turma_id(t), "componente": COMPS[CURR[b.t_grp[t], slot]]},
            first_dump,
        )
    aux: set[int] = set()
    for t in chosen[n6:]:
        slot = int(rng.integers(NCOMP[b.t_grp[t]]))
        aux.add(int(t) * MAXC + slot)
        _decoy(
            b,
            "I6",
            {"id_turma": turma_id(t), "componente": COMPS[CURR[b.t_grp[t], slot]]},
            "the component's only docente is TP_TIPO_DOCENTE 2 (a teacher of any type counts)",
            first_dump,
        )
    b.notes["i6_drop"], b.notes["i6_aux_only"] = drop, aux
    aee = np.flatnonzero(b.t_tipo == 3)
    if len(aee):
        _decoy(
            b,
            "I6",
            {"id_turma": turma_id(aee[0]), "componente": None},
            "AEE turma (no etapa, no curriculum) with no docente at all",
            first_dump,
        )

    enturmadas = int(((m["turma"] >= 0) & (m["att"] > 0)).sum())
    per_m = float(NCOMP[b.t_grp[b.t_tipo == 1]].mean())
    # I7 / I8: missing grade / attendance in a bimestre that becomes due
    for rule, is_nota in (("I7", True), ("I8", False)):
        n = count(b, rule, enturmadas * per_m * 3)
        mi = b.pick(n, role=PLANTED + int(rule[1:]))
        slots = _slots_of(b, mi)
        bims = _bimestres(b, len(mi), 3)
        for i, (x, s, bb) in enumerate(zip(mi, slots, bims, strict=True)):
            key = int(row_key(int(x), int(s), int(bb)))
            if is_nota:
                (ov.nota_drop if i % 2 == 0 else ov.nota_null).add(key)
            else:
                ov.freq_drop.add(key)
            item = {"id_matricula": mat_id(x), "componente": _comp(b, x, s), "bimestre": int(bb)}
            _add(b, rule, item, fim[bb - 1] + PRAZO_LANCAMENTO_DIAS + 1, until)
        b.notes[rule] = (mi, slots, bims)
    # I9 (a) faltas > aulas dadas, (b) aulas dadas > dias letivos x 2
    dias = b.cal.dias_letivos
    n = count(b, "I9", enturmadas * per_m * 4)
    for variant in ("a", "b"):
        mi = b.pick(max(MIN_PLANTS, n // 2) if n else 0, role=PLANTED + 9)
        slots = _slots_of(b, mi)
        bims = _bimestres(b, len(mi), 4)
        for x, s, bb in zip(mi, slots, bims, strict=True):
            t = int(m["turma"][x])
            key = int(row_key(int(x), int(s), int(bb)))
            if variant == "a":
                ov.faltas[key] = int(b.aulas[t, s, bb - 1]) + 1 + int(rng.integers(0, 4))
            else:
                ov.aulas[key] = (
                    dias[bb - 1] * MAX_AULAS_DIA_COMPONENTE + 1 + int(rng.integers(0, 5))
                )
            item = {"id_matricula": mat_id(x), "componente": _comp(b, x, s), "bimestre": int(bb)}
            _add(b, "I9", item, int(b.post[t, s, bb - 1]) + 1)
    for variant in ("faltas", "aulas"):
        for x in b.pick(1, role=DECOY + 9):
            t = int(m["turma"][x])
            s = 0
            key = int(row_key(int(x), s, 1))
            if variant == "faltas":
                ov.faltas[key] = int(b.aulas[t, s, 0])
                why = "QT_FALTAS exactly equals QT_AULAS_DADAS"
            else:
                ov.aulas[key] = dias[0] * MAX_AULAS_DIA_COMPONENTE
                why = f"QT_AULAS_DADAS exactly QT_DIAS_LETIVOS x {MAX_AULAS_DIA_COMPONENTE}"
            item = {"id_matricula": mat_id(x), "componente": _comp(b, x, s), "bimestre": 1}
            _decoy(b, "I9", item, why, int(b.post[t, s, 0]) + 1)
    # I10 (a) nota outside [0, pontos], (b) recuperação outside it, (c) year's points != 100
    n = count(b, "I10", enturmadas * per_m * 4)
    for variant in ("a", "b"):
        mi = b.pick(max(MIN_PLANTS, n // 2) if n else 0, role=PLANTED + 10)
        slots = _slots_of(b, mi)
        bims = _bimestres(b, len(mi), 4)
        for i, (x, s, bb) in enumerate(zip(mi, slots, bims, strict=True)):
            t = int(m["turma"][x])
            key = int(row_key(int(x), int(s), int(bb)))
            if variant == "a":
                ov.nota[key] = -10 if i % 3 == 2 else PONTOS_T + 5 * (1 + int(rng.integers(0, 10)))
            else:
                ov.rec[key] = -50 if i % 3 == 2 else PONTOS_T + 10 * (1 + int(rng.integers(0, 5)))
            item = {"id_matricula": mat_id(x), "componente": _comp(b, x, s), "bimestre": int(bb)}
            _add(b, "I10", item, int(b.post[t, s, bb - 1]) + 1)
    n_c = count(b, "I10", enturmadas * per_m)
    mi = b.pick(n_c, role=PLANTED + 10)
    for i, (x, s) in enumerate(zip(mi, _slots_of(b, mi), strict=True)):
        pts = [PONTOS_T] * 4
        pts[int(rng.integers(0, 4))] = PONTOS_T + (50 if i % 2 == 0 else -50)
        ov.plan[int(mc_key(int(x), int(s)))] = (pts[0], pts[1], pts[2], pts[3])
        _add(b, "I10", {"id_matricula": mat_id(x), "componente": _comp(b, x, s)}, first_dump)
    for variant in ("nota", "rec"):
        for x in b.pick(1, role=DECOY + 10):
            t = int(m["turma"][x])
            key = int(row_key(int(x), 0, 1))
            if variant == "nota":
                ov.nota[key] = PONTOS_T
                why = "VL_NOTA exactly equals VL_PONTOS_DISTRIBUIDOS"
            else:
                ov.nota[key] = PONTOS_T // 2
                ov.rec[key] = PONTOS_T
                why = "VL_NOTA_RECUPERACAO exactly equals VL_PONTOS_DISTRIBUIDOS"
            item = {"id_matricula": mat_id(x), "componente": _comp(b, x, 0), "bimestre": 1}
            _decoy(b, "I10", item, why, int(b.post[t, 0, 0]) + 1)


def i9c_pool(b: Builder) -> tuple[np.ndarray, float]:
    """Ordinary exits (transfers out, leavers) that were enturmadas: candidates for a daily row
    after DT_ENCERRAMENTO (I9c), and the share of daily rows to plant."""
    m = b.m
    from .world import LEAVER, TRANSFER_OLD

    pool = np.flatnonzero(np.isin(m["role"], (TRANSFER_OLD, LEAVER)) & (m["turma"] >= 0))
    return pool, b.rates.get("I9", 0.0) / 5
