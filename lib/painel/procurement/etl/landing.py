"""The landing store: PNCP's records as the crawl fetched them, kept across runs.

``<home>/landing/procurement/pncp.duckdb`` holds the latest version of every record the crawl
has fetched (one row per PNCP key, replaced when PNCP gives a newer version) and the
``journal`` of the windows fetched completely. The daily job crawls into it, then builds the
published dataset from all of it; a window is marked complete only after all its records and
their children (items, results, termos) are in, in one transaction, so a killed or failed
crawl leaves the landing consistent and the next run resumes at the first incomplete window.

The tables follow :data:`painel.procurement.world.DDL` (snake_case PNCP fields), without the
world's hidden truth (``itens.codigo_classe``, ``orgaos.consorcio``); the catalogue
(``catalogo``, ``classes``: CATMAT/CATSER codes and their classes) is reference data loaded
beside them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from .. import world

# The world's columns a crawl cannot know: the truth the ML and the rules must recover.
HIDDEN = {
    "itens": ("codigo_classe",),
    "orgaos": ("consorcio",),
    "catalogo": ("preco_base",),
}
TABLES = (
    "orgaos",
    "unidades",
    "fornecedores",
    "classes",
    "catalogo",
    "contratacoes",
    "itens",
    "resultados",
    "contratos",
    "termos",
)

JOURNAL_DDL = """
    kind VARCHAR NOT NULL,        -- 'contratacoes' or 'contratos'
    dia DATE NOT NULL,            -- the window (one day)
    modalidade INTEGER NOT NULL,  -- 0 for contratos
    por VARCHAR NOT NULL,         -- 'publicacao' or 'atualizacao'
    registros INTEGER NOT NULL,
    chamadas INTEGER NOT NULL,
    concluido_em TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, dia, modalidade, por)
"""


def _without(body: str, hidden: tuple[str, ...]) -> str:
    lines = body.strip().splitlines()
    kept = [ln for ln in lines if not any(re.match(rf"\s*{h}\b", ln) for h in hidden)]
    text = "\n".join(kept).rstrip()
    # a removed last column leaves a trailing comma on the line before
    return re.sub(r",(\s*(--[^\n]*)?)\s*$", r"\1", text)


def ddl() -> dict[str, str]:
    """``CREATE TABLE`` bodies of the landing tables."""
    out = {t: _without(world.DDL[t], HIDDEN.get(t, ())) for t in TABLES}
    out["journal"] = JOURNAL_DDL
    return out


def columns(con: Any, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


class Landing:
    """The landing DuckDB file; one writer at a time (the job)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path))
        self.con.execute("SET enable_progress_bar = false")
        existing = {r[0] for r in self.con.execute("SHOW TABLES").fetchall()}
        for name, body in ddl().items():
            if name not in existing:
                self.con.execute(f"CREATE TABLE {name} (\n{body}\n)")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Landing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the journal ----------------------------------------------------------------------
    def done(self, kind: str, por: str) -> set[tuple[date, int]]:
        """The (day, modalidade) windows of ``kind`` fetched completely."""
        rows = self.con.execute(
            "SELECT dia, modalidade FROM journal WHERE kind = ? AND por = ?", [kind, por]
        ).fetchall()
        return {(r[0], r[1]) for r in rows}

    def last_complete_day(self, kind: str) -> date | None:
        row = self.con.execute("SELECT max(dia) FROM journal WHERE kind = ?", [kind]).fetchall()[0]
        return row[0] if row else None

    # ---- writing ----------------------------------------------------------------------------
    def upsert(self, table: str, frame: Any) -> int:
        """Insert or replace ``frame``'s rows (a pandas DataFrame with the table's columns,
        any order) by the table's primary key; returns the row count."""
        if frame is None or len(frame) == 0:
            return 0
        cols = columns(self.con, table)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"landing {table}: columns missing from the records: {missing}")
        self.con.register("_incoming", frame[cols])
        try:
            self.con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM _incoming")
        finally:
            self.con.unregister("_incoming")
        return len(frame)

    def replace_children(self, table: str, parents: list[str], frame: Any) -> int:
        """Replace every row of ``table`` whose ``numero_controle_pncp`` is in ``parents``
        with ``frame`` (a purchase's items and results, a contract's termos: a child PNCP
        removed must go too)."""
        if parents:
            self.con.execute(
                f"DELETE FROM {table} WHERE numero_controle_pncp IN (SELECT unnest(?))", [parents]
            )
        return self.upsert(table, frame)

    def mark_done(
        self, kind: str, dia: date, modalidade: int, por: str, registros: int, chamadas: int
    ) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)",
            [kind, dia, modalidade, por, registros, chamadas, datetime.now()],
        )


