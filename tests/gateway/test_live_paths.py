"""Path spellings end to end: bypass spellings against /api/v1/admin/... → native, the rest legacy.

Both sides are echo.php: native.url carries the base path /native-side, so PHP's REQUEST_URI
shows which side got the request and exactly what path was forwarded. Requests go out as raw
bytes, since HTTP clients would normalise most of these spellings before sending them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from proxy.paths import PathRejected, normalise
from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo, raw_request

pytestmark = pytest.mark.integration

ROUTES = '  - id: admin\n    match: "* /api/v1/admin/{rest:path}"\n    mode: native\n'
ADMIN = "/api/v1/admin/"
NATIVE_BASE = "/native-side"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    directory = tmp_path_factory.mktemp("paths")
    with php_echo(directory) as php:
        native = f"  url: {php}{NATIVE_BASE}\n  timeout: 5s\n"
        with live_gateway(table_text(php, ROUTES, native), directory) as live:
            yield live


SPELLINGS = [
    ("plain", b"/api/v1/admin/users", "native"),
    ("dot dot back in", b"/api/v1/admin/../admin/users", "native"),
    ("dot dot out", b"/api/v1/admin/../../v2/admin/users", "legacy"),
    ("dot dot out and back", b"/api/v1/admin/../../v1/admin/users", "native"),
    ("dot segment", b"/api/./v1/admin/users", "native"),
    ("dot dot from a sibling", b"/api/v1/x/../admin/users", "native"),
    ("encoded dot dot", b"/api/v1/x/%2e%2e/admin/users", "native"),
    ("encoded dot dot upper", b"/api/v1/admin/%2E%2E/%2E%2E/v2/x", "legacy"),
    ("double encoded dot dot", b"/api/v1/admin/%252e%252e/x", "native"),
    ("encoded slash", b"/api%2fv1/admin/users", 400),
    ("encoded slash into admin", b"/api/v1%2Fadmin/users", 400),
    ("encoded backslash", b"/api/v1/admin%5cusers", 400),
    ("raw backslash", b"/api\\v1\\admin\\users", 400),
    ("doubled slashes", b"//api//v1//admin//users", "native"),
    ("semicolon parameter before", b"/api;x=1/v1/admin/users", "legacy"),
    ("semicolon parameter in the route", b"/api/v1/admin;x/users", "legacy"),
    ("semicolon parameter after", b"/api/v1/admin/users;x", "native"),
    ("trailing slash", b"/api/v1/admin/users/", "native"),
    ("no rest", b"/api/v1/admin", "legacy"),
    ("root slash only", b"/api/v1/admin/", "native"),
    ("encoded NUL", b"/api/v1/admin/users%00.php", 400),
    ("invalid UTF-8", b"/api/v1/admin/%ff", 400),
    ("valid UTF-8", b"/api/v1/admin/caf%C3%A9", "native"),
    ("escape the root", b"/../api/v1/admin/users", 400),
    ("escape the root, encoded", b"/%2e%2e/api/v1/admin/users", 400),
    ("absolute form", b"http://evil.test/api/v1/admin/users", "native"),
    ("absolute form elsewhere", b"http://evil.test/other", "legacy"),
    ("upper case is another path", b"/API/v1/admin/users", "legacy"),
    ("query keeps its dots", b"/api/v1/admin/users?next=/../../x%2f", "native"),
    ("encoded question mark", b"/api/v1/admin/a%3Fb", "native"),
    ("raw NUL", b"/api/v1/admin/a\x00b", 400),
]


@pytest.mark.parametrize(
    ("target", "expected"), [s[1:] for s in SPELLINGS], ids=[s[0] for s in SPELLINGS]
)
def test_bypass_spellings(gateway: LiveGateway, target: bytes, expected: str | int) -> None:
    request = b"GET " + target + b" HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
    status, _, body = raw_request(gateway.port, request)
    if expected == 400:
        assert status == 400
        return
    assert status == 200, body
    uri = json.loads(body)["uri"]
    forwarded, _, query = uri.partition("?")
    side = "native" if forwarded.startswith(NATIVE_BASE + "/") else "legacy"
    path = forwarded[len(NATIVE_BASE) :] if side == "native" else forwarded
    assert side == expected
    # what was forwarded is what was matched: it decodes to a normal path of the side it reached
    matched = normalise(path.encode("ascii"))
    assert matched.startswith(ADMIN) == (side == "native")
    assert matched == normalise(target.partition(b"?")[0])
    assert query == target.partition(b"?")[2].decode()


def test_the_normaliser_and_the_table_agree_on_refusals() -> None:
    for _, target, expected in SPELLINGS:
        if expected == 400 and b"\x00" not in target and b"\\" not in target:
            with pytest.raises(PathRejected):
                normalise(target)
