"""proxy.sides.headers: what the upstream and the client each get to see."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from proxy.sides.headers import (
    ClientView,
    read_request,
    request_headers,
    response_headers,
    rewrite_location,
)
from proxy.table.targets import upstream_of
from proxy.table.trust import Trust

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


CLAIMS = [
    (b"x-forwarded-for", b"10.0.0.1"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"evil.test"),
    (b"x-forwarded-port", b"8443"),
    (b"x-forwarded-prefix", b"/evil"),
    (b"x-real-ip", b"10.9.9.9"),
    (b"forwarded", b"for=10.0.0.1;proto=https;host=evil.test"),
]
TRUST = Trust((ip_network("10.0.0.0/8"),))


def test_an_untrusted_peer_cannot_say_who_the_client_is() -> None:
    view = read_request(CLAIMS, "http", "gw:80", "203.0.113.9", "rid", TRUST)
    assert (view.client_ip, view.scheme, view.trusted) == ("203.0.113.9", "http", False)
    sent = request_headers(CLAIMS, view, UP)
    by_name = {n.lower(): v for n, v in sent}
    assert by_name[b"x-forwarded-for"] == b"203.0.113.9"
    assert by_name[b"x-forwarded-proto"] == b"http"
    assert by_name[b"x-forwarded-host"] == b"gw:80"
    assert by_name[b"x-real-ip"] == b"203.0.113.9"
    for dropped in (b"x-forwarded-port", b"x-forwarded-prefix", b"forwarded"):
        assert dropped not in by_name
    # one value each: an application that reads the first one reads the gateway's
    assert len([n for n, _ in sent if n.lower().startswith(b"x-forwarded-")]) == 3


def test_a_trusted_proxy_is_believed_and_extended() -> None:
    headers = [(b"host", b"shop.test"), *CLAIMS]
    headers[1] = (b"x-forwarded-for", b"198.51.100.7, 10.0.0.2")
    view = read_request(headers, "http", "gw:80", "10.0.0.1", "rid", TRUST)
    assert (view.client_ip, view.scheme, view.trusted) == ("198.51.100.7", "https", True)
    by_name = dict((n.lower(), v) for n, v in request_headers(headers, view, UP))
    assert by_name[b"x-forwarded-for"] == b"198.51.100.7, 10.0.0.2, 10.0.0.1"
    assert by_name[b"x-forwarded-proto"] == b"https"
    assert by_name[b"x-forwarded-host"] == b"evil.test"
    assert by_name[b"x-forwarded-port"] == b"8443"
    assert by_name[b"x-real-ip"] == b"198.51.100.7"


def test_without_trusted_proxies_every_peer_is_the_client() -> None:
    view = read_request(CLAIMS, "https", "gw:443", "10.0.0.1", "rid", Trust())
    assert (view.client_ip, view.scheme, view.trusted) == ("10.0.0.1", "https", False)


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
