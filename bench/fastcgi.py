"""Part 7: the web server in front of PHP-FPM. One PHP-FPM pool (the legacy application on
MariaDB) and one document root, reached by nginx and by the gateway, each speaking FastCGI to the
same socket and serving the same public files:

- nginx as Laravel's documentation writes its server block (`try_files $uri $uri/
  /index.php?$query_string`, a `\\.php$` location with `include fastcgi_params`, a new
  connection to PHP-FPM per request), with Debian's defaults for files (`sendfile`,
  `tcp_nopush`, mime.types);
- the same nginx block with an upstream `keepalive 16` and `fastcgi_keep_conn on`, as
  legacy/deploy/nginx.conf has it (nginx-keep);
- the gateway with `legacy: {fastcgi: unix:..., root: ...}` and nothing else set.

The document root is the legacy application's front controller beside the two public files the
part asks for (4 KB and 100 MB).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench.procs import Proc, Registry, free_port
from bench.services import ROOT, start_gateway, start_nginx

SMALL = "/static/app.4k.js"
BIG = "/static/big.100m.bin"
BIG_BYTES = 100 * 1024 * 1024


def make_site(tmp: Path) -> Path:
    """tmp/fcgi-site/public: the legacy front controller (its ../src a link to legacy/src) and
    the two static files. Returns the document root."""
    site = tmp / "fcgi-site"
    public = site / "public"
    (public / "static").mkdir(parents=True, exist_ok=True)
    src = site / "src"
    if not src.exists():
        src.symlink_to(ROOT / "legacy" / "src")
    shutil.copy(ROOT / "legacy" / "public" / "index.php", public / "index.php")
    (public / "static" / "app.4k.js").write_bytes(os.urandom(4096))
    block = os.urandom(1024 * 1024)
    with (public / "static" / "big.100m.bin").open("wb") as out:
        for _ in range(BIG_BYTES // len(block)):
            out.write(block)
    return public


def start_fpm(reg: Registry, db_env: dict[str, str], children: int) -> tuple[Proc, Path]:
    """PHP-FPM alone (legacy/deploy/run-fpm.sh --fpm-only: pm = static, `children` workers,
    clear_env = no): its process and its unix socket."""
    workdir = reg.tmp / "fpm-fcgi"
    script = ROOT / "legacy" / "deploy" / "run-fpm.sh"
    cmd = ["bash", str(script), "--fpm-only", "--children", str(children)]
    cmd += ["--workdir", str(workdir)]
    proc = reg.start("fpm-fcgi", cmd, env=db_env, cwd=ROOT)
    socket = workdir / "php-fpm.sock"
    for _ in range(400):
        if socket.exists():
            break
        if proc.popen.poll() is not None:
            raise RuntimeError(f"php-fpm exited: {proc.log and proc.log.read_text()[-2000:]}")
        time.sleep(0.05)
    proc.info["how"] = f"legacy/deploy/run-fpm.sh --fpm-only --children {children}"
    return proc, socket


NGINX_PHP = """\
include /etc/nginx/mime.types;
sendfile on;
tcp_nopush on;
{upstream}
server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    root {root};
    index index.php;
    charset utf-8;
    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}
    location ~ \\.php$ {{
        fastcgi_pass {backend};
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        include /etc/nginx/fastcgi_params;
{keep}    }}
    location ~ /\\.(?!well-known).* {{
        deny all;
    }}
}}
"""


def start_nginx_php(reg: Registry, name: str, root: Path, socket: Path, keepalive: bool) -> Proc:
    port = free_port()
    backend = f"unix:{socket}"
    upstream = keep = ""
    if keepalive:
        upstream = f"upstream php_fpm {{\n    server {backend};\n    keepalive 16;\n}}"
        backend, keep = "php_fpm", "        fastcgi_keep_conn on;\n"
    body = NGINX_PHP.format(upstream=upstream, port=port, root=root, backend=backend, keep=keep)
    return start_nginx(reg, name, body, port)


def gateway_table(root: Path, socket: Path) -> str:
    return f"version: 1\nlegacy:\n  fastcgi: unix:{socket}\n  root: {root}\nroutes: []\n"


def start_gateway_php(reg: Registry, root: Path, socket: Path, cpus: str | None) -> Proc:
    return start_gateway(reg, "fcgi", gateway_table(root, socket), cpus=cpus)
