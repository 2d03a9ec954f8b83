"""The project's shape: one dependency list, mirrored for conda; notebooks follow the conventions."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

from painel_testing import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;\[]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    for extra in ("test", "analyst"):
        wanted.update(
            {_name(r): r.replace(" ", "") for r in project["optional-dependencies"][extra]}
        )
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    listed.pop("python"), listed.pop("pip")
    assert listed == wanted


def test_constraints_pin_every_dependency() -> None:
    pins = {
        _name(line): line.split("==")[1]
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    missing = [_name(r) for r in reqs if _name(r) not in pins]
    assert not missing


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_notebooks_have_no_outputs_and_no_definitions() -> None:
    for path in sorted((REPO / "notebooks").rglob("*.ipynb")):
        for cell in _cells(path):
            if cell["cell_type"] != "code":
                continue
            assert not cell.get("outputs"), f"{path.name}: committed outputs"
            src = "".join(cell["source"])
            assert not re.search(r"^\s*(def|class)\s", src, re.M), (
                f"{path.name}: logic belongs in lib/"
            )


def test_each_etl_notebook_has_one_parameters_cell() -> None:
    for path in sorted((REPO / "notebooks" / "etl").glob("*.ipynb")):
        tagged = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name


def test_every_dashboard_declares_known_roles() -> None:
    from painel.access import roles

    for path in sorted((REPO / "notebooks" / "dashboards").glob("*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("painel")
        assert meta and meta.get("title") and meta.get("roles"), path.name
        assert set(meta["roles"]) <= set(roles()), path.name


def test_voila_json_is_safe() -> None:
    vc = json.loads((REPO / "voila.json").read_text())["VoilaConfiguration"]
    assert vc["strip_sources"] is True and vc["show_tracebacks"] is False
    assert vc["allow_template_override"] == "NO" and vc["allow_theme_override"] == "NO"
    assert vc["file_allowlist"] == []
