"""The importer: routes whose first match is nginx's location (on the corpus' edge paths and on
generated location trees), what each route does, the blocks around them, the report, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.table.matcher import compile_table
from proxy.table.model import Mode, NoRoute, Redirect, Respond, RouteTable, TableError
from proxy.table.nginx import NginxError, load, load_text
from proxy.table.nginx.check import check
from proxy.table.nginx.importer import Imported, import_server
from proxy.table.nginx.load import DiskSource
from proxy.table.nginx.locations import Chosen, LocationChoice, LocationTree, NoLocation
from proxy.table.nginx.locations import Redirect as NginxRedirect
from proxy.table.nginx.model import Directive, Location, Modifier
from proxy.table.nginx.pcre import UnsupportedRegex, compile_pcre
from proxy.table.nginx.plan import Planned, plan
from proxy.table.nginx.report import Status
from proxy.table.nginx.uri import normalise
from proxy.table.parser import parse
from tests.nginx_import.paths import everything
from tests.nginx_import.test_nginx_agrees_on_locations import EXTRA

CORPUS = Path(__file__).parent / "corpus"
HEAD = "version: 1\nlegacy: {url: 'http://legacy'}\nnative: {url: 'http://native'}\n"


def imported(name: str, **options: str) -> Imported:
    return import_server(load(CORPUS / name), source=name, **options)


def route_table(result: Imported) -> RouteTable:
    """The imported routes alone (the sides take no part in choosing one)."""
    return parse(HEAD + result.routes_text)


# edges.conf passes to one address by proxy_pass and by fastcgi_pass: the first is named native
OPTIONS = {
    "split.conf": {"native_upstream": "python_api"},
    "edges.conf": {"native_upstream": "http://127.0.0.1:9"},
}


@pytest.mark.parametrize("name", sorted(EXTRA), ids=lambda n: n.removesuffix(".conf"))
def test_the_imported_routes_choose_nginx_s_location_for_every_edge_path(name: str) -> None:
    result = imported(name, **OPTIONS.get(name, {}))
    targets = everything(result.server.locations, EXTRA[name])
    verdicts = list(check(result, compile_table(route_table(result)), targets))
    wrong = [f"{v.target}: nginx {v.nginx}, table {v.table}" for v in verdicts if not v.agree]
    assert wrong == []
    assert len(verdicts) == len(targets) > 40


# ---------------------------------------------------------------- generated location trees

PREFIXES = ["/", "/a", "/a/", "/ab", "/a/b", "/a/b/", "/b", "/b/", "/a/bc"]
REGEXES = ["\\.php$", "^/a", "b/", "(?i)^/A/", "^/a/b/c", "x"]
PIECES = ["/a", "/b", "/", "c", ".php", "/A", "x", "/b/"]


@st.composite
def location_lists(
    draw: st.DrawFn, parent: str = "", depth: int = 0, regex_parent: bool = False
) -> tuple[Location, ...]:
    found: list[Location] = []
    names: set[tuple[str, bool]] = set()
    for _ in range(draw(st.integers(0, 4 if depth == 0 else 2))):
        kind = draw(st.sampled_from(["prefix", "prefix", "^~", "=", "~", "~*"]))
        if kind in ("~", "~*"):
            pattern = draw(st.sampled_from(REGEXES))
        else:
            if regex_parent:
                continue  # nginx allows it; the importer refuses it (tested apart)
            options = [p for p in PREFIXES if p.startswith(parent) and p != parent] or [
                parent + "z"
            ]
            pattern = draw(st.sampled_from(options))
            key = (pattern, kind == "=")
            if key in names:
                continue
            names.add(key)
        modifier = {"prefix": Modifier.PREFIX, "^~": Modifier.PREFIX_NO_REGEX, "=": Modifier.EXACT,
                    "~": Modifier.REGEX, "~*": Modifier.REGEX_CASELESS}[kind]  # fmt: skip
        passes = draw(st.booleans())
        directives = (Directive("proxy_pass", ("http://up",), "gen.conf", 1),) if passes else ()
        inner: tuple[Location, ...] = ()
        if depth < 2 and modifier is not Modifier.EXACT:
            scope = parent if modifier.is_regex else pattern
            inner = draw(location_lists(scope, depth + 1, regex_parent=modifier.is_regex))
        found.append(Location(modifier, pattern, directives, inner, "gen.conf", len(found) + 1))
    return tuple(found)


@settings(max_examples=400, deadline=None)
@given(
    locations=location_lists(),
    paths=st.lists(st.lists(st.sampled_from(PIECES), max_size=5).map("".join), max_size=25),
)
def test_generated_location_trees_are_ordered_as_nginx_chooses(
    locations: tuple[Location, ...], paths: list[str]
) -> None:
    tree = LocationTree(locations)
    laid = plan(locations)
    for raw in ["/", *paths]:
        path = raw if raw.startswith("/") else "/" + raw
        want = tree.choose(path.encode())
        assert _first(laid.routes, path) == want, path


def _first(routes: tuple[Planned, ...], path: str) -> LocationChoice:
    """The choice of the first planned route that matches `path`, as the table would match."""
    for route in routes:
        if route.exact is not None:
            if path == route.exact:
                return route.choice
            continue
        if route.prefix is not None and not path.startswith(route.prefix):
            continue
        folded = [(r.pattern, r.modifier is Modifier.REGEX_CASELESS) for r in route.regexes]
        if all(compile_pcre(p, caseless=c).search(path.encode()) for p, c in folded):
            return route.choice
    return NoLocation()


# ---------------------------------------------------------------- what the routes do


def test_the_split_imports_sides_paths_and_answers() -> None:
    table = parse(imported("split.conf", native_upstream="python_api").text, env={})
    routes = {r.id: r for r in table.routes}
    assert table.legacy.url == "http://127.0.0.1:9000"
    assert table.native.url == "http://127.0.0.1:9001"
    assert table.limits.request_body == 20 * 1024 * 1024
    assert table.legacy.preserve_host is False  # nginx sends $proxy_host without a Host rule
    me = routes["api-me"]
    assert (me.mode, me.native_path and me.native_path.source) == (
        Mode.NATIVE,
        "/api/v1/profile/me",
    )
    assert routes["api-php"].legacy_path is not None
    assert routes["api-php"].legacy_path.source == "/{rest}"
    assert routes["api-v1"].mode is Mode.NATIVE and routes["api-v1"].native_path is None
    slash = routes["api-php.slash"].answer
    assert isinstance(slash, Redirect) and slash.status == 301
    assert slash.to.source == "/api/php/{is_args}{args}"
    assert routes["health"].answer == Respond(200, "ok")
    assert routes["dot-files"].answer == Respond(403)
    admin = routes["old-admin"].answer
    assert (
        isinstance(admin, Redirect) and admin.to.source == "https://admin.example.com{request_uri}"
    )
    pages = routes["legacy-page-a-z-html"].answer
    assert isinstance(pages, Redirect) and pages.to.source == "/pages/{page}"


def test_the_split_s_table_matches_as_nginx_chooses() -> None:
    table = parse(imported("split.conf", native_upstream="python_api").text, env={})
    matcher = compile_table(table)
    cases = {
        "/api/v1/export.CSV": "csv.in.api-v1",
        "/api/v1/admin/users": "api-v1-admin.in.api-v1",
        "/api/v1/reports/q1.png": "png-jpe-g-gif-svg.in.api-v1-reports",
        "/static/app.js.map": "map.in.static",
        "/static/a.php": "static",
        "/apis": "api",
        "/api/me/": "api",
    }
    for path, route_id in cases.items():
        found = matcher.match("GET", path)
        assert not isinstance(found, NoRoute) and found.route.id == route_id, path


def test_a_fastcgi_server_gives_the_legacy_fastcgi_block() -> None:
    text = imported("laravel.conf").text
    legacy = text.split("\nlimits:")[0]
    assert "  fastcgi: 'unix:/var/run/php/php8.2-fpm.sock'" in legacy
    assert "  root: /srv/example.com/public" in legacy
    assert "  index: index.php" in legacy
    assert "  execute: index" in legacy
    assert "execute: any" in imported("wordpress.conf").text
    assert "  index: doku.php" in imported("dokuwiki.conf").text
    assert "request_body: 1MiB                # nginx's client_max_body_size default" in text


def test_custom_fastcgi_params_and_static_cache_rules_are_carried_over() -> None:
    text = imported_text(
        """\
