"""A served page's kernel websocket, spoken as Voilà's frontend speaks it (Jupyter's JSON
protocol and ipywidgets' comm messages), for the tests and the benchmarks.

- :class:`KernelChannel`: blocking (websocket-client), for tests that read a page's widgets
  (re-exported by ``painel_testing``);
- :class:`AsyncKernelChannel`: asyncio (tornado's websocket client), for the load generator
  (``bench/load.py``): many pages at once, each with a reader that keeps the page's widget
  states up to date and tells when the kernel is done with a message, as the frontend sees it.

Both build and read messages with the same functions (:func:`message`, :func:`decode`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONTROL_TARGET = "jupyter.widget.control"  # ipywidgets 8's "send me every model's state" comm


def message(
    session_id: str,
    channel: str,
    msg_type: str,
    content: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """(msg_id, the JSON text frame) of one message from the page to its kernel."""
    msg_id = uuid.uuid4().hex
    frame = json.dumps(
        {
            "header": {
                "msg_id": msg_id,
                "msg_type": msg_type,
                "session": session_id,
                "username": "test",
                "version": "5.3",
                "date": "",
            },
            "parent_header": {},
            "metadata": metadata or {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
    )
    return msg_id, frame


def decode(frame: str | bytes) -> dict[str, Any]:
    """A frame from the server: JSON text, or the binary form a message with buffers takes."""
    if isinstance(frame, bytes):
        from jupyter_server.services.kernels.connection.base import deserialize_binary_message

        return deserialize_binary_message(frame)
    return json.loads(frame)


def control_open(comm_id: str) -> dict[str, Any]:
    return {"comm_id": comm_id, "target_name": CONTROL_TARGET, "data": {}}


def control_request(comm_id: str) -> dict[str, Any]:
    return {"comm_id": comm_id, "data": {"method": "request_states"}}


def states_reply(msg: Mapping[str, Any], comm_id: str) -> dict[str, dict[str, Any]] | None:
    """The widget states in ``msg`` if it is the control comm's answer, else None."""
    content = msg.get("content", {})
    if msg.get("msg_type") == "comm_msg" and content.get("comm_id") == comm_id:
        data = content.get("data", {})
        if data.get("method") == "update_states":
            return {k: dict(v.get("state", v)) for k, v in data["states"].items()}
    return None


def cookie_header(s: Any) -> str:
    """The Cookie header of a requests session."""
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


class KernelChannel:
    """The kernel websocket, as Voilà's frontend uses it (JSON protocol); blocking.

    ``server`` is anything with a ``base`` URL (painel_testing.Server), ``s`` a logged-in
    requests session."""

    def __init__(self, server: Any, s: Any, kernel_id: str, timeout: float = 20):
        import websocket

        self.session_id = uuid.uuid4().hex
        url = (
            server.base.replace("http", "ws")
            + f"/api/kernels/{kernel_id}/channels?session_id={self.session_id}"
        )
        self.ws = websocket.create_connection(
            url, header=[f"Cookie: {cookie_header(s)}"], origin=server.base, timeout=timeout
        )

    def close(self) -> None:
        self.ws.close()

    def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> str:
        msg_id, frame = message(self.session_id, channel, msg_type, content, metadata)
        self.ws.send(frame)
        return msg_id

    def recv(self, deadline: float) -> dict[str, Any] | None:
        import websocket

        self.ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        return decode(frame)

    def close_code(self, deadline: float) -> int | None:
        """Read frames until the server closes the socket: its close code, 0 if the connection
        dropped without one, None if still open at ``deadline`` (a deadline already past reads
        only what has arrived)."""
        import struct

        import websocket

        while True:
            self.ws.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                if time.monotonic() >= deadline:
                    return None
                continue
            except (websocket.WebSocketConnectionClosedException, OSError):
                return 0
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int(struct.unpack("!H", data[:2])[0]) if len(data) >= 2 else 0

    def widget_states(self, timeout: float = 20) -> dict[str, dict[str, Any]]:
        """All widget models' states, fetched like ipywidgets' frontend does."""
        comm_id = uuid.uuid4().hex
        self.send("shell", "comm_open", control_open(comm_id), metadata={"version": "1.0.0"})
        self.send("shell", "comm_msg", control_request(comm_id))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv(deadline)
            if msg is None:
                break
            states = states_reply(msg, comm_id)
            if states is not None:
                return states
        raise AssertionError("no widget states from the kernel")


# ---- asyncio ------------------------------------------------------------------------------


class KernelGone(Exception):
    """The websocket closed (``code``: the server's close code, 0 without one)."""

    def __init__(self, code: int | None, reason: str | None = None):
        super().__init__(f"kernel websocket closed (code {code}, {reason or 'no reason'})")
        self.code = code


@dataclass
class Reply:
    """What the kernel sent about one message of the page, until it said it was idle."""

    updates: int = 0  # comm messages (widget updates, opens, closes) it caused
    errors: list[str] = field(default_factory=list)  # error outputs, stderr, failures shown
    done: asyncio.Future[None] | None = None


# A failure the panel kit shows in place of a traceback (painel.dash.ui.message(kind="error")).
FAILURE_MARK = "painel-msg-error"


