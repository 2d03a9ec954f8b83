"""Run by ``pytest --nbval-lax notebooks``: every notebook against a tiny fixture store.

Before any kernel starts, point ``PAINEL_HOME`` at a temporary data directory (with the
demo's parameter profile, as ``painel demo prepare`` would mark it), give the
dashboards their test-only identity (``PAINEL_DASHBOARD_USER``; never read under Voilà), and
let each installed domain publish the small data its notebooks need
(``Domain.notebook_fixture``). A domain's fixture may also name parameter values for its ETL
notebooks (e.g. the address of the API simulator it started on a free port): they are
injected after the notebook's ``parameters`` cell, as papermill would. Kernels inherit the
environment, so the notebooks otherwise run unchanged.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

_STACK = contextlib.ExitStack()
_INJECT: dict[str, dict[str, Any]] = {}  # notebook stem -> parameter values


def _nbval_active(config: pytest.Config) -> bool:
    for opt in ("--nbval", "--nbval-lax"):
        try:
            if config.getoption(opt):
                return True
        except ValueError:
            pass
    return False


def pytest_configure(config: pytest.Config) -> None:
    if not _nbval_active(config):
        return
    from painel import domain
    from painel.auth import Users
    from painel.config import Paths
    from painel.opstate import OpState

    home = Path(tempfile.mkdtemp(prefix="painel-nbval-"))
    os.environ["PAINEL_HOME"] = str(home)
    os.environ["PAINEL_PROJECT"] = str(Path(__file__).parent)
    os.environ["PAINEL_DASHBOARD_USER"] = "admin"
    paths = Paths.from_env().ensure()
    paths.set_profile("demo")  # the notebooks run with the demo's parameters, as `make demo` would
    Users(OpState(paths.opstate)).add("admin", "fixture-admin-pass", "admin")
    for d in domain.domains():
        if d.notebook_fixture:
            _INJECT.update(domain.resolve(d.notebook_fixture)(paths, _STACK) or {})


def pytest_unconfigure(config: pytest.Config) -> None:
    _STACK.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Append the fixtures' values to each notebook's ``parameters`` cell (papermill's injection)."""
    for item in items:
        cell = getattr(item, "cell", None)
        values = _INJECT.get(Path(str(item.fspath)).stem)
        if (
            cell is None
            or not values
            or "parameters" not in cell.get("metadata", {}).get("tags", [])
        ):
            continue
        cell.source += "\n# injected by conftest.py, as papermill would\n" + "".join(
            f"{name} = {value!r}\n" for name, value in values.items()
        )
