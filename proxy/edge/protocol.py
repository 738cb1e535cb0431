"""The edge protocol: uvicorn's httptools protocol, fed only bytes within nginx's limits.

A subclass of uvicorn's `HttpToolsProtocol` (through EdgeConnection, proxy.edge.connection):
llhttp still parses and validates every byte, and uvicorn's request cycle (ASGI messages, flow
control, pipelining, 100-continue, upgrades) is unchanged. What changes is how bytes reach the
parser: the scanners of proxy.edge.scan split the stream at the end of every head and body, so
the parser is fed a head only up to its limits and reading stops at the first byte over one.
Each head is then checked for its target and Host (proxy.edge.host), and header names nginx
drops never reach the app (proxy.edge.fields). Where the scanners and the parser disagree on
where a message ends, the request is refused: no byte is parsed as a head the scanners did not
measure.
"""

from __future__ import annotations

from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from proxy.edge.connection import (
    BODY,
    CHUNKED,
    HEAD,
    HEADER,
    IGNORE,
    KEEPALIVE,
    LENGTH,
    NEVER,
    NONE,
    REFUSED,
    UPGRADED,
    EdgeConnection,
)
from proxy.edge.fields import valid_name, valid_names
from proxy.edge.host import absolute_form, known_hosts, valid_host
from proxy.edge.limits import Refusal
from proxy.edge.scan import ChunkedScanner, HeadScanner, Overflow

# the parser callbacks below run for every request: calling uvicorn's own directly spares the
# super() object each call would build
_stock = HttpToolsProtocol


