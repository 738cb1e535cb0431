"""The CGI/1.1 params of one request, as nginx's `fastcgi_params` gives them to PHP-FPM; pure.

`build_params(request, script, document_root)` returns the (name, value) pairs PHP turns into
`$_SERVER`, in the order nginx sends them, with the values nginx gives for the same request
(the integration tests run the same requests through both and compare `$_SERVER`):

- `REQUEST_URI` is the target as the client sent it; `QUERY_STRING` is its raw query;
  `SCRIPT_NAME`, `DOCUMENT_URI` and `PATH_INFO` are decoded, as nginx's `$fastcgi_script_name`,
  `$document_uri` and `$fastcgi_path_info` after `try_files`.
- `CONTENT_TYPE` and `CONTENT_LENGTH` are always sent, empty when the request has none (PHP
  then reports no body); `CONTENT_LENGTH` is the length of the body the gateway sends. nginx
  also sends these two headers as `HTTP_CONTENT_*`; the gateway does not, so the only length
  PHP sees is the one the body was framed with (getallheaders(), Symfony and Laravel read
  `CONTENT_*` either way).
- `HTTPS=on` only when the client's scheme is https; `REMOTE_USER` is the user name of a Basic
  `Authorization` header, unverified, as nginx's `$remote_user`.
- `SERVER_NAME` is the caller's `server_name` (nginx's `$server_name`: the configured name).
- Every request header becomes `HTTP_<NAME>` (upper case, `-` as `_`), except `Proxy` (httpoxy:
  PHP code reads `HTTP_PROXY` as a proxy setting), `Content-Type` and `Content-Length` (sent
  as `CONTENT_*`), and names with `_` or any other character outside letters, digits and `-`:
  nginx ignores those by default, since `X_Forwarded_For` would otherwise arrive as
  `HTTP_X_FORWARDED_FOR` and pass for a header a trusted proxy set. `HTTP_HOST` is the Host
  header as sent, port included (Debian's fastcgi_params sends nginx's `$host`, which drops
  the port; its fastcgi.conf and upstream nginx send the header).
- Repeated headers are joined into one param as nginx 1.23 and later join them: `; ` between
  cookies, `, ` between other values. (nginx 1.22 sends one param per line and PHP keeps only
  the last, losing the others.)
- `extra` (the table's `legacy.params`) replaces any param of the same name, an `HTTP_*` one
  included, as an nginx `fastcgi_param` does.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from proxy.sides.fastcgi.resolve import Script

Pair = tuple[bytes, bytes]

SERVER_SOFTWARE = b"strangler"
_HEADER_NAME = re.compile(rb"[A-Za-z0-9-]+")
_SKIPPED = frozenset({b"proxy", b"content-type", b"content-length"})
_BASIC = re.compile(rb"basic +([A-Za-z0-9+/]+={0,2})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CgiRequest:
    """What the params need to know of a request, as the gateway received it."""

    method: str
    target: bytes  # the request target as sent: raw path, and `?query` when the client sent one
    query: bytes  # raw, without the `?`
    headers: Sequence[Pair]  # ASGI: lower-case names, in the client's order
    client: tuple[str, int]
    server: tuple[str, int]  # the address and port the client connected to
    scheme: str = "http"
    server_name: str = ""
    http_version: str = "1.1"
    content_length: int | None = None  # the body's length; None: the Content-Length header


def build_params(
    request: CgiRequest,
    script: Script,
    document_root: str,
    extra: Sequence[Pair] = (),
    server_software: bytes = SERVER_SOFTWARE,
) -> list[Pair]:
    """The params PHP-FPM receives for `request` running `script` under `document_root`."""
    headers = _Headers(request.headers)
    script_name = _text(script.script_name)
    if request.content_length is not None:
        content_length = str(request.content_length).encode("ascii")
    else:
        content_length = headers.content_length
    pairs: list[Pair] = [
        (b"QUERY_STRING", request.query),
        (b"REQUEST_METHOD", request.method.encode("ascii")),
        (b"CONTENT_TYPE", headers.content_type),
        (b"CONTENT_LENGTH", content_length),
        (b"SCRIPT_NAME", script_name),
        (b"REQUEST_URI", request.target),
        (b"DOCUMENT_URI", script_name),
        (b"DOCUMENT_ROOT", _text(document_root)),
        (b"SERVER_PROTOCOL", b"HTTP/" + request.http_version.encode("ascii")),
        (b"REQUEST_SCHEME", request.scheme.encode("ascii")),
        (b"GATEWAY_INTERFACE", b"CGI/1.1"),
        (b"SERVER_SOFTWARE", server_software),
        (b"REMOTE_ADDR", request.client[0].encode("ascii")),
        (b"REMOTE_PORT", str(request.client[1]).encode("ascii")),
        (b"REMOTE_USER", _basic_user(headers.authorization)),
        (b"SERVER_ADDR", request.server[0].encode("ascii")),
        (b"SERVER_PORT", str(request.server[1]).encode("ascii")),
        (b"SERVER_NAME", _text(request.server_name)),
        (b"REDIRECT_STATUS", b"200"),
        (b"SCRIPT_FILENAME", _text(script.filename)),
        (b"PATH_INFO", _text(script.path_info)),
    ]
    if request.scheme == "https":
        pairs.append((b"HTTPS", b"on"))
    pairs += headers.http
    if not extra:
        return pairs
    overridden = {name for name, _ in extra}
    return [pair for pair in pairs if pair[0] not in overridden] + list(extra)


def http_params(headers: Sequence[Pair]) -> list[Pair]:
    """`HTTP_*` params of the request headers, repeats joined, in first-seen order."""
    return _Headers(headers).http


def basic_user(headers: Sequence[Pair]) -> bytes:
    """The user name of a Basic `Authorization` header, or empty, as nginx's `$remote_user`."""
    return _basic_user(_Headers(headers).authorization)


