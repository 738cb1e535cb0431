"""Logging: structlog configured in one place, one access line per request, no credentials.

JSON lines when stderr is not a terminal (production), the console renderer otherwise. Every
line of a request carries its request id (bound in contextvars by dispatch). `mask_credentials`
runs before rendering, so Authorization, Cookie and Set-Cookie values never reach a log, however
they were passed (as keys, inside a dict, or in a list of header pairs).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any, TextIO, cast

import orjson
import structlog

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "set_cookie", "x-api-key"}
)
MASK = "***"
_configured = False


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


def _orjson_dumps(obj: object, **_kw: object) -> bytes:
    return orjson.dumps(obj, default=repr)


def _orjson_text(obj: object, **_kw: object) -> str:
    return orjson.dumps(obj, default=repr).decode("utf-8")


def configure(
    *, json: bool | None = None, level: str = "info", stream: IO[Any] | None = None
) -> None:
    """Configure structlog (again, if called again: tests pass their own stream)."""
    global _configured, _access, _fast_write
    out = stream if stream is not None else sys.stderr
    as_json = (not out.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_credentials,
        structlog.processors.format_exc_info,
    ]
    factory: Any
    binary = getattr(out, "buffer", None)
    if as_json and binary is not None:
        # stderr: orjson bytes straight to the binary buffer, no text round trip
        renderer: Any = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        factory = structlog.BytesLoggerFactory(binary)
        _fast_write = _fast_sink(binary)
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


FLUSH_EVERY = 0.05  # seconds an access line may wait in the buffer


def _fast_sink(binary: Any) -> Callable[[bytes], object]:
    """Buffered writes, flushed within FLUSH_EVERY: one syscall per batch, not per request.

    Other log lines go through the same buffered stream and flush it, so lines stay in order.
    """
    pending = False

    def flush() -> None:
        nonlocal pending
        pending = False
        binary.flush()

    def write(line: bytes) -> None:
        nonlocal pending
        binary.write(line)
        if pending:
            return
        try:
            asyncio.get_running_loop().call_later(FLUSH_EVERY, flush)
            pending = True
        except RuntimeError:  # no loop (a command, a test): write through
            binary.flush()

    return write


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
) -> None:
    """The one access line of a request."""
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
    if error:
        fields["error"] = error
    if _fast_write is None:
        _access.info("access", **fields)
        return
    fields["event"] = "access"
    fields["level"] = "info"
    fields["timestamp"] = datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    _fast_write(orjson.dumps(fields) + b"\n")
