"""Fixtures driving the real ``painel`` command line against a throw-away PAINEL_HOME.

``Cli`` and its helpers live in tests/painel_testing.py (shared with the web tests and bench).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from painel_testing import FIXTURE_PROJECT, REPO, Cli


def make_cli(home: Path, project: Path) -> Cli:
    home.mkdir(parents=True, exist_ok=True)
    return Cli(home=home, project=project)


@pytest.fixture(scope="session")
def new_cli() -> Iterator[Callable[..., Cli]]:
    """A factory for Clis outliving one test (module fixtures); all cleaned up at the end."""
    made: list[Cli] = []

    def factory(home: Path, project: Path = REPO) -> Cli:
        c = make_cli(home, project)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.cleanup()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI on the real project (/work/main), with an empty data directory."""
    c = make_cli(tmp_path / "home", REPO)
    yield c
    c.cleanup()


@pytest.fixture
def fixture_cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI on tests/fixtures/project (tiny named notebooks), with an empty data directory."""
    c = make_cli(tmp_path / "home", FIXTURE_PROJECT)
    yield c
    c.cleanup()
