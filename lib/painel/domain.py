"""The domain contract: how a suite (learning progress, the school network, procurement) plugs in.

A domain package exposes one :class:`Domain` and names it in the ``painel.domains``
entry-point group of its distribution, the way papermill registers engines and datasette
plugins::

    [project.entry-points."painel.domains"]
    progress = "painel.progress:DOMAIN"

The core finds domains only through that group: no core module imports a domain package
(a test enforces it), so a separately installed package adds a domain with no edit here.

A ``Domain`` is declarations plus ``"module:function"`` references that are imported only
when used, so reading every domain's roles and migrations (which the server does at start)
imports nothing heavy: keep the module that defines ``DOMAIN`` free of pandas, duckdb and
plotly imports.

What a domain declares, and who uses it:

- ``name``, ``title``: the domain's id (also its migration stream) and its pt-BR title;
- ``datasets``: ``{dataset: {table: scope}}``, what its ETL publishes and how rows are scoped
  (``etl.build(dataset)`` takes the declaration from here);
- ``roles``: the roles it adds (the core has ``admin`` and ``analyst``); an unknown role still
  fails closed everywhere;
- ``migrations``: its operational-store schema, its own numbered stream (``migrations[i]``
  takes it from version ``i`` to ``i + 1``), applied by :mod:`painel.opstate`;
- ``cli``: ``"module:function"`` called with :class:`CommandGroups` to add its commands;
- ``demo``: ``"module:function(paths, data=True) -> list[str]"`` preparing its demo (sources,
  registrations, and with ``data`` its first published versions); ``demo_users`` its accounts;
- ``demo_services``: ``"module:function(paths)"``, a context manager that starts what the
  demo's server needs (an API simulator) and yields environment variables for the server;
- ``notebook_fixture``: ``"module:function(paths, stack) -> {notebook stem: {param: value}}"``,
  the small published data its notebooks need under nbval, and parameters to inject into
  their ``parameters`` cells (as papermill would);
- ``docs``: the path of its documentation page, relative to the project;
- ``reports``: its :class:`Report` bursts (``painel report burst NAME``): a report notebook in
  ``notebooks/reports/`` executed once per scope (each SRE, each school) with the scope as a
  parameter, its files delivered to a folder per scope and mailed to that scope's users.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "painel.domains"
PUBLIC = "public"
CORE_ROLES: dict[str, str] = {
    "admin": "Administração: todos os painéis e todos os dados",
    "analyst": "Analista de dados: qualidade e atualização dos dados",
}

Scope = Mapping[str, str] | str  # {"grant kind": "column"} or "public"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DomainError(Exception):
    """A domain that cannot be loaded or contradicts another; the message names it."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    grants: tuple[str, ...] = ()
    display_name: str = ""
    email: str = ""  # where the demo's mail to this account goes (its mail catcher)


@dataclass(frozen=True)
class Report:
    """A report made once per scope (:mod:`painel.reports`).

    ``name`` is its notebook's stem in ``notebooks/reports/``; the notebook's ``parameters``
    cell takes ``escopo`` (a grant kind of ``dataset``), ``escopo_id``, ``versao`` (the
    dataset version every scope of a burst reads) and ``saida`` (the folder it writes its
    spreadsheet into). ``scopes`` is ``"module:function(ds) -> list[painel.reports.ReportScope]"``:
    given the dataset (all of it, the burst's version) it lists the units to report on.
    """

    name: str
    title: str  # pt-BR, in mail subjects and the run summary
    dataset: str
    scopes: str
    kinds: tuple[str, ...]  # the grant kinds it is made for, e.g. ("sre", "school")


@dataclass(frozen=True)
class Domain:
    name: str
    title: str
    datasets: Mapping[str, Mapping[str, Scope]] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    migrations: Sequence[str] = ()
    cli: str | None = None
    demo: str | None = None
    demo_users: Sequence[DemoUser] = ()
    demo_services: str | None = None
    notebook_fixture: str | None = None
    docs: str | None = None
    # "module:attribute": {kind: handler(paths, arg, actor)} the server answers for kernels
    services: str | None = None
    reports: Sequence[Report] = ()


@dataclass(frozen=True)
class CommandGroups:
    """Where a domain's ``cli`` hook adds commands: argparse sub-parser actions."""

    top: Any  # painel COMMAND
    demo: Any  # painel demo SUBCOMMAND
    simulate: Any  # painel simulate API
    generate: Any = None  # painel generate SOURCE (synthetic source files)


def resolve(ref: str) -> Any:
    """The object a ``"module:attribute"`` reference names."""
    module, _, attr = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise DomainError(f"cannot load {ref!r}: {exc}") from None


@functools.cache
def domains() -> tuple[Domain, ...]:
    """Every installed domain, by name; loaded once per process."""
    found: dict[str, Domain] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must name itself, not crash obscurely
            raise DomainError(
                f"domain entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
            ) from None
        if not isinstance(obj, Domain):
            raise DomainError(
                f"domain entry point {ep.name!r} ({ep.value}) is not a painel.domain.Domain"
            )
        if not _NAME.match(obj.name):
            raise DomainError(
                f"domain {obj.name!r}: the name must be lowercase letters, digits or _"
            )
        if obj.name == "core" or obj.name in found:
            raise DomainError(f"domain name {obj.name!r} is used twice ({ep.value})")
        clash = set(obj.roles) & set(CORE_ROLES)
        if clash:
            raise DomainError(f"domain {obj.name!r} redefines core roles {sorted(clash)}")
        found[obj.name] = obj
    _check_datasets(found.values())
    return tuple(found.values())


def _check_datasets(items: Any) -> None:
    owner: dict[str, str] = {}
    for d in items:
        for dataset in d.datasets:
            if dataset in owner:
                raise DomainError(
                    f"dataset {dataset!r} is declared by domains {owner[dataset]!r} and {d.name!r}"
                )
            owner[dataset] = d.name


def roles() -> dict[str, str]:
    """Core roles, then each domain's (a role several domains share keeps its first description)."""
    out = dict(CORE_ROLES)
    for d in domains():
        for role, description in d.roles.items():
            out.setdefault(role, description)
    return out


def reports() -> dict[str, Report]:
    """Every installed domain's reports, by name."""
    out: dict[str, Report] = {}
    for d in domains():
        for r in d.reports:
            if r.name in out:
                raise DomainError(f"report {r.name!r} is declared twice (domain {d.name!r})")
            out[r.name] = r
    return out


def dataset_tables(dataset: str) -> Mapping[str, Scope]:
    """The table declaration of a dataset some domain declares."""
    for d in domains():
        if dataset in d.datasets:
            return d.datasets[dataset]
    raise DomainError(f"no installed domain declares dataset {dataset!r}")


def dataset_title(dataset: str) -> str:
    """The title of the domain that publishes ``dataset`` (the id itself when none does)."""
    for d in domains():
        if dataset in d.datasets:
            return d.title
    return dataset
