"""The kernel websocket's v1 frame header read (painel.web.handlers._v1_header): a frame that
is not v1 (the legacy protocol's 4-byte big-endian offsets) must come back None at once, not
be taken for a count of ~10^18 offsets."""

from __future__ import annotations

import json
import struct
import time

from painel.web.handlers import _v1_header


def v1_frame(header: dict) -> bytes:
    parts = [b"iopub", json.dumps(header).encode(), b"{}", b"{}", b"{}", b"buf"]
    offsets, pos = [], 8 * (len(parts) + 1)
    for part in parts:
        offsets.append(pos)
        pos += len(part)
    count = len(offsets)
    return struct.pack(f"<{count + 1}Q", count, *offsets) + b"".join(parts)


def test_a_v1_frame_gives_its_header() -> None:
    assert _v1_header(v1_frame({"msg_type": "execute_input"})) == {"msg_type": "execute_input"}


def test_a_legacy_frame_is_not_read_as_v1_and_costs_nothing() -> None:
    # jupyter_server's legacy binary frame: nbufs and offsets as 4-byte big-endian ints
    msg = json.dumps({"header": {"msg_type": "comm_msg"}}).encode()
    legacy = struct.pack(">3I", 2, 12, 12 + len(msg)) + msg + b"x" * 100
    t0 = time.perf_counter()
    assert _v1_header(legacy) is None
    assert time.perf_counter() - t0 < 0.01
    assert _v1_header(b"") is None and _v1_header(b"\xff" * 16) is None