def from_world(world_path: Path, landing_path: Path, *, until: date | None = None) -> Path:
    """A landing as a complete crawl of ``world_path`` up to ``until`` would leave it (GO units
    only, the hidden truth left out): the benchmark's "pages already fetched" and the rules'
    tests, without the API's pace."""
    if landing_path.exists():
        landing_path.unlink()
    with Landing(landing_path) as land:
        con = land.con
        con.execute(f"ATTACH '{world_path}' AS w (READ_ONLY)")
        cutoff = f"TIMESTAMP '{until.isoformat()} 23:59:59'" if until else "TIMESTAMP '9999-12-31'"
        con.execute(
            "CREATE TEMP TABLE go AS SELECT cnpj, codigo_unidade FROM w.unidades "
            f"WHERE uf_sigla = '{world.UF}'"
        )
        con.execute(
            "CREATE TEMP TABLE compras AS SELECT c.numero_controle_pncp FROM w.contratacoes c "
            f"SEMI JOIN go USING (cnpj, codigo_unidade) WHERE c.data_publicacao_pncp <= {cutoff}"
        )
        for table in ("classes", "catalogo", "fornecedores"):
            cols = ", ".join(columns(con, table))
            con.execute(f"INSERT INTO {table} SELECT {cols} FROM w.{table}")
        cols = ", ".join(columns(con, "orgaos"))
        con.execute(
            f"INSERT INTO orgaos SELECT {cols} FROM w.orgaos WHERE cnpj IN (SELECT cnpj FROM go)"
        )
        cols = ", ".join(columns(con, "unidades"))
        con.execute(
            f"INSERT INTO unidades SELECT {cols} FROM w.unidades SEMI JOIN go USING (cnpj, codigo_unidade)"
        )
        for table in ("contratacoes", "itens", "resultados"):
            cols = ", ".join(f"x.{c}" for c in columns(con, table))
            con.execute(
                f"INSERT INTO {table} SELECT {cols} FROM w.{table} x "
                "SEMI JOIN compras USING (numero_controle_pncp)"
            )
        cols = ", ".join(f"k.{c}" for c in columns(con, "contratos"))
        con.execute(
            f"INSERT INTO contratos SELECT {cols} FROM w.contratos k SEMI JOIN go "
            f"USING (cnpj, codigo_unidade) WHERE k.data_publicacao_pncp <= {cutoff}"
        )
        cols = ", ".join(f"t.{c}" for c in columns(con, "termos"))
        con.execute(
            f"INSERT INTO termos SELECT {cols} FROM w.termos t SEMI JOIN contratos k "
            f"USING (numero_controle_pncp) WHERE t.data_publicacao_pncp <= {cutoff}"
        )
        con.execute("DETACH w")
    return landing_path


CATALOGUE_FILES = {
    "classes": (
        "classes.csv",
        {
            "codigo_classe": "VARCHAR",
            "nome": "VARCHAR",
            "material_ou_servico": "VARCHAR",
            "inciso": "VARCHAR",
        },
    ),
    "catalogo": (
        "catalogo.csv",
        {
            "codigo_item": "VARCHAR",
            "codigo_classe": "VARCHAR",
            "descricao": "VARCHAR",
            "unidade_base": "VARCHAR",
        },
    ),
}


class CatalogueError(ValueError):
    """The catalogue files are missing or malformed; the message names the file."""


def load_catalogue(land: Landing, folder: Path) -> dict[str, int]:
    """Replace the landing's ``classes`` and ``catalogo`` with ``folder``'s CSV files (the
    CATMAT/CATSER codes → class, e.g. from dadosabertos.compras.gov.br)."""
    counts = {}
    for table, (name, cols) in CATALOGUE_FILES.items():
        path = folder / name
        if not path.is_file():
            raise CatalogueError(f"catalogue file {path} is missing (parameter catalogo)")
        spec = ", ".join(f"'{c}': '{t}'" for c, t in cols.items())
        try:
            frame = land.con.execute(
                f"SELECT * FROM read_csv('{str(path).replace(chr(39), chr(39) * 2)}', "
                f"header = true, columns = {{{spec}}}, auto_detect = false)"
            ).df()
        except Exception as exc:  # noqa: BLE001 - DuckDB names the line; we name the file
            raise CatalogueError(f"catalogue file {path}: {exc}") from None
        key = next(iter(cols))
        if frame[key].isna().any() or frame[key].duplicated().any():
            row = int((frame[key].isna() | frame[key].duplicated()).to_numpy().argmax()) + 2
            raise CatalogueError(f"catalogue file {path}: line {row}: {key} empty or repeated")
        land.con.execute("BEGIN TRANSACTION")
        land.con.execute(f"DELETE FROM {table}")
        land.upsert(table, frame)
        land.con.execute("COMMIT")
        counts[table] = len(frame)
    return counts


def export_catalogue(world_path: Path, folder: Path) -> None:
    """Write a world's catalogue as the CSV files :func:`load_catalogue` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{world_path}' AS w (READ_ONLY)")
        for table, (name, cols) in CATALOGUE_FILES.items():
            con.execute(
                f"COPY (SELECT {', '.join(cols)} FROM w.{table} ORDER BY 1) TO "
                f"'{folder / name}' (HEADER, DELIMITER ',')"
            )
    finally:
        con.close()
