"""proxy.sides.fastcgi.connection against a scripted FastCGI application (tests/support/fake_fpm):
framing split anywhere, kept connections, what ends one, retries, STDERR, time budget and
back-pressure."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from proxy.sides.client import Body, BytesBody
from proxy.sides.fastcgi import connection, records
from proxy.sides.fastcgi.connection import FastCGIClient, FastCGIStream, request_records
from proxy.sides.fastcgi.records import MAX_CONTENT, ProtocolStatus, RecordType
from proxy.sides.pool import UpstreamInvalid, UpstreamRefused, UpstreamReset, UpstreamTimeout
from proxy.sides.spool import Spool
from proxy.table.model import Execute, FastCGIAddress
from proxy.table.targets import DocumentRoot, FastCGITarget
from tests.support.fake_fpm import Connection, FakeFpm, fake_fpm, response, serve_requests

GET = [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_FILENAME", b"/srv/index.php")]
OK = b"Content-Type: text/plain\r\n\r\nok"


def target_of(
    address: FastCGIAddress, *, timeout: float = 5.0, pool_size: int = 8
) -> FastCGITarget:
    files = DocumentRoot("/srv", "index.php", Execute.ANY)
    return FastCGITarget(address, files, (), timeout, pool_size)


@contextlib.asynccontextmanager
async def client() -> AsyncIterator[FastCGIClient]:
    opened = FastCGIClient()
    try:
        yield opened
    finally:
        await opened.close()


async def body_of(stream: FastCGIStream) -> bytes:
    chunks = []
    try:
        while chunk := await stream.read():
            chunks.append(chunk)
    finally:
        stream.finish()
    return b"".join(chunks)


async def fetch(
    fastcgi: FastCGIClient,
    fpm: FakeFpm,
    params: list[tuple[bytes, bytes]] = GET,
    *,
    body: Body | None = None,
    retry: bool = True,
    budget: float = 5.0,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    target = target_of(fpm.address, timeout=budget)
    head = request_records(params, body is not None)
    stream = await fastcgi.send(target, head, body, retry=retry)
    return stream.status, stream.headers, await body_of(stream)


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    return tmp_path / "fpm.sock"


async def test_a_kept_connection_carries_the_next_requests(socket_path: Path) -> None:
    async with fake_fpm(socket=socket_path) as fpm, client() as fastcgi:
        for _ in range(3):
            assert (await fetch(fastcgi, fpm))[2] == b"ok"
    assert fpm.connections == 1
    assert [r.keep_conn for r in fpm.requests] == [True, True, True]
    assert fpm.requests[0].params[b"REQUEST_METHOD"] == b"GET"


async def test_tcp_addresses_are_reached_too() -> None:
    async with fake_fpm() as fpm, client() as fastcgi:
        assert (await fetch(fastcgi, fpm))[:1] == (200,)
    assert fpm.address.port > 0


@pytest.mark.parametrize("piece", [1, 3, 8, 9, 4096], ids=lambda n: f"{n}-byte-writes")
async def test_an_answer_split_anywhere_arrives_whole(socket_path: Path, piece: int) -> None:
    stdout = b"Status: 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n" + b"x" * 70000

    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        while await conn.request() is not None:
            await conn.send(response(stdout, b"warning\n"), piece=piece)

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        for _ in range(2):  # and the connection stays usable
            status, headers, body = await fetch(fastcgi, fpm)
            assert (status, headers, body) == (
                201,
                [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")],
                b"x" * 70000,
            )
    assert fpm.connections == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        pytest.param(response(OK, status=ProtocolStatus.OVERLOADED), "OVERLOADED", id="overloaded"),
        pytest.param(response(OK, status=ProtocolStatus.CANT_MPX_CONN), "CANT_MPX_CONN",
                     id="cant-mpx-conn"),
        pytest.param(response(OK, status=ProtocolStatus.UNKNOWN_ROLE), "UNKNOWN_ROLE",
                     id="unknown-role"),
        pytest.param(response(b"Content-Type: text/plain\r\n"), "before a complete head",
                     id="no-blank-line"),
        pytest.param(response(b""), "before a complete head", id="no-stdout"),
        pytest.param(response(b"Bad Header\r\n\r\n"), "malformed header", id="malformed-head"),
        pytest.param(response(b"Status: 101\r\n\r\n"), "status 101", id="interim-status"),
        pytest.param(b"\x02\x06\x00\x01\x00\x00\x00\x00", "version 2", id="bad-version"),
        pytest.param(b"\x01\x06\x00\x07\x00\x00\x00\x00", "request 7", id="other-request-id"),
    ],
)  # fmt: skip
async def test_what_cannot_be_a_response_is_invalid(
    socket_path: Path, answer: bytes, reason: str
) -> None:
    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.send(answer)
        await asyncio.Event().wait()

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        with pytest.raises(UpstreamInvalid, match=reason):
            await fetch(fastcgi, fpm)


async def test_an_invalid_record_after_the_head_breaks_the_body(socket_path: Path) -> None:
    headed = asyncio.Event()

    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.send(records.stream(RecordType.STDOUT, 1, OK))
        await headed.wait()
        await conn.send(b"\x01\x09\x00\x01\x00\x00\x00\x00")  # no such record type

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        stream = await fastcgi.send(target_of(fpm.address), request_records(GET, False))
        assert stream.status == 200
        headed.set()
        with pytest.raises(UpstreamInvalid):
            await body_of(stream)


LATE = b"\x01\x06\x00\x01\x00\x04\x04\x00late\x00\x00\x00\x00"


async def test_bytes_after_end_request_in_its_read_make_the_answer_invalid(
    socket_path: Path,
) -> None:
    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.send(response(OK) + LATE)
        await asyncio.Event().wait()

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        with pytest.raises(UpstreamInvalid, match="after END_REQUEST"):
            await fetch(fastcgi, fpm)


async def test_bytes_on_an_idle_connection_end_it(socket_path: Path) -> None:
    answered = asyncio.Event()
    closed = asyncio.Event()

    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        if fpm.connections > 1:
            await serve_requests(conn, fpm, b"new")
            return
        await conn.request()
        await conn.answer(OK)
        await answered.wait()
        await conn.send(LATE)
        await conn.reader.read()  # until the gateway closes it
        closed.set()

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        assert (await fetch(fastcgi, fpm))[2] == b"ok"
        answered.set()
        await closed.wait()
        assert (await fetch(fastcgi, fpm))[2] == b"new"


async def test_stderr_lines_go_to_the_log_with_the_request_id(socket_path: Path) -> None:
    async def handler(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.send(response(OK, b"PHP message: first\nPHP message: sec"), piece=5)
        await conn.send(b"")

    async with fake_fpm(handler, socket=socket_path) as fpm, client() as fastcgi:
        with capture_logs() as logs:
            head = request_records(GET, False)
            stream = await fastcgi.send(target_of(fpm.address), head, request_id="req-42")
            assert await body_of(stream) == b"ok"
    lines = [(e["request_id"], e["message"]) for e in logs if e["event"] == "php_stderr"]
    assert lines == [("req-42", "PHP message: first"), ("req-42", "PHP message: sec")]


async def test_the_body_goes_to_stdin_in_records_and_its_end(socket_path: Path) -> None:
    body = bytes(range(256)) * 1000
    spool = Spool()
    spool._add(body, 1024, None)
    spool.rewind()
    async with fake_fpm(socket=socket_path) as fpm, client() as fastcgi:
        try:
            assert (await fetch(fastcgi, fpm, body=spool))[2] == b"ok"
        finally:
            spool.close()
    request = fpm.requests[0]
    assert request.stdin == body
    assert all(0 < size <= MAX_CONTENT for size in request.stdin_records)


async def dies_on_the_second_request(conn: Connection, fpm: FakeFpm) -> None:
    """Answers one request and keeps the connection, then dies when the next one arrives (a
    worker ended by pm.max_requests, PHP-FPM restarted); later connections are served."""
    if fpm.connections == 1:
        request = await conn.request()
        assert request is not None
        fpm.requests.append(request)
        await conn.answer(OK)
        await conn.request()
        return
    await serve_requests(conn, fpm, b"fresh")


@pytest.mark.parametrize(
    ("body", "retry"),
    [
        pytest.param(None, True, id="retried"),
        pytest.param(BytesBody(b"q=1"), True, id="retried-with-its-body-replayed"),
        pytest.param(BytesBody(b"a=1"), False, id="not-retried"),
    ],
)
async def test_a_dead_kept_connection_is_retried_on_a_fresh_one_when_asked(
    socket_path: Path, body: BytesBody | None, retry: bool
) -> None:
    async with fake_fpm(dies_on_the_second_request, socket=socket_path) as fpm, client() as fastcgi:
        assert (await fetch(fastcgi, fpm))[2] == b"ok"
        if not retry:
            with pytest.raises(UpstreamReset):
                await fetch(fastcgi, fpm, body=body, retry=False)
            return
        assert (await fetch(fastcgi, fpm, body=body))[2] == b"fresh"
    assert fpm.connections == 2
    if body is not None:
        assert fpm.requests[-1].stdin == b"q=1"  # replayed whole on the fresh connection


async def test_a_connection_is_not_kept_while_a_new_one_waits_for_a_worker(
    socket_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker, as PHP-FPM with pm.max_children = 1: it serves a kept connection and
    nothing else until that connection closes. Requests on new connections wait in the listen
    queue; the kept connection must close when its answer is done, or they wait until the idle
    one is closed (never, here) or their time budget ends. Requests sent while another new
    connection waits ask PHP-FPM to close theirs after the answer."""
    monkeypatch.setattr(connection, "KEEPALIVE", 3600.0)
    async with fake_fpm(workers=1, socket=socket_path) as fpm, client() as fastcgi:
        assert (await fetch(fastcgi, fpm, budget=30))[2] == b"ok"  # a kept connection
        for _ in range(2):
            burst = [fetch(fastcgi, fpm, budget=30) for _ in range(3)]
            assert [answer[2] for answer in await asyncio.gather(*burst)] == [b"ok"] * 3
        assert fastcgi.pool(target_of(fpm.address, timeout=30)).queued == 0
    assert fpm.requests[0].keep_conn
    assert not all(request.keep_conn for request in fpm.requests)