class AsyncKernelChannel:
    """The kernel websocket on an asyncio loop (tornado's client), as the frontend uses it.

    A reader task keeps :attr:`states` (every widget model's state, from the control comm's
    answer, then each update, open and close) and resolves :meth:`request`'s wait when the
    kernel reports idle for that message; everything the kernel sends is read, as a browser
    reads it (the decoding cost is the frontend's, not the server's)."""

    def __init__(self, ws: Any, session_id: str):
        self.ws = ws
        self.session_id = session_id
        self.states: dict[str, dict[str, Any]] = {}
        self.bytes_in = 0
        self.closed: KernelGone | None = None
        self.stray_errors: list[str] = []  # errors not caused by one of our messages
        self._replies: dict[str, Reply] = {}
        self._control: dict[str, asyncio.Future[dict[str, dict[str, Any]]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(
        cls, base: str, cookie: str, kernel_id: str, timeout: float = 30
    ) -> AsyncKernelChannel:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        session_id = uuid.uuid4().hex
        url = (
            base.replace("http", "ws", 1)
            + f"/api/kernels/{kernel_id}/channels?session_id={session_id}"
        )
        request = HTTPRequest(
            url,
            headers={"Cookie": cookie, "Origin": base},
            connect_timeout=timeout,
            request_timeout=timeout,
        )
        ws = await asyncio.wait_for(
            websocket_connect(request, max_message_size=512 * 2**20), timeout
        )
        return cls(ws, session_id)

    # ---- sending ---------------------------------------------------------------------------
    def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        track: bool = False,
    ) -> tuple[str, Reply | None]:
        if self.closed is not None:
            raise self.closed
        msg_id, frame = message(self.session_id, channel, msg_type, content, metadata)
        reply = None
        if track:
            reply = Reply(done=asyncio.get_running_loop().create_future())
            self._replies[msg_id] = reply
        self.ws.write_message(frame)
        return msg_id, reply

    async def request(
        self,
        msg_type: str,
        content: dict[str, Any],
        timeout: float,
        metadata: dict[str, Any] | None = None,
    ) -> Reply:
        """Send a shell message; return once the kernel reports idle for it."""
        msg_id, reply = self.send("shell", msg_type, content, metadata, track=True)
        assert reply is not None and reply.done is not None
        try:
            await asyncio.wait_for(asyncio.shield(reply.done), timeout)
        finally:
            self._replies.pop(msg_id, None)
        return reply

    async def widget_states(self, timeout: float = 30) -> dict[str, dict[str, Any]]:
        """Every widget model's state, asked for like ipywidgets' frontend does; from here on
        :attr:`states` follows the kernel's updates."""
        comm_id = uuid.uuid4().hex
        answer = asyncio.get_running_loop().create_future()
        self._control[comm_id] = answer
        try:
            self.send("shell", "comm_open", control_open(comm_id), {"version": "1.0.0"})
            self.send("shell", "comm_msg", control_request(comm_id))
            states = await asyncio.wait_for(answer, timeout)
        finally:
            self._control.pop(comm_id, None)
        self.states.update(states)
        return self.states

    async def update(
        self, model_id: str, state: dict[str, Any], timeout: float = 30
    ) -> tuple[float, Reply]:
        """Change a widget as the frontend does when its visitor does (a ``comm_msg``
        "update"): (seconds until the kernel was idle again, what it sent meanwhile)."""
        self.states.setdefault(model_id, {}).update(state)
        t0 = time.perf_counter()
        reply = await self.request(
            "comm_msg",
            {"comm_id": model_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
            timeout,
        )
        return time.perf_counter() - t0, reply

    async def close(self) -> None:
        self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # closing anyway
            await self._reader

    # ---- reading -----------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            while True:
                frame = await self.ws.read_message()
                if frame is None:
                    break
                self.bytes_in += len(frame)
                self._dispatch(decode(frame))
        finally:
            if self.closed is None:
                self.closed = KernelGone(self.ws.close_code, self.ws.close_reason)
            for reply in self._replies.values():
                if reply.done is not None and not reply.done.done():
                    reply.done.set_exception(self.closed)
            for answer in self._control.values():
                if not answer.done():
                    answer.set_exception(self.closed)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content", {})
        parent = (msg.get("parent_header") or {}).get("msg_id")
        reply = self._replies.get(parent) if parent else None
        if msg_type == "comm_msg":
            comm_id = content.get("comm_id")
            answer = self._control.get(comm_id)
            if answer is not None:
                states = states_reply(msg, comm_id)
                if states is not None and not answer.done():
                    answer.set_result(states)
                return
            data = content.get("data", {})
            if data.get("method") in ("update", "echo_update") and comm_id:
                state = data.get("state", {})
                self.states.setdefault(comm_id, {}).update(state)
                self._note_failure(state, reply)
            if reply is not None:
                reply.updates += 1
        elif msg_type == "comm_open":
            comm_id = content.get("comm_id")
            state = content.get("data", {}).get("state", {})
            if comm_id:
                self.states[comm_id] = dict(state)
                self._note_failure(state, reply)
            if reply is not None:
                reply.updates += 1
        elif msg_type == "comm_close":
            self.states.pop(content.get("comm_id"), None)
            if reply is not None:
                reply.updates += 1
        elif msg_type == "error":
            self._error(f"{content.get('ename')}: {content.get('evalue')}", reply)
        elif msg_type == "stream" and content.get("name") == "stderr":
            text = str(content.get("text", "")).strip()
            if text.startswith("painel:") or "Traceback" in text:
                self._error(text[:300], reply)
        elif (
            msg_type == "status"
            and content.get("execution_state") == "idle"
            and reply is not None
            and reply.done is not None
            and not reply.done.done()
        ):
            reply.done.set_result(None)

    def _note_failure(self, state: Mapping[str, Any], reply: Reply | None) -> None:
        for key in ("value", "outputs"):
            if FAILURE_MARK in str(state.get(key, "")):
                self._error("the page shows a failure message", reply)

    def _error(self, text: str, reply: Reply | None) -> None:
        (reply.errors if reply is not None else self.stray_errors).append(text)
