"""The PNCP API over a world DuckDB file (:mod:`painel.procurement.world`), served on loopback.

It answers what the ETL calls, with PNCP's JSON names and nesting, and PNCP's quirks:

- consulta listings (``/api/consulta/v1/contratacoes/{publicacao,atualizacao}``,
  ``/api/consulta/v1/contratos[/atualizacao]``) in the envelope ``{data, totalRegistros,
  totalPaginas, numeroPagina, paginasRestantes, empty}``; **204 with an empty body** when no
  record matches (or the page is past the last one); 400 ``{"message": "Required parameter
  'x' is not present."}``; 400 "Tamanho de página inválido" (contratações 10-50, contratos
  10-500); 422 "Período inicial e final maior que 365 dias";
- detail calls (``/api/pncp/v1/orgaos/{cnpj}/compras/{ano}/{seq}/itens`` and
  ``/itens/quantidade``, ``/itens/{n}/resultados``, ``/contratos/{ano}/{seq}/termos``,
  ``/amparos-legais``, ``/modalidades``) answering **bare arrays** (or a bare number), items
  **10 per page by default** (a client that does not page silently gets 10), at most 500;
- dates as PNCP gives them: ``"2026-01-15T10:00:00"`` (Brasília, no offset), contract dates
  and ``dataResultado`` as ``"2026-01-15"``;
- the world's ``itens.codigo_classe`` (the hidden truth) is never served.

JSON shapes where PNCP's documents are vague (from live payloads quoted in public code):

- contratação: ``tipoInstrumentoConvocatorioCodigo/Nome`` (the live name; the manual says
  ``...Id``), ``amparoLegal{codigo, nome, descricao}``, ``orgaoEntidade{cnpj, razaoSocial,
  poderId, esferaId}``, ``unidadeOrgao{ufNome, codigoUnidade, nomeUnidade, ufSigla,
  municipioNome, codigoIbge}``, ``dataAtualizacaoGlobal``;
- item: ``situacaoCompraItem`` (an int, no ``Id`` suffix) + ``situacaoCompraItemNome``,
  ``materialOuServico`` 'M'/'S' + ``materialOuServicoNome``, ``catalogo`` null or
  ``{id, nome}`` (1 "Catálogo do Compras.gov.br" = CATMAT/CATSER, 2 "Outros"),
  ``catalogoCodigoItem``, ``temResultado``, ``orcamentoSigiloso``;
- resultado: ``porteFornecedorId/Nome``, ``situacaoCompraItemResultadoId/Nome``,
  ``dataResultado`` as a date, ``numeroControlePNCPCompra`` (PNCP casing, unlike contratos'
  ``numeroControlePncpCompra``);
- contrato: ``tipoContrato{id, nome}``, ``tipoPessoa``, the unit's ``unidadeOrgao.ufSigla``;
- termo: ``sequencialTermoContrato``, ``numeroTermoContrato``, ``tipoTermoContratoId/Nome``,
  ``qualificacao*`` booleans, ``valorAcrescido``, ``prazoAditadoDias``;
- amparos-legais / modalidades: ``[{id, nome, descricao, statusAtivo, ...}]``;
- errors: Spring Boot's ``{timestamp, status, error, message, path}``; 429s and outages may
  be nginx HTML pages. Wording marked (A) below is an assumption.

Faults (:class:`Faults`, all deterministic from the seed, in the order calls arrive): pacing
(a call within ``min_interval`` s of the previous one from the same address gets 429, without
``Retry-After``, sometimes an HTML page), random 429s, short pages (200 with fewer rows than
the page should have), malformed JSON, an outage (503/504 for a number of calls or seconds)
and a 500 on listing pages past ``deep_page``. ``GET /_sim/stats`` gives the counters.
"""

from __future__ import annotations

import collections
import datetime
import json
import math
import random
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from ...simserver import SimHandler, SimServer
from . import codes

CONSULTA = "/api/consulta/v1"
PNCP = "/api/pncp/v1"

MSG_PAGE_SIZE = "Tamanho de página inválido"
MSG_WINDOW = "Período inicial e final maior que 365 dias"
MSG_WINDOW_ORDER = "Data Final deve ser maior ou igual à Data Inicial"  # (A) wording
MSG_PAGE = "Número da página deve ser maior que zero"  # (A) wording
MSG_TOO_MANY = "Too Many Requests"

