"""The published store: immutable, versioned DuckDB files behind an atomic pointer.

DuckDB allows one read-write process or many read-only ones on a file, never both, so an
ETL run never writes a file a dashboard reads. Each dataset lives in its own folder:

    store/<dataset>/CURRENT               the published version id (replaced with os.replace)
    store/<dataset>/HISTORY               one JSON line per pointer change (publish, rollback)
    store/<dataset>/versions/<v>.duckdb   immutable version files
    store/<dataset>/versions/<v>.json     their manifests
    store/<dataset>/staging/<v>.duckdb    a build in progress (plus <v>.owner, the builder's pid)
    store/<dataset>/.lock                 serialises pointer changes

A build writes only its staging file. ``publish()`` runs the checks, CHECKPOINTs and closes
the file, moves it into ``versions/``, writes the manifest and only then swaps ``CURRENT``:
the swap is the commit point, so a build that fails or is killed at any moment before it
leaves readers on the previous version. Readers open read-only and re-read ``CURRENT``
before each query, so they move to a new version on their next query; a reader still
holding an older, since-pruned file keeps reading it (the inode outlives the name).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from .checks import Check, CheckResult
from .domain import PUBLIC, Scope
from .launch import pid_alive
from .runctx import RunContext
from .wire import DUCKDB_MEMORY_ENV, DUCKDB_THREADS_ENV

DEFAULT_KEEP = 5
KEEP_ENV = "PAINEL_KEEP_VERSIONS"


class StoreError(Exception):
    """A store operation that cannot proceed; the message names the dataset and why."""


class NoVersion(StoreError):
    pass


class ChecksFailed(StoreError):
    def __init__(self, dataset: str, failed: list[CheckResult]):
        self.failed = failed
        names = "; ".join(f"{r.name}: {r.detail}" if r.detail else r.name for r in failed)
        super().__init__(f"dataset {dataset!r} not published, failed checks: {names}")


def new_version_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass
class VersionInfo:
    dataset: str
    version: str
    path: Path
    manifest: dict[str, Any]
    current: bool = False
    published: bool = False


class Store:
    """The store under ``root`` (``<PAINEL_HOME>/store``)."""

    def __init__(self, root: str | Path, keep: int | None = None):
        self.root = Path(root)
        if keep is None:
            keep = int(os.environ.get(KEEP_ENV, DEFAULT_KEEP))
        if keep < 1:
            raise StoreError(f"keep must be at least 1 (got {keep})")
        self.keep = keep

    # ---- layout -------------------------------------------------------------------
    def _dir(self, dataset: str) -> Path:
        if not dataset or not dataset.replace("_", "").isalnum() or not dataset[0].isalpha():
            raise StoreError(f"invalid dataset name {dataset!r} (letters, digits and _ only)")
        return self.root / dataset

    def datasets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "CURRENT").exists())

    def current_version(self, dataset: str) -> str | None:
        try:
            text = (self._dir(dataset) / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def version_path(self, dataset: str, version: str) -> Path:
        return self._dir(dataset) / "versions" / f"{version}.duckdb"

    def current_path(self, dataset: str) -> Path:
        version = self.current_version(dataset)
        if version is None:
            raise NoVersion(f"dataset {dataset!r} has no published version yet")
        return self.version_path(dataset, version)

    def manifest(self, dataset: str, version: str | None = None) -> dict[str, Any]:
        version = version or self.current_version(dataset)
        if version is None:
            raise NoVersion(f"dataset {dataset!r} has no published version yet")
        path = self._dir(dataset) / "versions" / f"{version}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NoVersion(f"dataset {dataset!r} has no version {version!r}") from None

    def history(self, dataset: str) -> list[dict[str, Any]]:
        path = self._dir(dataset) / "HISTORY"
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return entries

    def versions(self, dataset: str) -> list[VersionInfo]:
        """Versions on disk with a manifest, oldest first."""
        folder = self._dir(dataset) / "versions"
        if not folder.is_dir():
            return []
        current = self.current_version(dataset)
        published = {e["version"] for e in self.history(dataset)} | {current}
        found = []
        for manifest_path in sorted(folder.glob("*.json")):
            version = manifest_path.stem
            db = folder / f"{version}.duckdb"
            if not db.exists():
                continue
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            found.append(
                VersionInfo(
                    dataset, version, db, manifest, version == current, version in published
                )
            )
        return found

    def published_by(self, run_id: str) -> list[str]:
        """``dataset@version`` for each version a run published."""
        out = []
        for dataset in self.datasets():
            for entry in self.history(dataset):
                if entry.get("action") == "publish" and entry.get("run_id") == run_id:
                    out.append(f"{dataset}@{entry['version']}")
        return out

    # ---- pointer changes ------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, dataset: str) -> Iterator[None]:
        folder = self._dir(dataset)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _point(self, dataset: str, version: str, entry: dict[str, Any]) -> None:
        """Swap CURRENT to ``version`` and log it; call with the dataset lock held."""
        folder = self._dir(dataset)
        _write_atomic(folder / "CURRENT", version + "\n")
        line = json.dumps(
            {"version": version, "at": datetime.now(UTC).isoformat(), **entry}, ensure_ascii=False
        )
        with open(folder / "HISTORY", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def rollback(self, dataset: str, to: str | None = None, actor: str = "") -> str:
        """Point ``dataset`` at an earlier published version (default: the one before current)."""
        with self._locked(dataset):
            current = self.current_version(dataset)
            if current is None:
                raise NoVersion(f"dataset {dataset!r} has no published version to roll back")
            versions = {v.version: v for v in self.versions(dataset)}
            if to is not None:
                if to not in versions:
                    raise StoreError(f"dataset {dataset!r} has no version {to!r} on disk")
                if to == current:
                    raise StoreError(f"version {to!r} of {dataset!r} is already current")
                target = to
            else:
                older = [v for v in versions.values() if v.published and v.version < current]
                if not older:
                    raise StoreError(
                        f"dataset {dataset!r} has no earlier published version to roll back to "
                        f"(current {current}, keeping {self.keep})"
                    )
                target = older[-1].version
            self._point(dataset, target, {"action": "rollback", "from": current, "actor": actor})
            return target

    def prune(self, dataset: str) -> list[str]:
        """Delete versions beyond the newest ``keep`` published ones; never the current one."""
        with self._locked(dataset):
            return self._prune_locked(dataset)

    def _prune_locked(self, dataset: str) -> list[str]:
        # Versions never pointed at (a publish killed between its rename and the swap) are
        # not in ``published`` and so are removed here too.
        current = self.current_version(dataset)
        infos = self.versions(dataset)
        published = [v.version for v in infos if v.published]
        keep = set(published[-self.keep :]) | {current}
        removed = []
        for info in infos:
            if info.version in keep:
                continue
            for suffix in (".duckdb", ".json"):
                with contextlib.suppress(FileNotFoundError):
                    (info.path.parent / f"{info.version}{suffix}").unlink()
            removed.append(info.version)
        return removed

    # ---- building -------------------------------------------------------------------
    def build(
        self,
        dataset: str,
        tables: Mapping[str, Scope],
        *,
        carry_over: bool = False,
        copy_base: bool = True,
        run: RunContext | None = None,
    ) -> Build:
        """Start a new version of ``dataset`` in a staging file.

        ``tables`` declares every table the version will hold and how rows are scoped:
        ``{"enrolment": {"regional": "regional_id", "school": "school_id"}, "regions": "public"}``.
        With ``carry_over`` the staging file starts as a copy of the current version, for
        datasets that keep history across runs; with ``copy_base=False`` it starts empty and
        the build reads what it keeps from ``base_path`` (attached read-only). Either way the
        publish is refused if another version was published meanwhile.
        """
        folder = self._dir(dataset)
        staging = folder / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        (folder / "versions").mkdir(exist_ok=True)
        self._clean_stale_staging(staging)
        version = new_version_id()
        path = staging / f"{version}.duckdb"
        (staging / f"{version}.owner").write_text(str(os.getpid()), encoding="utf-8")
        base = self.current_version(dataset) if carry_over else None
        if base is not None and copy_base:
            shutil.copyfile(self.version_path(dataset, base), path)
        return Build(
            self,
            dataset,
            version,
            path,
            dict(tables),
            base,
            run or RunContext.from_env(),
            carry_over=carry_over,
        )

    @staticmethod
    def _clean_stale_staging(staging: Path) -> None:
        for owner in staging.glob("*.owner"):
            try:
                pid = int(owner.read_text(encoding="utf-8").strip() or 0)
            except (ValueError, FileNotFoundError):
                pid = 0
            if pid and pid_alive(pid):
                continue
            for leftover in staging.glob(f"{owner.stem}.*"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    # ---- reading --------------------------------------------------------------------
    def connect(self, dataset: str) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the current version (for analysts and tests)."""
        return duckdb.connect(str(self.current_path(dataset)), read_only=True, config=read_config())

    def reader(self, dataset: str) -> Reader:
        return Reader(self, dataset)


