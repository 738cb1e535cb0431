"""proxy.sides.conditions: validators, preconditions, ranges and codings, as nginx 1.22 reads them
(each expectation below was checked against nginx 1.22.1 with `gzip_static on`)."""

from __future__ import annotations

import pytest

from proxy.sides.conditions import (
    UNSATISFIABLE,
    Asked,
    Span,
    Unsatisfiable,
    Verdict,
    choose_coding,
    etag,
    evaluate,
    parse_http_date,
    read_asked,
    requested_spans,
)

LM = 1577934245  # Thu, 02 Jan 2020 03:04:05 GMT
LM_TEXT = b"Thu, 02 Jan 2020 03:04:05 GMT"
TAG = b'"5e0d5da5-14"'


@pytest.mark.parametrize(
    ("mtime", "size", "expected"),
    [
        pytest.param(LM, 20, b'"5e0d5da5-14"', id="lowercase-hex"),
        pytest.param(0, 0, b'"0-0"', id="zero"),
        pytest.param(1796369265, 4096, b'"6b126b71-1000"', id="4k"),
    ],
)
def test_etag_is_nginx_mtime_hex_dash_size_hex(mtime: int, size: int, expected: bytes) -> None:
    assert etag(mtime, size) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(LM_TEXT, LM, id="rfc1123"),
        pytest.param(b"Thursday, 02-Jan-20 03:04:05 GMT", LM, id="rfc850"),
        pytest.param(b"Thu Jan  2 03:04:05 2020", LM, id="asctime"),
        pytest.param(LM_TEXT + b"; length=20", LM, id="trailing-text-ignored"),
        pytest.param(b"Fri, 29 Feb 2019 00:00:00 GMT", None, id="no-29-feb-2019"),
        pytest.param(b"Sat, 29 Feb 2020 00:00:00 GMT", 1582934400, id="leap-day"),
        pytest.param(b"Thu, 02 Jan 2020 24:00:00 GMT", None, id="hour-24"),
        pytest.param(b"Thu, 02 Foo 2020 03:04:05 GMT", None, id="unknown-month"),
        pytest.param(b"Thu, 2 Jan 2020 03:04:05 GMT", None, id="one-digit-day"),
        pytest.param(b"garbage", None, id="garbage"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_http_dates_parse_as_nginx_parses_them(value: bytes, expected: int | None) -> None:
    assert parse_http_date(value) == expected


def test_read_asked_keeps_the_first_of_repeated_headers_and_trims_blanks() -> None:
    asked = read_asked(
        [
            (b"If-None-Match", b' "a" '),
            (b"if-none-match", b'"b"'),
            (b"RANGE", b"bytes=0-1"),
            (b"x-other", b"1"),
        ]
    )
    assert asked == Asked(if_none_match=b'"a"', range=b"bytes=0-1")
    assert asked.conditional


def test_read_asked_without_relevant_headers_asks_nothing() -> None:
    asked = read_asked([(b"host", b"h"), (b"accept", b"*/*")])
    assert asked == Asked()
    assert not asked.conditional


def _asked(*pairs: tuple[bytes, bytes]) -> Asked:
    return read_asked(list(pairs))


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        pytest.param(_asked(), Verdict.SEND, id="unconditional"),
        pytest.param(_asked((b"if-none-match", TAG)), Verdict.NOT_MODIFIED, id="inm-same"),
        pytest.param(_asked((b"if-none-match", b"W/" + TAG)), Verdict.NOT_MODIFIED, id="inm-weak"),
        pytest.param(_asked((b"if-none-match", b"*")), Verdict.NOT_MODIFIED, id="inm-star"),
        pytest.param(
            _asked((b"if-none-match", b'"x", ' + TAG)), Verdict.NOT_MODIFIED, id="inm-in-list"
        ),
        pytest.param(_asked((b"if-none-match", b'"x"')), Verdict.SEND, id="inm-other"),
        pytest.param(
            _asked((b"if-none-match", TAG + b"x")), Verdict.SEND, id="inm-prefix-not-enough"
        ),
        pytest.param(_asked((b"if-modified-since", LM_TEXT)), Verdict.NOT_MODIFIED, id="ims-same"),
        pytest.param(
            _asked((b"if-modified-since", b"Thu, 02 Jan 2020 03:04:06 GMT")),
            Verdict.SEND,
            id="ims-later-is-not-exact",
        ),
        pytest.param(
            _asked((b"if-modified-since", b"Thu, 02 Jan 2020 03:04:04 GMT")),
            Verdict.SEND,
            id="ims-earlier",
        ),
        pytest.param(_asked((b"if-modified-since", b"garbage")), Verdict.SEND, id="ims-garbage"),
        pytest.param(
            _asked((b"if-modified-since", LM_TEXT), (b"if-none-match", b'"x"')),
            Verdict.SEND,
            id="ims-same-but-inm-other",
        ),
        pytest.param(
            _asked(
                (b"if-modified-since", b"Thu, 02 Jan 2020 03:04:06 GMT"), (b"if-none-match", TAG)
            ),
            Verdict.SEND,
            id="inm-same-but-ims-other",
        ),
        pytest.param(_asked((b"if-match", b'"x"')), Verdict.PRECONDITION_FAILED, id="im-other"),
        pytest.param(_asked((b"if-match", TAG)), Verdict.SEND, id="im-same"),
        pytest.param(_asked((b"if-match", b"*")), Verdict.SEND, id="im-star"),
        pytest.param(
            _asked((b"if-match", b"W/" + TAG)), Verdict.PRECONDITION_FAILED, id="im-weak-is-strong"
        ),
        pytest.param(_asked((b"if-match", b'"a", ' + TAG)), Verdict.SEND, id="im-in-list"),
        pytest.param(
            _asked((b"if-unmodified-since", b"Wed, 01 Jan 2020 00:00:00 GMT")),
            Verdict.PRECONDITION_FAILED,
            id="ius-earlier",
        ),
        pytest.param(_asked((b"if-unmodified-since", LM_TEXT)), Verdict.SEND, id="ius-same"),
        pytest.param(
            _asked((b"if-unmodified-since", b"Fri, 03 Jan 2020 00:00:00 GMT")),
            Verdict.SEND,
            id="ius-later",
        ),
        pytest.param(
            _asked((b"if-unmodified-since", b"garbage")),
            Verdict.PRECONDITION_FAILED,
            id="ius-garbage-fails",
        ),
        pytest.param(
            _asked((b"if-match", b'"x"'), (b"if-none-match", TAG)),
            Verdict.PRECONDITION_FAILED,
            id="412-before-304",
        ),
    ],
)
def test_preconditions_follow_nginx(asked: Asked, expected: Verdict) -> None:
    assert evaluate(asked, TAG, LM) is expected


