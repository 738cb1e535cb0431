"""The gateway's own answers: JSON `{"error": ..., "request_id": ...}` as raw ASGI messages.

No Starlette Response on the proxied path: these are two ASGI messages built from bytes.
"""

from __future__ import annotations

import orjson
from starlette.types import Send

from proxy.clock import DATE, http_date

# the header that carries a request's id (kept from the client when sane, else generated)
REQUEST_ID = b"x-request-id"
BAD_PATH = 400
BAD_GATEWAY = 502
GATEWAY_TIMEOUT = 504
TOO_LARGE = 413


class UpstreamBroken(Exception):
    """The upstream failed after the response started: the client connection must be aborted.

    Raised out of the ASGI callable on purpose: servers close the connection instead of ending
    the response cleanly, so the client can tell a truncated body from a complete one.
    """


def error_body(message: str, request_id: str) -> bytes:
    return orjson.dumps({"error": message, "request_id": request_id})


async def send_error(send: Send, status: int, message: str, request_id: str) -> int:
    """Send a JSON error response; returns the number of body bytes sent."""
    body = error_body(message, request_id)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (REQUEST_ID, request_id.encode("ascii")),
                (DATE, http_date()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return len(body)
