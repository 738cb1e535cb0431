"""An upstream's framing mistakes stay the upstream's: a real gateway process in front of a raw
upstream that writes two responses at once, or a 304/204 with a Content-Length. The client gets
exactly one well-framed answer, and its connection stays usable."""

from __future__ import annotations

import contextlib
import socket
import socketserver
from collections.abc import Iterator

import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway
from tests.support.rawhttp import read_response, threaded_server

pytestmark = pytest.mark.integration

ANSWERS = {
    b"/two": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-First: 1\r\n\r\nfirst"
    b"HTTP/1.1 201 Created\r\nContent-Length: 6\r\nX-Second: 1\r\n\r\nsecond",
    b"/304": b'HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "a"\r\n\r\n',
    b"/204": b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
    b"/head": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
}


@contextlib.contextmanager
def scripted_upstream() -> Iterator[str]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            buffer = b""
            with contextlib.suppress(OSError):
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    target = head.split(b" ", 2)[1]
                    sock.sendall(ANSWERS[target])

    with threaded_server(Handler) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with (
        scripted_upstream() as url,
        live_gateway(table_text(url), tmp_path_factory.mktemp("gw")) as gw,
    ):
        yield gw


def exchange(sock: socket.socket, request: bytes, *, head_only: bool = False) -> bytes:
    """One request on a kept-alive connection: the response's head and body."""
    sock.sendall(request)
    _, head, body = read_response(sock, head_only=head_only)
    return head + b"\r\n\r\n" + body


def get(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: shop.test\r\n\r\n".encode()


def test_two_responses_in_one_write_reach_the_client_as_the_first_alone(
    gateway: LiveGateway,
) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        answer = exchange(sock, get("/two"))
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"x-first: 1" in head.lower() and b"x-second" not in head.lower()
        assert body == b"first"
        # the client's connection is intact: a second request gets its own answer
        assert exchange(sock, get("/two")).endswith(b"\r\n\r\nfirst")


@pytest.mark.parametrize(("path", "status"), [("/304", 304), ("/204", 204)])
def test_a_bodiless_status_with_a_length_keeps_the_client_connection(
    gateway: LiveGateway, path: str, status: int
) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        for _ in range(3):
            head = exchange(sock, get(path)).partition(b"\r\n\r\n")[0]
            assert head.startswith(b"HTTP/1.1 %d " % status)
            assert b"content-length" not in head.lower()


def test_a_head_answer_with_a_length_keeps_the_client_connection(gateway: LiveGateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        for _ in range(3):
            head = exchange(sock, get("/head", "HEAD"), head_only=True)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert b"content-length: 1000" in head.lower()
