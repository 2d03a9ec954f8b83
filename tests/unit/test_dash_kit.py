"""painel.dash: the page deadline, messages, the executor's timeout per cell."""

from __future__ import annotations

import time

import pytest

from painel import dash
from painel.dash import ui
from painel.web.app import VisitorCellTimeout


def test_deadline_interrupts_a_slow_build_and_restores_the_alarm() -> None:
    started = time.monotonic()
    with pytest.raises(dash.BuildTimeout), dash.deadline(0.2):
        time.sleep(5)
    assert time.monotonic() - started < 2
    with dash.deadline(0.5):  # finished in time: nothing raised later
        pass
    time.sleep(0.7)


def test_no_deadline_means_none() -> None:
    with dash.deadline(0):
        time.sleep(0.05)


def test_messages_are_announced_and_failures_ask_for_a_retry() -> None:
    assert 'role="alert"' in ui.message("x", "error")
    assert 'role="status"' in ui.message("x")
    assert "data-painel-retry" in ui.message("x", "error", retry=True)
    assert "data-painel-retry" not in ui.message("x", "error")
    assert "&lt;b&gt;" in ui.message("<b>")


@pytest.mark.parametrize(
    "source",
    [
        "dash.render(page.build)",
        "viewer = dash.current_viewer()",
        "from painel.dash import render\nrender(build)",
    ],
)
def test_the_cell_that_waits_for_its_visitor_has_no_executor_timeout(source: str) -> None:
    timeout = VisitorCellTimeout(120)
    assert timeout({"cell_type": "code", "source": source}) is None


def test_other_cells_keep_the_executor_timeout() -> None:
    timeout = VisitorCellTimeout(120)
    assert (
        timeout({"cell_type": "code", "source": "from painel import dash\ndash.warm_up()"}) == 120
    )
    assert timeout({"cell_type": "code", "source": "x = renderer"}) == 120