server {
    listen 80;
    root /srv/app/public;
    client_max_body_size 0;
    location / { try_files $uri $uri/ /index.php?$query_string; }
    location /build/ { expires 1y; add_header Cache-Control "public, immutable"; }
    location ~ \\.php$ {
        fastcgi_pass 127.0.0.1:9000;
        fastcgi_param APP_ENV production;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
    }
}
"""
    )
    assert "  params:\n    APP_ENV: production" in text
    assert "static:\n  cache:\n    /build/: 'public, immutable, max-age=31536000'" in text
    assert "limits:" not in text  # 0: no limit


def imported_text(conf: str, **options: str) -> str:
    return import_server(
        load_text(conf, "site.conf", DiskSource()), source="site.conf", **options
    ).text


def test_every_directive_is_reported_once_with_its_line() -> None:
    result = imported("laravel.conf")
    lines = [(e.where, e.text) for e in result.report]
    assert len(lines) == len(set(lines))
    verdicts = {e.text: (e.status, e.where) for e in result.report}
    assert verdicts["add_header X-Frame-Options SAMEORIGIN"][0] is Status.NOT_IMPORTED
    assert verdicts["error_page 404 /index.php"] == (Status.NOT_IMPORTED, "laravel.conf:22")
    assert verdicts["fastcgi_hide_header X-Powered-By"][0] is Status.NOT_IMPORTED
    assert verdicts["location ~ /\\.(?!well-known).*"] == (Status.MAPPED, "laravel.conf:31")
    assert verdicts["deny all"] == (Status.MAPPED, "laravel.conf:32")
    written = [line.split() for line in result.text.splitlines()]
    assert ["#", "laravel.conf:22", "not", "imported", "error_page", "404", "/index.php"] in written


def test_rewrites_ifs_and_named_locations_are_reported_not_dropped() -> None:
    result = imported("dokuwiki.conf")
    verdicts = [(e.status, e.text) for e in result.report]
    assert (
        Status.NOT_IMPORTED,
        "rewrite ^/_media/(.*) /lib/exe/fetch.php?media=$1 last",
    ) in verdicts
    assert (Status.NOT_IMPORTED, "location @dokuwiki") in verdicts
    assert (Status.MAPPED, "internal") in verdicts


def test_a_server_level_return_is_one_redirect_route() -> None:
    text = imported_text(
        """\
