"""The domain contract: discovery through entry points, roles, conflicts, and the core's
independence from every domain package (the core never imports one)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from painel import domain
from painel.access import UnknownRole, Viewer, roles
from painel.domain import CORE_ROLES, Domain, DomainError
from painel_testing import REPO

LIB = REPO / "lib" / "painel"


@pytest.fixture
def fake_domains(monkeypatch):
    """Replace the installed entry points with the given ``name=Domain`` objects."""

    def install(**objects: object) -> None:
        eps = []
        for name, obj in objects.items():
            module = type(sys)(f"fake_domain_{name}")
            module.DOMAIN = obj
            monkeypatch.setitem(sys.modules, module.__name__, module)
            eps.append(EntryPoint(name, f"{module.__name__}:DOMAIN", domain.ENTRY_POINT_GROUP))
        monkeypatch.setattr(
            domain, "entry_points", lambda group: eps if group == domain.ENTRY_POINT_GROUP else []
        )
        domain.domains.cache_clear()

    yield install
    domain.domains.cache_clear()


def test_installed_domains_are_found_through_the_entry_point_group():
    names = [d.name for d in domain.domains()]
    assert {"progress", "school"} <= set(names)
    assert domain.dataset_tables("progress")["progress_weekly"] == {"class": "tag_id"}
    assert domain.dataset_title("progress") == "Progresso de aprendizagem"
    assert domain.dataset_title("not_declared") == "not_declared"


def test_core_keeps_admin_and_analyst_and_domains_add_theirs():
    assert set(CORE_ROLES) == {"admin", "analyst"}
    known = roles()
    assert {"admin", "analyst", "school_sre", "coordinator", "tutor"} <= set(known)
    with pytest.raises(UnknownRole):
        Viewer("x", "auditor")  # no installed domain declares it: fail closed


def test_every_reference_of_every_installed_domain_resolves_and_its_docs_exist():
    for d in domain.domains():
        for ref in (d.cli, d.demo, d.demo_services, d.notebook_fixture):
            if ref:
                assert callable(domain.resolve(ref)), (d.name, ref)
        assert d.docs and (REPO / d.docs).is_file(), f"domain {d.name} has no docs page"
        for user in d.demo_users:
            assert user.role in roles(), (d.name, user.username)


def test_a_domain_cannot_take_a_core_role_a_name_twice_or_another_domains_dataset(fake_domains):
    fake_domains(a=Domain("a", "A", roles={"admin": "mine"}))
    with pytest.raises(DomainError, match="redefines core roles"):
        domain.domains()
    fake_domains(a=Domain("same", "A"), b=Domain("same", "B"))
    with pytest.raises(DomainError, match="used twice"):
        domain.domains()
    fake_domains(a=Domain("a", "A", datasets={"x": {}}), b=Domain("b", "B", datasets={"x": {}}))
    with pytest.raises(DomainError, match="dataset 'x' is declared by domains 'a' and 'b'"):
        domain.domains()
    fake_domains(a=object())
    with pytest.raises(DomainError, match="is not a painel.domain.Domain"):
        domain.domains()


def test_a_broken_plugin_names_itself_on_the_command_line(fake_domains, monkeypatch, capsys):
    from painel import cli

    fake_domains(broken=Domain("broken", "B", cli="no_such_module:add"))
    assert cli.main(["--help"]) == 2
    assert "no_such_module" in capsys.readouterr().err


def test_a_role_several_domains_share_is_one_role(fake_domains):
    fake_domains(
        a=Domain("a", "A", roles={"school_sre": "first"}),
        b=Domain("b", "B", roles={"school_sre": "second"}),
    )
    assert roles()["school_sre"] == "first"


def _domain_packages() -> set[str]:
    return {ep.value.split(":")[0] for ep in domain.entry_points(group=domain.ENTRY_POINT_GROUP)}


def test_no_core_module_imports_a_domain_package():
    packages = _domain_packages()
    assert "painel.progress" in packages and "painel.school" in packages
    offenders = []
    for path in LIB.rglob("*.py"):
        module = "painel." + ".".join(path.relative_to(LIB).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if any(module == p or module.startswith(p + ".") for p in packages):
            continue  # a domain may import the core, and itself
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for name in names:
                if any(name == p or name.startswith(p + ".") for p in packages):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
    assert offenders == []


def _loaded_after(code: str) -> dict[str, bool]:
    probe = (
        f"import sys\n{code}\nimport json\n"
        "print(json.dumps({m: m in sys.modules for m in ('pandas', 'duckdb', 'argon2', 'plotly')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_server_loads_neither_pandas_nor_duckdb():
    loaded = _loaded_after("import painel.web.app")
    assert loaded["pandas"] is False and loaded["duckdb"] is False and loaded["plotly"] is False


def test_a_dashboard_kernel_imports_no_password_hashing():
    notebooks = sorted((REPO / "notebooks" / "dashboards").glob("*.ipynb"))
    imports = []
    for nb in notebooks:
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and "import" in source:
                imports.append(source)
    assert imports
    loaded = _loaded_after("\n".join(imports) + "\nfrom painel import dash\ndash.current_viewer")
    assert loaded["argon2"] is False and loaded["pandas"] is True
