"""Voilà's page templates are compiled once per ``painel serve`` process (issue 13: server CPU
per page open). Voilà makes a new Jinja environment for every page it renders; without a
shared cache each render compiled every template again (~40 % of the server's CPU per open)."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from voila.exporter import VoilaExporter

from painel.web.app import CompiledTemplates, exporter_with_compiled_templates


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = jinja2.Environment._compile

    def counted(self: jinja2.Environment, source: str, filename: str) -> Any:
        calls.append(filename)
        return real(self, source, filename)

    monkeypatch.setattr(jinja2.Environment, "_compile", counted)
    return calls


def env(cache: CompiledTemplates, source: str, is_async: bool = False) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader({"t": source}), bytecode_cache=cache, enable_async=is_async
    )


def test_a_template_is_compiled_once_for_every_new_environment(compiles: list[str]) -> None:
    cache = CompiledTemplates()
    for n in range(3):
        assert env(cache, "{{ x }}!").get_template("t").render(x=n) == f"{n}!"
    assert len(compiles) == 1


def test_an_edited_template_or_another_kind_of_environment_compiles_again(
    compiles: list[str],
) -> None:
    cache = CompiledTemplates()
    env(cache, "{{ x }}!").get_template("t").render(x=1)
    assert env(cache, "{{ x }}?").get_template("t").render(x=1) == "1?"
    assert len(compiles) == 2
    import asyncio

    template = env(cache, "{{ x }}?", is_async=True).get_template("t")
    assert asyncio.run(template.render_async(x=2)) == "2?"
    assert len(compiles) == 3


def test_voilas_exporter_shares_the_cache() -> None:
    cache = CompiledTemplates()
    cls = exporter_with_compiled_templates(VoilaExporter, cache)
    assert issubclass(cls, VoilaExporter)
    assert cls().environment.bytecode_cache is cache
