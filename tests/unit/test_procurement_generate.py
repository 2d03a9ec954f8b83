"""`painel generate procurement`: the synthetic PNCP world, its realism and its ground truth."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from painel.procurement import world as contract
from painel.procurement.generate import GenerateError, generate, table_counts
from painel.procurement.generate.ids import cnpj_ok
from painel.procurement.generate.params import LIMITES
from painel.procurement.workdays import WorkCalendar

SCALE = 0.006
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("w") / "world.duckdb", scale=SCALE, seed=7)


@pytest.fixture(scope="module")
def con(world: Path):
    c = duckdb.connect(str(world), read_only=True)
    yield c
    c.close()


def q(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def table_hashes(path: Path) -> dict[str, str]:
    c = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: c.execute(
                f"SELECT md5(string_agg(x::VARCHAR, '\n' ORDER BY x::VARCHAR)) FROM {t} AS x"
            ).fetchall()[0][0]
            for t in contract.DDL
        }
    finally:
        c.close()


def cpf_ok(s: str) -> bool:
    d = [int(x) for x in s]
    for n in (9, 10):
        r = sum(a * b for a, b in zip(d[:n], range(n + 1, 1, -1), strict=False)) % 11
        if d[n] != (0 if r < 2 else 11 - r):
            return False
    return True


def gab(con: duckdb.DuckDBPyConnection, rule: str, planted: bool) -> pd.DataFrame:
    g = q(con, f"SELECT * FROM gabarito WHERE rule = '{rule}' AND planted = {planted}")
    return g[~g["params"].str.contains("natural")]


def test_deterministic_and_a_new_seed_differs(world: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again.duckdb", scale=SCALE, seed=7)
    other = generate(tmp_path / "other.duckdb", scale=SCALE, seed=8)
    h = table_hashes(world)
    assert table_hashes(again) == h
    assert table_hashes(other)["itens"] != h["itens"]
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left


def test_volumes_scale_linearly(world: Path, tmp_path: Path) -> None:
    small = table_counts(world)
    big = table_counts(generate(tmp_path / "big.duckdb", scale=SCALE * 3, seed=7))
    years = (TODAY - date(2023, 1, 1)).days / 365.25
    assert small["contratacoes"] == pytest.approx(
        100_000 * SCALE * years, rel=0.1
    )  # + planted purchases
    assert 8 <= small["itens"] / small["contratacoes"] <= 12
    for t in ("contratacoes", "itens", "resultados", "contratos"):
        assert big[t] / small[t] == pytest.approx(3, rel=0.15), t
    assert small["orgaos"] >= 8 and small["classes"] >= 40
    assert all(n > 0 for n in small.values())


def test_tables_follow_the_contract(con: duckdb.DuckDBPyConnection) -> None:
    tables = set(q(con, "SELECT table_name FROM information_schema.tables")["table_name"])
    assert tables == set(contract.DDL)
    meta = dict(q(con, "SELECT name, value FROM world_meta").itertuples(index=False))
    assert meta == {
        "scale": f"{SCALE:g}",
        "seed": "7",
        "first_year": "2023",
        "last_year": "2026",
        "today": "2026-11-30",
    }
    # primary keys are enforced by DuckDB: a duplicate insert fails
    with pytest.raises(duckdb.Error):
        con.execute("INSERT INTO orgaos SELECT * FROM orgaos LIMIT 1")
    # every item, result, contract and termo hangs on its parent
    assert (
        q(con, "SELECT count(*) n FROM itens ANTI JOIN contratacoes USING (numero_controle_pncp)")[
            "n"
        ][0]
        == 0
    )
    assert (
        q(
            con,
            "SELECT count(*) n FROM resultados r ANTI JOIN itens i USING (numero_controle_pncp, numero_item)",
        )["n"][0]
        == 0
    )
    assert (
        q(
            con,
            "SELECT count(*) n FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item) WHERE NOT i.tem_resultado",
        )["n"][0]
        == 0
    )
    assert (
        q(con, "SELECT count(*) n FROM termos ANTI JOIN contratos USING (numero_controle_pncp)")[
            "n"
        ][0]
        == 0
    )
    assert (
        q(
            con,
            "SELECT count(*) n FROM contratacoes ANTI JOIN unidades USING (cnpj, codigo_unidade)",
        )["n"][0]
        == 0
    )
    assert (
        q(
            con,
            "SELECT count(*) n FROM itens WHERE catalogo_id = 1 AND catalogo_codigo_item NOT IN (SELECT codigo_item FROM catalogo)",
        )["n"][0]
        == 0
    )


def test_identifiers_are_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert all(cnpj_ok(c) for c in q(con, "SELECT cnpj FROM orgaos")["cnpj"])
    f = q(con, "SELECT ni, tipo_pessoa, porte_id FROM fornecedores")
    pj = f[f["tipo_pessoa"] == "PJ"]
    pf = f[f["tipo_pessoa"] == "PF"]
    assert len(pf) > 0 and (pf["porte_id"] == 4).all()
    assert all(cnpj_ok(c) for c in pj["ni"])
    assert all(len(c) == 11 and cpf_ok(c) for c in pf["ni"])
    assert not cnpj_ok("11222333000182")  # the check is not vacuous (…81 is right)
    ncp = q(
        con, "SELECT numero_controle_pncp, cnpj, ano_compra, sequencial_compra FROM contratacoes"
    )
    assert ncp["numero_controle_pncp"].str.fullmatch(r"\d{14}-1-\d{6}/\d{4}").all()
    assert (
        ncp["numero_controle_pncp"]
        == ncp["cnpj"]
        + "-1-"
        + ncp["sequencial_compra"].astype(str).str.zfill(6)
        + "/"
        + ncp["ano_compra"].astype(str)
    ).all()
    k = q(con, "SELECT numero_controle_pncp, numero_controle_pncp_compra FROM contratos")
    assert k["numero_controle_pncp"].str.fullmatch(r"\d{14}-2-\d{6}/\d{4}").all()
    assert 0 < k["numero_controle_pncp_compra"].isna().mean() < 0.1
    u = q(con, "SELECT codigo_ibge, uf_sigla, municipio_nome FROM unidades")
    assert u.loc[u["uf_sigla"] == "GO", "codigo_ibge"].str.fullmatch(r"52\d{5}").all()
    assert "5208707" in set(u["codigo_ibge"])


def test_nothing_happens_after_today(con: duckdb.DuckDBPyConnection) -> None:
    end = "TIMESTAMP '2026-11-30 23:59:59'"
    checks = {
        "contratacoes": [
            "data_publicacao_pncp",
            "data_inclusao",
            "data_atualizacao",
            "data_atualizacao_global",
        ],
        "itens": ["data_inclusao", "data_atualizacao"],
        "resultados": ["data_resultado", "data_inclusao", "data_atualizacao"],
        "contratos": ["data_assinatura", "data_publicacao_pncp", "data_atualizacao"],
        "termos": ["data_assinatura", "data_publicacao_pncp"],
    }
    for t, cols in checks.items():
        for c in cols:
            assert q(con, f"SELECT count(*) n FROM {t} WHERE {c} > {end}")["n"][0] == 0, (t, c)
    c = q(
        con,
        "SELECT count(*) n FROM contratacoes WHERE data_atualizacao < data_inclusao OR data_atualizacao_global < data_atualizacao",
    )
    assert c["n"][0] == 0
    assert (
        q(
            con,
            "SELECT count(*) n FROM contratacoes WHERE data_atualizacao_global > data_atualizacao",
        )["n"][0]
        > 0
    )
    assert q(con, "SELECT min(data_publicacao_pncp) m FROM contratacoes")["m"][0].year == 2023


def test_realistic_mixes(con: duckdb.DuckDBPyConnection) -> None:
    m = q(con, "SELECT modalidade_id, amparo_legal_codigo, valor_total_estimado FROM contratacoes")
    share = m["modalidade_id"].value_counts(normalize=True)
    assert share[8] > 0.45 and share[8] == share.max()
    assert m.loc[m["modalidade_id"] == 9, "amparo_legal_codigo"].between(6, 17).all()
    assert m.loc[m["modalidade_id"].isin([4, 5, 6, 7]), "amparo_legal_codigo"].between(1, 5).all()
    assert (m["valor_total_estimado"] == 0).any()  # secret budgets
    units = set(q(con, "SELECT DISTINCT unidade_medida FROM itens")["unidade_medida"])
    assert {"UN", "Unidade", "UNIDADE", "CX C/ 100 UN"} <= units
    k = q(con, "SELECT tipo_contrato_id FROM contratos")
    assert (k["tipo_contrato_id"] == 7).mean() == pytest.approx(0.38, abs=0.08)
    cat = q(
        con,
        "SELECT year(data_inclusao) y, avg((coalesce(catalogo_id, 0) = 1)::INT) s FROM itens GROUP BY 1",
    ).set_index("y")["s"]
    assert cat[2025] == pytest.approx(0.6, abs=0.05) and cat[2023] < cat[2025]


def test_uf_filter_population(con: duckdb.DuckDBPyConnection) -> None:
    c = q(con, "SELECT u.uf_sigla FROM contratacoes c JOIN unidades u USING (cnpj, codigo_unidade)")
    df = (c["uf_sigla"] == "DF").mean()
    assert 0.005 < df < 0.05
    # nothing of theirs is in the gabarito
    g = q(con, "SELECT key FROM gabarito")["key"]
    df_cnpjs = set(q(con, "SELECT DISTINCT cnpj FROM unidades WHERE uf_sigla = 'DF'")["cnpj"])
    assert not any(k[:14] in df_cnpjs for k in g)


def test_every_rule_is_planted_with_decoys(con: duckdb.DuckDBPyConnection) -> None:
    for rule in contract.KEYS:
        assert len(gab(con, rule, True)) >= 5, rule
    for rule in ("R1", "R2", "R3", "R4", "R5", "R9"):
        assert len(gab(con, rule, False)) >= 3, rule
    k = q(con, "SELECT rule, key FROM gabarito")
    assert k[k["rule"] == "R1"]["key"].str.fullmatch(r"\d{14}\|\d+\|\d{4}\|\d+\|(I|II)").all()
    assert k[k["rule"] == "R6"]["key"].str.fullmatch(r"\d{14}-1-\d{6}/\d{4}\|\d+").all()
    assert k[k["rule"] == "R8"]["key"].str.fullmatch(r"\d{14}\|\d{4}\|\d+").all()
    for p in q(con, "SELECT params FROM gabarito")["params"]:
        json.loads(p)


def _dispensas(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    d = q(
        con,
        """SELECT c.numero_controle_pncp, c.cnpj, c.codigo_unidade, year(c.data_publicacao_pncp) ano,
                  c.amparo_legal_codigo amparo, c.valor_total_estimado est, c.valor_total_homologado hom, o.consorcio
           FROM contratacoes c JOIN orgaos o USING (cnpj) WHERE c.modalidade_id = 8""",
    )
    lim = np.array(
        [LIMITES[y][0 if a == 18 else 1] for y, a in zip(d["ano"], d["amparo"], strict=True)]
    )
    d["lim"] = np.where(d["consorcio"], 2 * lim, lim)
    return d.set_index("numero_controle_pncp")


def test_r2_cases_against_the_limits(con: duckdb.DuckDBPyConnection) -> None:
    d = _dispensas(con)
    p = d.loc[gab(con, "R2", True)["key"]]
    vmax = np.maximum(p["est"], p["hom"].fillna(0))
    assert (vmax >= p["lim"]).all()
    assert (vmax == p["lim"]).any()  # some exactly at the limit
    dec = d.loc[gab(con, "R2", False)["key"]]
    assert (np.maximum(dec["est"], dec["hom"].fillna(0)) < dec["lim"]).all()
    assert (dec["est"] == (dec["lim"] - 0.01).round(2)).any()
    # background dispensas de valor stay far below the limit
    bg = d[d["amparo"].isin([18, 19])].drop(index=list(p.index) + list(dec.index), errors="ignore")
    assert (bg["est"] < bg["lim"]).all()


def test_r1_groups_sum_over_the_limit(con: duckdb.DuckDBPyConnection) -> None:
    d = _dispensas(con)
    d = d[d["amparo"].isin([18, 19])].copy()
    d["v"] = d["hom"].fillna(d["est"])
    cls = q(
        con,
        "SELECT numero_controle_pncp, codigo_classe FROM itens QUALIFY row_number() OVER (PARTITION BY numero_controle_pncp ORDER BY valor_total DESC, numero_item) = 1",
    )
    d = d.join(cls.set_index("numero_controle_pncp"))
    d["key"] = (
        d["cnpj"]
        + "|"
        + d["codigo_unidade"]
        + "|"
        + d["ano"].astype(str)
        + "|"
        + d["codigo_classe"]
        + "|"
        + np.where(d["amparo"] == 18, "I", "II")
    )
    g = d.groupby("key").agg(n=("v", "size"), s=("v", "sum"), mx=("v", "max"), lim=("lim", "first"))
    p = g.loc[gab(con, "R1", True)["key"]]
    assert ((p["n"] >= 2) & (p["mx"] < p["lim"]) & (p["s"] >= p["lim"])).all()
    dec = g.loc[gab(con, "R1", False)["key"]]
    assert ((dec["n"] >= 2) & (dec["s"] < dec["lim"])).all()
    splits = {json.loads(x)["split"] for x in gab(con, "R1", False)["params"]}
    assert splits == {"classes", "units", "year"}


def test_r3_windows_in_working_days(con: duckdb.DuckDBPyConnection) -> None:
    cal = WorkCalendar(2022, 2027)
    c = q(
        con,
        "SELECT numero_controle_pncp k, data_publicacao_pncp::DATE p, data_encerramento_proposta::DATE e FROM contratacoes",
    ).set_index("k")
    for planted in (True, False):
        g = gab(con, "R3", planted)
        for key, prm in zip(g["key"], g["params"], strict=True):
            pr = json.loads(prm)
            du = cal.count(c.at[key, "p"], c.at[key, "e"])
            assert du == pr["du"]
            assert (du < pr["minimo"]) if planted else (du == pr["minimo"])
    dec = [json.loads(x) for x in gab(con, "R3", False)["params"]]
    assert any(x["holidays_in_window"] > 0 for x in dec)


def test_r5_and_r4_cases(con: duckdb.DuckDBPyConnection) -> None:
    cal = WorkCalendar(2022, 2027)
    k = q(
        con,
        "SELECT numero_controle_pncp k, data_assinatura a, data_publicacao_pncp::DATE p, data_vigencia_inicio i, data_vigencia_fim f FROM contratos",
    ).set_index("k")
    for planted in (True, False):
        g = gab(con, "R5", planted)
        for key, prm in zip(g["key"], g["params"], strict=True):
            pr = json.loads(prm)
            du = cal.count(k.at[key, "a"], k.at[key, "p"])
            assert (du > pr["limite"]) if planted else (du == pr["limite"])
            assert pr["limite"] in (10, 20)
    cases = {
        json.loads(x)["case"]: key
        for key, x in zip(*gab(con, "R4", False)[["key", "params"]].T.values, strict=True)
    }
    assert {"vigencia_365", "vigencia_364", "recontratacao_after_365"} <= set(cases)
    assert (k.at[cases["vigencia_365"], "f"] - k.at[cases["vigencia_365"], "i"]).days == 365
    planted = [json.loads(x)["case"] for x in gab(con, "R4", True)["params"]]
    assert {"vigencia_over_365", "prorrogada", "recontratacao"} <= set(planted)


def test_r9_ratios(con: duckdb.DuckDBPyConnection) -> None:
    t = q(
        con,
        """SELECT k.numero_controle_pncp key, k.valor_inicial vi, k.valor_global vg, k.objeto_contrato o,
                  coalesce(sum(t.valor_acrescido) FILTER (WHERE t.tipo_termo_contrato_id = 2 AND t.qualificacao_acrescimo_supressao), 0) acr
           FROM contratos k LEFT JOIN termos t USING (numero_controle_pncp) GROUP BY ALL""",
    ).set_index("key")
    t["lim"] = np.where(t["o"].str.startswith("Reforma"), 0.5, 0.25)
    p = t.loc[gab(con, "R9", True)["key"]]
    assert (p["acr"] / p["vi"] > p["lim"]).all()
    dec = t.loc[gab(con, "R9", False)["key"]]
    assert (dec["acr"] / dec["vi"] <= dec["lim"]).all()
    assert (dec["acr"] / dec["vi"] == 0.25).any()
    assert (dec["vg"] / dec["vi"] > 1.25).any()  # inflated by reajustes / prorrogações


def test_r6_r7_r8_planted(con: duckdb.DuckDBPyConnection) -> None:
    r = q(
        con,
        """SELECT r.numero_controle_pncp || '|' || r.numero_item key, r.valor_unitario_homologado ph,
                  i.valor_unitario_estimado pe, i.unidade_medida u
           FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item)""",
    ).set_index("key")
    r7 = r.loc[gab(con, "R7", True)["key"]]
    assert (r7["ph"] >= 0.98 * r7["pe"]).all()
    assert (r.drop(index=r7.index)["ph"] < 0.99 * r.drop(index=r7.index)["pe"]).mean() > 0.8
    d6 = r.loc[gab(con, "R6", False)["key"]]
    assert d6["u"].isin(["CX C/ 100 UN", "PCT 10 UN"]).all()
    assert all(1.6 <= json.loads(x)["factor"] <= 5 for x in gab(con, "R6", True)["params"])
    for key, prm in zip(*gab(con, "R8", True)[["key", "params"]].T.values, strict=True):
        cnpj, ano, cls = key.split("|")
        s = q(
            con,
            f"""SELECT r.ni_fornecedor, sum(r.valor_total_homologado) v FROM resultados r
                JOIN itens i USING (numero_controle_pncp, numero_item)
                JOIN contratacoes c USING (numero_controle_pncp)
                WHERE c.cnpj = '{cnpj}' AND year(c.data_publicacao_pncp) = {ano} AND i.codigo_classe = '{cls}'
                GROUP BY 1""",
        )
        assert s["v"].max() / s["v"].sum() > 0.8 and json.loads(prm)["results"] >= 5


def test_bad_arguments(tmp_path: Path) -> None:
    for kw, word in (
        ({"scale": 0}, "scale"),
        ({"scale": 5}, "scale"),
        ({"scale": 0.01, "first_year": 2026, "last_year": 2025}, "first_year"),
        ({"scale": 0.01, "first_year": 2019}, "first_year"),
        ({"scale": 0.01, "today": date(2022, 5, 1)}, "today"),
    ):
        with pytest.raises(GenerateError, match=word):
            generate(tmp_path / "x.duckdb", **kw)  # type: ignore[arg-type]
    assert not (tmp_path / "x.duckdb").exists()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from painel.cli import main

    out = tmp_path / "cli.duckdb"
    assert (
        main(["generate", "procurement", "--scale", "0.004", "--seed", "3", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert str(out) in text
    assert re.search(r"contratacoes\s+[\d.]+", text) and re.search(r"gabarito\s+[\d.]+", text)
    assert main(["generate", "procurement", "--scale", "0"]) == 2
    err = capsys.readouterr().err
    assert "--scale must be > 0" in err
    assert main(["generate", "procurement", "--scale", "x"]) == 2
    assert "--scale must be a number" in capsys.readouterr().err


def _vague_texts() -> set[str]:
    from painel.procurement.generate.vocab import VAGUE

    return {v.casefold() for v in VAGUE}


def test_unit_prices_stay_near_the_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    """Planted values are reached through quantities: no estimated or homologated unit price
    (per base unit) is far from its catalogue item's price, except R6's planted ones."""
    from painel.procurement.generate.vocab import UNITS

    mult = {t: m for opts in UNITS.values() for t, m, _, _ in opts}
    it = q(
        con,
        """SELECT i.numero_controle_pncp || '|' || i.numero_item key, i.unidade_medida u,
                  i.valor_unitario_estimado pe, r.valor_unitario_homologado ph, k.preco_base base
           FROM itens i JOIN catalogo k ON k.codigo_item = i.catalogo_codigo_item
           LEFT JOIN resultados r USING (numero_controle_pncp, numero_item)
           WHERE i.catalogo_id = 1 AND i.valor_unitario_estimado > 0""",
    ).set_index("key")
    r6 = set(gab(con, "R6", True)["key"])
    bg = it.drop(index=list(r6 & set(it.index)))
    m = bg["u"].map(mult).astype(float)
    est = bg["pe"] / m / bg["base"]
    hom = (bg["ph"] / m / bg["base"]).dropna()
    assert est.max() < 20 and hom.max() < 20
    assert est.min() > 1 / 20 and hom.min() > 1 / 20
    assert est.quantile(0.999) < 2.5  # the usual noise, inflation and no more
    # the planted dispensas (R1, R2) among them: sized by quantity at ordinary prices
    keys = set(gab(con, "R2", True)["key"]) | set(gab(con, "R2", False)["key"])
    pl = est[est.index.str.split("|").str[0].isin(keys)]
    assert len(pl) > 0 and pl.max() < 2.5


def test_vague_descriptions_mostly_uncatalogued(con: duckdb.DuckDBPyConnection) -> None:
    it = q(con, "SELECT descricao d, coalesce(catalogo_id, 0) = 1 cat FROM itens")
    vague = it["d"].str.casefold().isin(_vague_texts())
    assert 0.04 < vague.mean() < 0.11
    assert it.loc[vague, "cat"].mean() < 0.25 * it.loc[~vague, "cat"].mean()
    assert it.loc[vague, "cat"].any()  # a few catalogued ones: noise in the training labels


def test_descriptions_are_confusable(con: duckdb.DuckDBPyConnection) -> None:
    """Related classes share words, some descriptions name no product, and the same text
    occurs under different classes (what makes the classifier's job real)."""
    from painel.procurement.ml import normalise

    it = q(
        con,
        "SELECT descricao d, codigo_classe c FROM itens WHERE catalogo_id = 1",
    )
    it = it[~it["d"].str.casefold().isin(_vague_texts())]
    it["n"] = [normalise(x) for x in it["d"]]
    per_text = it.groupby("n")["c"].nunique()
    shared = it["n"].map(per_text) > 1
    assert 0.05 < shared.mean() < 0.3
    first = it["n"].str.split().str[0]
    per_word = it.groupby(first)["c"].nunique()
    assert {"papel", "oleo", "manutencao"} <= set(per_word[per_word > 1].index)
    brands = it["d"].str.contains(r"(?i)\b(?:marca|ref\.) \w")
    assert brands.mean() > 0.05


def test_vocabulary_has_400_classes_at_scale_1() -> None:
    from painel.procurement.generate import vocab
    from painel.procurement.generate.world import Ctx, build_entities

    rows = vocab.classes_round_robin()
    assert len(rows) >= 400
    assert len({r.noun for r in rows}) == len(rows)
    E = build_entities(Ctx(1.0, 1, 2023, 2026, TODAY))
    assert len(E.classes) == 400
    assert E.classes["codigo_classe"].is_unique
    kinds = set(E.classes["material_ou_servico"])
    assert kinds == {"M", "S"}


def test_background_suppliers_are_diverse(con: duckdb.DuckDBPyConnection) -> None:
    """An organ buys a class from several suppliers: (organ, year, class) groups of 10+
    results rarely go (almost) all to one supplier unless R8 planted it."""
    g = q(
        con,
        """WITH f AS (
               SELECT c.cnpj, year(c.data_publicacao_pncp) ano, i.codigo_classe cls,
                      r.ni_fornecedor, sum(r.valor_total_homologado) v, count(*) n
               FROM resultados r JOIN itens i USING (numero_controle_pncp, numero_item)
               JOIN contratacoes c USING (numero_controle_pncp)
               JOIN unidades u USING (cnpj, codigo_unidade) WHERE u.uf_sigla = 'GO'
               GROUP BY ALL)
           SELECT cnpj || '|' || ano || '|' || cls key, sum(n) n, max(v) / sum(v) top,
                  count(*) suppliers
           FROM f GROUP BY ALL HAVING sum(n) >= 10""",
    ).set_index("key")
    g = g.drop(index=list(set(gab(con, "R8", True)["key"]) & set(g.index)))
    assert len(g) > 50
    assert (g["suppliers"] == 1).mean() < 0.03
    assert (g["top"] > 0.8).mean() < 0.08
    assert g["suppliers"].median() >= 3
