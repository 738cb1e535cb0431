"""Header rules of a proxied exchange, as pure functions over ASGI header lists.

Both directions drop hop-by-hop headers (RFC 9110 section 7.6.1) and any header the Connection
header names, except the message's framing: `Content-Length` and `Transfer-Encoding` are never
taken from the client's list and never removed by a `Connection` token; the gateway writes the
framing it decided itself (`proxy.forwarder.outgoing`), so the upstream reads exactly the body
the gateway sends and nothing after it. The request gains X-Forwarded-For/-Proto/-Host
(appended to what earlier proxies wrote), an X-Request-ID, and the Host the upstream should
see; a response `Location` that points at the upstream is rewritten to the origin the client
used. Everything that depends only on the upstream is computed once per table by `upstream_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.errors import REQUEST_ID as REQUEST_ID
from proxy.table.targets import Upstream
from proxy.table.trust import Trust

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# the mark of a shadow dry run (the native side rolls back); a client must never set it
DRY_RUN = b"x-strangler-dry-run"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:+/=\-]{1,128}")


@dataclass(frozen=True, slots=True)
class ClientView:
    """What the client's request says about where it came from and what it reached.

    `client_ip` and `scheme` are the client's own: the socket's, or, behind a trusted proxy
    (`edge.trusted_proxies`), what that proxy forwarded. Logs, FastCGI params and cohorts read
    them; `peer_ip` and `hop_scheme` are the connection's, which X-Forwarded-* append.
    """

    host: str  # the Host the client sent, or the server address
    scheme: str
    client_ip: str
    request_id: str
    request_id_given: bool
    marked: bool = False  # the client sent the internal dry-run mark (dispatch strips it)
    trusted: bool = False  # the peer is a trusted proxy: its X-Forwarded-* are kept
    peer_ip: str = ""  # the socket's peer ("" means: the same as client_ip)
    hop_scheme: str = ""  # the connection's scheme ("" means: the same as scheme)


_SCHEMES = {b"http": "http", b"https": "https"}


def read_request(
    headers: Headers,
    scheme: str,
    server_host: str,
    client_ip: str,
    new_request_id: str,
    trust: Trust | None = None,
) -> ClientView:
    """Pick out of the client's headers what forwarding needs (one pass, no copies).

    `client_ip` is the socket's peer; when `trust` trusts it, the client's address and scheme
    are taken from X-Forwarded-For and X-Forwarded-Proto."""
    host = server_host
    request_id = ""
    marked = False
    forwarded_for: list[bytes] = []
    forwarded_proto = b""
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == DRY_RUN:
            marked = True
        elif name == REQUEST_ID and _VALID_REQUEST_ID.fullmatch(value):
            # an id that could break a log line or a header is replaced, not trusted
            request_id = value.decode("ascii")
        elif name == b"x-forwarded-for":
            forwarded_for.append(value)
        elif name == b"x-forwarded-proto" and not forwarded_proto:
            forwarded_proto = value
    given = bool(request_id)
    request_id = request_id or new_request_id
    if trust is None or not trust or not trust.trusts(client_ip):
        return ClientView(host, scheme, client_ip, request_id, given, marked)
    client = trust.client_of(client_ip, b",".join(forwarded_for))
    # the client's scheme is the first the chain recorded (the hop nearest the client)
    first = forwarded_proto.split(b",")[0].strip().lower()
    client_scheme = _SCHEMES.get(first, scheme)
    return ClientView(
        host, client_scheme, client, request_id, given, marked, True, client_ip, scheme
    )


def request_headers(headers: Headers, view: ClientView, upstream: Upstream) -> Headers:
    """The headers sent upstream (ASGI names are lower-case already; values pass as bytes).

    From an untrusted peer the forwarded headers are the gateway's own (X-Forwarded-For,
    -Proto, -Host and X-Real-IP from what it saw; X-Forwarded-Port, -Prefix and Forwarded
    dropped), so an application reading the first value reads the truth; from a trusted
    proxy they are kept, and X-Forwarded-For gains the proxy's address."""
    out: Headers = []
    declared: frozenset[bytes] = frozenset()
    forwarded_for = forwarded_proto = forwarded_host = b""
    trusted = view.trusted
    for name, value in headers:
        if name in _REQUEST_SPECIAL or name.startswith(b"proxy-"):
            if not trusted:
                if name == b"connection":
                    declared |= _tokens(value)
                continue  # the client's own forwarded headers are replaced, not extended
            if name == b"x-forwarded-for":
                forwarded_for = _append(forwarded_for, value)
            elif name == b"x-forwarded-proto" and not forwarded_proto:
                forwarded_proto = value
            elif name == b"x-forwarded-host" and not forwarded_host:
                forwarded_host = value
            elif name in _TRUSTED_ONLY:
                out.append((name, value))
            elif name == b"connection":
                declared |= _tokens(value)
            continue
        out.append((name, value))
    if declared:
        out = [(n, v) for n, v in out if n not in declared]
    # the framing headers were kept out of `out` (so no Connection token can remove them); the
    # caller appends the framing of the body it sends
    host = view.host if upstream.preserve_host else upstream.host_header
    peer = (view.peer_ip or view.client_ip).encode("latin-1")
    out.append((b"Host", host.encode("latin-1")))
    out.append((b"X-Forwarded-For", _append(forwarded_for, peer)))
    out.append((b"X-Forwarded-Proto", forwarded_proto or view.scheme.encode("latin-1")))
    out.append((b"X-Forwarded-Host", forwarded_host or view.host.encode("latin-1")))
    out.append((b"X-Real-IP", view.client_ip.encode("latin-1")))
    out.append((b"X-Request-ID", view.request_id.encode("ascii")))
    return out


