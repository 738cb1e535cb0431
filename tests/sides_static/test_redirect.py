"""A directory asked for without its trailing slash: nginx's 301 to the absolute URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message

from proxy.sides.replies import directory_location
from proxy.sides.static import StaticRules, redirect_to_directory
from tests.sides_static.harness import Answer, collect, make_scope


async def redirect(scope: dict[str, Any], location_path: str = "/dir/") -> Answer:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    status = await redirect_to_directory(scope, send, location_path, request_id="r-1")
    answer = collect(messages)
    assert status == answer.status
    return answer


async def test_get_is_a_301_with_a_small_html_body() -> None:
    answer = await redirect(make_scope("GET", "/dir", [("Host", "example.com")]))
    assert answer.status == 301
    assert answer.header("location") == "http://example.com:8080/dir/"
    assert answer.header("content-type") == "text/html"
    assert answer.body.startswith(b"<html>\r\n<head><title>301 Moved Permanently</title>")
    assert answer.header("content-length") == str(len(answer.body))
    assert answer.header("x-request-id") == "r-1"


async def test_head_is_a_301_without_a_body() -> None:
    answer = await redirect(make_scope("HEAD", "/dir", [("Host", "example.com")]))
    assert (answer.status, answer.body) == (301, b"")
    assert answer.header("location") == "http://example.com:8080/dir/"


@pytest.mark.parametrize(
    ("method", "status"),
    [
        pytest.param("POST", 301, id="post-redirected-as-nginx"),
        pytest.param("PUT", 405, id="put"),
        pytest.param("DELETE", 405, id="delete"),
        pytest.param("OPTIONS", 405, id="options"),
    ],
)
async def test_methods_nginx_refuses_get_405(method: str, status: int) -> None:
    answer = await redirect(make_scope(method, "/dir", [("Host", "h")]))
    assert answer.status == status
    if status == 405:
        assert answer.header("allow") == "GET, HEAD"
        assert json.loads(answer.body)["request_id"] == "r-1"


@pytest.mark.parametrize(
    ("host", "scheme", "server", "query", "expected"),
    [
        pytest.param(
            "example.com",
            "http",
            ("10.0.0.1", 80),
            b"",
            b"http://example.com/dir/",
            id="default-port-omitted",
        ),
        pytest.param(
            "example.com",
            "https",
            ("10.0.0.1", 443),
            b"",
            b"https://example.com/dir/",
            id="https-default-port",
        ),
        pytest.param(
            "example.com",
            "https",
            ("10.0.0.1", 8443),
            b"",
            b"https://example.com:8443/dir/",
            id="https-other-port",
        ),
        pytest.param(
            "Example.COM:9999",
            "http",
            ("10.0.0.1", 8080),
            b"",
            b"http://example.com:8080/dir/",
            id="host-lowercased-its-port-dropped",
        ),
        pytest.param(
            "example.com.",
            "http",
            ("10.0.0.1", 80),
            b"",
            b"http://example.com/dir/",
            id="trailing-dot-dropped",
        ),
        pytest.param(
            "[::1]:80", "http", ("::1", 8080), b"", b"http://[::1]:8080/dir/", id="ipv6-host"
        ),
        pytest.param(
            None,
            "http",
            ("10.0.0.1", 8080),
            b"",
            b"http://10.0.0.1:8080/dir/",
            id="no-host-uses-the-address",
        ),
        pytest.param(
            "h",
            "http",
            ("10.0.0.1", 80),
            b"a=1&b=%20",
            b"http://h/dir/?a=1&b=%20",
            id="query-kept-as-sent",
        ),
    ],
)
def test_location_is_absolute_as_nginx_builds_it(
    host: str | None,
    scheme: str,
    server: tuple[str, int],
    query: bytes,
    expected: bytes,
) -> None:
    headers = [("Host", host)] if host is not None else []
    scope = make_scope("GET", "/dir", headers, scheme=scheme, server=server, query=query)
    assert directory_location(scope, "/dir/") == expected


@pytest.mark.parametrize(
    ("location_path", "expected"),
    [
        pytest.param("/sp ace dir/", b"/sp%20ace%20dir/", id="space"),
        pytest.param("/é/", b"/%C3%A9/", id="utf-8"),
        pytest.param('/q"<>\\^`{|}/', b"/q%22%3C%3E%5C%5E%60%7B%7C%7D/", id="unsafe-ascii"),
        pytest.param("/~!$&'()*+,;=:@[]/", b"/~!$&'()*+,;=:@[]/", id="kept-as-nginx-keeps"),
        pytest.param("/a#b?c%d/", b"/a%23b%3Fc%25d/", id="hash-question-percent"),
        pytest.param("/tab\tnl\n/", b"/tab%09nl%0A/", id="controls"),
    ],
)
def test_location_path_is_escaped_as_nginx_escapes_it(location_path: str, expected: bytes) -> None:
    scope = make_scope("GET", "/x", [("Host", "h")], server=("h", 80))
    assert directory_location(scope, location_path) == b"http://h" + expected


@pytest.mark.parametrize(
    ("location_path", "expected"),
    [
        pytest.param("/build/sub/", "max-age=60", id="under-the-prefix"),
        pytest.param("/build/", None, id="the-prefix-itself-asked-without-slash"),
        pytest.param("/other/", None, id="elsewhere"),
    ],
)
async def test_a_redirect_carries_the_cache_control_of_the_path_asked_for(
    location_path: str, expected: str | None
) -> None:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    rules = StaticRules.build({"/build/": "max-age=60"})
    scope = make_scope("GET", location_path[:-1], [("Host", "h")])
    await redirect_to_directory(scope, send, location_path, rules=rules)
    assert collect(messages).header("cache-control") == expected
