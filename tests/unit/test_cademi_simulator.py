"""The Cademi API simulator: real HTTP against a simulator on a free loopback port."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from painel.progress.simulator import (
    TRACKS,
    CademiSimulator,
    Faults,
    World,
    add_arguments,
    from_args,
)

ANCHOR = datetime.date(2025, 3, 10)  # a Monday
AS_OF = datetime.datetime(2025, 3, 12, 15, 30)  # São Paulo local time
KEY = "test-key"
TIMEOUT = 5
OPEN = {"per_second": 10_000.0, "per_minute": 1_000_000}  # limits no test here reaches by accident

MakeSim = Callable[..., CademiSimulator]


@pytest.fixture
def make_sim(sim_factory: Any) -> MakeSim:
    """Start simulators (small world, open limits, fixed clock unless overridden); stop them afterwards."""

    def make(**kwargs: Any) -> CademiSimulator:
        return sim_factory(
            **{"students": 60, "key": KEY, "anchor": ANCHOR, "as_of": AS_OF, **OPEN, **kwargs}
        )

    return make


def get(
    sim: CademiSimulator, path: str, *, key: str | None = KEY, **kwargs: Any
) -> requests.Response:
    headers = {} if key is None else {"Authorization": key}
    return requests.get(sim.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)


def follow(sim: CademiSimulator, path: str, field: str) -> list[list[dict[str, Any]]]:
    """Every page of a cursor-paginated list, following next_page_url until null."""
    pages: list[list[dict[str, Any]]] = []
    url: str | None = sim.base_url + path
    while url is not None:
        assert len(pages) < 100, "pagination does not end"
        r = requests.get(url, headers={"Authorization": KEY}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        pages.append(data[field])
        url = data["paginator"]["next_page_url"]
    return pages


def control(sim: CademiSimulator, payload: dict[str, Any]) -> requests.Response:
    return requests.post(f"http://127.0.0.1:{sim.port}/_sim/control", json=payload, timeout=TIMEOUT)


# --------------------------------------------------------------------------- auth and envelope


def test_missing_header_is_403_and_wrong_key_is_405(make_sim: MakeSim) -> None:
    sim = make_sim()
    r = get(sim, "/tag", key=None)
    assert r.status_code == 403
    body = r.json()
    assert body["success"] is False and body["code"] == 403 and body["msg"]
    assert "data" not in body
    r = get(sim, "/tag", key="not-the-key")
    assert r.status_code == 405
    assert r.json()["code"] == 405 and r.json()["success"] is False
    assert get(sim, "/tag").status_code == 200
    assert sim.stats()["by_status"] == {200: 1, 403: 1, 405: 1}


def test_envelope_shape_and_profiler(make_sim: MakeSim) -> None:
    sim = make_sim()
    before = time.time()
    r = get(sim, "/produto/2101")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"success", "code", "data", "profiler"}
    assert body["success"] is True and body["code"] == 200
    prof = body["profiler"]
    assert set(prof) == {"start", "finish", "process"}
    assert all(isinstance(v, float | int) for v in prof.values())
    assert before - 1 <= prof["start"] <= prof["finish"] <= time.time() + 1
    assert 0 <= prof["process"] < 5
    assert body["data"] == {
        "produto": {
            "id": 2101,
            "ordem": 1,
            "nome": "Python do Zero",
            "vitrine": {"id": 301, "ordem": 1, "nome": "Trilha Analista de Dados"},
        }
    }
    # compact, PHP-style JSON
    assert r.text.startswith('{"success":true,"code":200,"data":')


def test_unknown_route_is_404_envelope(make_sim: MakeSim) -> None:
    sim = make_sim()
    for path in ("/nada", "/usuario/1001/extra/coisa", "/tag/5001"):
        r = get(sim, path)
        assert r.status_code == 404
        assert r.json() == {**r.json(), "success": False, "code": 404, "msg": "Rota não encontrada"}


# --------------------------------------------------------------------------- lists and pagination


def test_lista_por_tag_paginates_across_three_pages(make_sim: MakeSim) -> None:
    sim = make_sim(students=1000, classes=2)
    expected = sim.world.member_ids(5001, AS_OF)
    assert len(expected) > 300
    pages = follow(sim, "/usuario/lista_por_tag/5001", "usuario")
    assert len(pages) >= 3
    assert all(len(p) == 150 for p in pages[:-1]) and 0 < len(pages[-1]) <= 150
    ids = [u["id"] for page in pages for u in page]
    assert ids == expected  # sorted, no duplicates, none missing
    r = get(sim, "/usuario/lista_por_tag/5001")
    paginator = r.json()["data"]["paginator"]
    assert paginator["perPage"] == 150 and paginator["prev_page_url"] is None
    assert paginator["next_page_url"].startswith(
        f"http://127.0.0.1:{sim.port}/api/v1/usuario/lista_por_tag/5001?cursor="
    )
    user = pages[0][0]
    assert set(user) == {
        "id", "nome", "email", "doc", "celular", "login_auto", "gratis", "criado_em", "ultimo_acesso_em",
    }  # fmt: skip
    assert re.fullmatch(r"\d{3}\.\d{3}\.\d{3}-\d{2}", user["doc"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", user["criado_em"])
    assert "/auth/login?crstk=" in user["login_auto"]


def test_usuario_lists_every_user_and_looks_up_by_id_email_doc(make_sim: MakeSim) -> None:
    sim = make_sim(students=320)
    pages = follow(sim, "/usuario", "usuario")
    assert [len(p) for p in pages] == [150, 150, 20]
    assert [u["id"] for p in pages for u in p] == [s.id for s in sim.world.students]
    some = pages[1][7]
    digits = re.sub(r"\D", "", some["doc"])
    for key in (str(some["id"]), some["email"], some["email"].upper(), some["doc"], digits):
        r = get(sim, f"/usuario/{requests.utils.quote(key)}")
        assert r.status_code == 200, key
        assert r.json()["data"] == {"usuario": some}
    r = get(sim, "/usuario/ninguem@example.com")
    assert r.status_code == 409 and r.json()["msg"] == "Usuário não encontrado"


def test_produto_pages_of_15_and_tag_list(make_sim: MakeSim) -> None:
    sim = make_sim(classes=3)
    pages = follow(sim, "/produto", "produto")
    assert [len(p) for p in pages] == [15, 5]
    items = [p for page in pages for p in page]
    assert [p["id"] for p in items] == list(range(2101, 2121))
    assert [p["ordem"] for p in items] == list(range(1, 21))
    assert all(set(p) == {"id", "ordem", "nome"} for p in items)
    assert get(sim, "/produto").json()["data"]["paginator"]["perPage"] == 15

    r = get(sim, "/tag")
    data = r.json()["data"]
    assert set(data) == {"itens"}
    itens = data["itens"]
    assert [t["id"] for t in itens] == [5001, 5002, 5003, 5004, 5005, 9001, 9002, 9003]
    names = {t["id"]: t["nome"] for t in itens}
    assert names[5001] == "Turma 01 - Analista" and names[5002] == "Turma 02 - Cientista"
    assert names[9002] == "Alunos VIP"
    classes = sim.world.class_tags()
    assert [c.tag_id for c in classes] == [5001, 5002, 5003, 5004, 5005]
    assert [c.track for c in classes] == [
        "analista",
        "cientista",
        "analista",
        "cientista",
        "analista",
    ]
    weeks_ago = [(ANCHOR - c.start_week).days // 7 for c in classes]
    assert weeks_ago == [16, 14, 12, 1, 0]
    assert all(c.start_week.weekday() == 0 for c in classes)


# --------------------------------------------------------------------------- progress


def test_progress_format_and_monotonic_growth(make_sim: MakeSim) -> None:
    sim = make_sim(students=40, classes=2)
    world = sim.world
    first_class = world.class_tags()[0]
    members = world.member_ids(first_class.tag_id, AS_OF)
    product = TRACKS[first_class.track][0]
    lessons = world.product(product).lessons
    pattern = re.compile(r"\d{1,3}\.\d%")
    histories: dict[int, list[float]] = {uid: [] for uid in members[:8]}
    for week in range(0, 22, 3):
        sim.as_of = datetime.datetime.combine(
            first_class.start_week, datetime.time(12)
        ) + datetime.timedelta(weeks=week, days=2)
        for uid in histories:
            r = get(sim, f"/usuario/progresso_por_produto/{uid}/{product}")
            assert r.status_code == 200
            prog = r.json()["data"]["progresso"]
            assert (
                set(prog) == {"total", "assistidas", "completas", "aulas"} and prog["aulas"] == []
            )
            assert isinstance(prog["total"], str) and pattern.fullmatch(prog["total"]), prog[
                "total"
            ]
            pct = float(prog["total"][:-1])
            assert 0.0 <= pct <= 100.0
            assert prog["completas"] == int(pct / 100 * lessons)
            assert prog["completas"] <= prog["assistidas"] <= min(lessons, prog["completas"] + 3)
            if pct == 0:
                assert prog["assistidas"] == 0
            histories[uid].append(pct)
    for history in histories.values():
        assert history == sorted(history)
    assert any(h[-1] > h[0] for h in histories.values()), "nobody progressed in 21 weeks"
    # products of the other track, or outside both tracks, give zero
    other = TRACKS["cientista" if first_class.track == "analista" else "analista"][0]

    def single_track(uid: int) -> bool:
        classes = [world.class_tag(m.tag_id) for m in world.student(uid).memberships]
        return all(c is None or c.track == first_class.track for c in classes)

    uid = next(u for u in histories if single_track(u))
    for pid in (other, 2119):
        r = get(sim, f"/usuario/progresso_por_produto/{uid}/{pid}")
        assert r.json()["data"]["progresso"] == {
            "total": "0.0%",
            "assistidas": 0,
            "completas": 0,
            "aulas": [],
        }


def test_progress_grows_within_a_week() -> None:
    world = World(seed=3, students=200, classes=2, anchor=ANCHOR)
    klass = world.class_tags()[0]
    start = datetime.datetime.combine(klass.start_week, datetime.time(0))
    week4 = start + datetime.timedelta(weeks=4)
    uid = next(
        u for u in world.member_ids(klass.tag_id, AS_OF) if world.progress(u, 2101, week4)[0] > 5
    )
    points = [
        world.progress(uid, 2101, start + datetime.timedelta(weeks=3, hours=h))[0]
        for h in range(0, 169, 24)
    ]
    assert points == sorted(points) and points[-1] > points[0]
    # later courses of the track start 3 weeks later each
    assert world.progress(uid, 2102, start + datetime.timedelta(weeks=2, days=6))[0] == 0.0
    with pytest.raises(KeyError):
        world.progress(uid, 9999, AS_OF)
    with pytest.raises(KeyError):
        world.progress(1, 2101, AS_OF)


def test_world_generation_is_fast() -> None:
    t0 = time.perf_counter()
    world = World(seed=11, students=5000, anchor=ANCHOR)
    assert time.perf_counter() - t0 < 1.0
    assert len(world.students) == 5000
    ids = [s.id for s in world.students]
    assert ids == sorted(set(ids)) and ids[0] == 1001
    assert len({s.email for s in world.students}) == 5000


def test_same_seed_and_anchor_give_identical_replies(make_sim: MakeSim) -> None:
    a, b, c = make_sim(seed=5), make_sim(seed=5), make_sim(seed=6)

    def data(sim: CademiSimulator, path: str) -> dict[str, Any]:
        d = get(sim, path).json()["data"]
        if "paginator" in d and d["paginator"]["next_page_url"]:
            d["paginator"]["next_page_url"] = d["paginator"]["next_page_url"].split("?", 1)[1]
        return d

    paths = ["/usuario", "/usuario/lista_por_tag/5002", "/tag", "/produto", "/usuario/1003"]
    paths += [
        f"/usuario/progresso_por_produto/{s.id}/{p}"
        for s in a.world.students[:10]
        for p in (2101, 2105)
    ]
    for path in paths:
        assert data(a, path) == data(b, path), path
    assert data(a, "/usuario") != data(c, "/usuario")


# --------------------------------------------------------------------------- business errors


def test_business_rule_errors_are_409(make_sim: MakeSim) -> None:
    sim = make_sim()
    uid = sim.world.students[0].id
    cases = {
        "/usuario/lista_por_tag/4242": "Tag não encontrada",
        "/usuario/lista_por_tag/abc": "Tag não encontrada",
        "/usuario/progresso_por_produto/999999/2101": "Usuário não encontrado",
        f"/usuario/progresso_por_produto/{uid}/7777": "Produto não encontrado",
        "/produto/7777": "Produto não encontrado",
        "/usuario/lista_por_tag/5001?cursor=%%%not-base64": "Cursor inválido",
        "/usuario/lista_por_tag/5001?cursor=bm90LWpzb24": "Cursor inválido",  # base64 of "not-json"
        "/usuario?cursor=eyJhIjoxfQ": "Cursor inválido",  # base64 of {"a":1}
    }
    for path, msg in cases.items():
        r = get(sim, path)
        assert r.status_code == 409, path
        body = r.json()
        assert body["success"] is False and body["code"] == 409 and body["msg"] == msg, path
        assert set(body) == {"success", "code", "msg", "profiler"}


def test_known_user_without_access_gets_zero(make_sim: MakeSim) -> None:
    sim = make_sim()
    uid = sim.world.students[0].id
    r = get(sim, f"/usuario/progresso_por_produto/{uid}/2120")
    assert r.status_code == 200
    assert r.json()["data"]["progresso"] == {
        "total": "0.0%",
        "assistidas": 0,
        "completas": 0,
        "aulas": [],
    }


def test_steering_sets_unknown_users_empty_tags_malformed_progress(make_sim: MakeSim) -> None:
    sim = make_sim()
    klass = sim.world.class_tags()[0]
    uid = sim.world.member_ids(klass.tag_id, AS_OF)[0]
    prog_path = f"/usuario/progresso_por_produto/{uid}/2101"
    assert get(sim, prog_path).status_code == 200
    sim.unknown_users.add(uid)
    r = get(sim, prog_path)
    assert r.status_code == 409 and r.json()["msg"] == "Usuário não encontrado"
    assert uid in [
        u["id"]
        for u in get(sim, f"/usuario/lista_por_tag/{klass.tag_id}").json()["data"]["usuario"]
    ]
    sim.unknown_users.clear()
    sim.malformed_progress.add((uid, 2101))
    assert get(sim, prog_path).json()["data"]["progresso"]["total"] == "abc%"
    assert (
        get(sim, f"/usuario/progresso_por_produto/{uid}/2102").json()["data"]["progresso"]["total"]
        != "abc%"
    )
    sim.empty_tags.add(klass.tag_id)
    data = get(sim, f"/usuario/lista_por_tag/{klass.tag_id}").json()["data"]
    assert data["usuario"] == [] and data["paginator"]["next_page_url"] is None


# --------------------------------------------------------------------------- rate limit


def test_rate_limit_per_second_refuses_and_counts(make_sim: MakeSim) -> None:
    sim = make_sim(per_second=2, per_minute=120)
    with requests.Session() as s:
        s.headers["Authorization"] = KEY
        codes = [s.get(sim.base_url + "/tag", timeout=TIMEOUT) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 429, 429, 429]
    refused = codes[-1].json()
    assert refused["success"] is False and refused["code"] == 429
    assert refused["msg"] == "Limite de requisições excedido"
    stats = sim.stats()
    assert stats["requests"] == 5 and stats["accepted"] == 2 and stats["refused"] == 3
    assert stats["by_status"] == {200: 2, 429: 3}
    assert stats["by_endpoint"]["tag"] == 2
    assert stats["max_in_1s"] == 2 and stats["max_in_60s"] == 2
    time.sleep(1.05)
    assert get(sim, "/tag").status_code == 200
    assert sim.stats()["max_in_1s"] == 2


def test_refused_requests_are_not_counted_and_auth_comes_after_the_limit(make_sim: MakeSim) -> None:
    sim = make_sim(per_second=1, per_minute=120, limit_status=503)
    assert (
        get(sim, "/tag", key=None).status_code == 403
    )  # accepted by the limiter, then refused by auth
    r = get(sim, "/tag")
    assert r.status_code == 503 and r.json()["code"] == 503
    assert r.json()["msg"] == "Limite de requisições excedido"
    assert sim.stats()["by_status"] == {403: 1, 503: 1}


def test_rate_limit_per_minute_window(make_sim: MakeSim) -> None:
    sim = make_sim(per_second=100, per_minute=5)
    codes = [get(sim, "/produto").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    stats = sim.stats()
    assert stats["accepted"] == 5 and stats["refused"] == 2 and stats["max_in_60s"] == 5


# --------------------------------------------------------------------------- faults


def test_scripted_faults(make_sim: MakeSim) -> None:
    sim = make_sim(faults=Faults(slow_seconds=0.4))
    sim.faults.script.extend(["drop", "malformed", "5xx", "slow", "ok"])
    with pytest.raises(requests.ConnectionError):
        get(sim, "/tag")
    r = get(sim, "/tag")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert r.text and r.text.startswith('{"success":true')
    r = get(sim, "/tag")
    assert r.status_code in (500, 502, 503)
    assert r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text
    t0 = time.monotonic()
    r = get(sim, "/tag")
    assert time.monotonic() - t0 >= 0.4
    assert r.status_code == 200 and r.json()["success"] is True
    t0 = time.monotonic()
    assert get(sim, "/tag").json()["success"] is True  # "ok"
    assert get(sim, "/tag").json()["success"] is True  # script exhausted, no random faults
    assert time.monotonic() - t0 < 0.4
    stats = sim.stats()
    assert stats["faults"] == {"drop": 1, "malformed": 1, "5xx": 1, "slow": 1}
    assert stats["accepted"] == 6 and stats["by_status"][200] == 4


def test_random_fault_probabilities(make_sim: MakeSim) -> None:
    sim = make_sim(faults=Faults(error_5xx=1.0))
    assert all(get(sim, "/tag").status_code in (500, 502, 503) for _ in range(4))
    sim.faults.error_5xx = 0.0
    sim.faults.malformed = 1.0
    r = get(sim, "/produto")
    with pytest.raises(ValueError):
        json.loads(r.content)
    sim.faults.malformed = 0.0
    assert get(sim, "/produto").status_code == 200
    assert sim.stats()["faults"] == {"5xx": 4, "malformed": 1}


def test_script_is_not_consumed_by_unauthenticated_requests(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.faults.script.append("5xx")
    assert get(sim, "/tag", key="wrong").status_code == 405
    assert get(sim, "/tag").status_code in (500, 502, 503)
    assert get(sim, "/tag").status_code == 200


# --------------------------------------------------------------------------- control endpoints


def test_control_endpoints(make_sim: MakeSim) -> None:
    sim = make_sim(as_of=None)
    root = f"http://127.0.0.1:{sim.port}"
    klass = sim.world.class_tags()[0]
    uid = sim.world.member_ids(klass.tag_id, AS_OF)[0]
    assert get(sim, "/tag").status_code == 200
    r = control(
        sim,
        {
            "as_of": AS_OF.isoformat(),
            "faults": {"slow_seconds": 0.1},
            "script": ["5xx"],
            "unknown_users": [uid],
            "empty_tags": [9001],
            "malformed_progress": [[uid, 2102]],
        },
    )
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert sim.as_of == AS_OF and sim.faults.slow_seconds == 0.1
    assert (
        sim.unknown_users == {uid}
        and sim.empty_tags == {9001}
        and sim.malformed_progress == {(uid, 2102)}
    )
    assert get(sim, "/tag").status_code in (500, 502, 503)
    assert get(sim, f"/usuario/progresso_por_produto/{uid}/2101").status_code == 409
    stats = requests.get(f"{root}/_sim/stats", timeout=TIMEOUT).json()
    assert stats["requests"] == 3 and stats["accepted"] == 3  # control calls are not counted
    by_status = stats["by_status"]  # JSON object keys are strings
    assert by_status.pop("200") == 1 and by_status.pop("409") == 1
    assert len(by_status) == 1 and set(by_status) <= {"500", "502", "503"}
    assert stats["faults"] == {"5xx": 1} and stats["by_endpoint"]["progresso_por_produto"] == 1
    assert control(sim, {"as_of": None, "reset_stats": True}).json() == {"ok": True}
    assert sim.as_of is None
    assert requests.get(f"{root}/_sim/stats", timeout=TIMEOUT).json()["requests"] == 0
    bad = control(sim, {"script": ["explode"]})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    assert requests.post(f"{root}/_sim/control", data=b"[1,", timeout=TIMEOUT).status_code == 400


def test_control_is_not_rate_limited(make_sim: MakeSim) -> None:
    sim = make_sim(per_second=1, per_minute=1)
    for _ in range(5):
        assert control(sim, {"reset_stats": False}).status_code == 200
    assert get(sim, "/tag").status_code == 200
    assert get(sim, "/tag").status_code == 429


# --------------------------------------------------------------------------- membership over time


def test_members_follow_the_clock_leavers_and_late_joiners(make_sim: MakeSim) -> None:
    sim = make_sim(students=400, classes=4)
    world = sim.world
    starts = {
        c.tag_id: datetime.datetime.combine(c.start_week, datetime.time(0))
        for c in world.class_tags()
    }
    class_ms = [m for m in world.memberships if m.tag_id in starts]
    leaver = next(m for m in class_ms if m.left is not None)
    joiner = next(m for m in class_ms if m.joined > starts[m.tag_id].timestamp() + 6 * 86400)

    def moment(ts: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC)

    def listed(uid: int, tag_id: int, at: float) -> bool:
        sim.as_of = moment(at)
        return uid in [
            u["id"]
            for page in follow(sim, f"/usuario/lista_por_tag/{tag_id}", "usuario")
            for u in page
        ]

    assert listed(leaver.user_id, leaver.tag_id, leaver.left - 3600)
    assert not listed(leaver.user_id, leaver.tag_id, leaver.left + 3600)
    assert not listed(joiner.user_id, joiner.tag_id, joiner.joined - 3600)
    assert listed(joiner.user_id, joiner.tag_id, joiner.joined + 3600)
    # a leaver keeps the progress made until they left; the endpoint still answers for them
    klass = world.class_tag(leaver.tag_id)
    pid = TRACKS[klass.track][0]
    at_leave = world.progress(leaver.user_id, pid, moment(leaver.left))
    sim.as_of = moment(leaver.left) + datetime.timedelta(weeks=8)
    r = get(sim, f"/usuario/progresso_por_produto/{leaver.user_id}/{pid}")
    assert r.status_code == 200
    assert r.json()["data"]["progresso"]["total"] == f"{at_leave[0]:.1f}%"


# --------------------------------------------------------------------------- CLI


def test_cli_options_and_rate_scale() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--students", "10", "--rate-scale", "50", "--anchor", "2025-03-12"]
    )
    assert args.host == "127.0.0.1"
    sim = from_args(args)
    assert sim.per_second == 100 and sim.per_minute == 6000
    assert sim.world.anchor == ANCHOR  # normalised to its week's Monday
    defaults = parser.parse_args([])
    assert defaults.port == 8867 and defaults.per_second == 2.0 and defaults.per_minute == 120


def test_cli_run_serves_until_sigterm() -> None:
    code = (
        "import argparse, sys\n"
        "from painel.progress.simulator import add_arguments, run\n"
        "p = argparse.ArgumentParser(); add_arguments(p)\n"
        "sys.exit(run(p.parse_args(sys.argv[1:])))\n"
    )
    argv = [
        sys.executable,
        "-c",
        code,
        "--port",
        "0",
        "--students",
        "20",
        "--key",
        "k1",
        "--rate-scale",
        "50",
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "the simulator printed nothing"
        line = proc.stdout.readline().strip()
        expected = r"Cademi simulator at (http://127\.0\.0\.1:\d+/api/v1) \(key: k1, limits: 100/s, 6000/min\)"
        m = re.fullmatch(expected, line)
        assert m, line
        r = requests.get(m.group(1) + "/tag", headers={"Authorization": "k1"}, timeout=TIMEOUT)
        assert r.status_code == 200 and r.json()["success"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
