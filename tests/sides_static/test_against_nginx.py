"""Side by side with real nginx: the same tree under nginx (`gzip_static on; gzip_vary on;`, an
`add_header Cache-Control` location for /build/) and under uvicorn + proxy.sides.static; the
same requests to both; status, headers and bodies must agree.

Deliberate differences, each handled where the comparison would otherwise fail:

- Refusals (405, 412, 416) are the gateway's JSON errors, not nginx's HTML pages, so their
  Content-Type and Content-Length differ; a 405 also carries `Allow` (RFC 9110 requires it,
  nginx omits it).
- The 301's HTML body leaves out nginx's signature line, so its Content-Length differs.
- A multipart/byteranges boundary is random (nginx counts): compared as 20 digits.
- Every Location names the server's own port; it is compared with the port taken out.
"""

from __future__ import annotations

import gzip
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sides_static.harness import LAST_MODIFIED, MTIME, etag_of, put
from tests.support.static_root import CACHE_CONTROL, nginx_root, uvicorn_root

pytestmark = pytest.mark.integration

COMPARED = (
    "content-type",
    "content-length",
    "last-modified",
    "etag",
    "accept-ranges",
    "content-range",
    "content-encoding",
    "vary",
    "location",
    "cache-control",
)
REFUSALS = {405, 412, 416}
TEXT = b"0123456789abcdefghij"
JS = b"console.log('side by side');\n" * 20
BIG = os.urandom(200 * 1024)  # over the 64 KiB cache bound: streamed
GZ = gzip.compress(JS, mtime=0)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def build_tree(root: Path) -> None:
    put(root / "r.txt", TEXT)
    put(root / "a.bin", os.urandom(4096))
    put(root / "big.bin", BIG)
    put(root / "app.js", JS)
    put(root / "app.js.gz", GZ, MTIME + 60)
    put(root / "sp ace é.txt", b"spaces and unicode\n")
    put(root / "README", b"no extension\n")
    put(root / "f.unknownext", b"?\n")
    put(root / "STYLE.CSS", b"body{}\n")
    put(root / "empty.txt", b"")
    put(root / "dir" / "index.html", b"<p>index</p>\n")
    put(root / "sp ace dir" / "x.txt", b"x\n")
    put(root / "build" / "app.js", JS)
    put(root / "build" / "sub" / "x.js", b"1\n")


def ask(port: int, method: str, target: str, headers: dict[str, str], version: str) -> Reply:
    head = f"{method} {target} HTTP/{version}\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode("utf-8") + b"\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return Reply(int(lines[0].split()[1]), fields, body)


