"""``dash.later``: a served page is sent first and filled in after (issue 8, click to usable).

Under ``painel serve`` a page's build returns its widgets and hands the queries and figures
to ``dash.later``; the kernel runs them on its event loop once the build's cell is over, so
Voilà sends the page's HTML while the kernel fills it in. Anywhere else a built page is a
filled page.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets
import pytest

from painel import dash
from painel.access import AccessChanged
from painel.auth import Users
from painel.dash import identity, ui
from painel.opstate import OpState
from painel.wire import TEST_USER_ENV, USER_ENV


@pytest.fixture
def users(tmp_path, monkeypatch) -> Users:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path))
    monkeypatch.setattr(identity, "_served", None)
    monkeypatch.setattr(identity, "_access_changed", False)
    op = OpState(tmp_path / "painel.sqlite")
    op.migrate()
    users = Users(op)
    users.add("maria", "correct horse battery", "school_sre", grants=["demo:regional:1"])
    return users


@pytest.fixture
def served(users, monkeypatch) -> Users:
    """A kernel under ``painel serve`` whose visitor is maria, past the wait for the request."""
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv(USER_ENV, "maria")
    return users


def page_with_fill(fill: Any) -> tuple[widgets.HTML, Any]:
    shown = widgets.HTML("")

    def build(viewer: Any) -> widgets.Widget:
        assert viewer.username == "maria"
        dash.later(lambda: fill(shown))
        return shown

    return shown, build


def render_on_a_loop(build: Any) -> tuple[Any, list[Any]]:
    """dash.render inside a running event loop (as in a kernel): (what it returned, the
    returned page's children right after render and after one turn of the loop)."""

    async def main() -> tuple[Any, list[Any]]:
        page = dash.render(build)

        def htmls(w: Any) -> list[Any]:
            own = [w.value] if isinstance(w, widgets.HTML) else []
            return own + [v for c in getattr(w, "children", ()) for v in htmls(c)]

        before = [getattr(page, "children", None), htmls(page)]
        await asyncio.sleep(0)
        return page, before

    return asyncio.run(main())


def test_later_runs_at_once_outside_a_page_build() -> None:
    ran = []
    dash.later(lambda: ran.append(1))
    assert ran == [1]


def test_a_served_page_is_returned_before_its_fill_runs_and_filled_on_the_next_turn(
    served,
) -> None:
    shown, build = page_with_fill(lambda w: setattr(w, "value", "cheio"))
    page, (children, values) = render_on_a_loop(build)
    assert values == [""]  # sent empty: the fill had not run when render returned
    # the page, with the memory of its state (painel.dash.memory) ahead of it
    (inner,) = children
    memory, built = inner.children
    assert isinstance(page, widgets.VBox) and built is shown
    assert type(memory).__name__ == "PageMemory"
    assert shown.value == "cheio"  # ... and ran once the cell's turn was over
    assert memory.state  # captured after the fill, for the browser to keep


def test_a_fill_that_fails_replaces_the_served_page_with_a_message(served) -> None:
    def fail(w: widgets.HTML) -> None:
        raise RuntimeError("boom")

    page, _ = render_on_a_loop(page_with_fill(fail)[1])
    (message,) = page.children
    assert ui.GENERIC_ERROR in message.value and "boom" not in message.value


def test_a_fill_refused_by_an_access_change_says_so(served) -> None:
    def refused(w: widgets.HTML) -> None:
        raise AccessChanged("maria")

    page, _ = render_on_a_loop(page_with_fill(refused)[1])
    (message,) = page.children
    assert ui.ACCESS_CHANGED in message.value


def test_outside_painel_serve_a_built_page_is_a_filled_page(users, monkeypatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv(TEST_USER_ENV, "maria")
    shown, build = page_with_fill(lambda w: setattr(w, "value", "cheio"))
    assert dash.render(build) is shown
    assert shown.value == "cheio"


def test_outside_painel_serve_a_failing_fill_raises(users, monkeypatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv(TEST_USER_ENV, "maria")

    def fail(w: widgets.HTML) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        dash.render(page_with_fill(fail)[1])


def test_warm_up_leaves_no_widget_open() -> None:
    from ipywidgets.widgets import widget as widget_module

    before = set(widget_module._instances)
    dash.warm_up()
    left = set(widget_module._instances) - before
    # an open widget (a layout or a style too) would be sent to every visitor's browser
    assert not left, sorted(type(widget_module._instances[k]).__name__ for k in left)
