"""Row-level security of every procurement panel on a real ``painel serve``.

The simulator's sample world (painel.procurement.simulator.sample) is crawled and published
by the real job (``run_once``, as tests/unit/test_procurement_pages.py's ``home`` fixture):
two audited organs, the state health secretariat SES (CNPJ 01909911000107, 20 purchases, units
FUNDO ESTADUAL DE SAUDE and HOSPITAL ESTADUAL DE URGENCIAS) and the municipality of Anápolis
(01135345000115, 10 purchases, unit PREFEITURA MUNICIPAL DE ANAPOLIS). A CGE analyst sends two
SES findings and one of Anápolis to the organs (novo → em análise → confirmado → enviado).

Each organ's user opens every ``compras_*`` panel its role may open the way a browser does
(HTTP, then the kernel websocket) and nothing the kernel sends — widget states, table rows,
chart data, exported files — names the other organ; the CGE-only panels answer 403 with no
kernel. A user who sees every organ gets both organs' markers on the same panels, so the
absence checks would fail if the row-level security did not hold. A hostile organ client
forges clicks, filters and table requests over the widget channel; a user whose grant changes
while Meus Alertas is open is served nothing more of the organ it lost.
"""

from __future__ import annotations

import html
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from painel_testing import REPO, Server, cookie_header, login, page_kernel, render, start_server
from procurement_testing import publish_sample

pytestmark = [pytest.mark.timeout(600)]

SES, ANAPOLIS = "01909911000107", "01135345000115"
PASSWORD = "senha-de-teste-123"
USERS = {
    "cge.ana": ("cge_analista", ["procurement:*"]),
    "cge.gil": ("cge_gestor", ["procurement:*"]),
    "admin.rui": ("admin", ["procurement:*"]),
    "orgao.ses": ("orgao", [f"procurement:orgao:{SES}"]),
    "orgao.anapolis": ("orgao", [f"procurement:orgao:{ANAPOLIS}"]),
    "orgao.ses.revogado": ("orgao", [f"procurement:orgao:{SES}"]),  # its grant changes
}
ORGAN_OF = {"orgao.ses": SES, "orgao.anapolis": ANAPOLIS}
OTHER = {SES: ANAPOLIS, ANAPOLIS: SES}
NAME = {SES: "SECRETARIA DE ESTADO DA SAUDE DE GOIAS", ANAPOLIS: "MUNICIPIO DE ANAPOLIS"}
# every string that names an organ, its units or its purchases: one organ's user must never
# receive any of the other organ's
MARKERS = {
    SES: [
        SES,  # also every purchase, contract and finding key of SES
        NAME[SES],
        "FUNDO ESTADUAL DE SAUDE",
        "HOSPITAL ESTADUAL DE URGENCIAS",
        "PROC-0190-",  # its purchases' process numbers
        "pncp.gov.br/app/editais/01909911000107",
    ],
    ANAPOLIS: [
        ANAPOLIS,
        NAME[ANAPOLIS],
        "PREFEITURA MUNICIPAL DE ANAPOLIS",
        "PROC-0113-",
        "pncp.gov.br/app/editais/01135345000115",
    ],
}
# the findings the analyst sends to each organ: (rule, key, purchase, unit, summary)
SENT = {
    SES: [
        (
            "R7",
            f"{SES}-1-000012/2026|1",
            f"{SES}-1-000012/2026",
            "HOSPITAL ESTADUAL DE URGENCIAS",
            "Homologado a 98,4% do valor estimado",
        ),
        (
            "R3",
            f"{SES}-1-000007/2026",
            f"{SES}-1-000007/2026",
            "FUNDO ESTADUAL DE SAUDE",
            "Propostas abertas por 8 dia(s) útil(eis); o mínimo é 10",
        ),
    ],
    ANAPOLIS: [
        (
            "R2",
            f"{ANAPOLIS}-1-000002/2026",
            f"{ANAPOLIS}-1-000002/2026",
            "PREFEITURA MUNICIPAL DE ANAPOLIS",
            "Dispensa de R$ 67.684,41, limite de R$ 65.492,11 (inciso II)",
        ),
    ],
}
# summaries of findings nobody sent (SES's R2, R3 of both organs): never on Meus Alertas
UNSENT = ["Dispensa de R$ 84.427,84", "Propostas abertas por 6 dia(s)"]


