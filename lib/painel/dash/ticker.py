"""A page that updates itself: the browser asks every few seconds, the kernel answers.

The kernel runs no thread of its own: while ``active``, the browser sends a "tick" every
``seconds`` (only while the page is visible) and the handlers run in the kernel's main loop
like any other widget event. Set ``active = False`` when there is nothing left to follow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

log = logging.getLogger("painel.dash")

ESM = """
function render({ model, el }) {
  let timer = null;
  function arm() {
    clearInterval(timer);
    timer = null;
    if (model.get("active")) {
      timer = setInterval(() => {
        if (document.visibilityState === "visible") model.send({ event: "tick" });
      }, Math.max(1, model.get("seconds")) * 1000);
    }
  }
  model.on("change:active", arm);
  model.on("change:seconds", arm);
  arm();
  return () => { clearInterval(timer); model.off("change:active", arm); model.off("change:seconds", arm); };
}
export default { render };
"""


class Ticker(anywidget.AnyWidget):
    _esm = ESM
    active = traitlets.Bool(False).tag(sync=True)
    seconds = traitlets.Float(2.0).tag(sync=True)

    def __init__(self, seconds: float = 2.0, **kwargs: Any):
        super().__init__(seconds=seconds, **kwargs)
        self.layout.display = "none"
        self._handlers: list[Callable[[], Any]] = []
        self.on_msg(self._on_message)

    def on_tick(self, handler: Callable[[], Any]) -> None:
        self._handlers.append(handler)

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not self.active or not isinstance(content, dict) or content.get("event") != "tick":
            return
        for handler in self._handlers:
            try:
                handler()
            except Exception:
                log.exception("ticker handler failed")
