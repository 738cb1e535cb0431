"""`match:` as a mapping (exact, prefix, regex), target paths and self-answering routes: how they
are read, validated at their lines, and matched (first match wins, agreeing with the reference)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.table.fill import parse_fill, render
from proxy.table.matcher import compile_table, naive_match
from proxy.table.model import NoRoute, Redirect, Respond, RouteTable, TableError
from proxy.table.parser import parse
from proxy.table.patterns import PatternIndex

HEAD = "version: 1\nlegacy: {url: http://127.0.0.1:1}\nnative: {url: http://127.0.0.1:2}\n"


def table(routes: str) -> RouteTable:
    return parse(HEAD + "routes:\n" + routes)


def problems(routes: str) -> list[str]:
    with pytest.raises(TableError) as caught:
        table(routes)
    return [str(p) for p in caught.value.problems]


def chosen(t: RouteTable, path: str, method: str = "GET") -> tuple[str, dict[str, str]] | None:
    result = compile_table(t).match(method, path)
    assert result == naive_match(t, method, path)
    return None if isinstance(result, NoRoute) else (result.route.id, result.params)


SPLIT = table(
    """\
  - id: me
    match: {exact: /api/me}
    mode: native
    native_path: /api/v1/profile/me
  - id: php
    match: {prefix: /api/php/}
    mode: legacy
    legacy_path: /{rest}
  - id: csv
    match: {prefix: /api/v1/, regex: '\\.csv$', caseless: true}
    mode: legacy
  - id: dot-files
    match: {regex: '/\\.'}
    respond: 403
  - id: pages
    match: {regex: '^/legacy/(?<page>[a-z]+)\\.html$'}
    redirect: {status: 301, to: '/pages/{page}'}
  - id: v1
    match: {prefix: /api/v1/}
    mode: native
  - id: api
    match: {prefix: /api}
    mode: legacy
  - id: users
    match: GET /users/{id:int}
    mode: native
    native_path: /api/v1/users/{id}
  - id: posts
    match: {methods: POST, exact: /login}
    mode: native
"""
)


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/me", "GET", ("me", {})),
        ("/api/me/", "GET", ("api", {"rest": "/me/"})),
        ("/api/php/users", "GET", ("php", {"rest": "users"})),
        ("/api/php/", "GET", ("php", {"rest": ""})),
        ("/api/v1/export.CSV", "GET", ("csv", {"rest": "export.CSV"})),
        ("/api/v1/.env", "GET", ("dot-files", {})),
        ("/legacy/about.html", "GET", ("pages", {"1": "about", "page": "about"})),
        ("/legacy/About.html", "GET", None),
        ("/api/v1/users", "GET", ("v1", {"rest": "users"})),
        ("/apis", "GET", ("api", {"rest": "s"})),
        ("/users/5", "HEAD", ("users", {"id": "5"})),
        ("/login", "POST", ("posts", {})),
        ("/login", "GET", None),
    ],
    ids=[
        "exact",
        "exact-is-exact",
        "prefix-captures-rest",
        "prefix-itself",
        "scoped-caseless-regex-first",
        "regex-before-longer-prefix",
        "named-group-and-number",
        "regex-is-case-sensitive",
        "prefix-after-regexes",
        "prefix-is-literal-text",
        "templates-still-match",
        "mapping-methods",
        "mapping-methods-filter",
    ],
)
def test_pattern_routes_match_first_in_file_order(
    path: str, method: str, expected: tuple[str, dict[str, str]] | None
) -> None:
    assert chosen(SPLIT, path, method) == expected


def test_the_first_regex_in_file_order_wins_not_the_leftmost_match() -> None:
    t = table(
        """\
  - {id: late-in-path, match: {regex: 'b$'}, mode: legacy}
  - {id: early-in-path, match: {regex: '^/a'}, mode: legacy}
"""
    )
    assert chosen(t, "/ab") == ("late-in-path", {})


def test_same_group_names_in_two_regexes_are_kept_apart() -> None:
    t = table(
        """\
  - {id: one, match: {regex: '^/one/(?<id>\\d+)$'}, mode: legacy}
  - {id: two, match: {regex: '^/two/(?<id>[a-z]+)(?P=id)$'}, mode: legacy}
