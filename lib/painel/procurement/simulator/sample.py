"""A tiny deterministic world for the simulator's tests and demos (not the generator).

:func:`write_sample_world` writes a world DuckDB file (the tables of
:data:`painel.procurement.world.DDL`) with a few organs of Goiás and one of Mato Grosso (whose
records a ``uf=GO`` crawl must drop), a week of contratações of modalities 6, 8 and 9, their
items (one purchase with ``big_items`` items, to exercise item paging), results, contracts
(one without its purchase link) and amendments. It has no planted irregularities: the real
generator is :mod:`painel.procurement.generate`.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from pathlib import Path

import duckdb

from .. import world

FIRST_DAY = datetime.date(2026, 1, 12)  # a Monday
DAYS = 5


def cnpj_with_digits(base12: str) -> str:
    """A 14-digit CNPJ from its 12-digit base, with valid check digits."""
    digits = [int(c) for c in base12]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits))


ORGAOS = [
    # cnpj, razão social, poder, esfera, consórcio
    (cnpj_with_digits("019099110001"), "SECRETARIA DE ESTADO DA SAUDE DE GOIAS", "E", "E", False),
    (cnpj_with_digits("011353450001"), "MUNICIPIO DE ANAPOLIS", "E", "M", False),
    (
        cnpj_with_digits("037579000001"),
        "SECRETARIA DE ESTADO DE EDUCACAO DE MATO GROSSO",
        "E",
        "E",
        False,
    ),
]
UNIDADES = [
    # organ index, código, nome, IBGE, município, UF
    (0, "950001", "FUNDO ESTADUAL DE SAUDE", "5208707", "Goiânia", "GO"),
    (0, "950002", "HOSPITAL ESTADUAL DE URGENCIAS", "5208707", "Goiânia", "GO"),
    (1, "000001", "PREFEITURA MUNICIPAL DE ANAPOLIS", "5201108", "Anápolis", "GO"),
    (2, "140001", "SEDUC MT", "5103403", "Cuiabá", "MT"),
]
FORNECEDORES = [
    (cnpj_with_digits("112223330001"), "PJ", "DISTRIBUIDORA CENTRO OESTE LTDA", 3),
    (cnpj_with_digits("223334440001"), "PJ", "GOIAS MEDICAMENTOS EIRELI", 1),
    (cnpj_with_digits("334445550001"), "PJ", "CONSTRUTORA PLANALTO SA", 3),
    (cnpj_with_digits("445556660001"), "PJ", "PAPELARIA ALVORADA ME", 2),
    ("12345678909", "PF", "JOAO DA SILVA", 4),
]
CLASSES = [
    ("6505", "Drogas e medicamentos", "M", "II"),
    ("7510", "Material de escritório", "M", "II"),
    ("5410", "Serviços de manutenção predial", "S", "I"),
]
CATALOGO = [
    ("267666", "6505", "DIPIRONA SODICA 500MG", "UN", 0.35),
    ("150010", "7510", "PAPEL A4 75G", "RESMA", 25.0),
    ("24538", "5410", "MANUTENCAO PREDIAL CORRETIVA", "H", 95.0),
]
UNIDADES_MEDIDA = ["UN", "Unidade", "UNIDADE", "CX C/ 100 UN", "KG", "frasco 500ml", "Resma"]


def write_sample_world(path: Path | str, *, seed: int = 1, big_items: int = 1234) -> Path:
    """Write a sample world to ``path`` (replaced if it exists); returns the path."""
    path = Path(path)
    path.unlink(missing_ok=True)
    rng = random.Random(f"pncp-sample-{seed}")
    con = duckdb.connect(str(path))
    try:
        for stmt in world.create_sql():
            con.execute(stmt)
        con.executemany("INSERT INTO orgaos VALUES (?, ?, ?, ?, ?)", ORGAOS)
        con.executemany(
            "INSERT INTO unidades VALUES (?, ?, ?, ?, ?, ?)",
            [(ORGAOS[o][0], *rest) for o, *rest in UNIDADES],
        )
        con.executemany("INSERT INTO fornecedores VALUES (?, ?, ?, ?)", FORNECEDORES)
        con.executemany("INSERT INTO classes VALUES (?, ?, ?, ?)", CLASSES)
        con.executemany("INSERT INTO catalogo VALUES (?, ?, ?, ?, ?)", CATALOGO)
        compras, itens, resultados, contratos, termos = [], [], [], [], []
        seq_by_cnpj: dict[str, int] = {}
        kseq_by_cnpj: dict[str, int] = {}
        for day_index in range(DAYS):
            day = FIRST_DAY + datetime.timedelta(days=day_index)
            for unit_index, (o, codigo, *_rest) in enumerate(UNIDADES):
                cnpj = ORGAOS[o][0]
                for modalidade in (6, 8, 9):
                    big = day_index == 1 and unit_index == 0 and modalidade == 6
                    if rng.random() < 0.35 and not big:
                        continue
                    seq = seq_by_cnpj[cnpj] = seq_by_cnpj.get(cnpj, 0) + 1
                    ncp = f"{cnpj}-1-{seq:06d}/{day.year}"
                    published = datetime.datetime.combine(
                        day,
                        datetime.time(8 + rng.randrange(10), rng.randrange(60), rng.randrange(60)),
                    )
                    updated = published + datetime.timedelta(hours=rng.randrange(0, 60))
                    n_items = 1 + rng.randrange(12)
                    if big:
                        n_items = big_items
                    amparo = {6: 1, 8: rng.choice([18, 19, 38]), 9: rng.choice([6, 7, 50])}[
                        modalidade
                    ]
                    total_est = 0.0
                    total_hom = 0.0
                    any_result = False
                    for n in range(1, n_items + 1):
                        cat = rng.randrange(len(CATALOGO) + 1)
                        codigo_item, classe, desc, _unit, price = CATALOGO[cat % len(CATALOGO)]
                        catalogo_id = None if cat == len(CATALOGO) else rng.choice([1, 1, 2])
                        qty = float(1 + rng.randrange(500))
                        unit_price = round(price * (0.8 + rng.random() * 0.6), 4)
                        total = round(qty * unit_price, 2)
                        total_est += total
                        has_result = rng.random() < (0.02 if big else 0.6)
                        situacao = 2 if has_result else rng.choice([1, 1, 4, 5])
                        itens.append(
                            (
                                ncp,
                                n,
                                "S" if classe == "5410" else "M",
                                f"{desc} - lote {n}",
                                qty,
                                rng.choice(UNIDADES_MEDIDA),
                                unit_price,
                                total,
                                1,
                                situacao,
                                has_result,
                                catalogo_id,
                                codigo_item if catalogo_id == 1 else None,
                                classe,
                                published,
                                updated,
                            )
                        )
                        if has_result:
                            any_result = True
                            for sr in range(1, 1 + (2 if rng.random() < 0.15 else 1)):
                                ni, tipo, nome, porte = rng.choice(FORNECEDORES)
                                hom_price = round(unit_price * (0.85 + rng.random() * 0.14), 4)
                                hom_total = round(hom_price * qty, 2)
                                total_hom += hom_total
                                resultados.append(
                                    (
                                        ncp,
                                        n,
                                        sr,
                                        ni,
                                        tipo,
                                        nome,
                                        porte,
                                        qty,
                                        hom_price,
                                        hom_total,
                                        round(100 * (1 - hom_price / unit_price), 2),
                                        sr if rng.random() < 0.3 else None,
                                        1 if sr == 1 else 2,
                                        datetime.datetime.combine(
                                            day + datetime.timedelta(days=1), datetime.time()
                                        ),
                                        updated,
                                        updated,
                                    )
                                )
                    compras.append(
                        (
                            ncp,
                            cnpj,
                            codigo,
                            day.year,
                            seq,
                            f"{seq:05d}/{day.year}",
                            f"PROC-{cnpj[:4]}-{seq:04d}/{day.year}",
                            modalidade,
                            1 if modalidade == 6 else 2,
                            1 if modalidade == 6 else 5,
                            1,
                            amparo,
                            modalidade == 6 and rng.random() < 0.3,
                            f"Aquisição de materiais e serviços nº {seq}",
                            None if rng.random() < 0.5 else "Informação complementar",
                            0.0 if rng.random() < 0.1 else round(total_est, 2),
                            round(total_hom, 2) if any_result else None,
                            published,
                            published if modalidade == 6 else None,
                            published + datetime.timedelta(days=10) if modalidade == 6 else None,
                            published,
                            published,
                            updated,
                            f"https://compras.example/{seq}",
                        )
                    )
                    if any_result and rng.random() < 0.7:
                        kseq = kseq_by_cnpj[cnpj] = kseq_by_cnpj.get(cnpj, 0) + 1
                        kncp = f"{cnpj}-2-{kseq:06d}/{day.year}"
                        ni, _tipo, nome, _porte = rng.choice(FORNECEDORES)
                        signed = day + datetime.timedelta(days=2)
                        k_published = datetime.datetime.combine(
                            day + datetime.timedelta(days=rng.randrange(2, 4)),
                            datetime.time(9, rng.randrange(60)),
                        )
                        value = round(total_hom, 2)
                        contratos.append(
                            (
                                kncp,
                                None if rng.random() < 0.1 else ncp,
                                cnpj,
                                codigo,
                                day.year,
                                kseq,
                                f"{kseq:03d}/{day.year}",
                                rng.choice([1, 1, 7]),
                                ni,
                                nome,
                                f"Contrato da compra {ncp}",
                                value,
                                value,
                                0.0,
                                signed,
                                signed,
                                signed + datetime.timedelta(days=365),
                                k_published,
                                k_published + datetime.timedelta(hours=rng.randrange(0, 30)),
                                False,
                            )
                        )
                        for ts in range(1, rng.randrange(0, 3) + 1):
                            termos.append(
                                (
                                    kncp,
                                    ts,
                                    2,
                                    True,
                                    ts == 2,
                                    False,
                                    round(value * 0.1, 2),
                                    90 if ts == 2 else 0,
                                    signed + datetime.timedelta(days=30 * ts),
                                    k_published + datetime.timedelta(days=30 * ts),
                                )
                            )
        _insert(con, "contratacoes", compras)
        _insert(con, "itens", itens)
        _insert(con, "resultados", resultados)
        _insert(con, "contratos", contratos)
        _insert(con, "termos", termos)
        meta = {
            "scale": "sample",
            "seed": str(seed),
            "first_year": str(FIRST_DAY.year),
            "last_year": str(FIRST_DAY.year),
            "today": (FIRST_DAY + datetime.timedelta(days=DAYS + 3)).isoformat(),
        }
        con.executemany("INSERT INTO world_meta VALUES (?, ?)", list(meta.items()))
    finally:
        con.close()
    return path


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[object, ...]]) -> None:
    """Insert rows 200 at a time (DuckDB's executemany runs one statement per row: slow)."""
    if not rows:
        return
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    for start in range(0, len(rows), 200):
        chunk = rows[start : start + 200]
        args = [value for row in chunk for value in row]
        con.execute(f"INSERT INTO {table} VALUES " + ", ".join([one] * len(chunk)), args)
