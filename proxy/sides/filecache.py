"""Reading the files the static side sends: small ones whole, from a bounded cache; large ones
streamed from a descriptor, off the event loop.

`FileCache` plays the part of nginx's `open_file_cache`, holding the bytes as well: an LRU
bounded in entries and in bytes, whose entry is used only while the file is the one it was
read from. The resolver has just stat'ed the file, so that check costs no system call: the
entry must match the stat's inode, device, size, mtime and ctime (ctime moves on any write,
even one that puts mtime back).

A small file missing from the cache is read on the event loop, as nginx's worker reads it: a
read of at most `small_file` bytes out of the page cache is cheaper than a thread hop. A large
file is read in chunks by the loop's default executor, the next chunk read while the last one is
being sent, and each `send` awaited: memory stays at a few chunks whatever the file's size,
and a slow client slows the reads down. A client that leaves stops the reads.
"""

from __future__ import annotations

import asyncio
import os
import stat as modes
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate

from starlette.types import Receive, Send

from proxy.errors import UpstreamBroken
from proxy.sides.conditions import Span, etag

Identity = tuple[int, int, int, int, int]
Piece = bytes | Span  # bytes sent as they are, or a span of the file
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO must not block the loop


def identity(stat: os.stat_result) -> Identity:
    return (stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What the headers say of a file: its size and validators."""

    identity: Identity
    size: int
    mtime: int  # whole seconds, as Last-Modified and nginx's ETag carry it
    etag: bytes
    last_modified: bytes

    @classmethod
    def of(cls, stat: os.stat_result, size: int | None = None) -> FileMeta:
        length = stat.st_size if size is None else size
        mtime = stat.st_mtime_ns // 1_000_000_000
        modified = formatdate(mtime, usegmt=True).encode("ascii")
        return cls(identity(stat), length, mtime, etag(mtime, length), modified)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A small file read whole: what the cache keeps."""

    meta: FileMeta
    body: bytes

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A large file open for streaming; whoever opened it closes it."""

    meta: FileMeta
    fd: int

    def close(self) -> None:
        os.close(self.fd)


Opened = Loaded | Descriptor


class FileCache:
    """Small files' bytes and metadata by path, least recently used first out."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, Loaded] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, path: str, stat: os.stat_result) -> Loaded | None:
        """The cached file at `path`, if it is still the file `stat` describes."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry.meta.identity != identity(stat):
            self._drop(path)
            return None
        self._entries.move_to_end(path)
        return entry

    def put(self, path: str, entry: Loaded) -> None:
        size = len(entry.body)
        if size > self.max_bytes or self.max_entries < 1:
            return
        self._drop(path)
        while self._entries and (
            len(self._entries) >= self.max_entries or self.bytes + size > self.max_bytes
        ):
            self._drop(next(iter(self._entries)))
        self._entries[path] = entry
        self.bytes += size

    def _drop(self, path: str) -> None:
        entry = self._entries.pop(path, None)
        if entry is not None:
            self.bytes -= len(entry.body)


def open_file(path: str, stat: os.stat_result, small_file: int, cache: FileCache | None) -> Opened:
    """The file at `path` ready to send; raises OSError as `os.open` does (a path that is no
    longer a regular file raises FileNotFoundError)."""
    if cache is not None and (hit := cache.get(path, stat)) is not None:
        return hit
    fd = os.open(path, _OPEN_FLAGS)
    try:
        now = os.fstat(fd)
        if not modes.S_ISREG(now.st_mode):
            raise FileNotFoundError(path)
        if now.st_size > small_file:
            opened = Descriptor(FileMeta.of(now), fd)
            fd = -1  # the caller closes it
            return opened
        body = _read_all(fd, now.st_size)
    finally:
        if fd >= 0:
            os.close(fd)
    entry = Loaded(FileMeta.of(now, len(body)), body)
    if cache is not None and len(body) == now.st_size:  # not caught mid-write
        cache.put(path, entry)
    return entry


def _read_all(fd: int, size: int) -> bytes:
    parts = []
    left = size
    while left > 0:
        data = os.read(fd, left)
        if not data:
            break
        parts.append(data)
        left -= len(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def stream_file(
    receive: Receive, send: Send, fd: int, pieces: Sequence[Piece], chunk_size: int
) -> None:
    """Send `pieces` as the body of a response already started, spans read from `fd`; the
    reads stop when the client disconnects."""
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(receive, gone))
    try:
        wanted = [p for p in pieces if isinstance(p, bytes) or p[0] < p[1]]
        await _send_pieces(send, fd, wanted, chunk_size, gone)
    finally:
        watcher.cancel()
        await asyncio.wait({watcher})


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception:  # a request stream that fails has no client left behind it either
        pass
    gone.set()


async def _send_pieces(
    send: Send, fd: int, pieces: Sequence[Piece], chunk_size: int, gone: asyncio.Event
) -> None:
    """Send `pieces` as the response body, spans read from `fd`; ends the body unless the
    client left. A file that shrank under us raises UpstreamBroken: the connection must be
    cut, not the body ended short."""
    for item in pieces:
        if gone.is_set():
            return
        if isinstance(item, bytes):
            await send({"type": "http.response.body", "body": item, "more_body": True})
        elif not await _send_span(send, fd, item, chunk_size, gone):
            return
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_span(send: Send, fd: int, span: Span, chunk_size: int, gone: asyncio.Event) -> bool:
    loop = asyncio.get_running_loop()
    offset, end = span
    reading = loop.run_in_executor(None, os.pread, fd, min(chunk_size, end - offset), offset)
    try:
        while True:
            data = await reading
            if not data:
                raise UpstreamBroken("the file shrank while it was being sent")
            offset += len(data)
            if offset < end:  # the next chunk is read while this one is sent
                size = min(chunk_size, end - offset)
                reading = loop.run_in_executor(None, os.pread, fd, size, offset)
            if gone.is_set():
                return False
            await send({"type": "http.response.body", "body": data, "more_body": True})
            if offset >= end:
                return True
    finally:
        if not reading.done():  # a read in flight must end before its fd can be closed
            await asyncio.wait({reading})