"""
    )
    assert chosen(t, "/two/abab") == ("two", {"1": "ab", "id": "ab"})
    assert chosen(t, "/two/abcd") is None


def test_unanchored_regexes_of_one_scope_share_one_alternation() -> None:
    t = table(
        "".join(f"  - {{id: r{i}, match: {{regex: 'x{i}y'}}, mode: legacy}}\n" for i in range(300))
        + "  - {id: flagged, match: {regex: '(?i)flag'}, mode: legacy}\n"
        + "  - {id: after, match: {regex: 'z'}, mode: legacy}\n"
    )
    index = PatternIndex(list(enumerate(t.routes)))
    assert index.unscoped is not None
    assert [len(b.routes) or 1 for b in index.unscoped.blocks] == [300, 1, 1]
    assert chosen(t, "/ax299y") == ("r299", {})
    assert chosen(t, "/FLAGz") == ("flagged", {})
    assert chosen(t, "/z") == ("after", {})


@pytest.mark.parametrize(
    ("regex", "hits", "misses"),
    [
        ("^/api/v1/", ["/api/v1/x"], ["/api/v2/x", "/x/api/v1/"]),
        ("\\.php$", ["/a.php", "/a.php\n"], ["/a.phpx", "/a.PHP"]),
        ("\\.(png|jpe?g|gif)$", ["/a.png", "/a.jpg", "/a.jpeg", "/b/c.gif"], ["/a.pngx"]),
        ("(?i)^/Admin", ["/ADMIN/x", "/admin"], ["/x/admin"]),
        ("^/index\\.php(/|$)", ["/index.php", "/index.php/x"], ["/index.phpx"]),
        ("\\.php\\z", ["/a.php"], ["/a.php\n"]),
    ],
    ids=[
        "prefix",
        "suffix-before-newline",
        "suffix-set",
        "caseless-prefix",
        "prefix-then-group",
        "suffix-at-the-very-end",
    ],
)
def test_anchored_regexes_are_indexed_by_their_literal_text(
    regex: str, hits: list[str], misses: list[str]
) -> None:
    t = table(
        f"  - {{id: anchored, match: {{regex: '{regex}'}}, mode: legacy}}\n"
        "  - {id: other, match: {prefix: /}, mode: legacy}\n"
    )
    index = PatternIndex(list(enumerate(t.routes)))
    assert index.unscoped is not None and index.unscoped.blocks == []
    for path in hits:
        assert chosen(t, path) == ("anchored", chosen(t, path)[1]), path  # type: ignore[index]
    for path in misses:
        assert chosen(t, path)[0] == "other", path  # type: ignore[index]


@pytest.mark.parametrize(
    "regex",
    ["(?i)^/flag", "^/(a)\\1", "^/(?<x>a)?(?(x)b|c)"],
    ids=["inline-flag", "numbered-back-reference", "conditional"],
)
def test_a_regex_that_cannot_share_an_alternation_keeps_its_place(regex: str) -> None:
    t = table(
        f"""\
  - {{id: before, match: {{regex: '^/before'}}, mode: legacy}}
  - {{id: alone, match: {{regex: '{regex}'}}, mode: legacy}}
  - {{id: after, match: {{regex: '.'}}, mode: legacy}}
"""
    )
    sample = {"(?i)^/flag": "/FLAG", "^/(a)\\1": "/aa", "^/(?<x>a)?(?(x)b|c)": "/ab"}[regex]
    assert chosen(t, sample)[0] == "alone"  # type: ignore[index]
    assert chosen(t, "/before") == ("before", {})
    assert chosen(t, "/zz") == ("after", {})


def test_regexes_are_searched_on_the_utf8_bytes_as_nginx_does() -> None:
    t = table("  - {id: two-bytes, match: {regex: '^/caf..$'}, mode: legacy}\n")
    assert chosen(t, "/café") == ("two-bytes", {})


def test_a_list_of_regexes_must_all_match() -> None:
    t = table(
        """\
  - id: nested
    match: {prefix: /app/, regex: ['^/app/(?<section>[a-z]+)/\\d+$', '/app/users/']}
    mode: native
    native_path: /v2/{section}
