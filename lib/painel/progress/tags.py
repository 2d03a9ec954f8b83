"""Class tags: which Cademi tags are classes (turmas) whose progress is collected each week.

The registry lives in the operational store (table ``progress_tags``) because coordinators
write it from the dashboard while ETL runs read it. Registration applies the original
app's four checks, in order, with the same message for the dashboard (pt-BR) and the CLI
(English):

1. both fields filled;  2. both integers;  3. the tag exists in Cademi (``GET /tag``);
4. neither the tag nor the class (track + number) is registered yet.

A registered tag enters the next ``progress`` run. Removing a tag stops its collection and
keeps its history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..dash.fmt import fold
from ..opstate import OpState, iso, utcnow
from .cademi import as_int


@dataclass(frozen=True)
class ClassTag:
    tag_id: int
    track: str
    class_number: int
    cademi_name: str
    registered_by: str
    registered_at: str
    active: bool
    removed_by: str | None = None
    removed_at: str | None = None
    changed_by: str | None = None
    changed_at: str | None = None

    @property
    def class_name(self) -> str:
        return class_label(self.class_number)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "class_name": self.class_name}


def class_label(number: int) -> str:
    return f"Turma {number:02d}"


# code -> (pt-BR for the dashboard, English for the CLI); {placeholders} filled in
MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("Preencha a tag e a turma.", "both TAG and --class are required"),
    "not_integer": (
        "{field} deve ser um número inteiro (recebido: {value!r}).",
        "{field_en} must be an integer (got {value!r})",
    ),
    "not_positive": (
        "{field} deve ser um número inteiro positivo.",
        "{field_en} must be a positive integer",
    ),
    "unknown_track": (
        "Escolha uma trilha válida ({tracks}).",
        "unknown track {value!r} (tracks: {tracks})",
    ),
    "tag_unknown": (
        "A tag {tag} não existe na Cademi. Confira o número da tag.",
        "tag {tag} does not exist in Cademi (GET /tag)",
    ),
    "cademi_down": (
        "Não foi possível consultar a Cademi agora ({detail}). Nada foi cadastrado; tente novamente.",
        "could not check the tag in Cademi ({detail}); nothing registered",
    ),
    "tag_taken": (
        "A tag {tag} já está cadastrada ({label} da trilha {track}).",
        "tag {tag} is already registered ({label} of track {track})",
    ),
    "class_taken": (
        "A {label} da trilha {track} já está cadastrada com a tag {other}.",
        "{label} of track {track} is already registered with tag {other}",
    ),
    "not_registered": ("A tag {tag} não está cadastrada.", "tag {tag} is not registered"),
    "track_mismatch": (
        "A tag {tag} se chama “{name}” na Cademi, o que indica a trilha {hinted}, não {chosen}. "
        "Escolha a trilha {hinted} ou confira o número da tag.",
        "tag {tag} is named {name!r} in Cademi, which names track {hinted_key!r}, not {chosen_key!r}",
    ),
    "unchanged": (
        "Nada mudou: a tag {tag} já é a {label} da trilha {track}.",
        "nothing to change: tag {tag} is already {label} of track {track}",
    ),
}


def track_in_name(name: str, tracks: dict[str, str]) -> str | None:
    """The track a Cademi tag's name points to ("Turma 07 - Analista" → "analista"), if any.

    A track is named by its key or by a word of its name that the other tracks' names do not
    share ("Analista" in "Formação Analista de Dados" against "Formação Cientista de Dados").
    None when the name points to no track or to more than one.
    """
    words = {k: {fold(k)} | set(re.findall(r"\w{4,}", fold(v))) for k, v in tracks.items()}
    common = set.intersection(*words.values()) if len(words) > 1 else set()
    said = set(re.findall(r"\w{4,}", fold(name)))
    hits = [k for k, w in words.items() if said & (w - common)]
    return hits[0] if len(hits) == 1 else None


class TagError(Exception):
    def __init__(self, code: str, **values: Any):
        self.code = code
        self.values = values
        pt, en = MESSAGES[code]
        self.pt = pt.format(**values)
        super().__init__(en.format(**values))


_FIELDS = {"tag": ("Tag", "TAG"), "class": ("Turma", "--class")}


def _integer(text: Any, field: str) -> int:
    pt, en = _FIELDS[field]
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        raw = str(text).strip()
        if not re.fullmatch(r"[0-9]{1,12}", raw):
            raise TagError("not_integer", field=pt, field_en=en, value=raw)
        value = int(raw)
    if value <= 0:
        raise TagError("not_positive", field=pt, field_en=en)
    return value


def _row(r: Any) -> ClassTag:
    return ClassTag(
        r["tag_id"],
        r["track"],
        r["class_number"],
        r["cademi_name"],
        r["registered_by"],
        r["registered_at"],
        bool(r["active"]),
        r["removed_by"],
        r["removed_at"],
        r["changed_by"],
        r["changed_at"],
    )


class TagRegistry:
    def __init__(self, opstate: OpState):
        self.opstate = opstate

    def list(self, include_removed: bool = False) -> list[ClassTag]:
        sql = "SELECT * FROM progress_tags"
        if not include_removed:
            sql += " WHERE active = 1"
        sql += " ORDER BY track, class_number"
        with self.opstate.connect() as con:
            return [_row(r) for r in con.execute(sql).fetchall()]

    def get(self, tag_id: int) -> ClassTag | None:
        with self.opstate.connect() as con:
            r = con.execute("SELECT * FROM progress_tags WHERE tag_id = ?", [tag_id]).fetchone()
        return _row(r) if r else None

    def add(
        self,
        tag: Any,
        track: str,
        class_number: Any,
        actor: str,
        tracks: dict[str, str],
        cademi_tags: Callable[[], Sequence[dict[str, Any]]],
    ) -> ClassTag:
        """Validate and register; ``tracks`` maps track keys to names, ``cademi_tags`` is ``GET /tag``."""
        if (
            str(tag if tag is not None else "").strip() == ""
            or str(class_number if class_number is not None else "").strip() == ""
        ):
            raise TagError("empty")
        tag_id = _integer(tag, "tag")
        number = _integer(class_number, "class")
        if track not in tracks:
            raise TagError(
                "unknown_track", value=track, tracks=", ".join(tracks) or "none configured"
            )
        self._check_free(tag_id, track, number, tracks)
        try:
            listed = cademi_tags()
        except Exception as exc:  # noqa: BLE001 - any failure to reach Cademi refuses the registration
            detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise TagError("cademi_down", detail=detail) from None
        names = {
            as_int(i.get("id")): str(i.get("nome") or "") for i in listed if isinstance(i, dict)
        }
        if tag_id not in names:
            raise TagError("tag_unknown", tag=tag_id)
        self._check_track(tag_id, names[tag_id], track, tracks)
        now = iso(utcnow())
        with self.opstate.transaction() as con:
            # checked again inside the write transaction: two coordinators at once get one winner
            self._check_free(tag_id, track, number, tracks, con)
            con.execute("DELETE FROM progress_tags WHERE tag_id = ? AND active = 0", [tag_id])
            con.execute(
                "INSERT INTO progress_tags (tag_id, track, class_number, cademi_name, registered_by, "
                "registered_at) VALUES (?, ?, ?, ?, ?, ?)",
                [tag_id, track, number, names[tag_id], actor, now],
            )
        return ClassTag(tag_id, track, number, names[tag_id], actor, now, True)

    @staticmethod
    def _check_track(tag_id: int, name: str, track: str, tracks: dict[str, str]) -> None:
        hinted = track_in_name(name, tracks)
        if hinted is not None and hinted != track:
            raise TagError(
                "track_mismatch",
                tag=tag_id,
                name=name,
                hinted=tracks[hinted],
                chosen=tracks[track],
                hinted_key=hinted,
                chosen_key=track,
            )

    def change(
        self, tag: Any, track: str, class_number: Any, actor: str, tracks: dict[str, str]
    ) -> ClassTag:
        """Correct an active registration's track or class number (same checks as ``add``,
        against the Cademi name stored at registration); who and when are recorded."""
        import json

        tag_id = _integer(tag, "tag")
        if str(class_number if class_number is not None else "").strip() == "":
            raise TagError("empty")
        number = _integer(class_number, "class")
        if track not in tracks:
            raise TagError(
                "unknown_track", value=track, tracks=", ".join(tracks) or "none configured"
            )
        current = self.get(tag_id)
        if current is None or not current.active:
            raise TagError("not_registered", tag=tag_id)
        if (current.track, current.class_number) == (track, number):
            raise TagError(
                "unchanged", tag=tag_id, label=class_label(number), track=tracks.get(track, track)
            )
        self._check_track(tag_id, current.cademi_name, track, tracks)
        now = iso(utcnow())
        with self.opstate.transaction() as con:
            row = con.execute(
                "SELECT * FROM progress_tags WHERE tag_id = ? AND active = 1", [tag_id]
            ).fetchone()
            if row is None:
                raise TagError("not_registered", tag=tag_id)
            self._check_class_free(con, track, number, tracks, tag_id, own_removed_only=False)
            history = json.loads(row["changes"] or "[]")
            history.append(
                {
                    "at": now,
                    "by": actor,
                    "from": {"track": row["track"], "class_number": row["class_number"]},
                    "to": {"track": track, "class_number": number},
                }
            )
            con.execute(
                "UPDATE progress_tags SET track = ?, class_number = ?, changed_by = ?, "
                "changed_at = ?, changes = ? WHERE tag_id = ?",
                [track, number, actor, now, json.dumps(history), tag_id],
            )
        found = self.get(tag_id)
        assert found is not None
        return found

    @staticmethod
    def _check_class_free(
        con: Any,
        track: str,
        number: int,
        tracks: dict[str, str],
        tag_id: int,
        own_removed_only: bool,
    ) -> None:
        """Refuse a class (track + number) held by another tag; ``own_removed_only``: the
        tag's own removed registration does not count (registering it again)."""
        other = "NOT (tag_id = ? AND active = 0)" if own_removed_only else "tag_id <> ?"
        r = con.execute(
            "SELECT tag_id FROM progress_tags WHERE track = ? AND class_number = ? AND " + other,
            [track, number, tag_id],
        ).fetchone()
        if r:
            raise TagError(
                "class_taken",
                label=class_label(number),
                track=tracks.get(track, track),
                other=r["tag_id"],
            )

    def _check_free(
        self, tag_id: int, track: str, number: int, tracks: dict[str, str], con: Any = None
    ) -> None:
        def check(c: Any) -> None:
            r = c.execute(
                "SELECT * FROM progress_tags WHERE tag_id = ? AND active = 1", [tag_id]
            ).fetchone()
            if r:
                raise TagError(
                    "tag_taken",
                    tag=tag_id,
                    label=class_label(r["class_number"]),
                    track=tracks.get(r["track"], r["track"]),
                )
            # a removed tag may come back as its own class; any other holder keeps the class
            self._check_class_free(c, track, number, tracks, tag_id, own_removed_only=True)

        if con is not None:
            check(con)
        else:
            with self.opstate.connect() as c:
                check(c)

    def remove(self, tag: Any, actor: str) -> ClassTag:
        """Stop collecting ``tag``; its published history stays."""
        tag_id = _integer(tag, "tag")
        with self.opstate.transaction() as con:
            n = con.execute(
                "UPDATE progress_tags SET active = 0, removed_by = ?, removed_at = ? "
                "WHERE tag_id = ? AND active = 1",
                [actor, iso(utcnow()), tag_id],
            ).rowcount
        if not n:
            raise TagError("not_registered", tag=tag_id)
        found = self.get(tag_id)
        assert found is not None
        return found
