"""legacy/deploy/run-fpm.sh: php-fpm behind nginx on a loopback port, as the benchmarks run it,
or php-fpm alone (--fpm-only), as the demo runs it behind the gateway."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fastcgi_client import fastcgi_request
from tests.support.services import ROOT, free_port, php_binary, unavailable

RUN_FPM = ROOT / "legacy" / "deploy" / "run-fpm.sh"
PUBLIC = ROOT / "legacy" / "public"
SEEDER = ROOT / "legacy" / "bin" / "seed.php"

FRONT_CONTROLLER = """<?php
declare(strict_types=1);
header('Content-Type: text/plain');
echo json_encode([
    'uri' => $_SERVER['REQUEST_URI'],
    'script' => $_SERVER['SCRIPT_NAME'],
    'dsn' => getenv('DB_DSN'),
    'method' => $_SERVER['REQUEST_METHOD'],
    'body' => file_get_contents('php://input'),
    'remote' => $_SERVER['REMOTE_ADDR'],
]);
"""


def require_binaries() -> None:
    fpm = os.environ.get("PHP_FPM") or shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
    nginx = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    for path, package in ((fpm, "php-fpm"), (nginx, "nginx-light")):
        if not Path(path).exists():
            unavailable(f"{path} is missing (apt-get install {package})")


@contextlib.contextmanager
def run_fpm(workdir: Path, docroot: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start run-fpm.sh in the foreground; yield its base URL; stop it with SIGTERM."""
    require_binaries()
    port = free_port()
    args = ["--port", str(port), "--children", "2", "--workdir", str(workdir)]
    proc = subprocess.Popen(
        [str(RUN_FPM), *args, "--docroot", str(docroot)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line:
            proc.wait(10)
            stderr = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"run-fpm.sh exited {proc.returncode}: {stderr}")
        assert line == f"http://127.0.0.1:{port}"
        yield line
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    root.mkdir()
    (root / "index.php").write_text(FRONT_CONTROLLER)
    (root / "style.css").write_text("body { color: red; }\n")
    (root / "other.php").write_text("<?php echo 'must never run';\n")
    return root


def test_requests_that_are_not_files_reach_the_front_controller(
    tmp_path: Path, docroot: Path
) -> None:
    with run_fpm(tmp_path / "work", docroot, {"DB_DSN": "sqlite:/nowhere.sqlite"}) as url:
        r = httpx.get(f"{url}/api/v1/admin/users?page=2")
        assert r.status_code == 200
        info = r.json()
        assert info["uri"] == "/api/v1/admin/users?page=2"
        assert info["script"] == "/index.php"
        assert info["dsn"] == "sqlite:/nowhere.sqlite", "clear_env = no passes DB_* through"
        assert info["remote"] == "127.0.0.1"

        posted = httpx.post(f"{url}/login", content=b"a=1&b=2")
        assert posted.json()["method"] == "POST"
        assert posted.json()["body"] == "a=1&b=2"


def test_static_files_are_served_and_php_source_never_is(tmp_path: Path, docroot: Path) -> None:
    with run_fpm(tmp_path / "work", docroot) as url:
        css = httpx.get(f"{url}/style.css")
        assert css.status_code == 200
        assert css.text == "body { color: red; }\n"
        assert css.headers["content-type"].startswith("text/css")

        other = httpx.get(f"{url}/other.php")
        assert other.status_code == 200
        assert other.json()["uri"] == "/other.php", "*.php paths go to the front controller"
        assert "must never run" not in other.text


def test_sigterm_stops_nginx_and_php_fpm(tmp_path: Path, docroot: Path) -> None:
    work = tmp_path / "work"
    with run_fpm(work, docroot) as url:
        assert httpx.get(url).status_code == 200
        pids = [int((work / name).read_text()) for name in ("nginx.pid", "php-fpm.pid")]
        assert all(pid_alive(pid) for pid in pids)
    assert not any(pid_alive(pid) for pid in pids)
    assert not (work / "run.pid").exists()


def test_background_mode_starts_and_stops(tmp_path: Path, docroot: Path) -> None:
    require_binaries()
    work = tmp_path / "work"
    port = free_port()
    args = ["--port", str(port), "--workdir", str(work), "--docroot", str(docroot)]
    started = subprocess.run(
        [str(RUN_FPM), *args, "--background"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/x").json()["uri"] == "/x"
    finally:
        stopped = subprocess.run(
            [str(RUN_FPM), "--stop", str(work)], capture_output=True, text=True, timeout=30
        )
    assert stopped.returncode == 0, stopped.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "http"], "--port must be"),
        (["--children", "0"], "--children must be"),
        (["--docroot", "/does/not/exist"], "does not exist"),
        (["--bogus"], "unknown argument"),
    ],
    ids=["port", "children", "docroot", "unknown"],
)
def test_bad_arguments_are_refused(args: list[str], message: str) -> None:
    r = subprocess.run([str(RUN_FPM), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert message in r.stderr


def test_the_application_health_check_through_nginx(tmp_path: Path) -> None:
    database = tmp_path / "paymenter.sqlite"
    env = {"DB_DSN": f"sqlite:{database}"}
    seeded = subprocess.run(
        [php_binary(), str(SEEDER), "--scale", "5"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    with run_fpm(tmp_path / "work", PUBLIC, env) as url:
        r = httpx.get(f"{url}/health")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}


def test_fpm_only_runs_php_fpm_alone_for_a_gateway_that_speaks_fastcgi(
    tmp_path: Path, docroot: Path
) -> None:
    require_binaries()
    work = tmp_path / "work"
    env = {**os.environ, "DB_DSN": "sqlite:/nowhere.sqlite"}
    started = subprocess.run(
        [str(RUN_FPM), "--fpm-only", "--children", "1", "--workdir", str(work), "--background"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"unix:{work / 'php-fpm.sock'}"
    try:
        assert not (work / "nginx.pid").exists()
        params = [
            (b"SCRIPT_FILENAME", str(docroot / "index.php").encode()),
            (b"SCRIPT_NAME", b"/index.php"),
            (b"REQUEST_URI", b"/x?y=1"),
            (b"REQUEST_METHOD", b"GET"),
            (b"REMOTE_ADDR", b"127.0.0.1"),
        ]
        answer = fastcgi_request(work / "php-fpm.sock", params)
        assert json.loads(answer.head.body)["uri"] == "/x?y=1"
        assert json.loads(answer.head.body)["dsn"] == "sqlite:/nowhere.sqlite"
    finally:
        stopped = subprocess.run(
            [str(RUN_FPM), "--stop", str(work)], capture_output=True, text=True, timeout=30
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not (work / "run.pid").exists()
