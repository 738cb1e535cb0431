"""A real nginx in front of a PHP-FPM socket, configured as Debian's packages and Laravel's
documentation put it, for tests that compare the gateway with nginx.

    with nginx_php(docroot, fpm.socket) as port:
        status, headers, body = http_exchange(port, "GET", b"/index.php?x=1", [(b"Host", ...)])

The server block is `try_files $uri $uri/ /index.php?$query_string` with a `\\.php` location
holding Debian's snippets/fastcgi-php.conf (split_path, `try_files $fastcgi_script_name =404`,
PATH_INFO) on top of Debian's /etc/nginx/fastcgi_params, and SCRIPT_FILENAME as fastcgi.conf
sets it. Outside CI a missing nginx skips the test; under CI=true it fails it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.support.services import free_port, stop_group, unavailable, wait_for_port

FASTCGI_PARAMS = Path("/etc/nginx/fastcgi_params")

CONFIG = """\
worker_processes 1;
{user}
error_log {workdir}/error.log;
pid {workdir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/client_body;
    fastcgi_temp_path {workdir}/fastcgi;
    proxy_temp_path {workdir}/proxy;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
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
}}
"""


def nginx_binary() -> str:
    override = os.environ.get("NGINX")
    for candidate in (override,) if override else ("nginx", "/usr/sbin/nginx"):
        found = shutil.which(candidate)
        if found is not None:
            return found
    unavailable("nginx is not installed (apt-get install nginx-light, or set NGINX)")
    raise AssertionError("unreachable")


@contextlib.contextmanager
def nginx_php(docroot: Path, fpm_socket: Path) -> Iterator[int]:
    """nginx on a free loopback port in front of `fpm_socket`; yields the port."""
    binary = nginx_binary()
    if not FASTCGI_PARAMS.exists():
        unavailable(f"{FASTCGI_PARAMS} is missing (apt-get install nginx-common)")
    with tempfile.TemporaryDirectory(prefix="nginx-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        # as root, workers would drop to "nobody", who cannot reach the work directory
        user = "user root;" if os.getuid() == 0 else ""
        config = CONFIG.format(
            user=user,
            workdir=workdir,
            port=port,
            docroot=docroot,
            socket=fpm_socket,
            fastcgi_params=FASTCGI_PARAMS,
        )
        (workdir / "nginx.conf").write_text(config)
        for name in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            (workdir / name).mkdir()
        command = [binary, "-e", f"{workdir}/error.log", "-p", str(workdir)]
        command += ["-c", f"{workdir}/nginx.conf", "-g", "daemon off;"]
        with (workdir / "nginx.out").open("ab") as sink:
            proc = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_for_port(port, proc=proc)
            yield port
        finally:
            stop_group(proc)


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
