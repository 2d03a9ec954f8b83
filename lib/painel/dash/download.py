"""One-click downloads: the server makes the file when the button is pressed and the browser
saves it straight away (no data: link to click a second time, nothing kept in the page)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..access import AccessChanged
from . import fmt
from .identity import check_access

log = logging.getLogger("painel.dash")
HERE = Path(__file__).parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 200 * 2**20  # a file past this size is refused with a message, not sent
CSS = """
.painel-dl { display: inline-flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.painel-dl-button { font: 600 14px system-ui, sans-serif; padding: 6px 14px; border: 0; border-radius: 4px;
  background: #1f4e79; color: #fff; cursor: pointer; }
.painel-dl-button:disabled { opacity: .6; cursor: progress; }
.painel-dl-button:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.painel-dl-status { font: 13px system-ui, sans-serif; color: #57606a; }
"""


class Download(anywidget.AnyWidget):
    """``Download("Exportar Excel", make)``; ``make()`` returns ``(file name, bytes, rows)``."""

    _esm = HERE / "download.js"
    _css = CSS
    label = traitlets.Unicode("Baixar").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        label: str,
        make: Callable[[], tuple[str, bytes, int]],
        *,
        mime: str = XLSX,
        about: Callable[[], Sequence[tuple[str, str]]] | None = None,
        **kwargs: Any,
    ):
        """``about()``: what the file holds as ``(label, value)`` pairs (the panel, its
        filters), for the audit log's entry of each download."""
        super().__init__(label=label, **kwargs)
        self._make = make
        self._mime = mime
        self._about = about
        self.on_msg(self._on_message)

    def _audit(self, name: str, rows: int) -> None:
        """The download's entry in the audit log, written before the file leaves: a file
        that cannot be recorded is not sent."""
        from .. import audit
        from .identity import opstate, page_viewer

        viewer = page_viewer()
        detail: dict[str, Any] = {"linhas": int(rows), "formato": self._mime}
        if viewer is not None:
            detail["papel"] = viewer.role
            detail["escopo"] = sorted(str(g) for g in viewer.grants)
        if self._about is not None:
            detail["filtros"] = {str(k): str(v) for k, v in self._about()}
        audit.record(
            opstate(),
            "export",
            actor=viewer.username if viewer is not None else "?",
            target=name,
            detail=detail,
        )

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") != "click" or self.busy:
            return
        self.busy, self.status = True, ""
        try:
            check_access()  # no file of rows the visitor may no longer see
            name, data, rows = self._make()
            if len(data) > MAX_BYTES:
                self.status = "O arquivo ficaria grande demais; filtre os dados e tente de novo."
                return
            self._audit(name, rows)
            self.send({"event": "file", "name": name, "mime": self._mime}, buffers=[data])
            from . import tracking

            tracking.track("export", widget=name, linhas=rows)
            self.status = (
                f"{name} baixado ({fmt.plural(rows, 'linha', 'linhas')}, "
                f"{fmt.datetime(fmt.now_sao_paulo())})."
            )
        except AccessChanged:
            from .ui import ACCESS_CHANGED

            self.status = ACCESS_CHANGED
        except Exception:
            log.exception("download %s failed", self.label)
            self.status = "Não foi possível gerar o arquivo. Tente novamente."
        finally:
            self.busy = False


def file_name(*parts: str, ext: str = "xlsx") -> str:
    """ "progresso", "Turma 01 — Formação" → "progresso_Turma_01_Formacao_2026-11-29_1405.xlsx"."""
    import re
    import unicodedata

    words = []
    for part in parts:
        ascii_text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        cleaned = re.sub(r"[^A-Za-z0-9-]+", "_", ascii_text).strip("_")
        if cleaned:
            words.append(cleaned)
    return "_".join([*words, file_stamp()]) + "." + ext


def file_stamp() -> str:
    """For file names: 2026-11-29_1405 in São Paulo time."""
    return fmt.now_sao_paulo().strftime("%Y-%m-%d_%H%M")
