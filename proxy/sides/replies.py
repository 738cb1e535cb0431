"""The static side's replies framed as raw ASGI messages: a head and a whole body, the gateway's
JSON refusals with the headers their status calls for, nginx's multipart/byteranges framing,
and nginx's 301 for a directory asked for without its trailing slash.
"""

from __future__ import annotations

import os

from starlette.types import Scope, Send

from proxy.clock import DATE, http_date
from proxy.errors import REQUEST_ID, error_body
from proxy.sides.conditions import Span
from proxy.sides.filecache import Piece

Header = tuple[bytes, bytes]


def common_headers(request_id: str) -> list[Header]:
    """What every answer of the static side carries: a Date, and the request id when given."""
    headers = [(DATE, http_date())]
    if request_id:
        headers.append((REQUEST_ID, request_id.encode("ascii")))
    return headers


async def respond(send: Send, status: int, headers: list[Header], body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def refuse(
    send: Send,
    status: int,
    message: str,
    request_id: str,
    head_only: bool,
    extra: list[Header] | None = None,
) -> int:
    """The gateway's JSON error (no body for HEAD), with `extra` headers; returns `status`."""
    body = error_body(message, request_id)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += extra or []
    await respond(send, status, headers + common_headers(request_id), b"" if head_only else body)
    return status


def multipart(kind: bytes, size: int, spans: list[Span]) -> tuple[bytes, list[Piece], int]:
    """multipart/byteranges as nginx frames it: (Content-Type, the pieces of the body, their
    length). Each part opens with CRLF, the boundary, its Content-Type and Content-Range; the
    boundary is 20 digits, as nginx's."""
    boundary = b"%020d" % (int.from_bytes(os.urandom(8)) % 10**20)
    pieces: list[Piece] = []
    for start, end in spans:
        pieces.append(
            b"\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
            % (boundary, kind, start, end - 1, size)
        )
        pieces.append((start, end))
    pieces.append(b"\r\n--%s--\r\n" % boundary)
    length = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in pieces)
    return b"multipart/byteranges; boundary=" + boundary, pieces, length


# nginx's NGX_ESCAPE_URI: controls, space, `"#%<>?\^{|}` and backquote, DEL and non-ASCII
_UNSAFE = set(range(0x21)) | set(b'"#%<>?\\^`{|}') | set(range(0x7F, 0x100))
_ESCAPED = [b"%%%02X" % byte if byte in _UNSAFE else bytes([byte]) for byte in range(256)]
_MOVED_BODY = (
    b"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
    b"<center><h1>301 Moved Permanently</h1></center>\r\n</body>\r\n</html>\r\n"
)


async def moved_permanently(
    scope: Scope, send: Send, location_path: str, cache_control: bytes | None, request_id: str
) -> int:
    """nginx's 301 to the absolute URL of `location_path`, with its small HTML body."""
    headers = [
        (b"content-type", b"text/html"),
        (b"content-length", b"%d" % len(_MOVED_BODY)),
        (b"location", directory_location(scope, location_path)),
        *common_headers(request_id),
    ]
    if cache_control is not None:
        headers.append((b"cache-control", cache_control))
    await respond(send, 301, headers, b"" if scope["method"] == "HEAD" else _MOVED_BODY)
    return 301


def directory_location(scope: Scope, location_path: str) -> bytes:
    """nginx's absolute `Location`: the scheme, the Host header's name (else the address the
    request came in on), the port the request came in on unless it is the scheme's default, the
    path escaped as nginx escapes it, and the query as the client sent it."""
    scheme = scope.get("scheme", "http")
    server = scope.get("server") or ("localhost", None)
    host = _host_name(scope["headers"]) or str(server[0]).encode("ascii", "replace")
    port = server[1]
    authority = host
    if port is not None and port != (443 if scheme == "https" else 80):
        authority += b":%d" % port
    raw = location_path.encode("utf-8", "surrogateescape")
    escaped = b"".join(_ESCAPED[byte] for byte in raw)
    location = b"%s://%s%s" % (scheme.encode("ascii"), authority, escaped)
    query: bytes = scope.get("query_string", b"")
    return location + b"?" + query if query else location


def _host_name(headers: list[Header]) -> bytes:
    for name, value in headers:
        if name.lower() == b"host":
            host = value.strip().lower()
            if host.startswith(b"["):
                return host[: host.find(b"]") + 1] if b"]" in host else b""
            return host.partition(b":")[0].rstrip(b".")
    return b""
