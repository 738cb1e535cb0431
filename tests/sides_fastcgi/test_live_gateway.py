"""The gateway in front of a real PHP-FPM, with no nginx anywhere: client → `strangler serve` →
FastCGI → PHP, and the application's public files answered by the gateway itself.

What a request runs (scripts, PATH_INFO, directory index, front controller, files, refusals),
what PHP's answers become (Status, Location, cookies, PHP's own 500, STDERR in the gateway's
log), bodies both ways (multipart, chunked, 1 GiB each way in flat memory), and failures
(PHP-FPM killed, a script past the timeout, PHP-FPM restarted under load)."""

from __future__ import annotations

import concurrent.futures
import gzip
import hashlib
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.live import LiveGateway, live_gateway, raw_request
from tests.support.fpm import Fpm, php_fpm

pytestmark = pytest.mark.integration

PHP = Path(__file__).resolve().parent / "php"
PHP_SETTINGS = {
    "php_admin_value[post_max_size]": "0",
    "php_admin_value[upload_max_filesize]": "64M",
}
SECRET = "SECRET_KEY=do-not-serve-me"
PWNED = "<?php echo 'pwned'; ?>"
CSS = "body { color: #333 }\n" * 200


def gateway_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "gw"
    directory.mkdir()
    return directory


def make_site(docroot: Path) -> Path:
    """A document root as applications have them: a front controller, other scripts, a
    directory with its index, public files (one precompressed), and what must never be served
    or run."""
    (docroot / "sub").mkdir(parents=True)
    (docroot / "build").mkdir()
    (docroot / "uploads").mkdir()
    (docroot / ".well-known").mkdir()
    (docroot / ".git").mkdir()
    for name in ("index.php", "server.php", "doku.php", "sub/index.php"):
        shutil.copy(PHP / "server.php", docroot / name)
    shutil.copy(PHP / "cases.php", docroot / "cases.php")
    (docroot / "hello.txt").write_text("hello, static world\n")
    (docroot / "build" / "app.css").write_text(CSS)
    (docroot / "build" / "app.css.gz").write_bytes(gzip.compress(CSS.encode(), mtime=0))
    (docroot / ".well-known" / "security.txt").write_text("Contact: mailto:sec@example.test\n")
    (docroot / ".env").write_text(SECRET + "\n")
    (docroot / ".git" / "config").write_text(SECRET + "\n")
    (docroot / ".htaccess").write_text(SECRET + "\n")
    (docroot / "sub" / ".hidden.php").write_text(f"<?php echo '{SECRET}';")
    (docroot / "uploads" / "avatar.jpg").write_text(PWNED)
    (docroot / "info.phtml").write_text(f"<?php echo '{SECRET}';")
    (docroot / "Upper.PHP").write_text(f"<?php echo '{SECRET}';")
    outside = docroot.parent / "shared-storage"
    outside.mkdir()
    (outside / "report.txt").write_text("linked file\n")
    (docroot / "storage").symlink_to(outside)  # php artisan storage:link
    return docroot


TABLE = """\
version: 1
legacy:
  fastcgi: unix:{socket}
  root: {root}
  params: {{APP_ENV: gateway-test}}
  timeout: {timeout}
static:
  cache: {{"/build/": "public, max-age=31536000, immutable"}}
limits:
  buffer_request: {buffer}
"""


def table(fpm: Fpm, root: Path, timeout: str = "120s", buffer: str = "1MiB") -> str:
    return TABLE.format(socket=fpm.socket, root=root, timeout=timeout, buffer=buffer)


@dataclass
class Site:
    root: Path
    fpm: Fpm
    gateway: LiveGateway

    def log(self) -> list[dict[str, Any]]:
        text = (self.gateway.config.parent / "gateway.log").read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("php-site")
    root = make_site(base / "public")
    with (
        php_fpm(children=4, settings=PHP_SETTINGS) as fpm,
        live_gateway(table(fpm, root), tmp_path_factory.mktemp("gw")) as gateway,
    ):
        yield Site(root, fpm, gateway)


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.gateway.url, timeout=120, follow_redirects=False) as c:
        yield c


def server_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text[:300]
    server: dict[str, str] = response.json()["server"]
    return server


# ---------------------------------------------------------------- what a request runs

RUNS = [
    ("/server.php", "/server.php", ""),
    ("/doku.php/wiki:start", "/doku.php", "/wiki:start"),
    ("/sub/", "/sub/index.php", ""),
    ("/", "/index.php", ""),
    ("/no/such/page?x=1", "/index.php", ""),  # the front controller
    ("/index.php/a/b", "/index.php", "/a/b"),
]


