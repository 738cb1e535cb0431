"""The route table as plain, frozen data.

`proxy.table.parse` turns routing.yaml text into these values; `proxy.matcher` compiles them into
a matcher; dispatch turns a match into behaviour. Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network


class Mode(enum.Enum):
    LEGACY = "legacy"
    NATIVE = "native"
    SHADOW = "shadow"
    CANARY = "canary"


class Side(enum.Enum):
    LEGACY = "legacy"
    NATIVE = "native"


# the methods shadow mode compares without `writes: dry_run` (no side effects to repeat)
SAFE_METHODS = frozenset({"GET", "HEAD"})


class Writes(enum.Enum):
    NONE = "none"
    DRY_RUN = "dry_run"


class SegmentKind(enum.Enum):
    LITERAL = "literal"
    STR = "str"  # {name}: one segment
    INT = "int"  # {name:int}: one segment of ASCII digits
    PATH = "path"  # {name:path}: the rest, may contain "/"; only as the last segment


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    value: str  # the literal text, or the parameter name


@dataclass(frozen=True, slots=True)
class PathTemplate:
    source: str  # as written, e.g. "/api/v1/admin/users/{id:int}"
    segments: tuple[Segment, ...]  # split on "/", leading "/" dropped; "/" alone is ()


class Execute(enum.Enum):
    """Which PHP scripts under the document root run (`legacy.execute`)."""

    ANY = "any"  # any existing .php file (nginx's `\.php$` location, Caddy's php_fastcgi)
    INDEX = "index"  # only the front controller (Laravel 11's `^/index\.php(/|$)` location)


@dataclass(frozen=True, slots=True)
class FastCGIAddress:
    """Where PHP-FPM listens: a unix socket (`path`), or a host and port."""

    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.path:
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PathRegex:
    """A regular expression of a `match:` mapping: PCRE as nginx reads it, translated and
    compiled once at load, searched (unanchored) on the UTF-8 bytes of the normalised path."""

    source: str  # as written
    caseless: bool  # ASCII letters match in either case (nginx's `~*`)
    compiled: re.Pattern[bytes]


@dataclass(frozen=True, slots=True)
class PathPattern:
    """`match:` as a mapping: an exact path, a literal prefix (`/api` also covers `/apis`),
    regexes, or a prefix and regexes together (all must hold)."""

    exact: str | None = None
    prefix: str | None = None
    regexes: tuple[PathRegex, ...] = ()

    @property
    def source(self) -> str:
        """The pattern in words, for listings: `exact /api/me`, `prefix /api/ and ~* \\.csv$`."""
        if self.exact is not None:
            return f"exact {self.exact}"
        words = [f"prefix {self.prefix}"] if self.prefix is not None else []
        words += [f"{'~*' if r.caseless else '~'} {r.source}" for r in self.regexes]
        return " and ".join(words)

    @property
    def captures(self) -> tuple[str, ...]:
        """What a template may use: `rest` (the path after the prefix), then each regex's
        named groups and group numbers."""
        names = ["rest"] if self.prefix is not None else []
        for regex in self.regexes:
            names += [n for n in regex.compiled.groupindex if n not in names]
            names += [str(i) for i in range(1, regex.compiled.groups + 1) if str(i) not in names]
        return tuple(names)


@dataclass(frozen=True, slots=True)
class Fill:
    """A path or URL filled in from a request: literal text and `{name}` places (a capture of
    the match, or a variable of a redirect). `parts` alternate: literal, name, literal, ..."""

    source: str  # as written
    parts: tuple[str, ...]  # even indexes: literal text; odd indexes: names

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]


@dataclass(frozen=True, slots=True)
class Respond:
    """The gateway answers the route itself, as nginx's `deny all` or `return 200 "text"`."""

    status: int
    body: str | None = None  # None: the gateway's JSON error for the status, or nothing below 400
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Redirect:
    """The gateway answers with a redirect, as nginx's `return 301 URL`."""

    status: int  # 301, 302, 303, 307 or 308
    to: Fill  # the Location, with captures and the variables of proxy.table.fill


Answer = Respond | Redirect


