"""Which server block nginx uses: by the address and port the connection came to, then by Host.

For a connection to ADDRESS:PORT, the candidates are the servers that listen on exactly that
address and port, or, when none does, those listening on the wildcard (`*`, or `[::]` for
IPv6) with that port. Among them, as ngx_http_find_virtual_server: an exact name; the longest
wildcard name starting with `*` (`.example.org` also matching `example.org` itself); the
longest ending with `*`; the first regex name (`~...`) that matches, in file order; else the
listen's `default_server`, or the first candidate. A name claimed twice is nginx's "conflicting
server name": the first claim wins. The Host is checked and lowercased as nginx does
(`valid_host`); a request without one matches the empty name `""`.

`pick` is the importer's question: which one server block the operator means.
"""

from __future__ import annotations

from collections.abc import Sequence

from proxy.table.nginx.errors import ServerChoiceError
from proxy.table.nginx.model import Config, Server
from proxy.table.nginx.pcre import Regex, UnsupportedRegex, compile_pcre


def valid_host(raw: str) -> str | None:
    """ngx_http_validate_host: the Host without its port and trailing dot, lowercased; None
    for a Host nginx answers 400."""
    host_len, dot_pos, literal = len(raw), -2, False
    for i, ch in enumerate(raw):
        if ch == ".":
            if dot_pos == i - 1:
                return None
            dot_pos = i
        elif ch == ":":
            if not literal and host_len == len(raw):
                host_len = i
        elif ch == "[" and i == 0:
            literal = True
        elif ch == "]" and literal:
            host_len, literal = i + 1, False
        elif ch == "/" or ord(ch) <= 0x20 or ord(ch) == 0x7F:
            return None
    if dot_pos == host_len - 1:
        host_len -= 1
    if host_len <= 0:
        return None
    return raw[:host_len].lower()


def candidates(
    config: Config, address: str, port: int
) -> tuple[tuple[str, int], tuple[Server, ...]]:
    """The listen nginx takes a connection to address:port for, and its servers in file
    order (none when nothing listens there)."""
    exact = _listening(config.servers, address, port)
    if exact:
        return (address, port), exact
    wildcard = "[::]" if address.startswith("[") else "*"
    return (wildcard, port), _listening(config.servers, wildcard, port)


def choose(config: Config, address: str, port: int, host: str) -> Server | None:
    """The server nginx uses for a request with `host` (already `valid_host`, or "" when the
    request had none) on a connection to address:port; None when nothing listens there."""
    endpoint, servers = candidates(config, address, port)
    if not servers:
        return None
    return by_name(servers, host) or _default(servers, endpoint)


def by_name(servers: Sequence[Server], host: str) -> Server | None:
    exact: dict[str, Server] = {}
    head: dict[str, Server] = {}
    tail: dict[str, Server] = {}
    regexes: list[tuple[Regex, Server]] = []
    for server in servers:
        for name in server.names:
            if name.startswith("~"):
                regexes.extend(_regex(name, server))
            elif name.startswith("*."):
                head.setdefault(name[1:], server)
            elif name.startswith("."):
                head.setdefault(name, server)
                exact.setdefault(name[1:], server)
            elif name.endswith(".*"):
                tail.setdefault(name[:-1], server)
            else:
                exact.setdefault(name, server)
    if host in exact:
        return exact[host]
    labels = host.split(".")
    for i in range(1, len(labels)):  # longest suffix first
        if (found := head.get("." + ".".join(labels[i:]))) is not None:
            return found
    for i in range(len(labels) - 1, 0, -1):  # longest prefix first
        if (found := tail.get(".".join(labels[:i]) + ".")) is not None:
            return found
    if host:
        for regex, server in regexes:
            if regex.search(host.encode("utf-8", "surrogateescape")):
                return server
    return None


def pick(config: Config, name: str | None = None, port: int | None = None) -> Server:
    """The server block to import: the one answering `name` (on `port`, when given), or the
    only one there is. Anything else is a `ServerChoiceError` listing the server blocks."""
    listed = tuple(s.label for s in config.servers)
    if not config.servers:
        raise ServerChoiceError("no server block found", listed)
    if name is None:
        if len(config.servers) == 1:
            return config.servers[0]
        raise ServerChoiceError("several server blocks: choose one with --server-name", listed)
    host = valid_host(name)
    if host is None:
        raise ServerChoiceError(f"{name!r} is not a valid host name", listed)
    found: list[Server] = []
    for address, listen_port in sorted({x.endpoint for s in config.servers for x in s.listens}):
        if port is not None and listen_port != port:
            continue
        server = by_name(_listening(config.servers, address, listen_port), host)
        if server is not None and server not in found:
            found.append(server)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ServerChoiceError(f"no server block answers {name!r}", listed)
    reason = f"several server blocks answer {name!r}, on different ports: choose a port"
    raise ServerChoiceError(reason, tuple(s.label for s in found))


def _listening(servers: Sequence[Server], address: str, port: int) -> tuple[Server, ...]:
    return tuple(s for s in servers if any(x.endpoint == (address, port) for x in s.listens))


def _default(servers: Sequence[Server], endpoint: tuple[str, int]) -> Server:
    for server in servers:
        if any(x.default_server and x.endpoint == endpoint for x in server.listens):
            return server
    return servers[0]


def _regex(name: str, server: Server) -> list[tuple[Regex, Server]]:
    try:
        # nginx folds case for a regex name that has any capital letter in it (even `\\D`)
        caseless = any("A" <= c <= "Z" for c in name)
        return [(compile_pcre(name[1:], caseless=caseless), server)]
    except UnsupportedRegex:
        # nginx would match it; it cannot be reproduced here, so it matches nothing and the
        # importer's report says so
        return []