server {
    listen 80;
    server_name example.com;
    return 301 https://$host$request_uri;
    location / { proxy_pass http://127.0.0.1:8080; }
}
"""
    )
    table = parse(text, env={})
    assert len(table.routes) == 1
    assert isinstance(table.routes[0].answer, Redirect)
    assert table.routes[0].answer.to.source == "https://{host}{request_uri}"


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("conf", "options", "message"),
    [
        (
            "server { listen 80; root /srv; }",
            {},
            'site.conf:1: server "" (listen *:80) at site.conf:1 has no location to import',
        ),
        (
            "server { location / { proxy_pass http://127.0.0.1:1; } "
            "location /py/ { proxy_pass http://127.0.0.1:2; } }",
            {},
            "requests go to 2 legacy applications: http://127.0.0.1:1",
        ),
        (
            "server { location / { root /srv; } }",
            {},
            "no location passes requests to an application",
        ),
        (
            "server { location ~ /x { location /x/y { } } location / { proxy_pass http://a; } }",
            {},
            "site.conf:1: prefix location /x/y nested in the regex location ~ /x (site.conf:1)",
        ),
        (
            'server { location ~ "\\p{L}" { } location / { proxy_pass http://a; } }',
            {},
            "site.conf:1: location ~ \\p{L}: '\\\\p{L}': \\p has no equivalent in Python's re",
        ),
        (
            "server { server_name a.test; location / { proxy_pass http://a; } }\n"
            "server { server_name b.test; location / { proxy_pass http://b; } }",
            {},
            "several server blocks: choose one with --server-name",
        ),
        (
            "server { location / { proxy_pass http://a$uri; } }",
            {},
            "site.conf:1: proxy_pass http://a$uri: a URI built from variables is not imported",
        ),
    ],
    ids=[
        "bare-server",
        "two-legacy-upstreams",
        "no-application",
        "prefix-in-regex",
        "untranslatable-regex",
        "which-server",
        "variables-in-proxy-pass",
    ],
)
def test_what_cannot_be_imported_is_an_error_that_says_why(
    conf: str, options: dict[str, str], message: str
) -> None:
    with pytest.raises((NginxError, UnsupportedRegex)) as caught:
        imported_text(conf, **options)
    assert message in str(caught.value)


def test_the_written_table_validates_and_keeps_the_split_s_choices() -> None:
    result = imported("split.conf", native_upstream="python_api")
    table = parse(result.text, env={})
    assert [r.id for r in table.routes] == [r.id for r in result.routes]
    with pytest.raises(TableError):
        parse(result.text.replace("mode: native", "mode: nativ", 1), env={})


def test_check_names_both_choices() -> None:
    result = imported("split.conf", native_upstream="python_api")
    verdicts = {
        v.target: v for v in check(result, compile_table(route_table(result)), ["/api/php", "/%2F"])
    }
    assert verdicts["/api/php"].nginx == "301 to location /api/php/ (split.conf:15)"
    assert verdicts["/api/php"].table.startswith("route api-php.slash (routing.yaml:")
    assert verdicts["/%2F"].deliberate == "the gateway refuses this path (400)"
    assert isinstance(LocationTree(result.server.locations).choose(b"/api/php"), NginxRedirect)
    assert isinstance(LocationTree(result.server.locations).choose(b"/"), Chosen)
    assert normalise(b"/%2F") is not None


def test_try_files_falling_back_to_a_proxying_named_location_goes_where_it_proxies() -> None:
    result = import_server(
        load_text(
            """\
server {
    listen 80;
    root /srv/app/public;
    location / { try_files $uri $uri/ @app; }
    location @app { proxy_pass http://127.0.0.1:3000; }
}
""",
            "site.conf",
            DiskSource(),
        ),
        source="site.conf",
    )
    table = parse(result.text, env={})
    assert table.legacy.url == "http://127.0.0.1:3000"
    assert [(r.id, r.mode) for r in table.routes] == [("root", Mode.LEGACY)]
    verdicts = {e.text: e.status for e in result.report}
    assert verdicts["try_files $uri $uri/ @app"] is Status.APPROXIMATED
    assert verdicts["location @app"] is Status.MAPPED
