"""A scripted FastCGI application for tests: it reads requests record by record, on a unix
socket or TCP, and answers however the test's handler writes, byte by byte if it likes.

    async with fake_fpm(handler, workers=1) as fpm:   # fpm.address: a FastCGIAddress
        ...

`workers` imitates PHP-FPM's process model: at most that many connections are served at once,
each to its end; a further connection waits, accepted by the kernel but unread, until one
being served closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.records import RecordType, decode_pairs
from proxy.table.model import FastCGIAddress

_HEADER = struct.Struct(">BBHHBx")


@dataclass
class Request:
    keep_conn: bool
    params: dict[bytes, bytes]
    stdin: bytes
    stdin_records: list[int]  # the content length of every STDIN record, in order


class Connection:
    """One accepted connection, as the handler sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def record(self) -> tuple[int, int, bytes]:
        header = await self.reader.readexactly(8)
        _, kind, request_id, size, padding = _HEADER.unpack(header)
        content = await self.reader.readexactly(size + padding)
        return kind, request_id, content[:size]

    async def request(self) -> Request | None:
        """The next request, whole; None when the client closed the connection."""
        try:
            kind, _, content = await self.record()
        except asyncio.IncompleteReadError:
            return None
        assert kind == RecordType.BEGIN_REQUEST, kind
        keep = bool(content[2] & records.KEEP_CONN)
        params: dict[bytes, bytes] = {}
        while True:
            kind, _, content = await self.record()
            assert kind == RecordType.PARAMS, kind
            if not content:
                break
            params.update(decode_pairs(content))
        stdin, sizes = b"", []
        while True:
            kind, _, content = await self.record()
            assert kind == RecordType.STDIN, kind
            if not content:
                return Request(keep, params, stdin, sizes)
            stdin += content
            sizes.append(len(content))

    async def send(self, data: bytes, *, piece: int = 0) -> None:
        """Write `data`, in pieces of `piece` bytes when given (each drained)."""
        if not piece:
            self.writer.write(data)
            await self.writer.drain()
            return
        for start in range(0, len(data), piece):
            self.writer.write(data[start : start + piece])
            await self.writer.drain()

    async def answer(
        self, stdout: bytes, stderr: bytes = b"", status: records.ProtocolStatus | None = None
    ) -> None:
        await self.send(response(stdout, stderr, status))


def response(
    stdout: bytes, stderr: bytes = b"", status: records.ProtocolStatus | None = None
) -> bytes:
    """A whole answer to request 1: STDERR, STDOUT, the ends of both streams, END_REQUEST."""
    parts = []
    if stderr:
        parts.append(records.stream(RecordType.STDERR, 1, stderr))
    parts.append(records.stream(RecordType.STDOUT, 1, stdout))
    parts.append(records.end_stream(RecordType.STDOUT, 1))
    parts.append(records.end_request(1, 0, status or records.ProtocolStatus.REQUEST_COMPLETE))
    return b"".join(parts)


Handler = Callable[[Connection, "FakeFpm"], Awaitable[None]]


@dataclass
class FakeFpm:
    address: FastCGIAddress
    connections: int = 0  # accepted and served (a connection waiting for a worker not yet)
    requests: list[Request] = field(default_factory=list)


async def serve_requests(conn: Connection, fpm: FakeFpm, body: bytes = b"ok") -> None:
    """Answer every request of the connection with a 200 and `body`, keeping it if asked."""
    while (request := await conn.request()) is not None:
        fpm.requests.append(request)
        await conn.answer(b"Content-Type: text/plain\r\n\r\n" + body)
        if not request.keep_conn:
            return


@contextlib.asynccontextmanager
async def fake_fpm(
    handler: Handler = serve_requests, *, workers: int = 64, socket: Path | None = None
) -> AsyncIterator[FakeFpm]:
    """A FastCGI application on `socket` (a unix socket), or on a loopback TCP port."""
    slots = asyncio.Semaphore(workers)
    tasks: set[asyncio.Task[None]] = set()
    fpm = FakeFpm(FastCGIAddress())

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            async with slots:
                fpm.connections += 1
                await handler(Connection(reader, writer), fpm)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            tasks.discard(task)

    if socket is not None:
        server = await asyncio.start_unix_server(serve, str(socket))
        fpm.address = FastCGIAddress(path=str(socket))
    else:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        fpm.address = FastCGIAddress(host="127.0.0.1", port=server.sockets[0].getsockname()[1])
    try:
        yield fpm
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await server.wait_closed()
