"""The Cademi API over a :class:`~.world.World`, served by a threaded HTTP server on loopback.

It reproduces what a client of the real API has to cope with: the bare-key
``Authorization`` header (403 without it, 405 with a wrong one), the JSON envelope with its
``profiler``, Laravel-style cursor pagination with absolute ``next_page_url`` links, 409
business errors with Portuguese messages, a sliding-window rate limit (per second and per
minute) and injected faults (slow replies, 5xx pages, dropped connections, truncated JSON).

Besides the API, two control routes (no auth, not rate-limited, not counted) let a test in
another process steer the simulator: ``GET /_sim/stats`` and ``POST /_sim/control``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ...simserver import SimHandler, SimServer
from .world import World, _mix, to_timestamp

API_PREFIX = "/api/v1"

USERS_PER_PAGE = 150
PRODUCTS_PER_PAGE = 15

MSG_NO_HEADER = "Header de segurança não informado"
MSG_BAD_TOKEN = "Token de segurança inválido"
MSG_RATE_LIMIT = "Limite de requisições excedido"
MSG_NO_ROUTE = "Rota não encontrada"
MSG_BAD_CURSOR = "Cursor inválido"
MSG_NO_TAG = "Tag não encontrada"
MSG_NO_USER = "Usuário não encontrado"
MSG_NO_PRODUCT = "Produto não encontrado"
MSG_INTERNAL = "Erro interno do servidor"

FAULT_NAMES = ("slow", "5xx", "drop", "malformed", "ok")
ENDPOINTS = ("lista_por_tag", "progresso_por_produto", "tag", "produto", "usuario")


# --------------------------------------------------------------------------- faults and limits


@dataclass
class Faults:
    """Injected faults: probabilities drawn per accepted, authenticated API request.

    ``script`` holds fault names consumed one per such request before the random draw
    ("slow", "5xx", "drop", "malformed" or "ok" for a clean reply).
    """

    slow: float = 0.0  # probability a reply is delayed by slow_seconds
    slow_seconds: float = 2.0
    error_5xx: float = 0.0  # probability of a 500/502/503 with a small text/html body
    drop: float = 0.0  # probability the connection is closed with no reply at all
    malformed: float = 0.0  # probability of a 200 whose JSON body is truncated (invalid JSON)
    script: collections.deque[str] = field(default_factory=collections.deque)


class _RateLimiter:
    """Sliding 1 s and 60 s windows over the arrival times of accepted requests (not thread-safe)."""

    def __init__(self, per_second: float, per_minute: int):
        self.per_second = per_second
        self.per_minute = per_minute
        self._times: collections.deque[float] = collections.deque()

    def _count_since(self, since: float) -> int:
        n = 0
        for t in reversed(self._times):
            if t <= since:
                break
            n += 1
        return n

    def try_accept(self, now: float) -> bool:
        while self._times and self._times[0] <= now - 60.0:
            self._times.popleft()
        if self.per_second >= 1:
            over_second = self._count_since(now - 1.0) + 1 > self.per_second
        else:  # e.g. 0.5/s: one call per 2 s window
            over_second = self._count_since(now - 1.0 / self.per_second) >= 1
        if over_second or len(self._times) + 1 > self.per_minute:
            return False
        self._times.append(now)
        return True

    def window_counts(self, now: float, floor: float) -> tuple[int, int]:
        """Accepted requests in the 1 s and 60 s windows ending now, ignoring those at or before ``floor``."""
        return self._count_since(max(now - 1.0, floor)), self._count_since(max(now - 60.0, floor))


# --------------------------------------------------------------------------- HTTP


class _Server(SimServer):
    sim: Any

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)


class _Handler(SimHandler):
    server: _Server

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = SimHandler._dispatch


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


class _ApiError(Exception):
    def __init__(self, code: int, msg: str):
        super().__init__(msg)
        self.code = code
        self.msg = msg


class CademiSimulator:
    """The Cademi API over a :class:`World`, served by a threaded HTTP server on loopback."""

    def __init__(
        self,
        *,
        seed: int = 7,
        students: int = 300,
        classes: int = 6,
        key: str = "painel-demo-key",
        per_second: float = 2.0,
        per_minute: int = 120,
        limit_status: int = 429,
        anchor: datetime.date | None = None,
        as_of: datetime.datetime | None = None,
        faults: Faults | None = None,
    ):
        self.world = World(seed=seed, students=students, classes=classes, anchor=anchor)
        self.seed = seed
        self.key = key
        self.per_second = per_second
        self.per_minute = per_minute
        self.limit_status = limit_status
        self.as_of = as_of
        self.faults = faults if faults is not None else Faults()
        self.unknown_users: set[int] = set()
        self.malformed_progress: set[tuple[int, int]] = set()
        self.empty_tags: set[int] = set()
        self.base_url = ""
        self.port = 0
        self.host = ""
        self._lock = threading.Lock()
        self._limiter = _RateLimiter(per_second, per_minute)
        self._fault_rng = random.Random(_mix("faults", seed))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.reset_stats()

    # -- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL ``http://host:port/api/v1``."""
        if self._server is not None:
            return self.base_url
        server = _Server((host, port))
        server.sim = self
        self._server = server
        self.host = host
        self.port = server.server_address[1]
        self.base_url = f"http://{host}:{self.port}{API_PREFIX}"
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.name = f"cademi-simulator-{self.port}"
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CademiSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- limits (settable; the limiter follows)

    @property
    def per_second(self) -> float:
        return self._per_second

    @per_second.setter
    def per_second(self, value: float) -> None:
        self._per_second = float(value)
        if hasattr(self, "_limiter"):
            self._limiter.per_second = self._per_second

    @property
    def per_minute(self) -> int:
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value: int) -> None:
        self._per_minute = int(value)
        if hasattr(self, "_limiter"):
            self._limiter.per_minute = self._per_minute

    # -- stats

    def reset_stats(self) -> None:
        with self._lock:
            self._stats_since = time.monotonic()
            self._requests = 0
            self._accepted = 0
            self._refused = 0
            self._by_status: collections.Counter[int] = collections.Counter()
            self._by_endpoint: collections.Counter[str] = collections.Counter(
                {name: 0 for name in ENDPOINTS}
            )
            self._fault_counts: collections.Counter[str] = collections.Counter()
            self._max_1s = 0
            self._max_60s = 0

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset (``by_status`` keyed by int status code)."""
        with self._lock:
            return {
                "requests": self._requests,
                "accepted": self._accepted,
                "refused": self._refused,
                "by_status": dict(sorted(self._by_status.items())),
                "by_endpoint": dict(self._by_endpoint),
                "faults": dict(self._fault_counts),
                "max_in_1s": self._max_1s,
                "max_in_60s": self._max_60s,
            }

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1

    # -- control

    def apply_control(self, payload: dict[str, Any]) -> None:
        """Apply a ``POST /_sim/control`` payload (every key optional)."""
        if "as_of" in payload:
            value = payload["as_of"]
            self.as_of = None if value is None else datetime.datetime.fromisoformat(str(value))
        faults = dict(payload.get("faults") or {})
        if "script" in faults:
            payload = {**payload, "script": faults.pop("script")}
        names = {f.name for f in fields(Faults)} - {"script"}
        for name, value in faults.items():
            if name not in names:
                raise ValueError(f"unknown fault field {name!r}")
            setattr(self.faults, name, float(value))
        if "script" in payload:
            script = [str(s) for s in payload["script"] or []]
            bad = [s for s in script if s not in FAULT_NAMES]
            if bad:
                raise ValueError(f"unknown fault names {bad}")
            with self._lock:
                self.faults.script.clear()
                self.faults.script.extend(script)
        if "unknown_users" in payload:
            self.unknown_users = {int(u) for u in payload["unknown_users"] or []}
        if "empty_tags" in payload:
            self.empty_tags = {int(t) for t in payload["empty_tags"] or []}
        if "malformed_progress" in payload:
            self.malformed_progress = {
                (int(u), int(p)) for u, p in payload["malformed_progress"] or []
            }
        if payload.get("reset_stats"):
            self.reset_stats()

    # -- request handling

    def _handle(self, h: _Handler) -> None:
        arrived = time.time()
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        url = urlsplit(h.path)
        path = url.path.rstrip("/") or "/"
        if path.startswith("/_sim/"):
            self._send(h, self._control(h.command, path, body))
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            reply = self._api(h, url.path, url.query, arrived)
            if reply is None:  # injected drop: close with no reply at all
                h.close_connection = True
                return
            self._send(h, reply)
        else:
            self._send(h, self._envelope_error(404, MSG_NO_ROUTE, arrived))

    def _send(self, h: _Handler, reply: _Reply) -> None:
        h.send_response(reply.status)
        h.send_header("Content-Type", reply.content_type)
        h.send_header("Content-Length", str(len(reply.body)))
        h.end_headers()
        h.wfile.write(reply.body)

    def _control(self, method: str, path: str, body: bytes) -> _Reply:
        def js(status: int, obj: Any) -> _Reply:
            return _Reply(status, json.dumps(obj, ensure_ascii=False).encode())

        if path == "/_sim/stats" and method == "GET":
            return js(200, self.stats())
        if path == "/_sim/control" and method == "POST":
            try:
                payload = json.loads(body or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("the control payload must be a JSON object")
                self.apply_control(payload)
            except (ValueError, TypeError) as exc:
                return js(400, {"ok": False, "error": str(exc)})
            return js(200, {"ok": True})
        return js(404, {"ok": False, "error": "unknown control route"})

    def _api(self, h: _Handler, raw_path: str, query: str, arrived: float) -> _Reply | None:
        now = time.monotonic()
        endpoint = _endpoint_of(raw_path)
        with self._lock:
            self._requests += 1
            accepted = self._limiter.try_accept(now)
            if accepted:
                self._accepted += 1
                self._by_endpoint[endpoint] += 1
                in_1s, in_60s = self._limiter.window_counts(now, self._stats_since)
                self._max_1s = max(self._max_1s, in_1s)
                self._max_60s = max(self._max_60s, in_60s)
            else:
                self._refused += 1
        if not accepted:
            return self._finish(self._envelope_error(self.limit_status, MSG_RATE_LIMIT, arrived))
        auth = h.headers.get("Authorization")
        if auth is None or not auth.strip():
            return self._finish(self._envelope_error(403, MSG_NO_HEADER, arrived))
        if auth.strip() != self.key:
            return self._finish(self._envelope_error(405, MSG_BAD_TOKEN, arrived))
        slow, fault = self._draw_fault()
        if slow:
            self._stopping.wait(self.faults.slow_seconds)
        if fault == "drop":
            return None
        if fault == "5xx":
            status = self._fault_rng_choice([500, 502, 503])
            page = f"<html><head><title>{status}</title></head><body><h1>{status} {_REASONS[status]}</h1></body></html>"
            return self._finish(_Reply(status, page.encode(), "text/html; charset=utf-8"))
        host = h.headers.get("Host") or f"{self.host}:{self.port}"
        try:
            data = self._route(h.command, raw_path, query, f"http://{host}")
            reply = self._envelope_ok(data, arrived)
        except _ApiError as exc:
            reply = self._envelope_error(exc.code, exc.msg, arrived)
        except Exception:  # noqa: BLE001 - keep serving; a bug shows as a 500 envelope
            reply = self._envelope_error(500, MSG_INTERNAL, arrived)
        if fault == "malformed":
            reply = _Reply(200, reply.body[: max(1, len(reply.body) // 2)], reply.content_type)
        return self._finish(reply)

    def _finish(self, reply: _Reply) -> _Reply:
        self._count_status(reply.status)
        return reply

    def _fault_rng_choice(self, options: list[int]) -> int:
        with self._lock:
            return self._fault_rng.choice(options)

    def _draw_fault(self) -> tuple[bool, str | None]:
        """(delay?, one of "drop"/"5xx"/"malformed"/None) from the script, else from the probabilities."""
        f = self.faults
        with self._lock:
            if f.script:
                name = f.script.popleft()
                slow, fault = (
                    name == "slow",
                    (name if name in ("drop", "5xx", "malformed") else None),
                )
            else:
                r = self._fault_rng
                slow = f.slow > 0 and r.random() < f.slow
                fault = None
                if f.drop > 0 and r.random() < f.drop:
                    fault = "drop"
                elif f.error_5xx > 0 and r.random() < f.error_5xx:
                    fault = "5xx"
                elif f.malformed > 0 and r.random() < f.malformed:
                    fault = "malformed"
            if slow:
                self._fault_counts["slow"] += 1
            if fault:
                self._fault_counts[fault] += 1
        return slow, fault

    def _profiler(self, arrived: float) -> dict[str, float]:
        finish = time.time()
        return {
            "start": round(arrived, 2),
            "finish": round(finish, 2),
            "process": round(finish - arrived, 3),
        }

    def _envelope_ok(self, data: dict[str, Any], arrived: float) -> _Reply:
        body = {"success": True, "code": 200, "data": data, "profiler": self._profiler(arrived)}
        return _Reply(200, _php_json(body))

    def _envelope_error(self, code: int, msg: str, arrived: float) -> _Reply:
        body = {"success": False, "code": code, "msg": msg, "profiler": self._profiler(arrived)}
        return _Reply(code, _php_json(body))

    # -- routes

    def _as_of_ts(self) -> float:
        return to_timestamp(self.as_of)

    def _route(self, method: str, raw_path: str, query: str, origin: str) -> dict[str, Any]:
        parts = [unquote(p) for p in raw_path[len(API_PREFIX) :].split("/") if p]
        if method != "GET" or not parts:
            raise _ApiError(404, MSG_NO_ROUTE)
        cursors = parse_qs(query).get("cursor")
        cursor = cursors[0] if cursors else None
        head, rest = parts[0], parts[1:]
        world = self.world
        ts = self._as_of_ts()
        if head == "usuario":
            if not rest:
                users = world.students
                page = self._paginate(
                    users, cursor, USERS_PER_PAGE, lambda s: s.id, origin, raw_path
                )
                return {
                    "paginator": page.paginator,
                    "usuario": [world._user_dict(s, ts) for s in page.items],
                }
            if rest[0] == "lista_por_tag" and len(rest) == 2:
                tag_id = _int_or_none(rest[1])
                if tag_id is None or not world.has_tag(tag_id):
                    raise _ApiError(409, MSG_NO_TAG)
                ids = [] if tag_id in self.empty_tags else world._member_ids(tag_id, ts)
                page = self._paginate(
                    ids, cursor, USERS_PER_PAGE, lambda uid: uid, origin, raw_path
                )
                listed = [world._user_dict(world._by_id[uid], ts) for uid in page.items]
                return {"paginator": page.paginator, "usuario": listed}
            if rest[0] == "progresso_por_produto" and len(rest) == 3:
                return {"progresso": self._progress_reply(rest[1], rest[2], ts)}
            if len(rest) == 1:
                student = world.find_user(rest[0])
                if student is None:
                    raise _ApiError(409, MSG_NO_USER)
                return {"usuario": world._user_dict(student, ts)}
        elif head == "tag" and not rest:
            return {"itens": [{"id": tag_id, "nome": nome} for tag_id, nome in world.tags]}
        elif head == "produto":
            if not rest:
                page = self._paginate(
                    world.products, cursor, PRODUCTS_PER_PAGE, lambda p: p.id, origin, raw_path
                )
                return {"paginator": page.paginator, "produto": [p.as_item() for p in page.items]}
            if len(rest) == 1:
                product_id = _int_or_none(rest[0])
                product = world.product(product_id) if product_id is not None else None
                if product is None:
                    raise _ApiError(409, MSG_NO_PRODUCT)
                return {"produto": product.as_detail()}
        raise _ApiError(404, MSG_NO_ROUTE)

    def _progress_reply(self, user_key: str, product_key: str, ts: float) -> dict[str, Any]:
        world = self.world
        student = world.find_user(user_key)
        if student is None or student.id in self.unknown_users:
            raise _ApiError(409, MSG_NO_USER)
        product_id = _int_or_none(product_key)
        product = world.product(product_id) if product_id is not None else None
        if product is None:
            raise _ApiError(409, MSG_NO_PRODUCT)
        pct, assistidas, completas = world._progress(student, product, ts)
        total = "abc%" if (student.id, product.id) in self.malformed_progress else f"{pct:.1f}%"
        return {"total": total, "assistidas": assistidas, "completas": completas, "aulas": []}

    def _paginate(
        self,
        items: list[Any],
        cursor: str | None,
        per_page: int,
        key: Callable[[Any], int],
        origin: str,
        raw_path: str,
    ) -> _Page:
        after = _decode_cursor(cursor) if cursor is not None else None
        start = 0
        if after is not None:
            # items are sorted by key: skip to the first one after the cursor's id
            lo, hi = 0, len(items)
            while lo < hi:
                mid = (lo + hi) // 2
                if key(items[mid]) <= after:
                    lo = mid + 1
                else:
                    hi = mid
            start = lo
        chunk = items[start : start + per_page]
        next_url = None
        if start + per_page < len(items) and chunk:
            next_url = f"{origin}{raw_path}?cursor={_encode_cursor(key(chunk[-1]))}"
        return _Page(chunk, {"perPage": per_page, "next_page_url": next_url, "prev_page_url": None})


@dataclass
class _Page:
    items: list[Any]
    paginator: dict[str, Any]


_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
}


def _php_json(obj: Any) -> bytes:
    """JSON as PHP's json_encode writes it: compact, non-ASCII as \\uXXXX and slashes escaped."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _endpoint_of(raw_path: str) -> str:
    parts = [p for p in raw_path[len(API_PREFIX) :].split("/") if p]
    if not parts:
        return "other"
    if parts[0] == "usuario":
        if len(parts) > 1 and parts[1] in ("lista_por_tag", "progresso_por_produto"):
            return parts[1]
        return "usuario"
    return parts[0] if parts[0] in ("tag", "produto") else "other"


def _encode_cursor(last_id: int) -> str:
    raw = json.dumps({"id": last_id, "_pointsToNextItems": True}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        obj = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _ApiError(409, MSG_BAD_CURSOR) from exc
    if not isinstance(obj, dict) or obj.get("_pointsToNextItems") is not True:
        raise _ApiError(409, MSG_BAD_CURSOR)
    last = obj.get("id")
    if not isinstance(last, int) or isinstance(last, bool):
        raise _ApiError(409, MSG_BAD_CURSOR)
    return last
