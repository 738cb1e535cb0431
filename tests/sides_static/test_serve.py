"""serve_file in-process: the headers, methods, preconditions, ranges and Cache-Control of a
static answer, driven with raw ASGI messages."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from proxy.sides.static import StaticRules
from tests.sides_static.harness import LAST_MODIFIED, MTIME, etag_of, fetch, put

TEXT = b"0123456789abcdefghij"  # 20 bytes
TAG = etag_of(len(TEXT))


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    return put(tmp_path / "r.txt", TEXT)


async def test_get_sends_nginx_s_headers_and_the_file(text_file: Path) -> None:
    answer = await fetch(text_file)
    assert answer.status == 200
    assert answer.body == TEXT
    assert answer.header("content-type") == "text/plain"
    assert answer.header("content-length") == "20"
    assert answer.header("last-modified") == LAST_MODIFIED
    assert answer.header("etag") == '"5e0d5da5-14"'
    assert answer.header("accept-ranges") == "bytes"
    assert answer.header("date") is not None
    assert {"vary", "content-encoding", "cache-control", "x-request-id"}.isdisjoint(answer.names)


async def test_head_sends_the_get_headers_without_a_body(text_file: Path) -> None:
    get = await fetch(text_file)
    head = await fetch(text_file, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert [h for h in head.headers if h[0] != b"date"] == [
        h for h in get.headers if h[0] != b"date"
    ]


async def test_unknown_extension_is_octet_stream(tmp_path: Path) -> None:
    answer = await fetch(put(tmp_path / "data.unknownext", b"x"))
    assert answer.header("content-type") == "application/octet-stream"


async def test_empty_file_is_sent_with_length_zero(tmp_path: Path) -> None:
    answer = await fetch(put(tmp_path / "empty.txt", b""))
    assert (answer.status, answer.body, answer.header("content-length")) == (200, b"", "0")
    assert answer.header("etag") == etag_of(0)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
async def test_other_methods_are_refused_with_405_and_allow(text_file: Path, method: str) -> None:
    answer = await fetch(text_file, method=method, request_id="req-1")
    assert answer.status == 405
    assert answer.header("allow") == "GET, HEAD"
    assert answer.header("content-type") == "application/json"
    assert json.loads(answer.body) == {"error": "method not allowed", "request_id": "req-1"}
    assert answer.header("x-request-id") == "req-1"


async def test_request_id_is_echoed_when_given(text_file: Path) -> None:
    answer = await fetch(text_file, request_id="abc-123")
    assert answer.header("x-request-id") == "abc-123"


async def test_a_directory_is_not_served_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    answer = await fetch(tmp_path / "d")
    assert answer.status == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param([("If-None-Match", TAG)], 304, id="inm-same"),
        pytest.param([("If-None-Match", '"other"')], 200, id="inm-other"),
        pytest.param([("If-Modified-Since", LAST_MODIFIED)], 304, id="ims-same"),
        pytest.param([("If-Modified-Since", "Fri, 03 Jan 2020 00:00:00 GMT")], 200, id="ims-later"),
        pytest.param([("If-Match", '"other"')], 412, id="if-match-other"),
        pytest.param([("If-Match", TAG)], 200, id="if-match-same"),
        pytest.param(
            [("If-Unmodified-Since", "Wed, 01 Jan 2020 00:00:00 GMT")], 412, id="ius-earlier"
        ),
        pytest.param([("If-None-Match", TAG), ("Range", "bytes=0-1")], 304, id="304-before-range"),
        pytest.param([("If-Match", '"x"'), ("Range", "bytes=0-1")], 412, id="412-before-range"),
    ],
)
async def test_conditional_requests_answer_as_nginx(
    text_file: Path, headers: list[tuple[str, str]], status: int
) -> None:
    answer = await fetch(text_file, headers)
    assert answer.status == status


async def test_304_keeps_validators_vary_and_cache_control_and_nothing_of_the_body(
    tmp_path: Path,
) -> None:
    file = put(tmp_path / "build" / "app.js", b"console.log(1)\n")
    put(tmp_path / "build" / "app.js.gz", b"gzipped")
    rules = StaticRules.build({"/build/": "public, max-age=60"})
    tag = etag_of(15)
    answer = await fetch(file, [("If-None-Match", tag)], rules=rules, url_path="/build/app.js")
    assert answer.status == 304
    assert answer.body == b""
    assert answer.header("etag") == tag
    assert answer.header("last-modified") == LAST_MODIFIED
    assert answer.header("vary") == "Accept-Encoding"
    assert answer.header("cache-control") == "public, max-age=60"
    forbidden = {"content-type", "content-length", "accept-ranges", "content-encoding"}
    assert forbidden.isdisjoint(answer.names)


async def test_412_is_the_gateway_s_json_error_without_validators(text_file: Path) -> None:
    answer = await fetch(text_file, [("If-Match", '"x"')], request_id="r")
    assert answer.status == 412
    assert json.loads(answer.body) == {"error": "precondition failed", "request_id": "r"}
    assert {"etag", "last-modified", "cache-control"}.isdisjoint(answer.names)


@pytest.mark.parametrize(
    ("range_value", "body", "content_range"),
    [
        pytest.param("bytes=0-1", b"01", "bytes 0-1/20", id="first-two"),
        pytest.param("bytes=15-", b"fghij", "bytes 15-19/20", id="open-ended"),
        pytest.param("bytes=-3", b"hij", "bytes 17-19/20", id="suffix"),
        pytest.param("bytes=0-100", TEXT, "bytes 0-19/20", id="clamped"),
    ],
)
async def test_one_range_is_206_with_content_range(
    text_file: Path, range_value: str, body: bytes, content_range: str
) -> None:
    answer = await fetch(text_file, [("Range", range_value)])
    assert answer.status == 206
    assert answer.body == body
    assert answer.header("content-range") == content_range
    assert answer.header("content-length") == str(len(body))
    assert answer.header("content-type") == "text/plain"
    assert answer.header("etag") == TAG
    assert "accept-ranges" not in answer.names  # nginx sends it on the whole file only


async def test_head_with_a_range_sends_the_206_headers_only(text_file: Path) -> None:
    answer = await fetch(text_file, [("Range", "bytes=0-1")], method="HEAD")
    assert (answer.status, answer.body) == (206, b"")
    assert answer.header("content-range") == "bytes 0-1/20"
    assert answer.header("content-length") == "2"


async def test_unsatisfiable_range_is_416_with_the_size(text_file: Path) -> None:
    answer = await fetch(text_file, [("Range", "bytes=50-")], request_id="r")
    assert answer.status == 416
    assert answer.header("content-range") == "bytes */20"
    assert json.loads(answer.body)["error"] == "range not satisfiable"


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        pytest.param(TAG, 206, id="same-etag"),
        pytest.param('"stale"', 200, id="other-etag"),
        pytest.param(LAST_MODIFIED, 206, id="same-date"),
        pytest.param("Fri, 03 Jan 2020 00:00:00 GMT", 200, id="other-date"),
    ],
)
async def test_if_range_sends_the_range_only_if_the_file_is_unchanged(
    text_file: Path, if_range: str, status: int
) -> None:
    answer = await fetch(text_file, [("Range", "bytes=0-1"), ("If-Range", if_range)])
    assert answer.status == status
    assert answer.body == (b"01" if status == 206 else TEXT)


def parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    found = re.fullmatch(r"multipart/byteranges; boundary=(\d{20})", content_type)
    assert found, content_type
    boundary = found[1].encode("ascii")
    assert body.startswith(b"\r\n--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = []
    for chunk in body[: -len(boundary) - 8].split(b"\r\n--" + boundary + b"\r\n")[1:]:
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append((fields, data))
    return parts


async def test_several_ranges_are_multipart_byteranges_as_nginx_frames_them(
    text_file: Path,
) -> None:
    answer = await fetch(text_file, [("Range", "bytes=1-2,4-5")])
    assert answer.status == 206
    content_type = answer.header("content-type") or ""
    parts = parse_multipart(content_type, answer.body)
    assert parts == [
        ({"Content-Type": "text/plain", "Content-Range": "bytes 1-2/20"}, b"12"),
        ({"Content-Type": "text/plain", "Content-Range": "bytes 4-5/20"}, b"45"),
    ]
    assert answer.header("content-length") == str(len(answer.body)) == "198"  # nginx's length
    assert "content-range" not in answer.names


async def test_overlapping_ranges_asking_more_than_the_file_get_it_whole(
    text_file: Path,
) -> None:
    answer = await fetch(text_file, [("Range", "bytes=0-10,5-15")])
    assert (answer.status, answer.body) == (200, TEXT)


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        pytest.param("/build/app.js", "public, max-age=31536000, immutable", id="build"),
        pytest.param("/build/vendor/x.js", "no-cache", id="longest-prefix-wins"),
        pytest.param("/buildx/app.js", None, id="prefix-is-literal"),
        pytest.param("/other.js", None, id="no-prefix"),
    ],
)
async def test_cache_control_comes_from_the_longest_matching_prefix(
    text_file: Path, url_path: str, expected: str | None
) -> None:
    rules = StaticRules.build(
        {"/build/": "public, max-age=31536000, immutable", "/build/vendor/": "no-cache"}
    )
    answer = await fetch(text_file, rules=rules, url_path=url_path)
    assert answer.header("cache-control") == expected


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param(("Range", "bytes=1-2"), 206, id="206"),
        pytest.param(("Range", "bytes=99-"), 416, id="416"),
        pytest.param(("If-Match", '"x"'), 412, id="412"),
    ],
)
async def test_cache_control_is_on_answers_about_the_file_not_on_refusals(
    text_file: Path, header: tuple[str, str], status: int
) -> None:
    rules = StaticRules.build({"/": "max-age=60"})
    answer = await fetch(text_file, [header], rules=rules)
    assert answer.status == status
    assert (answer.header("cache-control") == "max-age=60") is (status == 206)


@pytest.mark.parametrize(
    ("cache_control", "message"),
    [
        pytest.param({"build/": "x"}, "must start with '/'", id="relative-prefix"),
        pytest.param({"/a/": ""}, "not a header value", id="empty-value"),
        pytest.param({"/a/": "x\r\nSet-Cookie: a=b"}, "not a header value", id="header-injection"),
        pytest.param({"/a/": "max-age=1 é"}, "not a header value", id="non-ascii"),
    ],
)
def test_rules_refuse_bad_cache_control_entries(
    cache_control: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        StaticRules.build(cache_control)


def test_rules_refuse_a_zero_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk size"):
        StaticRules.build(chunk_size=0)


async def test_sub_second_mtime_is_truncated_as_nginx_does(tmp_path: Path) -> None:
    file = put(tmp_path / "f.txt", b"abc")
    os.utime(file, ns=(MTIME * 10**9 + 999_999_999, MTIME * 10**9 + 999_999_999))
    answer = await fetch(file)
    assert answer.header("last-modified") == LAST_MODIFIED
    assert answer.header("etag") == etag_of(3)