async def test_past_the_budget_is_a_timeout_and_the_connection_is_dropped(
    socket_path: Path,
) -> None:
    async def silent(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await asyncio.Event().wait()

    async with fake_fpm(silent, socket=socket_path) as fpm, client() as fastcgi:
        with pytest.raises(UpstreamTimeout):
            await fetch(fastcgi, fpm, budget=0.2)
        assert fastcgi.pool(target_of(fpm.address, timeout=0.2)).open == 0


async def test_a_missing_socket_is_refused(tmp_path: Path) -> None:
    async with client() as fastcgi:
        target = target_of(FastCGIAddress(path=str(tmp_path / "none.sock")))
        with pytest.raises(UpstreamRefused):
            await fastcgi.send(target, request_records(GET, False))


async def test_reading_pauses_above_read_ahead_while_the_client_does_not_read(
    socket_path: Path,
) -> None:
    sent = 0
    stuck = asyncio.Event()

    async def flood(conn: Connection, fpm: FakeFpm) -> None:
        nonlocal sent
        await conn.request()
        await conn.send(records.stream(RecordType.STDOUT, 1, b"Content-Type: text/plain\r\n\r\n"))
        record = response(b"y" * 65528)[: 8 + 65528]
        while sent < 256 * 1024 * 1024:
            conn.writer.write(record)
            try:
                await asyncio.wait_for(conn.writer.drain(), 0.5)
            except TimeoutError:
                stuck.set()  # the gateway stopped reading
                await asyncio.Event().wait()
            sent += len(record)

    async with fake_fpm(flood, socket=socket_path) as fpm, client() as fastcgi:
        fastcgi.read_ahead = 1024 * 1024
        stream = await fastcgi.send(target_of(fpm.address, timeout=60), request_records(GET, False))
        await stuck.wait()
        assert stream._buffered <= 1024 * 1024 + 65528
        assert sent < 32 * 1024 * 1024  # the rest waits in PHP, not in the gateway
        stream.abort()
        stream.finish()


def test_keepalive_ends_before_php_fpms_idle_limit() -> None:
    assert connection.KEEPALIVE < 10  # pm.process_idle_timeout's default
    assert connection.MAX_IDLE < 5  # pm.max_children of PHP-FPM's default pool
