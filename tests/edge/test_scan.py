"""The scanners that split the byte stream: same answer for any split of the same bytes, and
the same answer as a byte-at-a-time reference model."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.edge.limits import Refusal
from proxy.edge.scan import ChunkedScanner, HeadScanner, Overflow

FIRST, LINE, TOTAL = 64, 48, 256
Result = tuple[int, Overflow | None]


def reference(data: bytes, first: int = FIRST, line_max: int = LINE, total: int = TOTAL) -> Result:
    """A head's end or first overflow, one byte at a time: the obvious definition."""
    size, lines, started, line, prev_crlf = 0, 0, False, b"", True
    for at, byte in enumerate(data):
        size += 1
        if not started and byte in b"\r\n":
            if size > total:
                return -1, Overflow(at, Refusal.HEAD_TOO_LARGE)
            continue
        started = True
        line += bytes([byte])
        if len(line) > (first if lines == 0 else line_max):
            refusal = Refusal.REQUEST_LINE_TOO_LONG if lines == 0 else Refusal.HEADER_TOO_LARGE
            return -1, Overflow(at, refusal)
        if size > total:
            return -1, Overflow(at, Refusal.HEAD_TOO_LARGE)
        if byte == 10:
            if line == b"\r\n" and lines > 0 and prev_crlf:
                return at + 1, None
            lines += 1
            prev_crlf = line.endswith(b"\r\n")
            line = b""
    return -1, None


def scan_pieces(scanner: HeadScanner | ChunkedScanner, pieces: list[bytes]) -> Result:
    """Feed pieces in order; the first end or overflow, as an offset in the whole stream."""
    offset = 0
    for piece in pieces:
        if not piece:
            continue
        end, over = scanner.scan(piece)
        if over is not None:
            return -1, Overflow(offset + over.at, over.refusal)
        if end >= 0:
            return offset + end, None
        offset += len(piece)
    return -1, None


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def head_scanner() -> HeadScanner:
    return HeadScanner(FIRST, LINE, TOTAL)


HEADS = {
    "small": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "small-with-body": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
    "pipelined": b"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
    "leading-blank-lines": b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "request-line-at-limit": b"GET /" + b"a" * (FIRST - 16) + b" HTTP/1.1\r\n\r\n",
    "request-line-over": b"GET /" + b"a" * (FIRST - 15) + b" HTTP/1.1\r\n\r\n",
    "header-line-at-limit": b"GET / HTTP/1.1\r\nX: " + b"v" * (LINE - 5) + b"\r\n\r\n",
    "header-line-over": b"GET / HTTP/1.1\r\nX: " + b"v" * (LINE - 4) + b"\r\n\r\n",
    "head-over": b"GET / HTTP/1.1\r\n" + (b"X: " + b"v" * 40 + b"\r\n") * 8 + b"\r\n",
    "endless-line": b"GET / HTTP/1.1\r\nX: " + b"v" * 1000,
    "endless-blank-lines": b"\r\n" * 500,
    "bare-lf-is-not-an-end": b"GET / HTTP/1.1\n\nX: y\r\n\r\n",
    "bare-lf-then-crlf-is-not-an-end": b"GET / HTTP/1.1\r\nX: y\n\r\nZ: 1\r\n\r\n",
    "cr-split-from-lf": b"GET / HTTP/1.1\r\nA: b\r\n\r\n",
}


