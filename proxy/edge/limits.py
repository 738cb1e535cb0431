"""What the client-facing server allows, with nginx's defaults, and how it says no.

`EdgeLimits` is the `limits:` section of routing.yaml as the server reads it. Every refusal has
a stable reason (the label of `strangler_refused_total{reason}`), the status it answers with,
and the message of its JSON body; the server reports each one once to a `RefusalCallback`
with the peer's address, never the bytes that caused it.
"""

from __future__ import annotations

import enum
import resource
from collections.abc import Callable
from dataclasses import dataclass

# (reason, peer): the peer is "host:port" of the client socket, or "" when it has none
RefusalCallback = Callable[[str, str], None]

# what stays for everything else when the connection bound comes from the descriptor limit:
# upstream pools, FastCGI, the parity store, log files, the listening sockets
_RESERVED_DESCRIPTORS = 256
_MAX_DERIVED_CONNECTIONS = 10_000


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """Head limits, timeouts (seconds) and the connection bound of the client-facing server.

    Sizes count bytes on the wire, each line with its CRLF, as nginx does: a request line of
    exactly `max_request_line` bytes passes, one byte more is refused.
    """

    max_request_line: int = 8192  # large_client_header_buffers 4 8k: one buffer → 414
    max_header_line: int = 8192  # one header line in one buffer → 431
    max_head: int = 32768  # the four buffers: request line, headers, the empty line → 431
    max_headers: int = 100  # header lines in a head → 431 (nginx bounds them by bytes only)
    header_timeout: float = 60.0  # client_header_timeout: the whole head, from its first byte
    body_timeout: float = 60.0  # client_body_timeout: between two reads of a request body
    keepalive_timeout: float = 75.0  # keepalive_timeout: an idle kept-alive connection
    lingering_timeout: float = 5.0  # lingering_timeout: reading what follows a refusal
    max_connections: int | None = None  # open client connections; None: from RLIMIT_NOFILE

    def __post_init__(self) -> None:
        sizes = (self.max_request_line, self.max_header_line, self.max_head, self.max_headers)
        if min(sizes) < 1:
            raise ValueError("edge limits: sizes and counts must be positive")
        times = (
            self.header_timeout,
            self.body_timeout,
            self.keepalive_timeout,
            self.lingering_timeout,
        )
        if min(times) <= 0:
            raise ValueError("edge limits: timeouts must be positive")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("edge limits: max_connections must be positive")

    def connection_bound(self) -> int:
        """`max_connections`, or one derived from this process's descriptor limit."""
        if self.max_connections is not None:
            return self.max_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return derived_connection_bound(soft)

    def sweep_interval(self) -> float:
        """How often deadlines are checked: a tenth of the shortest timeout, at most 1 s."""
        shortest = min(
            self.header_timeout, self.body_timeout, self.keepalive_timeout, self.lingering_timeout
        )
        return min(1.0, max(0.005, shortest / 10))


def derived_connection_bound(descriptors: int) -> int:
    """Client connections a process with `descriptors` open files can take and still work.

    A quarter of the descriptors (at least 256) stays for upstream connections and files, and
    the bound is capped at 10,000: past that, memory rather than descriptors runs out first.
    With the common soft limit of 1024 this gives 768 (Debian's nginx worker_connections).
    """
    if descriptors == resource.RLIM_INFINITY or descriptors < 0:
        return _MAX_DERIVED_CONNECTIONS
    reserved = max(_RESERVED_DESCRIPTORS, descriptors // 4)
    return max(16, min(_MAX_DERIVED_CONNECTIONS, descriptors - reserved))


class Refusal(enum.Enum):
    """Why the server refused a connection or request; the value is the metric label."""

    REQUEST_LINE_TOO_LONG = "request_line_too_long"
    HEADER_TOO_LARGE = "header_too_large"
    HEAD_TOO_LARGE = "head_too_large"
    TOO_MANY_HEADERS = "too_many_headers"
    CHUNK_LINE_TOO_LONG = "chunk_line_too_long"
    BAD_REQUEST = "bad_request"
    BAD_HOST = "bad_host"
    HEADER_TIMEOUT = "header_timeout"
    BODY_TIMEOUT = "body_timeout"
    TOO_MANY_CONNECTIONS = "too_many_connections"

    @property
    def status(self) -> int:
        return _ANSWERS[self][0]

    @property
    def message(self) -> str:
        return _ANSWERS[self][1]


_ANSWERS: dict[Refusal, tuple[int, str]] = {
    Refusal.REQUEST_LINE_TOO_LONG: (414, "request line too long"),
    Refusal.HEADER_TOO_LARGE: (431, "request header line too large"),
    Refusal.HEAD_TOO_LARGE: (431, "request headers too large"),
    Refusal.TOO_MANY_HEADERS: (431, "too many request headers"),
    Refusal.CHUNK_LINE_TOO_LONG: (400, "chunk size line too long"),
    Refusal.BAD_REQUEST: (400, "malformed request"),
    Refusal.BAD_HOST: (400, "missing, duplicate or invalid Host"),
    # nginx closes without an answer when a head is late; so does the server (no status sent)
    Refusal.HEADER_TIMEOUT: (408, "request head timed out"),
    Refusal.BODY_TIMEOUT: (408, "request body timed out"),
    Refusal.TOO_MANY_CONNECTIONS: (503, "too many open connections"),
}
