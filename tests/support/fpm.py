"""A real PHP-FPM for integration tests: started as the current user, its unix socket, pid file
and logs in a work directory, as legacy/deploy/run-fpm.sh runs it.

    with php_fpm(children=2) as fpm:
        fastcgi_request(fpm.socket, params)
        fpm.kill()      # SIGKILL the master and its workers (a crash, for fault tests)
        fpm.restart()   # stop whatever runs and start again on the same socket

Outside CI a missing php-fpm skips the test; under CI=true it fails it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.services import stop_group, unavailable

_CANDIDATES = ("php-fpm8.2", "/usr/sbin/php-fpm8.2", "php-fpm", "/usr/sbin/php-fpm")


def fpm_binary() -> str:
    override = os.environ.get("PHP_FPM")
    for candidate in (override,) if override else _CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    unavailable("php-fpm is not installed (apt-get install php-fpm, or set PHP_FPM)")
    raise AssertionError("unreachable")


def render_config(workdir: Path, children: int, settings: Mapping[str, str]) -> str:
    """The php-fpm configuration: the global section and one static pool."""
    lines = [
        "[global]",
        f"pid = {workdir}/php-fpm.pid",
        f"error_log = {workdir}/php-fpm.log",
        "daemonize = no",
        "",
        "[test]",
        f"listen = {workdir}/php-fpm.sock",
        "listen.mode = 0600",
        "listen.backlog = 512",
        "pm = static",
        f"pm.max_children = {children}",
        "pm.max_requests = 0",
        # the workers keep the test's environment, as the deployment's pool does
        "clear_env = no",
        "catch_workers_output = yes",
        "decorate_workers_output = no",
        "php_admin_flag[display_errors] = off",
        "php_admin_flag[expose_php] = off",
        *(f"{name} = {value}" for name, value in settings.items()),
    ]
    return "\n".join(lines) + "\n"


class Fpm:
    """One php-fpm master and its pool, restartable on the same socket."""

    def __init__(self, workdir: Path, children: int, settings: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.socket = workdir / "php-fpm.sock"
        self.config = workdir / "php-fpm.conf"
        self.config.write_text(render_config(workdir, children, settings))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        path = self.workdir / "php-fpm.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> None:
        self.socket.unlink(missing_ok=True)
        command = [fpm_binary(), "--fpm-config", str(self.config), "--nodaemonize"]
        if os.getuid() == 0:
            command.append("--allow-to-run-as-root")
        with (self.workdir / "php-fpm.out").open("ab") as sink:
            self._proc = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"php-fpm exited with {self._proc.returncode}:\n{self.log}")
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(self.socket))
                return
            time.sleep(0.02)
        raise TimeoutError(f"php-fpm did not listen on {self.socket} in {timeout}s")

    def kill(self) -> None:
        """SIGKILL the master and every worker: connections drop, the socket stays behind."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            stop_group(self._proc)
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def php_fpm(
    children: int = 2, settings: Mapping[str, str] | None = None, workdir: Path | None = None
) -> Iterator[Fpm]:
    """A running php-fpm with `children` workers (pm = static); stopped on exit.

    `settings` are extra pool directives, e.g. {"request_terminate_timeout": "5s"}.
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fpm-")))
        fpm = Fpm(workdir, children, settings or {})
        fpm.start()
        try:
            yield fpm
        finally:
            fpm.stop()