@dataclass
class Build:
    """A version under construction; ``con`` is read-write on the staging file only."""

    store: Store
    dataset: str
    version: str
    path: Path
    tables: dict[str, Scope]
    base_version: str | None
    run: RunContext
    carry_over: bool = False
    source_extracted_at: datetime | str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    _con: duckdb.DuckDBPyConnection | None = None
    _state: str = "open"

    @property
    def base_path(self) -> Path | None:
        """The published version this build started from (carry-over builds), to attach."""
        if self.base_version is None:
            return None
        return self.store.version_path(self.dataset, self.base_version)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._state != "open":
            raise StoreError(f"build {self.version} of {self.dataset!r} is {self._state}")
        if self._con is None:
            # no progress bar: a long statement of a job run or `painel demo prepare` must not
            # print DuckDB's meter into the run's log or the terminal
            self._con = duckdb.connect(str(self.path))
            self._con.execute("SET enable_progress_bar = false")
        return self._con

    def check(self, *checks: Check) -> list[CheckResult]:
        """Run data checks against the staging file and record their results."""
        results = [c.run(self.con) for c in checks]
        self.results.extend(results)
        return results

    def _structural_checks(self) -> list[CheckResult]:
        # the version file's own tables: not TEMP ones (catalog "temp"), which never reach it
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT temporary"
        ).fetchall()
        present = {r[0] for r in rows}
        results = []
        missing = sorted(set(self.tables) - present)
        extra = sorted(present - set(self.tables))
        results.append(CheckResult("declared tables exist", not missing, ", ".join(missing)))
        results.append(
            CheckResult(
                "no undeclared tables",
                not extra,
                ("undeclared: " + ", ".join(extra)) if extra else "",
            )
        )
        bad_scope = []
        for table, scope in self.tables.items():
            if table not in present:
                continue
            if isinstance(scope, str):
                if scope != PUBLIC:
                    bad_scope.append(f"{table}: scope must be a mapping or 'public'")
                continue
            cols = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                    "AND schema_name = 'main' AND table_name = ?",
                    [table],
                ).fetchall()
            }
            bad_scope += [f"{table}.{c}" for c in scope.values() if c not in cols]
        results.append(CheckResult("scope columns exist", not bad_scope, ", ".join(bad_scope)))
        return results

    def abort(self) -> None:
        """Throw the staging file away; the published version is untouched."""
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.close()
            self._con = None
        for leftover in self.path.parent.glob(f"{self.version}.*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        self._state = "aborted"

    def publish(self) -> str:
        """Gate on the checks, then make this build the current version. Returns its id."""
        if self._state != "open":
            raise StoreError(f"build {self.version} of {self.dataset!r} is {self._state}")
        structural = self._structural_checks()
        self.results = structural + self.results
        failed = [r for r in self.results if not r.passed]
        if failed:
            self.abort()
            raise ChecksFailed(self.dataset, failed)
        con = self.con
        catalog = _scalar(con, "SELECT current_database()")
        row_counts = {
            t: _scalar(con, f'SELECT count(*) FROM "{catalog}".main."{t}"')
            for t in sorted(self.tables)
        }
        con.execute("CHECKPOINT")
        con.close()
        self._con = None
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            self.abort()
            raise StoreError(f"staging file of {self.dataset!r} kept a WAL after CHECKPOINT")
        with open(self.path, "rb+") as fh:
            os.fsync(fh.fileno())

        manifest = self._manifest(row_counts)
        final = self.store.version_path(self.dataset, self.version)
        store = self.store
        with store._locked(self.dataset):
            current = store.current_version(self.dataset)
            if self.carry_over and current != self.base_version:
                self.abort()
                raise StoreError(
                    f"dataset {self.dataset!r} changed while this run built on it "
                    f"(started from {self.base_version}, now {current}); nothing published, "
                    "run again"
                )
            manifest["previous_version"] = current
            manifest["published_at"] = datetime.now(UTC).isoformat()
            os.replace(self.path, final)
            _write_atomic(final.with_suffix(".json"), json.dumps(manifest, indent=2, default=str))
            store._point(
                self.dataset,
                self.version,
                {"action": "publish", "run_id": self.run.run_id, "job": self.run.job},
            )
            self._state = "published"
            with contextlib.suppress(FileNotFoundError):
                (self.path.parent / f"{self.version}.owner").unlink()
            store._prune_locked(self.dataset)
        # a run killed before this one started may have outlived that one's start (its kernel
        # notices its parent is gone only after a poll); by now it has ended
        store._clean_stale_staging(self.path.parent)
        return self.version

    def _manifest(self, row_counts: dict[str, int]) -> dict[str, Any]:
        extracted = self.source_extracted_at
        if isinstance(extracted, datetime):
            extracted = extracted.isoformat()
        return {
            "dataset": self.dataset,
            "version": self.version,
            "run_id": self.run.run_id,
            "job": self.run.job,
            "notebook": self.run.notebook,
            "parameters": self.run.parameters,
            "source_extracted_at": extracted,
            "built_from": self.base_version,
            "row_counts": row_counts,
            "checks": [r.as_dict() for r in self.results],
            "tables": {t: (s if isinstance(s, str) else dict(s)) for t, s in self.tables.items()},
            "notes": self.notes,
        }


class Reader:
    """A read-only view of a dataset that follows ``CURRENT``.

    ``connection()`` re-reads the pointer (a tiny file read) and reconnects when a new
    version was published; ``on_connect`` runs on each fresh connection (the scoped layer
    uses it to install its views).
    """

    def __init__(
        self,
        store: Store,
        dataset: str,
        on_connect: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], None] | None = None,
        attach_as: str | None = None,
        pinned: str | None = None,
    ):
        """``pinned``: always this version, never a newer one (a report burst reads one
        version for every scope); it fails with :class:`NoVersion` once it is pruned."""
        self.pinned = pinned
        self.store = store
        self.dataset = dataset
        self.on_connect = on_connect
        self.attach_as = attach_as
        self.version: str | None = None
        self.manifest: dict[str, Any] = {}
        self._con: duckdb.DuckDBPyConnection | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self.pinned is not None:
            if self._con is None:
                if not self.store.version_path(self.dataset, self.pinned).exists():
                    raise NoVersion(
                        f"version {self.pinned!r} of dataset {self.dataset!r} is no longer kept"
                    )
                self._reconnect(self.pinned)
            assert self._con is not None
            return self._con
        version = self.store.current_version(self.dataset)
        if version is None:
            raise NoVersion(f"dataset {self.dataset!r} has no published version yet")
        if version != self.version or self._con is None:
            self._reconnect(version)
        assert self._con is not None
        return self._con

    def _reconnect(self, version: str) -> None:
        for attempt in range(3):
            path = self.store.version_path(self.dataset, version)
            try:
                manifest = self.store.manifest(self.dataset, version)
                if self.attach_as:
                    # an in-memory catalog with the version attached read-only under an alias
                    con = duckdb.connect(":memory:", config=read_config())
                    try:
                        con.execute(f"ATTACH '{_sql_path(path)}' AS {self.attach_as} (READ_ONLY)")
                    except duckdb.Error:
                        con.close()
                        raise
                else:
                    con = duckdb.connect(str(path), read_only=True, config=read_config())
                break
            except (duckdb.IOException, NoVersion):
                # pruned between reading the pointer and opening: read the pointer again
                if self.pinned is not None:
                    raise
                latest = self.store.current_version(self.dataset)
                if attempt == 2 or latest is None:
                    raise
                version = latest
        if self.on_connect is not None:
            self.on_connect(con, manifest)
        old, self._con = self._con, con
        self.version, self.manifest = version, manifest
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self.version = None


def read_config() -> dict[str, Any]:
    """DuckDB settings of a read-only connection in this process (memory limit, threads):
    ``painel serve`` sets them for dashboard kernels (PainelVoila.kernel_duckdb_*); unset,
    DuckDB's defaults."""
    config: dict[str, Any] = {}
    memory = os.environ.get(DUCKDB_MEMORY_ENV, "").strip()
    if memory:
        config["memory_limit"] = memory
    threads = os.environ.get(DUCKDB_THREADS_ENV, "").strip()
    if threads.isdigit() and int(threads) > 0:
        config["threads"] = int(threads)
    return config


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> Any:
    row = con.execute(query).fetchone()
    if row is None:
        raise StoreError(f"query returned no row: {query}")
    return row[0]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
