"""Meus Alertas: an audited organ's findings that the CGE sent it, read-only (see
:mod:`.alertas`)."""

from __future__ import annotations

from .alertas import Alertas
from .frame import build_panel


class MeusAlertas(Alertas):
    title = "Meus Alertas"
    organ_view = True
    name = "meus_alertas"


build = build_panel(MeusAlertas)
