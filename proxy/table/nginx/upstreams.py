"""Where a `proxy_pass` or `fastcgi_pass` sends requests, and which side of the gateway that is.

`proxy_pass http://NAME[:PORT][URI]` names an `upstream` block or an address. The side is
native when it resolves to what `--native-upstream` names (an upstream block's name, or an
address: `python_api`, `http://127.0.0.1:9001`), legacy otherwise. An upstream block's first
server is its address (several servers: approximated, reported). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from proxy.table.nginx.errors import NginxError
from proxy.table.nginx.model import Config, Directive

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UpstreamError(NginxError):
    """A pass the gateway cannot reach as nginx did."""


@dataclass(frozen=True, slots=True)
class Address:
    """Where requests go: an http(s) origin, or a FastCGI socket (`unix:/path`, `host:port`)."""

    url: str  # http://host:port for proxy_pass; unix:/path or host:port for fastcgi_pass
    upstream: str | None  # the upstream block's name, when one was named
    servers: int = 1  # servers in that block


@dataclass(frozen=True, slots=True)
class ProxyPass:
    address: Address
    uri: str | None  # the URI part, decoded ("/" for `http://up/`); None: no URI part
    whole_target: bool  # `$request_uri` as the URI: the target as received, as without a part


def proxy_pass(d: Directive, config: Config) -> ProxyPass:
    url = d.args[0] if d.args else ""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        raise UpstreamError(f"{d.where}: proxy_pass {url}: only http:// and https:// are imported")
    scheme = scheme.lower()
    if rest.startswith("unix:"):
        raise UpstreamError(f"{d.where}: proxy_pass {url}: a unix socket is not an HTTP upstream")
    cut = min((i for i in (rest.find("/"), rest.find("$")) if i != -1), default=len(rest))
    authority, uri = rest[:cut], rest[cut:]
    if "$" in authority:
        raise UpstreamError(f"{d.where}: proxy_pass {url}: a host from variables is not imported")
    whole = uri == "$request_uri"
    if "$" in uri and not whole:
        raise UpstreamError(
            f"{d.where}: proxy_pass {url}: a URI built from variables is not imported"
        )
    address = _http_address(scheme, authority, config, d)
    part = None if whole or not uri else unquote(uri)
    return ProxyPass(address, part, whole)


def fastcgi_pass(d: Directive, config: Config) -> Address:
    target = d.args[0] if d.args else ""
    if "$" in target:
        raise UpstreamError(f"{d.where}: fastcgi_pass {target}: variables are not imported")
    block = config.upstream(target)
    if block is not None:
        servers = _servers(block)
        if not servers:
            raise UpstreamError(f"{block.where}: upstream {target} has no server")
        return Address(servers[0], target, len(servers))
    return Address(target, None)


def native_address(option: str, config: Config) -> Address:
    """What `--native-upstream` names, resolved as a proxy_pass would be."""
    scheme, sep, rest = option.partition("://")
    if not sep:
        scheme, rest = "http", option
    authority = rest.split("/", 1)[0]
    d = Directive("--native-upstream", (option,), "command line", 0)
    return _http_address(scheme.lower(), authority, config, d)


def same_side(a: Address, b: Address) -> bool:
    return a.url == b.url or (a.upstream is not None and a.upstream == b.upstream)


def _http_address(scheme: str, authority: str, config: Config, d: Directive) -> Address:
    block = config.upstream(authority)
    if block is not None:
        servers = _servers(block)
        if not servers:
            raise UpstreamError(f"{block.where}: upstream {authority} has no server")
        if servers[0].startswith("unix:"):
            raise UpstreamError(
                f"{block.where}: upstream {authority} is a unix socket, not an HTTP upstream"
            )
        return Address(_origin(scheme, servers[0]), authority, len(servers))
    if not authority:
        raise UpstreamError(f"{d.where}: {d.name} {' '.join(d.args)}: no host")
    return Address(_origin(scheme, authority), None)


def _servers(block: Directive) -> list[str]:
    return [s.args[0] for s in block.block or () if s.name == "server" and s.args]


def _origin(scheme: str, authority: str) -> str:
    host, port = authority.lower(), None
    if host.startswith("["):
        end = host.find("]")
        host, rest = host[: end + 1], host[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in host:
        host, port = host.rsplit(":", 1)
    if port is None or int(port) == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"
