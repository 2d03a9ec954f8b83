"""A PNCP API simulator with the real API's quirks (docs/procurement.md).

- :mod:`.server`: :class:`PncpSimulator`, PNCP's consulta and detail APIs over a world DuckDB
  file (:mod:`painel.procurement.world`), with the :class:`Faults` switches;
- :mod:`.codes`: PNCP's domain tables (modalidades, amparos legais, ...);
- :mod:`.sample`: a tiny deterministic world for tests and demos;
- :mod:`.cli`: ``painel simulate pncp``.

The server (and DuckDB) load on first use, so that building the command line stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import CONSULTA, PNCP, Faults, PncpSimulator

__all__ = ["CONSULTA", "PNCP", "Faults", "PncpSimulator"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
