"""The pure parts on their own: path normalising, PCRE translation, server picking."""

from __future__ import annotations

import pytest

from proxy.table.nginx import ServerChoiceError, load_text
from proxy.table.nginx.load import DiskSource
from proxy.table.nginx.locations import Chosen, LocationTree
from proxy.table.nginx.pcre import UnsupportedRegex, compile_pcre, translate
from proxy.table.nginx.servers import pick, valid_host
from proxy.table.nginx.uri import Uri, normalise


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/a//b", Uri(b"/a/b", None)),
        (b"/a/./b/../c", Uri(b"/a/c", None)),
        (b"/a%2Fb", Uri(b"/a/b", None)),
        (b"/a/%2e%2E/b", Uri(b"/b", None)),
        (b"/a%3Fb?x=1#f", Uri(b"/a?b", b"x=1")),
        (b"/%25", Uri(b"/%", None)),
        (b"/a/..", Uri(b"/", None)),
        (b"/../a", None),
        (b"/a%00", None),
        (b"/a%4", None),
        (b"/a b", None),
        (b"a", None),
    ],
    ids=[
        "merged-slashes",
        "dot-segments",
        "encoded-slash-is-a-slash",
        "encoded-dot-segment",
        "encoded-question-mark-is-path",
        "encoded-percent",
        "trailing-dot-dot",
        "above-the-root",
        "nul",
        "short-escape",
        "raw-space",
        "not-origin-form",
    ],
)
def test_paths_are_normalised_as_nginx_does(target: bytes, expected: Uri | None) -> None:
    assert normalise(target) == expected


@pytest.mark.parametrize(
    ("pcre", "python"),
    [
        ("^/(?<id>\\d+)$", "^/(?P<id>\\d+)$"),
        ("(?'a'x)\\k<a>\\k{a}", "(?P<a>x)(?P=a)(?P=a)"),
        ("a\\z", "a\\Z"),
        ("a\\Z", "a(?=\\n?\\Z)"),
        ("a{,2}", "a\\{,2}"),
        ("a{2,3}", "a{2,3}"),
        ("[[:digit:]x]", "[0-9x]"),
        ("[a[b]", "[a\\[b]"),
        ("\\Q.+\\E", "\\.\\+"),
        ("\\x{41}\\x4", "\\x41\\x04"),
    ],
    ids=[
        "named-group",
        "named-back-references",
        "absolute-end",
        "end-or-final-newline",
        "brace-without-minimum-is-literal",
        "real-quantifier",
        "posix-class",
        "bracket-in-class",
        "quoted-text",
        "hex-escapes",
    ],
)
def test_pcre_is_translated_where_python_reads_it_differently(pcre: str, python: str) -> None:
    assert translate(pcre) == python


@pytest.mark.parametrize(
    ("pcre", "named"),
    [
        ("a\\Kb", "\\K"),
        ("(?R)", "(?R"),
        ("(*UTF8)a", "(*UTF8)"),
        ("(?|a|b)", "(?|"),
        ("(?U)a+", "(?U"),
        ("\\p{L}", "\\p"),
        ("x(?i)y", "global flags"),
        ("(?<=ab|c)d", "look-behind requires fixed-width"),
    ],
    ids=[
        "keep-out",
        "recursion",
        "verb",
        "branch-reset",
        "ungreedy-flag",
        "unicode-property",
        "flags-mid-pattern",
        "variable-lookbehind",
    ],
)
def test_pcre_without_a_python_equivalent_is_refused_by_name(pcre: str, named: str) -> None:
    with pytest.raises(UnsupportedRegex) as caught:
        compile_pcre(pcre)
    assert named in str(caught.value)


def test_caseless_regex_folds_ascii_only() -> None:
    regex = compile_pcre("\\.php$", caseless=True)
    assert regex.search(b"/a.PHP") and not regex.search("/a.ph\u0130".encode())


def test_a_location_regex_that_cannot_be_matched_names_its_file_and_line() -> None:
    config = load_text("server {\n  location ~ a\\Kb { }\n}\n", "site.conf", DiskSource())
    with pytest.raises(UnsupportedRegex, match=r"^site\.conf:2: location ~ a\\Kb"):
        LocationTree(config.servers[0].locations)


def test_slash_sorts_first_in_the_static_tree() -> None:
    text = "server { location /api-v2 { } location /api/ { proxy_pass http://u; } }"
    tree = LocationTree(load_text(text, "s.conf", DiskSource()).servers[0].locations)
    choice = tree.choose(b"/api-v2/x")
    assert isinstance(choice, Chosen) and choice.location.pattern == "/api-v2"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("Example.COM", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com.", "example.com"),
        ("[::1]:80", "[::1]"),
        ("a..b", None),
        ("a/b", None),
        ("", None),
    ],
    ids=[
        "lowercased",
        "port-dropped",
        "trailing-dot-dropped",
        "ipv6-literal",
        "double-dot",
        "slash",
        "empty",
    ],
)
def test_hosts_are_checked_as_nginx_does(raw: str, host: str | None) -> None:
    assert valid_host(raw) == host


SERVERS = (
    "server { listen 80; server_name example.com; return 301 https://$host$request_uri; }\n"
    "server { listen 443 ssl; server_name example.com; }\n"
    "server { listen 8080; server_name admin.test *.admin.test; }\n"
)


def test_one_server_block_is_picked_without_a_name() -> None:
    config = load_text("server { server_name only.test; }", "s.conf", DiskSource())
    assert pick(config).names == ("only.test",)


def test_several_server_blocks_without_a_name_is_an_error_listing_them() -> None:
    config = load_text(SERVERS, "s.conf", DiskSource())
    with pytest.raises(ServerChoiceError) as caught:
        pick(config)
    assert "--server-name" in str(caught.value)
    assert len(caught.value.candidates) == 3 and "s.conf:3" in caught.value.candidates[2]


def test_a_name_is_picked_as_nginx_matches_it() -> None:
    config = load_text(SERVERS, "s.conf", DiskSource())
    assert pick(config, "x.ADMIN.test").line == 3


def test_a_name_served_on_two_ports_needs_a_port() -> None:
    config = load_text(SERVERS, "s.conf", DiskSource())
    with pytest.raises(ServerChoiceError, match="choose a port"):
        pick(config, "example.com")
    assert pick(config, "example.com", port=443).line == 2


def test_a_name_no_server_answers_is_an_error() -> None:
    config = load_text(SERVERS, "s.conf", DiskSource())
    with pytest.raises(ServerChoiceError, match=r"no server block answers 'nope\.test'"):
        pick(config, "nope.test")