TAG = etag_of(len(TEXT))
CASES = [
    ("GET", "/r.txt", {}),
    ("HEAD", "/r.txt", {}),
    ("GET", "/a.bin", {}),
    ("GET", "/big.bin", {}),
    ("HEAD", "/big.bin", {}),
    ("GET", "/big.bin", {"Range": "bytes=70000-140000"}),
    ("GET", "/empty.txt", {}),
    ("GET", "/README", {}),
    ("GET", "/f.unknownext", {}),
    ("GET", "/STYLE.CSS", {}),
    ("GET", "/sp%20ace%20%C3%A9.txt", {}),
    ("GET", "/r.txt", {"If-None-Match": TAG}),
    ("GET", "/r.txt", {"If-None-Match": "W/" + TAG}),
    ("GET", "/r.txt", {"If-None-Match": f'"x", {TAG}'}),
    ("GET", "/r.txt", {"If-None-Match": "*"}),
    ("GET", "/r.txt", {"If-None-Match": '"x"'}),
    ("GET", "/r.txt", {"If-Modified-Since": LAST_MODIFIED}),
    ("GET", "/r.txt", {"If-Modified-Since": "Thu, 02 Jan 2020 03:04:06 GMT"}),
    ("GET", "/r.txt", {"If-Modified-Since": LAST_MODIFIED, "If-None-Match": '"x"'}),
    ("HEAD", "/r.txt", {"If-None-Match": TAG}),
    ("GET", "/r.txt", {"If-Match": '"x"'}),
    ("GET", "/r.txt", {"If-Match": TAG}),
    ("GET", "/r.txt", {"If-Unmodified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"}),
    ("GET", "/r.txt", {"If-Unmodified-Since": "garbage"}),
    ("GET", "/r.txt", {"Range": "bytes=0-1"}),
    ("GET", "/r.txt", {"Range": "bytes=15-"}),
    ("GET", "/r.txt", {"Range": "bytes=-3"}),
    ("GET", "/r.txt", {"Range": "bytes=0-100"}),
    ("GET", "/r.txt", {"Range": "bytes=50-"}),
    ("GET", "/r.txt", {"Range": "bytes=abc"}),
    ("GET", "/r.txt", {"Range": "items=1-2"}),
    ("GET", "/r.txt", {"Range": "bytes=1-2,4-5"}),
    ("GET", "/r.txt", {"Range": "bytes=0-10,5-15"}),
    ("HEAD", "/r.txt", {"Range": "bytes=0-1"}),
    ("GET", "/r.txt", {"Range": "bytes=0-1", "If-Range": TAG}),
    ("GET", "/r.txt", {"Range": "bytes=0-1", "If-Range": '"stale"'}),
    ("GET", "/r.txt", {"Range": "bytes=0-1", "If-Range": LAST_MODIFIED}),
    ("GET", "/r.txt", {"If-None-Match": TAG, "Range": "bytes=0-1"}),
    ("GET", "/app.js", {}),
    ("GET", "/app.js", {"Accept-Encoding": "gzip, deflate"}),
    ("GET", "/app.js", {"Accept-Encoding": "gzip;q=0"}),
    ("GET", "/app.js", {"Accept-Encoding": "deflate, gzip;q=0.5"}),
    ("HEAD", "/app.js", {"Accept-Encoding": "gzip"}),
    ("GET", "/app.js", {"Accept-Encoding": "gzip", "Range": "bytes=0-1"}),
    ("GET", "/app.js", {"Accept-Encoding": "gzip", "If-None-Match": etag_of(len(GZ), MTIME + 60)}),
    ("GET", "/app.js", {"Accept-Encoding": "gzip", "If-Modified-Since": LAST_MODIFIED}),
    ("GET", "/app.js", {"If-Modified-Since": LAST_MODIFIED}),
    ("GET", "/app.js", {"If-None-Match": etag_of(len(GZ), MTIME + 60)}),
    ("GET", "/build/app.js", {}),
    ("GET", "/build/app.js", {"If-Modified-Since": LAST_MODIFIED}),
    ("GET", "/build/app.js", {"Range": "bytes=0-3"}),
    ("GET", "/dir", {}),
    ("HEAD", "/dir", {}),
    ("GET", "/dir?a=1&b=%20", {}),
    ("POST", "/dir", {"Content-Length": "0"}),
    ("GET", "/sp%20ace%20dir", {}),
    ("GET", "/build/sub", {}),
    ("POST", "/r.txt", {"Content-Length": "0"}),
    ("DELETE", "/r.txt", {}),
    ("OPTIONS", "/r.txt", {}),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> object:
    work = tmp_path_factory.mktemp("side-by-side")
    root = work / "root"
    build_tree(root)
    with (
        nginx_root(root, work / "nginx", CACHE_CONTROL) as (nginx, _),
        uvicorn_root(root, CACHE_CONTROL, work / "uvicorn.log") as (ours, _),
    ):
        yield nginx, ours


def without_port(location: str | None) -> str | None:
    return re.sub(r"^(https?://[^/:]+):\d+", r"\1", location) if location else location


def comparable(reply: Reply) -> tuple[int, dict[str, str | None], bytes]:
    headers = {name: reply.headers.get(name) for name in COMPARED}
    headers["location"] = without_port(headers["location"])
    body = reply.body
    kind = headers["content-type"] or ""
    if kind.startswith("multipart/byteranges; boundary="):
        boundary = kind.rsplit("=", 1)[1].encode("ascii")
        assert re.fullmatch(rb"\d{20}", boundary)
        headers["content-type"] = "multipart/byteranges; boundary=<20 digits>"
        body = body.replace(boundary, b"<boundary>")
    if reply.status in REFUSALS or reply.status == 301:
        body = b"<not compared>"
        headers["content-length"] = "<not compared>"
    if reply.status in REFUSALS:
        headers["content-type"] = "<not compared>"
    return reply.status, headers, body


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [pytest.param(*case, id=f"{case[0]} {case[1]} {case[2]}") for case in CASES],
)
def test_answers_agree_with_nginx(
    servers: tuple[int, int], method: str, target: str, headers: dict[str, str]
) -> None:
    nginx, ours = servers
    theirs = ask(nginx, method, target, headers, "1.1")
    mine = ask(ours, method, target, headers, "1.1")
    assert comparable(mine) == comparable(theirs)
    if mine.status in REFUSALS:
        assert mine.headers["content-type"] == "application/json"
    if mine.status == 405:
        assert mine.headers["allow"] == "GET, HEAD"


def test_http_1_0_gets_the_file_itself_from_both(servers: tuple[int, int]) -> None:
    nginx, ours = servers
    asked = {"Accept-Encoding": "gzip"}
    theirs = ask(nginx, "GET", "/app.js", asked, "1.0")
    mine = ask(ours, "GET", "/app.js", asked, "1.0")
    assert comparable(mine) == comparable(theirs)
    assert mine.body == JS


def test_the_etags_of_both_are_the_ones_browsers_cached_from_nginx(
    servers: tuple[int, int],
) -> None:
    nginx, ours = servers
    tags = {ask(port, "GET", "/a.bin", {}, "1.1").headers["etag"] for port in servers}
    assert tags == {etag_of(4096)}
    assert nginx != ours
