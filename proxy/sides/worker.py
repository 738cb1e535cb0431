"""One native worker process: the native app served on a unix socket, for the gateway alone.

Started by `proxy.sides.workers` (never by hand) as

    python -m proxy.sides.worker '{"app": ..., "nice": 10, "timeout": 10.0, "parent": PID,
                                   "grace": 30.0, "log_json": null, "log_level": "info"}'

It lowers its CPU priority by `nice`, asks the kernel to stop it when the gateway (`parent`)
dies, imports the app, and then waits, as a spare, for the line `serve PATH INDEX` on stdin;
it then serves the app with uvicorn on the unix socket PATH until SIGTERM. It tells the
gateway how it goes on its original stdout, one line at a time: `ready` (imported, waiting),
`serving`, or `error: ...`; everything else the app writes to stdout goes to stderr, where its
log lines go too, each with the worker's index and the request id of the request it served.

Every request is run as the in-process caller runs it (`proxy.sides.native.call_native`), so a
worker answers what the in-process app would have: a handler that raises is the gateway's 502
"native handler failed", a handler past `native.timeout` its 504, with the same bodies.
`python -m proxy.sides.worker --check APP` only imports APP and says what went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import structlog
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy import logs
from proxy.sides import native
from proxy.sides.forwarder import Exchange
from proxy.sides.headers import REQUEST_ID
from proxy.sides.pool import KEEPALIVE
from proxy.table.checks import AppImportError

_PR_SET_PDEATHSIG = 1
# longer than the gateway keeps an idle connection to a worker, so that the gateway, never the
# worker, closes one: a connection closed by the worker just as the gateway reuses it would
# fail a request that cannot be retried
KEEPALIVE_TIMEOUT = int(KEEPALIVE) + 5


def serving_app(app: ASGIApp, timeout: float) -> ASGIApp:
    """The worker's ASGI app: each request as the in-process caller runs it, its log lines
    carrying the request id the gateway sent."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)  # the lifespan, as the app defines it
            return
        request_id = next(
            (value.decode("latin-1") for name, value in scope["headers"] if name == REQUEST_ID),
            "",
        )
        logs.REQUEST_ID.set(request_id or None)  # this request's task has its own context
        exchange = Exchange(request_id)
        await native.call_native(app, scope, receive, send, scope["path"], timeout, exchange)

    return serve


def _die_with_parent(parent: int) -> None:
    """SIGTERM when the gateway's process ends, however it ends (a SIGKILL included)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request to the kernel was made
        sys.exit(0)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.new_event_loop
    return None


class _Server(uvicorn.Server):
    """uvicorn's server, telling the gateway when it listens."""

    def __init__(self, config: uvicorn.Config, report: IO[str]) -> None:
        super().__init__(config)
        self.report = report

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            _say(self.report, "serving")
        self.report.close()


def _config(app: ASGIApp, path: str, grace: float) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        uds=path,
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,  # the gateway writes the access line
        http="httptools",
        server_header=False,
        date_header=False,  # call_native adds the Date, as in the gateway's process
        timeout_keep_alive=KEEPALIVE_TIMEOUT,
        timeout_graceful_shutdown=int(grace),
    )


def _say(report: IO[str], line: str) -> None:
    report.write(line.replace("\n", " ") + "\n")
    report.flush()


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """What the gateway tells a worker it starts (as JSON, its one argument)."""

    app: str
    nice: int
    timeout: float  # native.timeout
    parent: int  # the gateway's pid
    grace: float  # seconds its requests in flight get at SIGTERM
    log_json: bool | None
    log_level: str

    def argument(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--check":
        try:
            native.load_app(argv[1])
        except (AppImportError, TypeError) as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    options = WorkerOptions(**json.loads(argv[0]))
    # the gateway reads this process's original stdout; print() from the app goes to stderr
    report = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _die_with_parent(options.parent)
    os.nice(options.nice)
    logs.configure(json=options.log_json, level=options.log_level)
    logging.basicConfig(level=logging.WARNING)  # uvicorn's own errors, to stderr
    try:
        app = native.load_app(options.app)
    except (AppImportError, TypeError) as exc:
        _say(report, f"error: {exc}")
        return 1
    _say(report, "ready")
    order = sys.stdin.readline().split()  # the gateway's: serve PATH INDEX
    if len(order) != 3 or order[0] != "serve":
        return 0  # the gateway closed stdin: it stops, and needs no spare
    path, index = order[1], int(order[2])
    structlog.contextvars.bind_contextvars(worker=index, pid=os.getpid())
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        config = _config(serving_app(app, options.timeout), path, options.grace)
        runner.run(_Server(config, report).serve())
    logs.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
