"""proxy.sides.headers: what the upstream and the client each get to see."""

from __future__ import annotations

import pytest

from proxy.sides.headers import (
    ClientView,
    read_request,
    request_headers,
    response_headers,
    rewrite_location,
)
from proxy.table.targets import upstream_of

UP = upstream_of("http://127.0.0.1:8080", preserve_host=True)
VIEW = ClientView("shop.test", "https", "203.0.113.9", "rid-1", True)


def names(headers: list[tuple[bytes, bytes]]) -> list[str]:
    return [n.decode().lower() for n, _ in headers]


def test_hop_by_hop_and_connection_named_headers_are_dropped_from_requests() -> None:
    given = [
        (b"connection", b"keep-alive, X-Private"),
        (b"keep-alive", b"timeout=5"),
        (b"te", b"trailers"),
        (b"trailer", b"X-Sum"),
        (b"transfer-encoding", b"chunked"),
        (b"upgrade", b"h2c"),
        (b"proxy-authorization", b"Basic x"),
        (b"proxy-connection", b"keep-alive"),
        (b"x-private", b"secret"),
        (b"x-strangler-dry-run", b"1"),
        (b"expect", b"100-continue"),
        (b"accept", b"*/*"),
    ]
    sent = names(request_headers(given, VIEW, UP))
    assert "accept" in sent
    for dropped in (
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "x-private",
        "x-strangler-dry-run",
        "expect",
    ):
        assert dropped not in sent


def test_forwarded_headers_are_appended_to_earlier_proxies() -> None:
    given = [(b"x-forwarded-for", b"10.0.0.1"), (b"x-forwarded-proto", b"http")]
    sent = dict(request_headers(given, VIEW, UP))
    assert sent[b"X-Forwarded-For"] == b"10.0.0.1, 203.0.113.9"
    assert sent[b"X-Forwarded-Proto"] == b"http, https"
    assert sent[b"X-Forwarded-Host"] == b"shop.test"
    assert sent[b"X-Request-ID"] == b"rid-1"


@pytest.mark.parametrize(
    ("preserve", "host"), [(True, "shop.test"), (False, "127.0.0.1:8080")], ids=["kept", "set"]
)
def test_host_is_preserved_or_set_to_the_upstream(preserve: bool, host: str) -> None:
    upstream = upstream_of("http://127.0.0.1:8080/base", preserve_host=preserve)
    sent = request_headers([(b"host", b"shop.test")], VIEW, upstream)
    assert [v for n, v in sent if n == b"Host"] == [host.encode()]


def test_request_id_is_kept_when_sane_and_replaced_when_not() -> None:
    kept = read_request([(b"x-request-id", b"abc-123")], "http", "s:80", "1.2.3.4", "new")
    assert (kept.request_id, kept.request_id_given) == ("abc-123", True)
    bad = read_request([(b"x-request-id", b"a b\r\nX: y")], "http", "s:80", "1.2.3.4", "new")
    assert bad.request_id == "new"
    missing = read_request([(b"host", b"h.test")], "http", "s:80", "1.2.3.4", "new")
    assert (missing.request_id, missing.host) == ("new", "h.test")


def test_response_keeps_every_set_cookie_and_drops_hop_by_hop() -> None:
    raw = (
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"Connection", b"close, X-Hop"),
        (b"X-Hop", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Proxy-Agent", b"x"),
        (b"Content-Encoding", b"gzip"),
    )
    out = response_headers(raw, VIEW, UP)
    assert [v for n, v in out if n == b"Set-Cookie"] == [b"a=1", b"b=2"]
    assert (b"Content-Encoding", b"gzip") in out  # names keep the upstream's spelling
    assert {n for n, _ in out} == {b"Set-Cookie", b"Content-Encoding", b"x-request-id"}


LOCATIONS = [
    ("upstream origin", b"http://127.0.0.1:8080/login?next=/a", b"https://shop.test/login?next=/a"),
    ("upstream origin, no path", b"http://127.0.0.1:8080", b"https://shop.test/"),
    ("upstream, any case", b"HTTP://127.0.0.1:8080/x", b"https://shop.test/x"),
    ("another host", b"https://elsewhere.test/x", b"https://elsewhere.test/x"),
    ("a longer port", b"http://127.0.0.1:80801/x", b"http://127.0.0.1:80801/x"),
    ("relative", b"/x", b"/x"),
]


@pytest.mark.parametrize(
    ("given", "expected"), [x[1:] for x in LOCATIONS], ids=[x[0] for x in LOCATIONS]
)
def test_location_at_the_upstream_moves_to_the_public_origin(given: bytes, expected: bytes) -> None:
    assert rewrite_location(given, VIEW, UP) == expected


def test_location_drops_the_upstream_base_path_and_default_port() -> None:
    upstream = upstream_of("http://legacy.internal/app", preserve_host=False)
    view = ClientView("shop.test", "http", "1.2.3.4", "r", False)
    moved = rewrite_location(b"http://legacy.internal:80/app/login", view, upstream)
    assert moved == b"http://shop.test/login"