def _spans(range_value: bytes, size: int = 20, if_range: bytes | None = None) -> object:
    asked = Asked(range=range_value, if_range=if_range)
    return requested_spans(asked, size, TAG, LM)


RangeAnswer = list[Span] | Unsatisfiable | None


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        pytest.param(b"bytes=0-1", 20, [(0, 2)], id="first-two"),
        pytest.param(b"bytes=15-", 20, [(15, 20)], id="open-ended"),
        pytest.param(b"bytes=-3", 20, [(17, 20)], id="suffix"),
        pytest.param(b"bytes=-30", 20, [(0, 20)], id="suffix-longer-than-file"),
        pytest.param(b"bytes=0-100", 20, [(0, 20)], id="end-clamped"),
        pytest.param(b"BYTES=1-2", 20, [(1, 3)], id="unit-any-case"),
        pytest.param(b"bytes= 1 - 2 ", 20, [(1, 3)], id="blanks-around-numbers"),
        pytest.param(b"bytes=1-2,4-5", 20, [(1, 3), (4, 6)], id="two-ranges"),
        pytest.param(b"bytes=0-0,-1", 20, [(0, 1), (19, 20)], id="first-and-last-byte"),
        pytest.param(b"bytes=0-1,30-40", 20, [(0, 2)], id="range-past-end-dropped"),
        pytest.param(b"bytes=-0", 20, UNSATISFIABLE, id="empty-suffix"),
        pytest.param(b"bytes=20-", 20, UNSATISFIABLE, id="starts-at-end"),
        pytest.param(b"bytes=5-2", 20, UNSATISFIABLE, id="backwards"),
        pytest.param(b"bytes=30-40,50-60", 20, UNSATISFIABLE, id="all-past-end"),
        pytest.param(b"bytes=abc", 20, UNSATISFIABLE, id="not-numbers"),
        pytest.param(b"bytes=1-2;x", 20, UNSATISFIABLE, id="trailing-junk"),
        pytest.param(b"bytes=1-2,", 20, UNSATISFIABLE, id="trailing-comma"),
        pytest.param(b"bytes=-", 20, UNSATISFIABLE, id="dash-only"),
        pytest.param(b"bytes=99999999999999999999-", 20, UNSATISFIABLE, id="past-off-t"),
        pytest.param(b"bytes=" + b"9" * 5000 + b"-", 20, UNSATISFIABLE, id="thousands-of-digits"),
        pytest.param(b"bytes=0-10,5-15", 20, None, id="overlap-asks-more-than-file"),
        pytest.param(b"bytes=0-,0-", 20, None, id="twice-the-whole-file"),
        pytest.param(b"bytes=", 20, None, id="too-short"),
        pytest.param(b"bytes = 1-2", 20, None, id="not-bytes-equals"),
        pytest.param(b"items=1-2", 20, None, id="other-unit"),
        pytest.param(b"bytes=0-5", 0, None, id="empty-file-whole"),
        pytest.param(b"bytes=-5", 0, None, id="empty-file-suffix-whole"),
        pytest.param(b"bytes=5-", 0, UNSATISFIABLE, id="empty-file-past-end"),
    ],
)
def test_ranges_are_read_as_nginx_reads_them(
    value: bytes, size: int, expected: RangeAnswer
) -> None:
    assert _spans(value, size) == expected


