"""No traceback leaves a served dashboard's kernel.

A visitor's browser can make the kernel fail (a widget message with a value of the wrong
type, a callback that raises): IPython then sends the full traceback (library source lines,
file-system paths) to the page over the websocket, whatever Voilà's ``show_tracebacks``
says. Under ``painel serve`` :func:`install` makes every traceback the kernel would send a
pt-BR message instead, and writes the real one to the kernel's stderr, which is the
server's log.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

MESSAGE = (
    "Ocorreu um erro neste painel. Recarregue a página; se continuar, avise a equipe de dados."
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Erro(Exception):
    """What the page is told a failure was called."""


def _to_server_log(text: str) -> None:
    """Write to the kernel process's real stderr (the server's log). ipykernel forwards what
    reaches file descriptor 2 to the page as a stream, so the traceback goes to its saved copy
    of the original descriptor when there is one."""
    fd = getattr(sys.stderr, "_original_stdstream_copy", None)
    if isinstance(fd, int):
        os.write(fd, text.encode("utf-8", "replace"))
        return
    stream = sys.__stderr__
    if stream is not None:
        stream.write(text)
        stream.flush()


def install(shell: Any = None) -> bool:
    """Filter ``shell``'s (default: the running IPython's) tracebacks; False without IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - dashboards always run in IPython
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "_showtraceback"):
        return False
    if getattr(shell, "_painel_tracebacks_filtered", False):
        return True
    original = shell._showtraceback

    def _showtraceback(etype: Any, evalue: Any, stb: Any) -> Any:
        text = _ANSI.sub("", "\n".join(stb if isinstance(stb, list) else [str(stb)]))
        _to_server_log(f"painel: dashboard kernel error (not sent to the page):\n{text}\n")
        return original(Erro, Erro(MESSAGE), [MESSAGE])

    shell._showtraceback = _showtraceback
    shell._painel_tracebacks_filtered = True
    return True
