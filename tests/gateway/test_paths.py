"""proxy.paths: one decoding, one normal form, and refusal of what upstreams could misread."""

from __future__ import annotations

import pytest

from proxy.paths import PathRejected, encode, normalise

KEPT = [
    ("root", b"/", "/"),
    ("plain", b"/api/v1/admin/users", "/api/v1/admin/users"),
    ("trailing slash kept", b"/api/v1/admin/users/", "/api/v1/admin/users/"),
    ("dot segment", b"/api/./v1/admin/users", "/api/v1/admin/users"),
    ("dot dot segment", b"/x/../api/v1/admin/users", "/api/v1/admin/users"),
    ("encoded dot dot", b"/x/%2e%2e/api/v1/admin/users", "/api/v1/admin/users"),
    ("mixed encoded dots", b"/x/.%2E/api", "/api"),
    ("doubled slashes", b"//api//v1///admin/users", "/api/v1/admin/users"),
    ("trailing dot names a directory", b"/api/v1/.", "/api/v1/"),
    ("trailing dot dot names a directory", b"/api/v1/x/..", "/api/v1/"),
    ("semicolon stays in its segment", b"/api;x/v1/admin/users", "/api;x/v1/admin/users"),
    ("decoded once only", b"/a/%252e%252e/b", "/a/%2e%2e/b"),
    ("utf-8", b"/caf%C3%A9", "/caf\u00e9"),
    ("encoded space", b"/a%20b", "/a b"),
    ("absolute form", b"http://evil.test/api/v1/admin/users", "/api/v1/admin/users"),
    ("absolute form without a path", b"https://evil.test", "/"),
    ("well-known dot name", b"/.well-known/x", "/.well-known/x"),
]


@pytest.mark.parametrize(("raw", "expected"), [k[1:] for k in KEPT], ids=[k[0] for k in KEPT])
def test_normalise_gives_the_one_path_that_is_matched(raw: bytes, expected: str) -> None:
    assert normalise(raw) == expected


REFUSED = [
    ("encoded slash", b"/api%2fv1/admin/users", "encoded"),
    ("encoded slash upper case", b"/api%2Fv1", "encoded"),
    ("encoded backslash", b"/api%5cv1", "encoded"),
    ("raw backslash", b"/api\\v1", "backslash"),
    ("raw NUL", b"/api\x00/v1", "NUL"),
    ("encoded NUL", b"/api%00/v1", "encoded"),
    ("invalid UTF-8", b"/caf%E9", "UTF-8"),
    ("invalid raw UTF-8", b"/caf\xe9", "UTF-8"),
    ("escapes the root", b"/../etc/passwd", "escapes"),
    ("escapes the root when encoded", b"/a/%2e%2e/%2e%2e/etc", "escapes"),
    ("relative", b"api/v1", "start with"),
    ("asterisk form", b"*", "start with"),
    ("empty", b"", "start with"),
]


@pytest.mark.parametrize(("raw", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_normalise_refuses_ambiguous_paths(raw: bytes, reason: str) -> None:
    with pytest.raises(PathRejected, match=reason):
        normalise(raw)


ENCODED = [
    ("plain stays", "/api/v1/users", "/api/v1/users"),
    ("space", "/a b", "/a%20b"),
    ("percent", "/a/%2e%2e/b", "/a/%252e%252e/b"),
    ("question mark", "/a?b", "/a%3Fb"),
    ("hash", "/a#b", "/a%23b"),
    ("utf-8", "/caf\u00e9", "/caf%C3%A9"),
    ("sub-delims stay", "/a;b=c,d", "/a;b=c,d"),
]


@pytest.mark.parametrize(("path", "wire"), [e[1:] for e in ENCODED], ids=[e[0] for e in ENCODED])
def test_encode_spells_the_matched_path_for_the_wire(path: str, wire: str) -> None:
    assert encode(path) == wire


@pytest.mark.parametrize("raw", [k[1] for k in KEPT], ids=[k[0] for k in KEPT])
def test_a_forwarded_path_normalises_to_itself(raw: bytes) -> None:
    # the upstream decodes what we send once: it must read the path we matched
    path = normalise(raw)
    assert normalise(encode(path).encode("ascii")) == path