class EdgeProtocol(EdgeConnection):
    """The client-facing HTTP/1.1 protocol; `edge_protocol` binds it to limits and a callback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = self._limits
        self._scanner = HeadScanner(
            limits.max_request_line, limits.max_header_line, limits.max_head
        )
        self._chunks: ChunkedScanner | None = None
        self._remaining = 0  # body bytes still to come (Content-Length)
        self._dropped_fields = 0  # header lines of this head whose names were dropped
        self._max_headers = limits.max_headers
        self._hosts = 0
        self._host = b""
        self._head_done = False
        self._message_done = False
        # a head this short has no line or head near a limit: no need to scan it line by line
        self._small = min(limits.max_request_line, limits.max_header_line, limits.max_head)

    # the byte stream

    def data_received(self, data: bytes) -> None:
        if self._state == HEAD and not self._scanner.size:
            # the usual read: one whole head that no limit can be near, and nothing after it
            end = data.find(b"\r\n\r\n")
            if end > 0 and end + 4 == len(data) <= self._small and data[0] > 13:
                try:
                    self.parser.feed_data(data)
                except httptools.HttpParserError:
                    self._refuse(self._stopped or Refusal.BAD_REQUEST)
                    return
                except httptools.HttpParserUpgrade:
                    if not self._upgrade():
                        return
                self._head_read()
                return
        while data:
            state = self._state
            if state == HEAD:
                data = self._take_head(data)
            elif state == LENGTH:
                data = self._take_length(data)
            elif state == CHUNKED:
                data = self._take_chunked(data)
            else:
                if state == REFUSED:
                    self._drop(len(data))
                return  # IGNORE (after a message the connection closes on), UPGRADED

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        if self.pipeline:
            self.flow.resume_reading()
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._pending is not None:
            self._answer(self._pending)
        else:
            self.flow.resume_reading()
            if self._state == HEAD and not self._scanner.size:
                self._timer = KEEPALIVE
                self.deadline = self.loop.time() + self._limits.keepalive_timeout
            elif self._state == HEAD:
                self._wait(HEADER, self._limits.header_timeout)

    def _take_head(self, data: bytes) -> bytes:
        scanner = self._scanner
        if not scanner.size and self._timer == KEEPALIVE:
            self._wait(HEADER, self._limits.header_timeout)
        end, over = scanner.scan(data)
        if over is not None:
            self._feed_to(data, over)
            return b""
        if end < 0:
            self._feed(data)
            return b""
        if not self._feed(data if end == len(data) else data[:end]) or not self._head_read():
            return b""
        return data[end:]

    def _head_read(self) -> bool:
        """After a whole head was fed: on to the body or the next head; False if refused."""
        if not self._head_done:
            self._refuse(Refusal.BAD_REQUEST)  # the parser and the scanner disagree
            return False
        if self._message_done:
            self._next_message()
            return True
        return self._begin_body()

    def _begin_body(self) -> bool:
        chunked, length = self._framing()
        limits = self._limits
        if chunked:
            # trailers come through on_header like fields: into a list of their own, never into
            # the head the app has (trailers are not passed on)
            self.headers = []
            trailers = HeadScanner(0, limits.max_header_line, limits.max_head, trailers=True)
            self._chunks = ChunkedScanner(limits.max_header_line, trailers)
            self._state = CHUNKED
        elif length:
            self._remaining = length
            self._state = LENGTH
        else:
            self._refuse(Refusal.BAD_REQUEST)  # the parser waits for a body nothing delimits
            return False
        self._wait(BODY, limits.body_timeout)
        return True

    def _take_length(self, data: bytes) -> bytes:
        self._wait(BODY, self._limits.body_timeout)
        remaining = self._remaining
        if len(data) < remaining:
            self._remaining = remaining - len(data)
            self._feed(data)
            return b""
        self._remaining = 0
        if not self._feed(data if len(data) == remaining else data[:remaining]):
            return b""
        return self._body_done(data[remaining:])

    def _take_chunked(self, data: bytes) -> bytes:
        self._wait(BODY, self._limits.body_timeout)
        assert self._chunks is not None
        end, over = self._chunks.scan(data)
        if over is not None:
            self._feed_to(data, over)
            return b""
        if not self._feed(data if end < 0 else data[:end]) or end < 0:
            return b""
        self._chunks = None
        return self._body_done(data[end:])

    def _feed_to(self, data: bytes, over: Overflow) -> None:
        """Feed the bytes before the first one over a limit, then refuse: the parser's own
        error in those bytes, if it finds one, is the refusal instead."""
        if self._feed(data[: over.at]):
            self._refuse(over.refusal)

    def _body_done(self, rest: bytes) -> bytes:
        if not self._message_done:
            self._refuse(Refusal.BAD_REQUEST)  # the parser and the scanner disagree
            return b""
        self._next_message()
        return rest

    def _feed(self, piece: bytes) -> bool:
        """Parse `piece`; False when the connection is done with parsing (refused, upgraded)."""
        try:
            self.parser.feed_data(piece)
        except httptools.HttpParserUpgrade:
            return self._upgrade()
        except httptools.HttpParserError:
            self._refuse(self._stopped or Refusal.BAD_REQUEST)
            return False
        return True

    def _upgrade(self) -> bool:
        """A head asked for an upgrade: True to go on parsing (not one uvicorn takes)."""
        if not self._should_upgrade():
            self._unsupported_upgrade_warning()
            return True
        self._state = UPGRADED
        self._sweeper.discard(self)  # the WebSocket protocol takes the connection
        self.handle_websocket_upgrade()
        return False

    def _framing(self) -> tuple[bool, int]:
        """(chunked, Content-Length) of the head the parser accepted (so a sane one)."""
        chunked, length = False, 0
        for name, value in self.headers:
            if name == b"transfer-encoding":
                chunked = True
            elif name == b"content-length" and value.isdigit():
                length = int(value)
        return chunked, length

    def _next_message(self) -> None:
        self._dropped_fields = self._hosts = 0
        self._head_done = self._message_done = False
        cycle = self.cycle
        if cycle is None or not cycle.keep_alive:
            self._state = IGNORE
            self._wait(NONE)  # the response under way closes the connection
            return
        self._state = HEAD
        if not cycle.response_complete:
            self._timer, self.deadline = NONE, NEVER  # the app's turn
        else:
            self._idle()  # answered before the body ended

    # parser callbacks

    def on_message_begin(self) -> None:
        if self._state != HEAD:
            self._stop(Refusal.BAD_REQUEST)  # a message where the scanner counted body bytes
        _stock.on_message_begin(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name not in valid_names and not valid_name(name):
            self._dropped_fields += 1
            return  # a name nginx drops (an underscore, a byte other than a letter, digit, -)
        value = value.rstrip(b" \t")
        if name == b"host":
            self._hosts += 1
            self._host = value
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        # the usual head: few fields, an origin-form target, one Host already seen valid, no
        # upgrade (the fields are counted here: the scanner has bounded the bytes they came in)
        if (
            self._hosts != 1
            or self.url[:1] != b"/"
            or self._host not in known_hosts
            or len(self.headers) + self._dropped_fields > self._max_headers
            or self.parser.should_upgrade()
        ):
            refusal = self._check_head()
            if refusal is not None:
                self._stop(refusal)
        _stock.on_headers_complete(self)
        self._head_done = True

    def on_message_complete(self) -> None:
        self._message_done = True
        _stock.on_message_complete(self)

    def _check_head(self) -> Refusal | None:
        """The field count, the target and Host rules as nginx has them (proxy.edge.host), and
        no body after an upgrade the server does not make."""
        if len(self.headers) + self._dropped_fields > self._max_headers:
            return Refusal.TOO_MANY_HEADERS
        authority = None
        if self.url[:1] != b"/" and self.url != b"*":
            target = absolute_form(self.url)
            if target is None:
                return Refusal.BAD_REQUEST
            authority, self.url = target
            if not valid_host(authority):
                return Refusal.BAD_HOST
        if self._hosts > 1:
            return Refusal.BAD_HOST
        if self._hosts == 0:
            if self.parser.get_http_version() not in ("1.0", "0.9"):
                return Refusal.BAD_HOST
        elif not valid_host(self._host):
            return Refusal.BAD_HOST
        if self.parser.should_upgrade() and not self._should_upgrade() and any(self._framing()):
            # the parser skips the body of a request that asks for an upgrade and would parse
            # it as the next request, where nginx (or a proxy in front) reads it as a body
            return Refusal.BAD_REQUEST
        if authority is not None:
            self.headers[:] = [(n, v) for n, v in self.headers if n != b"host"]
            self.headers.append((b"host", authority))
        return None

    # deadlines

    def _idle(self) -> None:
        """Nothing under way: wait for the rest of a head, or for the keep-alive to end."""
        if self._scanner.size:
            self._wait(HEADER, self._limits.header_timeout)
        else:
            self._timer = KEEPALIVE
            self.deadline = self.loop.time() + self._limits.keepalive_timeout
