"""A directory served twice, for side-by-side runs: by proxy.sides.static behind uvicorn, and
by nginx with the same root.

`root_app` stands in for the resolver of the FastCGI side: it maps the (decoded) URL path to a
file under the root, answers a directory without its slash with the 301, and 404 otherwise.
uvicorn runs it in a process of its own (`app_from_env`, configured by environment variables),
with the options the gateway's `serve` uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat as modes
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.errors import send_error
from proxy.sides.static import StaticRules, redirect_to_directory, serve_file
from tests.support.services import ROOT, free_port, stop_group, unavailable, wait_for_port

CACHE_CONTROL = {"/build/": "public, max-age=31536000, immutable"}


def root_app(root: str, rules: StaticRules) -> ASGIApp:
    cache = rules.new_cache()
    base = root.rstrip("/")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        if "\0" in path or any(part in (".", "..") for part in path.split("/")):
            await send_error(send, 400, "bad path", "-")
            return
        try:
            found = os.stat(base + path)
        except OSError:
            await send_error(send, 404, "not found", "-")
            return
        if modes.S_ISDIR(found.st_mode) and not path.endswith("/"):
            await redirect_to_directory(scope, send, path + "/", rules=rules)
        elif modes.S_ISREG(found.st_mode) and not path.endswith("/"):
            await serve_file(scope, receive, send, base + path, found, rules, cache=cache)
        else:
            await send_error(send, 404, "not found", "-")

    return app


def app_from_env() -> ASGIApp:
    """uvicorn's factory: STATIC_ROOT, and STATIC_CACHE_CONTROL as a JSON object."""
    cache_control = json.loads(os.environ.get("STATIC_CACHE_CONTROL", "{}"))
    return root_app(os.environ["STATIC_ROOT"], StaticRules.build(cache_control))


@contextlib.contextmanager
def uvicorn_root(
    root: Path, cache_control: dict[str, str], log: Path, cpu: int | None = None
) -> Iterator[tuple[int, int]]:
    """uvicorn serving `root` through `root_app` on a free port; yields (port, pid)."""
    port = free_port()
    command = [
        *_pinned(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.support.static_root:app_from_env",
        "--host=127.0.0.1",
        f"--port={port}",
        "--http=httptools",
        "--loop=uvloop",
        "--lifespan=off",
        "--no-access-log",
        "--no-server-header",
        "--no-date-header",
    ]
    env = {
        **os.environ,
        "STATIC_ROOT": str(root),
        "STATIC_CACHE_CONTROL": json.dumps(cache_control),
    }
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=sink, start_new_session=True
        )
    try:
        wait_for_port(port, proc=proc)
        yield port, proc.pid
    finally:
        stop_group(proc)


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if found is None:
        unavailable("nginx is not installed (apt-get install nginx-light)")
        raise AssertionError("unreachable")
    return found


def nginx_conf(root: Path, port: int, workdir: Path, cache_control: dict[str, str]) -> str:
    """Debian's defaults for files (sendfile, tcp_nopush), gzip_static with gzip_vary, and an
    `add_header Cache-Control` location per prefix."""
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read a 0700 temporary tree
    temp = "".join(
        f"    {kind}_temp_path {workdir / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    locations = "".join(
        f'        location {prefix} {{ add_header Cache-Control "{value}"; }}\n'
        for prefix, value in cache_control.items()
    )
    return f"""{user}
worker_processes 1;
error_log {workdir / "error.log"};
pid {workdir / "nginx.pid"};
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
{temp}    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip_static on;
        gzip_vary on;
        location / {{ }}
{locations}    }}
}}
"""


@contextlib.contextmanager
def nginx_root(
    root: Path, workdir: Path, cache_control: dict[str, str], cpu: int | None = None
) -> Iterator[tuple[int, int]]:
    """nginx serving `root` on a free port, in the foreground; yields (port, master pid)."""
    binary = nginx_binary()
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(root, port, workdir, cache_control), encoding="utf-8")
    command = [*_pinned(cpu), binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"]
    with (workdir / "stderr.log").open("ab") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=sink, start_new_session=True)
    try:
        wait_for_port(port, proc=proc)
        yield port, proc.pid
    finally:
        stop_group(proc)


def _pinned(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
