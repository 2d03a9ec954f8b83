"""The procurement e-mails (painel.procurement.digests) on the simulator's sample world,
received by a real SMTP server on loopback (aiosmtpd): who gets which digest and when, each
built through the recipient's own grants, pt-BR formats, no mail twice, the same-day alert.

The sample world (painel.procurement.simulator.sample) has two organs: SES (01909911000107)
and Anápolis (01135345000115); its findings are 2 R2 (one per organ), 8 R3 (4 each) and 3 R7
(all of SES). Here Anápolis's R2 dispensa is planted at R$ 140.000,00, over twice the limit of
inciso II (R$ 65.492,11): a same-day alert.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from mail_testing import MailCatcher, Received
from painel import mail
from painel.auth import Users
from painel.config import Paths
from painel.opstate import OpState
from painel.procurement import digests, workflow
from painel_testing import free_port

pytestmark = pytest.mark.timeout(180)

SES, ANAPOLIS = "01909911000107", "01135345000115"
SES_R2 = f"{SES}-1-000020/2026"  # R$ 84.427,84: above the limit, under twice it
ANAPOLIS_R2 = f"{ANAPOLIS}-1-000002/2026"  # planted at R$ 140.000,00
SES_SENT = f"{SES}-1-000007/2026"  # an R3 finding of SES the tests send to it
PASSWORD = "senha-longa-123"
MON, TUE = dt.date(2026, 1, 26), dt.date(2026, 1, 27)
MONEY = re.compile(r"R\$ \d{1,3}(?:\.\d{3})*,\d{2}")
ADDRESSES = {
    "ana": "ana@cge.go.gov.br",
    "gil": "gil@cge.go.gov.br",
    "ses": "compras@saude.go.gov.br",
    "anapolis": "compras@anapolis.go.gov.br",
}


@dataclass
class World:
    root: Path
    home: Path
    version: str
    publish_mails: list[Received]


UPDATED = dt.date(2026, 1, 20)  # the day a changed purchase is updated in PNCP


def crawl(paths: Paths, world: Path, catalogue: Path, *, updates: bool = False) -> str:
    """The procurement job over the sample world's week (backfill), or over the updates of
    :data:`UPDATED` (the daily run)."""
    from painel.procurement.etl import job
    from painel.procurement.simulator import PncpSimulator
    from painel.procurement.simulator.sample import DAYS, FIRST_DAY

    first, last = FIRST_DAY, FIRST_DAY + dt.timedelta(days=DAYS - 1)
    if updates:
        first = last = UPDATED
    with PncpSimulator(world) as sim:
        return job.run_once(
            paths,
            {
                "base_url": sim.url,
                "por": "atualizacao" if updates else "publicacao",
                "desde": first.isoformat(),
                "ate": last.isoformat(),
                "pace_s": 0.0,
                "catalogo": str(catalogue),
            },
            log=lambda _m: None,
        )


def set_dispensa(world: Path, numero: str, homologado: float) -> None:
    """Change a purchase's homologated value in the world, updated on :data:`UPDATED`."""
    updated = dt.datetime.combine(UPDATED, dt.time(10))
    con = duckdb.connect(str(world))
    try:
        changed = con.execute(
            "UPDATE contratacoes SET valor_total_homologado = ?, data_atualizacao = ?, "
            "data_atualizacao_global = ? WHERE numero_controle_pncp = ?",
            [homologado, updated, updated, numero],
        ).fetchone()
        assert changed == (1,), changed
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Users first, then the first publish, whose same-day alert goes to a catcher."""
    from painel.procurement.etl.landing import export_catalogue
    from painel.procurement.simulator.sample import write_sample_world

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("digests")
    mp.setenv("PAINEL_HOME", str(root / "home"))
    paths = Paths.from_env().ensure()
    world_file = write_sample_world(root / "world.duckdb", big_items=40)
    set_dispensa(world_file, ANAPOLIS_R2, 140_000.0)
    export_catalogue(world_file, root / "catalogo")
    users = Users(OpState(paths.opstate))
    users.add("ana", PASSWORD, "cge_analista", ["procurement:*"], "Ana Souza", ADDRESSES["ana"])
    users.add("bia", PASSWORD, "cge_analista", ["procurement:*"], "Bia, sem e-mail")
    users.add("zeca", PASSWORD, "cge_analista", ["procurement:*"], "", "zeca@cge.go.gov.br")
    users.set_disabled("zeca", True)
    users.add(
        "gil", PASSWORD, "cge_gestor", ["procurement:*"], "Gil <b>Gestor</b>", ADDRESSES["gil"]
    )
    users.add("ses", PASSWORD, "orgao", [f"procurement:orgao:{SES}"], "", ADDRESSES["ses"])
    users.add(
        "anapolis", PASSWORD, "orgao", [f"procurement:orgao:{ANAPOLIS}"], "", ADDRESSES["anapolis"]
    )
    users.add("root", PASSWORD, "admin", [], "", "root@cge.go.gov.br")
    with MailCatcher() as catcher:
        mp.setenv("PAINEL_SMTP_HOST", catcher.host)
        mp.setenv("PAINEL_SMTP_PORT", str(catcher.port))
        version = crawl(paths, world_file, root / "catalogo")
        publish_mails = list(catcher.messages)
    yield World(root, paths.home, version, publish_mails)
    mp.undo()


@pytest.fixture
def home(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Paths, MailCatcher]]:
    """A copy of the published home for one test, with a catcher of its own."""
    shutil.copytree(world.home, tmp_path / "home")
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    with MailCatcher() as catcher:
        monkeypatch.setenv("PAINEL_SMTP_HOST", catcher.host)
        monkeypatch.setenv("PAINEL_SMTP_PORT", str(catcher.port))
        yield Paths.from_env(), catcher


def run_due(paths: Paths, today: dt.date, **kw: object) -> list[str]:
    lines = digests.queue_due(paths, today=today, **kw)  # type: ignore[arg-type]
    digests.deliver_due(paths)
    return lines


def send_to_organ(paths: Paths, regra: str, chave: str) -> None:
    op = OpState(paths.opstate)
    for seen, to in (
        ("novo", "em_analise"),
        ("em_analise", "confirmado"),
        ("confirmado", "enviado"),
    ):
        workflow.change(
            op, regra=regra, chave=chave, seen=seen, to=to, actor="ana", role="cge_analista"
        )


def whole(m: Received) -> str:
    return m.text() + "\n" + m.html()


def only(catcher: MailCatcher, address: str, kind: str = "") -> Received:
    got = [m for m in catcher.to(address) if kind in str(m.message["Subject"])]
    assert len(got) == 1, [str(m.message["Subject"]) for m in catcher.to(address)]
    return got[0]


def top_rows(m: Received) -> list[tuple[str, str]]:
    """(rule, risk) of the HTML table of the riskiest findings, in order."""
    table = m.html().split("de maior risco")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    return [(c[1], c[4]) for c in cells]


def brl(text: str) -> float:
    return float(text.replace("R$ ", "").replace(".", "").replace(",", "."))


# ---- the same-day alert -------------------------------------------------------------------
def test_a_publish_mails_the_grave_r2_to_the_analysts_at_once(world: World) -> None:
    assert [m.rcpt_tos for m in world.publish_mails] == [[ADDRESSES["ana"]]]  # not organs
    [alert] = world.publish_mails
    subject = str(alert.message["Subject"])
    today = digests.day().strftime("%d/%m/%Y")  # the day of the publish, in Brasília
    assert subject == f"[CGE-GO] Alerta imediato – {today}: 1 dispensa acima do dobro do limite"
    text = alert.text()
    assert ANAPOLIS_R2 in text and "R$ 140.000,00" in text and "R$ 65.492,11 (inciso II)" in text
    assert "2,1×" in text and "MUNICIPIO DE ANAPOLIS" in text
    assert SES_R2 not in whole(alert)  # above the limit, but under twice it
    assert 'href="https://pncp.gov.br/app/editais/01135345000115/2026/2"' in alert.html()


def test_the_same_day_alert_comes_once_per_finding(
    world: World, home: tuple[Paths, MailCatcher], tmp_path: Path
) -> None:
    paths, catcher = home
    lines = run_due(paths, TUE)  # the mail job's catch-up for the current version
    assert f"{digests.same_day_key(world.version, 'ana')}: already queued" in lines
    assert not [m for m in catcher.messages if "Alerta imediato" in str(m.message["Subject"])]

    changed = tmp_path / "world.duckdb"
    shutil.copy(world.root / "world.duckdb", changed)
    set_dispensa(changed, f"{SES}-1-000013/2026", 150_000.0)  # a new R2, over twice the limit
    crawl(paths, changed, world.root / "catalogo", updates=True)
    [alert] = catcher.wait_for(2)[1:]
    assert "1 dispensa acima do dobro do limite" in str(alert.message["Subject"])
    assert f"{SES}-1-000013/2026" in alert.text() and "R$ 150.000,00" in alert.text()
    assert ANAPOLIS_R2 not in whole(alert)  # alerted with the first version already

    crawl(paths, changed, world.root / "catalogo", updates=True)  # nothing new: no alert
    assert "same-day alert for ana: nothing to say, no mail" in run_due(paths, TUE)
    assert len(catcher.messages) == 2


# ---- analysts, daily ----------------------------------------------------------------------
def test_the_analyst_gets_new_findings_by_rule_and_the_riskiest_ten(
    home: tuple[Paths, MailCatcher],
) -> None:
    paths, catcher = home
    lines = run_due(paths, TUE)
    assert f"{digests.daily_key(TUE, 'ana')}: queued for {ADDRESSES['ana']}" in "\n".join(lines)
    daily = only(catcher, ADDRESSES["ana"], "Alertas de compras")
    assert str(daily.message["Subject"]) == "[CGE-GO] Alertas de compras – 27/01/2026: 13 novos"
    text = daily.text()
    assert "Olá, Ana Souza." in text and "13 alertas novos de compras públicas desde" in text
    by_rule = text.split("Alertas novos por regra")[1].split("de maior risco")[0]
    counts = {m[0]: int(m[1]) for m in re.findall(r"(R\d) – [^\n]*?\s{2,}(\d+)\s{2,}R\$", by_rule)}
    assert counts == {"R2": 2, "R3": 8, "R7": 3}
    top = top_rows(daily)
    assert len(top) == 10
    risks = [brl(r) for _, r in top]
    assert risks == sorted(risks, reverse=True) and top[0] == ("R3", "R$ 518.187,68")
    assert top[1] == ("R2", "R$ 140.000,00")
    assert "E mais 3 alertas no painel." in text
    # pt-BR: R$ 1.234,56 and dd/mm/aaaa; data from January is flagged as stale
    assert MONEY.search(text) and not re.search(r"R\$ \d+,\d{3}\.\d{2}", text)
    assert re.search(r"Dados do PNCP até \d{2}/\d{2}/\d{4} \d{2}:\d{2}", text)
    assert re.search(
        r"ATENÇÃO: os dados são de \d{2}/\d{2}/\d{4} \d{2}:\d{2}, há mais de 2 dias", text
    )
    hrefs = re.findall(r'href="([^"]*)"', daily.html())
    assert hrefs and all(
        h.startswith(("https://pncp.gov.br/", "http://127.0.0.1:8866/voila/render/")) for h in hrefs
    )
    assert "http://127.0.0.1:8866/voila/render/compras_alertas.ipynb" in text


def test_nobody_else_gets_the_analysts_digest(home: tuple[Paths, MailCatcher]) -> None:
    paths, catcher = home
    run_due(paths, TUE)  # a Tuesday, not the 1st: only the analysts' daily
    assert [m.rcpt_tos for m in catcher.messages] == [[ADDRESSES["ana"]]]
    # bia has no address, zeca is disabled, root is an admin, gil and the organs have theirs
    keys = {e.dedup_key for e in mail.outbox(OpState(paths.opstate))}
    assert not [k for k in keys if k.endswith((":bia", ":zeca", ":root"))]


def test_a_run_again_the_same_day_sends_nothing_and_the_next_day_only_the_new(
    home: tuple[Paths, MailCatcher],
) -> None:
    paths, catcher = home
    run_due(paths, TUE)
    again = run_due(paths, TUE)
    assert f"{digests.daily_key(TUE, 'ana')}: already queued" in again
    assert len(catcher.messages) == 1
    assert (
        len([e for e in mail.outbox(OpState(paths.opstate)) if e.kind == "procurement.daily"]) == 1
    )

    wed = TUE + dt.timedelta(days=1)
    run_due(paths, wed)  # nothing new since Tuesday's digest; the data is still stale
    later = catcher.wait_for(2)[1]
    assert str(later.message["Subject"]) == (
        "[CGE-GO] Alertas de compras – 28/01/2026: dados desatualizados"
    )
    assert "Nenhum alerta novo desde" in later.text() and "de maior risco" not in later.text()


def test_fresh_data_and_nothing_new_make_no_daily_mail(home: tuple[Paths, MailCatcher]) -> None:
    paths, _catcher = home
    with OpState(paths.opstate).connect() as con:  # every finding seen long ago
        con.execute("UPDATE procurement_achados SET visto_em = '2026-01-01T00:00:00.000000+00:00'")
    [ana] = mail.recipients(OpState(paths.opstate), ["cge_analista"])
    # the data covers up to 17/01/2026 00:00 UTC (the sample's last day is the 16th)
    fresh = digests.Context(
        paths, dt.date(2026, 1, 18), now=dt.datetime(2026, 1, 18, 10, tzinfo=dt.UTC)
    )
    assert digests.daily_analyst(fresh, ana) is None
    stale = digests.Context(
        paths, dt.date(2026, 1, 19), now=dt.datetime(2026, 1, 19, 10, tzinfo=dt.UTC)
    )
    got = digests.daily_analyst(stale, ana)
    assert got is not None and got.subject.endswith("dados desatualizados")
    assert "ATENÇÃO: os dados são de 16/01/2026 21:00, há mais de 2 dias." in got.text


# ---- organs, weekly -----------------------------------------------------------------------
def test_organs_get_their_week_on_mondays_only_with_only_their_rows(
    home: tuple[Paths, MailCatcher],
) -> None:
    paths, catcher = home
    send_to_organ(paths, "R3", SES_SENT)
    send_to_organ(paths, "R2", ANAPOLIS_R2)
    lines = run_due(paths, TUE)
    assert "weekly digests: only on Mondays (27/01/2026 is not one)" in lines
    assert not catcher.to(ADDRESSES["ses"]) and not catcher.to(ADDRESSES["anapolis"])

    run_due(paths, MON)
    ses = only(catcher, ADDRESSES["ses"])
    ana = only(catcher, ADDRESSES["anapolis"])
    assert str(ses.message["Subject"]).startswith(
        "[CGE-GO] Resumo semanal de compras – 26/01/2026: "
    )
    s, a = whole(ses), whole(ana)
    # each organ's mail: its own rows, nothing of the other's
    assert SES in s and ANAPOLIS not in s and "ANAPOLIS" not in s
    assert ANAPOLIS in a and SES not in a and "SAUDE" not in a
    # the findings the CGE sent, as indícios
    assert "Alertas enviados pela CGE (1)" in s and SES_SENT in s and "indícios" in s
    assert "Alertas enviados pela CGE (1)" in a and ANAPOLIS_R2 in a
    # classes at 80 % of the limit or more
    assert "Serviços de manutenção predial" in s and "R$ 105.666,60" in s and "161,3%" in s
    assert "Material de escritório" in a and "limite atingido" in a
    # contracts to publish (art. 94): a result on 13/01 of a direct award, 10 working days
    row = next(ln for ln in ses.text().splitlines() if ln.startswith(f"{SES}-1-000002/2026"))
    assert "13/01/2026" in row and "27/01/2026" in row and "falta 1 dia útil" in row
    # open editais whose proposal period is under the minimum (R3), closing today or later
    editais = ses.text().split("abaixo do mínimo (art. 55)")[1]
    assert f"{SES}-1-000017/2026" in editais and "26/01/2026 12:33" in editais
    assert SES_SENT not in editais  # closed on 23/01
    # the gestor and the analysts get no weekly
    assert not [
        m
        for m in catcher.messages
        if "Resumo semanal" in str(m.message["Subject"])
        and m.rcpt_tos[0] in (ADDRESSES["ana"], ADDRESSES["gil"])
    ]


def test_an_edital_the_cge_discarded_is_not_told_to_the_organ(
    home: tuple[Paths, MailCatcher],
) -> None:
    paths, catcher = home
    op = OpState(paths.opstate)
    workflow.change(
        op, regra="R3", chave=f"{SES}-1-000017/2026", seen="novo", to="descartado", actor="ana",
        role="cge_analista", motivo="Prazo contado em dias corridos pelo edital",
    )  # fmt: skip
    run_due(paths, MON)
    assert f"{SES}-1-000017/2026" not in whole(only(catcher, ADDRESSES["ses"]))


def test_a_revoked_grant_changes_the_next_mail(home: tuple[Paths, MailCatcher]) -> None:
    paths, catcher = home
    users = Users(OpState(paths.opstate))
    run_due(paths, MON)
    first = whole(only(catcher, ADDRESSES["ses"]))
    assert SES in first and ANAPOLIS not in first

    users.revoke("ses", [f"procurement:orgao:{SES}"])
    users.grant("ses", [f"procurement:orgao:{ANAPOLIS}"])
    nxt = MON + dt.timedelta(days=7)
    run_due(paths, nxt)
    [second] = [
        m for m in catcher.to(ADDRESSES["ses"]) if "02/02/2026" in str(m.message["Subject"])
    ]
    text = whole(second)
    assert ANAPOLIS in text and "MUNICIPIO DE ANAPOLIS" in text and SES not in text

    users.revoke("ses", [f"procurement:orgao:{ANAPOLIS}"])  # no grant left: nothing to say
    lines = run_due(paths, nxt + dt.timedelta(days=7))
    assert "weekly digest for ses: nothing to say, no mail" in lines
    assert len(catcher.to(ADDRESSES["ses"])) == 2


# ---- management, monthly ------------------------------------------------------------------
def test_management_gets_last_months_kpis_on_the_first(home: tuple[Paths, MailCatcher]) -> None:
    paths, catcher = home
    op = OpState(paths.opstate)
    with op.connect() as con:  # the findings were first seen in January
        con.execute("UPDATE procurement_achados SET visto_em = '2026-01-20T12:00:00.000000+00:00'")
    send_to_organ(paths, "R2", ANAPOLIS_R2)
    workflow.change(
        op,
        regra="R3",
        chave=SES_SENT,
        seen="novo",
        to="em_analise",
        actor="ana",
        role="cge_analista",
    )
    with op.connect() as con:
        con.execute(
            "UPDATE procurement_achados_eventos SET em = '2026-01-21T12:00:00.000000+00:00'"
        )

    lines = run_due(paths, dt.date(2026, 2, 2))
    assert "monthly digests: only on the 1st" in lines and not catcher.to(ADDRESSES["gil"])
    run_due(paths, dt.date(2026, 2, 1))
    got = only(catcher, ADDRESSES["gil"])
    assert str(got.message["Subject"]) == "[CGE-GO] Resumo mensal de compras – janeiro de 2026"
    text = got.text()
    assert "Olá, Gil <b>Gestor</b>." in text  # the text part as typed, the HTML escaped
    assert "<p>Olá, Gil &lt;b&gt;Gestor&lt;/b&gt;.</p>" in got.html() and "<b>" not in got.html()

    from painel.store import Store

    store = Store(paths.store)
    con = duckdb.connect(
        str(store.version_path("procurement", store.current_version("procurement"))), read_only=True
    )
    n, value, direct = con.execute(
        "SELECT count(*), sum(valor), count(*) FILTER (WHERE modalidade_id IN (8, 9)) "
        "FROM contratacoes WHERE data_publicacao_pncp >= '2026-01-01' AND data_publicacao_pncp < '2026-02-01'"
    ).fetchone()
    con.close()
    assert n == 30
    from painel.dash import fmt

    assert re.search(rf"Contratações publicadas\s+{n}\n", text)
    assert re.search(rf"Valor \(homologado ou estimado\)\s+{re.escape(fmt.money(value))}\n", text)
    assert f"{direct} ({fmt.percent(100 * direct / n)})" in text
    assert re.search(r"R2 – Dispensa acima do limite\s+2\s+2\s+R\$", text)
    assert re.search(r"R3 – Prazo mínimo de propostas\s+8\s+8\s+R\$", text)
    assert re.search(r"Total\s+13\s+13\s+R\$", text)
    assert re.search(r"Novo\s+11\n", text) and re.search(r"Em análise\s+1\n", text)
    assert re.search(r"Enviado ao órgão\s+1\n", text)
    assert "Em janeiro de 2026, a CGE confirmou 1 alerta e enviou 1 alerta aos órgãos." in text

    # a month without purchases still gets its mail
    run_due(paths, dt.date(2026, 3, 1))
    march = [
        m for m in catcher.to(ADDRESSES["gil"]) if "fevereiro de 2026" in str(m.message["Subject"])
    ]
    assert len(march) == 1 and re.search(r"Contratações publicadas\s+0\n", march[0].text())


# ---- the job's delivery -------------------------------------------------------------------
def test_an_unreachable_smtp_server_fails_the_run_in_one_line_and_keeps_the_mail(
    home: tuple[Paths, MailCatcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, catcher = home
    down = free_port()
    monkeypatch.setenv("PAINEL_SMTP_PORT", str(down))
    digests.queue_due(paths, today=TUE)
    with pytest.raises(digests.MailJobError) as err:
        digests.deliver_due(paths)
    message = str(err.value)
    assert "\n" not in message and f"cannot reach the SMTP server 127.0.0.1:{down}" in message
    assert "1 mail(s) stay queued" in message
    assert [e.status for e in mail.outbox(OpState(paths.opstate))][0] == "pending"
    assert not catcher.messages


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"dia": "27/01/2026"}, "parameter dia: expected AAAA-MM-DD"),
        ({"dia": "2026-02-30"}, "parameter dia: '2026-02-30' is not a date"),
        ({"painel_url": "javascript:alert(1)"}, "parameter painel_url"),
        ({"dias_art94": -1}, "parameter dias_art94"),
    ],
)
def test_bad_parameters_are_named(values: dict, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        digests.validate_parameters(values)
