"""The demo's mail catcher: an SMTP server on loopback that keeps every message it receives as
an ``.eml`` file, and a small read-only web page to read them (``painel simulate mail``).

Nothing leaves the machine: every recipient is accepted and nothing is relayed. The viewer
lists the messages newest first (date, to, subject) and shows one message's text part and its
HTML part. Mail HTML is never trusted: the page around it is built here with every value
escaped, and the HTML part is served on its own URL with a Content-Security-Policy that lets it
run nothing (``default-src 'none'``; inline styles and ``data:`` images only; ``sandbox``),
inside a sandboxed iframe.

Programmatic use (the demo's services)::

    with mailcatcher.running(folder, smtp_port=8025, http_port=8026) as catcher:
        os.environ.update(catcher.env())  # PAINEL_SMTP_HOST / PAINEL_SMTP_PORT
        ... catcher.http_url ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import html
import os
import re
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .config import TIMEZONE
from .mail import HOST_ENV, PORT_ENV
from .simserver import SimHandler, SimServer

HOST = "127.0.0.1"
SMTP_PORT = 8025
HTTP_PORT = 8026
# the pages painel builds: its own escaped markup, the mail's HTML framed from this origin only
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# a mail's HTML part: no script, no fetch, no form, no navigation of the page around it
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
_ID = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9]{6}$")


@dataclass(frozen=True)
class Catcher:
    """Where a running catcher listens."""

    smtp_host: str
    smtp_port: int
    http_url: str
    folder: Path

    def env(self) -> dict[str, str]:
        """The variables that point painel's mail (``painel.mail``) at this catcher."""
        return {HOST_ENV: self.smtp_host, PORT_ENV: str(self.smtp_port)}


# ---- the SMTP side ------------------------------------------------------------------------
class _Store:
    """The folder of ``.eml`` files; names sort by arrival (``AAAAMMDDTHHMMSSffffff-n``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lock = threading.Lock()
        self.count = 0

    def save(self, raw: bytes) -> Path:
        with self.lock:
            self.count += 1
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{self.count % 1_000_000:06d}"
        path = self.folder / f"{name}.eml"
        part = path.with_suffix(".part")
        part.write_bytes(raw)
        os.replace(part, path)  # the viewer never reads half a message
        return path

    def ids(self) -> list[str]:
        """Newest first."""
        return sorted(
            (p.stem for p in self.folder.glob("*.eml") if _ID.match(p.stem)), reverse=True
        )

    def read(self, message_id: str) -> EmailMessage | None:
        if not _ID.match(message_id):
            return None
        path = self.folder / f"{message_id}.eml"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        return parse(raw)


def parse(raw: bytes) -> EmailMessage:
    """A message as a mail program reads it (``\\n`` line ends)."""
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


class _Handler:
    def __init__(self, store: _Store):
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        self.store.save(raw)
        return "250 2.0.0 mensagem guardada"


# ---- the web side -------------------------------------------------------------------------
class _Viewer:
    """Answers the HTTP requests (through :class:`~painel.simserver.SimServer`)."""

    def __init__(self, store: _Store):
        self.store = store

    def _handle(self, h: SimHandler) -> None:
        try:
            self._answer(h)
        except Exception:  # noqa: BLE001 - a message it cannot show is not the server's end
            self._send(h, 500, _page("Erro", "<p>Não foi possível mostrar esta página.</p>"))

    def _answer(self, h: SimHandler) -> None:
        if h.command not in ("GET", "HEAD"):
            self._send(
                h, 405, _page("Método não permitido", "<p>Esta página só pode ser lida.</p>")
            )
            return
        path = urlsplit(h.path).path
        if path == "/":
            self._send(h, 200, self._list())
            return
        m = re.fullmatch(r"/m/([^/]+)(/html)?", path)
        message = self.store.read(m.group(1)) if m else None
        if m is None or message is None:
            self._send(h, 404, _page("Não encontrada", "<p>Mensagem não encontrada.</p>"))
            return
        if m.group(2):
            body = message.get_body(("html",))
            content = str(body.get_content()) if body is not None else ""
            self._send(h, 200, content, csp=MAIL_CSP)
            return
        self._send(h, 200, self._message(m.group(1), message))

    def _list(self) -> str:
        rows = []
        for message_id in self.store.ids():
            message = self.store.read(message_id)
            if message is None:
                continue
            rows.append(
                f"<tr><td>{_e(_when(message, message_id))}</td><td>{_e(message.get('To', ''))}</td>"
                f'<td><a href="/m/{_e(message_id)}">{_e(message.get("Subject", "") or "(sem assunto)")}'
                "</a></td></tr>"
            )
        if not rows:
            return _page("Mensagens recebidas", "<p>Nenhuma mensagem recebida ainda.</p>")
        table = (
            "<table><thead><tr><th>Data</th><th>Para</th><th>Assunto</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        count = (
            f"<p>{len(rows)} mensage{'m' if len(rows) == 1 else 'ns'}, a mais nova primeiro.</p>"
        )
        return _page("Mensagens recebidas", count + table)

    def _message(self, message_id: str, message: EmailMessage) -> str:
        facts = [
            ("Data", _when(message, message_id)),
            ("De", message.get("From", "")),
            ("Para", message.get("To", "")),
            ("Assunto", message.get("Subject", "")),
        ]
        head = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
        parts = ['<p><a href="/">← Voltar à lista</a></p>', f"<table>{head}</table>"]
        if message.get_body(("html",)) is not None:
            parts.append(
                "<h2>HTML</h2>"
                f'<iframe title="Conteúdo HTML da mensagem" src="/m/{_e(message_id)}/html" '
                'sandbox="allow-popups allow-popups-to-escape-sandbox" '
                'style="width: 100%; height: 60vh; border: 1px solid #d9e2ec"></iframe>'
            )
        text = message.get_body(("plain",))
        if text is not None:
            parts.append(f"<h2>Texto</h2><pre>{_e(text.get_content())}</pre>")
        return _page(str(message.get("Subject", "") or "Mensagem"), "".join(parts))

    def _send(self, h: SimHandler, status: int, body: str, *, csp: str = PAGE_CSP) -> None:
        data = body.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Content-Security-Policy", csp)
        h.send_header("X-Content-Type-Options", "nosniff")
        h.send_header("Referrer-Policy", "no-referrer")
        h.send_header("Cache-Control", "no-store")
        if status == 405:
            h.send_header("Allow", "GET, HEAD")
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)


class _HttpHandler(SimHandler):
    server_version = "painel-mailcatcher"

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(message: EmailMessage, message_id: str) -> str:
    """The message's Date in São Paulo time; without one, when it arrived."""
    try:
        moment = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        moment = dt.datetime.strptime(message_id.split("-")[0], "%Y%m%dT%H%M%S%f").replace(
            tzinfo=dt.UTC
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%d/%m/%Y %H:%M")


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">'
        f"<title>{_e(title)} – caixa de e-mails do demo</title><style>"
        "body{font-family:Arial,sans-serif;font-size:14px;color:#1f2933;margin:24px}"
        "table{border-collapse:collapse}th,td{border:1px solid #d9e2ec;padding:4px 8px;"
        "text-align:left;vertical-align:top}pre{white-space:pre-wrap;background:#f5f7fa;"
        "padding:8px}</style></head><body>"
        f"<h1>{_e(title)}</h1>{body}"
        '<p style="color:#616e7c;font-size:12px">Caixa de e-mails do demo: o painel envia para '
        "cá, e nada sai desta máquina.</p></body></html>"
    )


