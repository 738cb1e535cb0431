"""The CGI/1.1 params of a request, as nginx's fastcgi_params gives them to PHP-FPM."""

from __future__ import annotations

import base64

import pytest

from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.params import CgiRequest, basic_user, build_params, http_params
from proxy.sides.fastcgi.resolve import Script

SCRIPT = Script("/srv/app/public/index.php", "/index.php", "")


def request(**changes: object) -> CgiRequest:
    fields: dict[str, object] = {
        "method": "GET",
        "target": b"/users/7?tab=a%20b",
        "query": b"tab=a%20b",
        "headers": [(b"host", b"shop.example:8443"), (b"accept", b"*/*")],
        "client": ("192.0.2.9", 51234),
        "server": ("127.0.0.1", 8443),
        "server_name": "shop.example",
    }
    fields.update(changes)
    return CgiRequest(**fields)  # type: ignore[arg-type]


def as_dict(pairs: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    assert len({name for name, _ in pairs}) == len(pairs), "each param is sent once"
    return dict(pairs)


def test_a_request_gets_the_fastcgi_params_set() -> None:
    assert as_dict(build_params(request(), SCRIPT, "/srv/app/public")) == {
        b"QUERY_STRING": b"tab=a%20b",
        b"REQUEST_METHOD": b"GET",
        b"CONTENT_TYPE": b"",
        b"CONTENT_LENGTH": b"",
        b"SCRIPT_NAME": b"/index.php",
        b"REQUEST_URI": b"/users/7?tab=a%20b",
        b"DOCUMENT_URI": b"/index.php",
        b"DOCUMENT_ROOT": b"/srv/app/public",
        b"SERVER_PROTOCOL": b"HTTP/1.1",
        b"REQUEST_SCHEME": b"http",
        b"GATEWAY_INTERFACE": b"CGI/1.1",
        b"SERVER_SOFTWARE": b"strangler",
        b"REMOTE_ADDR": b"192.0.2.9",
        b"REMOTE_PORT": b"51234",
        b"REMOTE_USER": b"",
        b"SERVER_ADDR": b"127.0.0.1",
        b"SERVER_PORT": b"8443",
        b"SERVER_NAME": b"shop.example",
        b"REDIRECT_STATUS": b"200",
        b"SCRIPT_FILENAME": b"/srv/app/public/index.php",
        b"PATH_INFO": b"",
        b"HTTP_HOST": b"shop.example:8443",
        b"HTTP_ACCEPT": b"*/*",
    }


def test_script_and_path_info_come_from_the_resolved_script() -> None:
    script = Script("/srv/app/public/doku.php", "/doku.php", "/wiki:start page")
    params = as_dict(build_params(request(), script, "/srv/app/public"))
    assert params[b"SCRIPT_FILENAME"] == b"/srv/app/public/doku.php"
    assert params[b"SCRIPT_NAME"] == params[b"DOCUMENT_URI"] == b"/doku.php"
    assert params[b"PATH_INFO"] == b"/wiki:start page"


@pytest.mark.parametrize(
    ("scheme", "https"),
    [pytest.param("https", b"on", id="https-is-on"), pytest.param("http", None, id="http-unset")],
)
def test_https_is_on_only_for_an_https_client(scheme: str, https: bytes | None) -> None:
    params = as_dict(build_params(request(scheme=scheme), SCRIPT, "/srv"))
    assert params.get(b"HTTPS") == https
    assert params[b"REQUEST_SCHEME"] == scheme.encode()


def test_body_headers_go_as_content_params_only() -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"12")]
    params = as_dict(build_params(request(method="POST", headers=headers), SCRIPT, "/srv"))
    assert params[b"CONTENT_TYPE"] == b"application/json"
    assert params[b"CONTENT_LENGTH"] == b"12"
    assert b"HTTP_CONTENT_TYPE" not in params
    assert b"HTTP_CONTENT_LENGTH" not in params


