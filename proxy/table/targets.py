"""Where the sides are: each upstream of the table, compiled once per table.

Everything a request to an upstream needs that depends only on the table (the base URL, the
Host it expects, the spellings of its origin a `Location` may use, the time budget) is computed
here when a table is loaded, never per request. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from proxy.table.model import Execute, FastCGIAddress

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Upstream:
    """One upstream base URL, with what every request to it needs precomputed."""

    url: str  # scheme://host[:port][/base], no trailing "/"
    base_path: str  # "" or "/base"
    host_header: str  # "host[:port]" as the upstream expects it in Host
    origins: tuple[str, ...]  # lower-cased spellings of scheme://host[:port] seen in Location
    preserve_host: bool
    socket: str = ""  # a unix socket's path, where the upstream listens (then `url` names it)


def upstream_of(url: str, *, preserve_host: bool) -> Upstream:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    port = parts.port
    default = _DEFAULT_PORTS.get(scheme)
    host_header = host if port is None or port == default else f"{host}:{port}"
    origins = {f"{scheme}://{host_header}"}
    if port is None or port == default:
        origins.add(f"{scheme}://{host}:{default}")
    return Upstream(
        url=url.rstrip("/"),
        base_path=parts.path.rstrip("/"),
        host_header=host_header,
        origins=tuple(sorted(origins)),
        preserve_host=preserve_host,
    )


@dataclass(frozen=True, slots=True)
class DocumentRoot:
    """The legacy side's document root: what `proxy.sides.fastcgi.resolve` runs or serves
    under it, and the Cache-Control of its files by URL path prefix (`static.cache`)."""

    root: str  # absolute
    index: str = "index.php"
    execute: Execute = Execute.ANY
    cache_control: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to forward over HTTP: precomputed once per table."""

    upstream: Upstream
    timeout: float  # seconds for the whole exchange
    # a request body is read whole before the upstream is called, this many bytes of it in
    # memory and the rest in a temporary file; 0: bodies stream straight through
    buffer_request: int = 0
    # legacy.url with legacy.root: the root's static files are answered by the gateway, every
    # other request is forwarded (nginx's try_files $uri @app)
    files: DocumentRoot | None = None


@dataclass(frozen=True, slots=True)
class FastCGITarget:
    """The legacy side straight to PHP-FPM: precomputed once per table."""

    address: FastCGIAddress  # a unix socket's path is absolute
    files: DocumentRoot
    params: tuple[tuple[bytes, bytes], ...]  # legacy.params, encoded once
    timeout: float  # seconds for the whole exchange
    pool_size: int  # connections open to PHP-FPM at most (per gateway process)
    buffer_request: int = 0  # as Target's; a body without a length is spooled whatever it says


def fastcgi_params(params: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    """The table's extra params as the records carry them."""
    return tuple((name.encode("ascii"), value.encode("utf-8")) for name, value in params)


LegacyTarget = Target | FastCGITarget
