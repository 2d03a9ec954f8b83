"""Usage monitoring: what people do on the panels, counted the way the seed's portal counted.

Events (school.md §6): ``login``/``logout`` (the server), ``page_view`` (a panel rendered),
``interaction`` (one filter change, drill click, chart or row click, sort, search or page of
a table: the unit of the seed's "interações"; page views excluded), ``export`` (rows) and
``error``; each with the time, the user, their profile (role) and SRE, school or organ, the
panel and how long it took.

Recording never waits on the database: :func:`track` appends one JSON line to this process's
spool file (``<home>/usage/spool/<pid>-<start>.jsonl``, one ``write`` on an append-only
descriptor: a killed kernel loses nothing it wrote). :func:`ingest` — the server every few
seconds, the scheduler on each pass, ``painel usage ingest`` — moves complete lines into
``usage_events`` and the day's figures per user and panel (``usage_daily``), remembering each
file's offset in the same transaction, so a line is counted once even when an ingest dies
midway; a dead writer's file goes once read to its end.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .opstate import OpState, iso

EVENTS = ("login", "logout", "page_view", "interaction", "export", "error")
TZ = ZoneInfo("America/Sao_Paulo")
COUNTED = {
    "page_view": "page_views",
    "interaction": "interactions",
    "export": "exports",
    "error": "errors",
    "login": "logins",
}
MAX_LINE = 4096
EVENTS_DAYS_ENV = (
    "PAINEL_USAGE_EVENTS_DAYS"  # how long single events are kept (the day figures stay)
)
EVENTS_DAYS = 90


def spool_dir(home: Path) -> Path:
    return Path(home) / "usage" / "spool"


@dataclass(frozen=True)
class Who:
    """The user an event is about, with the scope the monitoring groups by."""

    username: str
    perfil: str = ""
    sre: str = ""
    escola: str = ""
    orgao: str = ""

    @classmethod
    def of(cls, viewer: Any) -> Who:
        def first(dataset: str, kind: str) -> str:
            ids = viewer.ids(dataset, kind)
            return ids[0] if ids else ""

        return cls(
            viewer.username,
            viewer.role,
            first("school", "sre"),
            first("school", "school"),
            first("procurement", "orgao"),
        )


class Spool:
    """This process's spool file; appends are single writes (whole lines, never interleaved)."""

    def __init__(self, home: Path):
        self.folder = spool_dir(home)
        self._fd: int | None = None
        self._lock = threading.Lock()
        self.path = self.folder / f"{os.getpid()}-{int(time.time() * 1000)}.jsonl"

    def write(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        if len(line) > MAX_LINE:
            return
        with self._lock:
            if self._fd is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            os.write(self._fd, line)


_spools: dict[str, Spool] = {}
_spools_lock = threading.Lock()


def _spool(home: Path) -> Spool:
    key = str(Path(home).resolve())
    with _spools_lock:
        spool = _spools.get(key)
        if spool is None or spool.path.name.split("-")[0] != str(os.getpid()):
            spool = _spools[key] = Spool(Path(home))  # a forked child writes its own file
        return spool


def track(
    home: Path,
    event: str,
    who: Who,
    *,
    painel: str = "",
    widget: str = "",
    linhas: int | None = None,
    ms: float | None = None,
    at: datetime | None = None,
) -> None:
    """Record one event (never raises: monitoring must not break a page)."""
    if event not in EVENTS:
        raise ValueError(f"unknown usage event {event!r} (events: {', '.join(EVENTS)})")
    moment = at or datetime.now(UTC)
    record = {
        "ts": iso(moment),
        "dia": moment.astimezone(TZ).date().isoformat(),
        "u": who.username,
        "p": who.perfil,
        "s": who.sre,
        "e": who.escola,
        "o": who.orgao,
        "n": painel,
        "ev": event,
        "w": widget[:100],
        "r": linhas,
        "ms": None if ms is None else round(float(ms), 1),
    }
    with contextlib.suppress(OSError):  # a full disk or a read-only home: the page goes on
        _spool(home).write(record)


@dataclass
class IngestReport:
    events: int = 0
    files: int = 0
    removed: int = 0
    bad_lines: int = 0


def ingest(opstate: OpState, home: Path, chunk_bytes: int = 2**20) -> IngestReport:
    """Move the spool's complete lines into the store (see the module): each file to its
    end, ``chunk_bytes`` per transaction, so a pass never holds the store's write lock long."""
    from .store import pid_alive

    report = IngestReport()
    folder = spool_dir(home)
    if not folder.is_dir():
        return report
    for path in sorted(folder.glob("*.jsonl")):
        try:
            pid = int(path.name.split("-")[0])
        except ValueError:
            continue
        alive = pid_alive(pid)
        report.files += 1
        while True:
            with opstate.transaction() as con:
                row = con.execute(
                    "SELECT offset FROM usage_spool WHERE file = ?", [path.name]
                ).fetchone()
                start = int(row[0]) if row else 0
                with open(path, "rb") as fh:
                    fh.seek(start)
                    chunk = fh.read(chunk_bytes)
                to_end = len(chunk) < chunk_bytes  # read to the end of the file
                end = chunk.rfind(b"\n") + 1  # complete lines only: a writer may be mid-line
                if end == 0 and not to_end:  # no line end in a whole chunk: not an event
                    end = len(chunk)
                    report.bad_lines += 1
                    lines: list[bytes] = []
                else:
                    lines = chunk[:end].splitlines()
                events = []
                for raw in lines:
                    try:
                        events.append(_event(json.loads(raw)))
                    except (ValueError, KeyError, TypeError):
                        report.bad_lines += 1
                _store(con, events)
                con.execute(
                    "INSERT INTO usage_spool (file, offset) VALUES (?, ?) "
                    "ON CONFLICT (file) DO UPDATE SET offset = excluded.offset",
                    [path.name, start + end],
                )
                report.events += len(events)
                if not alive and to_end and chunk[end:].strip():
                    report.bad_lines += 1  # a dead writer's cut line: never completed
                done = not alive and to_end
                if done:
                    con.execute("DELETE FROM usage_spool WHERE file = ?", [path.name])
            if to_end:
                break
        if done:
            path.unlink(missing_ok=True)
            report.removed += 1
    return report


def _event(r: Mapping[str, Any]) -> tuple[Any, ...]:
    event = str(r["ev"])
    if event not in EVENTS:
        raise ValueError(event)
    return (
        str(r["ts"]),
        str(r["dia"]),
        str(r["u"]),
        str(r.get("p") or ""),
        str(r.get("s") or ""),
        str(r.get("e") or ""),
        str(r.get("o") or ""),
        str(r.get("n") or ""),
        event,
        str(r.get("w") or ""),
        None if r.get("r") is None else int(r["r"]),
        None if r.get("ms") is None else float(r["ms"]),
    )


def _store(con: Any, events: Iterable[tuple[Any, ...]]) -> None:
    rows = list(events)
    if not rows:
        return
    con.executemany(
        "INSERT INTO usage_events (ts, dia, username, perfil, sre, escola, orgao, painel, evento, "
        "widget, linhas, ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    daily: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _ts, dia, user, perfil, sre, _escola, _orgao, painel, event, *_rest in rows:
        d = daily.setdefault(
            (dia, user, painel),
            {"perfil": perfil, "sre": sre, **{c: 0 for c in COUNTED.values()}},
        )
        if event in COUNTED:
            d[COUNTED[event]] += 1
    con.executemany(
        "INSERT INTO usage_daily (dia, username, painel, perfil, sre, page_views, interactions, "
        "exports, errors, logins) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dia, username, painel) DO UPDATE SET "
        "page_views = page_views + excluded.page_views, "
        "interactions = interactions + excluded.interactions, "
        "exports = exports + excluded.exports, errors = errors + excluded.errors, "
        "logins = logins + excluded.logins, perfil = excluded.perfil, sre = excluded.sre",
        [
            (
                k[0],
                k[1],
                k[2],
                v["perfil"],
                v["sre"],
                v["page_views"],
                v["interactions"],
                v["exports"],
                v["errors"],
                v["logins"],
            )
            for k, v in daily.items()
        ],
    )


def events_days() -> int:
    raw = os.environ.get(EVENTS_DAYS_ENV, "").strip()
    if not raw:
        return EVENTS_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{EVENTS_DAYS_ENV}={raw!r}: a number of days") from None
    if days < 1:
        raise ValueError(f"{EVENTS_DAYS_ENV}={raw!r}: at least 1 day")
    return days


def purge(opstate: OpState, today: date | None = None, days: int | None = None) -> int:
    """Delete single events older than ``days`` (default :func:`events_days`); the day's
    figures per person and panel (``usage_daily``, what the page reads) stay. Returns how many."""
    from datetime import timedelta

    keep = events_days() if days is None else days
    cutoff = (today or datetime.now(TZ).date()) - timedelta(days=keep)
    with opstate.connect() as con:
        return int(
            con.execute("DELETE FROM usage_events WHERE dia < ?", [cutoff.isoformat()]).rowcount
        )


class Ingester:
    """``painel serve``'s mover of the spool into the store: a daemon thread calling
    :func:`ingest` every ``interval`` seconds (and once more when stopped)."""

    def __init__(self, opstate: OpState, home: Path, interval: float = 5.0):
        self.opstate, self.home, self.interval = opstate, Path(home), interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="painel-usage", daemon=True)

    def start(self) -> Ingester:
        self._thread.start()
        return self

    def _loop(self) -> None:
        import logging

        log = logging.getLogger(__name__)
        while True:
            try:
                ingest(self.opstate, self.home)
            except Exception:
                log.exception("usage: could not ingest the spool (the next round tries again)")
            if self._stop.wait(self.interval):
                break

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
