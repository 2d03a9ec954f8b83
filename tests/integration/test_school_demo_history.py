"""The demo's earlier days are published one by one, so the panels' daily lines have points."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from painel.config import Paths
from painel.school import demo
from painel.school.contract import zip_date
from painel.school.generate import generate
from painel.store import Store

pytestmark = pytest.mark.timeout(300)


def test_history_is_published_day_by_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    paths = Paths.from_env().ensure()
    since, day = demo.demo_day(date(2026, 5, 20))
    dumps = generate(tmp_path / "dumps", scale=0.001, day=day, seed=demo.SEED, since=since)
    assert len(dumps) == demo.HISTORY_DAYS + 1
    runs = demo.publish_history(paths, dumps[:-1], trend_days=4)
    assert runs == 4
    con = Store(paths.store).connect("school")
    try:
        points = [
            r[0]
            for r in con.execute("SELECT DISTINCT data_ref FROM serie_diaria ORDER BY 1").fetchall()
        ]
        loaded = con.execute(
            "SELECT count(DISTINCT data_dump) FILTER (WHERE completa), count(DISTINCT data_dump) "
            "FROM cargas"
        ).fetchall()[0]
        school_days = con.execute("SELECT count(DISTINCT dt_aula) FROM dias_letivos").fetchall()
    finally:
        con.close()
    # one point per day published: the four dumps before the newest
    assert points == [zip_date(p.name) for p in dumps[-5:-1]]
    assert loaded == (4, len(dumps) - 1)  # the older ones' daily attendance was read too
    assert school_days[0][0] >= len(dumps) - 2