# dropped, or replaced by what the gateway writes itself
_REQUEST_SPECIAL = HOP_BY_HOP | {
    b"host",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    REQUEST_ID,
    DRY_RUN,
    # the gateway's server answers 100-continue itself when it reads the body; the upstream
    # gets the body without asking for it
    b"expect",
    # framing is decided by the gateway, never copied (a copied one could disagree with the
    # body it streams, or be removed by a Connection token: request smuggling)
    b"content-length",
    # who the client is: written by the gateway, or kept only from a trusted proxy
    b"x-real-ip",
    b"x-forwarded-port",
    b"x-forwarded-prefix",
    b"forwarded",
}
# what a trusted proxy may tell the application beyond the client's address, scheme and host
_TRUSTED_ONLY = frozenset({b"x-forwarded-port", b"x-forwarded-prefix", b"forwarded"})
_RESPONSE_SPECIAL = HOP_BY_HOP | {REQUEST_ID, b"location"}
_ALWAYS_HOP = frozenset({b"close", b"keep-alive"})
# names a Connection header may list without effect: the framing of the message (which the
# receiver needs to find where it ends) and what the gateway writes itself
_NOT_DECLARABLE = frozenset(
    {
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-real-ip",
        REQUEST_ID,
    }
)


def _tokens(value: bytes) -> frozenset[bytes]:
    found = {t.strip().lower() for t in value.split(b",")}
    return frozenset(found - _ALWAYS_HOP - _NOT_DECLARABLE - {b""})


def _append(earlier: bytes, value: bytes) -> bytes:
    return earlier + b", " + value if earlier else value


def response_headers(
    raw: tuple[tuple[bytes, bytes], ...] | Headers, view: ClientView, upstream: Upstream
) -> Headers:
    """The upstream's response headers as the client gets them."""
    out: Headers = []
    declared: frozenset[bytes] = frozenset()
    for name, value in raw:
        lowered = name.lower()
        if lowered in _RESPONSE_SPECIAL or lowered.startswith(b"proxy-"):
            if lowered == b"location":
                out.append((name, rewrite_location(value, view, upstream)))
            elif lowered == b"connection":
                declared |= _tokens(value)
            continue
        out.append((name, value))  # the upstream's spelling: clients see the same bytes
    if declared:
        out = [(n, v) for n, v in out if n.lower() not in declared]
    out.append((REQUEST_ID, view.request_id.encode("ascii")))
    return out


def rewrite_location(value: bytes, view: ClientView, upstream: Upstream) -> bytes:
    """A Location at the upstream's origin (and base path) is moved to the client's origin."""
    text = value.decode("latin-1")
    lowered = text.lower()
    for origin in upstream.origins:
        after = lowered[len(origin) : len(origin) + 1]
        if after in ("", "/", "?", "#") and lowered.startswith(origin):
            rest = text[len(origin) :]
            if upstream.base_path and rest.startswith(upstream.base_path):
                rest = rest[len(upstream.base_path) :]
            if not rest.startswith("/"):
                rest = "/" + rest
            return f"{view.scheme}://{view.host}{rest}".encode("latin-1")
    return value


BODILESS = frozenset({204, 304})


def without_length(headers: Headers) -> Headers:
    """A 204 or 304 answer's headers without Content-Length: it announces no body there (a 304's
    states the size of a 200 that is not sent), and the server would wait for that body."""
    return [(n, v) for n, v in headers if n.lower() != b"content-length"]


def without(headers: Headers, name: bytes) -> Headers:
    return [(n, v) for n, v in headers if n != name]


def with_request_id(headers: Headers, request_id: str) -> Headers:
    """Response headers of an in-process app, with the request id set."""
    out = [(n, v) for n, v in headers if n.lower() != REQUEST_ID]
    out.append((REQUEST_ID, request_id.encode("ascii")))
    return out


def body_framing(headers: Headers) -> tuple[bytes | None, bool]:
    """How a request frames its body: its Content-Length as sent (None: absent), and whether it
    is chunked (a Transfer-Encoding). Forwarding, shadow mode and the body limit all read this."""
    length: bytes | None = None
    chunked = False
    for name, value in headers:
        if name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


def has_body(headers: Headers) -> bool:
    """Whether the request announces a body."""
    length, chunked = body_framing(headers)
    return length is not None or chunked


def header_value(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
