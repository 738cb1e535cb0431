"""Raw HTTP/1.1 on loopback for tests: a threaded server for a scripted upstream, and a reader
of one response off a socket (framed by its Content-Length; no body for HEAD, 204 and 304)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def threaded_server(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    """`handler` serving each connection on a thread of its own; yields the port."""

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield int(server.server_address[1])
        finally:
            server.shutdown()
            thread.join()


def read_response(sock: socket.socket, *, head_only: bool = False) -> tuple[int, bytes, bytes]:
    """(status, head, body) of the next response on `sock`; fails if it closes first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    assert len(lengths) <= 1, f"several Content-Lengths: {head!r}"
    expected = 0 if head_only or status in (204, 304) else (lengths[0] if lengths else 0)
    while len(body) < expected:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed in the middle of a body"
        body += chunk
    return status, head, body[:expected]
