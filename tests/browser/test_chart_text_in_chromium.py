"""Debian chromium: markup in source text is drawn by plotly as text (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(120)]


def test_markup_in_a_name_is_shown_as_text_and_never_becomes_a_link(browser: Any) -> None:
    import plotly.graph_objects as go

    from painel.dash.chart import Chart, plotly_js

    hostile = '<a href="https://evil.example/">clique</a>'
    fig = go.Figure(go.Bar(x=[hostile, "Turma 1"], y=[1, 2], name=hostile))
    fig.update_layout(title=f"Jornada de {hostile}<br><b>Sem. 48</b>", showlegend=True)
    spec = Chart(fig).spec
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.set_content("<div id='g' style='width:800px;height:400px'></div>")
        page.add_script_tag(content=plotly_js().decode())
        page.evaluate("(s) => Plotly.newPlot('g', s.data, s.layout, {staticPlot: false})", spec)
        page.wait_for_selector("#g .gtitle")
        assert page.locator("#g svg a").count() == 0  # no link anywhere in the chart
        assert page.locator("#g .gtitle").text_content().startswith("Jornada de " + hostile)
        assert page.locator("#g .gtitle tspan[style*='font-weight:bold']").count() == 1
        ticks = page.locator("#g .xtick text").all_text_contents()
        assert hostile in ticks
        assert hostile in page.locator("#g .legendtext").text_content()
    finally:
        context.close()
