"""Deterministic hashing for per-row values (numpy, vectorised).

Values that must be the same on every date (a grade, an absence) are a hash of the row's ids
and the seed, never a draw from a stream whose position depends on the date.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(x, dtype=np.uint64) + _GOLD
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    out: np.ndarray = z ^ (z >> np.uint64(31))
    return out


def hash_keys(seed: int, salt: int, *parts: np.ndarray | int) -> np.ndarray:
    """A 64-bit hash of equally long integer arrays (or scalars), the seed and a salt."""
    h = mix64(np.asarray([seed * 1_000_003 + salt], dtype=np.uint64))
    for p in parts:
        with np.errstate(over="ignore"):
            h = mix64(h ^ np.asarray(p, dtype=np.int64).astype(np.uint64))
    return h


def unit(h: np.ndarray, shift: int) -> np.ndarray:
    """A float in [0, 1] from 10 bits of ``h`` starting at ``shift``."""
    return ((h >> np.uint64(shift)) & np.uint64(0x3FF)).astype(np.float64) / 1023.0
