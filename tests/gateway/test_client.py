"""proxy.sides.client against raw upstreams that speak HTTP/1.1 exactly as each test scripts it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from proxy.sides import pool as pool_module
from proxy.sides.client import (
    BytesBody,
    Response,
    UpstreamClient,
    request_head,
)
from proxy.sides.pool import UpstreamInvalid, UpstreamReset, UpstreamTimeout
from proxy.table.targets import upstream_of

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Raw"], Awaitable[None]]


@dataclass
class Raw:
    """A scripted upstream: what it accepted and what it read."""

    url: str = ""
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


async def read_request(reader: asyncio.StreamReader, raw: Raw) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    raw.requests.append(head)
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            head += await reader.readexactly(int(line.split(b":")[1]))
    return head


@contextlib.asynccontextmanager
async def raw_upstream(handler: Handler) -> AsyncIterator[Raw]:
    raw = Raw()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw.connections += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer, raw)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield raw
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await server.wait_closed()


async def keep_alive_ok(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw
) -> None:
    while True:
        await read_request(reader, raw)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()


def get(path: str = "/", method: str = "GET", extra: bytes = b"") -> bytes:
    return request_head(method, path, [(b"Host", b"up.test")])[:-2] + extra + b"\r\n"


@contextlib.asynccontextmanager
async def client_of(pool_size: int) -> AsyncIterator[UpstreamClient]:
    client = UpstreamClient(pool_size)
    try:
        yield client
    finally:
        await client.close()


async def body_of(response: Response) -> bytes:
    chunks = []
    try:
        while chunk := await response.read():
            chunks.append(chunk)
    finally:
        response.finish()
    return b"".join(chunks)


async def fetch(client: UpstreamClient, url: str, head: bytes, **options: Any) -> tuple[int, bytes]:
    response = await client.send(upstream_of(url, preserve_host=False), 5.0, head, **options)
    return response.status, await body_of(response)


async def test_one_connection_carries_sequential_requests() -> None:
    async with raw_upstream(keep_alive_ok) as raw, client_of(4) as client:
        for _ in range(5):
            assert await fetch(client, raw.url, get()) == (200, b"ok")
    assert raw.connections == 1
    assert len(raw.requests) == 5


async def test_a_head_response_with_a_length_leaves_the_connection_usable() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        while True:
            head = await read_request(reader, raw)
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget")
            await writer.drain()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get(method="HEAD"), head_only=True) == (200, b"")
        assert await fetch(client, raw.url, get()) == (200, b"get")
    assert raw.connections == 1


async def answer_then_drop(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw
) -> None:
    """Keep-alive promised, but the connection is dropped when the next request arrives."""
    await read_request(reader, raw)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    await reader.read(1)


async def test_a_kept_alive_connection_closed_by_the_upstream_is_replaced_for_a_get() -> None:
    async with raw_upstream(answer_then_drop) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")
        assert await fetch(client, raw.url, get(), retry=True) == (200, b"ok")
    assert raw.connections == 2  # the first, which failed on reuse, and the retry's


async def test_a_request_that_may_not_be_retried_fails_as_a_reset() -> None:
    async with raw_upstream(answer_then_drop) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")
        with pytest.raises(UpstreamReset):
            await fetch(client, raw.url, get(method="POST", extra=b"Content-Length: 0\r\n"))


async def test_informational_responses_are_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-A: 1\r\n\r\ndone")
        await writer.drain()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        response = await client.send(upstream_of(raw.url, preserve_host=False), 5.0, get())
        assert response.status == 201
        assert response.headers == [(b"Content-Length", b"4"), (b"X-A", b"1")]
        assert await body_of(response) == b"done"


async def test_bodies_delimited_by_chunks_or_by_the_end_of_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        head = await read_request(reader, raw)
        while b" /chunked " in head:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
            head = await read_request(reader, raw)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get("/chunked")) == (200, b"abcdefg")
        assert await fetch(client, raw.url, get("/eof")) == (200, b"until the end")


async def test_garbage_is_an_invalid_response() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        await reader.read(1)

    async with raw_upstream(handler) as raw, client_of(4) as client:
        with pytest.raises(UpstreamInvalid):
            await fetch(client, raw.url, get())


async def test_the_pool_limits_open_connections_and_queues_the_rest() -> None:
    open_now = peak = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        try:
            while True:
                await read_request(reader, raw)
                await asyncio.sleep(0.02)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        finally:
            open_now -= 1

    async with raw_upstream(handler) as raw, client_of(2) as client:
        answers = await asyncio.gather(*(fetch(client, raw.url, get()) for _ in range(10)))
    assert answers == [(200, b"ok")] * 10
    assert raw.connections == 2 and peak == 2


async def test_waiting_for_a_free_connection_counts_against_the_budget() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        await asyncio.sleep(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with raw_upstream(handler) as raw, client_of(1) as client:
        upstream = upstream_of(raw.url, preserve_host=False)
        busy = asyncio.create_task(fetch(client, raw.url, get()))
        await asyncio.sleep(0.05)
        with pytest.raises(UpstreamTimeout):
            await client.send(upstream, 0.2, get())
        assert await busy == (200, b"ok")


async def test_a_slow_body_times_out_mid_stream() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(5)

    async with raw_upstream(handler) as raw, client_of(1) as client:
        response = await client.send(upstream_of(raw.url, preserve_host=False), 0.3, get())
        assert await response.read() == b"abc"
        with pytest.raises(UpstreamTimeout):
            await response.read()
        response.finish()


async def test_idle_connections_are_closed_after_the_keepalive_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool_module, "KEEPALIVE", 0.05)
    async with raw_upstream(keep_alive_ok) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")
        await asyncio.sleep(0.1)
        assert await fetch(client, raw.url, get()) == (200, b"ok")
    assert raw.connections == 2


async def test_an_answer_before_the_body_was_read_is_passed_on() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        raw.requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig"
        )
        await writer.drain()

    class Endless:
        async def read(self) -> bytes:
            await asyncio.sleep(0)
            return b"x" * 65536

    async with raw_upstream(handler) as raw, client_of(1) as client:
        head = get(method="POST", extra=b"Content-Length: 1000000000\r\n")
        answer = await asyncio.wait_for(fetch(client, raw.url, head, body=Endless()), 10)
    assert answer == (413, b"big")


async def test_a_body_is_sent_chunked_when_asked() -> None:
    seen = bytearray()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        while not seen.endswith(b"0\r\n\r\n"):
            seen.extend(await reader.read(65536))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with raw_upstream(handler) as raw, client_of(1) as client:
        head = get(method="PUT", extra=b"Transfer-Encoding: chunked\r\n")
        assert await fetch(client, raw.url, head, body=BytesBody(b"hello"), chunked=True) == (
            200,
            b"",
        )
    assert bytes(seen) == b"5\r\nhello\r\n0\r\n\r\n"


async def test_a_second_response_in_the_same_read_is_never_merged_into_the_first() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        while True:
            await read_request(reader, raw)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-First: 1\r\n\r\nfirst"
                b"HTTP/1.1 201 Created\r\nContent-Length: 6\r\nX-Second: 1\r\n\r\nsecond"
            )
            await writer.drain()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        response = await client.send(upstream_of(raw.url, preserve_host=False), 5.0, get())
        assert response.status == 200
        assert response.headers == [(b"Content-Length", b"5"), (b"X-First", b"1")]
        assert await body_of(response) == b"first"
        # the connection that carried unasked bytes is not used again
        assert await fetch(client, raw.url, get()) == (200, b"first")
    assert raw.connections == 2


async def test_unasked_bytes_after_a_response_close_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        while True:
            await read_request(reader, raw)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")
            await writer.drain()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")
        await asyncio.sleep(0.15)
        assert await fetch(client, raw.url, get()) == (200, b"ok")
    assert raw.connections == 2


def answer_of(size: int) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        while True:
            await read_request(reader, raw)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
            await writer.drain()

    return handler


async def test_a_response_read_whole_frees_its_connection_before_the_client_reads_it() -> None:
    async with raw_upstream(answer_of(200_000)) as raw, client_of(1) as client:
        upstream = upstream_of(raw.url, preserve_host=False)
        slow = await client.send(upstream, 5.0, get())
        # the upstream's bytes arrive while nobody reads them (no event to wait on: poll)
        while not slow.complete:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # the pool's only connection is free again: a second exchange does not wait for the first
        second = await asyncio.wait_for(client.send(upstream, 5.0, get()), 2)
        assert len(await body_of(second)) == 200_000
        assert len(await body_of(slow)) == 200_000
    assert raw.connections == 1


async def test_a_response_larger_than_the_read_ahead_holds_its_connection_until_read() -> None:
    async with raw_upstream(answer_of(3_000_000)) as raw:
        client = UpstreamClient(1, read_ahead=64 * 1024)
        try:
            upstream = upstream_of(raw.url, preserve_host=False)
            big = await client.send(upstream, 5.0, get())
            with pytest.raises(UpstreamTimeout):  # waits for the pool's only connection
                await client.send(upstream, 0.3, get())
            assert len(await body_of(big)) == 3_000_000
        finally:
            await client.close()


async def test_idle_connections_close_by_themselves_after_the_keepalive_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool_module, "KEEPALIVE", 0.05)
    monkeypatch.setattr(pool_module, "IDLE_TICK", 0.02)
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw) -> None:
        await read_request(reader, raw)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        assert await reader.read(1) == b""  # the gateway closed it, with no request after
        closed.set()

    async with raw_upstream(handler) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")
        await asyncio.wait_for(closed.wait(), 2)


async def test_an_exchange_leaves_no_cycles_for_the_garbage_collector() -> None:
    """A connection handed to a fresh protocol object when its response completes must not
    leave the old object in a cycle with its parser: at thousands of requests a second that
    garbage made the collector run often enough to cost a fifth of a request's CPU."""
    import gc

    async with raw_upstream(keep_alive_ok) as raw, client_of(4) as client:
        assert await fetch(client, raw.url, get()) == (200, b"ok")  # warm: the pool exists
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for _ in range(50):
                assert await fetch(client, raw.url, get()) == (200, b"ok")
            gc.collect()
            left = [o for o in gc.garbage if isinstance(o, Response)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert left == []
