"""`strangler serve`: validate the table, then run uvicorn with the fastest loop it has.

SIGTERM stops accepting connections and lets requests in flight finish (up to
STRANGLER_GRACEFUL_TIMEOUT seconds), runs the lifespan shutdown, and exits 0.

With several workers, SIGHUP to the server reaches every worker, each of which reloads its
table in place (see `_Supervisor`); metrics are kept in PROMETHEUS_MULTIPROC_DIR (a fresh
temporary directory unless one is set), so that every scrape sums all workers (see
proxy.metrics).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import ssl
import subprocess
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from proxy import logs
from proxy.app import edge_refused
from proxy.edge import EdgeLimits, edge_protocol
from proxy.operator.metrics import multiprocess_dir
from proxy.settings import Settings
from proxy.sides import native
from proxy.sides.workers import WORKER_MODULE
from proxy.table import parser as table
from proxy.table.checks import AppImportError
from proxy.table.model import Limits, RouteTable, TableError


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def _native_app_problem(loaded: RouteTable) -> str | None:
    """Import native.app once before serving, so a typo is a clear error, not a traceback
    (in a process of its own when workers run the app: the gateway never imports it)."""
    if loaded.native.app is None or loaded.native.url is not None:
        return None
    if loaded.native.workers:
        checked = subprocess.run(
            [sys.executable, "-m", WORKER_MODULE, "--check", loaded.native.app],
            capture_output=True,
            text=True,
            check=False,
        )
        if checked.returncode == 0:
            return None
        return checked.stderr.strip() or f"importing it exited with status {checked.returncode}"
    try:
        native.load_app(loaded.native.app)
    except (AppImportError, TypeError) as exc:
        return str(exc)
    return None


def tls_problem(cert: str, key: str) -> str | None:
    """Load the certificate and key once before serving: a wrong file is a clear error."""
    for name in (cert, key):
        if not os.path.isfile(name):
            return f"{name}: no such file"
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        return f"{cert} / {key}: not a certificate and its private key ({exc})"
    return None


def serve(
    config_path: str | None,
    host: str,
    port: int,
    workers: int,
    tls: tuple[str, str] | None = None,
) -> int:
    settings = Settings.from_env()
    logs.configure(json=settings.log_json, level=settings.log_level)
    path = config_path if config_path is not None else str(table.default_config_path())
    try:
        loaded = table.load(path)
    except TableError as exc:
        for found in exc.problems:
            print(str(found), file=sys.stderr)
        print(f"{path}: the gateway cannot start with this table", file=sys.stderr)
        return 1
    # as uvicorn's own command does: the native app is looked up from where the command runs
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    unusable = _native_app_problem(loaded)
    if unusable is not None:
        print(f"{path}: native.app {loaded.native.app!r}: {unusable}", file=sys.stderr)
        return 1
    if tls is not None and (problem := tls_problem(*tls)) is not None:
        print(f"--tls-cert/--tls-key: {problem}", file=sys.stderr)
        return 1
    # workers are separate processes: they find the table through the environment
    os.environ["STRANGLER_CONFIG"] = os.path.abspath(path)
    logs.get_logger("proxy.cli.serve").info(
        "serving",
        host=host,
        port=port,
        workers=workers,
        table=path,
        digest=loaded.digest,
        tls=tls is not None,
    )
    # uvicorn re-raises the signal that stopped it once it has drained; a handler that does
    # nothing turns that into a normal return, so a SIGTERM drain exits 0
    previous = signal.signal(signal.SIGTERM, lambda _sig, _frame: None)
    try:
        with multiprocess_dir(workers):
            options = _uvicorn_options(host, port, workers, settings, loaded.limits)
            if tls is not None:
                # the scheme of every request is then https: it reaches the sides as such
                options.update(ssl_certfile=tls[0], ssl_keyfile=tls[1])
            if workers == 1:
                uvicorn.run("proxy.app:app_from_env", **options)
            else:
                config = uvicorn.Config("proxy.app:app_from_env", **options)
                _Supervisor(config, sockets=[config.bind_socket()]).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def edge_limits(limits: Limits) -> EdgeLimits:
    """The client-facing server's limits from the table's `limits:` block."""
    return EdgeLimits(
        max_request_line=limits.request_line,
        max_header_line=limits.header_line,
        max_head=limits.head,
        max_headers=limits.headers,
        header_timeout=limits.header_timeout,
        body_timeout=limits.body_timeout,
        keepalive_timeout=limits.keepalive_timeout,
        max_connections=limits.connections,
    )


def _uvicorn_options(
    host: str, port: int, workers: int, settings: Settings, limits: Limits | None = None
) -> dict[str, Any]:
    # the gateway's own HTTP/1.1 server protocol (proxy.edge): uvicorn's httptools protocol with
    # nginx's head limits and timeouts, the connection bound and the Host rules
    http = edge_protocol(edge_limits(limits or Limits()), edge_refused)
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "loop": _fastest("uvloop", "asyncio"),
        "http": http,
        "lifespan": "on",
        "access_log": False,  # the gateway writes its own access line
        # the gateway is the edge: a client's X-Forwarded-For must never become its address
        # (it would pass the admin surface's loopback rule)
        "proxy_headers": False,
        # the upstream's Date and Server pass through; uvicorn's would double them
        "server_header": False,
        "date_header": False,
        "timeout_graceful_shutdown": int(settings.graceful_timeout),
        "log_level": "warning",
    }


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of `--workers N`, except for SIGHUP.

    uvicorn answers SIGHUP by replacing the workers one by one; the gateway's workers reload
    their table in place instead (proxy.reload: a bad table is refused and the one in force
    stays), so the signal is passed on to each of them, keeping their connections and counts.
    """

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGHUP)
