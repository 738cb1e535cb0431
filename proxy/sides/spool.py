"""A request body read whole before an upstream is called: in memory up to a size, then in a
temporary file (nginx's request buffering).

Reading the body first means a client that uploads slowly holds no upstream connection (and no
PHP worker) while it trickles, and the upstream learns the body's length even when the client
sent it chunked (PHP-FPM needs CONTENT_LENGTH). Memory stays bounded by `memory` bytes per
request whatever the body's size; the file is deleted when the spool is closed (or, being
unnamed, when the process exits).
"""

from __future__ import annotations

import tempfile
from typing import IO

from starlette.types import Receive

FILE_CHUNK = 256 * 1024  # bytes read back from the file at a time


class ClientGone(Exception):
    """The client disconnected while its request body was being read."""


class Spool:
    """A whole request body; `read()` gives it back chunk by chunk (b"" at its end)."""

    __slots__ = ("_file", "_memory", "_position", "length")

    def __init__(self) -> None:
        self._memory: list[bytes] = []
        self._file: IO[bytes] | None = None
        self._position = 0
        self.length = 0

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    @classmethod
    async def read_from(cls, receive: Receive, memory: int, directory: str | None = None) -> Spool:
        """Read an ASGI request body to its end; raises ClientGone if the client leaves."""
        spool = cls()
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                data: bytes = message.get("body", b"")
                if data:
                    spool._add(data, memory, directory)
                if not message.get("more_body", False):
                    break
        except BaseException:
            spool.close()
            raise
        spool.rewind()
        return spool

    def _add(self, data: bytes, memory: int, directory: str | None) -> None:
        self.length += len(data)
        if self._file is None and self.length <= memory:
            self._memory.append(data)
            return
        if self._file is None:
            # closed by close(), which every caller reaches (the forwarder's finally)
            self._file = tempfile.TemporaryFile(prefix="strangler-body-", dir=directory)  # noqa: SIM115
            for part in self._memory:
                self._file.write(part)
            self._memory = []
        self._file.write(data)

    def rewind(self) -> None:
        """Start reading from the beginning again (a retried or a replayed request)."""
        self._position = 0
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)

    async def read(self) -> bytes:
        if self._file is not None:
            return self._file.read(FILE_CHUNK)
        if self._position < len(self._memory):
            self._position += 1
            return self._memory[self._position - 1]
        return b""

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._memory = []