@pytest.mark.parametrize(("target", "script", "path_info"), RUNS, ids=[r[0] for r in RUNS])
def test_what_a_request_runs(
    client: httpx.Client, site: Site, target: str, script: str, path_info: str
) -> None:
    server = server_of(client.get(target))
    assert server["SCRIPT_NAME"] == script
    assert server["SCRIPT_FILENAME"] == str(site.root) + script
    assert server.get("PATH_INFO", "") == path_info
    assert server["REQUEST_URI"] == target
    assert server["DOCUMENT_ROOT"] == str(site.root)
    assert server["APP_ENV"] == "gateway-test"  # legacy.params


def test_a_directory_without_its_slash_is_nginxs_301(site: Site) -> None:
    status, head, _ = raw_request(
        site.gateway.port, b"GET /sub?a=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"
    )
    assert status == 301
    assert f"location: http://app.test:{site.gateway.port}/sub/?a=1".encode() in head.lower()


def test_a_public_file_is_answered_as_nginx_answers_it(client: httpx.Client, site: Site) -> None:
    response = client.get("/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello, static world\n"
    stat = (site.root / "hello.txt").stat()
    assert response.headers["etag"] == f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'
    assert response.headers["content-type"] == "text/plain"
    assert (
        client.get("/hello.txt", headers={"If-None-Match": response.headers["etag"]}).status_code
        == 304
    )
    assert client.get("/hello.txt", headers={"Range": "bytes=0-4"}).text == "hello"


def test_cache_control_and_precompressed_siblings_from_the_table(client: httpx.Client) -> None:
    plain = client.get("/build/app.css", headers={"Accept-Encoding": "identity"})
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["vary"] == "Accept-Encoding"
    packed = client.get("/build/app.css", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(CSS)
    assert packed.text == CSS


def test_a_symlink_inside_the_root_is_followed(client: httpx.Client) -> None:
    assert client.get("/storage/report.txt").text == "linked file\n"


def test_a_post_to_a_public_file_is_405(client: httpx.Client) -> None:
    response = client.post("/hello.txt", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# ---------------------------------------------------------------- the "never"s, as attacks

NEVER_SERVED = [
    ("/.env", 403),
    ("/.git/config", 403),
    ("/.htaccess", 403),
    ("/sub/.hidden.php", 403),
    ("/%2eenv", 403),  # decoded before it is judged
    ("/.well-known/../.env", 403),  # normalised before it is judged
    ("/build/..%2f.env", 400),  # an encoded "/" is refused outright
    ("/index.php%00.txt", 400),
]


@pytest.mark.parametrize(("target", "status"), NEVER_SERVED, ids=[n[0] for n in NEVER_SERVED])
def test_hidden_paths_are_never_served_nor_run(site: Site, target: str, status: int) -> None:
    request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    got, _, body = raw_request(site.gateway.port, request)
    assert got == status
    assert SECRET.encode() not in body


def test_the_well_known_directory_is_served(client: httpx.Client) -> None:
    assert client.get("/.well-known/security.txt").text.startswith("Contact:")


@pytest.mark.parametrize(
    "target",
    ["/uploads/avatar.jpg/x.php", "/uploads/avatar.jpg/index.php", "/uploads/avatar.jpg%20.php"],
)
def test_a_file_that_is_not_php_is_never_run(client: httpx.Client, target: str) -> None:
    response = client.get(target)
    assert "pwned" not in response.text
    assert server_of(response)["SCRIPT_FILENAME"].endswith("/index.php")


def test_an_uploaded_file_is_served_as_bytes_not_run(client: httpx.Client) -> None:
    assert client.get("/uploads/avatar.jpg").text == PWNED


@pytest.mark.parametrize("target", ["/info.phtml", "/Upper.PHP"])
def test_php_source_is_never_served(client: httpx.Client, target: str) -> None:
    response = client.get(target)
    assert SECRET not in response.text
    assert server_of(response)["SCRIPT_NAME"] == "/index.php"  # absent: the front controller


def test_a_scripts_source_is_never_served_by_any_spelling(client: httpx.Client) -> None:
    for target in ("/cases.php", "/./cases.php", "//cases.php", "/sub/../cases.php"):
        assert "<?php" not in client.get(target, params={"case": "status"}).text


# ---------------------------------------------------------------- PHP's answers


def status_line(site: Site, target: str) -> bytes:
    request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    return raw_request(site.gateway.port, request)[1].split(b"\r\n")[0]


def test_the_status_header_is_the_status_line(site: Site) -> None:
    assert status_line(site, "/cases.php?case=status") == b"HTTP/1.1 404 Not Found"
    # PHP sends "Status: 418" with no reason: the status line gets the standard one
    assert status_line(site, "/cases.php?case=response-code") == b"HTTP/1.1 418 I'm a Teapot"


def test_a_location_without_status_is_a_302(client: httpx.Client) -> None:
    response = client.get("/cases.php", params={"case": "location"})
    assert (response.status_code, response.headers["location"]) == (302, "/elsewhere")


def test_phps_redirects_pass_as_php_wrote_them(client: httpx.Client) -> None:
    response = client.get("/cases.php", params={"case": "moved"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.test/new?from=php"


def test_every_cookie_arrives_in_order(client: httpx.Client) -> None:
    response = client.get("/cases.php", params={"case": "cookies"})
    cookies = response.headers.get_list("set-cookie")
    assert cookies == ["first=1", "second=2; path=/app; HttpOnly", "third=3"]


def test_a_fatal_error_is_phps_own_500_and_its_message_is_logged(
    client: httpx.Client, site: Site
) -> None:
    response = client.get(
        "/cases.php", params={"case": "fatal"}, headers={"X-Request-ID": "fatal-1"}
    )
    assert response.status_code == 500
    assert "error" not in response.headers.get("content-type", "")  # PHP's, not the gateway's
    stderr = [
        e["message"]
        for e in site.log()
        if e.get("event") == "php_stderr" and e.get("request_id") == "fatal-1"
    ]
    assert any("Call to undefined function" in line for line in stderr), stderr


def test_error_log_lines_reach_the_gateway_log_with_the_request_id(
    client: httpx.Client, site: Site
) -> None:
    client.get(
        "/cases.php", params={"case": "stderr", "tag": "t-77"}, headers={"X-Request-ID": "log-77"}
    )
    lines = [(e["request_id"], e["message"]) for e in site.log() if e.get("event") == "php_stderr"]
    assert ("log-77", "PHP message: stderr line from t-77") in lines


def test_head_gets_the_head_and_no_body(site: Site) -> None:
    request = b"HEAD /server.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, head, body = raw_request(site.gateway.port, request)
    assert (status, body) == (200, b"")
    assert b"content-type: application/json" in head.lower()


def test_the_client_is_remote_addr_and_its_forwarded_headers_do_not_reach_php(
    client: httpx.Client,
) -> None:
    server = server_of(
        client.get("/server.php", headers={"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"})
    )
    assert server["REMOTE_ADDR"] == "127.0.0.1"
    assert "HTTP_X_FORWARDED_FOR" not in server and "HTTP_X_REAL_IP" not in server
    assert len(server["HTTP_X_REQUEST_ID"]) == 32


# ---------------------------------------------------------------- bodies


def test_a_10_mib_multipart_upload(client: httpx.Client) -> None:
    data = os.urandom(10 * 1024 * 1024)
    response = client.post(
        "/cases.php?case=upload",
        files={"avatar": ("photo.bin", data, "application/octet-stream")},
        data={"title": "été", "tags[]": ["a", "b"]},
    )
    assert response.status_code == 200
    result = response.json()
    assert result["files"]["avatar"] == {
        "name": "photo.bin", "size": len(data), "error": 0,
        "sha256": hashlib.sha256(data).hexdigest(),
    }  # fmt: skip
    assert result["post"] == {"title": "été", "tags": ["a", "b"]}


def test_a_chunked_body_is_spooled_and_php_gets_its_length(client: httpx.Client) -> None:
    def pieces() -> Iterator[bytes]:
        for index in range(20):
            yield bytes([index]) * 100_000

    response = client.put("/server.php", content=pieces())  # no length: chunked
    expected = b"".join(pieces())
    assert response.json()["body_length"] == len(expected)
    assert response.json()["server"]["CONTENT_LENGTH"] == str(len(expected))
    assert response.json()["body_sha256"] == hashlib.sha256(expected).hexdigest()


BLOCK = bytes(range(256)) * 4096  # 1 MiB
GIB = 1024


def put_stream(port: int, target: str, blocks: int) -> bytes:
    """PUT `blocks` MiB with a Content-Length, written as it is generated; the answer's body."""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
        head = f"PUT {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head += "Content-Type: application/octet-stream\r\n"
        head += f"Content-Length: {blocks * len(BLOCK)}\r\n\r\n"
        sock.sendall(head.encode())
        for _ in range(blocks):
            sock.sendall(BLOCK)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data.partition(b"\r\n\r\n")[2]


def sink_answer(data: bytes) -> dict[str, Any]:
    """cases.php?case=sink's JSON, out of a chunked HTTP/1.1 body."""
    result: dict[str, Any] = json.loads(data.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0])
    return result


def expected_sink(blocks: int) -> dict[str, Any]:
    digest = hashlib.sha256()
    for _ in range(blocks):
        digest.update(BLOCK)
    return {"length": blocks * len(BLOCK), "sha256": digest.hexdigest()}


def test_a_gib_up_as_it_arrives_and_a_gib_down_in_flat_memory(site: Site, tmp_path: Path) -> None:
    with live_gateway(table(site.fpm, site.root, buffer="0"), tmp_path) as gateway:
        httpx.get(gateway.url + "/server.php")  # what every request shares is allocated
        before = gateway.rss_kib("VmHWM")
        assert sink_answer(put_stream(gateway.port, "/cases.php?case=sink", GIB)) == expected_sink(
            GIB
        )
        got, size = hashlib.sha256(), 0
        params = {"case": "large", "mb": str(GIB)}
        with httpx.stream("GET", gateway.url + "/cases.php", params=params, timeout=300) as down:
            for chunk in down.iter_raw():
                got.update(chunk)
                size += len(chunk)
        growth_mib = (gateway.rss_kib("VmHWM") - before) / 1024
    assert size == GIB * 1024 * 1024
    line = (b"0123456789abcdef" * 4) * 1024 * 16
    assert got.hexdigest() == hashlib.sha256(line * GIB).hexdigest()
    # 2 GiB passed through; a body held whole would show up here
    assert growth_mib < 40, f"peak RSS grew by {growth_mib:.1f} MiB"


def test_a_large_upload_spooled_first_stays_out_of_memory(site: Site) -> None:
    """limits.buffer_request (1 MiB here): the rest of the body waits in a temporary file."""
    before = site.gateway.rss_kib("VmHWM")
    blocks = 256
    assert sink_answer(put_stream(site.gateway.port, "/cases.php?case=sink", blocks)) == (
        expected_sink(blocks)
    )
    growth_mib = (site.gateway.rss_kib("VmHWM") - before) / 1024
    assert growth_mib < 40, f"peak RSS grew by {growth_mib:.1f} MiB"


# ---------------------------------------------------------------- failures


def test_a_script_past_the_timeout_is_504(site: Site, tmp_path: Path) -> None:
    with live_gateway(table(site.fpm, site.root, timeout="1s"), tmp_path) as gateway:
        response = httpx.get(gateway.url + "/cases.php", params={"case": "sleep", "s": "3"})
    assert response.status_code == 504
    assert response.json()["error"] == "upstream timed out"


def test_php_fpm_killed_or_its_socket_missing_is_502(tmp_path: Path) -> None:
    root = make_site(tmp_path / "public")
    with (
        php_fpm(children=1) as fpm,
        live_gateway(table(fpm, root), gateway_dir(tmp_path)) as gateway,
    ):
        assert httpx.get(gateway.url + "/server.php").status_code == 200
        fpm.kill()  # the socket file stays behind, nobody listens
        response = httpx.get(gateway.url + "/server.php", headers={"X-Request-ID": "dead-1"})
        assert response.status_code == 502
        assert response.json() == {
            "error": "upstream refused the connection",
            "request_id": "dead-1",
        }
        fpm.socket.unlink()
        assert httpx.get(gateway.url + "/server.php").status_code == 502
        assert httpx.get(gateway.url + "/hello.txt").status_code == 200  # files need no PHP


def test_a_restart_under_load_hangs_no_request_and_the_pool_recovers(tmp_path: Path) -> None:
    root = make_site(tmp_path / "public")
    with (
        php_fpm(children=2) as fpm,
        live_gateway(table(fpm, root, timeout="10s"), gateway_dir(tmp_path)) as gateway,
    ):
        stop = threading.Event()

        def load() -> list[int]:
            seen = []
            with httpx.Client(base_url=gateway.url, timeout=60) as c:
                while not stop.is_set():
                    seen.append(c.get("/server.php").status_code)
            return seen

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            workers = [pool.submit(load) for _ in range(8)]
            httpx.get(gateway.url + "/server.php")
            for _ in range(2):
                fpm.restart()
            stop.set()
            statuses = [s for w in workers for s in w.result(timeout=120)]
        assert set(statuses) <= {200, 502}, set(statuses)
        # the same gateway, without a restart of its own, serves again
        answers = [httpx.get(gateway.url + "/server.php").status_code for _ in range(8)]
        assert answers == [200] * 8


def test_more_clients_than_workers_wait_for_workers_not_for_kept_connections(
    tmp_path: Path,
) -> None:
    """One PHP worker, eight clients at once: each request waits for the worker, never for a
    kept connection to close (which would take longer than the timeout)."""
    root = make_site(tmp_path / "public")
    with (
        php_fpm(children=1) as fpm,
        live_gateway(table(fpm, root, timeout="3s"), gateway_dir(tmp_path)) as gateway,
    ):
        httpx.get(gateway.url + "/server.php")  # leaves a kept connection

        def fetch(_: int) -> int:
            return httpx.get(gateway.url + "/server.php", timeout=30).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for _ in range(3):
                assert list(pool.map(fetch, range(8))) == [200] * 8
