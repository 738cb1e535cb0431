"""Directives (includes already in place) → the model, refusing what nginx itself refuses.

The checks are nginx's own, in its words: a location nested where nginx does not allow one, a
prefix location outside its parent, a duplicate location, a listen that is not an address.
A configuration nginx would not start with is not one to import.
"""

from __future__ import annotations

from collections.abc import Iterable

from proxy.table.nginx.errors import LoadError
from proxy.table.nginx.model import Config, Directive, Listen, Location, Modifier, Server

MODIFIERS = {m.value: m for m in Modifier if m not in (Modifier.PREFIX, Modifier.NAMED)}
# nginx's default when a server has no listen (as root; 8000 otherwise)
DEFAULT_LISTEN = ("*", 80)


def build(
    directives: tuple[Directive, ...], context: tuple[str, ...], files: tuple[str, ...]
) -> Config:
    """The `Config` of a file read in `context` (see `load`): nginx.conf, a file of server
    blocks, or a file of locations (which becomes one server listening on nginx's default)."""
    if context == ("http", "server"):
        first = directives[0] if directives else None
        file, line = (first.file, 1) if first else (files[0] if files else "<empty>", 1)
        return Config((_server(directives, file, line),), (), files)
    if context == ():
        http: list[Directive] = []
        for d in directives:
            if d.name == "http" and d.block is not None:
                http.extend(d.block)
        directives = tuple(http)
    servers = tuple(
        _server(d.block, d.file, d.line)
        for d in directives
        if d.name == "server" and d.block is not None
    )
    rest = tuple(d for d in directives if d.name != "server")
    return Config(servers, rest, files)


def _server(block: tuple[Directive, ...], file: str, line: int) -> Server:
    listens = tuple(_listen(d) for d in block if d.name == "listen")
    if not listens:
        listens = (Listen(*DEFAULT_LISTEN, False, (), file, line),)
    names = tuple(
        a.lower() if not a.startswith("~") else a
        for d in block
        if d.name == "server_name"
        for a in d.args
    ) or ("",)
    locations = _locations(block, None)
    directives = tuple(d for d in block if d.name != "location")
    return Server(listens, names, directives, locations, file, line)


def _locations(block: Iterable[Directive], parent: Location | None) -> tuple[Location, ...]:
    found: list[Location] = []
    seen: set[tuple[str, bool]] = set()
    for d in block:
        if d.name != "location" or d.block is None:
            continue
        modifier, pattern = _location_name(d)
        _check_nesting(d, modifier, pattern, parent)
        if modifier.is_prefix or modifier is Modifier.EXACT:
            key = (pattern, modifier is Modifier.EXACT)
            if key in seen:
                raise LoadError(d.file, d.line, f'duplicate location "{pattern}"')
            seen.add(key)
        shell = Location(modifier, pattern, (), (), d.file, d.line)
        found.append(
            Location(
                modifier,
                pattern,
                tuple(x for x in d.block if x.name != "location"),
                _locations(d.block, shell),
                d.file,
                d.line,
            )
        )
    return tuple(found)


def _location_name(d: Directive) -> tuple[Modifier, str]:
    if len(d.args) == 2:
        modifier = MODIFIERS.get(d.args[0])
        if modifier is None:
            raise LoadError(d.file, d.line, f'invalid location modifier "{d.args[0]}"')
        return modifier, d.args[1]
    if len(d.args) != 1:
        raise LoadError(d.file, d.line, 'invalid number of arguments in "location" directive')
    # nginx reads `=` and `~`/`~*` glued to the pattern, but not `^~`
    name = d.args[0]
    if name.startswith("="):
        return Modifier.EXACT, name[1:]
    if name.startswith("~*"):
        return Modifier.REGEX_CASELESS, name[2:]
    if name.startswith("~"):
        return Modifier.REGEX, name[1:]
    if name.startswith("@"):
        return Modifier.NAMED, name
    return Modifier.PREFIX, name


def _check_nesting(d: Directive, modifier: Modifier, pattern: str, parent: Location | None) -> None:
    if parent is None:
        return
    if parent.modifier is Modifier.EXACT:
        reason = f'location "{pattern}" cannot be inside the exact location "{parent.pattern}"'
    elif parent.modifier is Modifier.NAMED:
        reason = f'location "{pattern}" cannot be inside the named location "{parent.pattern}"'
    elif modifier is Modifier.NAMED:
        reason = f'named location "{pattern}" can be on the server level only'
    elif not modifier.is_regex and not pattern.startswith(parent.pattern):
        reason = f'location "{pattern}" is outside location "{parent.pattern}"'
    else:
        return
    raise LoadError(d.file, d.line, reason)


def _listen(d: Directive) -> Listen:
    if not d.args:
        raise LoadError(d.file, d.line, 'invalid number of arguments in "listen" directive')
    spec, params = d.args[0], d.args[1:]
    default = "default_server" in params or "default" in params
    if spec.startswith("unix:"):
        return Listen(spec, 0, default, params, d.file, d.line)
    if spec.startswith("["):
        host, _, rest = spec.partition("]")
        host, port_text = host + "]", rest[1:] if rest.startswith(":") else "80"
    elif spec.isdigit():
        host, port_text = "*", spec
    elif ":" in spec:
        host, port_text = spec.rsplit(":", 1)
    else:
        host, port_text = spec, "80"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise LoadError(d.file, d.line, f'invalid port in "{spec}" of the "listen" directive')
    if host == "0.0.0.0":
        host = "*"
    return Listen(host, int(port_text), default, params, d.file, d.line)
