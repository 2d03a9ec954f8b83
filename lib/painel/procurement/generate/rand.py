"""Named, independent random streams of one seed (numpy ``default_rng``)."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The stream ``name`` of ``seed``: the same on every run and platform."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


def pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``min(n, k)`` distinct positions of ``range(n)``, sorted."""
    k = min(n, k)
    return np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
