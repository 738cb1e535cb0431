"""Large files: streamed in chunks read off the event loop, at the client's pace, with flat
memory; a client that leaves stops the reads; a file cut short cuts the connection."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message

from proxy.errors import UpstreamBroken
from proxy.sides.static import StaticRules, serve_file
from tests.sides_static.harness import collect, fetch, make_scope, put, quiet_receive

CHUNK = 4096
RULES = StaticRules.build(small_file=1024, chunk_size=CHUNK)
CONTENT = bytes(range(256)) * 400  # 102,400 bytes: 25 chunks


@pytest.fixture
def big(tmp_path: Path) -> Path:
    return put(tmp_path / "big.bin", CONTENT)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(size, offset) of every read of a streamed file from now on."""
    seen: list[tuple[int, int]] = []
    real: Callable[[int, int, int], bytes] = os.pread

    def counting(fd: int, size: int, offset: int) -> bytes:
        seen.append((size, offset))
        return real(fd, size, offset)

    monkeypatch.setattr(os, "pread", counting)
    return seen


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_large_file_is_streamed_in_chunks_and_the_descriptor_closed(
    big: Path, reads: list[tuple[int, int]]
) -> None:
    before = open_fds()
    answer = await fetch(big, rules=RULES)
    assert answer.status == 200
    assert answer.body == CONTENT
    assert answer.header("content-length") == str(len(CONTENT))
    chunks = [m["body"] for m in answer.messages[1:] if m["body"]]
    assert len(chunks) == 25
    assert max(len(c) for c in chunks) == CHUNK
    assert len(reads) == 25
    assert open_fds() == before


async def test_head_of_a_large_file_reads_nothing(big: Path, reads: list[tuple[int, int]]) -> None:
    answer = await fetch(big, method="HEAD", rules=RULES)
    assert (answer.status, answer.body) == (200, b"")
    assert answer.header("content-length") == str(len(CONTENT))
    assert reads == []


@pytest.mark.parametrize(
    ("range_value", "expected"),
    [
        pytest.param("bytes=5000-13000", CONTENT[5000:13001], id="across-chunks"),
        pytest.param("bytes=-10", CONTENT[-10:], id="suffix"),
    ],
)
async def test_a_range_of_a_large_file_reads_only_that_range(
    big: Path, reads: list[tuple[int, int]], range_value: str, expected: bytes
) -> None:
    answer = await fetch(big, [("Range", range_value)], rules=RULES)
    assert (answer.status, answer.body) == (206, expected)
    assert sum(size for size, _ in reads) == len(expected)


async def test_several_ranges_of_a_large_file_are_streamed_as_multipart(big: Path) -> None:
    answer = await fetch(big, [("Range", "bytes=0-9,100000-100009")], rules=RULES)
    assert answer.status == 206
    assert answer.header("content-length") == str(len(answer.body))
    assert CONTENT[:10] in answer.body
    assert CONTENT[100000:100010] in answer.body
    assert answer.body.endswith(b"--\r\n")


async def test_reads_wait_for_a_client_that_does_not_take_the_bytes(
    big: Path, reads: list[tuple[int, int]]
) -> None:
    stuck = asyncio.Event()
    release = asyncio.Event()
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)
        if len(messages) == 2:  # the first chunk: the client stops reading here
            stuck.set()
            await release.wait()

    scope = make_scope("GET", "/big.bin")
    task = asyncio.create_task(
        serve_file(scope, quiet_receive(), send, str(big), os.stat(big), RULES)
    )
    await stuck.wait()
    for _ in range(20):  # give any runaway reads every chance to show up
        await asyncio.sleep(0.005)
    assert len(reads) <= 2  # the chunk being sent and the one read ahead
    release.set()
    assert await task == 200
    assert collect(messages).body == CONTENT


@pytest.mark.parametrize(
    "leaving",
    [
        pytest.param("disconnect", id="disconnect-message"),
        pytest.param("receive-fails", id="request-stream-fails"),
    ],
)
async def test_a_client_that_leaves_stops_the_reads(
    big: Path, reads: list[tuple[int, int]], leaving: str
) -> None:
    before = open_fds()
    left = asyncio.Event()
    sent: list[Message] = []
    calls = 0

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await left.wait()
        if leaving == "receive-fails":
            raise OSError("connection reset")
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:  # as uvicorn's: ignored once the client is gone
        sent.append(message)
        if len(sent) == 3:
            left.set()
        await asyncio.sleep(0)

    scope = make_scope("GET", "/big.bin")
    status = await serve_file(scope, receive, send, str(big), os.stat(big), RULES)
    assert status == 200
    assert len(sent) < 6  # of 27 messages for the whole file
    assert len(reads) < 6
    assert open_fds() == before


async def test_a_file_cut_short_while_streaming_breaks_the_connection(big: Path) -> None:
    before = open_fds()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) == 2:
            os.truncate(big, CHUNK * 2)

    scope = make_scope("GET", "/big.bin")
    with pytest.raises(UpstreamBroken):
        await serve_file(scope, quiet_receive(), send, str(big), os.stat(big), RULES)
    assert not any(m["type"] == "http.response.body" and not m["more_body"] for m in sent)
    assert open_fds() == before


async def test_memory_stays_flat_while_a_large_file_is_streamed(tmp_path: Path) -> None:
    chunk = 256 * 1024
    rules = StaticRules.build(chunk_size=chunk)
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as out:
        out.truncate(32 * 1024 * 1024)  # sparse: nothing to write, as much to read
    received = 0

    async def send(message: Message) -> None:
        nonlocal received
        received += len(message.get("body", b""))

    scope: dict[str, Any] = make_scope("GET", "/huge.bin")
    tracemalloc.start()
    try:
        await serve_file(scope, quiet_receive(), send, str(huge), os.stat(huge), rules)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 32 * 1024 * 1024
    assert peak < 4 * chunk  # two chunks in flight, whatever the file's size
