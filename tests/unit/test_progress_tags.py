"""The class-tag registry: the four checks, their pt-BR and English messages, remove and re-add."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from painel.opstate import OpState, parse_iso
from painel.progress.cademi import Unavailable
from painel.progress.tags import ClassTag, TagError, TagRegistry, class_label

TRACKS = {"analista": "Formação Analista", "cientista": "Formação Cientista"}
CADEMI = [
    {"id": 5001, "nome": "Turma 01 - Analista"},
    {"id": 5002, "nome": "Turma 02 - Cientista"},
    {"id": 5003, "nome": "Turma 03 - Analista"},
    {"id": "9001", "nome": "Compradores"},
]


class FakeCademi:
    """``GET /tag`` as a callable that counts its calls (and can fail)."""

    def __init__(self, items: list[dict[str, Any]] | None = None, error: Exception | None = None):
        self.items = CADEMI if items is None else items
        self.error = error
        self.calls = 0

    def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.items


@pytest.fixture
def registry(tmp_path: Path) -> TagRegistry:
    return TagRegistry(OpState(tmp_path / "op.sqlite"))


def add(
    reg: TagRegistry,
    tag: Any,
    track: str,
    number: Any,
    cademi: FakeCademi | None = None,
    actor: str = "coord",
) -> ClassTag:
    return reg.add(tag, track, number, actor, TRACKS, cademi or FakeCademi())


def refused(
    reg: TagRegistry, tag: Any, track: str, number: Any, cademi: FakeCademi | None = None
) -> TagError:
    with pytest.raises(TagError) as info:
        add(reg, tag, track, number, cademi)
    return info.value


# --------------------------------------------------------------------------- 1. both fields filled


@pytest.mark.parametrize(
    ("tag", "number"),
    [("", "1"), ("5001", ""), (None, 1), (5001, None), ("  ", "1"), ("5001", "\t"), ("", "")],
)
def test_empty_fields(registry: TagRegistry, tag: Any, number: Any) -> None:
    cademi = FakeCademi()
    exc = refused(registry, tag, "analista", number, cademi)
    assert exc.code == "empty"
    assert exc.pt == "Preencha a tag e a turma."
    assert str(exc) == "both TAG and --class are required"
    assert cademi.calls == 0
    assert registry.list(include_removed=True) == []


# --------------------------------------------------------------------------- 2. both integers


@pytest.mark.parametrize("value", ["12a", "1.5", "-3", "5 001", "0x10", "1e3", "١٢"])
def test_tag_not_an_integer(registry: TagRegistry, value: str) -> None:
    cademi = FakeCademi()
    exc = refused(registry, value, "analista", "1", cademi)
    assert exc.code == "not_integer"
    assert exc.pt == f"Tag deve ser um número inteiro (recebido: {value!r})."
    assert str(exc) == f"TAG must be an integer (got {value!r})"
    assert cademi.calls == 0


@pytest.mark.parametrize("value", ["12a", "1.5", "-3", "três"])
def test_class_not_an_integer(registry: TagRegistry, value: str) -> None:
    exc = refused(registry, "5001", "analista", value)
    assert exc.code == "not_integer"
    assert exc.pt == f"Turma deve ser um número inteiro (recebido: {value!r})."
    assert str(exc) == f"--class must be an integer (got {value!r})"


def test_surrounding_spaces_are_trimmed(registry: TagRegistry) -> None:
    tag = add(registry, " 5001 ", "analista", " 7 ")
    assert (tag.tag_id, tag.class_number) == (5001, 7)


@pytest.mark.parametrize(
    ("tag", "number", "pt", "en"),
    [
        ("0", "1", "Tag deve ser um número inteiro positivo.", "TAG must be a positive integer"),
        (0, 1, "Tag deve ser um número inteiro positivo.", "TAG must be a positive integer"),
        (-3, 1, "Tag deve ser um número inteiro positivo.", "TAG must be a positive integer"),
        (
            "5001",
            "0",
            "Turma deve ser um número inteiro positivo.",
            "--class must be a positive integer",
        ),
        (
            "5001",
            "000",
            "Turma deve ser um número inteiro positivo.",
            "--class must be a positive integer",
        ),
    ],
)
def test_zero_and_negative(registry: TagRegistry, tag: Any, number: Any, pt: str, en: str) -> None:
    exc = refused(registry, tag, "analista", number)
    assert exc.code == "not_positive"
    assert (exc.pt, str(exc)) == (pt, en)


def test_booleans_are_not_integers(registry: TagRegistry) -> None:
    exc = refused(registry, True, "analista", 1)
    assert exc.code == "not_integer"


# --------------------------------------------------------------------------- track


def test_unknown_track(registry: TagRegistry) -> None:
    cademi = FakeCademi()
    exc = refused(registry, 5001, "engenheiro", 1, cademi)
    assert exc.code == "unknown_track"
    assert exc.pt == "Escolha uma trilha válida (analista, cientista)."
    assert str(exc) == "unknown track 'engenheiro' (tracks: analista, cientista)"
    assert cademi.calls == 0


def test_no_tracks_configured(registry: TagRegistry) -> None:
    with pytest.raises(TagError) as info:
        registry.add(5001, "analista", 1, "coord", {}, FakeCademi())
    assert info.value.code == "unknown_track"
    assert "none configured" in str(info.value) and "none configured" in info.value.pt


# --------------------------------------------------------------------------- 3. the tag exists in Cademi


def test_tag_not_in_cademi(registry: TagRegistry) -> None:
    cademi = FakeCademi()
    exc = refused(registry, 4242, "analista", 1, cademi)
    assert exc.code == "tag_unknown"
    assert exc.pt == "A tag 4242 não existe na Cademi. Confira o número da tag."
    assert str(exc) == "tag 4242 does not exist in Cademi (GET /tag)"
    assert cademi.calls == 1
    assert registry.list(include_removed=True) == []


def test_cademi_ids_given_as_text_match(registry: TagRegistry) -> None:
    tag = add(registry, 9001, "analista", 9)
    assert tag.cademi_name == "Compradores"


@pytest.mark.parametrize(
    "error",
    [
        Unavailable("GET /tag: HTTP 503 after 5 attempts"),
        ConnectionError("connection refused\nsecond line"),
        RuntimeError(""),
    ],
)
def test_cademi_unreachable_registers_nothing(registry: TagRegistry, error: Exception) -> None:
    exc = refused(registry, 5001, "analista", 1, FakeCademi(error=error))
    assert exc.code == "cademi_down"
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    assert exc.pt == (
        f"Não foi possível consultar a Cademi agora ({detail}). "
        "Nada foi cadastrado; tente novamente."
    )
    assert str(exc) == f"could not check the tag in Cademi ({detail}); nothing registered"
    assert registry.list(include_removed=True) == []
    assert registry.get(5001) is None


# --------------------------------------------------------------------------- 4. not registered yet


def test_tag_already_registered(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1)
    exc = refused(registry, "5001", "cientista", 2)
    assert exc.code == "tag_taken"
    assert exc.pt == "A tag 5001 já está cadastrada (Turma 01 da trilha Formação Analista)."
    assert str(exc) == "tag 5001 is already registered (Turma 01 of track Formação Analista)"
    assert [t.tag_id for t in registry.list()] == [5001]


def test_class_already_registered(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1)
    exc = refused(registry, 5003, "analista", "01")
    assert exc.code == "class_taken"
    assert exc.pt == "A Turma 01 da trilha Formação Analista já está cadastrada com a tag 5001."
    assert str(exc) == "Turma 01 of track Formação Analista is already registered with tag 5001"
    assert registry.get(5003) is None


def test_same_class_number_in_another_track_is_allowed(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1)
    add(registry, 5002, "cientista", 1)
    assert [(t.tag_id, t.track, t.class_number) for t in registry.list()] == [
        (5001, "analista", 1),
        (5002, "cientista", 1),
    ]


def test_checks_run_in_order(registry: TagRegistry) -> None:
    # an empty field wins over a bad integer, a bad integer over a bad track, a bad track over Cademi
    assert refused(registry, "", "nope", "x").code == "empty"
    assert refused(registry, "x", "nope", "1").code == "not_integer"
    assert refused(registry, "4242", "nope", "1").code == "unknown_track"
    add(registry, 5001, "analista", 1)
    # already registered is answered without asking Cademi (which is down here)
    cademi = FakeCademi(error=Unavailable("down"))
    assert refused(registry, 5001, "analista", 2, cademi).code == "tag_taken"
    assert cademi.calls == 0


# --------------------------------------------------------------------------- what is recorded


def test_registration_records_who_and_when(registry: TagRegistry) -> None:
    before = datetime.now(UTC)
    tag = add(registry, 5001, "analista", 12, actor="maria")
    after = datetime.now(UTC)
    assert tag == registry.get(5001)
    assert tag.registered_by == "maria"
    assert before <= parse_iso(tag.registered_at) <= after
    assert parse_iso(tag.registered_at).utcoffset().total_seconds() == 0
    assert tag.cademi_name == "Turma 01 - Analista"
    assert tag.active and tag.removed_by is None and tag.removed_at is None
    assert tag.class_name == "Turma 12" == class_label(12)
    assert tag.as_dict()["class_name"] == "Turma 12"
    assert class_label(3) == "Turma 03" and class_label(123) == "Turma 123"


def test_remove_keeps_the_record(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1, actor="maria")
    add(registry, 5002, "cientista", 2)
    before = datetime.now(UTC)
    removed = registry.remove("5001", "joao")
    assert removed.active is False
    assert removed.removed_by == "joao"
    assert before <= parse_iso(removed.removed_at) <= datetime.now(UTC)
    assert removed.registered_by == "maria"
    assert [t.tag_id for t in registry.list()] == [5002]
    everything = registry.list(include_removed=True)
    assert [(t.tag_id, t.active) for t in everything] == [(5001, False), (5002, True)]
    # removing it again, or a tag never registered
    for tag in (5001, 4242):
        with pytest.raises(TagError) as info:
            registry.remove(tag, "joao")
        assert info.value.code == "not_registered"
        assert info.value.pt == f"A tag {tag} não está cadastrada."
        assert str(info.value) == f"tag {tag} is not registered"
    with pytest.raises(TagError) as info:
        registry.remove("abc", "joao")
    assert info.value.code == "not_integer"


def test_removed_tag_can_be_added_again_in_another_class(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1)
    registry.remove(5001, "joao")
    again = add(registry, 5001, "analista", 4, actor="ana")
    assert again.active and again.class_number == 4 and again.registered_by == "ana"
    assert [(t.tag_id, t.class_number, t.active) for t in registry.list(include_removed=True)] == [
        (5001, 4, True)
    ]


def test_removed_tag_can_be_added_again_in_the_same_class(registry: TagRegistry) -> None:
    add(registry, 5001, "analista", 1)
    registry.remove(5001, "joao")
    assert registry.list() == []
    again = add(registry, 5001, "analista", 1, actor="ana")
    assert again.active and again.class_number == 1
    assert [t.tag_id for t in registry.list()] == [5001]


# --------------------------------------------------------------------------- concurrency


def test_two_coordinators_registering_the_same_tag_at_once(tmp_path: Path) -> None:
    path = tmp_path / "op.sqlite"
    OpState(path).migrate()
    barrier = threading.Barrier(2, timeout=10)
    results: list[object] = []
    lock = threading.Lock()

    def cademi() -> list[dict[str, Any]]:
        barrier.wait()  # both have passed the first check before either writes
        return CADEMI

    def register(number: int, actor: str) -> None:
        reg = TagRegistry(OpState(path))
        try:
            out: object = reg.add(5001, "analista", number, actor, TRACKS, cademi)
        except TagError as exc:
            out = exc
        with lock:
            results.append(out)

    threads = [threading.Thread(target=register, args=(n, f"coord{n}")) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(results) == 2
    won = [r for r in results if isinstance(r, ClassTag)]
    lost = [r for r in results if isinstance(r, TagError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code == "tag_taken"
    rows = TagRegistry(OpState(path)).list(include_removed=True)
    assert len(rows) == 1 and rows[0].class_number == won[0].class_number


def test_two_coordinators_registering_the_same_class_at_once(tmp_path: Path) -> None:
    path = tmp_path / "op.sqlite"
    OpState(path).migrate()
    barrier = threading.Barrier(2, timeout=10)
    results: list[object] = []

    def cademi() -> list[dict[str, Any]]:
        barrier.wait()
        return CADEMI

    def register(tag: int) -> None:
        try:
            results.append(TagRegistry(OpState(path)).add(tag, "analista", 1, "c", TRACKS, cademi))
        except TagError as exc:
            results.append(exc)

    threads = [threading.Thread(target=register, args=(tag,)) for tag in (5001, 5003)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    codes = sorted(r.code if isinstance(r, TagError) else "ok" for r in results)
    assert codes == ["class_taken", "ok"]
    assert len(TagRegistry(OpState(path)).list()) == 1


# ---- the track a tag's Cademi name carries ------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Turma 07 - Analista", "analista"),
        ("TURMA 2 – cientista", "cientista"),
        ("Turma 01 - Formação Analista", "analista"),
        ("Compradores", None),
        ("Turma 09", None),
        ("Turma 03 - Formação", None),  # a word every track shares says nothing
    ],
)
def test_track_named_by_a_cademi_tag(name: str, expected: str | None) -> None:
    from painel.progress.tags import track_in_name

    assert track_in_name(name, TRACKS) == expected


def test_a_tag_named_for_another_track_is_refused(registry: TagRegistry) -> None:
    err = refused(registry, 5001, "cientista", 1)  # "Turma 01 - Analista"
    assert err.code == "track_mismatch"
    assert "indica a trilha Formação Analista, não Formação Cientista" in err.pt
    assert registry.list() == []
    assert add(registry, 9001, "cientista", 9).track == "cientista"  # no track in the name


def test_a_coordinator_corrects_a_registration_and_it_is_recorded(registry: TagRegistry) -> None:
    import json

    add(registry, 5001, "analista", 1)
    add(registry, 5003, "analista", 3)
    changed = registry.change(5001, "analista", 11, "coord2", TRACKS)
    assert (changed.class_number, changed.changed_by) == (11, "coord2")
    assert changed.registered_by == "coord" and changed.changed_at
    with registry.opstate.connect() as con:
        history = json.loads(
            con.execute("SELECT changes FROM progress_tags WHERE tag_id = 5001").fetchone()[0]
        )
    assert history[0]["from"] == {"track": "analista", "class_number": 1}
    assert history[0]["to"] == {"track": "analista", "class_number": 11}

    with pytest.raises(TagError) as info:  # the class of another tag
        registry.change(5001, "analista", 3, "coord2", TRACKS)
    assert info.value.code == "class_taken" and "tag 5003" in info.value.pt
    with pytest.raises(TagError) as info:  # against its Cademi name
        registry.change(5001, "cientista", 11, "coord2", TRACKS)
    assert info.value.code == "track_mismatch"
    with pytest.raises(TagError) as info:
        registry.change(5001, "analista", 11, "coord2", TRACKS)
    assert info.value.code == "unchanged"
    registry.remove(5001, "coord2")
    with pytest.raises(TagError) as info:
        registry.change(5001, "analista", 12, "coord2", TRACKS)
    assert info.value.code == "not_registered"
