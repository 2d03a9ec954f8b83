"""The PNCP client: pacing and retries with a fake clock and fake replies, then real HTTP
against the PNCP simulator over a tiny world (a whole-world round trip, faults recovered)."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from painel.procurement.pncp import (
    PncpBadResponse,
    PncpClient,
    PncpIncomplete,
    PncpRequestError,
    PncpUnavailable,
)
from painel.procurement.simulator import Faults, PncpSimulator
from painel.procurement.simulator.sample import DAYS, FIRST_DAY, write_sample_world

FAST = {"pace": 0.0, "backoff_s": 0.005, "max_backoff_s": 0.02, "timeout": 5.0}
WEEK = [FIRST_DAY + datetime.timedelta(days=d) for d in range(DAYS)]
# contracts are published up to a few days after their purchase
CONTRACT_DAYS = [FIRST_DAY + datetime.timedelta(days=d) for d in range(DAYS + 5)]

MakeSim = Callable[..., PncpSimulator]


# --------------------------------------------------------------------------- fakes


class FakeClock:
    """A monotonic clock that moves only when someone sleeps (or a reply takes time)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds


def reply(
    status: int, body: Any = None, *, raw: bytes | None = None, html: bool = False
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    if raw is not None:
        r._content = raw
    elif html:
        r._content = b"<html><head><title>429 Too Many Requests</title></head></html>"
        r.headers["Content-Type"] = "text/html"
    elif body is not None:
        r._content = json.dumps(body).encode()
        r.headers["Content-Type"] = "application/json"
    else:
        r._content = b""
    r.url = "https://pncp.example/api/x"
    return r


class FakeSession(requests.Session):
    """Serves scripted replies; records the clock at each attempt."""

    def __init__(self, clock: FakeClock, replies: list[requests.Response], latency: float = 0.01):
        super().__init__()
        self.clock = clock
        self.replies = list(replies)
        self.latency = latency
        self.starts: list[float] = []
        self.urls: list[tuple[str, dict[str, Any] | None]] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        assert kwargs.get("timeout"), "every call must have a timeout"
        self.starts.append(self.clock.t)
        self.urls.append((str(url), kwargs.get("params")))
        self.clock.t += self.latency
        r = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return r


def fake_client(
    replies: list[requests.Response], **kwargs: Any
) -> tuple[PncpClient, FakeSession, FakeClock]:
    clock = FakeClock()
    session = FakeSession(clock, replies)
    options = {"pace": 2.0, "retries": 5, "backoff_s": 1.0, "max_backoff_s": 30.0, **kwargs}
    client = PncpClient(
        "https://pncp.example", session=session, clock=clock, sleep=clock.sleep, **options
    )
    return client, session, clock


def envelope(
    rows: list[dict[str, Any]], total: int, page: int = 1, size: int = 50
) -> dict[str, Any]:
    pages = -(-total // size)
    return {
        "data": rows,
        "totalRegistros": total,
        "totalPaginas": pages,
        "numeroPagina": page,
        "paginasRestantes": pages - page,
        "empty": not rows,
    }


# --------------------------------------------------------------------------- fake-clock unit tests


def test_pacing_spaces_every_call_by_pace_without_real_waiting() -> None:
    client, session, clock = fake_client([reply(200, [{"id": 1}])], pace=2.0)
    for _ in range(5):
        assert client.amparos() == [{"id": 1}]
    gaps = [b - a for a, b in zip(session.starts, session.starts[1:], strict=False)]
    assert len(gaps) == 4 and all(g >= 2.0 - 1e-9 for g in gaps)
    assert client.stats.calls == 5
    assert client.stats.pace_wait_s == pytest.approx(4 * (2.0 - 0.01))
    assert client.stats.wait_s == client.stats.pace_wait_s


def test_429_backs_off_exponentially_and_keeps_the_pace() -> None:
    replies = [reply(429, html=True), reply(429, {"message": "Too Many"}), reply(429, html=True)]
    replies.append(reply(200, [{"id": 18}]))
    client, session, clock = fake_client(replies, pace=2.0, backoff_s=1.0)
    assert client.amparos() == [{"id": 18}]
    assert client.stats.calls == 4 and client.stats.refused == 3 and client.stats.retries == 3
    gaps = [b - a for a, b in zip(session.starts, session.starts[1:], strict=False)]
    assert all(g >= 2.0 for g in gaps)
    assert gaps[0] < gaps[1] < gaps[2]  # 1, 2, 4 s of backoff (then the pace on top)
    assert client.stats.backoff_wait_s == pytest.approx(1 + 2 + 4)
    assert client.stats.by_reason["429 too many requests"] == 3


def test_request_errors_are_not_retried_and_carry_pncp_message() -> None:
    body = {"status": 422, "message": "Período inicial e final maior que 365 dias"}
    client, session, _ = fake_client([reply(422, body)])
    with pytest.raises(PncpRequestError) as err:
        client.contratacoes(datetime.date(2026, 1, 12), 6)
    assert err.value.status == 422
    assert err.value.message == "Período inicial e final maior que 365 dias"
    assert "contratacoes/publicacao" in str(err.value) and "dataInicial=20260112" in str(err.value)
    assert client.stats.calls == 1 and client.stats.retries == 0
    client, _, _ = fake_client([reply(400, {"message": "Tamanho de página inválido"})])
    with pytest.raises(PncpRequestError, match="Tamanho de página inválido"):
        client.contratos(datetime.date(2026, 1, 12))


def test_204_is_an_empty_list() -> None:
    client, session, _ = fake_client([reply(204)])
    assert client.contratacoes(datetime.date(2026, 1, 12), 8) == []
    assert client.termos("00000000000191", 2026, 1) == []
    assert client.stats.no_content == 2
    (url, params) = session.urls[0]
    assert url.endswith("/api/consulta/v1/contratacoes/publicacao")
    assert params == {
        "dataInicial": "20260112",
        "dataFinal": "20260112",
        "codigoModalidadeContratacao": 8,
        "uf": "GO",
        "pagina": 1,
        "tamanhoPagina": 50,
    }


def test_outage_past_the_attempts_raises_unavailable_naming_the_call() -> None:
    client, session, _ = fake_client(
        [reply(504, raw=b"<html>504 Gateway Time-out</html>")], retries=4
    )
    with pytest.raises(PncpUnavailable) as err:
        client.termos("00000000000191", 2026, 7)
    assert err.value.attempts == 4 and len(session.starts) == 4
    assert "contratos/termos" in str(err.value) and "HTTP 504" in str(err.value)
    assert "after 4 attempts" in str(err.value)
    assert err.value.elapsed_s > 0


def test_outage_past_the_time_budget_raises_unavailable() -> None:
    client, session, clock = fake_client([reply(503, raw=b"down")], retries=1000, budget_s=60.0)
    start = clock.t
    with pytest.raises(PncpUnavailable, match="over 6"):
        client.amparos()
    assert 60.0 <= clock.t - start < 70.0
    assert len(session.starts) < 20


def test_malformed_json_is_retried_then_bad_response_with_first_bytes() -> None:
    good = reply(200, [{"id": 1}])
    client, _, _ = fake_client([reply(200, raw=b'[{"id": 1, "no'), good])
    assert client.amparos() == [{"id": 1}]
    assert client.stats.malformed == 1 and client.stats.retries == 1
    client, _, _ = fake_client([reply(200, raw=b'{"data": [{"numeroControle')], retries=3)
    with pytest.raises(PncpBadResponse) as err:
        client.amparos()
    assert "https://pncp.example/api/x" in str(err.value)
    assert '{"data": [{"numeroControle' in str(err.value)
    assert err.value.attempts == 3


def test_short_listing_page_is_reasked_then_incomplete() -> None:
    rows = [{"numeroControlePNCP": f"X-{i}"} for i in range(12)]
    short = reply(200, envelope(rows[:7], 12))
    full = reply(200, envelope(rows, 12))
    client, session, _ = fake_client([short, full])
    assert client.contratacoes(datetime.date(2026, 1, 12), 6) == rows
    assert client.stats.short_pages == 1 and len(session.starts) == 2
    client, _, _ = fake_client([short], short_retries=2)
    with pytest.raises(PncpIncomplete, match=r"7 rows of the 12 .* 3 times"):
        client.contratacoes(datetime.date(2026, 1, 12), 6)


def test_contratos_drop_other_states() -> None:
    rows: list[dict[str, Any]] = [
        {"numeroControlePNCP": "A", "unidadeOrgao": {"ufSigla": "GO"}},
        {"numeroControlePNCP": "B", "unidadeOrgao": {"ufSigla": "MT"}},
        {"numeroControlePNCP": "C", "unidadeOrgao": None},
    ]
    client, session, _ = fake_client([reply(200, envelope(rows, 3, size=500))])
    assert [r["numeroControlePNCP"] for r in client.contratos(datetime.date(2026, 1, 12))] == ["A"]
    assert [
        r["numeroControlePNCP"] for r in client.contratos(datetime.date(2026, 1, 12), uf=None)
    ] == [
        "A",
        "B",
        "C",
    ]
    assert "uf" not in (session.urls[0][1] or {})
    assert session.urls[0][1]["tamanhoPagina"] == 500  # type: ignore[index]


def test_client_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="retries"):
        PncpClient("https://pncp.example", retries=0)
    with pytest.raises(ValueError, match="by must be"):
        bad: Any = "hoje"
        PncpClient("https://pncp.example").contratacoes(FIRST_DAY, 6, by=bad)


# --------------------------------------------------------------------------- against the simulator


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_world(tmp_path_factory.mktemp("pncp") / "world.duckdb")


@pytest.fixture
def make_sim(world_file: Path) -> Iterator[MakeSim]:
    started: list[PncpSimulator] = []

    def make(**faults: Any) -> PncpSimulator:
        sim = PncpSimulator(world_file, seed=faults.pop("seed", 1), faults=Faults(**faults))
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.close()


def rows(world_file: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    con = duckdb.connect(str(world_file), read_only=True)
    try:
        cur = con.execute(sql, list(args))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def crawl(client: PncpClient) -> dict[str, Any]:
    """What the daily ETL does for the sample week: every GO record, every level."""
    compras: dict[str, dict[str, Any]] = {}
    for day in WEEK:
        for modalidade in (6, 8, 9):
            for c in client.contratacoes(day, modalidade):
                compras[c["numeroControlePNCP"]] = c
    itens: dict[tuple[str, int], dict[str, Any]] = {}
    resultados: dict[tuple[str, int, int], dict[str, Any]] = {}
    for ncp, c in compras.items():
        key = (c["orgaoEntidade"]["cnpj"], c["anoCompra"], c["sequencialCompra"])
        for item in client.itens(*key):
            itens[(ncp, item["numeroItem"])] = item
            if item["temResultado"]:
                for r in client.resultados(*key, item["numeroItem"]):
                    resultados[(ncp, r["numeroItem"], r["sequencialResultado"])] = r
    contratos: dict[str, dict[str, Any]] = {}
    for day in CONTRACT_DAYS:
        for k in client.contratos(day):
            contratos[k["numeroControlePNCP"]] = k
    termos: dict[tuple[str, int], dict[str, Any]] = {}
    for ncp, k in contratos.items():
        for t in client.termos(
            k["orgaoEntidade"]["cnpj"], k["anoContrato"], k["sequencialContrato"]
        ):
            termos[(ncp, t["sequencialTermoContrato"])] = t
    return {
        "compras": compras,
        "itens": itens,
        "resultados": resultados,
        "contratos": contratos,
        "termos": termos,
    }


GO = "JOIN unidades u USING (cnpj, codigo_unidade) WHERE u.uf_sigla = 'GO'"


def ts(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")


def test_round_trip_of_a_whole_tiny_world(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    client = PncpClient(sim.url, **FAST)
    got = crawl(client)

    world_compras = {
        r["numero_controle_pncp"]: r for r in rows(world_file, f"SELECT * FROM contratacoes {GO}")
    }
    (non_go,) = rows(
        world_file,
        "SELECT count(*) n FROM contratacoes JOIN unidades u USING (cnpj, codigo_unidade) WHERE u.uf_sigla <> 'GO'",
    )
    assert non_go["n"] > 0
    assert set(got["compras"]) == set(world_compras)
    for ncp, w in world_compras.items():
        c = got["compras"][ncp]
        assert c["objetoCompra"] == w["objeto_compra"]
        assert c["valorTotalEstimado"] == w["valor_total_estimado"]
        assert c["valorTotalHomologado"] == w["valor_total_homologado"]
        assert c["amparoLegal"]["codigo"] == w["amparo_legal_codigo"]
        assert c["modalidadeId"] == w["modalidade_id"] and c["srp"] == w["srp"]
        assert c["unidadeOrgao"]["codigoUnidade"] == w["codigo_unidade"]
        assert c["dataPublicacaoPncp"] == ts(w["data_publicacao_pncp"])
        assert c["dataEncerramentoProposta"] == ts(w["data_encerramento_proposta"])
        assert c["dataAtualizacaoGlobal"] == ts(w["data_atualizacao_global"])

    world_itens = {
        (r["numero_controle_pncp"], r["numero_item"]): r
        for r in rows(
            world_file,
            f"SELECT i.* FROM itens i JOIN contratacoes c USING (numero_controle_pncp) {GO}",
        )
    }
    assert len(world_itens) > 1234
    assert set(got["itens"]) == set(world_itens)
    for key, w in world_itens.items():
        i = got["itens"][key]
        assert "codigoClasse" not in i and "codigo_classe" not in i
        assert i["descricao"] == w["descricao"] and i["unidadeMedida"] == w["unidade_medida"]
        assert i["quantidade"] == w["quantidade"] and i["valorTotal"] == w["valor_total"]
        assert i["valorUnitarioEstimado"] == w["valor_unitario_estimado"]
        assert i["materialOuServico"] == w["material_ou_servico"]
        assert i["catalogoCodigoItem"] == w["catalogo_codigo_item"]
        assert (i["catalogo"] or {}).get("id") == w["catalogo_id"]
        assert i["situacaoCompraItem"] == w["situacao_compra_item_id"]
        assert i["temResultado"] == w["tem_resultado"]
    served = json.dumps(list(got["itens"].values()))
    assert "classe" not in served.lower()

    world_res = {
        (r["numero_controle_pncp"], r["numero_item"], r["sequencial_resultado"]): r
        for r in rows(
            world_file,
            f"SELECT r.* FROM resultados r JOIN contratacoes c USING (numero_controle_pncp) {GO}",
        )
    }
    assert set(got["resultados"]) == set(world_res)
    for res_key, w in world_res.items():
        res = got["resultados"][res_key]
        assert res["niFornecedor"] == w["ni_fornecedor"]
        assert res["valorUnitarioHomologado"] == w["valor_unitario_homologado"]
        assert res["quantidadeHomologada"] == w["quantidade_homologada"]
        assert res["porteFornecedorId"] == w["porte_fornecedor_id"]
        assert res["dataResultado"] == w["data_resultado"].date().isoformat()

    world_k = {
        r["numero_controle_pncp"]: r for r in rows(world_file, f"SELECT * FROM contratos {GO}")
    }
    (non_go_k,) = rows(
        world_file,
        "SELECT count(*) n FROM contratos JOIN unidades u USING (cnpj, codigo_unidade) WHERE u.uf_sigla <> 'GO'",
    )
    assert non_go_k["n"] > 0
    assert set(got["contratos"]) == set(world_k)
    for ncp, w in world_k.items():
        k = got["contratos"][ncp]
        assert k["numeroControlePncpCompra"] == w["numero_controle_pncp_compra"]
        assert k["valorGlobal"] == w["valor_global"] and k["valorInicial"] == w["valor_inicial"]
        assert k["tipoContrato"]["id"] == w["tipo_contrato_id"]
        assert k["dataAssinatura"] == w["data_assinatura"].isoformat()
        assert k["dataVigenciaFim"] == w["data_vigencia_fim"].isoformat()
        assert k["dataPublicacaoPncp"] == ts(w["data_publicacao_pncp"])

    world_t = {
        (r["numero_controle_pncp"], r["sequencial_termo"]): r
        for r in rows(
            world_file, f"SELECT t.* FROM termos t JOIN contratos USING (numero_controle_pncp) {GO}"
        )
    }
    assert world_t and set(got["termos"]) == set(world_t)
    for key, w in world_t.items():
        t = got["termos"][key]
        assert t["valorAcrescido"] == w["valor_acrescido"]
        assert t["prazoAditadoDias"] == w["prazo_aditado_dias"]
        assert t["tipoTermoContratoId"] == w["tipo_termo_contrato_id"]
        assert t["qualificacaoAcrescimoSupressao"] == w["qualificacao_acrescimo_supressao"]

    amparos = {a["id"]: a["nome"] for a in client.amparos()}
    assert amparos[19] == "Lei 14.133/2021, Art. 75, II"
    assert client.stats.retries == 0 and client.stats.calls == sim.stats()["requests"]


def test_items_of_a_big_purchase_all_come_back(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    (big,) = rows(
        world_file,
        "SELECT c.cnpj, c.ano_compra, c.sequencial_compra, count(*) n FROM itens JOIN contratacoes c"
        " USING (numero_controle_pncp) GROUP BY ALL ORDER BY n DESC LIMIT 1",
    )
    assert big["n"] == 1234
    client = PncpClient(sim.url, **FAST)
    items = client.itens(big["cnpj"], big["ano_compra"], big["sequencial_compra"])
    assert [i["numeroItem"] for i in items] == list(range(1, 1235))
    # one count + pages of 500 (500, 500, 234): not 124 pages of 10
    assert client.stats.calls == 4
    assert client.stats.by_endpoint == {"compras/itens/quantidade": 1, "compras/itens": 3}


def test_atualizacao_and_non_go_contracts(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    client = PncpClient(sim.url, **FAST)
    day = WEEK[2]
    expected = {
        r["numero_controle_pncp"]
        for r in rows(
            world_file,
            f"SELECT numero_controle_pncp FROM contratacoes {GO} AND modalidade_id = 6"
            " AND CAST(data_atualizacao_global AS DATE) = ?",
            day,
        )
    }
    assert expected
    got = {c["numeroControlePNCP"] for c in client.contratacoes(day, 6, by="atualizacao")}
    assert got == expected
    everywhere = [k for d in CONTRACT_DAYS for k in client.contratos(d, uf=None)]
    assert {k["unidadeOrgao"]["ufSigla"] for k in everywhere} == {"GO", "MT"}


class TimedSession(requests.Session):
    """A real session that notes when each call starts (real monotonic time)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        self.starts.append(time.monotonic())
        return super().get(url, **kwargs)


def min_gap(starts: list[float]) -> float:
    return min(b - a for a, b in zip(starts, starts[1:], strict=False))


def test_429_storm_is_recovered_with_the_pace_respected(make_sim: MakeSim) -> None:
    clean = crawl_contratacoes(PncpClient(make_sim().url, **FAST))
    # the server refuses calls closer than 20 ms and 30 % of the others anyway
    sim = make_sim(min_interval=0.02, rate_429=0.3, seed=5)
    pace = 0.05
    session = TimedSession()
    options = {**FAST, "pace": pace, "backoff_s": 0.01, "retries": 12, "session": session}
    client = PncpClient(sim.url, **options)
    assert crawl_contratacoes(client) == clean
    faults = sim.stats()["faults"]
    assert faults.get("429", 0) >= 3  # a storm happened and was ridden out
    assert client.stats.refused == faults["429"] + faults.get("pacing", 0)
    assert client.stats.retries == client.stats.refused
    # every attempt, retries included, kept the pace (measured where the client sends)
    assert len(session.starts) == client.stats.calls == sim.stats()["requests"]
    assert min_gap(session.starts) >= pace - 0.002  # (the clock is read just before the send)
    # so the server saw none too close (a loaded machine may delay one by more than 30 ms)
    assert faults.get("pacing", 0) <= 1


def crawl_contratacoes(client: PncpClient) -> list[dict[str, Any]]:
    return [c for d in WEEK for m in (6, 8, 9) for c in client.contratacoes(d, m)]


def test_outage_longer_than_the_budget_raises_unavailable(make_sim: MakeSim) -> None:
    sim = make_sim(outage_calls=1000)
    client = PncpClient(sim.url, **{**FAST, "retries": 4})
    with pytest.raises(PncpUnavailable) as err:
        client.contratacoes(WEEK[0], 6)
    assert err.value.attempts == 4 and sim.stats()["requests"] == 4
    assert "contratacoes/publicacao" in str(err.value) and "after 4 attempts" in str(err.value)
    assert err.value.reason in ("HTTP 503", "HTTP 504")
    timed = make_sim(outage_seconds=30)
    client = PncpClient(timed.url, **{**FAST, "retries": 10_000, "budget_s": 0.3})
    t0 = time.monotonic()
    with pytest.raises(PncpUnavailable):
        client.itens_quantidade("00000000000191", 2026, 1)
    assert time.monotonic() - t0 < 3


def test_outage_shorter_than_the_budget_is_ridden_out(make_sim: MakeSim) -> None:
    sim = make_sim(outage_after=2, outage_calls=3)
    client = PncpClient(sim.url, **{**FAST, "retries": 6})
    got = crawl_contratacoes(client)
    assert got == crawl_contratacoes(PncpClient(make_sim().url, **FAST))
    assert client.stats.server_errors == 3 and client.stats.retries == 3


def test_short_pages_are_reasked_until_complete(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim(short_pages=0.5, seed=3)
    client = PncpClient(sim.url, **{**FAST, "short_retries": 10})
    clean_client = PncpClient(make_sim().url, **FAST)
    assert crawl_contratacoes(client) == crawl_contratacoes(clean_client)
    (big,) = rows(
        world_file,
        "SELECT c.cnpj, c.ano_compra, c.sequencial_compra FROM itens JOIN contratacoes c"
        " USING (numero_controle_pncp) GROUP BY ALL ORDER BY count(*) DESC LIMIT 1",
    )
    items = client.itens(big["cnpj"], big["ano_compra"], big["sequencial_compra"])
    assert len(items) == 1234
    assert client.stats.short_pages == sim.stats()["faults"]["short_page"] > 0
    always = make_sim(short_pages=1.0)
    with pytest.raises(PncpIncomplete, match=r"contratacoes/publicacao .*dataInicial=20260112"):
        PncpClient(always.url, **{**FAST, "short_retries": 2}).contratacoes(WEEK[0], 6)
    with pytest.raises(PncpIncomplete, match="/itens pagina=1"):
        PncpClient(always.url, **{**FAST, "short_retries": 2}).itens(
            big["cnpj"], big["ano_compra"], big["sequencial_compra"]
        )


def test_malformed_json_recovered_or_named(make_sim: MakeSim) -> None:
    sim = make_sim(malformed=0.3, seed=2)
    client = PncpClient(sim.url, **{**FAST, "retries": 10})
    assert crawl_contratacoes(client) == crawl_contratacoes(PncpClient(make_sim().url, **FAST))
    assert client.stats.malformed == sim.stats()["faults"]["malformed"] > 0
    broken = make_sim(malformed=1.0)
    with pytest.raises(PncpBadResponse) as err:
        PncpClient(broken.url, **{**FAST, "retries": 3}).amparos()
    assert f"{broken.url}/api/pncp/v1/amparos-legais" in str(err.value)
    assert "first bytes: b'[{" in str(err.value)


def test_request_errors_from_the_simulator(make_sim: MakeSim) -> None:
    sim = make_sim()
    client = PncpClient(sim.url, **FAST)
    with pytest.raises(PncpRequestError) as err:
        client.get(
            "/api/consulta/v1/contratacoes/publicacao",
            {
                "dataInicial": "20250101",
                "dataFinal": "20260112",
                "codigoModalidadeContratacao": 6,
                "pagina": 1,
            },
        )
    assert (
        err.value.status == 422
        and err.value.message == "Período inicial e final maior que 365 dias"
    )
    with pytest.raises(PncpRequestError, match="Required parameter 'pagina' is not present"):
        client.get(
            "/api/consulta/v1/contratos", {"dataInicial": "20260112", "dataFinal": "20260112"}
        )
    assert client.stats.calls == 2 and client.stats.retries == 0
    assert (
        client.get(
            "/api/consulta/v1/contratos",
            {"dataInicial": "20250101", "dataFinal": "20250101", "pagina": 1},
        )
        is None
    )


def test_real_time_pacing_against_the_simulator(make_sim: MakeSim) -> None:
    sim = make_sim()
    pace = 0.05
    session = TimedSession()
    client = PncpClient(sim.url, **{**FAST, "pace": pace, "session": session})
    t0 = time.monotonic()
    got = crawl_contratacoes(client)
    wall = time.monotonic() - t0
    calls = client.stats.calls
    assert got and calls >= 15 and calls == len(session.starts)
    assert min_gap(session.starts) >= pace - 0.002  # (the clock is read just before the send)
    assert wall >= (calls - 1) * pace
    assert wall <= calls * pace * 1.5 + 0.5  # the crawl costs about calls x pace
    assert client.stats.pace_wait_s <= (calls - 1) * pace
