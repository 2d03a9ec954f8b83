"""Requests a dashboard kernel makes of the server: what needs a secret a kernel never holds.

Dashboard kernels run with a short environment (no API keys: ``painel serve``'s
``kernel_env_allowlist``). When a page must start a collection run ("Coletar agora") or
read something from an external API with the server's key (the Cademi tag list, to check a
class tag being registered), it files a *service request* in the operational store and
waits for its answer; ``painel serve`` claims pending requests every half second and
answers them in a worker thread.

- ``run``: start ``painel etl run ARG`` (the scheduler's own :func:`painel.launch.spawn`);
- each domain may add kinds (``Domain.services``: ``"module:attribute"`` naming a mapping of
  kind to ``handler(paths, arg, actor) -> JSON value``).

A request is claimed by one server only (compare-and-set on ``claimed_at``); a request
nobody claims within ``EXPIRE`` is answered as failed, so a page never waits forever.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from .config import Paths
from .opstate import OpState, iso, parse_iso, utcnow

log = logging.getLogger("painel.service")

Handler = Callable[[Paths, str, str], Any]
EXPIRE = timedelta(seconds=60)


class ServiceError(Exception):
    """A request that failed or got no answer; the message is for the server log."""


def _run(paths: Paths, job: str, actor: str) -> Any:
    from .launch import spawn

    log_dir = paths.runs / job
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "started-from-dashboard.log", "a", encoding="utf-8") as fh:
        fh.write(f"run requested by {actor}\n")
        fh.flush()
        proc = spawn(paths, job, f"manual:{actor}", stdout=fh, stderr=subprocess.STDOUT)
    from . import audit
    from .opstate import OpState

    audit.record(
        OpState(paths.opstate),
        "run",
        actor=actor,
        target=job,
        detail={"origem": "painel", "pid": proc.pid},
    )
    return {"pid": proc.pid}


def handlers() -> dict[str, Handler]:
    """Every kind this installation answers: the core's, then each domain's."""
    from .domain import domains, resolve

    out: dict[str, Handler] = {"run": _run}
    for d in domains():
        if d.services:
            table: Mapping[str, Handler] = resolve(d.services)
            out.update(table)
    return out


def submit(opstate: OpState, kind: str, arg: str, actor: str) -> int:
    """File a request; returns its id."""
    with opstate.connect() as con:
        cur = con.execute(
            "INSERT INTO service_requests (kind, arg, requested_by, requested_at) "
            "VALUES (?, ?, ?, ?)",
            [kind, arg, actor, iso(utcnow())],
        )
        return int(cur.lastrowid or 0)


def pending(opstate: OpState, kind: str, arg: str) -> bool:
    """Whether a request of this kind and argument is waiting for a server."""
    since = iso(utcnow() - EXPIRE)
    with opstate.connect() as con:
        row = con.execute(
            "SELECT 1 FROM service_requests WHERE kind = ? AND arg = ? AND finished_at IS NULL "
            "AND requested_at > ?",
            [kind, arg, since],
        ).fetchone()
    return row is not None


def wait(opstate: OpState, request_id: int, timeout: float = 20.0) -> Any:
    """The request's answer; :class:`ServiceError` when it failed or none came in ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        with opstate.connect() as con:
            row = con.execute(
                "SELECT finished_at, result, error FROM service_requests WHERE id = ?",
                [request_id],
            ).fetchone()
        if row is None:
            raise ServiceError(f"service request {request_id} does not exist")
        if row["finished_at"] is not None:
            if row["error"]:
                raise ServiceError(row["error"])
            return json.loads(row["result"]) if row["result"] else None
        if time.monotonic() >= end:
            raise ServiceError(f"service request {request_id}: no answer in {timeout:g} s")
        time.sleep(0.1)


def call(opstate: OpState, kind: str, arg: str, actor: str, timeout: float = 20.0) -> Any:
    return wait(opstate, submit(opstate, kind, arg, actor), timeout)


def _finish(opstate: OpState, request_id: int, result: Any = None, error: str = "") -> None:
    with opstate.connect() as con:
        con.execute(
            "UPDATE service_requests SET finished_at = ?, result = ?, error = ? WHERE id = ?",
            [iso(utcnow()), json.dumps(result) if not error else None, error or None, request_id],
        )


def serve_pending(paths: Paths, known: Mapping[str, Handler] | None = None) -> int:
    """Claim and answer every pending request (the server calls this every half second);
    returns how many were answered. Requests older than ``EXPIRE`` are failed, not run."""
    opstate = OpState(paths.opstate)
    known = handlers() if known is None else known
    now = utcnow()
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT id, kind, arg, requested_by, requested_at FROM service_requests "
            "WHERE claimed_at IS NULL ORDER BY id"
        ).fetchall()
    answered = 0
    for row in rows:
        with opstate.connect() as con:
            claimed = con.execute(
                "UPDATE service_requests SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL",
                [iso(utcnow()), row["id"]],
            ).rowcount
        if not claimed:
            continue  # another server took it
        answered += 1
        if now - parse_iso(row["requested_at"]) > EXPIRE:
            _finish(opstate, row["id"], error="expired before a server claimed it")
            continue
        handler = known.get(row["kind"])
        if handler is None:
            _finish(opstate, row["id"], error=f"unknown request kind {row['kind']!r}")
            continue
        try:
            result = handler(paths, row["arg"], row["requested_by"])
        except Exception as exc:
            log.exception("service request %s (%s) failed", row["id"], row["kind"])
            _finish(opstate, row["id"], error=f"{type(exc).__name__}: {exc}")
            continue
        _finish(opstate, row["id"], result)
    return answered


def purge(opstate: OpState, older_than: timedelta = timedelta(days=7)) -> None:
    with opstate.connect() as con:
        con.execute(
            "DELETE FROM service_requests WHERE requested_at < ?", [iso(utcnow() - older_than)]
        )


class Worker:
    """``painel serve``'s answerer: a daemon thread calling :func:`serve_pending` every
    ``interval`` seconds (a few SQLite reads when nothing is asked)."""

    def __init__(self, paths: Paths, interval: float = 0.5):
        import threading

        self.paths, self.interval = paths, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="painel-service", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def _loop(self) -> None:
        known = handlers()
        while not self._stop.is_set():
            try:
                serve_pending(self.paths, known)
            except Exception:
                log.exception("service requests: could not serve pending requests")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
