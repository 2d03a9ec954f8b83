"""Who is present on which school day (frequencia_diaria.csv and rule I14's truth).

A matrícula's attendance is a pure function of the seed, its index and the school-day index
``k``, so every date sees the same history:

- ordinary (kind 1): absent on ~5 % of days, but always present when ``(k + index) % 10 == 0``,
  so never more than 9 school days in a row without presence;
- stopper (kind 2, I14 plant): ordinary before school day ``param``, absent from it on;
- returner (kind 3, I14 decoy): present only when ``(k - param) % 15 == 0``: 14 school days
  without presence, then one day back.

"Absent" means QT_FALTAS = QT_AULAS_PREVISTAS; a present day may still have a few faltas.
"""

from __future__ import annotations

import numpy as np

from .rand import hash_keys

ORDINARY = 1
STOPPER = 2
RETURNER = 3
RETURN_PERIOD = 15
_SALT = 7


def absent(
    seed: int, idx: np.ndarray, k: np.ndarray, kind: np.ndarray, param: np.ndarray
) -> np.ndarray:
    """True where matrícula ``idx`` has no presence on school day ``k`` (arrays broadcast)."""
    idx = np.asarray(idx, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    h = hash_keys(seed, _SALT, idx, k)
    ordinary = ((h % np.uint64(1000)) < np.uint64(50)) & ((k + idx) % 10 != 0)
    stopped = (kind == STOPPER) & (k >= param)
    returner = (k - param) % RETURN_PERIOD != 0
    out: np.ndarray = np.where(kind == RETURNER, returner, ordinary | stopped)
    return out


def faltas(
    seed: int,
    idx: np.ndarray,
    k: np.ndarray,
    kind: np.ndarray,
    param: np.ndarray,
    previstas: np.ndarray,
) -> np.ndarray:
    """QT_FALTAS of the daily rows: all the classes when absent, else mostly 0."""
    idx = np.asarray(idx, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    h = hash_keys(seed, _SALT + 1, idx, k)
    off = absent(seed, idx, k, kind, param)
    partial = ((h % np.uint64(1000)) < np.uint64(40)) & (previstas > 1)
    some = 1 + ((h >> np.uint64(20)) % np.maximum(previstas - 1, 1).astype(np.uint64)).astype(
        np.int64
    )
    out: np.ndarray = np.where(off, previstas, np.where(partial, some, 0))
    return out
