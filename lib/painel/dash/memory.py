"""A page that outlives its kernel: its filters and position come back with the page.

A served page's kernel does not live forever: ``painel serve`` pauses (shuts down) a kernel
left idle (``MappingKernelManager.cull_idle_timeout``), and a kernel can die. The page then
reloads when its viewer comes back (the painel template) and should look as it was left.

:class:`PageMemory` is what makes it so. :func:`painel.dash.render` adds one, invisible, to
every served page. It keeps, in the browser (``sessionStorage``: this tab, this panel),
what the viewer chose:

- each filter's value (selections, texts, check boxes, sliders, dates) and each tab's choice;
- the state of any widget with ``painel_state()`` / ``painel_restore(state)`` /
  ``painel_watch(callback)``: a :class:`~painel.dash.table.Table`'s order, search and page,
  a :class:`~painel.dash.ui.Drill`'s path;
- the page's scroll position (kept by the browser alone).

Widgets are named by kind, label and order on the page (``Dropdown:Escola#0``), so a page
built again finds its own. The state goes to the browser signed by the kernel (HMAC with
the server's per-start kernel token, over the viewer and the panel): when the page comes
back, the new kernel accepts only a state that this server made for this viewer on this
panel, then sets each value, in page order, through the widget itself (an option that no
longer exists is skipped; a cascade's later filters get their options from the earlier
ones first). The browser asks for a restore only when the page reloads because its kernel
was paused or died, never on an ordinary visit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from ..wire import KERNEL_TOKEN_ENV

log = logging.getLogger("painel.dash")
HERE = Path(__file__).parent
VERSION = 1
MAX_STATE = 64 * 1024  # bytes of state a browser may hand back

_SELECTIONS = (widgets.widget_selection._Selection,)
_MULTIPLE = (widgets.widget_selection._MultipleSelection,)
_SCALARS = (
    widgets.Text,
    widgets.Textarea,
    widgets.Checkbox,
    widgets.ToggleButton,
    widgets.widget_int._Int,
    widgets.widget_int._IntRange,
    widgets.widget_float._Float,
    widgets.widget_float._FloatRange,
)
_CONTAINERS = (widgets.Tab, widgets.Accordion, widgets.Stack)


def _label(w: Any) -> str:
    for name in ("description", "caption", "placeholder"):
        text = getattr(w, name, "")
        if isinstance(text, str) and text:
            return text
    return ""


def _enc(value: Any) -> Any:
    """A value as JSON (dates as ISO text, tuples as lists)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _enc(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item):
        return _enc(item())
    return str(value)


def _option_values(w: Any) -> list[Any]:
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in w.options]


def _kind(w: Any) -> str | None:
    """How a widget's state is kept (None: it has none)."""
    if isinstance(w, widgets.Password):
        return None  # never kept
    if all(hasattr(w, m) for m in ("painel_state", "painel_restore", "painel_watch")):
        return "custom"
    if isinstance(w, _MULTIPLE):
        return "multiple"
    if isinstance(w, _SELECTIONS):
        return "selection"
    if isinstance(w, widgets.DatePicker):
        return "date"
    if isinstance(w, _SCALARS):
        return "scalar"
    if isinstance(w, _CONTAINERS):
        return "container"
    return None


def walk(root: Any) -> Iterator[tuple[str, str, Any]]:
    """(key, kind, widget) of every widget with a state under ``root``, in page order."""
    seen: dict[str, int] = {}
    stack = [root]
    while stack:
        w = stack.pop()
        kind = _kind(w)
        if kind is not None:
            base = f"{type(w).__name__}:{_label(w)}"
            n = seen.get(base, 0)
            seen[base] = n + 1
            yield f"{base}#{n}", kind, w
        children = getattr(w, "children", None)
        if isinstance(children, (list, tuple)) and kind != "custom":
            stack.extend(reversed(children))


def read(kind: str, w: Any) -> Any:
    if kind == "custom":
        return _enc(w.painel_state())
    if kind == "container":
        return w.selected_index
    return _enc(w.value)


def write(kind: str, w: Any, saved: Any) -> bool:
    """Set ``w`` to ``saved`` through its own checks; False when it does not fit any more."""
    try:
        if kind == "custom":
            w.painel_restore(saved)
        elif kind == "container":
            if saved is None or (isinstance(saved, int) and 0 <= saved < len(w.children)):
                w.selected_index = saved
            else:
                return False
        elif kind == "selection":
            match = [v for v in _option_values(w) if _enc(v) == saved]
            if not match:
                return False
            w.value = match[0]
        elif kind == "multiple":
            if not isinstance(saved, list):
                return False
            values = _option_values(w)
            chosen = tuple(v for s in saved for v in values if _enc(v) == s)
            w.value = chosen
        elif kind == "date":
            w.value = None if saved is None else dt.date.fromisoformat(str(saved))
        elif isinstance(w.value, tuple):
            w.value = tuple(saved)
        else:
            w.value = saved
    except (traitlets.TraitError, TypeError, ValueError, KeyError):
        return False
    return True


