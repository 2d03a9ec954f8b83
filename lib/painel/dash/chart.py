"""A plotly chart that is redrawn in place: ``chart = Chart(filename=...)``; ``chart.figure = fig``.

Every panel's chart that changes with a filter should be a :class:`Chart`: a new figure is
drawn by ``Plotly.react`` on the same element (only what changed is redrawn), where replacing
an ``Output`` builds a new plot from scratch each time. Same pt-BR configuration and text
alternative as :func:`painel.dash.ui.show`. ``on_click(x)`` (optional) receives the clicked
bar's or point's x, checked against the figure the server drew (the browser only says which).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import plotly
import plotly.graph_objects as go
import traitlets

from . import plots

HERE = Path(__file__).parent
CSS = """
.painel-chart { width: 100%; min-width: 0; }
.painel-chart-click .nsewdrag, .painel-chart-click .bars .point { cursor: pointer !important; }
"""


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def figure_json(fig: go.Figure | plots.Spec) -> dict[str, Any]:
    """``data`` and ``layout`` as JSON-ready values (numpy and dates made plain), every string
    escaped for plotly's pseudo-HTML (:func:`painel.dash.plots.sanitize`)."""
    if isinstance(fig, plots.Spec):
        out: dict[str, Any] = json.loads(json.dumps(dict(fig), default=_plain))
    else:
        out = dict(json.loads(fig.to_json()))
    return {k: plots.sanitize(v) for k, v in out.items()}


def plotly_js() -> bytes:
    """The plotly.js the plotly package ships (painel serve also serves it, cached)."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


class Chart(anywidget.AnyWidget):
    _esm = HERE / "chart.js"
    _css = CSS
    spec = traitlets.Dict().tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)
    clickable = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        figure: go.Figure | plots.Spec | None = None,
        *,
        filename: str = "grafico",
        on_click: Callable[[Any], Any] | None = None,
    ):
        super().__init__()
        self._filename = filename
        self._on_click = on_click
        self.clickable = on_click is not None
        self._xs: dict[str, Any] = {}
        self._ys: dict[str, Any] = {}
        self._figure: go.Figure | plots.Spec | None = None
        self._sent_plotly = False
        self.on_msg(self._clicked)
        if figure is not None:
            self.figure = figure

    @property
    def figure(self) -> go.Figure | plots.Spec | None:
        return self._figure

    @figure.setter
    def figure(self, fig: go.Figure | plots.Spec) -> None:
        self._figure = fig
        self._xs, self._ys = {}, {}
        traces = fig["data"] if isinstance(fig, plots.Spec) else fig.data
        for trace in traces:
            get = trace.get if isinstance(trace, dict) else lambda k, t=trace: getattr(t, k, None)
            # a horizontal bar is named by its y (its category), any other point by its x
            axis, keyed = ("y", self._ys) if get("orientation") == "h" else ("x", self._xs)
            values = get(axis)
            for v in list(values) if values is not None else []:
                if v is not None:  # keyed as the browser has it (escaped)
                    keyed[plots.safe_text(str(v))] = v
        with self.hold_sync():
            self.alt = plots.alt_text(fig)
            self.spec = {**figure_json(fig), "config": plots.config(self._filename)}

    def _clicked(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "plotly.js" and not self._sent_plotly:
            # outside painel serve (JupyterLab): the page has no plotly.js of painel's own
            self._sent_plotly = True
            self.send({"event": "plotly.js"}, [plotly_js()])
            return
        if self._on_click is None or content.get("event") != "click":
            return
        x, y = content.get("x"), content.get("y")
        if isinstance(y, str) and y in self._ys:
            self._on_click(self._ys[y])
        elif isinstance(x, str) and x in self._xs:
            self._on_click(self._xs[x])
