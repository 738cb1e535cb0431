"""The servers a benchmark run starts: nginx (static and reverse proxy), PHP-FPM behind nginx,
the gateway, and the streaming upstream. Every configuration is generated into the run's temp
directory; every server listens on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.procs import Proc, Registry, free_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PHP_FPM = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
IS_ROOT = os.geteuid() == 0
TINY_JSON = b'{"status":"ok","service":"tiny","items":[1,2,3],"message":"hello from nginx"}\n'


def _nginx_main(tmp: Path, name: str, body: str, workers: int = 1) -> str:
    temp = tmp / f"nginx-{name}"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / sub).mkdir(parents=True, exist_ok=True)
    user = "user root root;" if IS_ROOT else ""
    return (
        textwrap.dedent(
            f"""\
        {user}
        worker_processes {workers};
        pid {temp}/nginx.pid;
        error_log {temp}/error.log warn;
        events {{ worker_connections 8192; multi_accept on; }}
        http {{
            access_log off;
            default_type application/octet-stream;
            client_body_temp_path {temp}/body;
            proxy_temp_path {temp}/proxy;
            fastcgi_temp_path {temp}/fastcgi;
            uwsgi_temp_path {temp}/uwsgi;
            scgi_temp_path {temp}/scgi;
            keepalive_requests 1000000;
            keepalive_timeout 75s;
        """
        )
        + textwrap.indent(body, "    ")
        + "}\n"
    )


def start_nginx(reg: Registry, name: str, body: str, port: int, workers: int = 1) -> Proc:
    conf = reg.tmp / f"nginx-{name}.conf"
    conf.write_text(_nginx_main(reg.tmp, name, body, workers))
    cmd = [NGINX, "-p", str(reg.tmp), "-c", str(conf), "-g", "daemon off;"]
    test = subprocess.run([*cmd, "-t"], capture_output=True, text=True, check=False)
    if test.returncode != 0:
        raise RuntimeError(f"nginx config {conf} rejected:\n{test.stderr}")
    proc = reg.start(f"nginx-{name}", cmd, port=port)
    proc.info["conf"] = str(conf)
    return proc


def start_static(reg: Registry) -> Proc:
    """nginx serving one tiny static JSON file: the upstream that isolates a proxy's own cost."""
    port = free_port()
    docroot = reg.tmp / "static"
    docroot.mkdir(exist_ok=True)
    (docroot / "tiny.json").write_bytes(TINY_JSON)
    body = f"""\
server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    root {docroot};
    open_file_cache max=100 inactive=60s;
    location / {{ default_type application/json; }}
}}
"""
    return start_nginx(reg, "static", body, port)


def start_nginx_proxy(reg: Registry, name: str, upstream_port: int) -> Proc:
    """nginx as the reverse proxy the gateway replaces: upstream keepalive, forwarded headers."""
    port = free_port()
    body = f"""\
upstream backend {{
    server 127.0.0.1:{upstream_port};
    keepalive 128;
    keepalive_requests 1000000;
}}
server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    location / {{
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_read_timeout 30s;
    }}
}}
"""
    return start_nginx(reg, name, body, port)


def start_php(reg: Registry, name: str, db_env: dict[str, str], children: int) -> Proc:
    """The legacy application under PHP-FPM behind nginx.

    Uses legacy/deploy/run-fpm.sh when the legacy application ships it; otherwise a PHP-FPM pool
    (static, `children` workers, Unix socket) and an nginx front generated here.
    """
    script = ROOT / "legacy" / "deploy" / "run-fpm.sh"
    port = free_port()
    if script.exists() and os.environ.get("BENCH_OWN_FPM") != "1":
        workdir = reg.tmp / f"fpm-{name}"
        cmd = ["bash", str(script), "--port", str(port), "--children", str(children)]
        cmd += ["--workers", "1", "--workdir", str(workdir)]
        proc = reg.start(f"php-{name}", cmd, env=db_env, port=port, cwd=ROOT)
        proc.info["how"] = (
            f"legacy/deploy/run-fpm.sh --children {children} --workers 1 (PHP-FPM pm=static, "
            "nginx in front)"
        )
        return proc
    return _start_own_php(reg, name, db_env, children, port)


def _start_own_php(
    reg: Registry, name: str, db_env: dict[str, str], children: int, port: int
) -> Proc:
    sock = reg.tmp / f"fpm-{name}.sock"
    env_lines = "\n".join(f"env[{k}] = {v}" for k, v in db_env.items())
    user = "user = root\ngroup = root\n" if IS_ROOT else ""
    fpm_conf = reg.tmp / f"fpm-{name}.conf"
    fpm_conf.write_text(
        f"""[global]
pid = {reg.tmp}/fpm-{name}.pid
error_log = {reg.tmp}/fpm-{name}.error.log
daemonize = no

[app]
{user}listen = {sock}
listen.backlog = 4096
pm = static
pm.max_children = {children}
pm.max_requests = 0
clear_env = yes
catch_workers_output = yes
{env_lines}
php_admin_value[error_log] = {reg.tmp}/fpm-{name}.php.log
php_admin_flag[log_errors] = on
"""
    )
    fpm = reg.start(
        f"fpm-{name}",
        [PHP_FPM, "-F", "-y", str(fpm_conf), *(["-R"] if IS_ROOT else [])],
        wait=False,
    )
    public = ROOT / "legacy" / "public"
    body = f"""\
upstream php_{name} {{
    server unix:{sock};
    keepalive 32;
}}
server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    root {public};
    location / {{ try_files $uri /index.php$is_args$args; }}
    location = /index.php {{
        include /etc/nginx/fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root/index.php;
        fastcgi_param SCRIPT_NAME /index.php;
        fastcgi_keep_conn on;
        fastcgi_pass php_{name};
        fastcgi_read_timeout 60s;
    }}
}}
"""
    for _ in range(200):
        if sock.exists():
            break
        if fpm.popen.poll() is not None:
            raise RuntimeError(f"php-fpm {name} exited: {fpm.log and fpm.log.read_text()[-2000:]}")
        time.sleep(0.05)
    front = start_nginx(reg, f"php-{name}", body, port, workers=1)
    front.info["how"] = "bench-generated php-fpm pool + nginx"
    front.info["fpm"] = fpm
    return front


def php_trees(front: Proc) -> list[int]:
    """Every pid of a PHP stack: nginx front and, when started here, the FPM master and workers."""
    pids = front.tree()
    fpm = front.info.get("fpm")
    if isinstance(fpm, Proc):
        pids += fpm.tree()
    return pids


# ---------------------------------------------------------------- the gateway


def gateway_table(
    legacy_url: str,
    routes: list[dict[str, str]],
    *,
    store: str,
    sample: float = 1.0,
    pool_size: int = 100,
    native_app: str = "handlers.app:app",
    native_url: str | None = None,
) -> str:
    """A routing.yaml (version 1) for one gateway under test: the native side in-process
    (`native_app`), or a separate process the gateway forwards to (`native_url`)."""
    native = f"  url: {native_url}" if native_url else f"  app: {native_app}"
    lines = [
        "version: 1",
        "legacy:",
        f"  url: {legacy_url}",
        "  timeout: 30s",
        "  preserve_host: true",
        f"  pool_size: {pool_size}",
        "native:",
        native,
        "  timeout: 10s",
        "shadow:",
        "  primary: legacy",
        f"  sample: {sample}",
        "  noise_sample: 0.05",
        "  timeout: 2s",
        "  max_in_flight: 64",
        "  max_body: 1MiB",
        f"  store: {store}",
    ]
    if routes:
        lines.append("routes:")
        for r in routes:
            lines += [f"  - id: {r['id']}", f"    match: {r['match']}", f"    mode: {r['mode']}"]
    else:
        lines.append("routes: []")
    return "\n".join(lines) + "\n"


def start_gateway(
    reg: Registry,
    name: str,
    table: str,
    *,
    workers: int = 1,
    cpus: str | None = None,
    env: dict[str, str] | None = None,
) -> Proc:
    port = free_port()
    conf = reg.tmp / f"gw-{name}.yaml"
    conf.write_text(table)
    cmd = [
        str(VENV_BIN / "strangler"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--config",
        str(conf),
    ]
    # the gateway's code from this checkout, not wherever the venv's editable install points
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    full_env = {"STRANGLER_CONFIG": str(conf), "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    full_env.update(env or {})
    full_env.pop("STRANGLER_STORE", None)
    proc = reg.start(f"gw-{name}", cmd, env=full_env, port=port, cwd=ROOT, cpus=cpus)
    proc.info["conf"] = str(conf)
    proc.info["cmd"] = " ".join(cmd)
    return proc


def start_stream_upstream(reg: Registry, cpus: str | None) -> Proc:
    port = free_port()
    cmd = [sys.executable, "-m", "bench.stream_upstream", "--port", str(port)]
    return reg.start("stream-upstream", cmd, port=port, cwd=ROOT, cpus=cpus)


def start_candidate(reg: Registry, database_url: str, cpus: str | None) -> Proc:
    """The native handlers as a process of their own (uvicorn, one worker, the gateway's loop
    and parser), for a gateway whose `native.url` points at it."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "handlers.app:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    cmd += ["--no-access-log", "--log-level", "warning"]
    env = {"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    proc = reg.start("candidate", cmd, env=env, port=port, cwd=ROOT, cpus=cpus)
    proc.info["cmd"] = " ".join(cmd)
    return proc


def start_floor(reg: Registry, kind: str, upstream: str, cpus: str | None) -> Proc:
    """One of the reference proxies of bench/floors.py."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.floors", kind, str(port)]
    return reg.start(f"floor-{kind}", cmd, env={"UP": upstream}, port=port, cwd=ROOT, cpus=cpus)


def php_on_mariadb(bench: Any, cpu: int | None) -> bool:
    """The legacy side under PHP-FPM on MariaDB, shared by the parts that need it (started by
    the first, with the token seeded) and registered as the target php.direct, pinned to `cpu`.
    Whether it was started now."""
    from bench.driver import Target

    if not bench.token:
        bench.seed()
    if "mariadb" in bench.php:
        return False
    php = start_php(bench.reg, "mariadb", bench.dbs["mariadb"]["php"], bench.s.fpm_children)
    bench.php["mariadb"] = php
    bench.add(Target("php.direct", f"http://127.0.0.1:{php.port}", [php], cpu, "direct"))
    return True
