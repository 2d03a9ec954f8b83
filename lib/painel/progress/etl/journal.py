"""The resume journal of one week's collection: what a killed or failed run already fetched.

``<home>/work/progress/<week>.sqlite`` holds each class's student list (id and name only)
and every progress reply, each committed as it arrives, so a run that is killed or stops
over the failure threshold resumes without calling Cademi again for what it has. A
successful publish deletes the journal: re-running a published week fetches it afresh.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ...opstate import iso, utcnow

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tag_lists (
    tag_id INTEGER PRIMARY KEY, students TEXT NOT NULL, fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    student_id INTEGER NOT NULL, product_id INTEGER NOT NULL, pct REAL NOT NULL,
    watched INTEGER NOT NULL, completed INTEGER NOT NULL, collected_at TEXT NOT NULL,
    PRIMARY KEY (student_id, product_id));
"""


class Journal:
    def __init__(self, folder: Path, week: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{week}.sqlite"
        self.week = week
        self._con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._con.execute("PRAGMA journal_mode = WAL")
        self._con.execute("PRAGMA synchronous = NORMAL")
        self._con.executescript(_SCHEMA)
        self._con.execute("INSERT OR IGNORE INTO meta VALUES ('week', ?)", [week])
        self._con.execute("INSERT OR IGNORE INTO meta VALUES ('started_at', ?)", [iso(utcnow())])

    def tag_list(self, tag_id: int) -> list[dict[str, Any]] | None:
        row = self._con.execute(
            "SELECT students FROM tag_lists WHERE tag_id = ?", [tag_id]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_tag_list(self, tag_id: int, students: list[dict[str, Any]]) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO tag_lists VALUES (?, ?, ?)",
            [tag_id, json.dumps(students, ensure_ascii=False), iso(utcnow())],
        )

    def results(self) -> dict[tuple[int, int], tuple[float, int, int, str]]:
        rows = self._con.execute(
            "SELECT student_id, product_id, pct, watched, completed, collected_at FROM results"
        ).fetchall()
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}

    def save_result(
        self, student_id: int, product_id: int, pct: float, watched: int, completed: int
    ) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
            [student_id, product_id, pct, watched, completed, iso(utcnow())],
        )

    def close(self) -> None:
        self._con.close()

    def discard(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
