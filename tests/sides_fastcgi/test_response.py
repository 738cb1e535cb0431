"""The CGI response head inside STDOUT: status, headers, body, in any split."""

from __future__ import annotations

import itertools

import pytest

from proxy.sides.fastcgi.response import Head, HeadParser, MalformedHead

PHP_HEAD = b"X-Powered-By: PHP/8.2\r\nContent-type: text/html; charset=UTF-8\r\n\r\n"

HEADS = [
    pytest.param(
        PHP_HEAD + b"<p>hi</p>",
        Head(
            200,
            b"",
            [(b"X-Powered-By", b"PHP/8.2"), (b"Content-type", b"text/html; charset=UTF-8")],
            b"<p>hi</p>",
        ),
        id="no-status-is-200",
    ),
    pytest.param(
        b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nmissing",
        Head(404, b"Not Found", [(b"Content-Type", b"text/plain")], b"missing"),
        id="status-header-sets-status-and-reason-and-is-not-passed-on",
    ),
    pytest.param(
        b"status: 418\r\n\r\n",
        Head(418, b"", [], b""),
        id="status-without-reason-any-case",
    ),
    pytest.param(
        b"Location: /login\r\nContent-type: text/html\r\n\r\n",
        Head(302, b"", [(b"Location", b"/login"), (b"Content-type", b"text/html")], b""),
        id="location-without-status-is-302",
    ),
    pytest.param(
        b"Status: 301 Moved Permanently\r\nLocation: https://example.com/\r\n\r\n",
        Head(301, b"Moved Permanently", [(b"Location", b"https://example.com/")], b""),
        id="location-with-status-keeps-the-status",
    ),
    pytest.param(
        b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Type: text/html\r\nSet-Cookie: c=3\r\n\r\n",
        Head(
            200,
            b"",
            [
                (b"Set-Cookie", b"a=1"),
                (b"set-cookie", b"b=2"),
                (b"Content-Type", b"text/html"),
                (b"Set-Cookie", b"c=3"),
            ],
            b"",
        ),
        id="repeated-headers-kept-in-order-and-spelling",
    ),
    pytest.param(
        b"Content-Type: text/plain\nX-A:b\n\nbody\r\n\r\nmore",
        Head(200, b"", [(b"Content-Type", b"text/plain"), (b"X-A", b"b")], b"body\r\n\r\nmore"),
        id="bare-newlines-and-no-space-after-colon",
    ),
    pytest.param(
        b"X-A: 1\r\nX-B: 2\n\r\nbody",
        Head(200, b"", [(b"X-A", b"1"), (b"X-B", b"2")], b"body"),
        id="mixed-line-endings",
    ),
    pytest.param(
        b"X-Empty:\r\nX-Tab:\tv \t\r\n\r\n",
        Head(200, b"", [(b"X-Empty", b""), (b"X-Tab", b"v")], b""),
        id="empty-value-and-surrounding-whitespace",
    ),
    pytest.param(b"\r\nbody", Head(200, b"", [], b"body"), id="empty-head"),
    pytest.param(b"\nbody", Head(200, b"", [], b"body"), id="empty-head-bare-newline"),
]


@pytest.mark.parametrize(("stdout", "expected"), HEADS)
def test_head_is_parsed(stdout: bytes, expected: Head) -> None:
    assert HeadParser().feed(stdout) == expected


def feed_split(stdout: bytes, cuts: list[int]) -> Head:
    parser = HeadParser()
    bounds = [0, *cuts, len(stdout)]
    body = b""
    head = None
    for start, end in itertools.pairwise(bounds):
        piece = stdout[start:end]
        if head is not None:
            body += piece
            continue
        head = parser.feed(piece)
        if head is not None:
            body = head.body
    assert head is not None
    return Head(head.status, head.reason, head.headers, body)


@pytest.mark.parametrize(("stdout", "expected"), HEADS)
def test_head_is_the_same_split_at_every_byte(stdout: bytes, expected: Head) -> None:
    for cut in range(len(stdout) + 1):
        assert feed_split(stdout, [cut]) == expected, f"split at {cut}"
    assert feed_split(stdout, list(range(1, len(stdout)))) == expected, "one byte at a time"


def test_head_is_not_complete_until_the_blank_line() -> None:
    parser = HeadParser()
    assert parser.feed(b"Content-Type: text/plain\r\n") is None
    assert parser.feed(b"X-A: 1\r\n\r") is None
    head = parser.feed(b"\nbody")
    assert head == Head(200, b"", [(b"Content-Type", b"text/plain"), (b"X-A", b"1")], b"body")


def test_feeding_after_the_head_is_a_caller_error() -> None:
    parser = HeadParser()
    parser.feed(PHP_HEAD)
    with pytest.raises(RuntimeError):
        parser.feed(b"body")


@pytest.mark.parametrize(
    ("stdout", "reason"),
    [
        pytest.param(b"no colon here\r\n\r\n", "malformed header line", id="line-without-colon"),
        pytest.param(b"Bad Name: x\r\n\r\n", "malformed header line", id="space-in-name"),
        pytest.param(b"Name : x\r\n\r\n", "malformed header line", id="space-before-colon"),
        pytest.param(b": x\r\n\r\n", "malformed header line", id="empty-name"),
        pytest.param(b"X-A: 1\r\n folded\r\n\r\n", "malformed header line", id="folded-line"),
        pytest.param(b"X-A: 1\r2\r\n\r\n", "control character", id="bare-cr-in-value"),
        pytest.param(b"X-A: 1\x002\r\n\r\n", "control character", id="nul-in-value"),
        pytest.param(b"Status: abc\r\n\r\n", "invalid Status", id="status-not-a-number"),
        pytest.param(b"Status: 99\r\n\r\n", "invalid Status", id="status-two-digits"),
        pytest.param(b"Status: 2000\r\n\r\n", "invalid Status", id="status-four-digits"),
        pytest.param(b"Status: 200\r\nStatus: 500\r\n\r\n", "more than one", id="two-statuses"),
    ],
)
def test_malformed_heads_are_refused(stdout: bytes, reason: str) -> None:
    with pytest.raises(MalformedHead, match=reason):
        HeadParser().feed(stdout)


def test_a_head_over_the_limit_is_refused_before_it_ends() -> None:
    parser = HeadParser(limit=100)
    assert parser.feed(b"X-A: " + b"a" * 80) is None
    with pytest.raises(MalformedHead, match="longer than 100"):
        parser.feed(b"a" * 30)


def test_a_head_over_the_limit_is_refused_when_it_ends_in_the_same_piece() -> None:
    with pytest.raises(MalformedHead, match="longer than 100"):
        HeadParser(limit=100).feed(b"X-A: " + b"a" * 200 + b"\r\n\r\nbody")


def test_a_head_at_the_limit_is_accepted() -> None:
    line = b"X-A: " + b"a" * 95
    head = HeadParser(limit=100).feed(line + b"\r\n\r\n")
    assert head is not None
    assert head.headers == [(b"X-A", b"a" * 95)]
