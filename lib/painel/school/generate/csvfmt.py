"""Vectorised CSV formatting straight to cp1252 bytes: ``;``, CRLF, decimal comma, dd/mm/yyyy,
an empty field for null.

Each column becomes a numpy ``S`` array (NUL-padded byte strings); :func:`rows` lays the
columns side by side with the separators in one uint8 matrix and drops the padding, so a
million rows cost a few numpy passes, never a Python loop per row. No field may contain a NUL
byte, ``;``, ``"`` or a line break (nothing needs quoting).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .calendario import ddate

ENCODING = "cp1252"
_SEP = ord(";")
_TAB4 = np.array([f"{i:04d}".encode() for i in range(10_000)], dtype="S4")


def _lookup(values: np.ndarray, render: Callable[[int], bytes]) -> np.ndarray:
    """Format integer ``values`` through a table over their range."""
    v = np.asarray(values, dtype=np.int64)
    if len(v) == 0:
        return np.zeros(0, dtype="S1")
    lo, hi = int(v.min()), int(v.max())
    table = np.array([render(i) for i in range(lo, hi + 1)], dtype=np.bytes_)
    out: np.ndarray = table[v - lo]
    return out


def small_int(values: np.ndarray) -> np.ndarray:
    """Integers with a small range (codes, counts, years)."""
    return _lookup(values, lambda i: str(i).encode())


def fixed_int(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers of exactly ``width`` digits (ids)."""
    v = np.asarray(values, dtype=np.int64)
    n = len(v)
    groups = []
    rest = v
    for _ in range((width + 3) // 4):
        groups.append(_TAB4[rest % 10_000].view(np.uint8).reshape(n, 4))
        rest = rest // 10_000
    mat = np.concatenate(groups[::-1], axis=1)[:, -width:] if groups else np.zeros((n, 0), np.uint8)
    return np.ascontiguousarray(mat).view(f"S{width}").reshape(n)


def tenths(values: np.ndarray) -> np.ndarray:
    """Decimals given in tenths (125 -> ``12,5``; -10 -> ``-1,0``)."""

    def render(i: int) -> bytes:
        sign = "-" if i < 0 else ""
        return f"{sign}{abs(i) // 10},{abs(i) % 10}".encode()

    return _lookup(values, render)


def dates(daynums: np.ndarray) -> np.ndarray:
    """Day numbers as ``dd/mm/yyyy``."""
    return _lookup(daynums, lambda i: ddate(i).strftime("%d/%m/%Y").encode())


def text(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """Strings, encoded cp1252 (an error for a character cp1252 lacks).

    cp1252 is a single-byte encoding, so the whole column is encoded in one call and cut
    back into rows by the strings' lengths.
    """
    seq = list(values) if not isinstance(values, np.ndarray) else values.tolist()
    n = len(seq)
    if n == 0:
        return np.zeros(0, dtype="S1")
    lengths = np.fromiter(map(len, seq), dtype=np.int64, count=n)
    buf = np.frombuffer("".join(seq).encode(ENCODING), dtype=np.uint8)
    width = max(1, int(lengths.max()))
    flat = np.zeros(n * width, dtype=np.uint8)
    shift = np.arange(n, dtype=np.int64) * width - (np.cumsum(lengths) - lengths)
    flat[np.arange(len(buf), dtype=np.int64) + np.repeat(shift, lengths)] = buf
    return flat.view(f"S{width}")


def const(value: str, n: int) -> np.ndarray:
    return np.full(n, value.encode(ENCODING))


def nulled(col: np.ndarray, null: np.ndarray | None) -> np.ndarray:
    """``col`` with the rows where ``null`` is True emptied."""
    if null is None or not null.any():
        return col
    out = col.copy()
    out[null] = b""
    return out


def _matrix(col: np.ndarray) -> np.ndarray:
    col = np.ascontiguousarray(col)
    width = col.dtype.itemsize
    return col.view(np.uint8).reshape(len(col), width)


def rows(columns: Sequence[np.ndarray]) -> bytes:
    """The CSV lines (CRLF-terminated) of equally long ``S`` columns."""
    n = len(columns[0])
    if n == 0:
        return b""
    parts = []
    sep = np.full((n, 1), _SEP, dtype=np.uint8)
    for i, col in enumerate(columns):
        if i:
            parts.append(sep)
        parts.append(_matrix(col))
    parts.append(np.broadcast_to(np.array([13, 10], dtype=np.uint8), (n, 2)))
    mat = np.concatenate(parts, axis=1)
    return mat[mat != 0].tobytes()


def header(names: Sequence[str]) -> bytes:
    return (";".join(names) + "\r\n").encode(ENCODING)
