"""Real nginx as an oracle: run it with a given `http {}` body on loopback, ask it things.

`run_nginx` writes a complete nginx.conf around the body (its pid, logs and temp paths in a
private directory, one worker, `user root` when run as root so the worker can use that
directory) and runs `nginx -g 'daemon off;'` in its own process group. `echo_upstream` is a
tiny threaded HTTP server that answers every request with its name and the request target it
received, so a test sees which side nginx sent a request to and with which path.

`marked_server` renders a parsed server block for the question "which location does nginx
choose": every location keeps its modifier, pattern, nesting and any `*_pass` (which decides
nginx's 301 for a path one slash short), and answers `return 200 "<id>"` with the header
`X-Location: <id>`; nothing else of the original is kept, so no rewrite, try_files or internal
redirect can move the request after the choice. Choosing happens before any of that, so the
marker cannot change it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from proxy.table.nginx.locations import PASSES
from proxy.table.nginx.model import Directive, Location, Server
from tests.support.services import stop_group, unavailable, wait_for_port


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        unavailable("nginx is not installed (apt-get install nginx-light)")
        raise AssertionError("unreachable")
    return found


def free_port(*addresses: str) -> int:
    """A port free on every one of `addresses` (loopback ones)."""
    addresses = addresses or ("127.0.0.1",)
    while True:
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = int(s.getsockname()[1])
        try:
            for address in addresses[1:]:
                with socket.socket() as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def ask(port: int, target: str, host: str | None = "oracle", address: str = "127.0.0.1") -> Answer:
    """Send `GET target` exactly as written (no client-side normalising) with `host` as the
    Host (None: an HTTP/1.0 request without one), to any server."""
    with socket.create_connection((address, port), timeout=5) as sock:
        head = (
            f"GET {target} HTTP/1.0\r\n"
            if host is None
            else (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n")
        )
        sock.sendall(head.encode("latin-1") + b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read().decode("utf-8", "replace")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


@dataclass(frozen=True)
class Nginx:
    directory: Path

    def ask(
        self, port: int, target: str, host: str | None = "oracle", address: str = "127.0.0.1"
    ) -> Answer:
        """`ask` this nginx."""
        return ask(port, target, host, address)

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def run_nginx(http_body: str, ports: list[tuple[str, int]]) -> Iterator[Nginx]:
    """nginx serving `http_body`; waits until every (address, port) in `ports` answers."""
    binary = nginx_binary()
    directory = Path(tempfile.mkdtemp(prefix="strangler-nginx-"))
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        + f"error_log {directory / 'error.log'} info;\n"
        + "events { worker_connections 256; }\n"
        + f"http {{\n    access_log off;\n{temp}\n{http_body}\n}}\n"
    )
    command = [binary, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        text = conf.read_text()
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}\n{text}")
    proc = subprocess.Popen(
        [*command, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for address, port in ports:
            _wait(address, port, proc)
        yield Nginx(directory)
    finally:
        stop_group(proc)
        shutil.rmtree(directory, ignore_errors=True)


def _wait(address: str, port: int, proc: subprocess.Popen[bytes]) -> None:
    if address == "127.0.0.1":
        wait_for_port(port, proc=proc)
        return
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection((address, port), 0.2):
            return
        threading.Event().wait(0.05)
    raise TimeoutError(f"nginx is not listening on {address}:{port}")


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    name = "echo"

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = f"{self.server.name} {self.path}".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass(frozen=True)
class Echo:
    name: str
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def echo_upstream(name: str) -> Iterator[Echo]:
    """An HTTP server on a free loopback port answering `<name> <request target>`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.name = name  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Echo(name, int(server.server_address[1]))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def quote(arg: str) -> str:
    """One nginx argument, quoted when it has to be."""
    if arg and not any(c in arg for c in " \t\n;{}\"'#\\$"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def marked_server(server: Server, listen: str) -> tuple[str, dict[str, Location]]:
    """The server block that answers each location's id (see the module's docstring), and the
    ids. The regex text is kept byte for byte, so it is written in nginx's own quoting."""
    ids: dict[str, Location] = {}
    lines = [f"server {{\n    listen {listen};\n    server_name oracle;"]
    lines += _marked(server.locations, ids, "    ")
    lines.append("}")
    return "\n".join(lines), ids


def _marked(locations: tuple[Location, ...], ids: dict[str, Location], indent: str) -> list[str]:
    out: list[str] = []
    for loc in locations:
        marker = f"L{len(ids) + 1}"
        ids[marker] = loc
        head = f"{loc.modifier} " if loc.modifier not in ("", "@") else ""
        out.append(f"{indent}location {head}{quote(loc.pattern)} {{")
        if any(d.name in PASSES for d in loc.directives):
            out.append(f"{indent}    proxy_pass http://127.0.0.1:9;")
        out.append(f"{indent}    add_header X-Location {marker} always;")
        if loc.modifier != "@":
            out.append(f'{indent}    return 200 "{marker}";')
        out += _marked(loc.locations, ids, indent + "    ")
        out.append(f"{indent}}}")
    return out


def rendered(directives: tuple[Directive, ...], indent: str = "") -> list[str]:
    """Directives written back as nginx text (includes already in place)."""
    out: list[str] = []
    for d in directives:
        words = " ".join([d.name, *(quote(a) for a in d.args)])
        if d.block is None:
            out.append(f"{indent}{words};")
        else:
            out += [f"{indent}{words} {{", *rendered(d.block, indent + "    "), f"{indent}}}"]
    return out


def server_as_written(server: Server, listen: str) -> str:
    """The server block as the operator wrote it, listening on `listen` instead, each location
    adding `X-Location: <file:line>` so a test sees which one answered."""
    lines = [f"server {{\n    listen {listen};"]
    lines += rendered(tuple(d for d in server.directives if d.name != "listen"), "    ")
    lines += _as_written(server.locations, "    ")
    return "\n".join([*lines, "}"])


def _as_written(locations: tuple[Location, ...], indent: str) -> list[str]:
    out: list[str] = []
    for loc in locations:
        head = f"{loc.modifier} " if loc.modifier not in ("", "@") else ""
        out.append(f"{indent}location {head}{quote(loc.pattern)} {{")
        out.append(f"{indent}    add_header X-Location {loc.line} always;")
        out += rendered(loc.directives, indent + "    ")
        out += _as_written(loc.locations, indent + "    ")
        out.append(f"{indent}}}")
    return out


FASTCGI_PARAMS = Path("/etc/nginx/fastcgi_params")

# try_files $uri $uri/ /index.php?$query_string with a `\.php` location holding Debian's
# snippets/fastcgi-php.conf (split_path, `try_files $fastcgi_script_name =404`, PATH_INFO) on
# top of Debian's fastcgi_params, and SCRIPT_FILENAME as fastcgi.conf sets it
PHP_SERVER = """\
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {docroot};
        index index.php;
        location / {{
            try_files $uri $uri/ /index.php?$query_string;
        }}
        location ~ \\.php(/|$) {{
            fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
            try_files $fastcgi_script_name =404;
            set $path_info $fastcgi_path_info;
            fastcgi_param PATH_INFO $path_info;
            fastcgi_index index.php;
            include {fastcgi_params};
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:{socket};
        }}
    }}
"""


@contextlib.contextmanager
def nginx_php(docroot: Path, fpm_socket: Path) -> Iterator[int]:
    """nginx on a free loopback port in front of `fpm_socket`, configured as Debian's packages
    and Laravel's documentation put it; yields the port."""
    if not FASTCGI_PARAMS.exists():
        unavailable(f"{FASTCGI_PARAMS} is missing (apt-get install nginx-common)")
    port = free_port()
    body = PHP_SERVER.format(
        port=port, docroot=docroot, socket=fpm_socket, fastcgi_params=FASTCGI_PARAMS
    )
    with run_nginx(body, [("127.0.0.1", port)]):
        yield port


def http_exchange(
    port: int,
    method: str,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes = b"",
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP/1.1 request written byte for byte as given (target, header order, repeats)."""
    head = [method.encode() + b" " + target + b" HTTP/1.1"]
    head += [name + b": " + value for name, value in headers]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, response.getheaders(), response.read()
