"""proxy.sides.mime: nginx's content types, from nginx's own table."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.sides.mime import DEFAULT_TYPE, TYPES, content_type, extension, parse_types
from tests.support.services import unavailable

INSTALLED = Path("/etc/nginx/mime.types")


def test_table_agrees_with_the_installed_nginx_mime_types() -> None:
    if not INSTALLED.exists():
        unavailable("nginx's mime.types is not installed (apt-get install nginx-light)")
    assert dict(TYPES) == parse_types(INSTALLED.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/build/app.js", "application/javascript", id="js"),
        pytest.param("/index.html", "text/html", id="html-without-charset"),
        pytest.param("/notes.txt", "text/plain", id="txt-without-charset"),
        pytest.param("/STYLE.CSS", "text/css", id="upper-case"),
        pytest.param("/font.woff2", "font/woff2", id="woff2"),
        pytest.param("/icon.svgz", "image/svg+xml", id="svgz"),
        pytest.param("/data.json", "application/json", id="json"),
        pytest.param("/app.wasm", "application/wasm", id="wasm"),
        pytest.param("/archive.tar.gz", DEFAULT_TYPE, id="gz-not-in-nginx-table"),
        pytest.param("/app.js.br", DEFAULT_TYPE, id="br-not-in-nginx-table"),
        pytest.param("/module.mjs", DEFAULT_TYPE, id="mjs-not-in-nginx-1.22-table"),
        pytest.param("/README", DEFAULT_TYPE, id="no-extension"),
        pytest.param("/file.", DEFAULT_TYPE, id="empty-extension"),
        pytest.param("/a.d/file", DEFAULT_TYPE, id="dot-in-directory-only"),
        pytest.param("/sp ace é.txt", "text/plain", id="space-and-unicode"),
        pytest.param("/var/www/x.png", "image/png", id="file-system-path"),
    ],
)
def test_content_type_is_nginx_s(path: str, expected: str) -> None:
    assert content_type(path) == expected.encode("ascii")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/a/b.txt", "txt", id="last-dot"),
        pytest.param("/a/b.tar.gz", "gz", id="after-the-last-dot"),
        pytest.param("/a/.profile", "", id="leading-dot-is-no-extension"),
        pytest.param("/a/.b.c", "c", id="leading-dot-then-extension"),
        pytest.param("/a/..b", "b", id="dot-after-leading-dot"),
        pytest.param("/a.b/c", "", id="dot-in-directory"),
        pytest.param("name.JS", "JS", id="case-kept"),
    ],
)
def test_extension_is_nginx_s(path: str, expected: str) -> None:
    assert extension(path) == expected


def test_parse_types_reads_nginx_syntax_and_a_later_extension_wins() -> None:
    text = """
    # a comment; with a semicolon
    types {
        text/html  html HTM;   # trailing comment
        text/x-old old;
        text/x-new old;
    }
    """
    assert parse_types(text) == {"html": "text/html", "htm": "text/html", "old": "text/x-new"}
