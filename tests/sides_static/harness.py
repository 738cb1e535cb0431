"""Driving proxy.sides.static with raw ASGI messages, and a tree of files with known times."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import Message

from proxy.sides.filecache import FileCache
from proxy.sides.static import StaticRules, serve_file

MTIME = 1577934245  # Thu, 02 Jan 2020 03:04:05 GMT
LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT"
Headers = Sequence[tuple[str, str]]


def etag_of(size: int, mtime: int = MTIME) -> str:
    return f'"{mtime:x}-{size:x}"'


def put(path: Path, content: bytes, mtime: int = MTIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    messages: list[Message]

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("ascii")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    @property
    def names(self) -> set[str]:
        return {key.decode("ascii").lower() for key, _ in self.headers}


def make_scope(
    method: str = "GET",
    path: str = "/",
    headers: Headers = (),
    *,
    http_version: str = "1.1",
    scheme: str = "http",
    server: tuple[str, int | None] | None = ("127.0.0.1", 8080),
    query: bytes = b"",
) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": http_version,
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": server,
        "client": ("127.0.0.1", 50000),
    }


def quiet_receive() -> Callable[[], Awaitable[Message]]:
    """The request (no body), then nothing until the response is over: a client that stays."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


def collect(messages: list[Message]) -> Answer:
    start = messages[0]
    assert start["type"] == "http.response.start"
    bodies = messages[1:]
    assert bodies, "no body message"
    assert all(m["type"] == "http.response.body" for m in bodies)
    assert not bodies[-1].get("more_body", False), "the body was never ended"
    assert all(m.get("more_body", False) for m in bodies[:-1])
    body = b"".join(m.get("body", b"") for m in bodies)
    return Answer(start["status"], list(start["headers"]), body, messages)


async def fetch(
    file: Path,
    headers: Headers = (),
    *,
    method: str = "GET",
    rules: StaticRules | None = None,
    cache: FileCache | None = None,
    http_version: str = "1.1",
    url_path: str | None = None,
    request_id: str = "",
) -> Answer:
    """Serve `file` to one request, as the gateway would after resolving it."""
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    scope = make_scope(method, url_path or "/" + file.name, headers, http_version=http_version)
    status = await serve_file(
        scope,
        quiet_receive(),
        send,
        str(file),
        os.stat(file),
        rules or StaticRules(),
        cache=cache,
        url_path=url_path,
        request_id=request_id,
    )
    answer = collect(messages)
    assert status == answer.status, "serve_file returned another status than it sent"
    return answer
