"""`strangler serve`: a bad table stops it before it binds; SIGTERM drains, then exit 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from proxy.cli.main import main
from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway, php_echo, raw_request
from tests.support.services import ROOT, free_port


def test_a_bad_table_exits_1_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "routing.yaml"
    routes = "  - id: r\n    match: GET /r\n    mode: nativ\n"
    config.write_text(table_text("http://127.0.0.1:1", routes))
    port = free_port()
    assert main(["serve", "--config", str(config), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:8: route 'r': unknown mode 'nativ'" in err
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nothing was listening


def test_a_native_app_that_cannot_be_imported_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "routing.yaml"
    native = "  app: no_such_module_here:app\n  timeout: 1s\n"
    config.write_text(table_text("http://127.0.0.1:1", native=native))
    assert main(["serve", "--config", str(config), "--port", str(free_port())]) == 1
    assert "no module named 'no_such_module_here'" in capsys.readouterr().err


def test_a_missing_table_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--config", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert code.returncode == 1
    assert "cannot read the file" in code.stderr


@pytest.mark.integration
def test_sigterm_drains_in_flight_requests_then_exits_0(tmp_path: Path) -> None:
    with (
        php_echo(tmp_path) as php,
        live_gateway(table_text(php, timeout="30s"), tmp_path) as gateway,
    ):
        answers: list[tuple[int, bytes]] = []

        def slow_request() -> None:
            request = b"GET /slow?sleep=1.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            status, _, body = raw_request(gateway.port, request)
            answers.append((status, body))

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.5)  # the request is in flight, waiting on PHP
        began = time.monotonic()
        gateway.proc.send_signal(signal.SIGTERM)
        code = gateway.proc.wait(20)
        thread.join(5)
        drained_in = time.monotonic() - began
    assert code == 0
    assert answers and answers[0][0] == 200
    assert b'"uri":"/slow?sleep=1.5"' in answers[0][1]
    assert 0.5 < drained_in < 10