def test_content_length_is_the_length_of_the_body_the_gateway_sends() -> None:
    headers = [(b"transfer-encoding", b"chunked")]
    spooled = request(method="POST", headers=headers, content_length=4096)
    assert as_dict(build_params(spooled, SCRIPT, "/srv"))[b"CONTENT_LENGTH"] == b"4096"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([(b"x-request-id", b"r1")], [(b"HTTP_X_REQUEST_ID", b"r1")],
                     id="dashes-become-underscores-upper-case"),
        pytest.param([(b"cookie", b"a=1"), (b"cookie", b"b=2")], [(b"HTTP_COOKIE", b"a=1; b=2")],
                     id="cookies-joined-with-semicolon"),
        pytest.param([(b"accept", b"a"), (b"x-b", b"1"), (b"accept", b"b")],
                     [(b"HTTP_ACCEPT", b"a, b"), (b"HTTP_X_B", b"1")],
                     id="other-repeats-joined-with-comma-in-first-seen-order"),
        pytest.param([(b"proxy", b"http://evil:8080")], [], id="proxy-dropped-httpoxy"),
        pytest.param([(b"Proxy", b"http://evil:8080")], [], id="proxy-dropped-any-case"),
        pytest.param([(b"x_forwarded_for", b"10.0.0.1")], [],
                     id="underscore-name-dropped-cannot-pass-for-dashed-one"),
        pytest.param([(b"x.y", b"1"), (b"x y", b"1")], [], id="invalid-names-dropped"),
        pytest.param([(b"x-empty", b"")], [(b"HTTP_X_EMPTY", b"")], id="empty-value-kept"),
        pytest.param([(b"x-bin", b"\xff\xfe")], [(b"HTTP_X_BIN", b"\xff\xfe")],
                     id="value-bytes-unchanged"),
    ],
)  # fmt: skip
def test_request_headers_become_http_params(
    headers: list[tuple[bytes, bytes]], expected: list[tuple[bytes, bytes]]
) -> None:
    assert http_params(headers) == expected


def basic(credentials: bytes) -> bytes:
    return b"Basic " + base64.b64encode(credentials)


@pytest.mark.parametrize(
    ("authorization", "user"),
    [
        pytest.param(basic(b"ann:secret"), b"ann", id="basic-user"),
        pytest.param(basic(b"ann:se:cret"), b"ann", id="password-with-colon"),
        pytest.param(b"basic  " + base64.b64encode(b"bo:x"), b"bo", id="scheme-any-case-spaces"),
        pytest.param(basic(b":secret"), b"", id="empty-user"),
        pytest.param(basic(b"nocolon"), b"", id="no-colon"),
        pytest.param(b"Basic !!!", b"", id="not-base64"),
        pytest.param(b"Bearer abc", b"", id="other-scheme"),
    ],
)
def test_remote_user_is_the_basic_user_name_as_nginx_gives_it(
    authorization: bytes, user: bytes
) -> None:
    assert basic_user([(b"authorization", authorization)]) == user


def test_extra_params_replace_standard_and_header_params_of_the_same_name() -> None:
    extra = [(b"APP_ENV", b"production"), (b"HTTPS", b"on"), (b"HTTP_HOST", b"shop.example")]
    pairs = build_params(request(), SCRIPT, "/srv", extra=extra)
    params = as_dict(pairs)
    assert params[b"APP_ENV"] == b"production"
    assert params[b"HTTPS"] == b"on"
    assert params[b"HTTP_HOST"] == b"shop.example"
    assert pairs[-3:] == extra


def test_paths_decoded_with_surrogateescape_go_back_to_the_clients_bytes() -> None:
    name = b"/caf\xe9.php".decode("utf-8", "surrogateescape")
    script = Script("/srv" + name, name, "")
    params = as_dict(build_params(request(), script, "/srv"))
    assert params[b"SCRIPT_NAME"] == b"/caf\xe9.php"


def test_the_params_of_a_request_with_large_headers_still_encode() -> None:
    headers = [(b"x-big-%d" % i, b"v" * 4000) for i in range(40)]
    pairs = build_params(request(headers=headers), SCRIPT, "/srv")
    encoded = records.params(1, pairs)
    assert len(encoded) > 65535
    assert b"HTTP_X_BIG_39" in encoded
