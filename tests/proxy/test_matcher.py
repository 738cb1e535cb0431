"""The compiled matcher: first match in file order, agreeing with the linear reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.table.matcher import compile_table, naive_match, parse_match, unreachable_routes
from proxy.table.model import (
    LegacyConfig,
    Mode,
    NativeConfig,
    NoRoute,
    Route,
    RouteMatch,
    RouteTable,
    ShadowConfig,
)


def table_of(*specs: str) -> RouteTable:
    """Routes r0, r1, ... from `match:` specs, in order."""
    routes = []
    for index, spec in enumerate(specs):
        methods, template = parse_match(spec)
        routes.append(Route(f"r{index}", methods, template, Mode.LEGACY, line=index + 1))
    return RouteTable(
        version=1,
        legacy=LegacyConfig(url="http://php", timeout=30.0),
        native=NativeConfig(app=None, url=None, timeout=10.0),
        shadow=ShadowConfig(),
        routes=tuple(routes),
    )


def matched(table: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    result = compile_table(table).match(method, path)
    assert result == naive_match(table, method, path)  # the reference agrees on every example
    if isinstance(result, NoRoute):
        return None
    return result.route.id, result.params


SEMANTICS = [
    ("first-match-wins", ["GET /u/{id}", "GET /u/me"], "GET", "/u/me", ("r0", {"id": "me"})),
    (
        "later-literal-when-earlier-fails",
        ["GET /u/{id:int}", "GET /u/me"],
        "GET",
        "/u/me",
        ("r1", {}),
    ),
    ("method-filters-first", ["POST /u/{id}", "GET /u/me"], "GET", "/u/me", ("r1", {})),
    ("get-implies-head", ["GET /u"], "HEAD", "/u", ("r0", {})),
    ("head-does-not-imply-get", ["HEAD /u"], "GET", "/u", None),
    ("methods-joined", ["PUT|DELETE /u"], "DELETE", "/u", ("r0", {})),
    ("method-not-listed", ["PUT|DELETE /u"], "POST", "/u", None),
    ("star-any-method", ["* /u"], "PROPFIND", "/u", ("r0", {})),
    ("named-methods-not-unknown-ones", ["GET /u"], "PROPFIND", "/u", None),
    ("methods-are-case-sensitive", ["GET /u"], "get", "/u", None),
    ("int-digits", ["GET /u/{id:int}"], "GET", "/u/007", ("r0", {"id": "007"})),
    ("int-rejects-letters", ["GET /u/{id:int}"], "GET", "/u/12a", None),
    ("int-rejects-sign", ["GET /u/{id:int}"], "GET", "/u/-1", None),
    ("int-rejects-unicode-digits", ["GET /u/{id:int}"], "GET", "/u/\u00b2", None),
    ("str-one-segment", ["GET /u/{id}"], "GET", "/u/a/b", None),
    ("str-not-empty", ["GET /u/{id}"], "GET", "/u/", None),
    ("path-tail", ["GET /f/{p:path}"], "GET", "/f/a/b/c", ("r0", {"p": "a/b/c"})),
    ("path-tail-may-be-empty", ["GET /f/{p:path}"], "GET", "/f/", ("r0", {"p": ""})),
    ("path-tail-needs-its-slash", ["GET /f/{p:path}"], "GET", "/f", None),
    ("path-tail-at-root", ["GET /{p:path}"], "GET", "/", ("r0", {"p": ""})),
    ("root", ["GET /"], "GET", "/", ("r0", {})),
    ("root-only", ["GET /"], "GET", "/a", None),
    ("no-trailing-slash-match", ["GET /users"], "GET", "/users/", None),
    ("trailing-slash-template-exact", ["GET /users/"], "GET", "/users", None),
    ("trailing-slash-template", ["GET /users/"], "GET", "/users/", ("r0", {})),
    ("longer-path", ["GET /users"], "GET", "/users/1", None),
    ("literal-is-case-sensitive", ["GET /Users"], "GET", "/users", None),
    (
        "backtracks-to-param-branch",
        ["GET /a/{x}/c", "GET /a/b/d"],
        "GET",
        "/a/b/c",
        ("r0", {"x": "b"}),
    ),
    (
        "lowest-index-across-branches",
        ["GET /a/{x}/c", "GET /a/b/{y}"],
        "GET",
        "/a/b/c",
        ("r0", {"x": "b"}),
    ),
    (
        "tail-beats-later-exact",
        ["GET /a/{p:path}", "GET /a/b"],
        "GET",
        "/a/b",
        ("r0", {"p": "b"}),
    ),
    (
        "lower-index-tail-beats-deeper-branch-end",
        ["GET /a/b/c", "GET /a/{p:path}", "GET /a/b"],
        "GET",
        "/a/b",
        ("r1", {"p": "b"}),
    ),
    (
        "params-with-tail",
        ["GET /t/{tenant}/{n:int}/{rest:path}"],
        "GET",
        "/t/acme/3/x/y",
        ("r0", {"tenant": "acme", "n": "3", "rest": "x/y"}),
    ),
]


@pytest.mark.parametrize(
    ("specs", "method", "path", "expected"),
    [case[1:] for case in SEMANTICS],
    ids=[case[0] for case in SEMANTICS],
)
def test_match_semantics(
    specs: list[str], method: str, path: str, expected: tuple[str, dict[str, str]] | None
) -> None:
    assert matched(table_of(*specs), method, path) == expected


def test_empty_table_matches_nothing() -> None:
    assert isinstance(compile_table(table_of()).match("GET", "/"), NoRoute)


def test_a_match_carries_the_route_itself() -> None:
    table = table_of("GET /u/{id:int}")
    result = compile_table(table).match("GET", "/u/5")
    assert result == RouteMatch(table.routes[0], {"id": "5"})


# ---------------------------------------------------------------- agreement with the reference

LITERALS = ["a", "b", "1"]  # few, so that templates collide and overlap often
REQUEST_METHODS = ["GET", "HEAD", "POST", "DELETE", "PROPFIND"]


@st.composite
def templates(draw: st.DrawFn) -> str:
    kinds = draw(st.lists(st.sampled_from([*LITERALS, "{}", "{:int}"]), max_size=4))
    segments = [
        kind.replace("{", f"{{p{i}") if "{" in kind else kind for i, kind in enumerate(kinds)
    ]
    ending = draw(st.sampled_from(["", "", "/", "/{tail:path}"]))
    return "/" + "/".join(segments) + ending if segments else ending or "/"


@st.composite
def specs(draw: st.DrawFn) -> str:
    star = draw(st.booleans()) and draw(st.booleans())
    methods = draw(st.sets(st.sampled_from(["GET", "HEAD", "POST", "DELETE"]), min_size=1))
    return ("*" if star else "|".join(sorted(methods))) + " " + draw(templates())


paths = st.lists(st.sampled_from([*LITERALS, "x", "07"]), max_size=5).flatmap(
    lambda parts: st.sampled_from(["/" + "/".join(parts), "/" + "/".join(parts) + "/"])
)


@settings(max_examples=500, deadline=None)
@given(
    spec_list=st.lists(specs(), max_size=12),
    requests=st.lists(st.tuples(st.sampled_from(REQUEST_METHODS), paths), min_size=1, max_size=20),
)
def test_compiled_matcher_agrees_with_the_naive_reference(
    spec_list: list[str], requests: list[tuple[str, str]]
) -> None:
    table = table_of(*spec_list)
    matcher = compile_table(table)
    for method, path in requests:
        assert matcher.match(method, path) == naive_match(table, method, path), (method, path)


def test_a_five_thousand_route_table_compiles_and_matches_correctly() -> None:
    specs_ = []
    for i in range(5000):
        group = f"/api/v{i % 7}/r{i // 7}"
        specs_.append(
            [
                f"GET {group}",
                f"GET|HEAD {group}/{{id:int}}",
                f"POST|PUT {group}/{{id:int}}/{{action}}",
                f"* {group}/files/{{p:path}}",
                f"DELETE {group}/{{slug}}",
            ][i % 5]
        )
    table = table_of(*specs_)
    matcher = compile_table(table)
    for route in table.routes:  # every route is reached by a request written for it
        path = route.template.source
        for param, sample in (("{id:int}", "5"), ("{action}", "archive"), ("{p:path}", "a/b")):
            path = path.replace(param, sample)
        path = path.replace("{slug}", "old-post")
        method = "PATCH" if route.methods is None else sorted(route.methods)[0]
        result = matcher.match(method, path)
        assert isinstance(result, RouteMatch) and result.route is route, (method, path)
    probes = [
        ("HEAD", "/api/v1/r0/5", "r1"),
        ("PATCH", "/api/v0/r714/files/x", "r4998"),
        ("DELETE", "/api/v1/r714/x", "r4999"),
        ("GET", "/api/v9/r0", None),
        ("POST", "/api/v1/r0/5", None),
        ("GET", "/api/v1/r0/five", None),
    ]
    for method, path, expected in probes:
        result = matcher.match(method, path)
        assert result == naive_match(table, method, path)
        got = None if isinstance(result, NoRoute) else result.route.id
        assert got == expected, (method, path)


# ---------------------------------------------------------------- unreachable routes

UNREACHABLE = [
    ("duplicate", ["GET /u", "GET /u"], [("r1", "r0")]),
    ("param-covers-literal", ["GET /u/{id}", "GET /u/me"], [("r1", "r0")]),
    ("str-covers-int", ["GET /u/{id}", "GET /u/{n:int}"], [("r1", "r0")]),
    ("int-covers-digits", ["GET /u/{n:int}", "GET /u/42"], [("r1", "r0")]),
    ("int-not-letters", ["GET /u/{n:int}", "GET /u/me"], []),
    ("int-not-str", ["GET /u/{n:int}", "GET /u/{id}"], []),
    ("literal-not-param", ["GET /u/me", "GET /u/{id}"], []),
    ("tail-covers-deeper", ["GET /f/{p:path}", "GET /f/a/b"], [("r1", "r0")]),
    ("tail-covers-tail", ["GET /f/{p:path}", "GET /f/a/{q:path}"], [("r1", "r0")]),
    ("tail-covers-trailing-slash", ["GET /f/{p:path}", "GET /f/"], [("r1", "r0")]),
    ("tail-not-its-parent", ["GET /f/{p:path}", "GET /f"], []),
    ("segment-not-tail", ["GET /f/{x}", "GET /f/{p:path}"], []),
    ("root-tail-covers-root", ["GET /{p:path}", "GET /"], [("r1", "r0")]),
    ("str-not-trailing-slash", ["GET /u/{id}", "GET /u/"], []),
    ("exact-not-trailing-slash", ["GET /u", "GET /u/"], []),
    ("star-covers-get", ["* /u", "GET /u"], [("r1", "r0")]),
    ("get-covers-head", ["GET /u", "HEAD /u"], [("r1", "r0")]),
    ("get-not-post", ["GET /u", "GET|POST /u"], []),
    ("get-not-star", ["GET /u", "* /u"], []),
    ("union-not-claimed", ["GET /u", "POST /u", "GET|POST /u"], []),
    (
        "earliest-coverer-named",
        ["GET /u/{a}", "GET /u/{b}", "GET /u/x"],
        [("r1", "r0"), ("r2", "r0")],
    ),
]


@pytest.mark.parametrize(
    ("specs_", "expected"),
    [case[1:] for case in UNREACHABLE],
    ids=[case[0] for case in UNREACHABLE],
)
def test_unreachable_routes(specs_: list[str], expected: list[tuple[str, str]]) -> None:
    found = unreachable_routes(table_of(*specs_))
    assert [(route.id, earlier.id) for route, earlier in found] == expected


@settings(max_examples=200, deadline=None)
@given(
    spec_list=st.lists(specs(), min_size=2, max_size=8),
    requests=st.lists(st.tuples(st.sampled_from(REQUEST_METHODS), paths), max_size=30),
)
def test_a_reported_route_is_truly_covered(
    spec_list: list[str], requests: list[tuple[str, str]]
) -> None:
    table = table_of(*spec_list)
    for route, earlier in unreachable_routes(table):
        assert table.routes.index(earlier) < table.routes.index(route)
        alone = table_of(spec_list[table.routes.index(route)])
        cover = table_of(spec_list[table.routes.index(earlier)])
        for method, path in requests:
            if isinstance(naive_match(alone, method, path), RouteMatch):
                assert isinstance(naive_match(cover, method, path), RouteMatch), (method, path)