"""
    )
    found = {"rest": "users/12", "1": "users", "section": "users"}
    assert chosen(t, "/app/users/12") == ("nested", found)
    assert chosen(t, "/app/orders/12") is None


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        (
            "  - {id: a, match: {prefx: /a}, mode: legacy}\n",
            "routing.yaml:5: route 'a': unknown key 'prefx' in match (expected methods, exact, "
            "prefix, regex, caseless)",
        ),
        (
            "  - id: a\n    match:\n      regex: '\\p{L}'\n    mode: legacy\n",
            "routing.yaml:7: route 'a': match.regex: '\\\\p{L}': \\p has no equivalent in "
            "Python's re",
        ),
        (
            "  - id: a\n    match:\n      exact: /a\n      prefix: /b\n    mode: legacy\n",
            "routing.yaml:7: route 'a': match.exact stands alone (not with prefix or regex)",
        ),
        (
            "  - {id: a, match: {prefix: /a//b}, mode: legacy}\n",
            "routing.yaml:5: route 'a': match.prefix '/a//b' never matches a normalised path "
            "(no '//', '.', '..')",
        ),
        (
            "  - {id: a, match: {prefix: a}, mode: legacy}\n",
            "routing.yaml:5: route 'a': match.prefix 'a' must be a path starting with '/'",
        ),
        (
            "  - {id: a, match: {exact: /a, caseless: true}, mode: legacy}\n",
            "routing.yaml:5: route 'a': match.caseless applies to regex only",
        ),
        (
            "  - {id: a, match: {methods: GTE, prefix: /a}, mode: legacy}\n",
            "routing.yaml:5: route 'a': match.methods: unknown HTTP method 'GTE' (did you mean "
            "'GET'?)",
        ),
        (
            "  - id: a\n    match: {prefix: /a/}\n    mode: legacy\n    legacy_path: /b/{id}\n",
            "routing.yaml:8: route 'a': legacy_path: {id} is not captured (rest)",
        ),
        (
            "  - id: a\n    match: GET /u/{id}\n    mode: native\n    native_path: u/{id}\n",
            "routing.yaml:8: route 'a': native_path: 'u/{id}' must start with '/'",
        ),
        (
            "  - id: a\n    match: GET /u\n    mode: legacy\n    respond: 403\n",
            "routing.yaml:7: route 'a': mode on a route that answers itself (respond): remove "
            "one of them",
        ),
        (
            "  - id: a\n    match: GET /u\n    respond: 403\n    legacy_path: /v\n",
            "routing.yaml:8: route 'a': legacy_path on a route that answers itself (respond): "
            "no side is called",
        ),
        (
            "  - id: a\n    match: GET /u\n    redirect:\n      status: 200\n      to: /v\n",
            "routing.yaml:8: route 'a': redirect.status 200 must be one of 301, 302, 303, 307, 308",
        ),
        (
            "  - id: a\n    match: GET /u\n    redirect:\n      to: /v/{page}\n",
            "routing.yaml:8: route 'a': redirect.to: {page} is not captured (request_uri, uri, "
            "args, is_args, host, scheme)",
        ),
        (
            "  - id: a\n    match: GET /u\n    respond: {status: 99}\n",
            "routing.yaml:7: route 'a': respond.status 99 must be a number 200..599",
        ),
    ],
    ids=[
        "unknown-match-key",
        "untranslatable-regex",
        "exact-with-prefix",
        "prefix-never-normalised",
        "prefix-not-a-path",
        "caseless-without-regex",
        "bad-method",
        "uncaptured-name",
        "target-not-a-path",
        "answer-with-mode",
        "answer-with-target",
        "redirect-status",
        "redirect-uncaptured",
        "respond-status",
    ],
)
def test_route_key_problems_name_their_line(routes: str, expected: str) -> None:
    assert expected in problems(routes)


def test_answers_are_read_into_the_model() -> None:
    t = table(
        """\
  - {id: gone, match: GET /old, respond: {status: 410, body: gone, content_type: text/html}}
  - {id: deny, match: '* /secret', respond: 403}
  - {id: move, match: GET /a, redirect: {status: 308, to: 'https://{host}/b{is_args}{args}'}}
