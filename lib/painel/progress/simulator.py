"""A faithful simulator of the Cademi LMS REST API (``/api/v1``), served on loopback.

The simulated school is a deterministic :class:`World` built from a seed and an anchor week:
a fixed catalogue of 20 products, class tags ("Turma 01 - Analista", ...) with staggered
start weeks, a few non-class tags, and students whose per-product progress grows week by
week (monotonically, at a seeded per-student pace) against a settable simulated clock
(``as_of``). The same seed and anchor always give byte-identical ``data`` in the replies.

The HTTP side reproduces what a client of the real API has to cope with: the bare-key
``Authorization`` header (403 without it, 405 with a wrong one), the JSON envelope with its
``profiler``, Laravel-style cursor pagination with absolute ``next_page_url`` links, 409
business errors with Portuguese messages, a sliding-window rate limit (per second and per
minute) and injected faults (slow replies, 5xx pages, dropped connections, truncated JSON).

Besides the API, two control routes (no auth, not rate-limited, not counted) let a test in
another process steer the simulator: ``GET /_sim/stats`` and ``POST /_sim/control``.

Run it standalone with ``painel simulate cademi`` (see :func:`add_arguments` and :func:`run`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import contextlib
import datetime
import hashlib
import json
import math
import random
import signal
import socket
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

__all__ = [
    "TRACKS",
    "CademiSimulator",
    "ClassTag",
    "Faults",
    "Membership",
    "Product",
    "Student",
    "World",
    "add_arguments",
    "from_args",
    "run",
]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEEK = 7 * 86400.0
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
API_PREFIX = "/api/v1"

# Tracks are not a Cademi concept: the demo configuration groups products into them.
TRACKS: dict[str, list[int]] = {
    "analista": [2101, 2102, 2103, 2104],
    "cientista": [2105, 2106, 2107, 2108],
}

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

# (id, ordem, nome, lessons, vitrine id); the first eight make up the two tracks, in track order.
_CATALOGUE: list[tuple[int, int, str, int, int]] = [
    (2101, 1, "Python do Zero", 48, 301),
    (2102, 2, "SQL para Análise de Dados", 36, 301),
    (2103, 3, "Estatística Aplicada", 42, 301),
    (2104, 4, "Power BI", 30, 301),
    (2105, 5, "Python para Ciência de Dados", 52, 302),
    (2106, 6, "Machine Learning", 60, 302),
    (2107, 7, "Deep Learning com PyTorch", 44, 302),
    (2108, 8, "Deploy de Modelos", 26, 302),
    (2109, 9, "Excel Avançado", 40, 303),
    (2110, 10, "Storytelling com Dados", 20, 303),
    (2111, 11, "Git e GitHub na Prática", 22, 303),
    (2112, 12, "Linux para Dados", 24, 303),
    (2113, 13, "Engenharia de Dados com Airflow", 38, 303),
    (2114, 14, "Séries Temporais", 34, 303),
    (2115, 15, "Processamento de Linguagem Natural", 46, 303),
    (2116, 16, "Visão Computacional", 50, 303),
    (2117, 17, "Cloud para Dados (AWS)", 32, 303),
    (2118, 18, "Testes A/B e Experimentação", 28, 303),
    (2119, 19, "Carreira em Dados", 21, 304),
    (2120, 20, "Matemática para Machine Learning", 55, 304),
]
_VITRINES: dict[int, tuple[int, str]] = {
    301: (1, "Trilha Analista de Dados"),
    302: (2, "Trilha Cientista de Dados"),
    303: (3, "Cursos Complementares"),
    304: (4, "Bônus"),
}
_OTHER_TAGS: list[tuple[int, str, float]] = [
    (9001, "Compradores Black Friday", 0.15),
    (9002, "Alunos VIP", 0.05),
    (9003, "Ex-alunos", 0.08),
]

# fmt: off
_FIRST_NAMES = [
    "Ana", "Beatriz", "Camila", "Daniela", "Eduarda", "Fernanda", "Gabriela", "Helena", "Isabela", "Joana",
    "Juliana", "Larissa", "Letícia", "Mariana", "Natália", "Patrícia", "Rafaela", "Sofia", "Tatiane",
    "Vitória", "Conceição", "Luíza", "Bruna", "Carolina", "Aline", "André", "Bruno", "Carlos", "Diego",
    "Eduardo", "Felipe", "Gabriel", "Gustavo", "Henrique", "Igor", "João", "José", "Leonardo", "Lucas",
    "Marcelo", "Matheus", "Nicolas", "Otávio", "Paulo", "Rafael", "Rodrigo", "Samuel", "Thiago",
    "Vinícius", "Wellington", "Caio", "Antônio", "Márcio", "Renato", "Fábio", "Luan", "Davi", "Pedro",
    "Heitor", "Raimundo",
]
_LAST_NAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira",
    "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado",
    "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Brandão",
    "Magalhães", "Conceição", "Falcão",
]
# fmt: on
_MAIL_DOMAINS = ["example.com", "example.com.br", "example.org", "example.net"]
_DDDS = [11, 11, 11, 21, 21, 31, 41, 47, 48, 51, 61, 62, 71, 81, 85, 92]

FAULT_NAMES = ("slow", "5xx", "drop", "malformed", "ok")
ENDPOINTS = ("lista_por_tag", "progresso_por_produto", "tag", "produto", "usuario")


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Product:
    """One Cademi product (a course)."""

    id: int
    ordem: int
    nome: str
    lessons: int
    vitrine_id: int

    def as_item(self) -> dict[str, Any]:
        return {"id": self.id, "ordem": self.ordem, "nome": self.nome}

    def as_detail(self) -> dict[str, Any]:
        ordem, nome = _VITRINES[self.vitrine_id]
        return {**self.as_item(), "vitrine": {"id": self.vitrine_id, "ordem": ordem, "nome": nome}}


@dataclass(frozen=True)
class ClassTag:
    """A Cademi tag that stands for a class ("turma") of one track."""

    tag_id: int
    name: str
    track: str
    class_number: int
    start_week: datetime.date  # a Monday

    @property
    def start_ts(self) -> float:
        """The class start (Monday 00:00 in São Paulo) as a POSIX timestamp."""
        return datetime.datetime.combine(
            self.start_week, datetime.time(0), tzinfo=SAO_PAULO
        ).timestamp()


@dataclass(frozen=True)
class Membership:
    """A user holding a tag from ``joined`` until ``left`` (POSIX timestamps; ``left`` None = still holds it)."""

    user_id: int
    tag_id: int
    joined: float
    left: float | None = None

    def active(self, ts: float) -> bool:
        return self.joined <= ts and (self.left is None or ts < self.left)


@dataclass
class Student:
    """A Cademi user with the seeded parameters that drive their progress."""

    id: int
    nome: str
    email: str
    doc: str
    celular: str | None
    gratis: bool
    criado_em: float
    token: str
    pace: float  # mean percentage points per week; 0 = never starts anything
    access_lag_hours: float
    memberships: list[Membership] = field(default_factory=list)


def _mix(*parts: object) -> int:
    """A stable 64-bit integer from the parts (seeds the per-student/per-product generators)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _cpf(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(9)]
    for n in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(n + 1, 1, -1), strict=True))
        check = (total * 10) % 11
        digits.append(0 if check == 10 else check)
    s = "".join(map(str, digits))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _now_sp() -> datetime.datetime:
    return datetime.datetime.now(SAO_PAULO)


