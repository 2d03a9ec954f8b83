"""Read one daily dump into DuckDB under its contract, file by file, straight from the zip.

For each file of :data:`~painel.school.contract.FILES`:

1. **Structure** (a fault fails the run with one line naming the zip, the file and the fault):
   the zip opens, the member exists, its header has the contract's columns with ``;``, its
   bytes are cp1252 (not UTF-8, not another code page with undefined bytes), its CRC holds.
2. **Transcoding**: the member is streamed, decoded from cp1252 and written as UTF-8 to a
   scratch file (one member at a time; DuckDB reads latin-1 but not cp1252 without a
   downloadable extension, and it parses UTF-8 fastest). Chunks of pure ASCII, most of the
   large files, are written as they are.
3. **Types**: DuckDB's CSV reader casts each column to the contract's type (``dd/mm/yyyy``,
   decimal comma); a row that does not cast is rejected with its line and raw text.
4. **Rows**: required fields, codes, bounds, keys (a repeated key keeps its first row) and
   foreign keys (against the rows kept of the referenced file) are SQL; every failing row goes
   to the quarantine with file, line, reason and raw line, and out of the load.

Rows kept land in ``<schema>.<stem>`` (e.g. ``raw.matricula``), quarantined ones in
``<schema>.quarentena``.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from .. import contract
from ..contract import FileContract
from ..landing import sha256_file

CHUNK = 8 << 20


class DumpFault(Exception):
    """A structural fault of the dump: the run fails with this one line. ``corrupt``: the zip
    itself does not read back (a landed copy is worth downloading again)."""

    def __init__(self, message: str, *, corrupt: bool = False):
        super().__init__(message)
        self.corrupt = corrupt


@dataclass
class FileLoad:
    name: str
    present: bool
    size: int = 0  # bytes of the member (uncompressed)
    rows: int = 0  # data lines in the file
    kept: int = 0
    quarantined: int = 0
    first_problem: str = ""

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.rows if self.rows else 0.0


@dataclass
class DumpLoad:
    path: Path
    day: date | None
    size: int
    sha256: str
    files: dict[str, FileLoad] = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---- 1-2. structure and transcoding ------------------------------------------------------
def _check_header(where: str, spec: FileContract, header: str) -> None:
    if contract.DELIMITER not in header:
        for other, label in ((",", "','"), ("\t", "tab"), ("|", "'|'")):
            if other in header:
                raise DumpFault(f"{where}: wrong delimiter {label} (expected ';')")
    columns = [c.strip() for c in header.split(contract.DELIMITER)]
    expected = list(spec.column_names)
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if missing:
        hint = f" (the header has {', '.join(extra)})" if extra else ""
        raise DumpFault(f"{where}: column {', '.join(missing)} missing{hint}")
    if extra:
        raise DumpFault(f"{where}: unexpected column {', '.join(extra)}")
    if columns != expected:
        raise DumpFault(
            f"{where}: columns out of order (expected {contract.DELIMITER.join(expected)})"
        )


def _header(where: str, spec: FileContract, head: bytes) -> None:
    line = head.split(b"\n", 1)[0].decode(contract.ENCODING, errors="replace")
    _check_header(where, spec, line.rstrip("\r").lstrip("\ufeff"))


def transcode_member(zf: zipfile.ZipFile, where: str, spec: FileContract, out: Path) -> int:
    """Stream one member into ``out`` as UTF-8, checking its header, its encoding and its CRC
    on the way; returns the member's size in bytes. A chunk of pure ASCII (most of the large
    files: codes, dates and numbers) is the same in both encodings and is written as it is."""
    utf8_probe: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
    non_ascii = header_done = False
    head = b""
    offset = 0
    try:
        with zf.open(spec.name) as src, open(out, "wb") as dst:
            while chunk := src.read(CHUNK):
                if b"\x00" in chunk:
                    raise DumpFault(f"{where}: not cp1252 text (NUL bytes: UTF-16?)")
                data = chunk
                ascii_ = chunk.isascii()
                non_ascii = non_ascii or not ascii_
                # ASCII after a split multi-byte sequence still tells UTF-8 apart
                if utf8_probe is not None and (not ascii_ or utf8_probe.getstate()[0]):
                    try:
                        utf8_probe.decode(chunk)
                    except UnicodeDecodeError:
                        utf8_probe = None  # not UTF-8: as a cp1252 file should be
                if not ascii_:
                    try:
                        data = chunk.decode(contract.ENCODING).encode("utf-8")
                    except UnicodeDecodeError as exc:
                        if utf8_probe is not None:
                            raise DumpFault(f"{where}: encoded as UTF-8, not cp1252") from None
                        raise DumpFault(
                            f"{where}: not cp1252 (byte 0x{chunk[exc.start]:02x} at offset "
                            f"{offset + exc.start})"
                        ) from None
                if not header_done:
                    head += chunk
                    if b"\n" in head:
                        _header(where, spec, head)
                        header_done = True
                offset += len(chunk)
                dst.write(data)
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc):
            raise DumpFault(f"{where}: corrupt (CRC error)", corrupt=True) from None
        raise DumpFault(f"{where}: corrupt ({exc})", corrupt=True) from None
    except (zlib.error, EOFError) as exc:
        raise DumpFault(f"{where}: corrupt ({exc})", corrupt=True) from None
    if not head:
        raise DumpFault(f"{where}: empty file (no header)")
    if not header_done:
        _header(where, spec, head)
    if non_ascii and utf8_probe is not None:
        raise DumpFault(f"{where}: encoded as UTF-8, not cp1252")
    return offset


def _line_sql(rowid: str) -> str:
    """The file line of a kept row: its rowid, the header, and the rejected lines before it."""
    return f"({rowid} + 2 + (SELECT count(*) FROM _rejected_lines j WHERE j.p <= {rowid}))"


# ---- 3-4. types and rows ------------------------------------------------------------------
def _reader_columns(spec: FileContract) -> dict[str, str]:
    return {c.name: c.type for c in spec.columns}


def _row_checks(spec: FileContract) -> list[tuple[str, str]]:
    """(SQL condition that is TRUE for a bad row, reason expression) per column rule."""
    out: list[tuple[str, str]] = []
    for c in spec.columns:
        col = _q(c.name)
        if c.required:
            out.append((f"{col} IS NULL", _lit(f"{c.name} empty")))
        if c.codes is not None:
            codes = ", ".join(str(v) for v in c.codes)
            out.append(
                (
                    f"{col} IS NOT NULL AND {col} NOT IN ({codes})",
                    f"'{c.name} ' || {col} || ' is not a code of its table'",
                )
            )
        if c.low is not None:
            out.append(
                (
                    f"{col} < {c.low!r}",
                    f"'{c.name} ' || {col} || ' below {c.low:g}'",
                )
            )
        if c.high is not None:
            out.append(
                (
                    f"{col} > {c.high!r}",
                    f"'{c.name} ' || {col} || ' above {c.high:g}'",
                )
            )
        if c.name in contract.COMPONENT_COLUMNS:
            comps = ", ".join(_lit(k) for k in contract.COMPONENTES)
            out.append(
                (
                    f"{col} IS NOT NULL AND {col} NOT IN ({comps})",
                    f"'{c.name} ' || {col} || ' is not a component'",
                )
            )
    return out


def _cast_reason(column: str | None, message: str, error_type: str) -> str:
    if error_type == "CAST" and column:
        spec_type = ""
        for f in contract.FILES.values():
            for c in f.columns:
                if c.name == column:
                    spec_type = c.type
        m = re.search(r"Could not convert string \"(.*?)\" to", message) or re.search(
            r"\"(.*?)\"", message
        )
        value = m.group(1) if m else "?"
        if spec_type == "DATE":
            return f"{column}: {value} is not a valid dd/mm/yyyy date"
        if spec_type.startswith("DECIMAL"):
            return f"{column}: {value} is not a number with a decimal comma"
        return f"{column}: {value} is not a {spec_type.lower()}"
    if error_type == "TOO MANY COLUMNS":
        return "more fields than the header"
    if error_type == "MISSING COLUMNS":
        return "fewer fields than the header"
    return f"{error_type.lower()}: {message.splitlines()[0] if message else ''}".strip()


def load_file(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    spec: FileContract,
    path: Path,
    result: FileLoad,
    parents: tuple[str, ...] = contract.LOAD_ORDER,
    day: date | None = None,
) -> None:
    """Typed read of a transcoded file into ``schema.stem``, bad rows into the quarantine."""
    stem = spec.stem
    target = f"{schema}.{_q(stem)}"
    rej, scan = f"rej_{stem}", f"scan_{stem}"
    con.execute(
        f"CREATE OR REPLACE TABLE {schema}._typed AS SELECT * FROM read_csv(?, delim=';', "
        "header=true, auto_detect=false, columns=?, dateformat='%d/%m/%Y', "
        "decimal_separator=',', quote='\"', escape='\"', strict_mode=true, "
        f"store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}', "
        "max_line_size=1048576)",
        [str(path), _reader_columns(spec)],
    )
    # rejected at the cast: one quarantine row per line (the first error names the reason)
    cast_rows = con.execute(
        f"SELECT line, any_value(column_name ORDER BY column_idx), "
        f"any_value(error_message ORDER BY column_idx), any_value(error_type::VARCHAR "
        f"ORDER BY column_idx), any_value(csv_line) FROM {rej} GROUP BY line ORDER BY line"
    ).fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE _rejected_lines (line UBIGINT, p BIGINT)")
    if cast_rows:
        con.executemany(
            f"INSERT INTO {schema}.quarentena VALUES (?, ?, ?, ?, ?, NULL, NULL)",
            [
                (
                    day,
                    spec.name,
                    int(line),
                    _cast_reason(col, msg or "", etype or ""),
                    (raw or "").strip("\r\n"),
                )
                for line, col, msg, etype, raw in cast_rows
            ],
        )
        # p: rows kept before each rejected line (to map a kept row's rowid back to its line)
        con.execute(
            f"INSERT INTO _rejected_lines SELECT line, line - 2 - (row_number() OVER "
            f"(ORDER BY line) - 1) FROM (SELECT DISTINCT line FROM {rej})"
        )
    con.execute(f"DROP TABLE IF EXISTS {rej}")
    con.execute(f"DROP TABLE IF EXISTS {scan}")

    typed = f"{schema}._typed"
    checks = _row_checks(spec)
    con.execute("CREATE OR REPLACE TEMP TABLE _bad (rid BIGINT, reason VARCHAR)")
    if checks:
        cases = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in checks)
        any_bad = " OR ".join(f"({cond})" for cond, _ in checks)
        con.execute(f"INSERT INTO _bad SELECT rowid, CASE {cases} END FROM {typed} WHERE {any_bad}")
    # a repeated key keeps its first row; the others are quarantined, naming the first's line
    key = ", ".join(_q(k) for k in spec.key)
    key_text = " || '/' || ".join(f"coalesce({_q(k)}::VARCHAR, '')" for k in spec.key)
    con.execute(
        f"INSERT INTO _bad SELECT rid, 'duplicate key {'/'.join(spec.key)} = ' || key_text || "
        f"' (first at line ' || {_line_sql('first_rid')} || ')' FROM ("
        f"SELECT t.rowid AS rid, {key_text} AS key_text, "
        f"row_number() OVER (PARTITION BY {key} ORDER BY t.rowid) AS n, "
        f"min(t.rowid) OVER (PARTITION BY {key}) AS first_rid "
        f"FROM {typed} t SEMI JOIN (SELECT {key} FROM {typed} GROUP BY ALL HAVING count(*) > 1) d "
        f"USING ({key})) WHERE n > 1 AND rid NOT IN (SELECT rid FROM _bad)"
    )
    for fk in spec.foreign_keys:
        if fk.file not in parents:
            continue  # the referenced file is not part of this read (older dumps' daily rows)
        parent = f"{schema}.{_q(contract.FILES[fk.file].stem)}"
        on = " AND ".join(f"t.{_q(c)} = p.{_q(r)}" for c, r in zip(fk.columns, fk.ref, strict=True))
        nonnull = " AND ".join(f"t.{_q(c)} IS NOT NULL" for c in fk.columns)
        shown = " || '/' || ".join(f"t.{_q(c)}::VARCHAR" for c in fk.columns)
        con.execute(
            f"INSERT INTO _bad SELECT t.rowid, '{'/'.join(fk.columns)} ' || {shown} || "
            f"' not in {fk.file}' FROM {typed} t ANTI JOIN {parent} p ON {on} "
            f"WHERE {nonnull} AND t.rowid NOT IN (SELECT rid FROM _bad)"
        )
    n_bad = con.execute("SELECT count(*) FROM _bad").fetchall()[0][0]
    if n_bad:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _bad_lines AS SELECT rid, "
            f"{_line_sql('rid')} AS line, reason FROM _bad"
        )
        raw = _raw_lines(
            con,
            path,
            [int(x[0]) for x in con.execute("SELECT line FROM _bad_lines").fetchall()],
        )
        con.executemany(
            f"INSERT INTO {schema}.quarentena VALUES (?, ?, ?, ?, ?, NULL, NULL)",
            [
                (day, spec.name, int(line), reason, raw.get(int(line), ""))
                for line, reason in con.execute(
                    "SELECT line, reason FROM _bad_lines ORDER BY line"
                ).fetchall()
            ],
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {schema}._typed "
        f"WHERE rowid NOT IN (SELECT rid FROM _bad) ORDER BY rowid"
        if n_bad
        else f"ALTER TABLE {schema}._typed RENAME TO {_q(stem)}"
    )
    con.execute(f"DROP TABLE IF EXISTS {schema}._typed")
    kept = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    result.kept = int(kept)
    result.quarantined = len(cast_rows) + int(n_bad)
    result.rows = result.kept + result.quarantined
    if result.quarantined:
        first = con.execute(
            f"SELECT linha, motivo FROM {schema}.quarentena WHERE arquivo = ? "
            "AND data_dump IS NOT DISTINCT FROM ? ORDER BY linha LIMIT 1",
            [spec.name, day],
        ).fetchall()
        if first:
            result.first_problem = f"line {first[0][0]}: {first[0][1]}"


def _raw_lines(con: duckdb.DuckDBPyConnection, path: Path, lines: list[int]) -> dict[int, str]:
    """The text of the given 1-based lines of a (UTF-8) file, read with DuckDB in one pass."""
    if not lines:
        return {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _all_lines AS SELECT * FROM read_csv(?, header=false, "
        "auto_detect=false, columns={'l': 'VARCHAR'}, delim='\x01', quote='', escape='', "
        "strict_mode=false, max_line_size=1048576)",
        [str(path)],
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _wanted (line BIGINT)")
    con.executemany("INSERT INTO _wanted VALUES (?)", [(n,) for n in sorted(set(lines))])
    rows = con.execute(
        "SELECT w.line, a.l FROM _wanted w JOIN _all_lines a ON a.rowid + 1 = w.line"
    ).fetchall()
    con.execute("DROP TABLE _all_lines")
    return {int(n): (text or "").rstrip("\r") for n, text in rows}


QUARANTINE_DDL = (
    "CREATE TABLE IF NOT EXISTS {schema}.quarentena (data_dump DATE, arquivo VARCHAR, linha BIGINT, "
    "motivo VARCHAR, linha_original VARCHAR, sre_id INTEGER, school_id BIGINT)"
)


def read_dump(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    zip_path: Path,
    scratch: Path,
    *,
    files: tuple[str, ...] = contract.LOAD_ORDER,
    meter: Callable[[str], None] | None = None,
    sha256: str | None = None,
) -> DumpLoad:
    """Load ``files`` of the dump at ``zip_path`` into ``schema`` (tables named by stem);
    ``sha256`` when the landing already hashed it."""
    where_zip = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise DumpFault(f"{where_zip}: not a zip file") from None
    except FileNotFoundError:
        raise DumpFault(f"{zip_path}: not found") from None
    load = DumpLoad(
        zip_path,
        contract.zip_date(zip_path.name),
        zip_path.stat().st_size,
        sha256 or sha256_file(zip_path),
    )
    con.execute(QUARANTINE_DDL.format(schema=schema))
    scratch.mkdir(parents=True, exist_ok=True)
    with zf:
        names = set(zf.namelist())
        for name in files:
            spec = contract.FILES[name]
            where = f"{where_zip}: {name}"
            result = FileLoad(name, present=name in names)
            load.files[name] = result
            if name not in names:
                if spec.optional:
                    continue
                raise DumpFault(f"{where_zip}: file {name} missing")
            if meter:
                meter(name)
            tmp = scratch / f"{spec.stem}.utf8.csv"
            try:
                result.size = transcode_member(zf, where, spec, tmp)
                load_file(con, schema, spec, tmp, result, files, load.day)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
    return load
