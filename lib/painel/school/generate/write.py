"""Writes one dump: ``simade_AAAAMMDD.zip`` (the contract's files, cp1252 CSV) and, beside it,
``simade_AAAAMMDD.truth.json``.

Rows are made and formatted in a background thread while the calling thread deflates the
previous chunk into the zip member (zlib and most numpy work release the GIL). Members carry
a fixed timestamp, so the same world and date give the same zip bytes.
"""

from __future__ import annotations

import json
import queue
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import contract
from . import csvfmt
from .calendario import ddate
from .snapshot import FileRows, Snapshot
from .truth import truth
from .world import World

COMPRESSLEVEL = 1  # deflate level: 6 is ~10x slower for ~35 % smaller members
_DONE = object()


def _background(chunks: Iterator[list[np.ndarray]]) -> Iterator[tuple[bytes, int]]:
    """(CSV bytes, rows) of each chunk, made in a worker thread one chunk ahead."""
    q: queue.Queue[Any] = queue.Queue(maxsize=2)

    def work() -> None:
        try:
            for cols in chunks:
                q.put((csvfmt.rows(cols), len(cols[0])))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(exc)
        else:
            q.put(_DONE)

    th = threading.Thread(target=work, name="school-dump-rows", daemon=True)
    th.start()
    while True:
        item = q.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            th.join()
            raise item
        yield item
    th.join()


def _member(zf: zipfile.ZipFile, fr: FileRows, stamp: tuple[int, int, int, int, int, int]) -> int:
    info = zipfile.ZipInfo(fr.name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    # the level's attribute: compress_level from Python 3.13, _compresslevel before
    setattr(
        info,
        "compress_level" if hasattr(info, "compress_level") else "_compresslevel",
        COMPRESSLEVEL,
    )
    info.external_attr = 0o644 << 16
    rows = 0
    with zf.open(info, "w", force_zip64=True) as f:
        f.write(csvfmt.header(contract.FILES[fr.name].column_names))
        for data, n in _background(fr.chunks()):
            f.write(data)
            rows += n
    return rows


def write_dump(world: World, day: int, out: Path, first_daily: int) -> Path:
    """Write the zip and truth file of ``day`` (a day number) into ``out``; the zip's path."""
    d = ddate(day)
    path = out / contract.zip_name(d)
    tmp = path.with_name(path.name + ".part")
    snap = Snapshot(world, day)
    stamp = (d.year, d.month, d.day, 2, 0, 0)
    rows: dict[str, int] = {}
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for fr in snap.files():
                rows[fr.name] = _member(zf, fr, stamp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    doc = truth(world, day, first_daily, rows)
    truth_path = path.with_name(path.name.removesuffix(".zip") + ".truth.json")
    truth_tmp = truth_path.with_name(truth_path.name + ".part")
    truth_tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    truth_tmp.replace(truth_path)
    return path
