"""Readers in other processes never see a half-published version while versions are swapped.

The main process publishes many versions; each is internally consistent (table ``a`` has N
rows, table ``b`` has one row holding N, and the manifest's row counts say the same). Reader
processes query through ``Store.reader`` in a loop and count every inconsistent read and every
error. Retention is small, so readers also meet versions pruned under them.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import traceback
from pathlib import Path

import pytest

from painel.runctx import RunContext
from painel.store import Store

DATASET = "conc"
TABLES = {"a": "public", "b": "public"}
N_READERS = 4
N_VERSIONS = 30
DEADLINE_S = 25.0


def sizes(i: int) -> int:
    return 100 + 37 * i  # every version a different N


def reader_loop(
    root: str,
    stop: mp.synchronize.Event,
    out: mp.Queue,
    deadline: float,
    started: mp.synchronize.Semaphore,
) -> None:
    """Query the current version until told to stop; report (reads, inconsistent, errors, ...).

    ``started`` is released once, after the first successful read."""
    store = Store(root, keep=3)
    reader = store.reader(DATASET)
    reads = inconsistent = errors = 0
    seen: set[str] = set()
    samples: list[str] = []
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                con = reader.connection()
                n_rows, n_claimed, total = con.execute(
                    "SELECT (SELECT count(*) FROM a), (SELECT n FROM b), (SELECT count(*) FROM b)"
                ).fetchone()
                counts = reader.manifest["row_counts"]
                ok = n_rows == n_claimed and total == 1 and counts == {"a": n_rows, "b": 1}
                ok = ok and reader.manifest["version"] == reader.version
                reads += 1
                if reads == 1:
                    started.release()
                seen.add(reader.version)
                if not ok:
                    inconsistent += 1
                    if len(samples) < 3:
                        samples.append(
                            f"{reader.version}: a={n_rows} b={n_claimed} manifest={counts}"
                        )
            except Exception as exc:  # noqa: BLE001 - every error is counted and reported
                errors += 1
                if len(samples) < 3:
                    samples.append("".join(traceback.format_exception_only(exc)).strip())
    finally:
        reader.close()
        out.put((reads, inconsistent, errors, sorted(seen), samples))


def publish(store: Store, i: int) -> str:
    build = store.build(DATASET, TABLES, run=RunContext(run_id=f"conc-{i}"))
    n = sizes(i)
    build.con.execute(f"CREATE TABLE a AS SELECT range AS i FROM range({n})")
    build.con.execute("CREATE TABLE b (n BIGINT)")
    build.con.execute("INSERT INTO b VALUES (?)", [n])
    return build.publish()


@pytest.mark.slow
def test_readers_see_only_whole_versions_while_versions_are_published(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store(root, keep=3)
    published = [publish(store, 0)]

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    out = ctx.Queue()
    started = ctx.Semaphore(0)
    deadline = time.monotonic() + DEADLINE_S
    readers = [
        ctx.Process(target=reader_loop, args=(str(root), stop, out, deadline, started), daemon=True)
        for _ in range(N_READERS)
    ]
    for proc in readers:
        proc.start()
    results = []
    try:
        # every reader has read the first version before any swap
        for n in range(N_READERS):
            if not started.acquire(timeout=max(0.1, deadline - 10 - time.monotonic())):
                pytest.fail(f"only {n} of {N_READERS} readers read the first version in time")
        for i in range(1, N_VERSIONS):
            published.append(publish(store, i))
            time.sleep(0.1)
            if time.monotonic() > deadline - 5:
                break
        time.sleep(0.3)
        stop.set()
        for _ in readers:
            results.append(out.get(timeout=max(1.0, deadline + 5 - time.monotonic())))
    except queue.Empty:
        pytest.fail(f"only {len(results)} of {N_READERS} readers reported")
    finally:
        stop.set()
        for proc in readers:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=10)

    assert len(published) >= 20, "publishing was too slow to exercise many swaps"
    assert store.current_version(DATASET) == published[-1]
    assert len(store.versions(DATASET)) == 3  # retention pruned under the readers
    for reads, inconsistent, errors, seen, samples in results:
        assert errors == 0, samples
        assert inconsistent == 0, samples
        assert reads > 50
        assert set(seen) <= set(published)
        assert len(seen) >= 5, f"reader saw only {len(seen)} versions"
    all_seen = set().union(*(set(r[3]) for r in results))
    assert len(all_seen) >= 10