# ---- running it ---------------------------------------------------------------------------
def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(
    folder: Path | str,
    smtp_port: int = SMTP_PORT,
    http_port: int = HTTP_PORT,
    host: str = HOST,
) -> Iterator[Catcher]:
    """Run the catcher (SMTP and web viewer, each in threads of its own) until the block ends;
    a port 0 takes a free one. Messages go to ``folder`` (created)."""
    from aiosmtpd.controller import Controller

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = _Store(folder)
    smtp_port = smtp_port or _free_port(host)
    controller = Controller(_Handler(store), hostname=host, port=smtp_port, ready_timeout=10)
    controller.start()
    try:
        server = SimServer((host, http_port), _HttpHandler)
        server.sim = _Viewer(store)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        thread.start()
        try:
            port = server.server_address[1]
            yield Catcher(host, smtp_port, f"http://{host}:{port}", folder)
        finally:
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join(timeout=5)
    finally:
        controller.stop()


def serve(folder: Path | str, smtp_port: int, http_port: int, host: str = HOST) -> int:
    """``painel simulate mail``: run until SIGINT/SIGTERM; returns 0."""
    done = threading.Event()
    previous: dict[int, Any] = {}
    with running(folder, smtp_port, http_port, host) as catcher:
        print(
            f"mail catcher: SMTP at {catcher.smtp_host}:{catcher.smtp_port}, messages at "
            f"{catcher.http_url} (saved in {catcher.folder}); point painel at it with "
            f"{HOST_ENV}={catcher.smtp_host} {PORT_ENV}={catcher.smtp_port}",
            flush=True,
        )
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: done.set())
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return 0


__all__ = ["MAIL_CSP", "PAGE_CSP", "Catcher", "parse", "running", "serve"]
