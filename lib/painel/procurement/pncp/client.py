"""A client for PNCP's public APIs (``https://pncp.gov.br``): the consulta listings and the
detail calls the procurement ETL makes (docs/procurement.md).

What it copes with (``/work/shared/domain/procurement.md`` §2):

- **pacing**: every HTTP attempt, retries included, starts at least ``pace`` seconds after
  the previous one of this client (a monotonic clock; PNCP answers 429 to 1 s spacing and
  nothing to 2 s);
- **429** (no ``Retry-After``, sometimes an HTML page), **5xx**, timeouts and dropped
  connections: retried with exponential backoff (tenacity) within ``retries`` attempts and
  ``budget_s`` seconds per call, then :class:`PncpUnavailable`;
- **malformed JSON** in a 200: retried likewise, then :class:`PncpBadResponse` with the URL
  and the reply's first bytes;
- **400/422** (a missing parameter, a bad page size, a window over 365 days): no retry,
  :class:`PncpRequestError` with PNCP's ``message``;
- **204 with an empty body**: no data, an empty list;
- **short pages** (a 200 with fewer rows than ``totalRegistros`` implies for that page, or
  an items page shorter than ``/itens/quantidade`` implies): the page is asked again up to
  ``short_retries`` times, then :class:`PncpIncomplete`;
- **bare arrays** on the detail calls, and items paged 500 at a time (PNCP gives 10 by
  default and truncates silently).

:attr:`PncpClient.stats` counts calls, retries and waits for the ETL's coverage table.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

USER_AGENT = "painel-procurement/1 (+https://github.com/painel)"
CONSULTA = "/api/consulta/v1"
PNCP = "/api/pncp/v1"

CONTRATACOES_PAGE = 50  # PNCP refuses more (400 "Tamanho de página inválido")
CONTRATOS_PAGE = 500
ITEMS_PAGE = 500

By = Literal["publicacao", "atualizacao"]


class PncpError(Exception):
    """A PNCP call that did not give its data; the message names the call."""


class PncpRequestError(PncpError):
    """PNCP refused the request itself (400, 404, 422): retrying will not help."""

    def __init__(self, what: str, status: int, message: str, url: str):
        self.status = status
        self.message = message
        self.url = url
        super().__init__(f"{what}: PNCP answered {status} {message!r} ({url})")


class PncpUnavailable(PncpError):
    """429/5xx/timeouts/connection errors on every attempt within the retry budget."""

    def __init__(self, what: str, reason: str, attempts: int, elapsed_s: float, url: str):
        self.reason = reason
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.url = url
        super().__init__(
            f"{what}: PNCP unavailable ({reason}) after {attempts} attempts "
            f"over {elapsed_s:.1f} s ({url})"
        )


class PncpBadResponse(PncpError):
    """A 200 whose body is not the JSON the call documents, on every attempt."""

    def __init__(self, what: str, url: str, head: bytes, attempts: int, detail: str = ""):
        self.url = url
        self.head = head
        self.attempts = attempts
        why = detail or "unreadable JSON"
        super().__init__(
            f"{what}: {why} from {url} after {attempts} attempts; first bytes: {head!r}"
        )


class PncpIncomplete(PncpError):
    """A page kept coming back with fewer rows than PNCP's own count says it holds."""


@dataclass
class PncpStats:
    """What the client did; ``wait_s`` = ``pace_wait_s`` + ``backoff_wait_s``."""

    calls: int = 0  # HTTP attempts, retries included
    retries: int = 0  # attempts after a failed one (429, 5xx, timeout, bad JSON)
    refused: int = 0  # 429 replies
    server_errors: int = 0  # 5xx replies
    timeouts: int = 0  # timeouts and connection errors
    malformed: int = 0  # 200s whose JSON could not be read
    no_content: int = 0  # 204s
    short_pages: int = 0  # pages re-asked because they came back short
    pace_wait_s: float = 0.0  # slept to keep the pace
    backoff_wait_s: float = 0.0  # slept backing off after failures
    by_endpoint: Counter[str] = field(default_factory=Counter)  # attempts per endpoint
    by_reason: Counter[str] = field(default_factory=Counter)  # retries per reason

    @property
    def wait_s(self) -> float:
        return self.pace_wait_s + self.backoff_wait_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "retries": self.retries,
            "refused": self.refused,
            "server_errors": self.server_errors,
            "timeouts": self.timeouts,
            "malformed": self.malformed,
            "no_content": self.no_content,
            "short_pages": self.short_pages,
            "pace_wait_s": round(self.pace_wait_s, 3),
            "backoff_wait_s": round(self.backoff_wait_s, 3),
            "wait_s": round(self.wait_s, 3),
            "by_endpoint": dict(self.by_endpoint),
            "by_reason": dict(self.by_reason),
        }