@dataclass(frozen=True, slots=True)
class LegacyConfig:
    """The legacy side: PHP over HTTP (`url`) or straight to PHP-FPM (`fastcgi`), exactly one,
    and the document root its public files are served from (`root`)."""

    url: str | None  # scheme://host[:port][/base], no trailing "/"; None with fastcgi
    timeout: float  # seconds
    preserve_host: bool = True
    pool_size: int = 100  # connections open to one upstream at most (proxy.sides.pool)
    fastcgi: FastCGIAddress | None = None
    root: str | None = None  # absolute: static files, and SCRIPT_FILENAME with fastcgi
    index: str = "index.php"  # the front controller, a .php file directly under root
    execute: Execute = Execute.ANY
    params: tuple[tuple[str, str], ...] = ()  # extra FastCGI params, in the table's order

    @property
    def where(self) -> str:
        """The legacy side in a few words, for operators: its URL or its FastCGI address."""
        return f"FastCGI {self.fastcgi}" if self.fastcgi is not None else str(self.url)


@dataclass(frozen=True, slots=True)
class StaticConfig:
    """How the files under `legacy.root` are answered."""

    # (URL path prefix, Cache-Control value), as written; the longest matching prefix applies
    cache: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NativeConfig:
    app: str | None  # "module:attribute" of an ASGI app, or None
    url: str | None  # a separately running service, or None (exactly one of app/url is set)
    timeout: float
    line: int = field(default=0, compare=False)  # of native.app (or .url) in the source
    # >0: the gateway runs `app` in this many processes of its own (proxy.sides.workers),
    # at CPU priority `nice`; 0: the app runs in the gateway's process
    workers: int = 0
    nice: int = 10


@dataclass(frozen=True, slots=True)
class ShadowConfig:
    """The shadow block: the global defaults, or a route's defaults merged with its overrides."""

    primary: Side = Side.LEGACY
    sample: float = 1.0
    noise_sample: float = 0.05
    timeout: float = 2.0
    max_in_flight: int = 64
    max_in_process: int = 1  # of those, candidate calls run by this process (shadow.experiment)
    in_process_share: float = 0.25  # of the time, at most, that such calls may take
    max_body: int = 1024 * 1024
    headers: tuple[str, ...] = ("content-type", "location")  # lower-cased
    ignore: tuple[str, ...] = ()
    redact: tuple[str, ...] = ()
    writes: Writes = Writes.NONE
    store: str = "sqlite:///parity.db"


