"""The dashboards painel serves, from each notebook's ``painel`` metadata.

A dashboard notebook declares who may open it::

    "metadata": {"painel": {"title": "Visão Geral da Rede", "description": "...", "roles": ["admin", "school_sre"]}}

A notebook without that metadata, or naming an unknown role, is not served (fail closed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..access import roles


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class Dashboard:
    path: str  # relative to the dashboards folder, e.g. "rede_visao_geral.ipynb"
    title: str
    description: str
    roles: frozenset[str]
    order: int = 1000  # metadata "order": where the landing page lists it (then by title)

    def allows(self, role: str) -> bool:
        return role in self.roles


def read_dashboard(root: Path, file: Path) -> Dashboard:
    rel = file.relative_to(root).as_posix()
    try:
        meta = json.loads(file.read_text(encoding="utf-8")).get("metadata", {}).get("painel")
    except ValueError as exc:
        raise CatalogError(f"{rel}: not a valid notebook ({exc})") from None
    if not isinstance(meta, dict) or not meta.get("roles"):
        raise CatalogError(f"{rel}: no 'painel' metadata with 'roles'; it will not be served")
    wanted = meta["roles"]
    known = roles()
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise CatalogError(
            f"{rel}: unknown roles {unknown} in metadata (roles: {', '.join(known)})"
        )
    order = meta.get("order", 1000)
    if not isinstance(order, int) or isinstance(order, bool):
        raise CatalogError(f"{rel}: metadata 'order' must be a whole number (got {order!r})")
    return Dashboard(
        rel,
        str(meta.get("title") or file.stem),
        str(meta.get("description", "")),
        frozenset(wanted),
        order,
    )


class Catalog:
    """Re-reads a notebook's metadata only when its file changed."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[Path, tuple[float, Dashboard | None]] = {}
        self.problems: dict[str, str] = {}

    def dashboards(self) -> list[Dashboard]:
        found = []
        for file in sorted(self.root.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in file.parts:
                continue
            mtime = file.stat().st_mtime
            cached = self._cache.get(file)
            if cached is None or cached[0] != mtime:
                try:
                    entry: Dashboard | None = read_dashboard(self.root, file)
                    self.problems.pop(file.name, None)
                except CatalogError as exc:
                    entry = None
                    self.problems[file.name] = str(exc)
                self._cache[file] = (mtime, entry)
                cached = self._cache[file]
            if cached[1] is not None:
                found.append(cached[1])
        return sorted(found, key=lambda d: (d.order, d.title))

    def get(self, path: str) -> Dashboard | None:
        for d in self.dashboards():
            if d.path == path:
                return d
        return None

    def for_role(self, role: str) -> list[Dashboard]:
        return [d for d in self.dashboards() if d.allows(role)]
