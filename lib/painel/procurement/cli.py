"""The procurement suite's commands (added through the domain's ``cli`` hook)."""

from __future__ import annotations

from ..domain import CommandGroups


def add_commands(groups: CommandGroups) -> None:
    """``painel generate procurement`` and ``painel simulate pncp``."""
    from .generate.cli import add as add_generate
    from .simulator.cli import add as add_simulate

    add_generate(groups)
    add_simulate(groups)
