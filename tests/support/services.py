"""Real services for integration tests: the PHP built-in server and a throw-away MariaDB database.

Outside CI a missing PHP or MariaDB skips the test that needs it; with CI=true it fails instead,
so a broken install can never pass as "all green".
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip outside CI, fail under CI."""
    if IN_CI:
        pytest.fail(f"required service missing under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def php_binary() -> str:
    php = shutil.which("php")
    if php is None:
        unavailable("php is not installed (apt-get install php-cli php-sqlite3 php-mysql)")
        raise AssertionError("unreachable")
    return php


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextlib.contextmanager
def php_server(
    docroot: Path,
    router: Path | None = None,
    env: dict[str, str] | None = None,
    workers: int = 4,
    log: Path | None = None,
) -> Iterator[str]:
    """Run `php -S` on a free loopback port; yields the base URL. Output goes to `log`, if given
    (never to a pipe nobody reads)."""
    php = php_binary()
    port = free_port()
    cmd = [php, "-S", f"127.0.0.1:{port}", "-t", str(docroot)]
    if router is not None:
        cmd.append(str(router))
    full_env = {**os.environ, "PHP_CLI_SERVER_WORKERS": str(workers), **(env or {})}
    # its own process group: `php -S` forks worker processes, and they must stop with it
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            cmd, env=full_env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(port, proc=proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group of `proc`, SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


MARIADB_HOST = os.environ.get("MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("MARIADB_PORT", "3306"))
MARIADB_USER = os.environ.get("MARIADB_USER", "root")
MARIADB_PASSWORD = os.environ.get("MARIADB_PASSWORD", "")


@contextlib.contextmanager
def mariadb_database(prefix: str = "strangler_test") -> Iterator[str]:
    """Create a uniquely named database on the local MariaDB, yield its name, drop it afterwards."""
    import pymysql

    try:
        conn = pymysql.connect(
            host=MARIADB_HOST,
            port=MARIADB_PORT,
            user=MARIADB_USER,
            password=MARIADB_PASSWORD,
            connect_timeout=3,
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        unavailable(f"MariaDB at {MARIADB_HOST}:{MARIADB_PORT} is unreachable: {exc}")
        raise AssertionError("unreachable") from exc
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def mariadb_dsn(database: str) -> dict[str, str]:
    """The environment a PHP process needs to reach `database` (see legacy/)."""
    return {
        "DB_DSN": (
            f"mysql:host={MARIADB_HOST};port={MARIADB_PORT};dbname={database};charset=utf8mb4"
        ),
        "DB_USER": MARIADB_USER,
        "DB_PASSWORD": MARIADB_PASSWORD,
    }


def mariadb_url(database: str) -> str:
    """The SQLAlchemy URL of `database`."""
    auth = MARIADB_USER + (f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else "")
    return f"mysql+pymysql://{auth}@{MARIADB_HOST}:{MARIADB_PORT}/{database}?charset=utf8mb4"


SEEDER = ROOT / "legacy" / "bin" / "seed.php"


def seed_legacy(
    env: dict[str, str], *args: str, command: list[str] | None = None
) -> dict[str, Any]:
    """Run the legacy seeder (`php legacy/bin/seed.php ARGS`, or `command`) against the database
    named by `env` (DB_DSN...); returns its JSON report."""
    if command is None:
        if not SEEDER.exists():
            unavailable(f"{SEEDER} is missing")
        command = [php_binary(), str(SEEDER)]
    proc = subprocess.run(
        [*command, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"seeding failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report
