"""The world as of the end of D - 1: each dump file's rows, as CSV byte chunks.

A matrícula is in the dump once ``DT_MATRICULA < D``; its closure (exit or year end) shows
once ``DT_ENCERRAMENTO < D``, until then it is active (status 7). A grade/attendance row of
bimestre b exists once its turma x component posted b (posting day < D), when the matrícula
began on or before DT_INICIO(b) and was still open on the posting day; planted rows follow
:class:`~.world.Overrides`. The daily file holds the previous school day only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .. import contract
from . import attendance, csvfmt
from .calendario import ddate
from .params import MIN_PLANTS, PONTOS_BIMESTRE
from .rand import hash_keys, unit
from .world import COMPS, CURR, INF, MAXC, NCOMP, World

CHUNK_MATRICULAS = 60_000  # grade rows are made ~40 per matrícula, so ~2.4 M rows a chunk
_COMP_BYTES = np.array([c.encode() for c in COMPS], dtype=bytes)
_PONTOS_T = PONTOS_BIMESTRE * 10


@dataclass
class FileRows:
    """A dump member: its name and a producer of its rows, as column lists (contract order)."""

    name: str
    chunks: Callable[[], Iterator[list[np.ndarray]]]


def _in_sorted(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted ``keys`` array."""
    if len(keys) == 0:
        return np.zeros(len(values), dtype=bool)
    i = np.searchsorted(keys, values)
    i[i >= len(keys)] = 0
    out: np.ndarray = keys[i] == values
    return out


