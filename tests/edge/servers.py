"""A loopback uvicorn running the edge protocol over a recording ASGI app, and a raw client.

The server runs in a thread of the test process (its own event loop, uvloop as in production),
so each test gives it its own limits and small timeouts and looks at what the app saw.

`STRANGLER_EDGE_STOCK=1` serves the same tests with uvicorn's stock httptools protocol instead:
they are meant to fail there (each one asserts something stock uvicorn does not do).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.types import Receive, Scope, Send

from proxy.edge import EdgeLimits, RefusalCallback, edge_protocol

STOCK = os.environ.get("STRANGLER_EDGE_STOCK", "") == "1"


@dataclass(frozen=True)
class Seen:
    """One request as the app saw it."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    disconnected: bool

    def header(self, name: bytes) -> list[bytes]:
        return [v for n, v in self.headers if n == name]


@dataclass
class Recorder:
    """An ASGI app that reads the whole body, records the request and answers 200 JSON.

    With `respond_first`, it starts its answer before reading the body (a streaming answer).
    """

    seen: list[Seen] = field(default_factory=list)
    respond_first: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if self.respond_first:
            await send(_start(None))
        body = b""
        disconnected = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = list(scope["headers"])
        self.seen.append(
            Seen(scope["method"], scope["path"], scope["query_string"], headers, body, disconnected)
        )
        if disconnected:
            return
        out = orjson.dumps({"path": scope["path"], "body": len(body)})
        if not self.respond_first:
            await send(_start(len(out)))
        await send({"type": "http.response.body", "body": out})


def _start(length: int | None) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": 200, "headers": headers}


@dataclass
class Running:
    port: int
    refusals: list[tuple[str, str]]

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    app: Any,
    limits: EdgeLimits | None = None,
    *,
    stock: bool = STOCK,
    on_refusal: RefusalCallback | None = None,
) -> Iterator[Running]:
    """uvicorn on a free loopback port with the edge protocol (or stock httptools); refusals
    are recorded in `Running.refusals` unless another callback is given."""
    refusals: list[tuple[str, str]] = []
    http: Any = "httptools"
    if not stock:
        http = edge_protocol(
            limits, on_refusal or (lambda reason, peer: refusals.append((reason, peer)))
        )
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=http,
        lifespan="off",
        log_level="critical",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield Running(port, refusals)
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass(frozen=True)
class Reply:
    """The first response a raw client got (None: none), and whether the server closed the
    connection after it (EOF or reset)."""

    status: int | None
    headers: dict[bytes, bytes]
    body: bytes
    closed: bool

    def json(self) -> Any:
        return orjson.loads(self.body)


def read_reply(sock: socket.socket, settle: float = 0.5) -> Reply:
    """Read one Content-Length framed response, then wait up to `settle` s for the close."""
    sock.settimeout(settle)
    raw = b""
    closed = False
    with contextlib.suppress(TimeoutError):
        try:
            while not closed and (b"\r\n\r\n" not in raw or len(raw) < _framed_length(raw)):
                chunk = sock.recv(65536)
                closed = not chunk
                raw += chunk
            while not closed:
                closed = not sock.recv(65536)
        except ConnectionResetError:
            closed = True
    if b"\r\n\r\n" not in raw:
        return Reply(None, {}, b"", closed)
    reply = read_reply_bytes(raw)
    return Reply(reply.status, reply.headers, reply.body, closed)


def read_raw(sock: socket.socket, settle: float = 0.5) -> tuple[bytes, bool]:
    """What the server sends until it closes or is quiet for `settle` s; whether it closed."""
    sock.settimeout(settle)
    raw = b""
    closed = False
    with contextlib.suppress(TimeoutError):
        try:
            while not closed:
                chunk = sock.recv(65536)
                closed = not chunk
                raw += chunk
        except ConnectionResetError:
            closed = True
    return raw, closed


def read_replies(sock: socket.socket, settle: float = 0.5) -> tuple[list[Reply], bool]:
    """Every Content-Length framed response until the server closes or is quiet for `settle` s,
    and whether it closed."""
    raw, closed = read_raw(sock, settle)
    return replies_in(raw), closed


def replies_in(raw: bytes) -> list[Reply]:
    """The Content-Length framed responses one after the other in `raw`."""
    replies = []
    while b"\r\n\r\n" in raw:
        end = _framed_length(raw)
        replies.append(read_reply_bytes(raw[:end]))
        raw = raw[end:]
    return replies


def read_reply_bytes(raw: bytes) -> Reply:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    body = rest[: int(headers.get(b"content-length", b"0"))]
    return Reply(int(lines[0].split(b" ")[1]), headers, body, False)


def _framed_length(raw: bytes) -> int:
    head, _, _ = raw.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return len(head) + 4 + length


def exchange(port: int, data: bytes, settle: float = 0.5) -> Reply:
    """Send `data` on a new connection and read one reply."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        return read_reply(sock, settle)


def request_line(size: int) -> bytes:
    """A GET request line of exactly `size` bytes, CRLF included."""
    start, end = b"GET /", b" HTTP/1.1\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


def header_line(size: int, name: bytes = b"X-Pad") -> bytes:
    """A header line of exactly `size` bytes, CRLF included."""
    start = name + b": "
    return start + b"v" * (size - len(start) - 2) + b"\r\n"


def eventually(check: Any, within: float = 5.0) -> bool:
    """Whether `check()` comes true within `within` seconds (the app runs on the server's
    thread: what it records may land just after the client has its answer)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
