"""The learning-progress dashboards (Progresso, Cadastro de turmas) on a real ``painel serve``.

One world for the whole module: the demo's simulated Cademi school (in-process, on a free
port), ``painel demo prepare`` and three weeks of history made by the real ``progress`` ETL,
then ``painel serve`` over that data. Everything is driven the way a browser does it: HTTP
for pages, the kernel websocket (ipywidgets 8 comm protocol) for widget state and clicks.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from painel_testing import (
    Cli,
    KernelChannel,
    Server,
    login,
    painel,
    progress_demo,
    render,
    wait_for,
)

pytestmark = [pytest.mark.timeout(300)]

KEY = "painel-demo-key"
PASSWORDS = {
    "coordenacao": "demo-coordenacao",
    "tutora.ana": "demo-tutora-ana",
    "tutor.bruno": "demo-tutor-bruno",
    "admin": "demo-admin",
}
NEW_TAG = 5007  # one of the two class tags `painel demo prepare` leaves free
States = dict[str, dict[str, Any]]


@dataclass
class World:
    server: Server
    home: Path
    project: Path
    sim: Any  # painel.progress.simulator.CademiSimulator

    def cli(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``painel ARGS`` against this world's home and project, with the Cademi key exported."""
        cli = Cli(self.home, self.project, cwd=self.project, extra_env={"CADEMI_API_KEY": KEY})
        return cli.run(*args, timeout=timeout, check=check)

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """A query on the current published version of dataset ``progress`` (read-only)."""
        from painel.store import Store

        con = Store(self.home / "store").connect("progress")
        try:
            return con.execute(query, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo world (painel.progress.demo's constants) with `make demo`'s limits (--rate-scale 50),
    which parameters/progress.yaml's per_second/per_minute are set for."""
    with progress_demo(tmp_path_factory.mktemp("progress")) as (server, home, project, sim):
        yield World(server, home, project, sim)


# ---- helpers --------------------------------------------------------------------------------
def session(world: World, username: str) -> requests.Session:
    return login(world.server, username, PASSWORDS[username])


def shutdown(world: World, s: requests.Session, kernel_id: str) -> None:
    """What the page's unload beacon does: frees the user's kernel (the per-user cap is 4)."""
    s.post(
        f"{world.server.base}/voila/api/shutdown/{kernel_id}",
        data={"_xsrf": s.cookies.get("_xsrf")},
        timeout=10,
    )


@contextmanager
def opened(world: World, s: requests.Session, notebook: str) -> Iterator[KernelChannel]:
    r, kernel_id = render(s, world.server, notebook)
    assert r.status_code == 200 and kernel_id, (notebook, r.status_code)
    assert "There was an error" not in r.text
    ch = KernelChannel(world.server, s, kernel_id, timeout=30)
    try:
        yield ch
    finally:
        ch.close()
        shutdown(world, s, kernel_id)


def widget(states: States, model: str, description: str) -> str:
    found = [
        mid
        for mid, st in states.items()
        if st.get("_model_name") == model and st.get("description") == description
    ]
    assert len(found) == 1, (model, description, found)
    return found[0]


def sibling_after(states: States, child: str) -> str:
    """The widget right after ``child``'s container in the page's top-level VBox."""
    for st in states.values():
        if st.get("_model_name") != "VBoxModel":
            continue
        children = [c.removeprefix("IPY_MODEL_") for c in st.get("children", [])]
        for i, c in enumerate(children):
            box = states.get(c, {})
            if c == child or f"IPY_MODEL_{child}" in box.get("children", []):
                return children[i + 1]
    raise AssertionError(f"widget {child} is not in a VBox")


def set_state(ch: KernelChannel, comm_id: str, **state: Any) -> None:
    ch.send(
        "shell",
        "comm_msg",
        {"comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
    )


def click(ch: KernelChannel, comm_id: str) -> None:
    ch.send(
        "shell",
        "comm_msg",
        {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
    )


def wait_states(
    ch: KernelChannel,
    ok: Callable[[States], bool],
    what: str,
    timeout: float = 30,
    show: Callable[[States], Any] = lambda st: "",
) -> States:
    deadline = time.monotonic() + timeout
    states: States = {}
    while time.monotonic() < deadline:
        states = ch.widget_states(timeout=max(1.0, deadline - time.monotonic()))
        if ok(states):
            return states
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s; last seen: {show(states)}")


def output_html(states: States) -> list[str]:
    return [
        str(out.get("data", {}).get("text/html", ""))
        for st in states.values()
        for out in st.get("outputs", []) or []
    ]


def table_id(states: States) -> str:
    """The student table (painel.dash.Table): the widget whose columns start with "Aluno"."""
    found = [
        mid
        for mid, st in states.items()
        if isinstance(st.get("columns"), list)
        and st["columns"]
        and st["columns"][0].get("label") == "Aluno"
    ]
    assert len(found) == 1, f"expected one student table, got {len(found)}"
    return found[0]


def column(state: dict[str, Any], name: str) -> list[str]:
    """The cells of column ``name`` in the page of rows the server sent."""
    idx = [c["label"] for c in state["columns"]].index(name)
    return [row[idx] for row in state["rows"]]


def table_classes(states: States) -> set[str]:
    return set(column(states[table_id(states)], "Turma"))


def every_row(ch: KernelChannel, states: States, name: str) -> list[str]:
    """Column ``name`` over every page, asking the server for each page as the browser does."""
    tid = table_id(states)
    state = states[tid]
    total, size = state["total"], state["page_size"]
    cells: list[str] = []
    for page in range(-(-total // size)):
        if page:
            set_state(ch, tid, page=page)
            states = wait_states(
                ch, lambda st, p=page: st[tid]["page"] == p, f"page {page + 1} of the table"
            )
        cells += column(states[tid], name)
    assert len(cells) == total
    return cells


def labels(states: States, description: str) -> list[str]:
    return list(states[widget(states, "DropdownModel", description)]["_options_labels"])


def kpi(states: States, label: str) -> str:
    for st in states.values():
        value = str(st.get("value", "")) if st.get("_model_name") == "HTMLModel" else ""
        m = re.search(rf">{re.escape(label)}</div><div[^>]*>([^<]*)</div>", value)
        if m:
            return m.group(1)
    raise AssertionError(f"no KPI {label!r}")


def everything(states: States) -> str:
    return json.dumps(states, ensure_ascii=False)


def forbidden_students(world: World, own: list[int], other: list[int]) -> tuple[set[str], set[int]]:
    """Names and ids of the students of ``other`` classes who are in none of ``own``."""
    rows = world.sql("SELECT student_id, name, tag_id FROM students")
    mine_ids = {sid for sid, _, tag in rows if tag in own}
    mine_names = {name for _, name, tag in rows if tag in own}
    theirs = [(sid, name) for sid, name, tag in rows if tag in other and sid not in mine_ids]
    names = {name for _, name in theirs} - mine_names
    ids = {sid for sid, _ in theirs}
    assert names and ids, "the other classes should have students of their own"
    return names, ids


def leaked(text: str, names: set[str], ids: set[int]) -> list[str]:
    """Forbidden names as whole names (not a prefix of a longer one) and ids as table cells or labels."""
    found = []
    for name in names:
        if re.search(rf"(?<![\w] )(?<!\w){re.escape(name)}(?!\w)(?! [A-ZÀ-Ý])", text):
            found.append(name)
    for sid in ids:
        if f"<td>{sid}</td>" in text or f"({sid})" in text:
            found.append(str(sid))
    return found


# ---- which dashboards each role gets ------------------------------------------------------------
def test_tutor_landing_lists_progress_but_not_registration(world: World) -> None:
    page = session(world, "tutora.ana").get(world.server.base + "/", timeout=10).text
    assert "Progresso dos alunos" in page
    assert "Cadastro de turmas" not in page and "cadastro_turmas.ipynb" not in page


def test_tutor_gets_403_on_registration_and_no_kernel(world: World) -> None:
    admin = session(world, "admin")

    def all_kernels() -> list[dict[str, str]]:
        r = admin.get(world.server.base + "/painel/api/kernels", timeout=10)
        assert r.status_code == 200
        return r.json()["kernels"]

    tutor = session(world, "tutora.ana")
    world.server.wait_pools_ready()  # no refill of an earlier test's render still to come
    before = all_kernels()
    r, kernel_id = render(tutor, world.server, "cadastro_turmas.ipynb")
    assert r.status_code == 403 and kernel_id is None
    assert "permissão" in r.text
    mine = tutor.get(world.server.base + "/painel/api/kernels", timeout=10)
    assert mine.status_code == 200 and mine.json()["kernels"] == []
    # a kernel taken from a pool is replaced at once (pools not ready until the new one runs)
    world.server.wait_pools_ready()
    assert len(all_kernels()) == len(before)


def test_coordinator_gets_both_dashboards(world: World) -> None:
    s = session(world, "coordenacao")
    page = s.get(world.server.base + "/", timeout=10).text
    assert "Progresso dos alunos" in page and "Cadastro de turmas" in page
    # each page built for her (not the refusal or the "not published" message)
    for notebook, marker in (
        ("progresso.ipynb", "Dados coletados na Cademi em "),
        ("cadastro_turmas.ipynb", "<h3>Turmas cadastradas</h3>"),
    ):
        with opened(world, s, notebook) as ch:
            assert marker in everything(ch.widget_states())


# ---- row-level scoping of tutors ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "own", "classes", "other"),
    [
        ("tutora.ana", [5001, 5003], {"Turma 01", "Turma 03"}, [5002, 5004, 5005, 5006]),
        ("tutor.bruno", [5002], {"Turma 02"}, [5001, 5003, 5004, 5005, 5006]),
    ],
)
def test_tutor_sees_only_their_classes(
    world: World, user: str, own: list[int], classes: set[str], other: list[int]
) -> None:
    names, ids = forbidden_students(world, own, other)
    with opened(world, session(world, user), "progresso.ipynb") as ch:
        states = ch.widget_states()
        every_class = set(every_row(ch, states, "Turma"))
    options = labels(states, "Turma:")
    assert options[0] == "Todas"
    assert {o.split(" — ")[0] for o in options[1:]} == classes and len(options) == len(classes) + 1
    assert table_classes(states) <= classes and every_class == classes
    assert kpi(states, "Total de turmas") == str(len(classes))
    text = everything(states)
    others = {f"Turma {t - 5000:02d}" for t in other}
    assert not [c for c in others if c in text], "another class's name is in the widget state"
    assert leaked(text, names, ids) == []


def test_forged_class_value_still_shows_only_her_rows(world: World) -> None:
    """A client can send any widget state over the comm channel; the page re-checks it (ui.choose)."""
    names, ids = forbidden_students(world, [5001, 5003], [5002])
    with opened(world, session(world, "tutora.ana"), "progresso.ipynb") as ch:
        states = ch.widget_states()
        klass = widget(states, "DropdownModel", "Turma:")
        # a real change goes through (so the channel and the callbacks are live) ...
        set_state(
            ch, klass, index=labels(states, "Turma:").index("Turma 03 — Formação Analista de Dados")
        )
        wait_states(
            ch,
            lambda st: table_classes(st) == {"Turma 03"},
            "the table showing Turma 03 only",
            show=table_classes,
        )
        # ... and forged ones do not open another class
        for forged in ({"value": "5002"}, {"value": 5002}, {"index": 7}, {"index": -3}):
            set_state(ch, klass, **forged)
        states = ch.widget_states()
        assert table_classes(states) == {"Turma 03"}
        set_state(
            ch, klass, index=None
        )  # no offered value: falls back to "Todas" (her classes only)
        states = wait_states(
            ch,
            lambda st: "Turma 01" in table_classes(st),
            "the table back on all her classes",
            show=table_classes,
        )
    assert table_classes(states) <= {"Turma 01", "Turma 03"}
    text = everything(states)
    assert "Turma 02" not in text
    assert leaked(text, names, ids) == []


# ---- Cadastro de turmas ------------------------------------------------------------------------
@dataclass
class Registration:
    feedback: str
    tags_table: str
    track: str


@pytest.fixture(scope="module")
def registered(world: World) -> Registration:
    """The coordinator registers tag 5007 on the page, over the websocket, as a browser would."""
    track = world.sim.world.class_tag(NEW_TAG).track
    track_name = world.sql("SELECT track_name FROM tracks WHERE track = ?", [track])[0][0]
    with opened(world, session(world, "coordenacao"), "cadastro_turmas.ipynb") as ch:
        states = ch.widget_states()
        tag = widget(states, "TextModel", "Tag da turma na Cademi:")
        number = widget(states, "TextModel", "Número da turma:")
        trilha = widget(states, "DropdownModel", "Trilha:")
        submit = widget(states, "ButtonModel", "Cadastrar")
        feedback = sibling_after(states, submit)
        assert states[feedback]["_model_name"] == "HTMLModel" and states[feedback]["value"] == ""
        set_state(ch, tag, value=str(NEW_TAG))
        set_state(ch, number, value="7")
        set_state(ch, trilha, index=labels(states, "Trilha:").index(track_name))
        click(ch, submit)
        states = wait_states(
            ch,
            lambda st: st[feedback]["value"] != "",
            "a registration message",
            show=lambda st: st[feedback]["value"],
        )
    tables = [
        json.dumps(st["rows"], ensure_ascii=False)
        for st in states.values()
        if st.get("caption") == "Turmas cadastradas"
    ]
    return Registration(states[feedback]["value"], "".join(tables), track)


def test_coordinator_registers_a_tag(world: World, registered: Registration) -> None:
    assert "painel-msg-info" in registered.feedback, registered.feedback
    assert (
        f"Tag {NEW_TAG}" in registered.feedback
        and "cadastrada como Turma 07" in registered.feedback
    )
    assert "Ela entra na próxima coleta" in registered.feedback
    assert str(NEW_TAG) in registered.tags_table and "coordenacao" in registered.tags_table
    tags = {
        t["tag_id"]: t
        for t in json.loads(
            painel(world.home, "tags", "list", "--json", project=world.project).stdout
        )
    }
    assert tags[NEW_TAG]["registered_by"] == "coordenacao"
    assert tags[NEW_TAG]["track"] == registered.track and tags[NEW_TAG]["class_number"] == 7
    assert tags[NEW_TAG]["active"] is True


@pytest.mark.parametrize(
    ("tag", "number", "expected"),
    [
        ("", "", "Preencha a tag e a turma."),
        ("abc", "9", "deve ser um número inteiro"),
        ("5008", "x9", "deve ser um número inteiro"),
        ("4242", "42", "A tag 4242 não existe na Cademi"),
        (str(NEW_TAG), "8", f"A tag {NEW_TAG} já está cadastrada"),
    ],
)
def test_registration_validation_messages(
    world: World, registered: Registration, tag: str, number: str, expected: str
) -> None:
    before = {
        t["tag_id"]
        for t in json.loads(
            painel(world.home, "tags", "list", "--json", project=world.project).stdout
        )
    }
    with opened(world, session(world, "coordenacao"), "cadastro_turmas.ipynb") as ch:
        states = ch.widget_states()
        submit = widget(states, "ButtonModel", "Cadastrar")
        feedback = sibling_after(states, submit)
        set_state(ch, widget(states, "TextModel", "Tag da turma na Cademi:"), value=tag)
        set_state(ch, widget(states, "TextModel", "Número da turma:"), value=number)
        click(ch, submit)
        states = wait_states(
            ch,
            lambda st: st[feedback]["value"] != "",
            "a validation message",
            show=lambda st: st[feedback]["value"],
        )
    message = html.unescape(states[feedback]["value"])
    assert "painel-msg-error" in message and expected in message, message
    after = {
        t["tag_id"]
        for t in json.loads(
            painel(world.home, "tags", "list", "--json", project=world.project).stdout
        )
    }
    assert after == before


def test_registered_tag_enters_the_next_run(world: World, registered: Registration) -> None:
    audited = painel(
        world.home, "audit", "list", "--action", "tag_registered", "--json", project=world.project
    )
    log = [(e["actor"], e["target"]) for e in json.loads(audited.stdout)]
    assert ("coordenacao", str(NEW_TAG)) in log  # the page's registration is in the audit log
    (week,) = world.sql("SELECT max(week) FROM progress_weekly")[0]
    assert world.sql("SELECT count(*) FROM progress_weekly WHERE tag_id = ?", [NEW_TAG])[0][0] == 0
    world.cli(
        "etl", "run", "progress", "-p", "allow_past_week=false", timeout=240
    )  # this week, now
    classes = world.sql("SELECT class_name, track, active FROM classes WHERE tag_id = ?", [NEW_TAG])
    assert classes == [("Turma 07", registered.track, True)]
    rows = world.sql(
        "SELECT week, count(*) FROM progress_weekly WHERE tag_id = ? GROUP BY week", [NEW_TAG]
    )
    assert rows and rows[0][0] == week and rows[0][1] > 0, rows
    members = world.sim.world.member_ids(NEW_TAG)
    students = world.sql(
        "SELECT count(DISTINCT student_id) FROM progress_weekly WHERE tag_id = ?", [NEW_TAG]
    )[0][0]
    assert students == len(members)
    # the other classes are still there, this week included
    assert {
        t
        for (t,) in world.sql("SELECT DISTINCT tag_id FROM progress_weekly WHERE week = ?", [week])
    } >= {5001, 5002, 5003, 5004, 5005, 5006, NEW_TAG}
    # a page opened now reads the new version: the coordinator gets the class, tutors do not
    with opened(world, session(world, "coordenacao"), "progresso.ipynb") as ch:
        assert "Turma 07 — Formação Analista de Dados" in labels(ch.widget_states(), "Turma:")
    with opened(world, session(world, "tutora.ana"), "progresso.ipynb") as ch:
        states = ch.widget_states()
    assert [o.split(" — ")[0] for o in labels(states, "Turma:")] == [
        "Todas",
        "Turma 01",
        "Turma 03",
    ]
    assert "Turma 07" not in everything(states)


def test_collect_now_starts_a_run(world: World) -> None:
    def manual_runs() -> list[dict[str, Any]]:
        runs = json.loads(
            painel(world.home, "runs", "progress", "--json", project=world.project).stdout
        )
        return [r for r in runs if str(r.get("trigger_", "")).startswith("manual:coordenacao")]

    assert manual_runs() == []
    with opened(world, session(world, "coordenacao"), "cadastro_turmas.ipynb") as ch:
        states = ch.widget_states()
        run_now = widget(states, "ButtonModel", "Coletar agora")
        run_status = sibling_after(states, run_now)
        ticker = next(m for m, st in states.items() if "seconds" in st and "active" in st)
        assert states[ticker]["active"] is False  # nothing to follow: the page stays quiet
        click(ch, run_now)
        states = wait_states(
            ch,
            lambda st: st[run_status]["value"] != "",
            "the run-now message",
            show=lambda st: st[run_status]["value"],
        )
        assert "Coleta iniciada" in states[run_status]["value"], states[run_status]["value"]

        def audited_runs() -> set[tuple[str, str]]:
            listed = painel(
                world.home, "audit", "list", "--action", "run", "--json", project=world.project
            )
            return {(e["actor"], e["target"]) for e in json.loads(listed.stdout)}

        # the server starts the run (and records it) on its next service pass
        wait_for(lambda: ("coordenacao", "progress") in audited_runs(), 30, "the run's entry")
        assert states[ticker]["active"] is True
        # the browser's ticker asks every 2 s; here the test sends the ticks, nothing else
        seen: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ch.send(
                "shell",
                "comm_msg",
                {"comm_id": ticker, "data": {"method": "custom", "content": {"event": "tick"}}},
            )
            time.sleep(1)
            states = ch.widget_states()
            seen.append(states[run_status]["value"])
            if "Coleta concluída" in seen[-1] or "falhou" in seen[-1]:
                break
        final = seen[-1] if seen else ""
        assert "Coleta concluída" in final, seen[-5:]
        assert re.search(r"Sem\. \d+ · \d\d/\d\d–\d\d/\d\d: [\d.]+ alunos de \d+ turmas", final), (
            final
        )
        assert states[ticker]["active"] is False  # and it stops asking
        assert any("consultas" in v or "preparando" in v for v in seen), seen[:5]
    runs = manual_runs()
    assert runs, "no run with trigger manual:coordenacao"
    assert runs[0]["trigger_"] == "manual:coordenacao"
    assert runs[0]["status"] == "succeeded", runs[0].get("error")
    assert json.loads(runs[0]["published"])


# ---- a tag for the wrong track, and corrections on the page --------------------------------------
SECOND_TAG = 5008  # the other class tag `painel demo prepare` leaves free


def row_click(ch: KernelChannel, table: str, index: int) -> None:
    """What the browser sends when a table row is clicked."""
    ch.send(
        "shell",
        "comm_msg",
        {
            "comm_id": table,
            "data": {"method": "custom", "content": {"event": "row", "index": index}},
        },
    )


def test_a_tag_for_another_track_is_refused_then_corrected_and_deactivated_on_the_page(
    world: World,
) -> None:
    cademi = world.sim.world.class_tag(SECOND_TAG)
    tracks = dict(world.sql("SELECT track, track_name FROM tracks"))
    wrong = next(t for t in tracks if t != cademi.track)
    with opened(world, session(world, "coordenacao"), "cadastro_turmas.ipynb") as ch:
        states = ch.widget_states()
        tag = widget(states, "TextModel", "Tag da turma na Cademi:")
        number = widget(states, "TextModel", "Número da turma:")
        trilha = widget(states, "DropdownModel", "Trilha:")
        submit = widget(states, "ButtonModel", "Cadastrar")
        feedback = sibling_after(states, submit)

        def submit_as(track: str, class_number: str) -> str:
            set_state(ch, tag, value=str(SECOND_TAG))
            set_state(ch, number, value=class_number)
            set_state(ch, trilha, index=labels(states, "Trilha:").index(tracks[track]))
            set_state(ch, feedback, value="")
            click(ch, submit)
            return wait_states(
                ch, lambda st: st[feedback]["value"] != "", "a registration message"
            )[feedback]["value"]

        refused = submit_as(wrong, "8")
        assert "painel-msg-error" in refused
        assert f"indica a trilha {tracks[cademi.track]}, não {tracks[wrong]}" in refused, refused
        listed = json.loads(
            painel(world.home, "tags", "list", "--json", project=world.project).stdout
        )
        assert SECOND_TAG not in {t["tag_id"] for t in listed}

        assert "cadastrada como Turma 08" in submit_as(cademi.track, "8")
        states = ch.widget_states()
        table = next(m for m, st in states.items() if st.get("caption") == "Turmas cadastradas")
        set_state(ch, table, search=str(SECOND_TAG))  # find it, as a coordinator would
        states = wait_states(ch, lambda st: st[table]["total"] == 1, "the tag found by search")
        row_click(ch, table, 0)
        save = widget(states, "ButtonModel", "Salvar correção")
        new_number = widget(states, "TextModel", "Número correto da turma:")
        states = wait_states(
            ch,
            lambda st: st[new_number]["value"] == "8",
            "the editor opened on the clicked tag",
        )
        set_state(ch, new_number, value="18")
        click(ch, save)
        states = wait_states(
            ch, lambda st: "corrigida" in st[feedback]["value"], "the correction message"
        )
        assert "agora é a Turma 18" in states[feedback]["value"]
        found = {
            t["tag_id"]: t
            for t in json.loads(
                painel(world.home, "tags", "list", "--json", project=world.project).stdout
            )
        }
        assert found[SECOND_TAG]["class_number"] == 18
        assert found[SECOND_TAG]["changed_by"] == "coordenacao" and found[SECOND_TAG]["changed_at"]

        row_click(ch, table, 0)
        deactivate = widget(states, "ButtonModel", "Desativar tag")
        confirm = widget(states, "ButtonModel", "Confirmar desativação")
        click(ch, deactivate)
        wait_states(
            ch,
            lambda st: st[confirm]["layout"] and True,
            "the confirmation button",
        )
        click(ch, confirm)
        states = wait_states(
            ch, lambda st: "desativada" in st[feedback]["value"], "the deactivation message"
        )
    listed = json.loads(
        painel(world.home, "tags", "list", "--all", "--json", project=world.project).stdout
    )
    mine = next(t for t in listed if t["tag_id"] == SECOND_TAG)
    assert mine["active"] is False and mine["removed_by"] == "coordenacao"