def _key() -> bytes:
    return os.environ.get(KERNEL_TOKEN_ENV, "").encode()


def _who() -> tuple[str, str]:
    from . import tracking
    from .identity import page_viewer

    viewer = page_viewer()
    return (viewer.username if viewer is not None else "", tracking.panel_name())


def sign(state: dict[str, Any], who: tuple[str, str]) -> str:
    body = json.dumps({"v": VERSION, "u": who[0], "p": who[1], "s": state}, sort_keys=True)
    mac = hmac.new(_key(), body.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"body": body, "mac": mac})


def verify(text: Any, who: tuple[str, str]) -> dict[str, Any] | None:
    """The state in ``text`` if this server signed it for this viewer and panel."""
    if not isinstance(text, str) or len(text) > MAX_STATE or not _key():
        return None
    try:
        outer = json.loads(text)
        body, mac = outer["body"], outer["mac"]
        expected = hmac.new(_key(), str(body).encode(), hashlib.sha256).hexdigest()
        if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
            return None
        inner = json.loads(body)
    except (ValueError, TypeError, KeyError):
        return None
    if inner.get("v") != VERSION or [inner.get("u"), inner.get("p")] != list(who):
        return None
    state = inner.get("s")
    return state if isinstance(state, dict) else None


class PageMemory(anywidget.AnyWidget):
    """Keeps a page's state in the browser and sets it again after a restart (see the module).

    ``PageMemory(root)``; :meth:`capture` after the page is filled in. Nothing is shown but,
    after a restore, a short pt-BR notice.
    """

    _esm = HERE / "memory.js"
    state = traitlets.Unicode("").tag(sync=True)  # signed, for the browser to keep
    restored = traitlets.Int(-1).tag(sync=True)  # values a restore set (-1: none asked)

    def __init__(self, root: Any):
        super().__init__()
        self._root = root
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._restoring = False
        self._who: tuple[str, str] | None = None
        self.on_msg(self._on_message)

    def who(self) -> tuple[str, str]:
        if self._who is None:
            self._who = _who()
        return self._who

    def snapshot(self) -> dict[str, Any]:
        out = {}
        for key, kind, w in walk(self._root):
            try:
                out[key] = read(kind, w)
            except Exception:
                log.debug("page state of %s unreadable", key, exc_info=True)
        return out

    def capture(self, *_: Any) -> None:
        """Send the page's current state to the browser and watch widgets not seen yet."""
        if self._restoring:
            return
        self._watch_new()
        self.state = sign(self.snapshot(), self.who())

    def _watch_new(self) -> None:
        for _key, kind, w in walk(self._root):
            if w in self._watched:
                continue
            self._watched.add(w)
            if kind == "custom":
                w.painel_watch(self.capture)
            elif kind == "container":
                w.observe(self.capture, names="selected_index")
            else:
                w.observe(self.capture, names="value")

    def restore(self, state: dict[str, Any]) -> int:
        """Set the page's widgets to ``state`` (page order); how many took their value."""
        from . import tracking

        done: set[str] = set()
        set_count = 0
        self._restoring = True
        try:
            with tracking.quiet():  # not the viewer's interactions
                # each value set may rebuild what follows it (a cascade): walk again each time
                for _ in range(len(state) + 1):
                    pending = [
                        (key, kind, w) for key, kind, w in walk(self._root) if key not in done
                    ]
                    todo = [(k, kd, w) for k, kd, w in pending if k in state]
                    if not todo:
                        break
                    key, kind, w = todo[0]
                    done.add(key)
                    if read(kind, w) == state[key]:
                        continue
                    if write(kind, w, state[key]):
                        set_count += 1
        finally:
            self._restoring = False
        self.capture()
        return set_count

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") != "restore":
            return
        state = verify(content.get("state"), self.who())
        if state is None:
            self.restored = 0
            return
        try:
            self.restored = self.restore(state)
        except Exception:
            log.exception("page state could not be restored")
            self.restored = 0


def attach(page: Any, fills: list[Callable[[], Any]]) -> tuple[Any, PageMemory]:
    """The page with a :class:`PageMemory` of it; its first capture runs after ``fills``."""
    memory = PageMemory(page)
    fills.append(memory.capture)
    return widgets.VBox([memory, page]), memory
