"""FastCGI/1.0 records for the responder role, as pure functions: bytes in, events out.

The web server's side of the wire: `begin_request`, `params`, `stdin`, `end_stdin` and
`abort_request` encode what the gateway sends; `ResponseDecoder.feed` takes what PHP-FPM sends,
in whatever pieces the socket hands over, and returns `Stdout`, `Stderr` and `EndRequest`
events for one request. `stream` and `end_request` encode the application's side, so fake
applications in tests speak the same records.

Decisions:

- Name-value pairs are never split across PARAMS records: PHP-FPM parses each record on its own,
  so a pair that straddles two records is lost. A pair longer than one record can carry is
  refused with `ParamTooLarge` (nginx refuses it too: it sends all params in a single record).
- STDIN and stream content is cut into records of `MAX_CHUNK` (65528) bytes, a multiple of 8, so
  that full records need no padding; only the last record of a piece is padded.
- The decoder yields one event per non-empty record, only once the record is complete, so the
  events do not depend on how the bytes were split; at most one record (< 64 KiB) is held.
  Empty STDOUT/STDERR records (end of stream) yield nothing.

Errors::

    FastCGIError (ValueError)
     ├─ ProtocolError    the application broke the protocol; the response is unusable
     └─ ParamTooLarge    a name-value pair no PARAMS record can carry
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = 1
HEADER_SIZE = 8
MAX_CONTENT = 65535
MAX_CHUNK = 65528  # the largest multiple of 8 that fits a record: full chunks need no padding


class RecordType(enum.IntEnum):
    BEGIN_REQUEST = 1
    ABORT_REQUEST = 2
    END_REQUEST = 3
    PARAMS = 4
    STDIN = 5
    STDOUT = 6
    STDERR = 7


class ProtocolStatus(enum.IntEnum):
    REQUEST_COMPLETE = 0
    CANT_MPX_CONN = 1
    OVERLOADED = 2
    UNKNOWN_ROLE = 3


RESPONDER = 1
KEEP_CONN = 1

_HEADER = struct.Struct(">BBHHBx")
_BEGIN_BODY = struct.Struct(">HB5x")
_END_BODY = struct.Struct(">IB3x")
_LONG_LENGTH = struct.Struct(">I")
_PADDING = bytes(7)


class FastCGIError(ValueError):
    """Any FastCGI framing error."""


class ProtocolError(FastCGIError):
    """The application sent records that cannot be a valid response."""


class ParamTooLarge(FastCGIError):
    """A name-value pair that is longer than one PARAMS record can carry."""


@dataclass(frozen=True, slots=True)
class Stdout:
    data: bytes


@dataclass(frozen=True, slots=True)
class Stderr:
    data: bytes


@dataclass(frozen=True, slots=True)
class EndRequest:
    app_status: int
    protocol_status: ProtocolStatus


Event = Stdout | Stderr | EndRequest


def _record(
    record_type: int, request_id: int, content: bytes | bytearray | memoryview = b""
) -> bytes:
    size = len(content)
    padding = -size % 8
    header = _HEADER.pack(VERSION, record_type, request_id, size, padding)
    return b"".join((header, content, _PADDING[:padding]))


def begin_request(request_id: int, *, keep_conn: bool = True) -> bytes:
    flags = KEEP_CONN if keep_conn else 0
    return _record(RecordType.BEGIN_REQUEST, request_id, _BEGIN_BODY.pack(RESPONDER, flags))


def abort_request(request_id: int) -> bytes:
    return _record(RecordType.ABORT_REQUEST, request_id)


def _length(size: int) -> bytes:
    return bytes((size,)) if size < 128 else _LONG_LENGTH.pack(size | 0x80000000)


def encode_pair(name: bytes, value: bytes) -> bytes:
    """One name-value pair: each length in 1 byte below 128, else in 4 bytes."""
    if len(name) < 128 and len(value) < 128:
        return bytes((len(name), len(value))) + name + value
    return b"".join((_length(len(name)), _length(len(value)), name, value))


def params(request_id: int, pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """PARAMS records holding `pairs` (whole pairs per record), then the empty terminator."""
    pairs = list(pairs)
    content = bytearray()
    for name, value in pairs:
        if len(name) < 128 and len(value) < 128:
            content.append(len(name))
            content.append(len(value))
        else:
            content += _length(len(name))
            content += _length(len(value))
        content += name
        content += value
    if not content:
        return end_stream(RecordType.PARAMS, request_id)
    if len(content) <= MAX_CONTENT:  # the usual request: one record
        return _record(RecordType.PARAMS, request_id, content) + end_stream(
            RecordType.PARAMS, request_id
        )
    return _params_records(request_id, pairs)


def _params_records(request_id: int, pairs: list[tuple[bytes, bytes]]) -> bytes:
    records: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for name, value in pairs:
        pair = encode_pair(name, value)
        if len(pair) > MAX_CONTENT:
            raise ParamTooLarge(f"param {name[:64]!r} is {len(pair)} bytes encoded")
        if size + len(pair) > MAX_CONTENT:
            records.append(_record(RecordType.PARAMS, request_id, b"".join(batch)))
            batch, size = [], 0
        batch.append(pair)
        size += len(pair)
    records.append(_record(RecordType.PARAMS, request_id, b"".join(batch)))
    records.append(end_stream(RecordType.PARAMS, request_id))
    return b"".join(records)


def stream(record_type: RecordType, request_id: int, data: bytes | memoryview) -> bytes:
    """`data` as records of `record_type`, none empty (an empty record ends a stream)."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    for start in range(0, len(view), MAX_CHUNK):
        chunk = view[start : start + MAX_CHUNK]
        padding = -len(chunk) % 8
        parts += (_HEADER.pack(VERSION, record_type, request_id, len(chunk), padding), chunk)
        if padding:
            parts.append(_PADDING[:padding])
    return b"".join(parts)  # one copy of the data, whatever the number of records