@pytest.mark.parametrize(
    ("if_range", "expected"),
    [
        pytest.param(TAG, [(0, 2)], id="same-tag"),
        pytest.param(b"W/" + TAG, None, id="weak-tag"),
        pytest.param(b'"zz"', None, id="other-tag"),
        pytest.param(LM_TEXT, [(0, 2)], id="same-date"),
        pytest.param(b"Thu, 02 Jan 2020 03:04:06 GMT", None, id="later-date"),
        pytest.param(b"garbage", None, id="garbage"),
    ],
)
def test_if_range_keeps_the_range_only_for_the_same_file(
    if_range: bytes, expected: RangeAnswer
) -> None:
    assert _spans(b"bytes=0-1", if_range=if_range) == expected


BOTH = ("br", "gzip")


@pytest.mark.parametrize(
    ("accept", "available", "expected"),
    [
        pytest.param(None, BOTH, None, id="no-header"),
        pytest.param(b"gzip", BOTH, "gzip", id="gzip"),
        pytest.param(b"gzip, deflate, br", BOTH, "br", id="browser-prefers-server-order"),
        pytest.param(b"br;q=0.5, gzip", BOTH, "gzip", id="higher-q-wins"),
        pytest.param(b"GZIP", ("gzip",), "gzip", id="any-case"),
        pytest.param(b"gzip;q=0", ("gzip",), None, id="q-zero-refuses"),
        pytest.param(b"gzip;q=0.000", ("gzip",), None, id="q-zero-decimals"),
        pytest.param(b"gzip;q=0.001", ("gzip",), "gzip", id="tiny-q-accepts"),
        pytest.param(b"gzip;q=2", ("gzip",), None, id="q-out-of-range"),
        pytest.param(b"br", ("gzip",), None, id="only-other-coding"),
        pytest.param(b"x-gzip", ("gzip",), None, id="x-gzip-is-not-gzip"),
        pytest.param(b"gzipx", ("gzip",), None, id="not-a-prefix-match"),
        pytest.param(b"identity", BOTH, None, id="identity-only"),
        pytest.param(b"gzip;q=0.5, identity", ("gzip",), None, id="identity-preferred"),
        pytest.param(b"gzip, identity;q=0.5", ("gzip",), "gzip", id="coding-preferred"),
        pytest.param(b"*", BOTH, "br", id="star-takes-any"),
        pytest.param(b"*, br;q=0", BOTH, "gzip", id="star-but-not-br"),
        pytest.param(b"gzip", (), None, id="nothing-available"),
    ],
)
def test_coding_is_chosen_by_q_value_then_server_order(
    accept: bytes | None, available: tuple[str, ...], expected: str | None
) -> None:
    assert choose_coding(accept, available) == expected
