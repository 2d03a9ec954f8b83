"""Service requests: what a dashboard kernel (no secrets) asks of the server (issue 9)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from painel import service
from painel.config import Paths
from painel.opstate import OpState, iso, utcnow


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths(home=tmp_path, project=tmp_path).ensure()


def test_a_request_is_answered_by_the_server_and_waited_for(paths: Paths) -> None:
    op = OpState(paths.opstate)
    seen: list[tuple[str, str]] = []

    def echo(p: Paths, arg: str, actor: str) -> dict[str, str]:
        seen.append((arg, actor))
        return {"arg": arg, "by": actor}

    stop = threading.Event()

    def server() -> None:  # as painel serve: every few milliseconds here
        while not stop.is_set():
            service.serve_pending(paths, {"echo": echo})
            stop.wait(0.02)

    t = threading.Thread(target=server, daemon=True)
    t.start()
    try:
        assert service.call(op, "echo", "x", "ana", timeout=10) == {"arg": "x", "by": "ana"}
    finally:
        stop.set()
        t.join(5)
    assert seen == [("x", "ana")]


def test_each_request_is_answered_once_by_competing_servers(paths: Paths) -> None:
    op = OpState(paths.opstate)
    calls: list[str] = []
    ids = [service.submit(op, "count", str(i), "ana") for i in range(20)]
    known = {"count": lambda p, arg, actor: calls.append(arg)}
    threads = [
        threading.Thread(target=service.serve_pending, args=(paths, known)) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(calls, key=int) == [str(i) for i in range(20)]
    assert all(service.wait(op, i, timeout=1) is None for i in ids)


def test_failures_unknown_kinds_and_stale_requests_are_answered_as_failed(paths: Paths) -> None:
    op = OpState(paths.opstate)

    def boom(p: Paths, arg: str, actor: str) -> None:
        raise RuntimeError("Cademi fora do ar")

    failing = service.submit(op, "boom", "", "ana")
    unknown = service.submit(op, "nope", "", "ana")
    stale = service.submit(op, "boom", "", "ana")
    with op.connect() as con:
        old = iso(utcnow() - service.EXPIRE - timedelta(seconds=1))
        con.execute("UPDATE service_requests SET requested_at = ? WHERE id = ?", [old, stale])
    assert service.pending(op, "boom", "")
    service.serve_pending(paths, {"boom": boom})
    with pytest.raises(service.ServiceError, match="Cademi fora do ar"):
        service.wait(op, failing, timeout=1)
    with pytest.raises(service.ServiceError, match="unknown request kind"):
        service.wait(op, unknown, timeout=1)
    with pytest.raises(service.ServiceError, match="expired"):
        service.wait(op, stale, timeout=1)
    assert not service.pending(op, "boom", "")


def test_no_server_means_no_answer_in_time_not_a_hang(paths: Paths) -> None:
    op = OpState(paths.opstate)
    with pytest.raises(service.ServiceError, match="no answer"):
        service.call(op, "run", "progress", "ana", timeout=0.3)


def test_the_progress_domain_answers_the_cademi_tag_list() -> None:
    from painel.progress import services

    assert service.handlers()[services.SERVICE_TAGS] is services.SERVICES[services.SERVICE_TAGS]
    assert "run" in service.handlers()


def test_the_servers_worker_answers_until_stopped(paths: Paths) -> None:
    op = OpState(paths.opstate)
    worker = service.Worker(paths, interval=0.05).start()
    try:
        request = service.submit(op, "nope", "", "ana")
        with pytest.raises(service.ServiceError, match="unknown request kind"):
            service.wait(op, request, timeout=10)
    finally:
        worker.stop()
    assert not worker._thread.is_alive()
    late = service.submit(op, "nope", "", "ana")
    with pytest.raises(service.ServiceError, match="no answer"):
        service.wait(op, late, timeout=0.3)