ITEMS_DEFAULT_PAGE = 10
ITEMS_MAX_PAGE = 500

_HTML_429 = (
    b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _html_error(status: int, reason: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


# --------------------------------------------------------------------------- faults


@dataclass
class Faults:
    """PNCP's misbehaviour, switched on by the constructor or ``painel simulate pncp`` flags.

    Rates are probabilities per API call, drawn from a generator seeded by the simulator's
    seed (the same seed and the same sequence of calls give the same faults).
    """

    # s between calls of one client address (refused ones count too); closer: 429 (0: off)
    min_interval: float = 0.0
    rate_429: float = 0.0  # probability of a 429 anyway
    html_429: float = 0.5  # share of 429s whose body is nginx's HTML page (else JSON)
    short_pages: float = 0.0  # probability a listing/items page comes back short (200)
    malformed: float = 0.0  # probability of a 200 whose JSON is cut in half
    outage_after: int = 0  # API calls answered before the outage begins
    outage_calls: int = 0  # the outage lasts this many calls ...
    outage_seconds: float = 0.0  # ... or this many seconds from its first call
    deep_page: int = 0  # listing pages past this one answer 500 (0: off)

    def __post_init__(self) -> None:
        for name in ("rate_429", "html_429", "short_pages", "malformed"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"fault {name} must be a probability 0-1, got {value!r}")
        for name in ("min_interval", "outage_after", "outage_calls", "outage_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault {name} must be >= 0, got {getattr(self, name)!r}")


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(SimServer):
    sim: Any

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)


class _Handler(SimHandler):
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    page: bool = False  # a page of rows that may be served short
    rows: int = 0  # rows on that page


class _HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _ts(value: Any) -> str | None:
    """A TIMESTAMP as PNCP writes it: ``2026-01-15T10:00:00`` (no offset, no fraction)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%dT00:00:00")
    return str(value)


def _date(value: Any) -> str | None:
    """A DATE as PNCP writes contract dates: ``2026-01-15``."""
    if value is None:
        return None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- the simulator


class PncpSimulator:
    """PNCP's consulta and detail APIs over a world DuckDB file, on a threaded loopback server."""

    def __init__(
        self,
        world: Path | str,
        *,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
    ):
        self.world = Path(world)
        if not self.world.is_file():
            raise FileNotFoundError(f"PNCP simulator: no world file at {self.world}")
        self.seed = seed
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.url = ""
        self._con = duckdb.connect(str(self.world), read_only=True)
        self._db_lock = threading.Lock()
        self._ncp_cache: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(f"pncp-faults-{seed}")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_stats()

    # -- lifecycle

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL ``http://host:port`` (PNCP's origin)."""
        if self._server is not None:
            return self.url
        server = _Server((self.host, self.port))
        server.sim = self
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"pncp-simulator-{self.port}",
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None

    def close(self) -> None:
        """Stop serving and close the world file."""
        self.stop()
        with self._db_lock:
            self._con.close()

    def __enter__(self) -> PncpSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- stats

    def reset_stats(self) -> None:
        with self._lock:
            self._requests = 0  # API calls (control routes excluded)
            self._by_status: collections.Counter[int] = collections.Counter()
            self._by_endpoint: collections.Counter[str] = collections.Counter()
            self._fault_counts: collections.Counter[str] = collections.Counter()
            self._last_by_client: dict[str, float] = {}
            self._outage_started: float | None = None
            self._outage_served = 0
            # the last calls: (monotonic arrival, client address, path?query, status)
            self.log: collections.deque[tuple[float, str, str, int]] = collections.deque(
                maxlen=100_000
            )

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset: requests, by_status, by_endpoint, faults."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_status": dict(sorted(self._by_status.items())),
                "by_endpoint": dict(sorted(self._by_endpoint.items())),
                "faults": dict(sorted(self._fault_counts.items())),
                "config": asdict(self.faults),
            }

    # -- request handling

    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        path = url.path.rstrip("/") or "/"
        if path == "/_sim/stats":
            self._send(h, _Reply(200, _json(self.stats())))
            return
        now = time.monotonic()
        client = str(h.client_address[0])
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        endpoint = _endpoint_of(path)
        f = self.faults
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] += 1
            # the same draws on every call, whatever is used, so faults depend on the call order only
            r_429, r_html, r_short, r_bad, r_cut = (self._rng.random() for _ in range(5))
            last = self._last_by_client.get(client)
            self._last_by_client[client] = now
            fault = None
            if self._in_outage(now):
                fault = "outage"
            elif f.min_interval > 0 and last is not None and now - last < f.min_interval:
                fault = "pacing"
            elif r_429 < f.rate_429:
                fault = "429"
            if fault:
                self._fault_counts[fault] += 1
        if fault == "outage":
            status = 503 if r_html < 0.5 else 504
            reply = _Reply(status, _html_error(status, _REASONS[status]), "text/html")
        elif fault in ("pacing", "429"):
            if r_html < f.html_429:
                reply = _Reply(429, _HTML_429, "text/html")
            else:
                reply = _Reply(429, _json(_spring_error(429, MSG_TOO_MANY, path)))
        else:
            try:
                reply = self._route(path, params)
            except _HttpError as exc:
                reply = _Reply(exc.status, _json(_spring_error(exc.status, exc.message, path)))
            except Exception as exc:  # noqa: BLE001 - keep serving; a bug shows as a 500
                reply = _Reply(500, _json(_spring_error(500, f"Erro interno: {exc}", path)))
            if reply.status == 200 and reply.page and reply.rows > 0 and r_short < f.short_pages:
                reply = self._shorten(reply, r_cut)
                self._count_fault("short_page")
            if reply.status == 200 and r_bad < f.malformed:
                reply = _Reply(200, _cut(reply.body), reply.content_type)
                self._count_fault("malformed")
        with self._lock:
            self._by_status[reply.status] += 1
            self.log.append((now, client, h.path, reply.status))
        self._send(h, reply)

    def _count_fault(self, name: str) -> None:
        with self._lock:
            self._fault_counts[name] += 1

    def _in_outage(self, now: float) -> bool:
        """Whether this call (holding ``_lock``) falls in the outage; counts it if so."""
        f = self.faults
        if f.outage_calls <= 0 and f.outage_seconds <= 0:
            return False
        if self._outage_started is None:
            if self._requests <= f.outage_after:
                return False
            self._outage_started = now
        by_calls = self._outage_served < f.outage_calls
        by_time = now - self._outage_started < f.outage_seconds
        if by_calls or by_time:
            self._outage_served += 1
            return True
        return False

    def _shorten(self, reply: _Reply, r: float) -> _Reply:
        """The same page with fewer rows (the envelope still tells the full count)."""
        body = json.loads(reply.body)
        rows = body["data"] if isinstance(body, dict) else body
        keep = min(len(rows) - 1, int(r * len(rows)))
        rows = rows[:keep]
        if isinstance(body, dict):
            body["data"] = rows
            body["empty"] = not rows
        else:
            body = rows
        return _Reply(200, _json(body), reply.content_type)

    def _send(self, h: _Handler, reply: _Reply) -> None:
        h.send_response(reply.status)
        if reply.status != 204:
            h.send_header("Content-Type", reply.content_type)
        h.send_header("Content-Length", str(len(reply.body)))
        h.end_headers()
        if reply.body:
            h.wfile.write(reply.body)

    # -- routes

    def _route(self, path: str, params: dict[str, str]) -> _Reply:
        if path.startswith(CONSULTA + "/"):
            rest = path[len(CONSULTA) :]
            if rest == "/contratacoes/publicacao":
                return self._contratacoes(params, "data_publicacao_pncp", path)
            if rest == "/contratacoes/atualizacao":
                return self._contratacoes(params, "data_atualizacao_global", path)
            if rest == "/contratos":
                return self._contratos(params, "data_publicacao_pncp", path)
            if rest == "/contratos/atualizacao":
                return self._contratos(params, "data_atualizacao", path)
        elif path.startswith(PNCP + "/"):
            parts = [unquote(p) for p in path[len(PNCP) :].split("/") if p]
            if parts == ["amparos-legais"]:
                return _array(self._amparos())
            if parts == ["modalidades"]:
                return _array(_domain(codes.MODALIDADES))
            if len(parts) >= 6 and parts[0] == "orgaos" and parts[2] == "compras":
                return self._compra_detail(parts[1], parts[3], parts[4], parts[5:], params)
            is_termos = len(parts) == 6 and parts[5] == "termos"
            if is_termos and parts[0] == "orgaos" and parts[2] == "contratos":
                return self._termos(parts[1], parts[3], parts[4])
        raise _HttpError(404, "Recurso não encontrado")

    def _query(self, sql: str, args: list[Any]) -> list[dict[str, Any]]:
        with self._db_lock:
            cur = self._con.execute(sql, args)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _scalar(self, sql: str, args: list[Any]) -> Any:
        with self._db_lock:
            row = self._con.execute(sql, args).fetchone()
        return None if row is None else row[0]

    # -- consulta listings

    def _listing_params(
        self, params: dict[str, str], required: list[str], max_size: int
    ) -> tuple[datetime.datetime, datetime.datetime, int, int]:
        for name in required:
            if name not in params:
                raise _HttpError(400, f"Required parameter '{name}' is not present.")
        first = _parse_day(params["dataInicial"], "dataInicial")
        last = _parse_day(params["dataFinal"], "dataFinal")
        pagina = _parse_int(params["pagina"], "pagina")
        size = _parse_int(params.get("tamanhoPagina") or "50", "tamanhoPagina")
        if not 10 <= size <= max_size:
            raise _HttpError(400, MSG_PAGE_SIZE)
        if pagina < 1:
            raise _HttpError(400, MSG_PAGE)
        if last < first:
            raise _HttpError(422, MSG_WINDOW_ORDER)
        if (last - first).days > 365:
            raise _HttpError(422, MSG_WINDOW)
        deep = self.faults.deep_page
        if deep > 0 and pagina > deep:
            raise _HttpError(500, "Erro ao consultar: tempo limite da consulta excedido")
        start = datetime.datetime.combine(first, datetime.time())
        end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time())
        return start, end, pagina, size

    def _page(
        self, base_sql: str, args: list[Any], order: str, pagina: int, size: int, shape: Any
    ) -> _Reply:
        total = int(self._scalar(f"SELECT count(*) FROM ({base_sql})", args) or 0)
        pages = math.ceil(total / size)
        if total == 0 or pagina > pages:
            return _Reply(204)
        rows = self._query(
            f"{base_sql} ORDER BY {order} LIMIT ? OFFSET ?", [*args, size, (pagina - 1) * size]
        )
        data = [shape(r) for r in rows]
        body = {
            "data": data,
            "totalRegistros": total,
            "totalPaginas": pages,
            "numeroPagina": pagina,
            "paginasRestantes": max(0, pages - pagina),
            "empty": not data,
        }
        return _Reply(200, _json(body), page=True, rows=len(data))

    def _contratacoes(self, params: dict[str, str], column: str, path: str) -> _Reply:
        required = ["dataInicial", "dataFinal", "codigoModalidadeContratacao", "pagina"]
        start, end, pagina, size = self._listing_params(params, required, 50)
        modalidade = _parse_int(
            params["codigoModalidadeContratacao"], "codigoModalidadeContratacao"
        )
        where = [f"c.{column} >= ?", f"c.{column} < ?", "c.modalidade_id = ?"]
        args: list[Any] = [start, end, modalidade]
        for param, col in (
            ("uf", "u.uf_sigla"),
            ("cnpj", "c.cnpj"),
            ("codigoUnidadeAdministrativa", "c.codigo_unidade"),
            ("codigoMunicipioIbge", "u.codigo_ibge"),
        ):
            if params.get(param):
                where.append(f"{col} = ?")
                args.append(params[param].upper() if param == "uf" else params[param])
        if params.get("codigoModoDisputa"):
            where.append("c.modo_disputa_id = ?")
            args.append(_parse_int(params["codigoModoDisputa"], "codigoModoDisputa"))
        sql = f"""
            SELECT c.*, o.razao_social AS o_razao_social, o.poder_id AS o_poder_id,
                   o.esfera_id AS o_esfera_id, u.nome_unidade AS u_nome_unidade,
                   u.codigo_ibge AS u_codigo_ibge, u.municipio_nome AS u_municipio_nome,
                   u.uf_sigla AS u_uf_sigla
            FROM contratacoes c
            LEFT JOIN orgaos o ON o.cnpj = c.cnpj
            LEFT JOIN unidades u ON u.cnpj = c.cnpj AND u.codigo_unidade = c.codigo_unidade
            WHERE {" AND ".join(where)}"""
        return self._page(sql, args, "numero_controle_pncp", pagina, size, self._contratacao)

    def _contratos(self, params: dict[str, str], column: str, path: str) -> _Reply:
        start, end, pagina, size = self._listing_params(
            params, ["dataInicial", "dataFinal", "pagina"], 500
        )
        where = [f"k.{column} >= ?", f"k.{column} < ?"]
        args: list[Any] = [start, end]
        # no 'uf' filter here: PNCP's contratos listing has none (each record names its unit's UF)
        for param, col in (
            ("cnpjOrgao", "k.cnpj"),
            ("codigoUnidadeAdministrativa", "k.codigo_unidade"),
        ):
            if params.get(param):
                where.append(f"{col} = ?")
                args.append(params[param])
        sql = f"""
            SELECT k.*, o.razao_social AS o_razao_social, o.poder_id AS o_poder_id,
                   o.esfera_id AS o_esfera_id, u.nome_unidade AS u_nome_unidade,
                   u.codigo_ibge AS u_codigo_ibge, u.municipio_nome AS u_municipio_nome,
                   u.uf_sigla AS u_uf_sigla, f.tipo_pessoa AS f_tipo_pessoa
            FROM contratos k
            LEFT JOIN orgaos o ON o.cnpj = k.cnpj
            LEFT JOIN unidades u ON u.cnpj = k.cnpj AND u.codigo_unidade = k.codigo_unidade
            LEFT JOIN fornecedores f ON f.ni = k.ni_fornecedor
            WHERE {" AND ".join(where)}"""
        return self._page(sql, args, "numero_controle_pncp", pagina, size, self._contrato)

    # -- detail calls

    def _compra_ncp(self, cnpj: str, ano: str, seq: str) -> str:
        key = (cnpj, ano, seq)
        ncp = self._ncp_cache.get(key)
        if ncp is not None:
            return ncp
        ncp = self._scalar(
            "SELECT numero_controle_pncp FROM contratacoes"
            " WHERE cnpj = ? AND ano_compra = ? AND sequencial_compra = ?",
            [cnpj, _parse_int(ano, "ano"), _parse_int(seq, "sequencial")],
        )
        if ncp is None:
            raise _HttpError(404, "Contratação não encontrada")
        with self._lock:
            if len(self._ncp_cache) >= 10_000:  # a crawl asks a purchase's items, then its results
                self._ncp_cache.clear()
            self._ncp_cache[key] = str(ncp)
        return str(ncp)

    def _compra_detail(
        self, cnpj: str, ano: str, seq: str, rest: list[str], params: dict[str, str]
    ) -> _Reply:
        ncp = self._compra_ncp(cnpj, ano, seq)
        if rest == ["itens"]:
            pagina = _parse_int(params.get("pagina") or "1", "pagina")
            size = _parse_int(
                params.get("tamanhoPagina") or str(ITEMS_DEFAULT_PAGE), "tamanhoPagina"
            )
            if pagina < 1:
                raise _HttpError(400, MSG_PAGE)
            if not 1 <= size <= ITEMS_MAX_PAGE:
                raise _HttpError(400, MSG_PAGE_SIZE)
            rows = self._query(
                f"SELECT {_ITEM_COLUMNS} FROM itens WHERE numero_controle_pncp = ?"
                " ORDER BY numero_item LIMIT ? OFFSET ?",
                [ncp, size, (pagina - 1) * size],
            )
            data = [self._item(r) for r in rows]
            return _Reply(200, _json(data), page=True, rows=len(data))
        if rest == ["itens", "quantidade"]:
            n = self._scalar("SELECT count(*) FROM itens WHERE numero_controle_pncp = ?", [ncp])
            return _Reply(200, _json(int(n or 0)))
        if len(rest) == 3 and rest[0] == "itens" and rest[2] == "resultados":
            numero = _parse_int(rest[1], "numeroItem")
            # one query: no row at all = no such item (404); a row of NULLs = no result yet
            rows = self._query(
                "SELECT r.* FROM itens i LEFT JOIN resultados r"
                " ON r.numero_controle_pncp = i.numero_controle_pncp AND r.numero_item = i.numero_item"
                " WHERE i.numero_controle_pncp = ? AND i.numero_item = ?"
                " ORDER BY r.sequencial_resultado",
                [ncp, numero],
            )
            if not rows:
                raise _HttpError(404, "Item da contratação não encontrado")
            return _array(
                [self._resultado(r) for r in rows if r["sequencial_resultado"] is not None]
            )
        raise _HttpError(404, "Recurso não encontrado")

    def _termos(self, cnpj: str, ano: str, seq: str) -> _Reply:
        contrato = self._query(
            "SELECT numero_controle_pncp, ni_fornecedor, nome_razao_social_fornecedor,"
            " data_vigencia_inicio, data_vigencia_fim, valor_global"
            " FROM contratos WHERE cnpj = ? AND ano_contrato = ? AND sequencial_contrato = ?",
            [cnpj, _parse_int(ano, "ano"), _parse_int(seq, "sequencial")],
        )
        if not contrato:
            raise _HttpError(404, "Contrato não encontrado")
        k = contrato[0]
        rows = self._query(
            "SELECT * FROM termos WHERE numero_controle_pncp = ? ORDER BY sequencial_termo",
            [k["numero_controle_pncp"]],
        )
        return _array([self._termo(r, k) for r in rows])

    def _amparos(self) -> list[dict[str, Any]]:
        return [
            {
                "id": code,
                "nome": nome,
                "descricao": descricao,
                "statusAtivo": True,
                "dataInclusao": "2021-09-01T00:00:00",
                "dataAtualizacao": "2021-09-01T00:00:00",
            }
            for code, (nome, descricao) in codes.AMPAROS.items()
        ]

    # -- record shapes

    @staticmethod
    def _orgao(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "cnpj": r["cnpj"],
            "razaoSocial": r["o_razao_social"],
            "poderId": r["o_poder_id"],
            "esferaId": r["o_esfera_id"],
        }

    @staticmethod
    def _unidade(r: dict[str, Any]) -> dict[str, Any]:
        uf = r["u_uf_sigla"]
        return {
            "ufNome": codes.UFS.get(uf or "", uf),
            "codigoUnidade": r["codigo_unidade"],
            "nomeUnidade": r["u_nome_unidade"],
            "ufSigla": uf,
            "municipioNome": r["u_municipio_nome"],
            "codigoIbge": r["u_codigo_ibge"],
        }

    def _contratacao(self, r: dict[str, Any]) -> dict[str, Any]:
        amparo = r["amparo_legal_codigo"]
        nome, descricao = codes.AMPAROS.get(amparo, (f"Amparo legal {amparo}", ""))
        return {
            "numeroControlePNCP": r["numero_controle_pncp"],
            "anoCompra": r["ano_compra"],
            "sequencialCompra": r["sequencial_compra"],
            "numeroCompra": r["numero_compra"],
            "processo": r["processo"],
            "modalidadeId": r["modalidade_id"],
            "modalidadeNome": codes.MODALIDADES.get(r["modalidade_id"]),
            "tipoInstrumentoConvocatorioCodigo": r["tipo_instrumento_id"],
            "tipoInstrumentoConvocatorioNome": codes.INSTRUMENTOS.get(r["tipo_instrumento_id"]),
            "modoDisputaId": r["modo_disputa_id"],
            "modoDisputaNome": codes.MODOS_DISPUTA.get(r["modo_disputa_id"]),
            "situacaoCompraId": r["situacao_compra_id"],
            "situacaoCompraNome": codes.SITUACOES_COMPRA.get(r["situacao_compra_id"]),
            "amparoLegal": {"codigo": amparo, "nome": nome, "descricao": descricao},
            "srp": r["srp"],
            "objetoCompra": r["objeto_compra"],
            "informacaoComplementar": r["informacao_complementar"],
            "valorTotalEstimado": _num(r["valor_total_estimado"]),
            "valorTotalHomologado": _num(r["valor_total_homologado"]),
            "dataPublicacaoPncp": _ts(r["data_publicacao_pncp"]),
            "dataAberturaProposta": _ts(r["data_abertura_proposta"]),
            "dataEncerramentoProposta": _ts(r["data_encerramento_proposta"]),
            "dataInclusao": _ts(r["data_inclusao"]),
            "dataAtualizacao": _ts(r["data_atualizacao"]),
            "dataAtualizacaoGlobal": _ts(r["data_atualizacao_global"]),
            "orgaoEntidade": self._orgao(r),
            "unidadeOrgao": self._unidade(r),
            "orgaoSubRogado": None,
            "unidadeSubRogada": None,
            "linkSistemaOrigem": r["link_sistema_origem"],
            "usuarioNome": "Simulador PNCP",
        }

    @staticmethod
    def _item(r: dict[str, Any]) -> dict[str, Any]:
        catalogo = r["catalogo_id"]
        estimado = _num(r["valor_unitario_estimado"])
        return {
            "numeroItem": r["numero_item"],
            "descricao": r["descricao"],
            "materialOuServico": r["material_ou_servico"],
            "materialOuServicoNome": codes.MATERIAL_OU_SERVICO.get(r["material_ou_servico"]),
            "valorUnitarioEstimado": estimado,
            "valorTotal": _num(r["valor_total"]),
            "quantidade": _num(r["quantidade"]),
            "unidadeMedida": r["unidade_medida"],
            "orcamentoSigiloso": estimado == 0,
            "itemCategoriaId": 3,
            "itemCategoriaNome": "Não se aplica",
            "criterioJulgamentoId": r["criterio_julgamento_id"],
            "criterioJulgamentoNome": codes.CRITERIOS_JULGAMENTO.get(r["criterio_julgamento_id"]),
            "situacaoCompraItem": r["situacao_compra_item_id"],
            "situacaoCompraItemNome": codes.SITUACOES_ITEM.get(r["situacao_compra_item_id"]),
            "tipoBeneficio": 4,
            "tipoBeneficioNome": "Sem benefício",
            "incentivoProdutivoBasico": False,
            "dataInclusao": _ts(r["data_inclusao"]),
            "dataAtualizacao": _ts(r["data_atualizacao"]),
            "temResultado": r["tem_resultado"],
            "ncmNbsCodigo": None,
            "ncmNbsDescricao": None,
            "catalogo": (
                None
                if catalogo is None
                else {"id": catalogo, "nome": codes.CATALOGOS.get(catalogo, "Outros")}
            ),
            "categoriaItemCatalogo": None,
            "catalogoCodigoItem": r["catalogo_codigo_item"],
            "informacaoComplementar": None,
        }

    @staticmethod
    def _resultado(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "numeroItem": r["numero_item"],
            "sequencialResultado": r["sequencial_resultado"],
            "niFornecedor": r["ni_fornecedor"],
            "tipoPessoa": r["tipo_pessoa"],
            "nomeRazaoSocialFornecedor": r["nome_razao_social_fornecedor"],
            "porteFornecedorId": r["porte_fornecedor_id"],
            "porteFornecedorNome": codes.PORTES.get(r["porte_fornecedor_id"]),
            "quantidadeHomologada": _num(r["quantidade_homologada"]),
            "valorUnitarioHomologado": _num(r["valor_unitario_homologado"]),
            "valorTotalHomologado": _num(r["valor_total_homologado"]),
            "percentualDesconto": _num(r["percentual_desconto"]),
            "ordemClassificacaoSrp": r["ordem_classificacao_srp"],
            "situacaoCompraItemResultadoId": r["situacao_compra_item_resultado_id"],
            "situacaoCompraItemResultadoNome": codes.SITUACOES_RESULTADO.get(
                r["situacao_compra_item_resultado_id"]
            ),
            "dataResultado": _date(r["data_resultado"]),
            "dataInclusao": _ts(r["data_inclusao"]),
            "dataAtualizacao": _ts(r["data_atualizacao"]),
            "codigoPais": "BRA",
            "indicadorSubcontratacao": False,
            "aplicacaoMargemPreferencia": False,
            "numeroControlePNCPCompra": r["numero_controle_pncp"],
        }

    def _contrato(self, r: dict[str, Any]) -> dict[str, Any]:
        ni = r["ni_fornecedor"]
        tipo_pessoa = r["f_tipo_pessoa"] or ("PF" if len(ni or "") == 11 else "PJ")
        return {
            "numeroControlePNCP": r["numero_controle_pncp"],
            "numeroControlePncpCompra": r["numero_controle_pncp_compra"],
            "numeroContratoEmpenho": r["numero_contrato_empenho"],
            "anoContrato": r["ano_contrato"],
            "sequencialContrato": r["sequencial_contrato"],
            "tipoContrato": {
                "id": r["tipo_contrato_id"],
                "nome": codes.TIPOS_CONTRATO.get(r["tipo_contrato_id"]),
            },
            "receita": r["receita"],
            "objetoContrato": r["objeto_contrato"],
            "informacaoComplementar": None,
            "orgaoEntidade": self._orgao(r),
            "unidadeOrgao": self._unidade(r),
            "orgaoSubRogado": None,
            "unidadeSubRogada": None,
            "tipoPessoa": tipo_pessoa,
            "niFornecedor": ni,
            "nomeRazaoSocialFornecedor": r["nome_razao_social_fornecedor"],
            "valorInicial": _num(r["valor_inicial"]),
            "valorGlobal": _num(r["valor_global"]),
            "valorAcumulado": _num(r["valor_acumulado"]),
            "dataAssinatura": _date(r["data_assinatura"]),
            "dataVigenciaInicio": _date(r["data_vigencia_inicio"]),
            "dataVigenciaFim": _date(r["data_vigencia_fim"]),
            "dataPublicacaoPncp": _ts(r["data_publicacao_pncp"]),
            "dataAtualizacao": _ts(r["data_atualizacao"]),
            "numeroRetificacao": 0,
            "usuarioNome": "Simulador PNCP",
        }

    @staticmethod
    def _termo(r: dict[str, Any], k: dict[str, Any]) -> dict[str, Any]:
        tipo = r["tipo_termo_contrato_id"]
        signed = r["data_assinatura"]
        return {
            "sequencialTermoContrato": r["sequencial_termo"],
            "numeroTermoContrato": f"{r['sequencial_termo']:05d}/{signed.year if signed else ''}",
            "tipoTermoContratoId": tipo,
            "tipoTermoContratoNome": codes.TIPOS_TERMO.get(tipo),
            "qualificacaoAcrescimoSupressao": r["qualificacao_acrescimo_supressao"],
            "qualificacaoVigencia": r["qualificacao_vigencia"],
            "qualificacaoFornecedor": False,
            "qualificacaoReajuste": r["qualificacao_reajuste"],
            "qualificacaoInformativo": False,
            "valorAcrescido": _num(r["valor_acrescido"]),
            "prazoAditadoDias": r["prazo_aditado_dias"],
            "niFornecedor": k["ni_fornecedor"],
            "nomeRazaoSocialFornecedor": k["nome_razao_social_fornecedor"],
            "dataAssinatura": _date(signed),
            "dataPublicacaoPncp": _ts(r["data_publicacao_pncp"]),
            "numeroControlePncpContrato": k["numero_controle_pncp"],
        }