def panel_roles() -> dict[str, set[str]]:
    out = {}
    for path in sorted((REPO / "notebooks" / "dashboards").glob("compras_*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["painel"]
        out[path.name] = set(meta["roles"])
    return out


ROLES = panel_roles()
ORGAN_PANELS = sorted(nb for nb, roles in ROLES.items() if "orgao" in roles)
CGE_ONLY = sorted(nb for nb, roles in ROLES.items() if "orgao" not in roles)
MEUS = "compras_meus_alertas.ipynb"
# what a panel shows of each organ once filled in (the organ's name is the organ filter's
# label; Meus Alertas lists the sent findings' units)
SHOWN = {
    MEUS: lambda cnpj: [NAME[cnpj], *{unit for *_, unit, _s in SENT[cnpj]}],
    "compras_saldo_dispensa.ipynb": lambda cnpj: [NAME[cnpj]],
    "compras_conformidade.ipynb": lambda cnpj: [NAME[cnpj]],
}

ALL = "*"  # a user who sees every organ
# KPI cards of each organ and of both (worked out on the sample world outside the server:
# tests/unit/test_procurement_pages.py; 2 findings sent to SES, 1 to Anápolis)
CARDS = {
    MEUS: {"Alertas recebidos": {SES: "2", ANAPOLIS: "1", ALL: "3"}},
    "compras_conformidade.ipynb": {
        "Contratações": {SES: "20", ANAPOLIS: "10", ALL: "30"},
        "Alertas recebidos": {SES: "2", ANAPOLIS: "1", ALL: "3"},
    },
    "compras_saldo_dispensa.ipynb": {
        "Classes com dispensa": {SES: "3", ANAPOLIS: "1", ALL: "4"},
        "Gasto em dispensas": {SES: "R$ 160 mil", ANAPOLIS: "R$ 72,4 mil", ALL: "R$ 232 mil"},
    },
}
KPI = re.compile(r'aria-label="([^"]*)".*?font-size:22px;font-weight:600">([^<]*)<', re.S)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState
    from painel.procurement import workflow

    root = tmp_path_factory.mktemp("procurement-web")
    home = root / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("PAINEL_HOME", str(home))
    try:
        paths = Paths.from_env().ensure()
        publish_sample(paths, root)
        ops = OpState(paths.opstate)
        users = Users(ops)
        for name, (role, grants) in USERS.items():
            users.add(name, PASSWORD, role, grants)
        for regra, chave, *_ in SENT[SES] + SENT[ANAPOLIS]:
            for seen, to in (
                (workflow.NOVO, workflow.EM_ANALISE),
                (workflow.EM_ANALISE, workflow.CONFIRMADO),
                (workflow.CONFIRMADO, workflow.ENVIADO),
            ):
                workflow.change(
                    ops,
                    regra=regra,
                    chave=chave,
                    seen=seen,
                    to=to,
                    actor="cge.ana",
                    role="cge_analista",
                )
    finally:
        mp.undo()
    srv = start_server(home)
    try:
        yield srv
    finally:
        srv.stop()


# ---- the kernel websocket ---------------------------------------------------------------------
V1 = "v1.kernel.websocket.jupyter.org"


class Channel:
    """The kernel websocket as a browser's Voilà frontend (@jupyterlab/services) speaks it: the
    v1 binary protocol, which carries a widget message's buffers (an exported file) too.

    Not painel_testing.KernelChannel, which speaks the legacy protocol: Voilà's websocket
    handler reads every binary frame's header as v1, and a legacy binary frame (a message with
    buffers: the Excel export below) sends ``painel serve`` into an endless loop."""

    def __init__(self, server: Server, s: requests.Session, kernel_id: str, timeout: float = 60):
        import uuid

        import websocket

        self.session_id = uuid.uuid4().hex
        url = (
            server.base.replace("http", "ws")
            + f"/api/kernels/{kernel_id}/channels?session_id={self.session_id}"
        )
        self.ws = websocket.create_connection(
            url,
            header=[f"Cookie: {cookie_header(s)}"],
            origin=server.base,
            timeout=timeout,
            subprotocols=[V1],
        )
        assert self.ws.getsubprotocol() == V1

    def close(self) -> None:
        self.ws.close()

    def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        import uuid

        from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": self.session_id,
            "username": "test",
            "version": "5.3",
            "date": "",
        }
        parts = [header, {}, metadata or {}, content]
        frame = serialize_msg_to_ws_v1([json.dumps(p).encode("utf-8") for p in parts], channel)
        self.ws.send_binary(frame)

    def recv(self, deadline: float) -> dict[str, Any] | None:
        """The next message (header, content, buffers...), None at ``deadline``."""
        import websocket
        from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

        self.ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        assert isinstance(frame, bytes), "a v1 socket sends binary frames only"
        channel, parts = deserialize_msg_from_ws_v1(frame)
        header, parent, metadata, content = (json.loads(p) for p in parts[:4])
        return {
            "channel": channel,
            "header": header,
            "msg_type": header.get("msg_type"),
            "parent_header": parent,
            "metadata": metadata,
            "content": content,
            "buffers": parts[4:],
        }


def as_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def file_text(data: bytes) -> str:
    """The cells of every sheet of an exported workbook (what the browser would save)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(bytes(data)), read_only=True)
    return as_text(
        [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    )


class Page:
    """A panel opened by a user: its kernel and websocket; everything the kernel sent is kept
    (``received``: (kind, text) of widget states, other messages and exported files)."""

    def __init__(self, server: Server, s: requests.Session, notebook: str):
        self.server, self.session, self.notebook = server, s, notebook
        self.kernel_id = page_kernel(s, server, notebook)
        self.ch = Channel(server, s, self.kernel_id)
        self.received: list[tuple[str, str]] = []
        self.states: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.ch.close()
        self.session.post(
            f"{self.server.base}/voila/api/shutdown/{self.kernel_id}",
            data={"_xsrf": self.session.cookies.get("_xsrf")},
            timeout=10,
        )

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what the browser sends
    def comm(self, model_id: str, data: dict[str, Any]) -> None:
        self.ch.send("shell", "comm_msg", {"comm_id": model_id, "data": data})

    def custom(self, model_id: str, content: Any) -> None:
        """A widget's custom message (a table row click, a chart click, an export click)."""
        self.comm(model_id, {"method": "custom", "content": content})

    def update(self, model_id: str, **state: Any) -> None:
        """A widget's state as the browser sets it (a filter, a table's page or search)."""
        self.comm(model_id, {"method": "update", "state": state, "buffer_paths": []})

    # ---- what the kernel sends
    def read(self, timeout: float = 60) -> dict[str, dict[str, Any]]:
        """Every widget's state (as ipywidgets' frontend asks for it); whatever the kernel sent
        before the answer (replies to earlier messages) is kept in ``received``."""
        import uuid

        comm_id = uuid.uuid4().hex
        self.ch.send(
            "shell",
            "comm_open",
            {"comm_id": comm_id, "target_name": "jupyter.widget.control", "data": {}},
            metadata={"version": "1.0.0"},
        )
        self.ch.send(
            "shell", "comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.ch.recv(deadline)
            if msg is None:
                break
            content = msg.get("content", {})
            buffers = msg.get("buffers") or []
            for buf in buffers:
                raw = bytes(buf)
                is_xlsx = raw.startswith(b"PK")  # a workbook is a zip; plotly.js is text
                text = file_text(raw) if is_xlsx else raw.decode("utf-8", "replace")
                self.received.append(("file", text))
            if msg.get("msg_type") == "comm_msg" and content.get("comm_id") == comm_id:
                data = content.get("data", {})
                if data.get("method") == "update_states":
                    self.states = {k: v.get("state", v) for k, v in data["states"].items()}
                    self.received.append(("states", as_text(self.states)))
                    return self.states
            self.received.append(
                ("msg", as_text({"type": msg.get("msg_type"), "content": content}))
            )
        raise AssertionError(f"{self.notebook}: no widget states from the kernel")

    def settled(self, timeout: float = 90) -> str:
        """The page's widget state as text once filled in (its KPI cards are there and two
        reads a second apart agree)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            text = as_text(self.read(timeout=max(1.0, deadline - time.monotonic())))
            if "painel-kpi" in text and text == last:
                return text
            last = text
            time.sleep(1.0)
        raise AssertionError(f"{self.notebook} did not settle within {timeout}s: {last[:800]}")

    def everything(self) -> str:
        return "\n".join(text for _kind, text in self.received)

    def files(self) -> list[str]:
        """The files the kernel sent (exports), as text."""
        return [text for kind, text in self.received if kind == "file"]

    def export_all(self, timeout: float = 60) -> dict[str, str]:
        """Press every export button on the page; each one's status once they all answered."""
        downloads = self.downloads()
        assert downloads, f"{self.notebook}: no export button"
        for download in downloads:
            self.custom(download, {"event": "click"})
        deadline = time.monotonic() + timeout
        while True:
            states = self.read()
            status = {d: str(states[d].get("status", "")) for d in downloads}
            if all(status.values()) and not any(states[d].get("busy") for d in downloads):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.notebook}: exports did not answer: {status}")
            time.sleep(0.5)

    def replies(self) -> str:
        """What the kernel sent other than the full states the test asked for."""
        return "\n".join(text for kind, text in self.received if kind != "states")

    # ---- finding widgets in the state
    def tables(self) -> dict[str, dict[str, Any]]:
        return {k: s for k, s in self.states.items() if "rows" in s and "columns" in s}

    def table_with(self, key: str) -> str:
        """The model id of the table that has column ``key``."""
        found = [k for k, s in self.tables().items() if key in [c.get("key") for c in s["columns"]]]
        assert found, f"{self.notebook}: no table with column {key}"
        return found[0]

    def charts(self) -> list[str]:
        return [k for k, s in self.states.items() if "spec" in s and "clickable" in s]

    def downloads(self) -> list[str]:
        return [k for k, s in self.states.items() if "busy" in s and "label" in s]

    def dropdowns(self, description: str) -> list[str]:
        return [
            k
            for k, s in self.states.items()
            if s.get("_model_name") == "DropdownModel" and s.get("description") == description
        ]


def cards(states: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The KPI cards on the page: label -> the figure shown."""
    out = {}
    for state in states.values():
        value = state.get("value")
        if isinstance(value, str) and "painel-kpi" in value:
            m = KPI.search(value)
            if m:
                out[html.unescape(m.group(1))] = html.unescape(m.group(2))
    return out


def check_cards(notebook: str, states: dict[str, dict[str, Any]], who: str) -> None:
    shown = cards(states)
    want = {label: values[who] for label, values in CARDS[notebook].items()}
    assert {k: shown.get(k) for k in want} == want, (notebook, who, shown)


def leaked(text: str, cnpj: str) -> list[str]:
    return [m for m in MARKERS[cnpj] if m in text]


def clean(notebook: str, user: str, text: str) -> None:
    assert "Traceback" not in text, (notebook, user)
    assert "Não foi possível atualizar" not in text, (notebook, user)  # ui.GENERIC_ERROR
    assert "Seu acesso a estes dados mudou" not in text, (notebook, user)


# ---- the tests --------------------------------------------------------------------------------
def test_an_organ_may_open_three_procurement_panels() -> None:
    assert ORGAN_PANELS == [
        "compras_conformidade.ipynb",
        "compras_meus_alertas.ipynb",
        "compras_saldo_dispensa.ipynb",
    ]
    assert len(CGE_ONLY) == 9 and "compras_alertas.ipynb" in CGE_ONLY


@pytest.mark.parametrize("notebook", ORGAN_PANELS)
def test_a_user_seeing_every_organ_gets_both_organs_on_the_organ_panels(
    server: Server, notebook: str
) -> None:
    """The control of the absence checks below: the markers are on these very panels."""
    with Page(server, login(server, "admin.rui", PASSWORD), notebook) as page:
        text = page.settled()
    clean(notebook, "admin.rui", text)
    check_cards(notebook, page.states, ALL)
    for cnpj in (SES, ANAPOLIS):
        missing = [m for m in SHOWN[notebook](cnpj) if m not in text]
        assert not missing, f"{notebook}: the admin does not see {missing}"
    if notebook == MEUS:  # every sent finding, no other
        for cnpj in (SES, ANAPOLIS):
            assert all(summary in text for *_, summary in SENT[cnpj])
        assert not [u for u in UNSENT if u in text]


@pytest.mark.parametrize("notebook", ORGAN_PANELS)
def test_each_organ_sees_only_its_own_rows(server: Server, notebook: str) -> None:
    for user, cnpj in ORGAN_OF.items():
        with Page(server, login(server, user, PASSWORD), notebook) as page:
            text = page.settled()
        clean(notebook, user, text)
        check_cards(notebook, page.states, cnpj)
        missing = [m for m in SHOWN[notebook](cnpj) if m not in text]
        assert not missing, f"{notebook}: {user} does not see its own {missing}"
        bad = leaked(page.everything(), OTHER[cnpj])
        assert not bad, f"{notebook} sent {user} the other organ's {bad}"


def test_meus_alertas_lists_what_the_cge_sent_and_opens_it(server: Server) -> None:
    """Each organ's sent findings and only those; a click on one opens its purchase (own
    CNPJ, PNCP link) and the export holds its rows; nothing of the other organ on the way."""
    for user, cnpj in ORGAN_OF.items():
        with Page(server, login(server, user, PASSWORD), MEUS) as page:
            text = page.settled()
            table = page.table_with("resumo")
            rows = page.states[table]["rows"]
            assert sorted(r[2] for r in rows) == sorted(s for *_, s in SENT[cnpj]), (user, rows)
            assert not [u for u in UNSENT if u in text], user
            for _regra, _chave, purchase, _unit, summary in SENT[cnpj]:
                index = [r[2] for r in rows].index(summary)
                page.custom(table, {"event": "row", "index": index})
                opened = as_text(page.read())
                assert f"Contratação {purchase}" in opened, (user, purchase)
                assert f"pncp.gov.br/app/editais/{cnpj}" in opened
                assert f"PROC-{cnpj[:4]}-" in opened  # its process number: a marker too
            status = page.export_all()
            assert all("baixado" in s for s in status.values()), status
            files = page.files()
            everything = page.everything()
        # one of the files is the findings table's: the sent findings, no other
        findings = [f for f in files if "Resumo" in f and "Risco estimado" in f]
        assert len(findings) == 1, files
        assert all(summary in findings[0] for *_, summary in SENT[cnpj])
        assert not [u for u in UNSENT if u in findings[0]]
        bad = leaked(everything, OTHER[cnpj])
        assert not bad, f"Meus Alertas sent {user} the other organ's {bad}"


@pytest.mark.parametrize("user", sorted(ORGAN_OF))
def test_the_cge_panels_refuse_organ_users(server: Server, user: str) -> None:
    s = login(server, user, PASSWORD)
    for notebook in CGE_ONLY:
        r, kernel_id = render(s, server, notebook)
        assert r.status_code == 403 and kernel_id is None, (user, notebook, r.status_code)
        assert not leaked(r.text, SES) and not leaked(r.text, ANAPOLIS)


def test_the_manager_may_not_open_the_analysts_panel(server: Server) -> None:
    s = login(server, "cge.gil", PASSWORD)
    for notebook in (MEUS, "compras_alertas.ipynb"):
        r, kernel_id = render(s, server, notebook)
        assert r.status_code == 403 and kernel_id is None, notebook


def test_the_analyst_sees_both_organs_findings(server: Server) -> None:
    with Page(server, login(server, "cge.ana", PASSWORD), "compras_alertas.ipynb") as page:
        text = page.settled()
        rows = page.states[page.table_with("resumo")]["rows"]
    clean("compras_alertas.ipynb", "cge.ana", text)
    assert len(rows) == 13  # 2 R2, 8 R3, 3 R7 (tests/unit/test_procurement_pages.py)
    for cnpj in (SES, ANAPOLIS):
        units = {unit for *_, unit, _s in SENT[cnpj]}
        missing = [m for m in [NAME[cnpj], *units] if m not in text]
        assert not missing, f"the analyst does not see {missing}"
    assert all(u in text for u in UNSENT)
    assert sum(r[1] == "Enviado ao órgão" for r in rows) == 3


def test_the_manager_sees_both_organs_on_visao_geral(server: Server) -> None:
    with Page(server, login(server, "cge.gil", PASSWORD), "compras_visao_geral.ipynb") as page:
        text = page.settled()
    assert NAME[SES] in text and NAME[ANAPOLIS] in text


def test_a_hostile_organ_client_gets_nothing_of_the_other_organ(server: Server) -> None:
    """Anápolis' user forges, over the widget channel, what a browser could send: rows past
    its own, clicks on chart categories it was not drawn, the other organ as filter value,
    a search for SES's CNPJ, a sort on a column that is not there, exports."""
    s = login(server, "orgao.anapolis", PASSWORD)
    for notebook in ORGAN_PANELS:
        with Page(server, s, notebook) as page:
            page.settled()
            for table in page.tables():
                for index in (1, 2, 3, 12, 24, 99, -1, "0", None, True, 1.5):
                    page.custom(table, {"event": "row", "index": index})
                page.update(table, search="0190991", sort="orgao_cnpj", page=5, page_size=10**6)
            for chart in page.charts():
                for forged in (
                    {"event": "click", "y": NAME[SES]},
                    {"event": "click", "x": f"{SES}-1-000012/2026"},
                    {"event": "click", "y": "HOSPITAL ESTADUAL DE URGENCIAS"},
                    {"event": "click", "y": "Drogas e medicamentos (inciso II)"},
                    {"event": "click", "y": "Material de escritório (inciso II)"},
                    {"event": "click", "y": "Serviços de manutenção predial (inciso I)"},
                ):
                    page.custom(chart, forged)
            for organ in page.dropdowns("Órgão:"):
                page.update(organ, index=1)
                page.update(organ, value=SES, label=NAME[SES])
            for year in page.dropdowns("Ano:"):
                options = page.states[year]["_options_labels"]
                page.update(year, index=options.index("Todos"))  # every year: still its own
            status = page.export_all()
            assert all("baixado" in v for v in status.values()), (notebook, status)
            text = as_text(page.read())
            files = page.files()
            everything = page.everything()
            assert len(files) == len(status), (notebook, status)  # every export, its file
            assert any(NAME[ANAPOLIS] in f for f in files), notebook
            for state in page.tables().values():
                assert state["search"] == "0190991", notebook  # the forged requests arrived
                assert state["rows"] == [] and state["total"] == 0, notebook  # found nothing
                assert state["sort"] != "orgao_cnpj" and state["page_size"] <= 100
            check_cards(notebook, page.states, ANAPOLIS)  # still Anápolis' figures
        assert NAME[ANAPOLIS] in text, notebook
        assert "Traceback" not in everything, notebook
        bad = leaked(everything, SES)
        assert not bad, f"{notebook} sent the hostile Anápolis client SES's {bad}"


def test_a_changed_grant_stops_an_open_meus_alertas(server: Server) -> None:
    """SES's user has Meus Alertas open; its grant moves to Anápolis. The page's next table
    page, row click, filter change and export serve nothing of SES (and say why)."""
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState

    user = "orgao.ses.revogado"
    s = login(server, user, PASSWORD)
    with Page(server, s, MEUS) as page:
        before = page.settled()
        assert all(unit in before for *_, unit, _s in SENT[SES])
        table = page.table_with("resumo")
        assert len(page.states[table]["rows"]) == len(SENT[SES])
        (year,) = page.dropdowns("Ano:")
        options = page.states[year]["_options_labels"]
        mp = pytest.MonkeyPatch()
        mp.setenv("PAINEL_HOME", str(server.home))
        try:
            users = Users(OpState(Paths.from_env().opstate))
            users.revoke(user, [f"procurement:orgao:{SES}"])
            users.grant(user, [f"procurement:orgao:{ANAPOLIS}"])
        finally:
            mp.undo()
        page.received.clear()
        page.update(table, page=1, search="HOSPITAL")  # the next table request
        after_page = page.read()
        assert after_page[table]["rows"] == [] and after_page[table]["total"] == 0
        assert "Seu acesso a estes dados mudou" in after_page[table]["empty_text"]
        page.custom(table, {"event": "row", "index": 0})  # a click on the row it had
        page.update(year, index=options.index("Todos"))  # a filter change
        status = page.export_all()  # and the exports
        after = page.read()
        replies = page.replies()
    assert all("Seu acesso a estes dados mudou" in s for s in status.values()), status
    assert page.files() == []
    assert after[table]["rows"] == []
    assert not any(f"Contratação {p}" in as_text(after) for _r, _c, p, *_ in SENT[SES])
    # what the kernel sent after the change (not the page's earlier state): nothing of SES
    bad = leaked(replies, SES) + [x for *_, u, x in SENT[SES] if u in replies or x in replies]
    assert not bad, f"after the grant changed the page still sent SES's {bad}"
    assert "Seu acesso a estes dados mudou" in replies
    # and a page opened now is built for Anápolis
    with Page(server, s, MEUS) as fresh:
        text = fresh.settled()
    assert NAME[ANAPOLIS] in text and not leaked(fresh.everything(), SES)


def test_a_legacy_protocol_client_cannot_freeze_the_server(server: Server) -> None:
    """A client on the kernel websocket's legacy protocol (no v1 subprotocol) presses an export:
    the kernel's binary reply (the file) reaches it, and the server keeps answering everyone.
    Voilà read every binary frame's header as v1's and froze the event loop on this."""
    from painel_testing import KernelChannel

    with Page(server, login(server, "orgao.anapolis", PASSWORD), MEUS) as page:
        page.read()
        download = page.downloads()[0]
        legacy = KernelChannel(server, page.session, page.kernel_id)
        try:
            assert legacy.ws.subprotocol is None  # the legacy protocol indeed
            legacy.send(
                "shell",
                "comm_msg",
                {"comm_id": download, "data": {"method": "custom", "content": {"event": "click"}}},
            )
            deadline = time.monotonic() + 60
            got_file = False
            while time.monotonic() < deadline and not got_file:
                msg = legacy.recv(deadline)
                got_file = bool(msg and msg.get("buffers"))
            assert got_file, "the export's file never reached the legacy client"
            t0 = time.monotonic()
            r = requests.get(f"{server.base}/login", timeout=10)
            assert r.status_code == 200 and time.monotonic() - t0 < 5
        finally:
            legacy.close()
