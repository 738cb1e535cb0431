"""A WebSocket handshake leaves the edge: uvicorn's WebSocket protocol takes the connection,
and the edge's head and keep-alive deadlines no longer apply to it."""

from __future__ import annotations

import base64
import os
import time

from starlette.types import Receive, Scope, Send

from proxy.edge import EdgeLimits
from tests.edge.servers import read_raw, serving

SHORT = 0.3


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": "echo:" + message.get("text", "")})


def test_a_websocket_outlives_the_edges_deadlines() -> None:
    limits = EdgeLimits(header_timeout=SHORT, keepalive_timeout=SHORT, body_timeout=SHORT)
    key = base64.b64encode(os.urandom(16))
    with serving(echo, limits) as running, running.connect() as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        handshake, _ = read_raw(sock, settle=SHORT)
        time.sleep(SHORT * 4)  # longer than every deadline of the edge
        mask = b"\x01\x02\x03\x04"
        sock.sendall(b"\x81\x82" + mask + bytes(b ^ mask[i] for i, b in enumerate(b"hi")))
        frames, _ = read_raw(sock, settle=SHORT)
    assert handshake.startswith(b"HTTP/1.1 101 ")
    assert frames.startswith(b"\x81\x07echo:hi")
    assert running.refusals == []
