"""The synthetic school network of one year: SREs, municipalities, schools, turmas, students,
matrículas and their events, built once (numpy, vectorised) and shown as of any date.

Everything here depends on (scale, seed, year) only, never on the dump date, so consecutive
dumps show the same world: a dump of date D shows what happened up to the end of D - 1
(:mod:`.snapshot`). Dates are day numbers (:mod:`.calendario`); ``INF`` means "never"/empty.

The clean world obeys every rule of docs/school.md; :mod:`.plant` then plants each rule's
cases and decoys on matrículas, students and turmas reserved for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from .. import contract
from . import attendance, names
from .calendario import SchoolCalendar, build_calendar, dnum
from .params import PRAZO_LANCAMENTO_DIAS, capacidade_padrao

INF = 10**9  # "no date": later than any day number
GRUPOS = contract.GRUPOS
GI = {g: i for i, g in enumerate(GRUPOS)}
COMPS = tuple(contract.COMPONENTES)
CI = {c: i for i, c in enumerate(COMPS)}
MAXC = max(len(v) for v in contract.CURRICULO.values())
CURR = np.full((len(GRUPOS), MAXC), -1, dtype=np.int64)  # global component index per slot
for _g, _comps in contract.CURRICULO.items():
    CURR[GI[_g], : len(_comps)] = [CI[c] for c in _comps]
NCOMP = (CURR >= 0).sum(axis=1)
WEEKLY = np.array(
    [
        {"LINGUA_PORTUGUESA": 5, "MATEMATICA": 5, "CIENCIAS": 3, "PROFISSIONALIZANTE": 6}.get(
            c, 4 if c == "PEDAGOGICAS" else (1 if c in ("ARTES", "ENSINO_RELIGIOSO") else 2)
        )
        for c in COMPS
    ],
    dtype=np.int64,
)
GROUP_ETAPAS: dict[str, tuple[tuple[int, ...], tuple[float, ...] | None]] = {
    "AI": ((14, 15, 16, 17, 18), None),
    "AF": ((19, 20, 21, 41), None),
    "EM": ((25, 26, 27, 28, 29), (0.36, 0.32, 0.28, 0.02, 0.02)),
    "INT": ((30, 31, 32), None),
    "NORMAL": ((35, 36, 37), None),
    "TEC": ((39, 40), None),
    "EJA": ((69, 70, 71), (0.2, 0.4, 0.4)),
}
SHARE = {
    "AI": 0.20,
    "AF": 0.40,
    "EM": 0.33,
    "INT": 0.005,
    "NORMAL": 0.005,
    "TEC": 0.01,
    "EJA": 0.05,
}
SIZE = {
    "AI": (22, 28),
    "AF": (26, 33),
    "EM": (28, 38),
    "INT": (25, 38),
    "NORMAL": (25, 38),
    "TEC": (25, 38),
    "EJA": (20, 33),
}
PREVISTAS = {"AI": 5, "AF": 5, "EM": 5, "INT": 6, "NORMAL": 5, "TEC": 4, "EJA": 4}
AGE_NO_E = {
    29: (15, 19),
    34: (15, 19),
    39: (16, 19),
    40: (18, 35),
    69: (18, 60),
    70: (18, 50),
    71: (18, 45),
}
CONCLUDING = {41, 27, 28, 29, 32, 33, 34, 37, 38, 39, 40, 70, 71}
N_MUNICIPIOS = 853
STATE_STUDENTS = 1_500_000
STATE_SCHOOLS = 3_496
TRANSFER_RATE = 0.025
LEAVER_RATE = 0.01
LATE_RATE = 0.01
AEE_TURMA_SHARE = 0.10

E_TABLE = np.full(100, -1, dtype=np.int64)
for _e, _age in contract.IDADE_ESPERADA.items():
    E_TABLE[_e] = _age
GRP_OF_ETAPA = np.full(100, -1, dtype=np.int64)
for _e in contract.ETAPAS:
    GRP_OF_ETAPA[_e] = GI[contract.grupo(_e)]

# matrícula roles: each matrícula has one, so plants and decoys stay disjoint
FREE = 0
RESERVED_TURMA = 1  # member of a turma planted for I5 (or its decoy)
AEE_STUDENT = 2  # escolarização matrícula of a student who also has an AEE/AC one
AEE = 3  # the AEE/AC matrícula
TRANSFER_OLD = 4
TRANSFER_NEW = 5
LEAVER = 6
LATE = 7
MIXED = 8  # member of a multietapa / correção de fluxo turma
CONSTRUCT = 9  # a closed matrícula made for a plant or decoy (no turma)
PLANTED = 10  # plus the rule number (I1 -> 11, ...)
DECOY = 40  # plus the rule number


@dataclass
class Item:
    """One finding or decoy: its key and the dumps (day numbers, inclusive) it holds for."""

    rule: str
    key: dict[str, Any]
    since: int  # first dump date
    until: int = INF  # last dump date
    why: str = ""


@dataclass
class Overrides:
    """Planted values of nota/frequencia rows, keyed by ``row_key(m, slot, b)``."""

    nota_drop: set[int] = field(default_factory=set)
    nota_null: set[int] = field(default_factory=set)
    nota: dict[int, int] = field(default_factory=dict)  # tenths
    rec: dict[int, int] = field(default_factory=dict)
    freq_drop: set[int] = field(default_factory=set)
    faltas: dict[int, int] = field(default_factory=dict)
    aulas: dict[int, int] = field(default_factory=dict)
    plan: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)  # mc_key -> tenths

    def arrays(self) -> dict[str, np.ndarray]:
        """Sorted key (and value) arrays for vectorised look-ups."""

        def keys(s: set[int] | dict[int, Any]) -> np.ndarray:
            return np.array(sorted(s), dtype=np.int64)

        out = {
            "nota_drop": keys(self.nota_drop),
            "nota_null": keys(self.nota_null),
            "freq_drop": keys(self.freq_drop),
            "plan": keys(self.plan),
        }
        for name in ("nota", "rec", "faltas", "aulas"):
            d: dict[int, int] = getattr(self, name)
            k = keys(d)
            out[name] = k
            out[name + "_v"] = np.array([d[int(x)] for x in k], dtype=np.int64)
        pk = out["plan"]
        out["plan_v"] = (
            np.array([self.plan[int(x)] for x in pk], dtype=np.int64).reshape(len(pk), 4)
            if len(pk)
            else np.zeros((0, 4), dtype=np.int64)
        )
        return out


def row_key(m: np.ndarray | int, slot: np.ndarray | int, b: np.ndarray | int) -> Any:
    """The key of a nota/frequencia row: matrícula index, curriculum slot, bimestre 1-4."""
    return (np.asarray(m, dtype=np.int64) * MAXC + slot) * 4 + (np.asarray(b) - 1)


def mc_key(m: np.ndarray | int, slot: np.ndarray | int) -> Any:
    return np.asarray(m, dtype=np.int64) * MAXC + slot


@dataclass
class World:
    """The whole year; arrays are indexed by entity index (ids are derived from it)."""

    year: int
    scale: float
    seed: int
    rates: dict[str, float]
    cal: SchoolCalendar
    mun_code: np.ndarray
    mun_name: np.ndarray
    mun_sre: np.ndarray
    esc_id: np.ndarray
    esc_name: np.ndarray
    esc_sre: np.ndarray
    esc_mun: np.ndarray
    esc_loc: np.ndarray
    t: dict[str, np.ndarray]  # turma columns
    a: dict[str, np.ndarray]  # aluno columns
    m: dict[str, np.ndarray]  # matrícula columns
    post: np.ndarray  # (turmas, MAXC, 4) posting day of each turma x slot x bimestre
    aulas: np.ndarray  # (turmas, MAXC, 4) QT_AULAS_DADAS
    doc: dict[str, np.ndarray]  # docente_turma columns
    ov: Overrides
    plants: list[Item]
    decoys: list[Item]
    i9c_pool: np.ndarray  # matrícula indices that may get a daily row after their exit (I9c)
    i9c_rate: float
    notes: dict[str, Any] = field(default_factory=dict)  # plant bookkeeping for the truth

    @property
    def n_m(self) -> int:
        return len(self.m["id"])


class Builder:
    """Builds a :class:`World`; :mod:`.plant` works on it between the steps."""

    def __init__(self, scale: float, seed: int, year: int, rates: dict[str, float]):
        self.scale = scale
        self.seed = seed
        self.year = year
        self.rates = rates
        self.rng = np.random.default_rng([seed, year])
        self.cal = build_calendar(year)
        self.first_day = int(self.cal.days[0])
        self.last_day = int(self.cal.days[-1])
        self.year_start = dnum(date(year, 1, 5))
        self.plants: list[Item] = []
        self.decoys: list[Item] = []
        self.ov = Overrides()
        self.notes: dict[str, Any] = {}
        self._pending_a: list[dict[str, np.ndarray]] = []
        self._pending_m: list[dict[str, np.ndarray]] = []
        self._pending_a_n = 0
        self._pending_m_n = 0

    # ---- places ------------------------------------------------------------------------
    def places(self) -> None:
        rng = self.rng
        n = N_MUNICIPIOS
        base = np.sort(rng.choice(9_990, n, replace=False) + 1)
        self.mun_code = 3_100_000 + base * 10 + (base * 7) % 10
        self.mun_name = np.array(names.municipalities(rng, n), dtype=object)
        sre = np.concatenate([np.repeat(np.arange(1, 48), 5), rng.integers(1, 48, n - 235)])
        self.mun_sre = rng.permutation(sre)
        self.mun_w = rng.pareto(1.2, n) + 1.0

        ns = max(4, round(STATE_SCHOOLS * self.scale))
        if ns >= 2 * n:  # the state: every municipality has a state school
            mun = np.concatenate(
                [np.arange(n), rng.choice(n, ns - n, p=self.mun_w / self.mun_w.sum())]
            )
        else:
            k = min(47, max(2, ns // 2))
            sres = rng.permutation(np.arange(1, 48))[:k]
            school_sre = sres[np.arange(ns) % k]
            mun = np.empty(ns, dtype=np.int64)
            for s in np.unique(school_sre):
                cand = np.flatnonzero(self.mun_sre == s)
                w = self.mun_w[cand] / self.mun_w[cand].sum()
                at = np.flatnonzero(school_sre == s)
                mun[at] = rng.choice(cand, len(at), p=w)
        self.esc_mun = mun
        self.esc_sre = self.mun_sre[mun]
        self.esc_id = 31_000_000 + np.sort(rng.choice(999_999, ns, replace=False) + 1)
        self.esc_name = np.array(names.schools(rng, ns), dtype=object)
        self.esc_loc = np.where(rng.random(ns) < 0.2, 2, 1)
        self.esc_w = rng.lognormal(0.0, 0.6, ns)

    # ---- turmas ------------------------------------------------------------------------
    def turmas(self) -> None:
        rng = self.rng
        ns = len(self.esc_id)
        target = max(300, round(STATE_STUDENTS * self.scale))
        grp_l, size_l = [], []
        for g in GRUPOS:
            lo, hi = SIZE[g]
            nt = max(1, round(target * SHARE[g] / ((lo + hi) / 2)))
            grp_l.append(np.full(nt, GI[g]))
            size_l.append(rng.integers(lo, hi + 1, nt))
        grp = np.concatenate(grp_l)
        n0 = np.concatenate(size_l)
        nt = len(grp)
        etapa = np.empty(nt, dtype=np.int64)
        for g in GRUPOS:
            at = np.flatnonzero(grp == GI[g])
            opts, p = GROUP_ETAPAS[g]
            etapa[at] = rng.choice(opts, len(at), p=p)
        # schools: one regular turma for each school first, the rest by school size
        school = rng.choice(ns, nt, p=self.esc_w / self.esc_w.sum())
        regular = rng.permutation(np.flatnonzero(grp <= GI["EM"]))
        k = min(ns, len(regular))
        school[regular[:k]] = rng.permutation(ns)[:k]
        # multietapa (AI) and correção de fluxo (AF) turmas; at least one multietapa
        unif = np.zeros(nt, dtype=np.int64)
        ai = np.flatnonzero(grp == GI["AI"])
        multi = ai[rng.random(len(ai)) < 0.06]
        if len(multi) == 0 and len(ai) > 1:
            multi = ai[-1:]
        unif[multi] = 2
        etapa[multi] = np.minimum(etapa[multi], 17)
        af = np.flatnonzero((grp == GI["AF"]) & np.isin(etapa, (19, 20)))
        unif[af[rng.random(len(af)) < 0.04]] = 4
        self.t_grp, self.t_n0, self.t_etapa, self.t_school, self.t_unif = (
            grp,
            n0,
            etapa,
            school,
            unif,
        )
        self.t_tipo = np.ones(nt, dtype=np.int64)
        self.t_cap = np.zeros(nt, dtype=np.int64)  # 0: empty (the default applies)
        self.t_reserved = np.zeros(nt, dtype=bool)
        self.cap_default = np.array([capacidade_padrao(GRUPOS[g]) for g in grp], dtype=np.int64)

    def add_aee_turmas(self) -> None:
        """AEE (3) and atividade complementar (2) turmas: no etapa, students from the school."""
        rng = self.rng
        n_esc = len(self.t_grp)
        n = max(2, round(AEE_TURMA_SHARE * n_esc))
        tipo = np.where(rng.random(n) < 0.6, 3, 2)
        tipo[0], tipo[1] = 3, 2
        school = rng.choice(len(self.esc_id), n, p=self.esc_w / self.esc_w.sum())
        self.t_grp = np.concatenate([self.t_grp, np.full(n, -1)])
        self.t_n0 = np.concatenate([self.t_n0, rng.integers(5, 13, n)])
        self.t_etapa = np.concatenate([self.t_etapa, np.zeros(n, dtype=np.int64)])
        self.t_school = np.concatenate([self.t_school, school])
        self.t_unif = np.concatenate([self.t_unif, np.zeros(n, dtype=np.int64)])
        self.t_tipo = np.concatenate([self.t_tipo, tipo])
        self.t_cap = np.concatenate([self.t_cap, np.zeros(n, dtype=np.int64)])
        self.t_reserved = np.concatenate([self.t_reserved, np.zeros(n, dtype=bool)])
        self.cap_default = np.concatenate([self.cap_default, np.full(n, 40)])

    # ---- students and their first matrículas -------------------------------------------
    def births(self, etapa_m: np.ndarray, etapa_t: np.ndarray) -> np.ndarray:
        """Clean birth dates for matrículas of ``etapa_m`` in turmas of ``etapa_t``."""
        rng = self.rng
        n = len(etapa_m)
        y = self.year
        e_m, e_t = E_TABLE[etapa_m], E_TABLE[etapa_t]
        off = rng.choice([-1, 0, 1, 2, 3, 4], n, p=[0.03, 0.55, 0.22, 0.1, 0.06, 0.04])
        mixed = etapa_m != etapa_t
        age = np.where(mixed, np.maximum(e_m, e_t) + rng.integers(0, 3, n), e_m + off)
        first = etapa_m == 14
        age = np.where(first & (age < 6), 6, age)
        no_e = e_m < 0
        if no_e.any():
            lo = np.array([AGE_NO_E.get(int(e), (18, 30))[0] for e in etapa_m[no_e]])
            hi = np.array([AGE_NO_E.get(int(e), (18, 30))[1] for e in etapa_m[no_e]])
            age[no_e] = lo + (rng.random(no_e.sum()) * (hi - lo + 1)).astype(np.int64)
        jan1 = np.array([dnum(date(y - int(a), 1, 1)) for a in range(0, 80)], dtype=np.int64)
        doy = rng.integers(0, 365, n)
        doy = np.where(first & (age == 6), rng.integers(0, 90, n), doy)  # 6 by 31 March
        out: np.ndarray = jan1[age] + doy
        return out

    def students(self) -> None:
        rng = self.rng
        esc = np.flatnonzero(self.t_tipo == 1)
        n_per = self.t_n0[esc]
        turma = np.repeat(esc, n_per)
        n = len(turma)
        etapa_t = self.t_etapa[turma]
        etapa_m = etapa_t.copy()
        mixed = np.isin(self.t_unif[turma], (2, 4)) & (rng.random(n) < 0.5)
        partner = np.array([partner_etapa(int(e)) for e in range(100)])
        etapa_m[mixed] = partner[etapa_t[mixed]]
        self.m = {
            "aluno": np.arange(n, dtype=np.int64),
            "turma": turma,
            "school": self.t_school[turma],
            "etapa": etapa_m,
            "dtmat": rng.integers(self.year_start, self.first_day + 1, n),
            "exit": np.full(n, INF, dtype=np.int64),
            "enc": np.full(n, INF, dtype=np.int64),
            "final": np.zeros(n, dtype=np.int64),
            "att": np.full(n, attendance.ORDINARY, dtype=np.int64),
            "attk": np.zeros(n, dtype=np.int64),
            "role": np.where(np.isin(self.t_unif[turma], (2, 4)), MIXED, FREE),
        }
        self.m["role"][self.t_reserved[turma]] = RESERVED_TURMA
        self.a = self.new_students(self.births(etapa_m, etapa_t), self.t_school[turma])

    def new_students(self, birth: np.ndarray, school: np.ndarray) -> dict[str, np.ndarray]:
        """Student columns for ``len(birth)`` new students living near ``school``."""
        rng = self.rng
        n = len(birth)
        sexo = rng.integers(1, 3, n)
        mun = self.mun_code[self.esc_mun[school]]
        far = rng.random(n) < 0.1
        mun = np.where(far, self.mun_code[rng.integers(0, len(self.mun_code), n)], mun)
        rural = self.esc_loc[school] == 2
        zona = np.where(rng.random(n) < np.where(rural, 0.7, 0.1), 2, 1)
        zona[rng.random(n) < 0.015] = 0
        return {
            "birth": birth,
            "sexo": sexo,
            "cor": rng.choice(6, n, p=[0.08, 0.38, 0.1, 0.42, 0.01, 0.01]),
            "pcd": (rng.random(n) < 0.02).astype(np.int64),
            "mun": mun,
            "zona": zona,
            "name": names.students(rng, sexo),
        }

    def append_students(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Queue new students (see :meth:`flush`); their indices."""
        start = len(self.a["birth"]) + self._pending_a_n
        n = len(cols["birth"])
        self._pending_a.append(cols)
        self._pending_a_n += n
        return np.arange(start, start + n)

    def append_matriculas(self, **cols: np.ndarray) -> np.ndarray:
        """Queue matrículas (see :meth:`flush`); columns left out take the defaults of an
        ordinary one. Their indices."""
        n = len(cols["aluno"])
        defaults = {
            "turma": np.full(n, -1),
            "exit": np.full(n, INF),
            "enc": np.full(n, INF),
            "final": np.zeros(n),
            "att": np.full(n, attendance.ORDINARY),
            "attk": np.zeros(n),
            "role": np.full(n, FREE),
        }
        row = {}
        for k in self.m:
            v = cols.get(k, defaults.get(k))
            assert v is not None, k
            row[k] = np.asarray(v, dtype=np.int64)
        start = len(self.m["aluno"]) + self._pending_m_n
        self._pending_m.append(row)
        self._pending_m_n += n
        return np.arange(start, start + n)

    def flush(self) -> None:
        """Concatenate the queued students and matrículas (one copy, not one per append)."""
        if self._pending_a:
            for k in self.a:
                self.a[k] = np.concatenate([self.a[k]] + [p[k] for p in self._pending_a])
            self._pending_a, self._pending_a_n = [], 0
        if self._pending_m:
            for k in self.m:
                self.m[k] = np.concatenate([self.m[k]] + [p[k] for p in self._pending_m])
            self._pending_m, self._pending_m_n = [], 0

    # ---- free capacity ------------------------------------------------------------------
    def slots(self) -> None:
        """Spare places of ordinary turmas, which transfers and late entrants fill."""
        ordinary = (self.t_tipo == 1) & (self.t_unif == 0) & ~self.t_reserved
        self.spare = np.where(ordinary, self.cap_default - self.t_n0, 0)
        self.incoming = np.zeros(len(self.t_tipo), dtype=np.int64)
        self.by_etapa = {
            int(e): np.flatnonzero(ordinary & (self.t_etapa == e)) for e in np.unique(self.t_etapa)
        }

    def take_slot(self, etapa: int, school: int, same_school: bool) -> int:
        """A turma of ``etapa`` with a free place, in (or not in) ``school``; -1 if none."""
        cands = self.by_etapa.get(etapa)
        if cands is None or len(cands) == 0:
            return -1
        for _ in range(12):
            t = int(cands[self.rng.integers(len(cands))])
            if self.spare[t] > 0 and (self.t_school[t] == school) == same_school:
                break
        else:
            ok = cands[(self.spare[cands] > 0) & ((self.t_school[cands] == school) == same_school)]
            if len(ok) == 0:
                return -1
            t = int(ok[self.rng.integers(len(ok))])
        self.spare[t] -= 1
        self.incoming[t] += 1
        return t

    def pick(self, n: int, mask: np.ndarray | None = None, role: int | None = None) -> np.ndarray:
        """Up to ``n`` FREE ordinary matrículas (initial, enturmada, unificada 0), marked ``role``."""
        m = self.m
        ok = (m["role"] == FREE) & (m["turma"] >= 0) & (m["dtmat"] <= self.first_day)
        if mask is not None:
            ok &= mask[: len(ok)]
        cand = np.flatnonzero(ok)
        n = min(n, len(cand))
        out = np.sort(self.rng.choice(cand, n, replace=False)) if n else cand[:0]
        if role is not None:
            m["role"][out] = role
        return out

    def school_day(self, lo: int, hi: int, n: int) -> np.ndarray:
        """``n`` school days with index in [lo, hi)."""
        return self.cal.days[self.rng.integers(lo, hi, n)].astype(np.int64)

    # ---- events --------------------------------------------------------------------------
    def aee_members(self) -> None:
        """Students of AEE/AC turmas: each also has an escolarização matrícula in the school."""
        m = self.m
        aee = np.flatnonzero(self.t_tipo != 1)
        cand = np.flatnonzero((m["role"] == FREE) & (m["turma"] >= 0))
        cand = cand[np.lexsort((self.rng.random(len(cand)), m["school"][cand]))]
        school_of = m["school"][cand]
        start = np.searchsorted(school_of, np.arange(len(self.esc_id)))
        end = np.searchsorted(school_of, np.arange(len(self.esc_id)), side="right")
        used = np.zeros(len(self.esc_id), dtype=np.int64)
        new_al, new_t, new_s, new_e, esc = [], [], [], [], []
        for t in aee:
            s = int(self.t_school[t])
            lo = start[s] + used[s]
            k = int(min(self.t_n0[t], end[s] - lo))
            chosen = cand[lo : lo + k]
            used[s] += k
            m["role"][chosen] = AEE_STUDENT
            esc.append(chosen)
            new_al.append(m["aluno"][chosen])
            new_t.append(np.full(k, t))
            new_s.append(np.full(k, s))
            new_e.append(m["etapa"][chosen])
            self.t_n0[t] = k
        aluno = np.concatenate(new_al)
        tt = np.concatenate(new_t)
        self.a["pcd"][aluno[self.t_tipo[tt] == 3]] = 1
        aee_m = self.append_matriculas(
            aluno=aluno,
            turma=tt,
            school=np.concatenate(new_s),
            etapa=np.concatenate(new_e),
            dtmat=self.rng.integers(self.year_start, self.first_day + 1, len(aluno)),
            att=np.zeros(len(aluno)),
            role=np.full(len(aluno), AEE),
        )
        self.notes["aee_pairs"] = (np.concatenate(esc), aee_m)

    def transfers(self) -> None:
        """Old matrícula closed (status 1) on a school day T; a new one from T + 1 elsewhere."""
        n_students = len(self.a["birth"])
        n = round(TRANSFER_RATE * n_students)
        old = self.pick(n, role=TRANSFER_OLD)
        days = self.school_day(1, self.cal.n_days - 1, len(old))
        keep, dest = [], []
        for i, mi in enumerate(old):
            t = self.take_slot(
                int(self.m["etapa"][mi]), int(self.m["school"][mi]), same_school=False
            )
            if t < 0:
                self.m["role"][mi] = FREE
                continue
            keep.append(i)
            dest.append(t)
        old, days = old[keep], days[keep]
        dest_a = np.array(dest, dtype=np.int64)
        self.m["exit"][old] = days
        self.m["enc"][old] = days
        self.m["final"][old] = contract.SITUACAO_TRANSFERIDO
        new = self.append_matriculas(
            aluno=self.m["aluno"][old],
            turma=dest_a,
            school=self.t_school[dest_a],
            etapa=self.m["etapa"][old],
            dtmat=days + 1,
            role=np.full(len(old), TRANSFER_NEW),
        )
        self.notes["transfers"] = (old, new)

    def leavers(self) -> None:
        """Status 2 (deixou de frequentar) on a school day; attendance ordinary until then."""
        n = max(3, round(LEAVER_RATE * len(self.a["birth"])))
        idx = self.pick(n, role=LEAVER)
        days = self.school_day(0, self.cal.n_days - 1, len(idx))
        days[:2] = self.cal.days[[0, 1]][: len(days[:2])]  # some early: I9(c) needs exits
        self.m["exit"][idx] = days
        self.m["enc"][idx] = days
        self.m["final"][idx] = 2

    def late_entrants(self) -> None:
        """New students whose only matrícula starts during the year, in a turma with room."""
        rng = self.rng
        n = round(LATE_RATE * len(self.a["birth"]))
        etapas = list(self.by_etapa)
        turmas, days = [], []
        for _ in range(n):
            e = etapas[rng.integers(len(etapas))]
            t = self.take_slot(e, -1, same_school=False)
            if t >= 0:
                turmas.append(t)
                days.append(int(self.cal.days[rng.integers(3, self.cal.n_days - 20)]))
        tt = np.array(turmas, dtype=np.int64)
        if len(tt) == 0:
            return
        al = self.append_students(
            self.new_students(self.births(self.t_etapa[tt], self.t_etapa[tt]), self.t_school[tt])
        )
        self.append_matriculas(
            aluno=al,
            turma=tt,
            school=self.t_school[tt],
            etapa=self.t_etapa[tt],
            dtmat=np.array(days, dtype=np.int64),
            role=np.full(len(tt), LATE),
        )

    # ---- the end of the year, grades, teachers -------------------------------------------
    def year_end(self) -> None:
        """Matrículas still open on the last school day close with an outcome (4/5/6)."""
        m = self.m
        open_ = m["enc"] == INF
        rng = self.rng
        n = len(open_)
        outcome = np.where(rng.random(n) < 0.1, 4, 5)
        concl = np.isin(m["etapa"], list(CONCLUDING))
        outcome = np.where((outcome == 5) & concl, 6, outcome)
        stopper = m["att"] == attendance.STOPPER
        outcome = np.where(stopper, 2, outcome)
        outcome = np.where(m["role"] == AEE, 5, outcome)
        dup = np.asarray(self.notes.get("dup_extra", []), dtype=np.int64)
        outcome[dup] = contract.SITUACAO_TRANSFERIDO  # a duplicate is closed, not graded
        m["final"] = np.where(open_, outcome, m["final"])
        m["enc"] = np.where(open_, self.last_day, m["enc"])

    def capacities(self) -> None:
        """NU_CAPACIDADE of ordinary turmas: empty (default) or at least the most they hold."""
        rng = self.rng
        nt = len(self.t_tipo)
        free_t = (self.t_tipo == 1) & ~self.t_reserved
        filled = free_t & (rng.random(nt) < 0.6)
        most = self.t_n0 + self.incoming
        cap = np.minimum(most + rng.integers(0, 6, nt), 200)
        self.t_cap = np.where(filled, cap, self.t_cap)
        aee = (self.t_tipo != 1) & (rng.random(nt) < 0.5)
        self.t_cap = np.where(aee, 15, self.t_cap)

    def posting(self) -> None:
        """Each turma x component posts bimestre b between DT_FIM(b) - 5 and DT_FIM(b) + prazo."""
        rng = self.rng
        nt = len(self.t_tipo)
        fim = np.array(self.cal.fim, dtype=np.int64)
        dias = np.array(self.cal.dias_letivos, dtype=np.int64)
        post = fim[None, None, :] + rng.integers(-5, PRAZO_LANCAMENTO_DIAS + 1, (nt, MAXC, 4))
        comp = np.where(self.t_grp[:, None] >= 0, CURR[np.maximum(self.t_grp, 0)], -1)  # (nt, MAXC)
        weekly = np.where(comp >= 0, WEEKLY[np.maximum(comp, 0)], 0)
        aulas = np.rint(dias[None, None, :] * weekly[:, :, None] / 5).astype(np.int64)
        aulas = np.maximum(aulas - rng.integers(0, 3, (nt, MAXC, 4)), 1)
        none = comp < 0
        post[none] = INF
        aulas[none] = 0
        self.post, self.aulas, self.t_comp = post, aulas, comp

    def teachers(self) -> None:
        """One docente (type 1) per escolarização turma x curriculum component, except the
        I6 plants; a few extra auxiliares/intérpretes; the AC turmas' instructor."""
        rng = self.rng
        tt, slot = np.nonzero(self.t_comp >= 0)
        comp = self.t_comp[tt, slot]
        drop = self.notes.get("i6_drop", set())
        aux_only = self.notes.get("i6_aux_only", set())
        keys = tt * MAXC + slot
        keep = ~np.isin(keys, np.array(sorted(drop | aux_only), dtype=np.int64))
        tipo = np.ones(len(tt), dtype=np.int64)
        extra = rng.random(len(tt)) < 0.03
        aux_k = np.array(sorted(aux_only), dtype=np.int64)
        is_aux = np.isin(keys, aux_k)
        rows_t = np.concatenate([tt[keep], tt[extra & keep], tt[is_aux]])
        rows_c = np.concatenate([comp[keep], comp[extra & keep], comp[is_aux]])
        rows_tipo = np.concatenate(
            [
                tipo[keep],
                rng.choice([2, 3, 4], int((extra & keep).sum())),
                np.full(int(is_aux.sum()), 2),
            ]
        )
        ac = np.flatnonzero(self.t_tipo == 2)
        rows_t = np.concatenate([rows_t, ac])
        rows_c = np.concatenate([rows_c, np.full(len(ac), CI["EDUCACAO_FISICA"])])
        rows_tipo = np.concatenate([rows_tipo, np.ones(len(ac), dtype=np.int64)])
        # a docente teaches one component in up to 5 turmas of a school; others their own id
        school = self.t_school[rows_t]
        order = np.lexsort((rows_t, rows_tipo, rows_c, school))
        rows_t, rows_c, rows_tipo, school = (
            rows_t[order],
            rows_c[order],
            rows_tipo[order],
            school[order],
        )
        grp_key = (school * 32 + rows_c) * 8 + rows_tipo
        start = np.r_[0, np.flatnonzero(np.diff(grp_key)) + 1]
        rank = np.arange(len(grp_key)) - np.repeat(start, np.diff(np.r_[start, len(grp_key)]))
        teacher_key = grp_key * 10_000 + rank // 5
        _, teacher = np.unique(teacher_key, return_inverse=True)
        self.doc = {
            "pessoa": 520_000_000_000 + teacher.astype(np.int64) * 7 + 1,
            "turma": rows_t,
            "comp": rows_c,
            "tipo": rows_tipo,
        }

    # ---- the result -----------------------------------------------------------------------
    def turma_columns(self) -> dict[str, np.ndarray]:
        rng = self.rng
        nt = len(self.t_tipo)
        grp = self.t_grp
        g = np.array([GRUPOS[x] if x >= 0 else "" for x in grp])
        night = np.isin(g, ("EJA", "TEC")) | ((g == "EM") & (rng.random(nt) < 0.2))
        integral = np.isin(g, ("AI", "AF", "EM")) & ~night & (rng.random(nt) < 0.08)
        integral |= g == "INT"
        hr = np.where(night, 19, np.where(rng.random(nt) < 0.55, 7, 13))
        hr = np.where(self.t_tipo != 1, 14, np.where(integral, 7, hr))
        minute = np.where(rng.random(nt) < 0.1, 30, 0)
        dur = np.where(integral, rng.choice([420, 450, 480], nt), np.where(night, 240, 270))
        dur = np.where(self.t_tipo != 1, 120, dur)
        dias = np.where(self.t_tipo != 1, rng.integers(2, 4, nt), 5)
        med = np.where((g == "EJA") & (rng.random(nt) < 0.1), 2, 1)
        # letters: A, B, ... within (school, etapa, tipo)
        key = (self.t_school * 100 + self.t_etapa) * 4 + self.t_tipo
        order = np.argsort(key, kind="stable")
        ks = key[order]
        start = np.r_[0, np.flatnonzero(np.diff(ks)) + 1]
        rank_sorted = np.arange(nt) - np.repeat(start, np.diff(np.r_[start, nt]))
        rank = np.empty(nt, dtype=np.int64)
        rank[order] = rank_sorted
        suffix = np.where(
            night & (g == "EM"), "noite", np.where(integral & (g != "INT"), "integral", "")
        )
        name = np.array(
            [
                names.turma_name(int(e) if e else None, chr(65 + r % 26), int(tp), str(sx))
                for e, r, tp, sx in zip(self.t_etapa, rank, self.t_tipo, suffix, strict=True)
            ],
            dtype=object,
        )
        return {
            "id": 10_000_001 + np.arange(nt, dtype=np.int64),
            "school": self.t_school,
            "name": name,
            "etapa": self.t_etapa,
            "grp": grp,
            "unif": self.t_unif,
            "hr": hr,
            "min": minute,
            "dur": dur,
            "dias": dias,
            "med": med,
            "tipo": self.t_tipo,
            "regular": (np.isin(g, ("AI", "AF", "EM", "INT", "NORMAL"))).astype(np.int64),
            "eja": (g == "EJA").astype(np.int64),
            "prof": np.isin(g, ("INT", "TEC")).astype(np.int64),
            "esp": np.zeros(nt, dtype=np.int64),
            "cap": self.t_cap,
            "prev": np.array([PREVISTAS.get(x, 0) for x in g], dtype=np.int64),
        }

    def finish(self, i9c_pool: np.ndarray, i9c_rate: float) -> World:
        assert not self._pending_a and not self._pending_m
        m = self.m
        n = len(m["aluno"])
        m["id"] = 100_000_001 + np.arange(n, dtype=np.int64)
        m["concl"] = np.isin(m["etapa"], list(CONCLUDING)).astype(np.int64)
        na = len(self.a["birth"])
        self.a["id"] = 310_000_000_001 + np.arange(na, dtype=np.int64)
        return World(
            year=self.year,
            scale=self.scale,
            seed=self.seed,
            rates=self.rates,
            cal=self.cal,
            mun_code=self.mun_code,
            mun_name=self.mun_name,
            mun_sre=self.mun_sre,
            esc_id=self.esc_id,
            esc_name=self.esc_name,
            esc_sre=self.esc_sre,
            esc_mun=self.esc_mun,
            esc_loc=self.esc_loc,
            t=self.turma_columns(),
            a=self.a,
            m=m,
            post=self.post,
            aulas=self.aulas,
            doc=self.doc,
            ov=self.ov,
            plants=self.plants,
            decoys=self.decoys,
            i9c_pool=i9c_pool,
            i9c_rate=i9c_rate,
            notes=self.notes,
        )


def partner_etapa(etapa: int) -> int:
    """The other etapa of a multietapa / correção de fluxo turma of ``etapa``."""
    return {14: 15, 15: 16, 16: 17, 17: 18, 19: 20, 20: 21}.get(etapa, etapa)


def build_world(scale: float, seed: int, year: int, rates: dict[str, float]) -> World:
    """The world of ``year``: clean, then planted (:func:`.plant.plant_all`)."""
    from . import plant

    b = Builder(scale, seed, year, rates)
    b.places()
    b.turmas()
    plant.reserve_turmas(b)  # I5 plants and decoys: exact fill, no events
    b.add_aee_turmas()
    b.students()
    b.slots()
    b.aee_members()
    b.flush()
    b.transfers()
    b.flush()
    b.leavers()
    b.late_entrants()
    b.flush()
    plant.plant_matriculas(b)  # I1-I4, I11-I14 (uses free places and free matrículas)
    b.flush()
    b.capacities()
    b.posting()
    plant.plant_rows(b)  # I6, I7-I10 row overrides (needs the posting days)
    b.year_end()
    b.teachers()
    return b.finish(*plant.i9c_pool(b))
