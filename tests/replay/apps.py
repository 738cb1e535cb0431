"""Two small sides for replay tests that run the command itself (in this process or as a child
process): a legacy HTTP server on a thread, and a native ASGI app answering the same, except
where REPLAY_PLANT (ids, comma-separated) plants a difference in a user's name.

    GET /api/users/{n}   {"data": {"id": n, "name": "user n", "seen": <calls so far>}}
                         (`seen` differs between any two answers: noise)
    POST /api/users      201 {"data": {"id": 99}}; native: 422 when the body says "bad"
    anything else        404 {"error": "not found"}

Every request's headers are kept (`LegacyServer.headers`, `NATIVE_HEADERS`) so tests can see
what each side was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NATIVE_HEADERS: list[dict[str, str]] = []
_seen = [0]


def document(path: str, native: bool) -> tuple[int, Any]:
    parts = path.split("?")[0].strip("/").split("/")
    if parts[:2] != ["api", "users"] or len(parts) != 3 or not parts[2].isdigit():
        return 404, {"error": "not found"}
    n = int(parts[2])
    _seen[0] += 1
    planted = {int(x) for x in os.environ.get("REPLAY_PLANT", "").split(",") if x}
    name = f"user {n}"
    if native and n in planted:
        name = name.upper()
    return 200, {"data": {"id": n, "name": name, "seen": _seen[0]}}


def created(body: bytes, native: bool) -> tuple[int, Any]:
    if native and b"bad" in body:
        return 422, {"error": "invalid"}
    return 201, {"data": {"id": 99}}


class _Handler(BaseHTTPRequestHandler):
    server: LegacyServer

    def do_GET(self) -> None:
        self.server.headers.append({k.lower(): v for k, v in self.headers.items()})
        status, doc = document(self.path, native=False)
        self._answer(status, doc)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        self.server.headers.append({k.lower(): v for k, v in self.headers.items()})
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.writes += 1
        self._answer(*created(body, native=False))

    def _answer(self, status: int, doc: Any) -> None:
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LegacyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.headers: list[dict[str, str]] = []
        self.writes = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def legacy_server() -> Iterator[LegacyServer]:
    server = LegacyServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def native(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    NATIVE_HEADERS.append({k.decode(): v.decode() for k, v in scope["headers"]})
    path = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    if scope["method"] == "POST":
        status, doc = created(body, native=True)
    else:
        status, doc = document(path, native=True)
    payload = json.dumps(doc).encode() if scope["method"] != "HEAD" else b""
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def table(legacy_url: str, store: str, extra: str = "") -> str:
    return f"""\
version: 1
legacy:
  url: {legacy_url}
  timeout: 5s
native:
  app: tests.replay.apps:native
  timeout: 5s
shadow:
  store: {store}
  noise_sample: 0.5
  timeout: 5s
routes:
  - id: users.show
    match: GET /api/users/{{id:int}}
    mode: shadow
  - id: users.create
    match: POST /api/users
    mode: native
  - id: pages
    match: GET /pages/{{rest:path}}
    mode: legacy
{extra}"""


def write_site(directory: Path, legacy_url: str, lines: list[str]) -> Path:
    """`directory` with a table for the two sides (its store beside it) and an access log of
    `lines`."""
    (directory / "routing.yaml").write_text(table(legacy_url, f"sqlite:///{directory}/p.db"))
    (directory / "access.log").write_text("\n".join(lines) + "\n")
    return directory


def nginx_line(path: str, method: str = "GET", status: int = 200, hour: int = 10) -> str:
    return (
        f'127.0.0.1 - - [11/Jun/2025:{hour:02d}:00:00 +0000] "{method} {path} HTTP/1.1" '
        f'{status} 120 "-" "curl/8"'
    )