def _lookup(
    values: np.ndarray, keys: np.ndarray, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(found, value) of each of ``values`` in sorted ``keys``."""
    found = _in_sorted(values, keys)
    if len(keys) == 0:
        return found, np.zeros(len(values), dtype=np.int64)
    i = np.searchsorted(keys, values)
    i[i >= len(keys)] = 0
    return found, vals[i]


def _ordered(name: str, cols: dict[str, np.ndarray]) -> list[np.ndarray]:
    order = contract.FILES[name].column_names
    assert set(order) == set(cols), (name, set(order) ^ set(cols))
    return [cols[c] for c in order]


def _ints(values: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    return csvfmt.nulled(csvfmt.small_int(values), null)


class Snapshot:
    """The dump of ``day`` (a day number) for ``world``."""

    def __init__(self, world: World, day: int):
        self.w = world
        self.day = day
        self.asof = day - 1
        prev = world.cal.previous(day)
        assert prev is not None
        self.prev_day = prev
        if "_ov_arrays" not in world.notes:
            world.notes["_ov_arrays"] = world.ov.arrays()
        self._ov: dict[str, np.ndarray] = world.notes["_ov_arrays"]
        m = world.m
        self.visible = m["dtmat"] < day
        self.closed = m["enc"] < day

    # ---- small files ----------------------------------------------------------------------
    def escola(self) -> list[np.ndarray]:
        w = self.w
        n = len(w.esc_id)
        cols = {
            "CO_ENTIDADE": csvfmt.fixed_int(w.esc_id, 8),
            "NO_ENTIDADE": csvfmt.text(w.esc_name),
            "CO_ORGAO_REGIONAL": csvfmt.text([f"31{s:02d}" for s in w.esc_sre]),
            "CO_SRE": _ints(w.esc_sre),
            "NO_SRE": csvfmt.text([contract.SRES[s - 1] for s in w.esc_sre]),
            "CO_MUNICIPIO": csvfmt.fixed_int(w.mun_code[w.esc_mun], 7),
            "NO_MUNICIPIO": csvfmt.text(w.mun_name[w.esc_mun]),
            "CO_UF": csvfmt.const("31", n),
            "TP_DEPENDENCIA": csvfmt.const("2", n),
            "TP_LOCALIZACAO": _ints(w.esc_loc),
            "TP_SITUACAO_FUNCIONAMENTO": csvfmt.const("1", n),
        }
        return _ordered("escola.csv", cols)

    def turma(self) -> list[np.ndarray]:
        t = self.w.t
        n = len(t["id"])
        cols = {
            "ID_TURMA": csvfmt.fixed_int(t["id"], 8),
            "CO_ENTIDADE": csvfmt.fixed_int(self.w.esc_id[t["school"]], 8),
            "NO_TURMA": csvfmt.text(t["name"]),
            "NU_ANO_LETIVO": csvfmt.const(str(self.w.year), n),
            "TP_ETAPA_ENSINO": _ints(t["etapa"], t["etapa"] == 0),
            "TP_UNIFICADA": _ints(t["unif"]),
            "TX_HR_INICIAL": _ints(t["hr"]),
            "TX_MINUTO_INICIAL": _ints(t["min"]),
            "NU_DURACAO_TURMA": _ints(t["dur"]),
            "NU_DIAS_ATIVIDADE": _ints(t["dias"]),
            "TP_MEDIACAO_DIDATICO_PEDAGO": _ints(t["med"]),
            "TP_TIPO_ATENDIMENTO_TURMA": _ints(t["tipo"]),
            "IN_REGULAR": _ints(t["regular"]),
            "IN_EJA": _ints(t["eja"]),
            "IN_PROFISSIONALIZANTE": _ints(t["prof"]),
            "IN_ESPECIAL_EXCLUSIVA": _ints(t["esp"]),
            "NU_CAPACIDADE": _ints(t["cap"], t["cap"] == 0),
        }
        return _ordered("turma.csv", cols)

    def alunos_idx(self) -> np.ndarray:
        return np.unique(self.w.m["aluno"][self.visible])

    def aluno(self) -> list[np.ndarray]:
        a = self.w.a
        i = self.alunos_idx()
        birth, sexo, mun, zona = a["birth"][i], a["sexo"][i], a["mun"][i], a["zona"][i]
        cols = {
            "CO_PESSOA_FISICA": csvfmt.fixed_int(a["id"][i], 12),
            "NO_ALUNO": csvfmt.text(a["name"][i]),
            "DT_NASCIMENTO": csvfmt.nulled(
                csvfmt.dates(np.where(birth == INF, 0, birth)), birth == INF
            ),
            "TP_SEXO": _ints(sexo, sexo == 0),
            "TP_COR_RACA": _ints(a["cor"][i]),
            "IN_NECESSIDADE_ESPECIAL": _ints(a["pcd"][i]),
            "CO_MUNICIPIO_END": csvfmt.nulled(csvfmt.fixed_int(mun, 7), mun == 0),
            "TP_ZONA_RESIDENCIAL": _ints(zona, zona == 0),
        }
        return _ordered("aluno.csv", cols)

    def status(self) -> np.ndarray:
        """TP_SITUACAO_ALUNO of every matrícula in this dump (7 until its closure shows)."""
        out: np.ndarray = np.where(self.closed, self.w.m["final"], contract.SITUACAO_ATIVA)
        return out

    def matricula(self) -> list[np.ndarray]:
        w = self.w
        m = w.m
        i = np.flatnonzero(self.visible)
        turma = m["turma"][i]
        closed = self.closed[i]
        status = self.status()[i]
        enc = m["enc"][i]
        cols = {
            "ID_MATRICULA": csvfmt.fixed_int(m["id"][i], 9),
            "CO_PESSOA_FISICA": csvfmt.fixed_int(w.a["id"][m["aluno"][i]], 12),
            "ID_TURMA": csvfmt.nulled(
                csvfmt.fixed_int(w.t["id"][np.maximum(turma, 0)], 8), turma < 0
            ),
            "CO_ENTIDADE": csvfmt.fixed_int(w.esc_id[m["school"][i]], 8),
            "TP_ETAPA_ENSINO": _ints(m["etapa"][i]),
            "DT_MATRICULA": csvfmt.dates(m["dtmat"][i]),
            "DT_ENCERRAMENTO": csvfmt.nulled(
                csvfmt.dates(np.where(closed, enc, m["dtmat"][i])), ~closed
            ),
            "TP_SITUACAO_ALUNO": _ints(status),
            "IN_TRANSFERIDO": _ints((status == contract.SITUACAO_TRANSFERIDO).astype(np.int64)),
            "IN_CONCLUINTE": _ints(m["concl"][i]),
        }
        return _ordered("matricula.csv", cols)

    def calendario(self) -> list[np.ndarray]:
        c = self.w.cal
        cols = {
            "NU_ANO_LETIVO": csvfmt.const(str(c.year), 4),
            "NU_BIMESTRE": _ints(np.arange(1, 5)),
            "DT_INICIO": csvfmt.dates(np.array(c.inicio)),
            "DT_FIM": csvfmt.dates(np.array(c.fim)),
            "QT_DIAS_LETIVOS": _ints(np.array(c.dias_letivos)),
        }
        return _ordered("calendario.csv", cols)

    def docente_turma(self) -> list[np.ndarray]:
        w = self.w
        d = w.doc
        order = np.lexsort((d["pessoa"], d["comp"], d["turma"]))
        cols = {
            "CO_PESSOA_FISICA": csvfmt.fixed_int(d["pessoa"][order], 12),
            "ID_TURMA": csvfmt.fixed_int(w.t["id"][d["turma"][order]], 8),
            "CO_COMPONENTE": _COMP_BYTES[d["comp"][order]],
            "TP_TIPO_DOCENTE": _ints(d["tipo"][order]),
        }
        return _ordered("docente_turma.csv", cols)

    # ---- daily attendance -----------------------------------------------------------------
    def i9c_rows(self) -> np.ndarray:
        """Matrículas given a daily row on the previous school day after their exit (I9c)."""
        return i9c_rows(self.w, self.prev_day)

    def frequencia_diaria(self) -> list[np.ndarray]:
        w = self.w
        m = w.m
        p = self.prev_day
        k = w.cal.index(p)
        sel = np.flatnonzero((m["att"] > 0) & (m["dtmat"] <= p) & (m["exit"] >= p))
        prev = w.t["prev"][m["turma"][sel]]
        faltas = attendance.faltas(
            w.seed, sel, np.full(len(sel), k), m["att"][sel], m["attk"][sel], prev
        )
        extra = self.i9c_rows()
        idx = np.concatenate([sel, extra])
        prev = np.concatenate([prev, w.t["prev"][m["turma"][extra]]])
        faltas = np.concatenate([faltas, np.zeros(len(extra), dtype=np.int64)])
        order = np.argsort(idx, kind="stable")
        idx, prev, faltas = idx[order], prev[order], faltas[order]
        n = len(idx)
        cols = {
            "ID_MATRICULA": csvfmt.fixed_int(m["id"][idx], 9),
            "DT_AULA": csvfmt.dates(np.full(n, p)),
            "QT_AULAS_PREVISTAS": _ints(prev),
            "QT_FALTAS": _ints(faltas),
        }
        return _ordered("frequencia_diaria.csv", cols)

    # ---- grades and attendance per bimestre -------------------------------------------------
    def graded(self) -> np.ndarray:
        """Matrículas that may have nota/frequencia rows: escolarização, enturmada, visible."""
        m = self.w.m
        t = self.w.t
        turma = m["turma"]
        ok = (turma >= 0) & self.visible
        ok &= t["tipo"][np.maximum(turma, 0)] == 1
        return np.flatnonzero(ok)

    def _expand(self, chunk: np.ndarray) -> dict[str, np.ndarray]:
        """Every matrícula x slot x bimestre of a chunk, with its posting data."""
        w = self.w
        m = w.m
        turma = m["turma"][chunk]
        grp = w.t["grp"][turma]
        cnt = NCOMP[grp] * 4
        total = int(cnt.sum())
        local = np.repeat(np.arange(len(chunk)), cnt)
        pos = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        slot = pos // 4
        bi = pos % 4
        mi = chunk[local]
        tr = turma[local]
        post = w.post[tr, slot, bi]
        ini = np.array(w.cal.inicio, dtype=np.int64)[bi]
        posted = (post <= self.asof) & (m["dtmat"][mi] <= ini) & (m["exit"][mi] >= post)
        return {
            "local": local,
            "mi": mi,
            "tr": tr,
            "slot": slot,
            "bi": bi,
            "post": post,
            "posted": posted,
            "comp": CURR[grp[local], slot],
        }

    def nota_chunks(self) -> Iterator[list[np.ndarray]]:
        w = self.w
        ov = self._ov
        graded = self.graded()
        for start in range(0, len(graded), CHUNK_MATRICULAS):
            chunk = graded[start : start + CHUNK_MATRICULAS]
            x = self._expand(chunk)
            mck = x["mi"] * MAXC + x["slot"]
            rk = mck * 4 + x["bi"]
            planned, plan_i = _lookup(mck, ov["plan"], np.arange(len(ov["plan"])))
            keep = (x["posted"] | planned) & ~_in_sorted(rk, ov["nota_drop"])
            sel = np.flatnonzero(keep)
            x = {k: v[sel] for k, v in x.items()}
            rk, planned, plan_i = rk[sel], planned[sel], plan_i[sel]
            pontos = np.full(len(sel), _PONTOS_T, dtype=np.int64)
            if planned.any():
                pontos[planned] = ov["plan_v"][plan_i[planned], x["bi"][planned]]
            h = hash_keys(w.seed, 11, x["mi"], x["slot"], x["bi"])
            # each student's own level (0.45-0.95 of the points), varied per component and
            # bimestre: about a third of the students fall below 60 % somewhere
            level = 0.45 + 0.5 * unit(hash_keys(w.seed, 19, x["mi"]), 0)
            frac = np.clip(level + 0.15 * (unit(h, 0) + unit(h, 10) - 1), 0.0, 1.0)
            nota = (np.floor(pontos / 5 * frac) * 5).astype(np.int64)
            low = nota < 0.6 * pontos
            has_rec = low & (((h >> np.uint64(30)) % np.uint64(3)) == 0)
            rec = (np.floor(pontos / 5 * (0.4 + 0.6 * unit(h, 40))) * 5).astype(np.int64)
            f, v = _lookup(rk, ov["nota"], ov["nota_v"])
            nota = np.where(f, v, nota)
            f, v = _lookup(rk, ov["rec"], ov["rec_v"])
            rec = np.where(f, v, rec)
            has_rec |= f
            posted = x["posted"]
            nota_null = ~posted | _in_sorted(rk, ov["nota_null"])
            ids = csvfmt.fixed_int(w.m["id"][chunk], 9)[x["local"]]
            yield [
                ids,
                _COMP_BYTES[x["comp"]],
                _ints(x["bi"] + 1),
                csvfmt.tenths(pontos),
                csvfmt.nulled(csvfmt.tenths(nota), nota_null),
                csvfmt.nulled(csvfmt.tenths(rec), nota_null | ~has_rec),
                csvfmt.nulled(csvfmt.dates(np.where(posted, x["post"], self.asof)), nota_null),
            ]

    def frequencia_chunks(self) -> Iterator[list[np.ndarray]]:
        w = self.w
        ov = self._ov
        graded = self.graded()
        for start in range(0, len(graded), CHUNK_MATRICULAS):
            chunk = graded[start : start + CHUNK_MATRICULAS]
            x = self._expand(chunk)
            rk = (x["mi"] * MAXC + x["slot"]) * 4 + x["bi"]
            keep = x["posted"] & ~_in_sorted(rk, ov["freq_drop"])
            sel = np.flatnonzero(keep)
            x = {k: v[sel] for k, v in x.items()}
            rk = rk[sel]
            dadas = w.aulas[x["tr"], x["slot"], x["bi"]]
            h = hash_keys(w.seed, 13, x["mi"], x["slot"], x["bi"])
            # each student's own absence rate (a heavy tail: ~1 in 7 misses over a quarter of
            # the classes, as infrequência needs), varied per component and bimestre
            rate = 0.45 * unit(hash_keys(w.seed, 17, x["mi"]), 0) ** 4
            spread = 0.6 + 0.8 * unit(h, 0)
            faltas = np.minimum(np.floor(dadas * rate * spread), dadas).astype(np.int64)
            f, v = _lookup(rk, ov["aulas"], ov["aulas_v"])
            dadas = np.where(f, v, dadas)
            f, v = _lookup(rk, ov["faltas"], ov["faltas_v"])
            faltas = np.where(f, v, faltas)
            ids = csvfmt.fixed_int(w.m["id"][chunk], 9)[x["local"]]
            yield [
                ids,
                _COMP_BYTES[x["comp"]],
                _ints(x["bi"] + 1),
                _ints(dadas),
                _ints(faltas),
                csvfmt.dates(x["post"]),
            ]

    # ---- all files --------------------------------------------------------------------------
    def files(self) -> list[FileRows]:
        """Every member of the dump, in the contract's order."""
        small = {
            "escola.csv": self.escola,
            "turma.csv": self.turma,
            "aluno.csv": self.aluno,
            "matricula.csv": self.matricula,
            "frequencia_diaria.csv": self.frequencia_diaria,
            "calendario.csv": self.calendario,
            "docente_turma.csv": self.docente_turma,
        }
        big = {"nota.csv": self.nota_chunks, "frequencia.csv": self.frequencia_chunks}
        out = []
        for name in contract.FILES:
            if name in small:
                out.append(FileRows(name, _once(small[name])))
            else:
                out.append(FileRows(name, big[name]))
        return out


def _once(make: Callable[[], list[np.ndarray]]) -> Callable[[], Iterator[list[np.ndarray]]]:
    def chunks() -> Iterator[list[np.ndarray]]:
        yield make()

    return chunks


def i9c_rows(w: World, day: int) -> np.ndarray:
    """Matrículas (sorted indices) that get a daily row on school day ``day`` although they
    exited before it: a deterministic draw from the exits so far."""
    rate = w.i9c_rate
    if rate <= 0:
        return np.zeros(0, dtype=np.int64)
    pool = w.i9c_pool
    pool = pool[w.m["exit"][pool] < day]
    if len(pool) == 0:
        return pool
    m = w.m
    active = int(((m["att"] > 0) & (m["dtmat"] <= day) & (m["exit"] >= day)).sum())
    n = min(len(pool), max(MIN_PLANTS, round(rate * active)))
    rng = np.random.default_rng([w.seed, 99, day])
    return np.sort(rng.choice(pool, n, replace=False))


def iso(day: int) -> str:
    return ddate(day).isoformat()