def stdin(request_id: int, data: bytes | memoryview) -> bytes:
    return stream(RecordType.STDIN, request_id, data)


def end_stream(record_type: RecordType, request_id: int) -> bytes:
    """The empty record that ends a stream."""
    return _record(record_type, request_id)


def end_stdin(request_id: int) -> bytes:
    return end_stream(RecordType.STDIN, request_id)


def end_request(
    request_id: int,
    app_status: int = 0,
    protocol_status: ProtocolStatus = ProtocolStatus.REQUEST_COMPLETE,
) -> bytes:
    return _record(RecordType.END_REQUEST, request_id, _END_BODY.pack(app_status, protocol_status))


def decode_pairs(content: bytes | memoryview) -> list[tuple[bytes, bytes]]:
    """The name-value pairs of one PARAMS record's content (what the application reads)."""
    view = memoryview(content)
    pairs: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(view):
        name_size, pos = _read_length(view, pos)
        value_size, pos = _read_length(view, pos)
        end = pos + name_size + value_size
        if end > len(view):
            raise ProtocolError("name-value pair longer than its record")
        pairs.append((bytes(view[pos : pos + name_size]), bytes(view[pos + name_size : end])))
        pos = end
    return pairs


def _read_length(view: memoryview, pos: int) -> tuple[int, int]:
    if pos >= len(view):
        raise ProtocolError("name-value pair cut short")
    if view[pos] < 128:
        return view[pos], pos + 1
    if pos + 4 > len(view):
        raise ProtocolError("name-value pair cut short")
    return _LONG_LENGTH.unpack_from(view, pos)[0] & 0x7FFFFFFF, pos + 4


class ResponseDecoder:
    """Decodes one request's response records, fed in any split. After an error, discard it."""

    __slots__ = ("_ended", "_need", "_pending", "_request_id")

    def __init__(self, request_id: int) -> None:
        self._request_id = request_id
        self._pending = bytearray()
        self._need = HEADER_SIZE  # bytes of the held record that must arrive before parsing
        self._ended = False

    @property
    def ended(self) -> bool:
        """END_REQUEST has arrived."""
        return self._ended

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        if self._ended:
            if data:
                raise ProtocolError("data after END_REQUEST")
            return []
        if self._pending:
            self._pending += data
            if len(self._pending) < self._need:
                return []
            data = bytes(self._pending)
            self._pending.clear()
        return self._parse(memoryview(data))

    def _parse(self, view: memoryview) -> list[Event]:
        events: list[Event] = []
        pos, end = 0, len(view)
        need = HEADER_SIZE
        while end - pos >= HEADER_SIZE:
            version, kind, request_id, size, padding = _HEADER.unpack_from(view, pos)
            self._check_header(version, kind, request_id)
            need = HEADER_SIZE + size + padding
            if end - pos < need:
                break
            start = pos + HEADER_SIZE
            pos += need
            need = HEADER_SIZE
            if kind == RecordType.STDOUT:
                if size:
                    events.append(Stdout(bytes(view[start : start + size])))
            elif kind == RecordType.STDERR:
                if size:
                    events.append(Stderr(bytes(view[start : start + size])))
            else:
                events.append(self._end(view[start : start + size]))
                if pos != end:
                    raise ProtocolError("data after END_REQUEST")
                return events
        if pos < end:
            self._pending += view[pos:]
        self._need = need
        return events

    def _check_header(self, version: int, kind: int, request_id: int) -> None:
        if version != VERSION:
            raise ProtocolError(f"FastCGI version {version}, expected {VERSION}")
        if kind not in _RESPONSE_TYPES:
            raise ProtocolError(f"unexpected record type {kind} in a response")
        if request_id != self._request_id:
            raise ProtocolError(f"record for request {request_id}, expected {self._request_id}")

    def _end(self, body: memoryview) -> EndRequest:
        if len(body) != _END_BODY.size:
            raise ProtocolError(f"END_REQUEST body of {len(body)} bytes, expected 8")
        app_status, status = _END_BODY.unpack(body)
        try:
            protocol_status = ProtocolStatus(status)
        except ValueError:
            raise ProtocolError(f"unknown protocol status {status}") from None
        self._ended = True
        return EndRequest(app_status, protocol_status)


_RESPONSE_TYPES = frozenset({RecordType.STDOUT, RecordType.STDERR, RecordType.END_REQUEST})