class _Transient(Exception):
    """A failed attempt worth retrying."""

    def __init__(self, reason: str, url: str, head: bytes = b"", detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.url = url
        self.head = head  # first bytes of an unreadable body
        self.detail = detail


class _Malformed(_Transient):
    pass


_NO_CONTENT = object()


class PncpClient:
    """PNCP's consulta and detail calls, paced, retried and checked for completeness.

    ``base_url`` is PNCP's origin (``https://pncp.gov.br`` or a simulator's URL); the client
    adds ``/api/consulta/v1`` and ``/api/pncp/v1``. ``clock`` (monotonic seconds) and
    ``sleep`` are injectable so that tests can check pacing without waiting.
    """

    def __init__(
        self,
        base_url: str,
        *,
        pace: float = 2.0,
        retries: int = 8,
        budget_s: float = 600.0,
        backoff_s: float | None = None,
        max_backoff_s: float = 120.0,
        timeout: float = 90.0,
        short_retries: int = 3,
        session: requests.Session | None = None,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if pace < 0 or retries < 1 or budget_s <= 0 or timeout <= 0 or short_retries < 0:
            raise ValueError(
                "PncpClient: pace >= 0, retries >= 1, budget_s > 0, timeout > 0 and "
                f"short_retries >= 0 are required (got pace={pace}, retries={retries}, "
                f"budget_s={budget_s}, timeout={timeout}, short_retries={short_retries})"
            )
        self.base_url = base_url.rstrip("/")
        self.pace = float(pace)
        self.retries = int(retries)
        self.budget_s = float(budget_s)
        # the first backoff: one pace (at least 1 s against the real PNCP's default pace)
        self.backoff_s = float(backoff_s if backoff_s is not None else max(pace, 0.01))
        self.max_backoff_s = float(max_backoff_s)
        self.timeout = float(timeout)
        self.short_retries = int(short_retries)
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.session.headers["Accept"] = "application/json"
        self.log = log or logging.getLogger("painel.procurement.pncp")
        self._clock = clock
        self._sleep = sleep
        self._pace_lock = threading.Lock()
        self._last_start: float | None = None
        self.stats = PncpStats()

    def __repr__(self) -> str:
        return f"PncpClient({self.base_url!r}, pace={self.pace:g})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PncpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one call ----------------------------------------------------------------------------
    def _wait_pace(self) -> None:
        """Sleep until ``pace`` s after the previous attempt's start; mark this one's start."""
        with self._pace_lock:
            if self._last_start is not None:
                wait = self._last_start + self.pace - self._clock()
                if wait > 0:
                    self.stats.pace_wait_s += wait
                    self._sleep(wait)
            self._last_start = self._clock()

    def _attempt(self, path: str, params: dict[str, Any] | None, endpoint: str) -> Any:
        url = self.base_url + path
        self._wait_pace()
        self.stats.calls += 1
        self.stats.by_endpoint[endpoint] += 1
        try:
            resp = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout:
            self.stats.timeouts += 1
            raise _Transient("timeout", url) from None
        except requests.ConnectionError:
            self.stats.timeouts += 1
            raise _Transient("connection error", url) from None
        url = resp.url or url
        status = resp.status_code
        if status == 429:
            self.stats.refused += 1
            raise _Transient("429 too many requests", url)
        if status >= 500:
            self.stats.server_errors += 1
            raise _Transient(f"HTTP {status}", url)
        if status == 204:
            self.stats.no_content += 1
            return _NO_CONTENT
        if status != 200:
            raise PncpRequestError(self._what(endpoint, params), status, _error_message(resp), url)
        try:
            return resp.json()
        except ValueError:
            self.stats.malformed += 1
            raise _Malformed("malformed JSON", url, resp.content[:80]) from None

    def _what(self, endpoint: str, params: dict[str, Any] | None) -> str:
        if not params:
            return f"GET {endpoint}"
        return f"GET {endpoint} " + " ".join(f"{k}={v}" for k, v in params.items())

    def _call(self, path: str, params: dict[str, Any] | None, endpoint: str) -> Any:
        """One GET's parsed JSON (or ``_NO_CONTENT``), retried on transient failures."""
        started = self._clock()
        attempts = 0
        what = self._what(endpoint, params)

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            return self._attempt(path, params, endpoint)

        def stop(state: RetryCallState) -> bool:
            return state.attempt_number >= self.retries or (
                self._clock() - started >= self.budget_s
            )

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = exc.reason if isinstance(exc, _Transient) else "error"
            self.stats.retries += 1
            self.stats.by_reason[reason] += 1
            wait = state.next_action.sleep if state.next_action else 0.0
            self.log.info("%s: %s; retry %d in %.2f s", what, reason, state.attempt_number, wait)

        def backoff_sleep(seconds: float) -> None:
            seconds = max(0.0, min(seconds, self.budget_s - (self._clock() - started)))
            self.stats.backoff_wait_s += seconds
            if seconds > 0:
                self._sleep(seconds)

        retrying = Retrying(
            stop=stop,
            wait=wait_exponential(
                multiplier=self.backoff_s, min=self.backoff_s, max=self.max_backoff_s
            ),
            retry=retry_if_exception_type(_Transient),
            before_sleep=before_sleep,
            sleep=backoff_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Malformed as exc:
            raise PncpBadResponse(what, exc.url, exc.head, attempts, exc.detail) from None
        except _Transient as exc:
            elapsed = self._clock() - started
            self.log.warning("%s: giving up after %d attempts (%s)", what, attempts, exc.reason)
            raise PncpUnavailable(what, exc.reason, attempts, elapsed, exc.url) from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """Any GET under PNCP's origin (``/api/consulta/v1/...``, ``/api/pncp/v1/...``), paced
        and retried: the parsed JSON, or None for a 204."""
        body = self._call(path, params, path)
        return None if body is _NO_CONTENT else body

    def _array(self, path: str, params: dict[str, Any] | None, endpoint: str) -> list[Any]:
        body = self._call(path, params, endpoint)
        if body is _NO_CONTENT:
            return []
        if not isinstance(body, list):
            raise PncpBadResponse(
                self._what(endpoint, params),
                self.base_url + path,
                repr(body)[:80].encode(),
                1,
                "not a JSON array",
            )
        return body

    # ---- envelope listings -----------------------------------------------------------------
    def _listing(
        self, path: str, params: dict[str, Any], size: int, endpoint: str, key: str
    ) -> list[dict[str, Any]]:
        """Every page's ``data`` of a consulta listing, each page checked against the count."""
        rows: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            query = {**params, "pagina": page, "tamanhoPagina": size}
            what = self._what(endpoint, query)
            for _asked in range(self.short_retries + 1):
                body = self._call(path, query, endpoint)
                if body is _NO_CONTENT:
                    return list(rows.values())
                data, total, pages = _envelope(body, what, self.base_url + path)
                expected = max(0, min(size, total - (page - 1) * size))
                if len(data) >= expected:
                    break
                self.stats.short_pages += 1
                self.log.info(
                    "%s: short page (%d rows of %d); asking again", what, len(data), expected
                )
            else:
                raise PncpIncomplete(
                    f"{what}: page came back with {len(data)} rows of the {expected} that "
                    f"totalRegistros={total} implies, {self.short_retries + 1} times"
                )
            for row in data:
                rows[str(row.get(key)) if isinstance(row, dict) else repr(row)] = row
            if page >= pages:
                return list(rows.values())
            page += 1

    def contratacoes(
        self, day: datetime.date, modalidade: int, *, uf: str | None = "GO", by: By = "publicacao"
    ) -> list[dict[str, Any]]:
        """Contratações of one modality published (or updated: ``by='atualizacao'``) on ``day``."""
        if by not in ("publicacao", "atualizacao"):
            raise ValueError(f"contratacoes: by must be 'publicacao' or 'atualizacao', not {by!r}")
        params: dict[str, Any] = {
            "dataInicial": day.strftime("%Y%m%d"),
            "dataFinal": day.strftime("%Y%m%d"),
            "codigoModalidadeContratacao": modalidade,
        }
        if uf:
            params["uf"] = uf
        return self._listing(
            f"{CONSULTA}/contratacoes/{by}",
            params,
            CONTRATACOES_PAGE,
            f"contratacoes/{by}",
            "numeroControlePNCP",
        )

    def contratos(
        self,
        day: datetime.date,
        *,
        uf: str | None = "GO",
        by: By = "publicacao",
        cnpj: str | None = None,
    ) -> list[dict[str, Any]]:
        """Contratos published (or updated) on ``day``; PNCP has no ``uf`` filter here, so the
        client keeps the records whose ``unidadeOrgao.ufSigla`` is ``uf`` (None: all)."""
        if by not in ("publicacao", "atualizacao"):
            raise ValueError(f"contratos: by must be 'publicacao' or 'atualizacao', not {by!r}")
        params: dict[str, Any] = {
            "dataInicial": day.strftime("%Y%m%d"),
            "dataFinal": day.strftime("%Y%m%d"),
        }
        if cnpj:
            params["cnpjOrgao"] = cnpj
        path = f"{CONSULTA}/contratos" + ("/atualizacao" if by == "atualizacao" else "")
        endpoint = "contratos" + ("/atualizacao" if by == "atualizacao" else "")
        rows = self._listing(path, params, CONTRATOS_PAGE, endpoint, "numeroControlePNCP")
        if uf is None:
            return rows
        return [r for r in rows if ((r.get("unidadeOrgao") or {}).get("ufSigla") or "") == uf]

    # ---- detail calls (bare arrays) --------------------------------------------------------
    def itens_quantidade(self, cnpj: str, ano: int, seq: int) -> int:
        """``/itens/quantidade``: how many items the purchase has (a bare number)."""
        path = f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens/quantidade"
        body = self._call(path, None, "compras/itens/quantidade")
        if body is _NO_CONTENT:
            return 0
        if isinstance(body, bool) or not isinstance(body, int):
            raise PncpBadResponse(
                f"GET {path}", self.base_url + path, repr(body)[:80].encode(), 1, "not a count"
            )
        return body

    def itens(self, cnpj: str, ano: int, seq: int) -> list[dict[str, Any]]:
        """Every item of a purchase: pages of 500 until a short one, cross-checked with
        ``/itens/quantidade`` (a page shorter than the count implies is asked again)."""
        expected_total = self.itens_quantidade(cnpj, ano, seq)
        path = f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens"
        by_number: dict[Any, dict[str, Any]] = {}
        page = 1
        while True:
            query = {"pagina": page, "tamanhoPagina": ITEMS_PAGE}
            expected = max(0, min(ITEMS_PAGE, expected_total - (page - 1) * ITEMS_PAGE))
            for _asked in range(self.short_retries + 1):
                rows = self._array(path, query, "compras/itens")
                if len(rows) >= expected:
                    break
                self.stats.short_pages += 1
                self.log.info(
                    "GET %s page %d: %d items of %d; asking again", path, page, len(rows), expected
                )
            else:
                raise PncpIncomplete(
                    f"GET {path} pagina={page}: {len(rows)} items of the {expected} that "
                    f"/itens/quantidade={expected_total} implies, {self.short_retries + 1} times"
                )
            for row in rows:
                by_number[row.get("numeroItem") if isinstance(row, dict) else repr(row)] = row
            if len(rows) < ITEMS_PAGE:
                break
            page += 1
        return sorted(by_number.values(), key=lambda r: _sort_key(r.get("numeroItem")))

    def resultados(self, cnpj: str, ano: int, seq: int, item: int) -> list[dict[str, Any]]:
        """The results of one item (call it where ``temResultado`` is true)."""
        path = f"{PNCP}/orgaos/{cnpj}/compras/{ano}/{seq}/itens/{item}/resultados"
        return self._array(path, None, "compras/itens/resultados")

    def termos(self, cnpj: str, ano: int, seq: int) -> list[dict[str, Any]]:
        """The amendments (termos) of a contrato."""
        path = f"{PNCP}/orgaos/{cnpj}/contratos/{ano}/{seq}/termos"
        return self._array(path, None, "contratos/termos")

    def amparos(self) -> list[dict[str, Any]]:
        """The amparo legal codes: ``[{id, nome, descricao, statusAtivo, ...}]``."""
        return self._array(f"{PNCP}/amparos-legais", None, "amparos-legais")

    def modalidades(self) -> list[dict[str, Any]]:
        """The modalidade codes: ``[{id, nome, descricao, statusAtivo}]``."""
        return self._array(f"{PNCP}/modalidades", None, "modalidades")


def _envelope(body: Any, what: str, url: str) -> tuple[list[Any], int, int]:
    """(data, totalRegistros, totalPaginas) of a consulta envelope."""
    try:
        data = body["data"]
        total = int(body["totalRegistros"])
        pages = int(body["totalPaginas"])
        if not isinstance(data, list):
            raise TypeError
    except (KeyError, TypeError, ValueError):
        raise PncpBadResponse(
            what, url, repr(body)[:80].encode(), 1, "not PNCP's paged envelope"
        ) from None
    return data, total, pages


def _error_message(resp: requests.Response) -> str:
    """PNCP's ``message`` of an error reply, else the start of its body."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip() or resp.reason or ""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(body)[:200]


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))
