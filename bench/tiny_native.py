"""A native side that does next to nothing (part 6): what the gateway's own cost of a native
answer is, without a database in the way. The same bytes as the tiny static upstream's file."""

from __future__ import annotations

from typing import Any

BODY = b'{"ok":true,"tiny":"json"}\n'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
