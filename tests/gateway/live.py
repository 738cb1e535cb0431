"""A real gateway process (uvicorn, via `strangler serve`) for the integration tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.rawhttp import threaded_server
from tests.support.services import ROOT, free_port, php_server

PHP_DIR = Path(__file__).resolve().parent / "php"
ECHO = PHP_DIR / "echo.php"


@dataclass
class LiveGateway:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    config: Path

    def rss_kib(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"{field} not found")

    def health(self) -> dict[str, Any]:
        answer = httpx.get(self.url + "/_strangler/health", timeout=5)
        answer.raise_for_status()
        health: dict[str, Any] = answer.json()
        return health

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@contextlib.contextmanager
def live_gateway(
    table: str,
    directory: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
    args: Sequence[str] = (),
    verify: ssl.SSLContext | bool = True,
) -> Iterator[LiveGateway]:
    """`strangler serve` on `table` (written to directory/routing.yaml), healthy when yielded;
    with several workers, `proc` is their supervisor. `args` go to `serve` (e.g. --tls-cert);
    with TLS, `verify` is the context (trusting the test CA) the health check uses."""
    config = directory / "routing.yaml"
    config.write_text(table)
    port = free_port()
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STRANGLER_LOG_FORMAT": "json",
        "STRANGLER_GRACEFUL_TIMEOUT": "10",
        **(env or {}),
    }
    if "STRANGLER_ADMIN_TOKEN" not in (env or {}):
        full_env.pop("STRANGLER_ADMIN_TOKEN", None)  # loopback rules, whatever the shell has
    log = (directory / "gateway.log").open("wb")
    cmd = [
        sys.executable,
        "-c",
        "import sys; from proxy.cli.main import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        "--workers",
        str(workers),
        *args,
    ]
    proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    scheme = "https" if "--tls-cert" in args else "http"
    gateway = LiveGateway(f"{scheme}://127.0.0.1:{port}", port, proc, config)
    try:
        _wait_healthy(gateway, verify=verify)
        yield gateway
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@contextlib.contextmanager
def php_echo(directory: Path, ini_dir: Path | None = None) -> Iterator[str]:
    """`php -S` with echo.php, its output kept in a file."""
    env = {"PHP_INI_SCAN_DIR": str(ini_dir)} if ini_dir is not None else {}
    with php_server(PHP_DIR, ECHO, env, workers=8, log=directory / "php.log") as base_url:
        yield base_url


def _wait_healthy(
    gateway: LiveGateway, timeout: float = 30, verify: ssl.SSLContext | bool = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.proc.poll() is not None:
            log = (gateway.config.parent / "gateway.log").read_text(errors="replace")
            raise RuntimeError(f"gateway exited with {gateway.proc.returncode}:\n{log}")
        with contextlib.suppress(httpx.HTTPError):
            health = httpx.get(gateway.url + "/_strangler/health", timeout=1, verify=verify)
            if health.status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError("the gateway did not become healthy")


def raw_request(port: int, request: bytes, timeout: float = 10) -> tuple[int, bytes, bytes]:
    """Send bytes as they are; (status, head, body) of the answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, head, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


@contextlib.contextmanager
def rude_server() -> Iterator[str]:
    """A thread serving raw misbehaviour by path: /reset (RST), /truncate (body cut short)."""
    import socketserver
    import struct

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            target = head.split(b" ", 2)[1]
            if target.startswith(b"/reset"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif target.startswith(b"/truncate"):
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
                time.sleep(0.1)

    with threaded_server(Handler) as port:
        yield f"http://127.0.0.1:{port}"
