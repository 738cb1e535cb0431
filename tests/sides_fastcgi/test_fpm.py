"""The record codec and the response head against a real PHP-FPM: large bodies both ways,
STDERR, PHP's own 500, statuses, redirects, cookies, END_REQUEST and kept connections."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.records import EndRequest, ProtocolStatus, Stdout
from tests.support.fastcgi_client import FastCGIAnswer, FastCGIConnection, fastcgi_request
from tests.support.fpm import Fpm, php_fpm

pytestmark = pytest.mark.integration

PHP = Path(__file__).resolve().parent / "php"
SERVER = str(PHP / "server.php").encode()
CASES = str(PHP / "cases.php").encode()
COMPLETE = EndRequest(0, ProtocolStatus.REQUEST_COMPLETE)


@pytest.fixture(scope="module")
def fpm() -> Iterator[Fpm]:
    with php_fpm(children=2) as running:
        yield running


def cgi(
    script: bytes, method: bytes = b"GET", query: bytes = b"", **more: bytes
) -> list[tuple[bytes, bytes]]:
    pairs = [
        (b"SCRIPT_FILENAME", script),
        (b"REQUEST_METHOD", method),
        (b"QUERY_STRING", query),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"GATEWAY_INTERFACE", b"CGI/1.1"),
    ]
    return pairs + [(name.encode(), value) for name, value in more.items()]


def echoed(answer: FastCGIAnswer) -> dict[str, Any]:
    assert answer.end == COMPLETE
    head = answer.head
    assert head.status == 200, answer.stdout[:500]
    result: dict[str, Any] = json.loads(head.body)
    return result


def case(fpm: Fpm, name: str, extra: bytes = b"") -> FastCGIAnswer:
    return fastcgi_request(fpm.socket, cgi(CASES, query=b"case=" + name.encode() + extra))


def test_a_10_mib_body_reaches_php_whole(fpm: Fpm) -> None:
    body = os.urandom(10 * 1024 * 1024)
    pairs = cgi(
        SERVER,
        b"POST",
        CONTENT_LENGTH=str(len(body)).encode(),
        CONTENT_TYPE=b"application/octet-stream",
    )
    result = echoed(fastcgi_request(fpm.socket, pairs, body))
    assert result["body_length"] == len(body)
    assert result["body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("read_size", [1000, 262144], ids=["1000-byte-reads", "256-kib-reads"])
def test_a_multi_mib_response_arrives_whole_in_many_records(fpm: Fpm, read_size: int) -> None:
    with FastCGIConnection(fpm.socket, read_size=read_size) as conn:
        answer = conn.request(cgi(CASES, query=b"case=large&mb=6"))
    assert answer.end == COMPLETE
    head = answer.head
    assert head.status == 200
    assert (b"Content-Type", b"application/octet-stream") in head.headers
    assert head.body == b"0123456789abcdef" * 4 * 1024 * 16 * 6
    assert sum(isinstance(event, Stdout) for event in answer.events) > 6 * 16


def test_error_log_arrives_as_stderr_beside_the_response(fpm: Fpm) -> None:
    answer = case(fpm, "stderr", b"&tag=codec-test")
    assert answer.end == COMPLETE
    assert answer.stderr == b"PHP message: stderr line from codec-test"
    assert answer.head.body == b"logged"


def test_a_fatal_error_is_phps_own_500_with_the_error_on_stderr(fpm: Fpm) -> None:
    answer = case(fpm, "fatal")
    assert answer.end == COMPLETE
    assert answer.head.status == 500
    assert answer.head.reason == b"Internal Server Error"
    assert b"PHP Fatal error:  Uncaught Error: Call to undefined function" in answer.stderr


@pytest.mark.parametrize(
    ("name", "status", "reason", "body"),
    [
        pytest.param("status", 404, b"Not Found", b"not here", id="status-header"),
        pytest.param("response-code", 418, b"", b"teapot", id="http-response-code-no-reason"),
    ],
)
def test_the_status_php_sets_is_the_heads_status(
    fpm: Fpm, name: str, status: int, reason: bytes, body: bytes
) -> None:
    head = case(fpm, name).head
    assert (head.status, head.reason, head.body) == (status, reason, body)
    assert all(key.lower() != b"status" for key, _ in head.headers)


def test_a_location_without_status_is_a_302(fpm: Fpm) -> None:
    answer = case(fpm, "location")
    assert not answer.stdout.lower().startswith(b"status:"), "PHP sent no Status line"
    assert answer.head.status == 302
    assert answer.headers(b"location") == [b"/elsewhere"]


def test_several_set_cookie_headers_arrive_in_order(fpm: Fpm) -> None:
    assert case(fpm, "cookies").headers(b"set-cookie") == [
        b"first=1",
        b"second=2; path=/app; HttpOnly",
        b"third=3",
    ]


def test_keep_conn_runs_several_requests_on_one_connection_and_one_worker(fpm: Fpm) -> None:
    results = []
    with FastCGIConnection(fpm.socket) as conn:
        for n in range(5):
            body = b"x" * (n * 1000)
            pairs = cgi(SERVER, b"POST", b"n=%d" % n, CONTENT_LENGTH=str(len(body)).encode())
            answer = conn.request(pairs, body)
            assert answer.end.protocol_status is ProtocolStatus.REQUEST_COMPLETE
            results.append(echoed(answer))
    assert [r["server"]["QUERY_STRING"] for r in results] == [f"n={n}" for n in range(5)]
    assert [r["body_length"] for r in results] == [n * 1000 for n in range(5)]
    assert len({r["pid"] for r in results}) == 1, "a kept connection stays with its worker"


def test_without_keep_conn_php_fpm_closes_the_connection_after_end_request(fpm: Fpm) -> None:
    with FastCGIConnection(fpm.socket, timeout=5) as conn:
        assert echoed(conn.request(cgi(SERVER), keep_conn=False))
        assert conn.sock.recv(1) == b""


def test_params_spread_over_several_records_all_reach_php(fpm: Fpm) -> None:
    headers = [(b"HTTP_X_FILL_%d" % i, b"%d:" % i + b"v" * 1500) for i in range(100)]
    encoded = records.params(1, cgi(SERVER) + headers)
    assert encoded.count(b"\x01\x04\x00\x01") > 2, "more than one PARAMS record"
    server = echoed(fastcgi_request(fpm.socket, cgi(SERVER) + headers))["server"]
    assert all(server[name.decode()] == value.decode() for name, value in headers)


def test_an_abort_during_the_body_ends_the_request_and_the_connection(fpm: Fpm) -> None:
    with FastCGIConnection(fpm.socket, timeout=5) as conn:
        pairs = cgi(SERVER, b"POST", CONTENT_LENGTH=b"100")
        conn.sock.sendall(
            records.begin_request(1)
            + records.params(1, pairs)
            + records.stdin(1, b"x" * 10)
            + records.abort_request(1)
        )
        answer = conn.read_answer(1)
        assert answer.end == COMPLETE
        assert json.loads(answer.head.body)["body_length"] < 100
        assert conn.sock.recv(1) == b"", "PHP-FPM does not keep an aborted connection"


def test_a_missing_script_is_php_fpms_404_with_its_reason_on_stderr(fpm: Fpm) -> None:
    answer = fastcgi_request(fpm.socket, cgi(str(PHP / "missing.php").encode()))
    assert answer.end == COMPLETE
    assert answer.head.status == 404
    assert b"Primary script unknown" in answer.stderr


def test_the_decoder_refuses_a_reply_for_another_request_id(fpm: Fpm) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(fpm.socket))
        sock.sendall(
            records.begin_request(7, keep_conn=False)
            + records.params(7, cgi(SERVER))
            + records.end_stdin(7)
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    with pytest.raises(records.ProtocolError, match="request 7"):
        records.ResponseDecoder(8).feed(data)
    assert records.ResponseDecoder(7).feed(data)[-1] == COMPLETE


def test_the_harness_kills_php_fpm_and_restarts_it_on_the_same_socket() -> None:
    with php_fpm(children=1) as fpm:
        with FastCGIConnection(fpm.socket) as kept:
            assert echoed(kept.request(cgi(SERVER)))
            fpm.kill()
            with pytest.raises(ConnectionError):
                kept.request(cgi(SERVER))
        with pytest.raises(ConnectionRefusedError):
            fastcgi_request(fpm.socket, cgi(SERVER))
        fpm.restart()
        assert echoed(fastcgi_request(fpm.socket, cgi(SERVER)))["server"]["SCRIPT_FILENAME"] == (
            SERVER.decode()
        )
