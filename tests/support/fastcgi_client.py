"""A small synchronous FastCGI client for tests, on the gateway's own record codec.

It lets a test send a request straight to PHP-FPM (no gateway, no nginx) over a plain unix
socket. It writes the whole request before it reads, which is enough for scripts that read
their body before they answer.

    with FastCGIConnection(fpm.socket) as conn:     # FCGI_KEEP_CONN: several requests
        first = conn.request(params, body)
        second = conn.request(params)
    answer = fastcgi_request(fpm.socket, params)    # one request, one connection
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.records import EndRequest, Event, ResponseDecoder, Stderr, Stdout
from proxy.sides.fastcgi.response import Head, HeadParser

Pair = tuple[bytes, bytes]


@dataclass
class FastCGIAnswer:
    stdout: bytes
    stderr: bytes
    end: EndRequest
    events: list[Event] = field(repr=False)

    @property
    def head(self) -> Head:
        """The CGI head; its `body` is the whole body."""
        head = HeadParser(limit=len(self.stdout) + 1).feed(self.stdout)
        assert head is not None, f"no complete CGI head in {self.stdout[:200]!r}"
        return head

    def headers(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.head.headers if key.lower() == name.lower()]


def encode_request(
    request_id: int, pairs: Iterable[Pair], body: bytes, *, keep_conn: bool = True
) -> bytes:
    return b"".join(
        (
            records.begin_request(request_id, keep_conn=keep_conn),
            records.params(request_id, pairs),
            records.stdin(request_id, body),
            records.end_stdin(request_id),
        )
    )


class FastCGIConnection:
    """One connection to a FastCGI server; requests run one after the other on it."""

    def __init__(self, path: Path | str, timeout: float = 30.0, read_size: int = 262144) -> None:
        self.read_size = read_size
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise
        self._next_id = 1

    def __enter__(self) -> FastCGIConnection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def request(
        self,
        pairs: Iterable[Pair],
        body: bytes = b"",
        *,
        keep_conn: bool = True,
        request_id: int | None = None,
    ) -> FastCGIAnswer:
        if request_id is None:
            request_id, self._next_id = self._next_id, self._next_id % 65535 + 1
        self.sock.sendall(encode_request(request_id, pairs, body, keep_conn=keep_conn))
        return self.read_answer(request_id)

    def read_answer(self, request_id: int) -> FastCGIAnswer:
        decoder = ResponseDecoder(request_id)
        events: list[Event] = []
        while not decoder.ended:
            data = self.sock.recv(self.read_size)
            if not data:
                raise ConnectionError(f"connection closed before END_REQUEST ({events[-3:]})")
            events.extend(decoder.feed(data))
        stdout = b"".join(e.data for e in events if isinstance(e, Stdout))
        stderr = b"".join(e.data for e in events if isinstance(e, Stderr))
        end = events[-1]
        assert isinstance(end, EndRequest)
        return FastCGIAnswer(stdout, stderr, end, events)


def fastcgi_request(
    path: Path | str, pairs: Iterable[Pair], body: bytes = b"", timeout: float = 30.0
) -> FastCGIAnswer:
    """One request on a connection of its own, closed by the server (no FCGI_KEEP_CONN)."""
    with FastCGIConnection(path, timeout) as conn:
        return conn.request(pairs, body, keep_conn=False)
