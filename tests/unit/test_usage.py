"""Usage monitoring (painel.usage, painel.dash.tracking, painel.monitoramento) against a real
operational store and real spool files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from painel import usage
from painel.opstate import OpState

MARIA = usage.Who("maria", "school_sre", "12")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def op(home: Path) -> OpState:
    ops = OpState(home / "painel.sqlite")
    ops.migrate()
    return ops


def daily(op: OpState) -> list[tuple[Any, ...]]:
    with op.connect() as con:
        return [
            tuple(r)
            for r in con.execute(
                "SELECT dia, username, painel, page_views, interactions, exports, errors, logins "
                "FROM usage_daily ORDER BY dia, username, painel"
            )
        ]


def test_events_go_through_the_spool_once_each(op, home) -> None:
    at = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 23:30 of 30 Nov in Brasília
    usage.track(home, "login", MARIA, at=at)
    usage.track(home, "page_view", MARIA, painel="rede_notas", ms=120.5, at=at)
    for _ in range(3):
        usage.track(home, "interaction", MARIA, painel="rede_notas", widget="Bimestre", at=at)
    usage.track(home, "export", MARIA, painel="rede_notas", linhas=2522, at=at)
    report = usage.ingest(op, home)
    assert report.events == 6 and report.removed == 0  # this process, alive, keeps writing
    assert daily(op) == [
        ("2026-11-30", "maria", "", 0, 0, 0, 0, 1),
        ("2026-11-30", "maria", "rede_notas", 1, 3, 1, 0, 0),
    ]
    assert usage.ingest(op, home).events == 0  # nothing twice
    usage.track(home, "interaction", MARIA, painel="rede_notas", at=at)
    assert usage.ingest(op, home).events == 1
    assert daily(op)[1][4] == 4
    with op.connect() as con:
        [(n, ms)] = con.execute(
            "SELECT count(*), max(ms) FROM usage_events WHERE username = 'maria'"
        ).fetchall()
    assert (n, ms) == (7, 120.5)
    with pytest.raises(ValueError, match="unknown usage event"):
        usage.track(home, "scroll", MARIA)


def test_a_line_being_written_waits_and_a_dead_writers_file_goes(op, home) -> None:
    folder = usage.spool_dir(home)
    folder.mkdir(parents=True)
    line = json.dumps(
        {
            "ts": "2026-12-01T12:00:00+00:00",
            "dia": "2026-12-01",
            "u": "jose",
            "n": "rede_notas",
            "ev": "interaction",
        }
    )
    dead = folder / "999999-1.jsonl"  # no such process
    dead.write_text(line + "\n" + "{not json}\n" + line[:20], encoding="utf-8")
    report = usage.ingest(op, home)
    assert (report.events, report.bad_lines, report.removed) == (1, 2, 1)
    assert not dead.exists()
    live = folder / f"{os.getpid()}-2.jsonl"  # a live writer caught mid-line
    live.write_text(line + "\n" + line[:30], encoding="utf-8")
    assert usage.ingest(op, home).events == 1
    with open(live, "a", encoding="utf-8") as fh:
        fh.write(line[30:] + "\n")
    assert usage.ingest(op, home).events == 1  # the line, once complete, and only once
    assert live.exists() and daily(op)[0][4] == 3


def test_a_big_spool_goes_in_one_pass_of_short_transactions(op, home) -> None:
    folder = usage.spool_dir(home)
    folder.mkdir(parents=True)
    line = json.dumps(
        {
            "ts": "2026-12-01T12:00:00+00:00",
            "dia": "2026-12-01",
            "u": "jose",
            "n": "rede_notas",
            "ev": "interaction",
        }
    )
    dead = folder / "999999-7.jsonl"
    dead.write_text((line + "\n") * 5000 + "x" * 5000 + "\n" + line + "\n", encoding="utf-8")
    commits: list[int] = []
    real = op.transaction

    def counted():  # type: ignore[no-untyped-def]
        commits.append(1)
        return real()

    op.transaction = counted  # type: ignore[method-assign]
    report = usage.ingest(op, home, chunk_bytes=4096)  # ~40 lines a transaction
    assert (report.events, report.bad_lines, report.removed) == (5001, 2, 1)
    assert len(commits) > 100 and not dead.exists()
    assert daily(op)[0][4] == 5001


def test_a_killed_kernel_loses_nothing_it_recorded(op, home) -> None:
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from painel import usage\n"
        "who = usage.Who('ana', 'tutor')\n"
        "for i in range(50):\n"
        "    usage.track(Path(sys.argv[1]), 'interaction', who, painel='progresso')\n"
        "print('ok', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(home)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip() == "ok"
    report = usage.ingest(op, home)
    assert report.events == 50 and report.removed == 1
    assert daily(op)[0][2:5] == ("progresso", 0, 50)


@pytest.fixture
def served(home, op, monkeypatch) -> None:
    """A kernel under painel serve, its visitor maria, on rede_notas."""
    from painel.auth import Users
    from painel.dash import identity

    monkeypatch.setenv("PAINEL_HOME", str(home))
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv(identity.USER_ENV, "maria")
    monkeypatch.setenv("SCRIPT_NAME", "/voila/render/rede_notas.ipynb")
    monkeypatch.setattr(identity, "_served", None)
    monkeypatch.setattr(identity, "_access_changed", False)
    Users(op).add("maria", "uma senha longa", "school_sre", grants=["school:sre:12"])
    assert identity.current_viewer().username == "maria"


def test_a_served_page_counts_views_interactions_and_exports(served, op, home) -> None:
    import ipywidgets as widgets
    import pandas as pd

    from painel import dash
    from painel.dash import ui
    from painel.dash.download import Download
    from painel.dash.table import Column, Table

    out = widgets.Output()
    calls: list[Any] = []
    changed = ui.guarded(out)(lambda change: calls.append(change))
    fill = ui.guarded(out)(lambda: calls.append("fill"))
    dash.render(lambda viewer: widgets.HTML(viewer.username))  # a page view
    changed({"new": 1})  # a filter change: an interaction
    fill()  # the page's own filling-in: not one
    table = Table([Column("a", "A")])
    table.set_frame(pd.DataFrame({"a": range(60)}))
    table.page = 1  # a page of a table: an interaction
    dl = Download("Exportar", lambda: ("x.xlsx", b"data", 60))
    dl.send = lambda *a, **k: None  # type: ignore[method-assign]
    dl._on_message(dl, {"event": "click"}, [])
    usage.ingest(op, home)
    [(dia, user, painel, views, interactions, exports, errors, logins)] = daily(op)
    assert (user, painel, views, interactions, exports) == ("maria", "rede_notas", 1, 2, 1)
    with op.connect() as con:
        sre = con.execute("SELECT DISTINCT sre FROM usage_events").fetchall()
    assert [tuple(r) for r in sre] == [("12",)]


def test_outside_painel_serve_nothing_is_counted(op, home, monkeypatch) -> None:
    import ipywidgets as widgets

    from painel.dash import ui

    monkeypatch.setenv("PAINEL_HOME", str(home))
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    ui.guarded(widgets.Output())(lambda change: None)({"new": 1})
    assert usage.ingest(op, home).events == 0


def test_the_monitoring_page_shows_the_seed_portals_figures_exactly(op, home, monkeypatch) -> None:
    from painel import monitoramento, usage_history
    from painel.access import Viewer

    monkeypatch.setenv("PAINEL_HOME", str(home))
    usage_history.write(op)
    page = monitoramento.build(Viewer("central", "school_central"), op)
    cards = page.children[3].children

    def shown() -> dict[str, tuple[str, str]]:
        out = {}
        for card in cards:
            label = re.search(r'aria-label="([^"]*)"', card.value)
            value = re.search(r'font-size:22px;font-weight:600">([^<]*)<', card.value)
            note = re.search(r"painel-kpi-note[^>]*>([^<]*)<", card.value)
            if label and value:
                out[label.group(1)] = (value.group(1), note.group(1) if note else "")
        return out

    got = shown()
    assert got["Pessoas por dia"] == ("2.512", "média de 51 dias")
    assert got["Interações por dia"][0] == "70.000"
    assert got["Dia de pico"] == ("204.050", "interações em 30/09/2024, 4.479 pessoas")
    assert got["Painéis por pessoa"][0] == "2,0"
    assert got["Interações por pessoa"][0] == "27,9"
    assert got["Pessoas diferentes"][0] == "8.758"
    # every day, the same: the history has no weekend
    _periodo, dias, perfil, _sre = page.children[1].children
    dias.value = "todos"
    assert shown()["Pessoas por dia"][0] == "2.512"
    # one profile: fewer people, the page follows
    perfil.value = "school_sre"
    assert shown()["Pessoas diferentes"][0] != "8.758"
    assert monitoramento.build(Viewer("maria", "school_sre"), op).value.count("Só a") == 1


def test_single_events_go_after_their_retention_and_the_day_figures_stay(
    op, home, monkeypatch
) -> None:
    from datetime import date

    old = datetime(2026, 1, 10, 15, tzinfo=UTC)
    new = datetime(2026, 11, 30, 15, tzinfo=UTC)
    usage.track(home, "interaction", MARIA, painel="rede_notas", at=old)
    usage.track(home, "interaction", MARIA, painel="rede_notas", at=new)
    usage.ingest(op, home)
    assert usage.purge(op, today=date(2026, 12, 1)) == 1  # 90 days by default
    with op.connect() as con:
        assert con.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 1
    assert [r[0] for r in daily(op)] == ["2026-01-10", "2026-11-30"]  # the figures stay
    monkeypatch.setenv(usage.EVENTS_DAYS_ENV, "0")
    with pytest.raises(ValueError, match="at least 1 day"):
        usage.purge(op)