"""
    )
    assert t.routes[0].answer == Respond(410, "gone", "text/html")
    assert t.routes[1].answer == Respond(403)
    assert isinstance(t.routes[2].answer, Redirect)
    assert t.routes[2].answer.to.names == ("host", "is_args", "args")


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("/{rest}", {"rest": "a/b"}, "/a/b"),
        ("/v2{rest}", {"rest": "/x"}, "/v2/x"),
        ("/a/{{literal}}/{1}", {"1": "x"}, "/a/{literal}/x"),
        ("/{missing}", {}, "/"),
    ],
    ids=["whole-rest", "glued", "escaped-braces", "group-that-took-no-part"],
)
def test_fills_render_their_captures(source: str, values: dict[str, str], expected: str) -> None:
    assert render(parse_fill(source, path=True), values) == expected


@pytest.mark.parametrize(
    "source", ["/{", "/}", "/{a b}", ""], ids=["open", "close", "space", "empty"]
)
def test_malformed_fills_are_refused(source: str) -> None:
    with pytest.raises(ValueError):
        parse_fill(source, path=True)


# ---------------------------------------------------------------- agreement with the reference

PIECES = ["/a", "/b", "/a/", "/ab", ".php", "/A", "\n"]
REGEXES = ["\\.php$", "^/a", "b", "^/(?<x>a|b)/", "(?i)^/a/", "^/(a)\\1", "\\.(ph|b)p?$",
           "b\\z", "^/a/b$", "A$", "b?$", "^/a?"]  # fmt: skip


@st.composite
def pattern_routes(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["exact", "prefix", "regex", "scoped"]))
    text = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3)))
    if "//" in text or not text.startswith("/"):
        text = "/a"
    regex = draw(st.sampled_from(REGEXES))
    caseless = draw(st.booleans())
    if kind == "exact":
        return f"{{exact: '{text}'}}"
    if kind == "prefix":
        return f"{{prefix: '{text}'}}"
    scope = f"prefix: '{text}', " if kind == "scoped" else ""
    return f"{{{scope}regex: '{regex}', caseless: {str(caseless).lower()}}}"


@settings(max_examples=600, deadline=None)
@given(
    matches=st.lists(pattern_routes(), min_size=1, max_size=10),
    paths=st.lists(
        st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join), max_size=20
    ),
)
def test_the_compiled_patterns_agree_with_the_reference(
    matches: list[str], paths: list[str]
) -> None:
    t = table(
        "".join(f"  - {{id: r{i}, match: {m}, mode: legacy}}\n" for i, m in enumerate(matches))
    )
    matcher = compile_table(t)
    for path in paths:
        assert matcher.match("GET", path) == naive_match(t, "GET", path), path


# ---------------------------------------------------------------- strangler check


def test_native_coverage_asks_for_the_native_path() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route as AppRoute

    from proxy.table.checks import check_native_coverage

    app = Starlette(routes=[AppRoute("/api/v1/profile/me", lambda r: PlainTextResponse("me"))])
    t = table(
        """\
  - {id: me, match: {methods: GET, exact: /api/me}, mode: native, native_path: /api/v1/profile/me}
  - {id: them, match: {methods: GET, exact: /api/them}, mode: native}
  - {id: any-php, match: {methods: GET, regex: '\\.php$'}, mode: native}
"""
    )
    found = [str(p) for p in check_native_coverage(t, app)]
    assert found == ["routing.yaml:6: route 'them': GET /api/them is not served by Starlette"]


# ---------------------------------------------------------------- the literal anchors

ATOMS = ["a", "b", "/", "\\.", "(a|b)", "(ab|)", "x?", "[ab]", ".*", "(a|b?)", "(?:/|$)", "a+"]


@settings(max_examples=500, deadline=None)
@given(
    start=st.booleans(),
    atoms=st.lists(st.sampled_from(ATOMS), min_size=1, max_size=5),
    end=st.sampled_from(["", "$", "\\Z"]),
    caseless=st.booleans(),
    texts=st.lists(st.text(alphabet="aAb/.x\n", max_size=8), max_size=30),
)
def test_an_anchor_holds_for_every_path_its_regex_matches(
    start: bool, atoms: list[str], end: str, caseless: bool, texts: list[str]
) -> None:
    from proxy.table.literals import anchor

    compiled = re.compile(
        ("^" if start else "") + "".join(atoms) + end, re.IGNORECASE if caseless else 0
    )
    pattern = re.compile(compiled.pattern.encode(), compiled.flags & re.IGNORECASE)
    found = anchor(pattern)
    for text in texts:
        data = text.encode()
        if found is None or pattern.search(data) is None:
            continue
        seen = data.lower() if found.folded else data
        ends = [seen, seen[:-1]] if found.before_newline and seen.endswith(b"\n") else [seen]
        if found.at_start:
            assert any(seen.startswith(key) for key in found.keys), (pattern, text)
        else:
            assert any(e.endswith(key) for e in ends for key in found.keys), (pattern, text)