@dataclass(frozen=True, slots=True)
class Limits:
    """What the gateway refuses before any side sees it."""

    request_body: int | None = None  # bytes; a larger request body is answered 413
    # a request body is read whole before an upstream connection is taken: this many bytes in
    # memory, the rest spooled to a temporary file (0: bodies stream through as they arrive)
    buffer_request: int = 1024 * 1024
    # response bytes read from an upstream ahead of a slow client: a response that fits frees
    # its upstream connection at once
    buffer_response: int = 1024 * 1024
    # the client-facing server (proxy.edge), with nginx's defaults; read when the gateway starts
    request_line: int = 8192  # a longer request line → 414
    header_line: int = 8192  # a longer header line → 431
    head: int = 32768  # a larger request head → 431
    headers: int = 100  # more header lines → 431
    header_timeout: float = 60.0  # the whole head must arrive within this, or the connection closes
    body_timeout: float = 60.0  # between two reads of a request body → 408
    keepalive_timeout: float = 75.0  # an idle kept-alive connection is closed
    connections: int | None = None  # open client connections per process (None: from the
    # descriptor limit); over it → 503

    def edge_keys(self) -> tuple[object, ...]:
        """What the client-facing server takes when the gateway starts (a reload cannot change
        a running server's protocol)."""
        return (
            self.request_line, self.header_line, self.head, self.headers, self.header_timeout,
            self.body_timeout, self.keepalive_timeout, self.connections,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Edge:
    """Who stands in front of the gateway: peers whose X-Forwarded-* headers are believed."""

    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()


@dataclass(frozen=True, slots=True)
class GateConfig:
    """When a shadow route may flip (shadow.gate decides): the global block, or a route's merge.

    Ready needs at least `min_samples` comparisons within the last `window`, a mismatch rate
    (mismatched + errored over compared) within it of at most `max_mismatch_rate`, and no field
    that first differed within the window during the last `quiet_for` (0 turns that rule off).
    """

    min_samples: int = 1000
    max_mismatch_rate: float = 0.01
    window: float = 24 * 3600.0  # seconds
    quiet_for: float = 3600.0  # seconds


class CohortKind(enum.Enum):
    HEADER = "header"
    COOKIE = "cookie"
    CLIENT_IP = "client_ip"


@dataclass(frozen=True, slots=True)
class Cohort:
    """What makes requests one cohort of a canary: a header, a cookie or the client address."""

    kind: CohortKind = CohortKind.CLIENT_IP
    name: str = ""  # the header name (lower-case) or the cookie name; "" for client_ip

    def __str__(self) -> str:
        return self.kind.value if not self.name else f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class CanaryConfig:
    """The canary block (proxy.modes.canary): the table's defaults merged with a route's."""

    share: float = 0.0  # fraction of cohorts the native side answers
    cohort: Cohort = Cohort()
    force: str | None = None  # a header (lower-case) by which a trusted client picks its side
    compare: bool = False  # the side not answering runs as shadow mode's candidate
    salt: str = "strangler"  # the table's: the same cohort gets the same bucket on every route


class Fallback(enum.Enum):
    LEGACY = "legacy"


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """When a native or canary route rolls back to legacy by itself (proxy.modes.guard)."""

    max_error_rate: float | None = None  # native 5xx and failures over answers, at most
    max_p99: float | None = None  # seconds
    min_requests: int = 100  # native answers in the window before any verdict
    window: float = 300.0  # seconds
    relative_to_legacy: bool = False  # limits are on top of legacy's own rate and p99


@dataclass(frozen=True, slots=True)
class RecordConfig:
    """`record:`: keep a sample of a route's requests in the parity store, for replay."""

    sample: float  # the share of the route's requests kept (chosen by request id)
    max_body: int = 64 * 1024  # a request with a larger body is not kept
    redact: tuple[str, ...] = ()  # the route's `shadow.redact`, masked before anything is kept


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    methods: frozenset[str] | None  # upper-case; None means "*"; GET implies HEAD
    template: PathTemplate
    mode: Mode
    line: int  # line of the route's "- id:" item in the source file
    shadow: ShadowConfig | None = None  # effective shadow settings; set only for shadow routes
    gate: GateConfig = GateConfig()  # effective: the global gate block merged with the route's
    # blocks written on the route that its mode does not use (say `shadow:` on a native route):
    # validated and kept, so that flipping the mode back is a one-line edit
    inert: tuple[str, ...] = ()
    # migration controls, kept whatever the mode and used by the modes they apply to (canary:
    # canary routes; fallback and guard: native and canary routes)
    canary: CanaryConfig | None = None
    fallback: Fallback | None = None
    guard: GuardConfig | None = None
    legacy_removed: bool = False  # the legacy side no longer serves this route
    # `match:` as a mapping (exact, prefix, regex); `template` then only carries its text
    pattern: PathPattern | None = None
    # the path each side is sent, filled from the match's captures (None: the matched path);
    # kept in every mode, so a flip is one line
    legacy_path: Fill | None = None
    native_path: Fill | None = None
    answer: Answer | None = None  # the gateway answers; no side is called (mode is unused)
    record: RecordConfig | None = None  # effective (the table's, merged with the route's)

    def allows(self, method: str) -> bool:
        if self.methods is None:
            return True
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


@dataclass(frozen=True, slots=True)
class RouteTable:
    version: int
    legacy: LegacyConfig
    native: NativeConfig
    shadow: ShadowConfig
    routes: tuple[Route, ...]
    gate: GateConfig = GateConfig()  # the global gate block
    limits: Limits = Limits()
    canary: CanaryConfig = CanaryConfig()  # the global canary block: salt and defaults
    edge: Edge = Edge()
    static: StaticConfig = StaticConfig()
    source: str = "routing.yaml"  # file name used in messages
    digest: str = ""  # sha256 of the source text, to tell tables apart in logs and reloads


def keeps_evidence(table: RouteTable) -> bool:
    """Whether the table writes to the parity store: shadow routes, and the native and canary
    routes whose fallbacks, guards or comparisons are stored."""
    return any(
        route.mode is Mode.SHADOW
        or (
            route.mode in (Mode.NATIVE, Mode.CANARY)
            and (route.guard is not None or route.fallback is not None or route.mode is Mode.CANARY)
        )
        for route in table.routes
    )


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NoRoute:
    """No route matched: the request goes to legacy."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation error or warning, with where it was found."""

    file: str
    line: int  # 0: the file as a whole (it could not be read)
    reason: str
    route_id: str | None = None
    warning: bool = False  # worth showing, but the table is still valid (e.g. unreachable route)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.route_id is not None:
            where += f"route '{self.route_id}': "
        return where + self.reason


class TableError(Exception):
    """A table failed validation; it is rejected whole."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))
