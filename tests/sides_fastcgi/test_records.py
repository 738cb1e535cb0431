"""The FastCGI record codec: known bytes, round trips, any split, and malformed input refused.

Records are checked against an independent reader written here from the specification, so the
codec is never its own oracle.
"""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.records import (
    EndRequest,
    Event,
    ParamTooLarge,
    ProtocolError,
    ProtocolStatus,
    RecordType,
    ResponseDecoder,
    Stderr,
    Stdout,
)

Record = tuple[int, int, bytes]  # type, request id, content


def read_records(data: bytes) -> list[Record]:
    """The specification's framing: 8-byte header, content, padding; nothing left over."""
    found: list[Record] = []
    pos = 0
    while pos < len(data):
        version, kind, request_id, size, padding, _ = struct.unpack_from(">BBHHBB", data, pos)
        assert version == 1
        assert (size + padding) % 8 == 0, "records are padded to a multiple of 8"
        found.append((kind, request_id, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + padding
    assert pos == len(data)
    return found


def read_pairs(content: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    pos = 0
    while pos < len(content):
        sizes = []
        for _ in range(2):
            if content[pos] >> 7:
                sizes.append(struct.unpack_from(">I", content, pos)[0] & 0x7FFFFFFF)
                pos += 4
            else:
                sizes.append(content[pos])
                pos += 1
        name_end = pos + sizes[0]
        pairs.append((content[pos:name_end], content[name_end : name_end + sizes[1]]))
        pos = name_end + sizes[1]
    return pairs


def feed_in_pieces(data: bytes, cuts: list[int], request_id: int = 1) -> list[Event]:
    decoder = ResponseDecoder(request_id)
    events: list[Event] = []
    bounds = [0, *sorted(cuts), len(data)]
    for start, end in itertools.pairwise(bounds):
        events.extend(decoder.feed(data[start:end]))
    return events


def response(parts: list[tuple[RecordType, bytes]], app_status: int = 0, rid: int = 1) -> bytes:
    body = b"".join(records.stream(kind, rid, data) for kind, data in parts)
    closing = [records.end_stream(kind, rid) for kind in (RecordType.STDERR, RecordType.STDOUT)]
    return body + b"".join(closing) + records.end_request(rid, app_status)


# -- known bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        pytest.param(
            records.begin_request(1),
            bytes.fromhex("0101000100080000 0001010000000000"),
            id="begin-request-responder-keep-conn",
        ),
        pytest.param(
            records.begin_request(258, keep_conn=False),
            bytes.fromhex("0101010200080000 0001000000000000"),
            id="begin-request-closing-connection",
        ),
        pytest.param(records.abort_request(7), bytes.fromhex("0102000700000000"), id="abort"),
        pytest.param(records.end_stdin(3), bytes.fromhex("0105000300000000"), id="end-of-stdin"),
        pytest.param(
            records.params(1, [(b"A", b"bc")]),
            bytes.fromhex("0104000100050300 0102416263000000 0104000100000000"),
            id="params-padded-to-8-then-terminator",
        ),
        pytest.param(
            records.end_request(1, 3, ProtocolStatus.OVERLOADED),
            bytes.fromhex("0103000100080000 0000000302000000"),
            id="end-request",
        ),
    ],
)
def test_records_have_the_specified_bytes(encoded: bytes, expected: bytes) -> None:
    assert encoded == expected


@pytest.mark.parametrize(
    ("size", "prefix"),
    [
        pytest.param(0, b"\x00", id="empty-one-byte"),
        pytest.param(127, b"\x7f", id="127-one-byte"),
        pytest.param(128, b"\x80\x00\x00\x80", id="128-four-bytes-high-bit-set"),
        pytest.param(70000, b"\x80\x01\x11\x70", id="70000-four-bytes"),
    ],
)
def test_pair_lengths_take_one_byte_below_128_and_four_from_there(size: int, prefix: bytes) -> None:
    encoded = records.encode_pair(b"x" * size, b"")
    assert encoded.startswith(prefix)
    assert read_pairs(encoded) == [(b"x" * size, b"")]


# -- round trips --------------------------------------------------------------------------------


