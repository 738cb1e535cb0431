"""Precompressed siblings: `app.js.br` and `app.js.gz` answer for `app.js` when the client takes
their coding, each with its own validators, and `Vary: Accept-Encoding` whenever one exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.sides.static import StaticRules
from tests.sides_static.harness import LAST_MODIFIED, MTIME, etag_of, fetch, put

PLAIN = b"console.log('hello, world');\n" * 4
GZ = b"\x1f\x8b pretend gzip"
BR = b"pretend brotli!"
GZ_MTIME = MTIME + 60


@pytest.fixture
def site(tmp_path: Path) -> Path:
    put(tmp_path / "both.js", PLAIN)
    put(tmp_path / "both.js.gz", GZ, GZ_MTIME)
    put(tmp_path / "both.js.br", BR)
    put(tmp_path / "gz.js", PLAIN)
    put(tmp_path / "gz.js.gz", GZ, GZ_MTIME)
    put(tmp_path / "plain.js", PLAIN)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "accept", "coding", "body"),
    [
        pytest.param("both.js", "gzip, deflate, br", "br", BR, id="br-preferred"),
        pytest.param("both.js", "gzip", "gzip", GZ, id="gzip-only-client"),
        pytest.param("both.js", "br;q=0.1, gzip", "gzip", GZ, id="q-values"),
        pytest.param("both.js", "gzip;q=0, br;q=0", None, PLAIN, id="both-refused"),
        pytest.param("both.js", "identity", None, PLAIN, id="identity"),
        pytest.param("gz.js", "br", None, PLAIN, id="no-br-sibling"),
        pytest.param("gz.js", "br, gzip", "gzip", GZ, id="falls-to-gzip"),
        pytest.param("plain.js", "br, gzip", None, PLAIN, id="no-sibling"),
    ],
)
async def test_the_best_accepted_sibling_answers(
    site: Path, name: str, accept: str, coding: str | None, body: bytes
) -> None:
    answer = await fetch(site / name, [("Accept-Encoding", accept)])
    assert answer.status == 200
    assert answer.body == body
    assert answer.header("content-encoding") == coding
    assert answer.header("content-length") == str(len(body))
    assert answer.header("content-type") == "application/javascript"


async def test_a_sibling_carries_its_own_etag_and_last_modified(site: Path) -> None:
    answer = await fetch(site / "gz.js", [("Accept-Encoding", "gzip")])
    assert answer.header("etag") == etag_of(len(GZ), GZ_MTIME)
    assert answer.header("last-modified") == "Thu, 02 Jan 2020 03:05:05 GMT"


@pytest.mark.parametrize(
    ("name", "accept", "vary"),
    [
        pytest.param("gz.js", "gzip", "Accept-Encoding", id="compressed-answer"),
        pytest.param("gz.js", "", "Accept-Encoding", id="plain-answer-with-sibling"),
        pytest.param("both.js", "identity", "Accept-Encoding", id="identity-with-siblings"),
        pytest.param("plain.js", "gzip", None, id="no-sibling-no-vary"),
    ],
)
async def test_vary_is_sent_whenever_a_sibling_exists(
    site: Path, name: str, accept: str, vary: str | None
) -> None:
    answer = await fetch(site / name, [("Accept-Encoding", accept)] if accept else [])
    assert answer.header("vary") == vary


async def test_http_1_0_clients_get_the_file_itself_as_from_gzip_static(site: Path) -> None:
    answer = await fetch(site / "gz.js", [("Accept-Encoding", "gzip")], http_version="1.0")
    assert answer.body == PLAIN
    assert answer.header("content-encoding") is None
    assert answer.header("vary") == "Accept-Encoding"


async def test_a_precompressed_answer_ignores_range_as_gzip_static(site: Path) -> None:
    answer = await fetch(site / "gz.js", [("Accept-Encoding", "gzip"), ("Range", "bytes=0-1")])
    assert (answer.status, answer.body) == (200, GZ)
    assert "accept-ranges" not in answer.names
    assert "content-range" not in answer.names


async def test_the_plain_answer_keeps_ranges_when_a_sibling_exists(site: Path) -> None:
    answer = await fetch(site / "gz.js", [("Range", "bytes=0-6")])
    assert (answer.status, answer.body) == (206, PLAIN[:7])


@pytest.mark.parametrize(
    ("accept", "if_none_match", "status"),
    [
        pytest.param("gzip", etag_of(len(GZ), GZ_MTIME), 304, id="sibling-tag-on-sibling"),
        pytest.param("gzip", etag_of(len(PLAIN)), 200, id="plain-tag-on-sibling"),
        pytest.param("", etag_of(len(PLAIN)), 304, id="plain-tag-on-plain"),
    ],
)
async def test_conditionals_compare_with_the_answer_s_own_etag(
    site: Path, accept: str, if_none_match: str, status: int
) -> None:
    headers = [("If-None-Match", if_none_match)] + ([("Accept-Encoding", accept)] if accept else [])
    answer = await fetch(site / "gz.js", headers)
    assert answer.status == status
    if status == 304:  # nginx drops Content-Encoding from a 304
        assert "content-encoding" not in answer.names


async def test_head_of_a_sibling_sends_its_headers_only(site: Path) -> None:
    answer = await fetch(site / "gz.js", [("Accept-Encoding", "gzip")], method="HEAD")
    assert (answer.status, answer.body) == (200, b"")
    assert answer.header("content-length") == str(len(GZ))
    assert answer.header("content-encoding") == "gzip"


async def test_a_directory_named_like_a_sibling_is_ignored(tmp_path: Path) -> None:
    file = put(tmp_path / "x.css", b"a{}")
    (tmp_path / "x.css.gz").mkdir()
    answer = await fetch(file, [("Accept-Encoding", "gzip")])
    assert answer.body == b"a{}"
    assert answer.header("vary") is None
    assert answer.header("last-modified") == LAST_MODIFIED


@pytest.mark.parametrize(
    ("precompressed", "accept", "coding", "vary"),
    [
        pytest.param((), "gzip, br", None, None, id="none-looked-for"),
        pytest.param(("gzip",), "gzip, br", "gzip", "Accept-Encoding", id="gzip-only"),
        pytest.param(("gzip", "br"), "gzip, br", "gzip", "Accept-Encoding", id="server-order"),
        pytest.param(("zstd", "br"), "zstd, br", "zstd", "Accept-Encoding", id="zstd"),
    ],
)
async def test_the_rules_name_the_codings_looked_for_in_their_order(
    site: Path,
    precompressed: tuple[str, ...],
    accept: str,
    coding: str | None,
    vary: str | None,
) -> None:
    put(site / "both.js.zst", b"pretend zstd")
    rules = StaticRules.build(precompressed=precompressed)
    answer = await fetch(site / "both.js", [("Accept-Encoding", accept)], rules=rules)
    assert answer.header("content-encoding") == coding
    assert answer.header("vary") == vary


def test_rules_refuse_an_unknown_coding() -> None:
    with pytest.raises(ValueError, match="unknown precompressed codings"):
        StaticRules.build(precompressed=("deflate",))
