"""A request through the gateway as the CGI request PHP-FPM gets, and a CGI head as the
response headers the client gets; pure.

The params are nginx's `fastcgi_params` (see `params`); what the gateway adds to them:

- `REMOTE_ADDR` and `HTTPS` are the real client's: the socket's peer, or, behind a trusted
  proxy (`edge.trusted_proxies`), what it forwarded. So the forwarded headers
  (`X-Forwarded-*`, `X-Real-IP`, `Forwarded`) of an untrusted client never reach PHP: they
  could only contradict what REMOTE_ADDR says. From a trusted proxy they pass as sent.
- `HTTP_X_REQUEST_ID` is the gateway's request id (the client's, when it sent a sane one), so
  PHP's own logs can carry the id every gateway log line has.
- `SERVER_NAME` is the host of the Host header, lower case and without its port (nginx's
  `$host`; an nginx block's `server_name` is whatever its author wrote there).
- `CONTENT_LENGTH` is the length of the body the gateway sends (spooled or declared).

Response headers are the HTTP side's rules (`proxy.sides.headers.response_headers`: hop-by-hop
and `Connection`-named headers dropped, the request id set) with no upstream origin to rewrite
a `Location` from: PHP builds its URLs from the client's own Host.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Scope

from proxy.errors import REQUEST_ID
from proxy.sides.fastcgi.params import CgiRequest
from proxy.sides.headers import ClientView, Headers, response_headers
from proxy.table.targets import Upstream

_FORWARDED = frozenset(
    {
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
        b"forwarded",
    }
)
# a CGI answer has no upstream origin: Location values pass as PHP wrote them
_NO_ORIGIN = Upstream(url="", base_path="", host_header="", origins=(), preserve_host=True)


def cgi_request(scope: Scope, view: ClientView, content_length: int | None) -> CgiRequest:
    """What the params of one request are built from (`content_length`: the body's, or None
    for a request without one)."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope["query_string"]
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    return CgiRequest(
        method=scope["method"],
        target=raw_path + b"?" + query if query else raw_path,
        query=query,
        headers=cgi_headers(scope["headers"], view),
        client=(view.client_ip, client[1] or 0),
        server=(server[0] or "", server[1] or 0),
        scheme=view.scheme,
        server_name=host_name(view.host) or (server[0] or ""),
        http_version=scope.get("http_version", "1.1"),
        content_length=content_length,
    )


def cgi_headers(headers: Sequence[tuple[bytes, bytes]], view: ClientView) -> Headers:
    """The request headers PHP gets as `HTTP_*` (ASGI's lower-case names)."""
    trusted = view.trusted
    kept = [
        (name, value)
        for name, value in headers
        if name != REQUEST_ID and (trusted or name not in _FORWARDED)
    ]
    kept.append((REQUEST_ID, view.request_id.encode("ascii")))
    return kept


def host_name(host: str) -> str:
    """`Example.com:8080` → `example.com`; `[::1]:80` → `[::1]` (nginx's `$host`)."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1].lower() if end > 0 else ""
    name, colon, port = host.rpartition(":")
    return (name if colon and port.isdigit() else host).lower()


def cgi_response_headers(headers: Headers, view: ClientView) -> Headers:
    """A CGI head's headers as the client gets them."""
    return response_headers(headers, view, _NO_ORIGIN)