# The served columns of itens: every one but codigo_classe (the hidden truth).
_ITEM_COLUMNS = ", ".join(
    [
        "numero_controle_pncp",
        "numero_item",
        "material_ou_servico",
        "descricao",
        "quantidade",
        "unidade_medida",
        "valor_unitario_estimado",
        "valor_total",
        "criterio_julgamento_id",
        "situacao_compra_item_id",
        "tem_resultado",
        "catalogo_id",
        "catalogo_codigo_item",
        "data_inclusao",
        "data_atualizacao",
    ]
)


def _cut(body: bytes) -> bytes:
    """A body cut in half, as a dropped proxy connection leaves it; never valid JSON (a bare
    count cut in half, ``1234`` -> ``12``, would be, so it gets a stray byte)."""
    cut = body[: max(1, len(body) // 2)]
    try:
        json.loads(cut)
    except ValueError:
        return cut
    return cut + b"<"


def _array(rows: list[Any]) -> _Reply:
    return _Reply(200, _json(rows))


def _domain(table: dict[int, str]) -> list[dict[str, Any]]:
    return [{"id": k, "nome": v, "descricao": v, "statusAtivo": True} for k, v in table.items()]


def _spring_error(status: int, message: str, path: str) -> dict[str, Any]:
    """An error body as PNCP's Spring Boot services write it."""
    return {
        "timestamp": datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "status": status,
        "error": _REASONS.get(status, "Error"),
        "message": message,
        "path": path,
    }


def _parse_day(text: str, name: str) -> datetime.date:
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _HttpError(400, f"Parâmetro '{name}' inválido: '{text}' (formato AAAAMMDD)") from None


def _parse_int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _HttpError(400, f"Parâmetro '{name}' inválido: '{text}'") from None


def _endpoint_of(path: str) -> str:
    """A short name of the endpoint a path calls (for the counters)."""
    if path.startswith(CONSULTA + "/"):
        return path[len(CONSULTA) + 1 :]
    if path.startswith(PNCP + "/"):
        parts = path[len(PNCP) + 1 :].split("/")
        if parts[0] == "orgaos" and len(parts) > 5:
            tail = parts[5:]
            if len(tail) == 3 and tail[0] == "itens":
                return f"{parts[2]}/itens/resultados"
            return f"{parts[2]}/" + "/".join(tail)
        return parts[0]
    return "other"
