"""A recording HTTP/1.1 upstream for raw-socket tests: every request it parses, as it parsed it.

It frames requests as a strict origin server does (Transfer-Encoding: chunked, else
Content-Length, else no body) and keeps the connection alive, so whatever a proxy sends after a
request's body is parsed as another request: a smuggled request shows up as an extra entry in
`requests`. Each answer is a small JSON document naming the request it answers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.rawhttp import threaded_server


@dataclass(frozen=True)
class Seen:
    """One request as the upstream parsed it."""

    connection: int
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]


@dataclass
class Recorder:
    url: str = ""
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            self._fill()
        data, _, self.buffer = self.buffer.partition(mark)
        return data

    def exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


def _read_body(reader: _Reader, headers: list[tuple[str, str]]) -> bytes:
    names = {n.lower(): v for n, v in headers}
    if "chunked" in names.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int(reader.until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                reader.until(b"\r\n")  # no trailers expected
                return body
            body += reader.exactly(size)
            reader.exactly(2)
    if "content-length" in names:
        return reader.exactly(int(names["content-length"]))
    return b""


@contextlib.contextmanager
def recording_upstream() -> Iterator[Recorder]:
    """A threaded loopback server recording every request; yields its Recorder."""
    recorder = Recorder()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            with recorder.lock:
                recorder.connections += 1
                number = recorder.connections
            reader = _Reader(sock)
            with contextlib.suppress(EOFError, OSError, ValueError):
                while True:
                    head = reader.until(b"\r\n\r\n").decode("latin-1")
                    line, *lines = head.split("\r\n")
                    method, target, _ = line.split(" ", 2)
                    headers = [tuple(x.strip() for x in h.split(":", 1)) for h in lines]
                    pairs = [(n, v) for n, v in headers]
                    body = _read_body(reader, pairs)
                    seen = Seen(number, method, target, tuple(pairs), body)
                    with recorder.lock:
                        recorder.requests.append(seen)
                    answer = json.dumps({"target": target, "body_length": len(body)}).encode()
                    sock.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%b" % (len(answer), answer)
                    )

    with threaded_server(Handler) as port:
        recorder.port = port
        recorder.url = f"http://127.0.0.1:{port}"
        yield recorder
