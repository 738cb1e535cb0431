"""The bytes the server answers a refusal with: the gateway's JSON error, then the close.

Written straight to the transport (there is no ASGI app to ask): a status line, the gateway's
error shape `{"error": ..., "request_id": ...}` (proxy.errors), `Connection: close`.
"""

from __future__ import annotations

import http
import os

from proxy import errors
from proxy.clock import DATE, http_date
from proxy.edge.limits import Refusal


def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, http.HTTPStatus(status).phrase.encode("ascii"))


_STATUS_LINES = {refusal: _status_line(refusal.status) for refusal in Refusal}


def refusal_answer(refusal: Refusal, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole response for `refusal`, with the server's default headers and a fresh id."""
    request_id = os.urandom(16).hex()
    body = errors.error_body(refusal.message, request_id)
    lines = [_STATUS_LINES[refusal]]
    dated = False
    for name, value in default_headers:
        dated = dated or name.lower() == DATE
        lines.append(b"%s: %s\r\n" % (name, value))
    if not dated:
        lines.append(b"date: %s\r\n" % http_date())
    lines.append(
        b"content-type: application/json\r\ncontent-length: %d\r\n%s: %s\r\n"
        b"connection: close\r\n\r\n" % (len(body), errors.REQUEST_ID, request_id.encode("ascii"))
    )
    lines.append(body)
    return b"".join(lines)
