"""A real SMTP server on loopback for the tests (aiosmtpd), and what it received.

``MailCatcher()`` listens on 127.0.0.1 at a free port in a thread of its own; every message the
server accepted is in ``messages`` (parsed, with its envelope). ``refuse`` holds addresses its
RCPT answers 550 for; ``delay_s`` slows each DATA down (to make concurrent senders overlap).
TLS: ``tls_context`` (STARTTLS offered) or ``ssl_context`` (implicit TLS); ``self_signed`` makes
a certificate for 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from painel_testing import free_port
from tls_testing import certificate


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        return str(self.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    def html(self) -> str:
        return str(self.message.get_body(("html",)).get_content())  # type: ignore[union-attr]


class _Handler:
    def __init__(self, catcher: MailCatcher):
        self.catcher = catcher

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.catcher.lock:
            self.catcher.rcpt_attempts.append(address)
        if address in self.catcher.refuse:
            return "550 5.1.1 caixa postal inexistente"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.catcher.delay_s:
            await asyncio.sleep(self.catcher.delay_s)
        raw = bytes(envelope.original_content or envelope.content)
        # parsed with \n line ends, as a mail program shows it (the wire has \r\n)
        parsed = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.catcher.lock:
            self.catcher.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed)
            )
        return "250 2.0.0 aceita"


class MailCatcher:
    def __init__(self, port: int | None = None, delay_s: float = 0.0, **smtp: Any):
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.delay_s = delay_s
        self.refuse: set[str] = set()
        self.messages: list[Received] = []
        self.rcpt_attempts: list[str] = []
        self.lock = threading.Lock()
        self.controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=10, **smtp
        )

    def __enter__(self) -> MailCatcher:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages once at least ``count`` have arrived; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} message(s), got {len(self.messages)}"
                )
            time.sleep(0.02)


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A certificate for 127.0.0.1: the server's TLS context, and the PEM file to trust it."""
    cert_file, key_file = certificate(folder, "painel test SMTP")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
