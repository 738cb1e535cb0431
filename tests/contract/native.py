"""Native targets of the contract suite: the Python handlers (handlers.app) served by uvicorn on
the same freshly seeded database as the legacy targets, on SQLite and on MariaDB."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from tests.support.services import ROOT, free_port, wait_for_port


@contextlib.contextmanager
def native_server(db_url: str, dialect: str) -> Iterator[str]:
    """uvicorn running `handlers.app:app` on `db_url`; yields its base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "handlers.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "DATABASE_URL": db_url}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=20, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# every request native, answered by the gateway's own worker processes (native.workers)
WORKERS_TABLE = """version: 1
legacy:
  url: http://127.0.0.1:9
native:
  app: handlers.app:app
  workers: 2
routes:
  - id: everything
    match: "* /{rest:path}"
    mode: native
"""


@contextlib.contextmanager
def gateway_workers(db_url: str, dialect: str) -> Iterator[str]:
    """The gateway in native mode for every path, the handlers in two worker processes it
    runs itself, on `db_url`; yields the gateway's base URL."""
    import tempfile
    from pathlib import Path

    from tests.gateway.live import live_gateway

    with (
        tempfile.TemporaryDirectory(prefix="contract-workers-") as directory,
        live_gateway(WORKERS_TABLE, Path(directory), {"DATABASE_URL": db_url}) as gateway,
    ):
        health = gateway.health()
        assert health["native_workers"]["alive"] == 2, health
        yield gateway.url


def native_targets() -> dict[str, Callable[[str, str], AbstractContextManager[str]]]:
    """Name -> factory: a name ending in "-mariadb" gets a MariaDB database, others SQLite."""
    return {
        "native-sqlite": native_server,
        "native-mariadb": native_server,
        "native-workers-mariadb": gateway_workers,
    }
