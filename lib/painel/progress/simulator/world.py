"""The deterministic school behind the Cademi simulator.

A :class:`World` is built from a seed and an anchor week: a fixed catalogue of 20 products,
class tags ("Turma 01 - Analista", ...) with staggered start weeks, a few non-class tags, and
students whose per-product progress grows week by week (monotonically, at a seeded
per-student pace) against a settable simulated clock (``as_of``). The same seed and anchor
always give byte-identical ``data`` in the replies.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import random
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEEK = 7 * 86400.0
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Tracks are not a Cademi concept: the demo configuration groups products into them.
TRACKS: dict[str, list[int]] = {
    "analista": [2101, 2102, 2103, 2104],
    "cientista": [2105, 2106, 2107, 2108],
}

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
