"""The PNCP API simulator: real HTTP against a simulator on a free loopback port, over a tiny
world written with ``world.create_sql()`` (the sample world, not the generator)."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from painel.procurement.simulator import CONSULTA, PNCP, Faults, PncpSimulator
from painel.procurement.simulator import cli as sim_cli
from painel.procurement.simulator.sample import FIRST_DAY, write_sample_world

TIMEOUT = 5
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WEEK = {"dataInicial": "20260112", "dataFinal": "20260116"}

MakeSim = Callable[..., PncpSimulator]


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_world(tmp_path_factory.mktemp("pncp") / "world.duckdb")


@pytest.fixture
def make_sim(world_file: Path) -> Iterator[MakeSim]:
    started: list[PncpSimulator] = []

    def make(**faults: Any) -> PncpSimulator:
        seed = faults.pop("seed", 1)
        sim = PncpSimulator(world_file, seed=seed, faults=Faults(**faults))
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.close()


def q(world_file: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(world_file), read_only=True)
    try:
        return con.execute(sql, list(args)).fetchall()
    finally:
        con.close()


def get(sim: PncpSimulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.url + path, params=params, timeout=TIMEOUT)


def big_compra(world_file: Path) -> tuple[str, int, int, int]:
    """(cnpj, ano, seq, n items) of the purchase with the most items."""
    (row,) = q(
        world_file,
        "SELECT c.cnpj, c.ano_compra, c.sequencial_compra, count(*) n FROM itens i"
        " JOIN contratacoes c USING (numero_controle_pncp) GROUP BY ALL ORDER BY n DESC LIMIT 1",
    )
    return row[0], row[1], row[2], row[3]


# --------------------------------------------------------------------------- listings


def test_contratacoes_envelope_pages_in_a_stable_order(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    expected = [
        r[0]
        for r in q(
            world_file,
            "SELECT numero_controle_pncp FROM contratacoes c JOIN unidades u USING (cnpj, codigo_unidade)"
            " WHERE modalidade_id = 6 AND u.uf_sigla = 'GO' ORDER BY 1",
        )
    ]
    assert len(expected) > 10
    pages = math.ceil(len(expected) / 10)
    got: list[str] = []
    for page in range(1, pages + 1):
        r = get(
            sim,
            f"{CONSULTA}/contratacoes/publicacao",
            **WEEK,
            codigoModalidadeContratacao=6,
            uf="GO",
            pagina=page,
            tamanhoPagina=10,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {
            "data",
            "totalRegistros",
            "totalPaginas",
            "numeroPagina",
            "paginasRestantes",
            "empty",
        }
        assert body["totalRegistros"] == len(expected)
        assert body["totalPaginas"] == pages
        assert body["numeroPagina"] == page
        assert body["paginasRestantes"] == pages - page
        assert body["empty"] is False
        assert len(body["data"]) == min(10, len(expected) - (page - 1) * 10)
        got += [d["numeroControlePNCP"] for d in body["data"]]
    assert got == expected
    # past the last page: no content
    r = get(
        sim,
        f"{CONSULTA}/contratacoes/publicacao",
        **WEEK,
        codigoModalidadeContratacao=6,
        uf="GO",
        pagina=pages + 1,
        tamanhoPagina=10,
    )
    assert r.status_code == 204 and r.content == b""


def test_nothing_matches_is_204_with_an_empty_body(make_sim: MakeSim) -> None:
    sim = make_sim()
    r = get(
        sim,
        f"{CONSULTA}/contratacoes/publicacao",
        dataInicial="20250101",
        dataFinal="20250101",
        codigoModalidadeContratacao=6,
        pagina=1,
    )
    assert r.status_code == 204
    assert r.content == b""
    r = get(sim, f"{CONSULTA}/contratos", dataInicial="20250101", dataFinal="20250102", pagina=1)
    assert r.status_code == 204 and r.content == b""


def test_uf_filter_and_record_shape(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    all_rows: list[dict[str, Any]] = []
    for uf in ("GO", "MT"):
        r = get(
            sim,
            f"{CONSULTA}/contratacoes/publicacao",
            **WEEK,
            codigoModalidadeContratacao=8,
            uf=uf,
            pagina=1,
        )
        assert r.status_code == 200, r.text
        rows = r.json()["data"]
        assert rows and {d["unidadeOrgao"]["ufSigla"] for d in rows} == {uf}
        all_rows += rows
    (n,) = q(world_file, "SELECT count(*) FROM contratacoes WHERE modalidade_id = 8")[0]
    assert len(all_rows) == n
    rec = all_rows[0]
    (world_row,) = q(
        world_file,
        "SELECT cnpj, codigo_unidade, amparo_legal_codigo, valor_total_estimado, objeto_compra,"
        " data_publicacao_pncp FROM contratacoes WHERE numero_controle_pncp = ?",
        rec["numeroControlePNCP"],
    )
    assert rec["orgaoEntidade"]["cnpj"] == world_row[0]
    assert set(rec["orgaoEntidade"]) == {"cnpj", "razaoSocial", "poderId", "esferaId"}
    assert rec["unidadeOrgao"]["codigoUnidade"] == world_row[1]
    assert {"codigoIbge", "municipioNome", "ufNome", "nomeUnidade"} <= set(rec["unidadeOrgao"])
    assert rec["amparoLegal"]["codigo"] == world_row[2]
    assert rec["amparoLegal"]["nome"].startswith("Lei 14.133/2021, Art. 75")
    assert rec["valorTotalEstimado"] == world_row[3]
    assert rec["objetoCompra"] == world_row[4]
    assert rec["dataPublicacaoPncp"] == world_row[5].strftime("%Y-%m-%dT%H:%M:%S")
    assert rec["modalidadeId"] == 8 and rec["modalidadeNome"] == "Dispensa"
    for key in ("dataPublicacaoPncp", "dataInclusao", "dataAtualizacao", "dataAtualizacaoGlobal"):
        assert TS.match(rec[key]), (key, rec[key])


def test_atualizacao_windows_on_the_global_update_date(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    day = FIRST_DAY + datetime.timedelta(days=2)
    expected = {
        r[0]
        for r in q(
            world_file,
            "SELECT numero_controle_pncp FROM contratacoes"
            " WHERE modalidade_id = 6 AND CAST(data_atualizacao_global AS DATE) = ?",
            day,
        )
    }
    published = {
        r[0]
        for r in q(
            world_file,
            "SELECT numero_controle_pncp FROM contratacoes"
            " WHERE modalidade_id = 6 AND CAST(data_publicacao_pncp AS DATE) = ?",
            day,
        )
    }
    assert expected and expected != published
    ymd = day.strftime("%Y%m%d")
    r = get(
        sim,
        f"{CONSULTA}/contratacoes/atualizacao",
        dataInicial=ymd,
        dataFinal=ymd,
        codigoModalidadeContratacao=6,
        pagina=1,
    )
    assert r.status_code == 200
    assert {d["numeroControlePNCP"] for d in r.json()["data"]} == expected


def test_contratos_have_no_uf_filter_and_pncp_field_names(
    make_sim: MakeSim, world_file: Path
) -> None:
    sim = make_sim()
    window = {"dataInicial": "20260101", "dataFinal": "20260131", "pagina": 1}
    r = get(sim, f"{CONSULTA}/contratos", **window, uf="GO", tamanhoPagina=500)
    assert r.status_code == 200, r.text
    body = r.json()
    (n,) = q(world_file, "SELECT count(*) FROM contratos")[0]
    assert body["totalRegistros"] == n  # 'uf' ignored: every state's contracts come back
    ufs = {d["unidadeOrgao"]["ufSigla"] for d in body["data"]}
    assert ufs == {"GO", "MT"}
    rec = next(d for d in body["data"] if d["numeroControlePncpCompra"])
    assert "numeroControlePNCPCompra" not in rec  # the contratos casing
    assert set(rec["tipoContrato"]) == {"id", "nome"}
    assert set(rec["orgaoEntidade"]) >= {"cnpj", "razaoSocial"}
    for key in ("dataAssinatura", "dataVigenciaInicio", "dataVigenciaFim"):
        assert DAY.match(rec[key]), (key, rec[key])
    assert TS.match(rec["dataPublicacaoPncp"]) and TS.match(rec["dataAtualizacao"])
    assert any(d["numeroControlePncpCompra"] is None for d in body["data"])  # link missing
    # the cnpjOrgao filter
    cnpj = rec["orgaoEntidade"]["cnpj"]
    r = get(sim, f"{CONSULTA}/contratos", **window, cnpjOrgao=cnpj)
    assert {d["orgaoEntidade"]["cnpj"] for d in r.json()["data"]} == {cnpj}


@pytest.mark.parametrize(
    ("path", "params", "missing"),
    [
        (
            "/contratacoes/publicacao",
            {"dataFinal": "20260112", "codigoModalidadeContratacao": 6, "pagina": 1},
            "dataInicial",
        ),
        (
            "/contratacoes/publicacao",
            {"dataInicial": "20260112", "codigoModalidadeContratacao": 6, "pagina": 1},
            "dataFinal",
        ),
        (
            "/contratacoes/atualizacao",
            {"dataInicial": "20260112", "dataFinal": "20260112", "pagina": 1},
            "codigoModalidadeContratacao",
        ),
        (
            "/contratacoes/publicacao",
            {"dataInicial": "20260112", "dataFinal": "20260112", "codigoModalidadeContratacao": 6},
            "pagina",
        ),
        ("/contratos", {"dataInicial": "20260112", "dataFinal": "20260112"}, "pagina"),
    ],
)
def test_missing_required_parameter_is_400_with_pncp_message(
    make_sim: MakeSim, path: str, params: dict[str, Any], missing: str
) -> None:
    r = get(make_sim(), CONSULTA + path, **params)
    assert r.status_code == 400
    assert r.json()["message"] == f"Required parameter '{missing}' is not present."


def test_page_size_limits_and_the_365_day_window(make_sim: MakeSim) -> None:
    sim = make_sim()
    base = {**WEEK, "codigoModalidadeContratacao": 6, "pagina": 1}
    for size, status in ((9, 400), (10, 200), (50, 200), (51, 400), (100, 400)):
        r = get(sim, f"{CONSULTA}/contratacoes/publicacao", **base, tamanhoPagina=size)
        assert r.status_code == status, (size, r.text)
        if status == 400:
            assert r.json()["message"] == "Tamanho de página inválido"
    kbase = {"dataInicial": "20260101", "dataFinal": "20260131", "pagina": 1}
    for size, status in ((9, 400), (500, 200), (501, 400)):
        r = get(sim, f"{CONSULTA}/contratos", **kbase, tamanhoPagina=size)
        assert r.status_code == status, (size, r.text)
    # 365 days is accepted, 366 is not
    ok = get(
        sim,
        f"{CONSULTA}/contratacoes/publicacao",
        dataInicial="20250116",
        dataFinal="20260116",
        codigoModalidadeContratacao=6,
        pagina=1,
    )
    assert ok.status_code == 200
    r = get(
        sim,
        f"{CONSULTA}/contratacoes/publicacao",
        dataInicial="20250115",
        dataFinal="20260116",
        codigoModalidadeContratacao=6,
        pagina=1,
    )
    assert r.status_code == 422
    assert r.json()["message"] == "Período inicial e final maior que 365 dias"
    r = get(sim, f"{CONSULTA}/contratos", dataInicial="20240101", dataFinal="20260101", pagina=1)
    assert r.status_code == 422
    r = get(
        sim,
        f"{CONSULTA}/contratacoes/publicacao",
        dataInicial="2026-01-12",
        dataFinal="20260112",
        codigoModalidadeContratacao=6,
        pagina=1,
    )
    assert r.status_code == 400 and "dataInicial" in r.json()["message"]


# --------------------------------------------------------------------------- detail calls


def test_items_default_to_10_per_page_and_page_up_to_500(
    make_sim: MakeSim, world_file: Path
) -> None:
    sim = make_sim()
    cnpj, ano, seq, n = big_compra(world_file)
    assert n == 1234
    base = f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens"
    r = get(sim, base)
    assert r.status_code == 200
    assert isinstance(r.json(), list) and len(r.json()) == 10  # silent truncation
    assert [i["numeroItem"] for i in r.json()] == list(range(1, 11))
    sizes = [len(get(sim, base, pagina=p, tamanhoPagina=500).json()) for p in (1, 2, 3, 4)]
    assert sizes == [500, 500, 234, 0]
    assert get(sim, base, tamanhoPagina=501).status_code == 400
    r = get(sim, base + "/quantidade")
    assert r.status_code == 200 and r.json() == 1234 and r.text.strip() == "1234"
    assert get(sim, f"{PNCP}/orgaos/{cnpj}/compras/{ano}/99999/itens").status_code == 404


def test_items_never_serve_the_hidden_class(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    cnpj, ano, seq, _n = big_compra(world_file)
    r = get(sim, f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens", tamanhoPagina=500)
    text = r.text
    assert "classe" not in text.lower()
    item = r.json()[0]
    assert item["materialOuServico"] in ("M", "S")
    assert item["materialOuServicoNome"] in ("Material", "Serviço")
    assert item["catalogo"] is None or set(item["catalogo"]) == {"id", "nome"}
    with_catalog = [i for i in r.json() if i["catalogo"] and i["catalogo"]["id"] == 1]
    assert with_catalog and all(i["catalogoCodigoItem"] for i in with_catalog)
    assert isinstance(item["temResultado"], bool)


def test_results_and_termos_are_bare_arrays(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim()
    (row,) = q(
        world_file,
        "SELECT c.cnpj, c.ano_compra, c.sequencial_compra, r.numero_item, count(*) FROM resultados r"
        " JOIN contratacoes c USING (numero_controle_pncp) GROUP BY ALL ORDER BY 5 DESC, 1, 2, 3, 4"
        " LIMIT 1",
    )
    cnpj, ano, seq, item, n = row
    r = get(sim, f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens/{item}/resultados")
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body, list) and len(body) == n
    assert body[0]["numeroControlePNCPCompra"].startswith(cnpj)
    assert DAY.match(body[0]["dataResultado"])
    (krow,) = q(
        world_file,
        "SELECT k.cnpj, k.ano_contrato, k.sequencial_contrato, count(*) FROM termos t"
        " JOIN contratos k USING (numero_controle_pncp) GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3 LIMIT 1",
    )
    r = get(sim, f"{PNCP}/orgaos/{krow[0]}/contratos/{krow[1]}/{krow[2]}/termos")
    assert r.status_code == 200
    termos = r.json()
    assert isinstance(termos, list) and len(termos) == krow[3]
    assert termos[0]["tipoTermoContratoId"] == 2 and termos[0]["tipoTermoContratoNome"]
    assert {"qualificacaoAcrescimoSupressao", "valorAcrescido", "prazoAditadoDias"} <= set(
        termos[0]
    )
    amparos = get(sim, f"{PNCP}/amparos-legais").json()
    assert isinstance(amparos, list)
    names = {a["id"]: a["nome"] for a in amparos}
    assert names[18] == "Lei 14.133/2021, Art. 75, I"
    assert names[19] == "Lei 14.133/2021, Art. 75, II"
    assert names[38] == "Lei 14.133/2021, Art. 75, VIII"
    assert names[1] == "Lei 14.133/2021, Art. 28, I"
    assert "Art. 74" in names[6] and "Art. 74" in names[17] and "Art. 74" in names[50]


# --------------------------------------------------------------------------- faults


def test_pacing_refuses_a_call_too_close_to_the_previous_one(make_sim: MakeSim) -> None:
    sim = make_sim(min_interval=0.3, html_429=0.0)
    url = f"{PNCP}/amparos-legais"
    assert get(sim, url).status_code == 200
    r = get(sim, url)
    assert r.status_code == 429
    assert "Retry-After" not in r.headers
    assert r.json()["status"] == 429
    time.sleep(0.35)
    assert get(sim, url).status_code == 200
    assert sim.stats()["faults"] == {"pacing": 1}


def test_429_html_body_and_determinism_from_the_seed(make_sim: MakeSim) -> None:
    sim = make_sim(rate_429=1.0, html_429=1.0)
    r = get(sim, f"{PNCP}/amparos-legais")
    assert r.status_code == 429 and r.text.startswith("<html>")
    assert "Retry-After" not in r.headers

    def statuses(seed: int) -> list[int]:
        s = make_sim(seed=seed, rate_429=0.5)
        return [get(s, f"{PNCP}/modalidades").status_code for _ in range(30)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 429}
    assert first != statuses(8)


def test_outage_by_calls_and_by_time(make_sim: MakeSim) -> None:
    sim = make_sim(outage_after=1, outage_calls=3)
    got = [get(sim, f"{PNCP}/modalidades").status_code for _ in range(5)]
    assert got[0] == 200 and got[4] == 200
    assert all(s in (503, 504) for s in got[1:4])
    timed = make_sim(outage_seconds=0.3)
    r = get(timed, f"{PNCP}/modalidades")
    assert r.status_code in (503, 504) and "text/html" in r.headers["Content-Type"]
    time.sleep(0.35)
    assert get(timed, f"{PNCP}/modalidades").status_code == 200


def test_short_pages_keep_the_count_but_lose_rows(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim(short_pages=1.0)
    r = get(
        sim, f"{CONSULTA}/contratacoes/publicacao", **WEEK, codigoModalidadeContratacao=6, pagina=1
    )
    body = r.json()
    assert r.status_code == 200
    assert len(body["data"]) < min(50, body["totalRegistros"])
    cnpj, ano, seq, _n = big_compra(world_file)
    items = get(sim, f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens", tamanhoPagina=500).json()
    assert len(items) < 500
    assert sim.stats()["faults"]["short_page"] == 2


def test_malformed_json_and_deep_pages(make_sim: MakeSim, world_file: Path) -> None:
    sim = make_sim(malformed=1.0)
    cnpj, ano, seq, _n = big_compra(world_file)
    for path in (
        f"{PNCP}/amparos-legais",
        f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens/quantidade",
    ):
        r = get(sim, path)
        assert r.status_code == 200
        with pytest.raises(ValueError):
            json.loads(r.content)
    deep = make_sim(deep_page=1)
    base = {**WEEK, "codigoModalidadeContratacao": 6, "tamanhoPagina": 10}
    assert get(deep, f"{CONSULTA}/contratacoes/publicacao", **base, pagina=1).status_code == 200
    assert get(deep, f"{CONSULTA}/contratacoes/publicacao", **base, pagina=2).status_code == 500


def test_stats_route_and_unknown_paths(make_sim: MakeSim) -> None:
    sim = make_sim()
    assert get(sim, "/api/pncp/v1/nada").status_code == 404
    stats = requests.get(sim.url + "/_sim/stats", timeout=TIMEOUT).json()
    assert stats["requests"] == 1 and stats["by_status"] == {"404": 1}


def test_world_is_read_only_and_must_exist(world_file: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no world file"):
        PncpSimulator(tmp_path / "missing.duckdb")
    with PncpSimulator(world_file) as sim:
        assert get(sim, f"{PNCP}/modalidades").status_code == 200
        # a second reader at the same time is fine (read-only)
        assert q(world_file, "SELECT count(*) FROM orgaos")[0][0] == 3
    with pytest.raises(ValueError, match="probability"):
        Faults(rate_429=2)


# --------------------------------------------------------------------------- CLI


def test_cli_adds_simulate_pncp_with_fault_flags(world_file: Path) -> None:
    parser = argparse.ArgumentParser(prog="painel")
    sub = parser.add_subparsers(dest="command")
    simulate = sub.add_parser("simulate").add_subparsers(dest="api")

    class Groups:
        pass

    groups = Groups()
    groups.simulate = simulate  # type: ignore[attr-defined]
    sim_cli.add(groups)
    args = parser.parse_args(
        [
            "simulate",
            "pncp",
            "--world",
            str(world_file),
            "--port",
            "0",
            "--seed",
            "3",
            "--min-interval",
            "1.5",
            "--rate-429",
            "0.1",
            "--short-pages",
            "0.2",
            "--outage-calls",
            "4",
            "--malformed",
            "0.05",
            "--deep-page",
            "20",
        ]
    )
    assert args.fn is not None
    sim = sim_cli.from_args(args)
    try:
        assert sim.seed == 3
        assert sim.faults == Faults(
            min_interval=1.5,
            rate_429=0.1,
            short_pages=0.2,
            outage_calls=4,
            malformed=0.05,
            deep_page=20,
        )
    finally:
        sim.close()


def test_painel_simulate_pncp_serves_until_interrupted(world_file: Path) -> None:
    painel = str(Path(sys.executable).parent / "painel")
    argv = [painel, "simulate", "pncp", "--world", str(world_file), "--port", "0"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "the simulator printed nothing"
        line = proc.stdout.readline()
        m = re.search(r"PNCP simulator at (http://127\.0\.0\.1:\d+)", line)
        assert m, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        r = requests.get(m.group(1) + f"{PNCP}/amparos-legais", timeout=TIMEOUT)
        assert r.status_code == 200 and isinstance(r.json(), list)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
