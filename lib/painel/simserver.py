"""The HTTP plumbing the API simulators share (Cademi, PNCP): a threaded server on loopback
whose handler hands every request to ``server.sim._handle(handler)``, and which can cut its
kept-alive connections when it stops (their handler threads then end)."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: Any  # the simulator: its ``_handle(handler)`` answers each request

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Cut the kept-alive client connections (their handler threads then end)."""
        with self.connections_lock:
            conns, self.connections = list(self.connections), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SimHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back ~40 ms on every reply
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""
    server: SimServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr log."""

    def _dispatch(self) -> None:
        self.server.sim._handle(self)