@pytest.mark.parametrize("data", list(HEADS.values()), ids=list(HEADS))
def test_every_split_of_a_head_gives_the_reference_answer(data: bytes) -> None:
    expected = reference(data)
    assert scan_pieces(head_scanner(), [data]) == expected
    for cut in range(1, len(data)):
        assert scan_pieces(head_scanner(), [data[:cut], data[cut:]]) == expected, cut
    assert scan_pieces(head_scanner(), [bytes([b]) for b in data]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("request-line-at-limit", None, id="request-line-at-limit"),
        pytest.param("request-line-over", Refusal.REQUEST_LINE_TOO_LONG, id="request-line-over"),
        pytest.param("header-line-at-limit", None, id="header-line-at-limit"),
        pytest.param("header-line-over", Refusal.HEADER_TOO_LARGE, id="header-line-over"),
        pytest.param("head-over", Refusal.HEAD_TOO_LARGE, id="head-over"),
        pytest.param("endless-line", Refusal.HEADER_TOO_LARGE, id="endless-line"),
        pytest.param("endless-blank-lines", Refusal.HEAD_TOO_LARGE, id="endless-blank-lines"),
    ],
)
def test_a_limit_is_broken_at_the_first_byte_past_it(name: str, expected: Refusal | None) -> None:
    _, over = scan_pieces(head_scanner(), [HEADS[name]])
    assert (over.refusal if over else None) is expected


def test_the_scanner_is_ready_for_the_next_head_after_an_end() -> None:
    scanner = head_scanner()
    first = b"GET / HTTP/1.1\r\nX: " + b"v" * 30 + b"\r\n\r\n"
    assert scanner.scan(first[:20]) == (-1, None)
    assert scanner.scan(first[20:]) == (len(first) - 20, None)
    assert scanner.size == 0
    assert scanner.scan(HEADS["small"]) == (len(HEADS["small"]), None)


lines = st.lists(
    st.one_of(
        st.binary(max_size=70).map(lambda b: b.replace(b"\n", b"") + b"\r\n"),
        st.sampled_from([b"\r\n", b"\n", b"\r", b"GET / HTTP/1.1\r\n"]),
        st.binary(max_size=8),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(parts=lines, cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_any_bytes_in_any_split_give_the_reference_answer(
    parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    assert scan_pieces(head_scanner(), split(data, cuts)) == reference(data)


def chunked(chunks: list[bytes], trailers: bytes = b"", extension: bytes = b"") -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), extension, c) for c in chunks if c)
    return out + b"0\r\n" + trailers + b"\r\n"


def chunked_scanner(max_line: int = LINE) -> ChunkedScanner:
    return ChunkedScanner(max_line, HeadScanner(0, LINE, TOTAL, trailers=True))


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=40), max_size=5),
    trailers=st.sampled_from([b"", b"T: 1\r\n", b"A: 1\r\nB: 22\r\n"]),
    extension=st.sampled_from([b"", b";a=b", b';n="v"']),
    after=st.binary(max_size=20),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_a_chunked_body_ends_where_its_encoding_ends_in_any_split(
    chunks: list[bytes], trailers: bytes, extension: bytes, after: bytes, cuts: list[int]
) -> None:
    body = chunked(chunks, trailers, extension)
    assert scan_pieces(chunked_scanner(), split(body + after, cuts)) == (len(body), None)


def test_chunk_data_that_looks_like_an_end_is_data() -> None:
    body = chunked([b"0\r\n\r\n", b"\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"])
    assert scan_pieces(chunked_scanner(), [body + b"GET /next HTTP/1.1\r\n\r\n"]) == (
        len(body),
        None,
    )


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        pytest.param(
            b"3;" + b"x" * LINE + b"\r\nabc\r\n0\r\n\r\n",
            Refusal.CHUNK_LINE_TOO_LONG,
            id="extension",
        ),
        pytest.param(
            b"0\r\nT: " + b"v" * LINE + b"\r\n\r\n", Refusal.HEADER_TOO_LARGE, id="trailer-line"
        ),
        pytest.param(
            b"0\r\n" + b"T: vvvv\r\n" * 40 + b"\r\n", Refusal.HEAD_TOO_LARGE, id="trailers"
        ),
        pytest.param(b"zz\r\nabc\r\n0\r\n\r\n", Refusal.BAD_REQUEST, id="size-not-hex"),
    ],
)
def test_a_chunked_body_is_bounded(body: bytes, refusal: Refusal) -> None:
    _, over = scan_pieces(chunked_scanner(), [body])
    assert over is not None and over.refusal is refusal