def large(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Large byte strings, cheap to generate: a random pattern repeated to a random length."""
    return st.builds(
        lambda pattern, size: (pattern * (size // len(pattern) + 1))[:size],
        st.binary(min_size=1, max_size=64),
        st.integers(min_size, max_size),
    )


names = st.binary(min_size=1, max_size=300)
values = st.one_of(st.binary(max_size=300), large(5000, 30000))


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(names, values), max_size=12), rid=st.integers(1, 65535))
def test_params_round_trip_in_whole_pairs_per_record(
    pairs: list[tuple[bytes, bytes]], rid: int
) -> None:
    found = read_records(records.params(rid, pairs))
    assert all(kind == RecordType.PARAMS and r == rid for kind, r, _ in found)
    assert found[-1][2] == b"", "the stream ends with an empty record"
    assert all(content for _, _, content in found[:-1]), "only the terminator is empty"
    assert all(len(content) <= 65535 for _, _, content in found)
    decoded = [pair for _, _, content in found[:-1] for pair in read_pairs(content)]
    assert decoded == pairs
    assert [p for _, _, c in found[:-1] for p in records.decode_pairs(c)] == pairs


def test_params_larger_than_a_record_spread_over_several() -> None:
    pairs = [(b"HTTP_X_%d" % i, b"v" * 1000) for i in range(200)]
    found = read_records(records.params(1, pairs))
    assert len(found) > 3
    assert [p for _, _, c in found for p in read_pairs(c)] == pairs


def test_a_pair_that_fills_a_record_exactly_fits_and_one_byte_more_is_refused() -> None:
    fits = (b"N", b"v" * (65535 - 1 - 1 - 4))  # 1-byte name length, 4-byte value length
    assert read_pairs(read_records(records.params(1, [fits]))[0][2]) == [fits]
    with pytest.raises(ParamTooLarge, match="HTTP_COOKIE"):
        records.params(1, [(b"HTTP_COOKIE", b"v" * 65535)])


@settings(max_examples=100, deadline=None)
@given(body=st.one_of(st.binary(max_size=2000), large(65520, 140000)))
def test_stdin_round_trips_in_chunks_of_at_most_65535_bytes(body: bytes) -> None:
    found = read_records(records.stdin(9, body) + records.end_stdin(9))
    assert [kind for kind, _, _ in found] == [RecordType.STDIN] * len(found)
    assert found[-1][2] == b""
    assert all(0 < len(content) <= 65535 for _, _, content in found[:-1])
    assert b"".join(content for _, _, content in found) == body


streams = st.lists(
    st.tuples(
        st.sampled_from([RecordType.STDOUT, RecordType.STDERR]),
        st.one_of(st.binary(max_size=200), large(65520, 140000)),
    ),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(parts=streams, app_status=st.integers(0, 2**32 - 1))
def test_stdout_and_stderr_round_trip_through_the_decoder(
    parts: list[tuple[RecordType, bytes]], app_status: int
) -> None:
    events = ResponseDecoder(1).feed(response(parts, app_status))
    wanted = {RecordType.STDOUT: Stdout, RecordType.STDERR: Stderr}
    assert b"".join(e.data for e in events if isinstance(e, Stdout)) == b"".join(
        data for kind, data in parts if kind == RecordType.STDOUT
    )
    assert b"".join(e.data for e in events if isinstance(e, Stderr)) == b"".join(
        data for kind, data in parts if kind == RecordType.STDERR
    )
    assert [type(e) for e in events[:-1]] == [
        wanted[kind] for kind, data in parts for _ in range(0, len(data), records.MAX_CHUNK)
    ]
    assert events[-1] == EndRequest(app_status, ProtocolStatus.REQUEST_COMPLETE)


small_streams = st.lists(
    st.tuples(st.sampled_from([RecordType.STDOUT, RecordType.STDERR]), st.binary(max_size=40)),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(parts=small_streams)
def test_the_decoder_gives_the_same_events_split_at_every_byte(
    parts: list[tuple[RecordType, bytes]],
) -> None:
    data = response(parts)
    whole = ResponseDecoder(1).feed(data)
    for cut in range(len(data) + 1):
        assert feed_in_pieces(data, [cut]) == whole, f"split at {cut}"
    assert feed_in_pieces(data, list(range(1, len(data)))) == whole, "one byte at a time"


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(st.tuples(st.just(RecordType.STDOUT), large(0, 140000)), max_size=3),
    cuts=st.lists(st.integers(0, 300000), max_size=30),
)
def test_the_decoder_gives_the_same_events_for_large_records_in_any_pieces(
    parts: list[tuple[RecordType, bytes]], cuts: list[int]
) -> None:
    data = response(parts)
    cuts = [cut % (len(data) + 1) for cut in cuts]
    assert feed_in_pieces(data, cuts) == ResponseDecoder(1).feed(data)


def test_the_decoder_accepts_padding_it_would_not_have_chosen() -> None:
    padded = struct.pack(">BBHHBx", 1, RecordType.STDOUT, 1, 3, 250) + b"abc" + bytes(250)
    events = ResponseDecoder(1).feed(padded + records.end_request(1))
    assert events == [Stdout(b"abc"), EndRequest(0, ProtocolStatus.REQUEST_COMPLETE)]


@pytest.mark.parametrize("status", list(ProtocolStatus), ids=lambda s: s.name.lower())
def test_end_request_reports_the_protocol_status(status: ProtocolStatus) -> None:
    decoder = ResponseDecoder(4)
    assert decoder.feed(records.end_request(4, 0, status)) == [EndRequest(0, status)]
    assert decoder.ended


# -- malformed input ----------------------------------------------------------------------------


def header(kind: int, rid: int = 1, size: int = 0, padding: int = 0, version: int = 1) -> bytes:
    return struct.pack(">BBHHBx", version, kind, rid, size, padding)


stdout_ok = records.stream(RecordType.STDOUT, 1, b"Status: 200\r\n\r\n")

MALFORMED = [
    pytest.param(header(RecordType.STDOUT, version=2) + b"x" * 8, "version", id="bad-version"),
    pytest.param(header(RecordType.STDOUT, version=0), "version", id="version-zero"),
    pytest.param(header(RecordType.STDOUT, rid=2, size=1, padding=7) + bytes(8), "request 2",
                 id="another-request-id"),
    pytest.param(header(RecordType.STDOUT, rid=0), "request 0", id="management-record"),
    pytest.param(header(11, rid=0, size=8) + bytes(8), "type 11", id="unknown-type-record"),
    pytest.param(header(99), "type 99", id="unknown-type"),
    pytest.param(header(RecordType.BEGIN_REQUEST, size=8) + bytes(8), "type 1",
                 id="begin-request-from-the-application"),
    pytest.param(header(RecordType.PARAMS), "type 4", id="params-from-the-application"),
    pytest.param(header(RecordType.STDIN), "type 5", id="stdin-from-the-application"),
    pytest.param(header(RecordType.END_REQUEST, size=16) + bytes(16), "16 bytes",
                 id="end-request-content-longer-than-its-body"),
    pytest.param(header(RecordType.END_REQUEST, size=4, padding=4) + bytes(8), "4 bytes",
                 id="end-request-content-shorter-than-its-body"),
    pytest.param(header(RecordType.END_REQUEST, size=8) + bytes(4) + b"\x09" + bytes(3),
                 "protocol status 9", id="unknown-protocol-status"),
    pytest.param(records.end_request(1) + stdout_ok, "after END_REQUEST",
                 id="stdout-after-end-request"),
    pytest.param(records.end_request(1) + b"\x01", "after END_REQUEST",
                 id="one-byte-after-end-request"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "reason"), MALFORMED)
def test_malformed_records_are_refused_whole(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        ResponseDecoder(1).feed(stdout_ok + data)


@pytest.mark.parametrize(("data", "reason"), MALFORMED)
def test_malformed_records_are_refused_whatever_the_split(data: bytes, reason: str) -> None:
    data = stdout_ok + data
    for cut in range(len(data) + 1):
        with pytest.raises(ProtocolError, match=reason):
            feed_in_pieces(data, [cut])
    with pytest.raises(ProtocolError, match=reason):
        feed_in_pieces(data, list(range(1, len(data))))


def test_data_fed_after_end_request_is_refused() -> None:
    decoder = ResponseDecoder(1)
    decoder.feed(records.end_request(1))
    assert decoder.feed(b"") == []
    with pytest.raises(ProtocolError, match="after END_REQUEST"):
        decoder.feed(stdout_ok)


def test_a_bad_header_is_refused_before_its_content_arrives() -> None:
    with pytest.raises(ProtocolError, match="version"):
        ResponseDecoder(1).feed(header(RecordType.STDOUT, size=60000, version=9))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x05\x00abc", id="name-longer-than-the-record"),
        pytest.param(b"\x80\x00", id="four-byte-length-cut-short"),
        pytest.param(b"\x01", id="value-length-missing"),
    ],
)
def test_pairs_longer_than_their_record_are_refused(content: bytes) -> None:
    with pytest.raises(ProtocolError):
        records.decode_pairs(content)
