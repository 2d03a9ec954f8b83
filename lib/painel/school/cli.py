"""The school suite's commands (added through the domain's ``cli`` hook)."""

from __future__ import annotations

from ..domain import CommandGroups


def add_commands(groups: CommandGroups) -> None:
    """``painel generate school`` (the generator's own module adds its arguments)."""
