"""Logging: structlog configured in one place, one access line per request, no credentials.

JSON lines when stderr is not a terminal (production), the console renderer otherwise. On the
console the access lines are at debug level, so a terminal shows reloads, warnings and errors,
not a line per request (STRANGLER_LOG_LEVEL=debug shows them too); JSON keeps them at info, for
the log pipeline that collects them. Every
line of a request carries its request id: dispatch sets `REQUEST_ID` (one context variable, set
once per request) and `add_request_id` copies it into each line. `mask_credentials` runs before
rendering, so Authorization, Cookie and Set-Cookie values never reach a log, however they were
passed (as keys, inside a dict, or in a list of header pairs).

In JSON mode the lines go through a `LineBuffer`: access lines wait in memory and are written
together, one write(2) per FLUSH_EVERY or FLUSH_AT bytes rather than one per request (stderr is
unbuffered under PYTHONUNBUFFERED=1, as in the Docker image); any other line writes what waits
and itself at once, so lines stay in order. What waits is written at the gateway's lifespan
shutdown (SIGTERM) and at exit, so no line is lost when the process stops.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO, TextIO, cast

import orjson
import structlog

from shadow.redact import is_secret_key, redact_query

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "set_cookie", "x-api-key"}
)
MASK = "***"
_configured = False
# the request being served, set by dispatch for the request's task (its own context)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def _mask(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: MASK if _secret(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_pair(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_mask_pair(item) for item in value)
    return value


def _mask_pair(item: object) -> object:
    if isinstance(item, tuple | list) and len(item) == 2 and _secret(item[0]):
        return (item[0], MASK) if isinstance(item, tuple) else [item[0], MASK]
    return _mask(item)


def _secret(key: object) -> bool:
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    return isinstance(key, str) and key.lower() in SECRET_HEADERS


def mask_credentials(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if _secret(key):
            event_dict[key] = MASK
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = _mask(value)
    return event_dict


def add_request_id(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The request id of the request being served, unless the line names one itself."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _orjson_dumps(obj: object, **_kw: object) -> bytes:
    return orjson.dumps(obj, default=repr)


def _orjson_text(obj: object, **_kw: object) -> str:
    return orjson.dumps(obj, default=repr).decode("utf-8")


def configure(
    *, json: bool | None = None, level: str = "info", stream: IO[Any] | None = None
) -> None:
    """Configure structlog (again, if called again: tests pass their own stream)."""
    global _configured, _access, _fast_write, _buffer
    flush()  # what waits for the stream being replaced
    out = stream if stream is not None else sys.stderr
    as_json = (not out.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_credentials,
        structlog.processors.format_exc_info,
    ]
    factory: Any
    binary = getattr(out, "buffer", None)
    _buffer = None
    if as_json and binary is not None:
        # stderr: orjson bytes to the binary stream through one LineBuffer, no text round trip
        renderer: Any = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        _buffer = LineBuffer(binary)
        factory = structlog.BytesLoggerFactory(cast(BinaryIO, _buffer))  # write and flush
        _fast_write = _buffer.add
    elif as_json:
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_text)
        factory = structlog.WriteLoggerFactory(cast(TextIO, out))
        _fast_write = _text_sink(out)
    else:
        _fast_write = None
        renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.WriteLoggerFactory(cast(TextIO, out))
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=factory,
        # not cached: tests reconfigure the output; the hot access logger is rebuilt below
        cache_logger_on_first_use=False,
    )
    _access = structlog.get_logger("proxy.access").bind()
    _configured = True


def configure_once() -> None:
    if not _configured:
        configure()


_access: Any = get_logger("proxy.access")
# JSON mode writes access lines directly (one orjson call and one write): they have fixed fields
# that never carry credentials, and structlog's processor chain costs ~50 µs a line.
_fast_write: Callable[[bytes], object] | None = None


def _text_sink(out: IO[Any]) -> Callable[[bytes], object]:
    def write(line: bytes) -> None:
        out.write(line.decode("utf-8"))
        out.flush()

    return write


FLUSH_EVERY = 0.05  # seconds an access line may wait in memory
FLUSH_AT = 64 * 1024  # bytes waiting that are written at once
_buffer: LineBuffer | None = None


class LineBuffer:
    """Lines gathered in memory and written to a binary stream in one call.

    `add` (access lines, on the event loop) only appends, and on the first line of a batch
    schedules a flush FLUSH_EVERY later (a batch, not a loop iteration: at a few thousand
    requests a second an iteration completes about one request, so per iteration would still
    be about one write per request); FLUSH_AT bytes waiting are written at once, and without a
    running loop (a command) every line is. `write` and `flush` make it the file of structlog's
    BytesLogger: every other line flushes what waits before it, so the order is kept. A lock
    makes it safe for lines logged from worker threads.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self._lines: list[bytes] = []
        self._size = 0
        self._scheduled = False
        self._lock = threading.Lock()

    def add(self, line: bytes) -> None:
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            now = self._size >= FLUSH_AT or not (self._scheduled or self._schedule())
        if now:
            self.flush()

    def _schedule(self) -> bool:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a command, a test): write through
            return False
        loop.call_later(FLUSH_EVERY, self.flush)
        self._scheduled = True
        return True

    def write(self, data: bytes) -> int:
        with self._lock:
            self._lines.append(data)
            self._size += len(data)
        return len(data)

    def flush(self) -> None:
        with self._lock:
            self._scheduled = False
            lines, self._lines, self._size = self._lines, [], 0
            if lines:
                self.out.write(b"".join(lines))
            self.out.flush()


def flush() -> None:
    """Write the log lines waiting in memory (lifespan shutdown, exit)."""
    if _buffer is not None:
        with contextlib.suppress(OSError, ValueError):  # the stream is gone: nothing to do
            _buffer.flush()


atexit.register(flush)


def access(
    request_id: str,
    route: str,
    mode: str,
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    bytes_out: int,
    error: str = "",
    query: str = "",
) -> None:
    """The one access line of a request. `query`, when there is one, with the values of
    credential-looking keys masked: the line is enough to replay the request, never a secret."""
    fields: dict[str, Any] = {
        "request_id": request_id,
        "route": route,
        "mode": mode,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "bytes_out": bytes_out,
    }
    if query:
        fields["query"] = redact_query(query) if is_secret_key(query) else query
    if error:
        fields["error"] = error
    if _fast_write is None:  # the console: a person watching, not a log pipeline
        _access.debug("access", **fields)
        return
    fields["event"] = "access"
    fields["level"] = "info"
    fields["timestamp"] = datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    _fast_write(orjson.dumps(fields) + b"\n")
