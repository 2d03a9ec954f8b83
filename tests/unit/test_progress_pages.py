"""The progress pages when the job is not configured yet: a pt-BR message, never an error."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from painel.access import Grant, Viewer
from painel_testing import REPO


def _text(widget: widgets.Widget) -> str:
    if isinstance(widget, widgets.HTML):
        return str(widget.value)
    return "".join(_text(c) for c in getattr(widget, "children", ()))


def test_cadastro_says_the_collection_is_not_configured(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    from painel.progress.pages import cadastro

    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PAINEL_PROJECT", str(REPO))
    monkeypatch.setenv("PAINEL_PROFILE", "")  # production parameters: the placeholder base_url
    viewer = Viewer("coordenacao", "coordinator", frozenset({Grant.parse("progress:*")}))
    with caplog.at_level("WARNING", logger="painel.progress"):
        text = _text(cadastro.build(viewer))
    assert "A coleta de progresso ainda não está configurada" in text
    assert "placeholder" not in text  # pt-BR only on the page
    assert "placeholder" in caplog.text  # the detail, for the data team, goes to the server log

    monkeypatch.setenv("PAINEL_PROFILE", "demo")  # the demo's parameters: the form
    assert "Tag da turma na Cademi" not in text
    form = cadastro.build(viewer)
    assert "ainda não está configurada" not in _text(form)
    assert any(isinstance(w, widgets.Button) for w in _walk(form))


def _walk(widget: widgets.Widget) -> list[widgets.Widget]:
    out = [widget]
    for child in getattr(widget, "children", ()):
        out.extend(_walk(child))
    return out
