"""A small loopback FTP(S) server for the demo and the tests, built on pyftpdlib.

``serve(root, user=..., password=...)`` is a context manager: it starts pyftpdlib's
asynchronous server in a background thread, with one read-only user whose home is ``root``,
and yields a :class:`Served` (``host``, ``port``, and what clients did). Leaving the block
stops the loop and closes every connection. With ``tls_cert`` (a PEM holding the certificate
and, unless ``tls_key`` is given, its private key) it is an FTPS server with explicit TLS
(``AUTH TLS``) required on both the control and the data connections; that needs pyOpenSSL.

It is not meant to face a network: it listens on loopback unless told otherwise, and its user
can list and download only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

READ_ONLY = "elr"  # cwd, list, retrieve
POLL_S = 0.05  # how often the loop looks at the stop flag
AUTH_FAILED_DELAY_S = 0.5  # pyftpdlib's 3 s answer delay after a bad password, shortened

# pyftpdlib configures its own stderr logging on first use unless a handler exists; a
# NullHandler keeps it quiet and lets the records reach the application's root logger
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())
log = logging.getLogger(__name__)


@dataclass
class Served:
    """A running server: where it listens and what its clients asked for."""

    host: str
    port: int
    tls: bool
    commands: list[str] = field(default_factory=list)  # command verbs received, in order
    retrieved: list[str] = field(default_factory=list)  # the file names RETR asked for

    @property
    def url(self) -> str:
        return f"{'ftps' if self.tls else 'ftp'}://{self.host}:{self.port}"


def _handler_class(
    served: Served,
    authorizer: DummyAuthorizer,
    tls_cert: Path | None,
    tls_key: Path | None,
    rate_limit: int | None,
) -> type[FTPHandler]:
    """A handler class of this server's own (pyftpdlib keeps its settings on the class)."""
    base: type[FTPHandler] = FTPHandler
    attrs: dict[str, Any] = {
        "authorizer": authorizer,
        "banner": "painel demo FTP server ready.",
        "auth_failed_timeout": AUTH_FAILED_DELAY_S,
    }
    if tls_cert is not None:
        from pyftpdlib.handlers import TLS_FTPHandler  # needs pyOpenSSL

        base = TLS_FTPHandler
        attrs.update(
            certfile=str(tls_cert),
            keyfile=str(tls_key) if tls_key else None,
            ssl_context=None,  # built (and kept) on this class, not on pyftpdlib's
            tls_control_required=True,
            tls_data_required=True,
        )
    elif rate_limit:
        attrs["dtp_handler"] = type(
            "Throttled", (ThrottledDTPHandler,), {"write_limit": rate_limit}
        )

    def pre_process_command(self: Any, line: str, cmd: str, arg: str) -> None:
        served.commands.append(cmd)
        if cmd == "RETR":
            served.retrieved.append(Path(arg).name)
        base.pre_process_command(self, line, cmd, arg)

    attrs["pre_process_command"] = pre_process_command
    return type("PainelFTPHandler", (base,), attrs)


def _loop(server: FTPServer, stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            server.serve_forever(timeout=POLL_S, blocking=False, handle_exit=False)
    except Exception:
        log.exception("the FTP server on %s:%s stopped on an error", *server.address)
    finally:
        server.close_all()


@contextmanager
def serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    user: str,
    password: str,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    rate_limit: int | None = None,
) -> Iterator[Served]:
    """Serve ``root`` read-only to ``user`` on ``host:port`` (0: a free port) until the block ends.

    ``rate_limit`` (bytes per second, plain FTP only) slows downloads down, for tests that
    need a transfer to last.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"FTP root {root} is not a directory")
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, str(root), perm=READ_ONLY)
    served = Served(host=host, port=0, tls=tls_cert is not None)
    handler = _handler_class(served, authorizer, tls_cert, tls_key, rate_limit)
    server = FTPServer((host, port), handler, ioloop=IOLoop())
    served.port = server.address[1]
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(server, stop), name=f"ftp-{served.port}", daemon=True
    )
    thread.start()
    log.info("FTP%s server for %s on %s:%s", "S" if served.tls else "", root, host, served.port)
    try:
        yield served
    finally:
        stop.set()
        thread.join(timeout=10)
