"""The ground truth of one dump: the findings each rule must return and the decoys.

Static plants and decoys carry the dumps they hold for (:class:`~.world.Item`); I9(c) depends
on the day's daily file and I14 on every daily file the job has loaded (from ``first_daily``,
the previous school day of the first dump the command wrote), so both are worked out here,
as are the decoys that depend on the date.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import contract
from . import attendance
from .calendario import ddate
from .params import DIAS_BUSCA_ATIVA, PARAMS, PRAZO_LANCAMENTO_DIAS
from .plant import mat_id
from .snapshot import i9c_rows, iso
from .world import COMPS, CURR, FREE, INF, LATE, TRANSFER_NEW, World

LOOKBACK = 10  # an ordinary matrícula is present at least once in any 10 school days
MAX_DYNAMIC_DECOYS = 3


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda d: json.dumps(d, sort_keys=True))


class Truth:
    """Findings and decoys of the dump of ``day`` (day numbers)."""

    def __init__(self, w: World, day: int, first_daily: int):
        self.w = w
        self.day = day
        self.asof = day - 1
        self.first_daily = first_daily
        prev = w.cal.previous(day)
        assert prev is not None
        self.prev_day = prev
        self.in_year = day <= int(w.cal.days[-1])
        self.findings: dict[str, list[dict[str, Any]]] = {r: [] for r in PARAMS_RULES}
        self.decoys: dict[str, list[dict[str, Any]]] = {r: [] for r in PARAMS_RULES}

    def holds(self, since: int, until: int) -> bool:
        return since <= self.day <= until

    def decoy(self, rule: str, key: dict[str, Any], why: str) -> None:
        self.decoys[rule].append({**key, "why": why})

    def build(self) -> None:
        w = self.w
        for it in w.plants:
            if self.holds(it.since, it.until):
                self.findings[it.rule].append(dict(it.key))
        for it in w.decoys:
            if self.holds(it.since, it.until):
                self.decoy(it.rule, it.key, it.why)
        p = iso(self.prev_day)
        for mi in i9c_rows(w, self.prev_day):
            self.findings["I9"].append({"id_matricula": mat_id(mi), "dt_aula": p})
        self.busca_ativa()
        self.dynamic_decoys()

    # ---- I14 -------------------------------------------------------------------------------
    def _start_index(self, mi: np.ndarray) -> np.ndarray:
        """Index of the first school day on or after each matrícula's DT_MATRICULA."""
        return np.searchsorted(self.w.cal.days, self.w.m["dtmat"][mi])

    def busca_ativa(self) -> None:
        """Stoppers with >= dias_busca_ativa school days without presence are findings; those
        (and returners) just under it are decoys."""
        w = self.w
        cal = w.cal
        if not self.in_year:
            return
        kp = cal.index(self.prev_day)
        kf = cal.index(self.first_daily)
        m = w.m
        stoppers = np.asarray(w.notes["stoppers"], dtype=np.int64)
        returners = np.asarray(w.notes["returners"], dtype=np.int64)
        lo_s = np.maximum(kf, self._start_index(stoppers))
        top = np.minimum(kp, m["attk"][stoppers] - 1)
        ks = top[:, None] - np.arange(LOOKBACK)[None, :]
        valid = ks >= lo_s[:, None]
        kind = np.full(ks.shape, attendance.ORDINARY)
        present = (
            ~attendance.absent(
                w.seed, np.broadcast_to(stoppers[:, None], ks.shape), ks, kind, np.zeros_like(ks)
            )
            & valid
        )
        last = np.where(present.any(axis=1), np.where(present, ks, -1).max(axis=1), -1)
        count_s = np.where(last >= 0, kp - last, kp - lo_s + 1)
        lo_r = np.maximum(kf, self._start_index(returners))
        last_r = kp - ((kp - m["attk"][returners]) % attendance.RETURN_PERIOD)
        last_r = np.where(last_r >= lo_r, last_r, -1)
        count_r = np.where(last_r >= 0, kp - last_r, kp - lo_r + 1)
        for mi, c in zip(stoppers, count_s, strict=True):
            if c >= DIAS_BUSCA_ATIVA:
                self.findings["I14"].append({"id_matricula": mat_id(mi)})
        every = np.concatenate([stoppers, returners])
        counts = np.concatenate([count_s, count_r])
        lasts = np.concatenate([last, last_r])
        exact = [(mi, c) for mi, c in zip(every, counts, strict=True) if c == DIAS_BUSCA_ATIVA - 1]
        for mi, _ in exact[:MAX_DYNAMIC_DECOYS]:
            self.decoy(
                "I14",
                {"id_matricula": mat_id(mi)},
                f"exactly {DIAS_BUSCA_ATIVA - 1} school days without presence",
            )
        gaps = []
        for mi, c, lk in zip(every, counts, lasts, strict=True):
            if (
                lk >= 0
                and c < DIAS_BUSCA_ATIVA - 1
                and self.prev_day - int(cal.days[lk]) > DIAS_BUSCA_ATIVA
            ):
                gaps.append((mi, c, int(cal.days[lk])))
        for mi, c, d in gaps[:MAX_DYNAMIC_DECOYS]:
            self.decoy(
                "I14",
                {"id_matricula": mat_id(mi)},
                f"last present {ddate(d):%d/%m}: {self.prev_day - d} calendar days but {c} school days",
            )

    # ---- decoys that depend on the date ----------------------------------------------------------
    def dynamic_decoys(self) -> None:
        w = self.w
        m = w.m
        cal = w.cal
        asof = self.asof
        if self.in_year:
            old, new = w.notes["transfers"]
            ok = (m["enc"][old] < self.day) & (m["dtmat"][new] < self.day)
            for o, n in list(zip(old[ok], new[ok], strict=True))[:2]:
                self.decoy(
                    "I1",
                    {"id_matricula": mat_id(n)},
                    f"transferred out of school {w.esc_id[m['school'][o]]} (matrícula {mat_id(o)}, status 1), active in {w.esc_id[m['school'][n]]}",
                )
            esc, aee = w.notes["aee_pairs"]
            for e, a in list(zip(esc, aee, strict=True))[:2]:
                tipo = int(w.t["tipo"][m["turma"][a]])
                label = contract.TP_TIPO_ATENDIMENTO_TURMA[tipo]
                self.decoy(
                    "I2",
                    {"id_matricula": mat_id(e)},
                    f"also has an active {label} matrícula ({mat_id(a)}) in the same school",
                )
            self._not_due()
            self._late_starters()
        # I9: daily rows dated exactly DT_MATRICULA / DT_ENCERRAMENTO
        p = self.prev_day
        on_start = np.flatnonzero((m["att"] > 0) & (m["dtmat"] == p) & (m["exit"] >= p))
        for mi in on_start[:2]:
            self.decoy(
                "I9",
                {"id_matricula": mat_id(mi), "dt_aula": iso(p)},
                "daily row dated exactly DT_MATRICULA",
            )
        on_exit = np.flatnonzero((m["att"] > 0) & (m["exit"] == p))
        for mi in on_exit[:2]:
            self.decoy(
                "I9",
                {"id_matricula": mat_id(mi), "dt_aula": iso(p)},
                "daily row dated exactly DT_ENCERRAMENTO",
            )
        # I10: three bimestres posted (75 points), the 4th not yet
        t = m["turma"]
        stable = (m["role"] == FREE) & (t >= 0) & (m["dtmat"] <= cal.inicio[0]) & (m["exit"] == INF)
        cand = np.flatnonzero(stable)
        if len(cand):
            tt = t[cand]
            ok = (
                (w.post[tt, 0, 2] <= asof)
                & (w.post[tt, 0, 3] > asof)
                & (w.post[tt, 0, 0] <= asof)
                & (w.post[tt, 0, 1] <= asof)
            )
            for mi in cand[ok][:1]:
                comp = COMPS[CURR[w.t["grp"][t[mi]], 0]]
                self.decoy(
                    "I10",
                    {"id_matricula": mat_id(mi), "componente": comp},
                    "three bimestres posted (75 points), the 4th not yet",
                )

    def _not_due(self) -> None:
        """I7/I8 plants whose bimestre is not due yet: missing, but not findings."""
        w = self.w
        for rule in ("I7", "I8"):
            mi, slots, bims = w.notes[rule]
            k = 0
            for x, s, b in zip(mi, slots, bims, strict=True):
                if w.cal.due(int(b), self.day, PRAZO_LANCAMENTO_DIAS) or k >= MAX_DYNAMIC_DECOYS:
                    continue
                comp = COMPS[CURR[w.t["grp"][w.m["turma"][x]], s]]
                due = ddate(w.cal.fim[b - 1] + PRAZO_LANCAMENTO_DIAS + 1)
                self.decoy(
                    rule,
                    {"id_matricula": mat_id(x), "componente": comp, "bimestre": int(b)},
                    f"missing, but bimestre {b} is due only in the dump of {due:%d/%m}",
                )
                k += 1

    def _late_starters(self) -> None:
        """Matrículas that began after DT_INICIO(b) of a due bimestre b: nothing expected for b."""
        w = self.w
        m = w.m
        cal = w.cal
        cand = np.flatnonzero(
            np.isin(m["role"], (TRANSFER_NEW, LATE)) & (m["dtmat"] < self.day) & (m["exit"] == INF)
        )
        found = 0
        for mi in cand:
            d = int(m["dtmat"][mi])
            for b in (1, 2, 3, 4):
                if cal.inicio[b - 1] < d and cal.due(b, self.day, PRAZO_LANCAMENTO_DIAS):
                    comp = COMPS[CURR[w.t["grp"][m["turma"][mi]], 0]]
                    key = {"id_matricula": mat_id(mi), "componente": comp, "bimestre": b}
                    why = f"began {ddate(d):%d/%m}, after DT_INICIO({b}): no row expected for bimestre {b}"
                    self.decoy("I7", key, why)
                    self.decoy("I8", key, why)
                    found += 1
                    break
            if found >= 2:
                return

    def as_dict(self, scale: float, rows: dict[str, int]) -> dict[str, Any]:
        return {
            "date": iso(self.day),
            "scale": scale,
            "seed": self.w.seed,
            "first_daily": iso(self.first_daily),
            "params": PARAMS,
            "rows": rows,
            "findings": {r: _sorted(v) for r, v in self.findings.items()},
            "decoys": {r: _sorted(v) for r, v in self.decoys.items()},
        }


PARAMS_RULES = tuple(f"I{i}" for i in range(1, 15))


def truth(w: World, day: int, first_daily: int, rows: dict[str, int]) -> dict[str, Any]:
    """The truth file's content for the dump of ``day``."""
    t = Truth(w, day, first_daily)
    t.build()
    return t.as_dict(w.scale, rows)