def to_timestamp(moment: datetime.datetime | datetime.date | None) -> float:
    """POSIX timestamp of a moment; naive datetimes and dates are São Paulo local time, None is now."""
    if moment is None:
        return time.time()
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time(0))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SAO_PAULO)
    return moment.timestamp()


def format_ts(ts: float) -> str:
    """A timestamp as Cademi prints dates: São Paulo local time, ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.datetime.fromtimestamp(ts, SAO_PAULO).strftime(DATE_FORMAT)


class World:
    """The deterministic school behind the simulator (same seed + anchor => same world)."""

    MAX_WEEKS = 520

    def __init__(
        self,
        *,
        seed: int = 7,
        students: int = 300,
        classes: int = 6,
        anchor: datetime.date | None = None,
    ):
        if students < 0 or classes < 0:
            raise ValueError("students and classes must be >= 0")
        self.seed = seed
        self.anchor = _monday(anchor if anchor is not None else _now_sp().date())
        self.products: list[Product] = [Product(*row) for row in _CATALOGUE]
        self._products_by_id = {p.id: p for p in self.products}
        self._track_of_product: dict[int, tuple[str, int]] = {
            pid: (track, k) for track, pids in TRACKS.items() for k, pid in enumerate(pids)
        }
        self._class_tags = self._make_class_tags(classes)
        self._class_by_tag = {c.tag_id: c for c in self._class_tags}
        self.tags: list[tuple[int, str]] = [(c.tag_id, c.name) for c in self._class_tags]
        self.tags += [(tag_id, name) for tag_id, name, _ in _OTHER_TAGS]
        self._tag_ids = {tag_id for tag_id, _ in self.tags}
        self.students: list[Student] = []
        self._by_id: dict[int, Student] = {}
        self._by_email: dict[str, Student] = {}
        self._by_doc: dict[str, Student] = {}
        self._members: dict[int, list[Membership]] = {tag_id: [] for tag_id in self._tag_ids}
        self._curves: dict[tuple[int, int], tuple[list[float], int]] = {}
        self._generate(students)

    # -- construction

    def _make_class_tags(self, classes: int) -> list[ClassTag]:
        tracks = list(TRACKS)
        out: list[ClassTag] = []
        for i in range(1, classes + 3):
            weeks_ago = max(2, 16 - 2 * (i - 1)) if i <= classes else (1 if i == classes + 1 else 0)
            track = tracks[(i - 1) % len(tracks)]
            out.append(
                ClassTag(
                    tag_id=5000 + i,
                    name=f"Turma {i:02d} - {track.capitalize()}",
                    track=track,
                    class_number=i,
                    start_week=self.anchor - datetime.timedelta(weeks=weeks_ago),
                )
            )
        return out

    def _generate(self, count: int) -> None:
        rng = random.Random(self.seed)
        regular = self._class_tags[:-2]
        weights = [1.0] * len(regular) + [0.25, 0.25]
        docs: set[str] = set()
        next_id = 1001
        for _ in range(count):
            uid = next_id
            next_id += 1 + (rng.randint(1, 3) if rng.random() < 0.1 else 0)
            first = rng.choice(_FIRST_NAMES)
            last = rng.choice(_LAST_NAMES)
            nome = f"{first} {last}"
            if rng.random() < 0.35:
                nome = f"{first} {rng.choice(_LAST_NAMES)} {last}"
            email = f"{_slug(first)}.{_slug(last)}{uid}@{rng.choice(_MAIL_DOMAINS)}"
            doc = _cpf(rng)
            while doc in docs:
                doc = _cpf(rng)
            docs.add(doc)
            celular = None
            if rng.random() < 0.7:
                celular = (
                    f"({rng.choice(_DDDS)}) 9{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
                )
            gratis = rng.random() < 0.03
            draw = rng.random()
            if draw < 0.10:
                pace = 0.0
            elif draw < 0.35:
                pace = rng.uniform(2, 5)
            elif draw < 0.80:
                pace = rng.uniform(6, 11)
            else:
                pace = rng.uniform(12, 20)
            klass = rng.choices(self._class_tags, weights=weights)[0]
            start = klass.start_ts
            criado_em = start - rng.randint(1, 180) * 86400.0 - rng.randint(0, 86399)
            fate = rng.random()
            left: float | None = None
            if fate < 0.05:  # joins a few weeks after the class started
                joined = start + rng.randint(1, 4) * WEEK + rng.randint(0, 6 * 86400)
            else:
                joined = max(
                    criado_em + 3600.0, start - rng.randint(0, 10) * 86400.0 - rng.randint(0, 86399)
                )
                if fate < 0.09:  # leaves the class at a seeded week
                    left = (
                        max(joined, start) + rng.randint(2, 10) * WEEK + rng.randint(0, 6 * 86400)
                    )
            student = Student(
                id=uid,
                nome=nome,
                email=email,
                doc=doc,
                celular=celular,
                gratis=gratis,
                criado_em=criado_em,
                token=hashlib.sha256(f"crstk:{self.seed}:{uid}".encode()).hexdigest()[:40],
                pace=pace,
                access_lag_hours=rng.uniform(1, 60),
            )
            student.memberships.append(Membership(uid, klass.tag_id, joined, left))
            if rng.random() < 0.05:  # also enrolled in a class of the other track
                others = [c for c in regular if c.track != klass.track] or [
                    c for c in self._class_tags if c.track != klass.track
                ]
                if others:
                    second = rng.choice(others)
                    s_start = second.start_ts
                    s_joined = max(criado_em + 3600.0, s_start - rng.randint(0, 10) * 86400.0)
                    student.memberships.append(Membership(uid, second.tag_id, s_joined, None))
            for tag_id, _name, share in _OTHER_TAGS:
                if rng.random() < share:
                    student.memberships.append(Membership(uid, tag_id, criado_em, None))
            for m in student.memberships:
                self._members[m.tag_id].append(m)
            self.students.append(student)
            self._by_id[uid] = student
            self._by_email[email.lower()] = student
            self._by_doc[doc] = student
            self._by_doc["".join(ch for ch in doc if ch.isdigit())] = student

    # -- catalogue and tags

    def class_tags(self) -> list[ClassTag]:
        """All class tags, the regular ones first and then the two that start later."""
        return list(self._class_tags)

    def class_tag(self, tag_id: int) -> ClassTag | None:
        return self._class_by_tag.get(tag_id)

    def has_tag(self, tag_id: int) -> bool:
        return tag_id in self._tag_ids

    def product(self, product_id: int) -> Product | None:
        return self._products_by_id.get(product_id)

    # -- users

    def student(self, user_id: int) -> Student | None:
        return self._by_id.get(user_id)

    def find_user(self, key: str) -> Student | None:
        """Look a user up by numeric id, e-mail or CPF (formatted or digits only)."""
        key = key.strip()
        if "@" in key:
            return self._by_email.get(key.lower())
        if key.isdigit():
            found = self._by_id.get(int(key))
            if found is not None:
                return found
        return self._by_doc.get(key)

    @property
    def memberships(self) -> list[Membership]:
        """Every tag membership in the world, by user id."""
        return [m for s in self.students for m in s.memberships]

    def member_ids(self, tag_id: int, as_of: datetime.datetime | None = None) -> list[int]:
        """Ids of the users holding the tag at ``as_of`` (None = now), sorted."""
        return self._member_ids(tag_id, to_timestamp(as_of))

    def _member_ids(self, tag_id: int, ts: float) -> list[int]:
        return sorted({m.user_id for m in self._members.get(tag_id, ()) if m.active(ts)})

    def members(self, tag_id: int, as_of: datetime.datetime | None = None) -> list[dict[str, Any]]:
        """The users holding the tag at ``as_of`` (None = now), sorted by id, as API user objects."""
        ts = to_timestamp(as_of)
        return [self._user_dict(self._by_id[uid], ts) for uid in self._member_ids(tag_id, ts)]

    def users(self, as_of: datetime.datetime | None = None) -> list[dict[str, Any]]:
        ts = to_timestamp(as_of)
        return [self._user_dict(s, ts) for s in self.students]

    def user_dict(self, user_id: int, as_of: datetime.datetime | None = None) -> dict[str, Any]:
        return self._user_dict(self._by_id[user_id], to_timestamp(as_of))

    def _user_dict(self, s: Student, ts: float) -> dict[str, Any]:
        return {
            "id": s.id,
            "nome": s.nome,
            "email": s.email,
            "doc": s.doc,
            "celular": s.celular,
            "login_auto": f"https://painel-demo.cademi.com.br/auth/login?crstk={s.token}",
            "gratis": s.gratis,
            "criado_em": format_ts(s.criado_em),
            "ultimo_acesso_em": self._last_access(s, ts),
        }

    def _last_access(self, s: Student, ts: float) -> str | None:
        if s.pace <= 0:
            return None
        origins = [self._origin(m) for m in s.memberships if m.tag_id in self._class_by_tag]
        if not origins or ts <= min(origins) + 86400.0:
            return None
        classes = [m for m in s.memberships if m.tag_id in self._class_by_tag]
        active_until = max(ts if m.left is None else min(ts, m.left) for m in classes)
        return format_ts(max(min(origins) + 3600.0, active_until - s.access_lag_hours * 3600.0))

    # -- progress

    def _origin(self, m: Membership) -> float:
        return max(self._class_by_tag[m.tag_id].start_ts, m.joined)

    def _curve(self, s: Student, product: Product) -> tuple[list[float], int]:
        """Cumulative percentage at each week boundary (cached) and the seeded extra watched lessons."""
        key = (s.id, product.id)
        cached = self._curves.get(key)
        if cached is not None:
            return cached
        rng = random.Random(_mix("progress", self.seed, s.id, product.id))
        extra = rng.randint(0, 3)
        cum = [0.0]
        if s.pace > 0:
            pace = s.pace * rng.uniform(0.8, 1.2)
            while cum[-1] < 100.0 and len(cum) <= self.MAX_WEEKS:
                step = 0.0 if rng.random() < 0.08 else max(0.0, rng.gauss(pace, pace * 0.35))
                cum.append(min(100.0, cum[-1] + step))
        self._curves[key] = (cum, extra)
        return cum, extra

    def progress(
        self, user_id: int, product_id: int, as_of: datetime.datetime | None = None
    ) -> tuple[float, int, int]:
        """``(pct rounded to 1 decimal, assistidas, completas)`` of a user in a product at ``as_of``.

        Raises KeyError for an unknown user or product. Products outside the user's tracks
        give zeros; a user who left a class keeps (frozen) the progress made until then.
        """
        s = self._by_id.get(user_id)
        if s is None:
            raise KeyError(f"unknown user {user_id}")
        product = self._products_by_id.get(product_id)
        if product is None:
            raise KeyError(f"unknown product {product_id}")
        return self._progress(s, product, to_timestamp(as_of))

    def _progress(self, s: Student, product: Product, ts: float) -> tuple[float, int, int]:
        placed = self._track_of_product.get(product.id)
        if placed is None or s.pace <= 0:
            return 0.0, 0, 0
        track, k = placed
        best = 0.0
        for m in s.memberships:
            klass = self._class_by_tag.get(m.tag_id)
            if klass is None or klass.track != track:
                continue
            origin = self._origin(m) + 3 * k * WEEK
            until = ts if m.left is None else min(ts, m.left)
            if until <= origin:
                continue
            cum, _extra = self._curve(s, product)
            weeks = (until - origin) / WEEK
            w = int(weeks)
            value = cum[-1] if w >= len(cum) - 1 else cum[w] + (cum[w + 1] - cum[w]) * (weeks - w)
            best = max(best, value)
        pct = round(best, 1)
        if pct <= 0:
            return 0.0, 0, 0
        completas = math.floor(pct / 100.0 * product.lessons)
        _cum, extra = self._curve(s, product)
        return pct, min(product.lessons, completas + extra), completas


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: CademiSimulator

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Cut the kept-alive client connections (their handler threads then end)."""
        with self.connections_lock:
            conns, self.connections = list(self.connections), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back ~40 ms on every reply
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr log."""

    def _dispatch(self) -> None:
        self.server.sim._handle(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


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
        except Exception:  # keep serving; a bug shows as a 500 envelope
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
        cursor = (parse_qs(query).get("cursor") or [None])[0]
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
                users = [world._user_dict(world._by_id[uid], ts) for uid in page.items]
                return {"paginator": page.paginator, "usuario": users}
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


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``painel simulate cademi``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8867, help="port to bind, 0 for any free port (default: 8867)"
    )
    parser.add_argument("--seed", type=int, default=7, help="world seed (default: 7)")
    parser.add_argument(
        "--students", type=int, default=300, help="number of students (default: 300)"
    )
    parser.add_argument(
        "--classes", type=int, default=6, help="number of running classes (default: 6)"
    )
    parser.add_argument("--key", default="painel-demo-key", help="the API key clients must send")
    parser.add_argument(
        "--per-second", type=float, default=2.0, help="requests allowed per sliding second"
    )
    parser.add_argument(
        "--per-minute", type=int, default=120, help="requests allowed per sliding minute"
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply both limits (e.g. 50 -> 100/s and 6000/min)",
    )
    parser.add_argument(
        "--limit-status", type=int, default=429, help="HTTP status of rate-limited replies"
    )
    parser.add_argument(
        "--anchor",
        type=datetime.date.fromisoformat,
        default=None,
        help="anchor week YYYY-MM-DD (default: this week)",
    )
    parser.add_argument(
        "--as-of",
        type=datetime.datetime.fromisoformat,
        default=None,
        help="simulated clock, ISO (default: now)",
    )
    parser.add_argument("--slow", type=float, default=0.0, help="probability of a slow reply")
    parser.add_argument(
        "--slow-seconds", type=float, default=2.0, help="delay of a slow reply (seconds)"
    )
    parser.add_argument("--error-5xx", type=float, default=0.0, help="probability of a 5xx reply")
    parser.add_argument(
        "--drop", type=float, default=0.0, help="probability of a dropped connection"
    )
    parser.add_argument(
        "--malformed", type=float, default=0.0, help="probability of a truncated JSON body"
    )


def from_args(args: argparse.Namespace) -> CademiSimulator:
    """A (not yet started) simulator configured from :func:`add_arguments` options."""
    scale = getattr(args, "rate_scale", 1.0) or 1.0
    return CademiSimulator(
        seed=args.seed,
        students=args.students,
        classes=args.classes,
        key=args.key,
        per_second=args.per_second * scale,
        per_minute=max(1, round(args.per_minute * scale)),
        limit_status=args.limit_status,
        anchor=args.anchor,
        as_of=args.as_of,
        faults=Faults(
            slow=args.slow,
            slow_seconds=args.slow_seconds,
            error_5xx=args.error_5xx,
            drop=args.drop,
            malformed=args.malformed,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns 0."""
    sim = from_args(args)
    base_url = sim.start(args.host, args.port)
    print(
        f"Cademi simulator at {base_url} (key: {sim.key}, limits: {sim.per_second:g}/s, {sim.per_minute}/min)",
        flush=True,
    )
    done = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sim.stop()
    return 0
