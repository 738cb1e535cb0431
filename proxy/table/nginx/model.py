"""An nginx configuration as plain frozen data: the servers, their locations, every directive.

Everything keeps the file and line it came from, so that whatever the importer says about a
setting (mapped, approximated, not imported) can point at it. The model holds what nginx read,
not what it means: choosing a server or a location is `servers` and `locations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive as written, with its block when it has one (`if`, `limit_except`, ...)."""

    name: str
    args: tuple[str, ...]
    file: str
    line: int
    block: tuple[Directive, ...] | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


class Modifier(StrEnum):
    """How a location's pattern is matched (the word before the pattern, `@` for named ones)."""

    PREFIX = ""
    EXACT = "="
    PREFIX_NO_REGEX = "^~"
    REGEX = "~"
    REGEX_CASELESS = "~*"
    NAMED = "@"

    @property
    def is_regex(self) -> bool:
        return self in (Modifier.REGEX, Modifier.REGEX_CASELESS)

    @property
    def is_prefix(self) -> bool:
        return self in (Modifier.PREFIX, Modifier.PREFIX_NO_REGEX)


class _Block:
    """A `location` or a `server`: directives read from a block at file:line."""

    __slots__ = ()
    directives: tuple[Directive, ...]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def find(self, name: str) -> tuple[Directive, ...]:
        return tuple(d for d in self.directives if d.name == name)


@dataclass(frozen=True, slots=True)
class Location(_Block):
    modifier: Modifier
    pattern: str
    directives: tuple[Directive, ...]
    locations: tuple[Location, ...]
    file: str
    line: int

    @property
    def label(self) -> str:
        """The location as written after `location`, e.g. `^~ /static/` or `@fallback`."""
        if self.modifier is Modifier.NAMED:
            return self.pattern
        return f"{self.modifier} {self.pattern}" if self.modifier else self.pattern


@dataclass(frozen=True, slots=True)
class Listen:
    """One `listen`: `address` is `*`, an IPv4 address, `[v6]` or `unix:PATH`."""

    address: str
    port: int
    default_server: bool
    params: tuple[str, ...]
    file: str
    line: int

    @property
    def endpoint(self) -> tuple[str, int]:
        return (self.address, self.port)


@dataclass(frozen=True, slots=True)
class Server(_Block):
    listens: tuple[Listen, ...]
    names: tuple[str, ...]
    directives: tuple[Directive, ...]
    locations: tuple[Location, ...]
    file: str
    line: int

    @property
    def label(self) -> str:
        names = " ".join(n for n in self.names if n) or '""'
        listens = ", ".join(f"{a}:{p}" for a, p in (x.endpoint for x in self.listens))
        return f"server {names} (listen {listens}) at {self.where}"


@dataclass(frozen=True, slots=True)
class Config:
    """A whole configuration: its servers in file order, the `http` level's other directives
    (`upstream`, `map`, inherited settings) and the files that were read, in order."""

    servers: tuple[Server, ...]
    http: tuple[Directive, ...]
    files: tuple[str, ...]

    def upstream(self, name: str) -> Directive | None:
        for d in self.http:
            if d.name == "upstream" and d.args == (name,):
                return d
        return None


def every_location(locations: Iterable[Location]) -> list[Location]:
    """The locations and all those nested in them, each before its own, in file order."""
    out: list[Location] = []
    for loc in locations:
        out += [loc, *every_location(loc.locations)]
    return out