class _Headers:
    """One pass over the request headers: the `HTTP_*` params and the headers read by name."""

    __slots__ = ("authorization", "content_length", "content_type", "http")

    def __init__(self, headers: Sequence[Pair]) -> None:
        self.content_type = self.content_length = self.authorization = b""
        joined: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-type":
                self.content_type = self.content_type or value
            elif lowered == b"content-length":
                self.content_length = self.content_length or value
            elif (param := _http_name(lowered)) is not None:
                if lowered == b"authorization" and not self.authorization:
                    self.authorization = value
                if param in joined:
                    joined[param].append(value)
                else:
                    joined[param] = [value]
        self.http = [(param, _join(param, values)) for param, values in joined.items()]


def _http_name(lowered: bytes) -> bytes | None:
    """`HTTP_X_NAME` for `x-name`; None for a header that is never passed as one."""
    found = _HTTP_NAMES.get(lowered, _UNSEEN)
    if found is _UNSEEN:
        valid = lowered not in _SKIPPED and _HEADER_NAME.fullmatch(lowered)
        found = b"HTTP_" + lowered.upper().replace(b"-", b"_") if valid else None
        if len(_HTTP_NAMES) < _HTTP_NAMES_KEPT:  # names are the client's: keep a bounded set
            _HTTP_NAMES[lowered] = found
    return found


_UNSEEN = b"\0"
_HTTP_NAMES: dict[bytes, bytes | None] = {}
_HTTP_NAMES_KEPT = 4096


def _basic_user(authorization: bytes) -> bytes:
    matched = _BASIC.fullmatch(authorization)
    if matched is None:
        return b""
    try:
        decoded = binascii.a2b_base64(matched[1], strict_mode=True)
    except binascii.Error:
        return b""
    user, colon, _ = decoded.partition(b":")
    return user if colon and user else b""


def _join(param: bytes, values: list[bytes]) -> bytes:
    if len(values) == 1:
        return values[0]
    return (b"; " if param == b"HTTP_COOKIE" else b", ").join(values)


def _text(value: str) -> bytes:
    # surrogateescape: a path decoded with it comes back as the bytes the client sent
    return value.encode("utf-8", "surrogateescape")
