"""routing.yaml version 1: what parses into what, and every reason a table is rejected."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from proxy.table.model import Mode, NativeConfig, Side, TableError, Writes
from proxy.table.parser import default_config_path, load, parse

# lines 1-6; routes start at line 7
HEAD = """\
version: 1
legacy:
  url: http://127.0.0.1:8080
native:
  app: handlers.app:app
routes:
"""


def problems_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(TableError) as caught:
        parse(text, env=env)
    return [str(problem) for problem in caught.value.problems]


# DESIGN.md's example, verbatim
DESIGN_EXAMPLE = """\
version: 1
legacy:
  url: http://127.0.0.1:8080      # the PHP application
  timeout: 30s                    # expiry → 504
  preserve_host: true             # PHP builds absolute URLs from Host
native:
  app: handlers.app:app           # in-process ASGI app (Starlette, FastAPI, ...)
  # url: http://127.0.0.1:8000    # ... or a separately running Python service
  timeout: 10s
shadow:                           # defaults for every shadow route; a route may override any key
  primary: legacy                 # the side that answers the client: legacy | native
  sample: 1.0                     # fraction of matching requests that run both sides
  noise_sample: 0.05              # fraction of compared safe requests where the primary is called
                                  # twice, so that fields differing between two primary answers are
                                  # learned as noise
  timeout: 2s                     # budget of the non-primary side
  max_in_flight: 64               # over this, shadow work is skipped and counted
  max_body: 1MiB                  # larger request/response bodies are served, not compared
  headers: [content-type, location]   # response headers compared (case-insensitive names)
  ignore: []                      # field paths never compared, e.g. body.meta.current_page_url
  redact: []                      # field paths masked before storage (credentials always are)
  writes: none                    # none | dry_run: whether methods other than GET/HEAD are shadowed
  store: sqlite:///parity.db      # any SQLAlchemy URL (MySQL/MariaDB, PostgreSQL for many gateways)
routes:                           # first match wins; no match → legacy
  - id: users.list
    match: GET /api/v1/admin/users
    mode: shadow
  - id: users.show
    match: GET /api/v1/admin/users/{id:int}
    mode: native
  - id: users.write
    match: POST|PUT|PATCH|DELETE /api/v1/admin/users/{path:path}
    mode: legacy
"""


def with_routes(routes: str) -> str:
    return HEAD + routes


def with_head(block: str) -> str:
    """HEAD followed by a block that replaces `routes:` (lines 6 onwards)."""
    return HEAD.removesuffix("routes:\n") + block


# ---------------------------------------------------------------- what a valid table becomes


def test_design_example_parses_into_frozen_values() -> None:
    table = parse(DESIGN_EXAMPLE)
    assert table.version == 1
    assert table.legacy.url == "http://127.0.0.1:8080"
    assert table.legacy.timeout == 30.0
    assert table.legacy.preserve_host is True
    assert table.legacy.pool_size == 100
    assert table.native == NativeConfig(app="handlers.app:app", url=None, timeout=10.0)
    assert table.shadow.primary is Side.LEGACY
    assert table.shadow.max_body == 1024 * 1024
    assert table.shadow.writes is Writes.NONE
    assert [route.id for route in table.routes] == ["users.list", "users.show", "users.write"]
    assert [route.mode for route in table.routes] == [Mode.SHADOW, Mode.NATIVE, Mode.LEGACY]
    assert [route.line for route in table.routes] == [25, 28, 31]
    assert table.routes[2].methods == frozenset({"POST", "PUT", "PATCH", "DELETE"})
    assert table.routes[0].shadow == table.shadow
    assert table.routes[1].shadow is None


def test_digest_is_the_sha256_of_the_text_and_source_the_file_name() -> None:
    text = with_routes("  - {id: a, match: GET /a, mode: legacy}\n")
    table = parse(text, "conf/edge.yaml")
    assert table.digest == hashlib.sha256(text.encode()).hexdigest()
    assert table.source == "conf/edge.yaml"


def test_defaults_fill_what_the_file_leaves_out() -> None:
    table = parse("version: 1\nlegacy:\n  url: https://php.internal/base/\n")
    assert table.legacy.url == "https://php.internal/base"  # trailing "/" dropped
    assert table.legacy.timeout == 30.0
    assert table.native == NativeConfig(app=None, url=None, timeout=10.0)
    assert table.shadow.headers == ("content-type", "location")
    assert table.routes == ()


def test_method_star_means_every_method() -> None:
    table = parse(with_routes("  - {id: any, match: '* /x', mode: legacy}\n"))
    assert table.routes[0].methods is None


def test_in_process_calls_default_to_one_and_a_route_may_allow_more() -> None:
    text = with_head(
        "routes:\n"
        "  - {id: users.list, match: GET /users, mode: shadow, shadow: {max_in_process: 4}}\n"
        "  - {id: users.count, match: GET /users/count, mode: shadow}\n"
    )
    first, second = parse(text).routes
    assert first.shadow is not None and second.shadow is not None
    assert (first.shadow.max_in_process, second.shadow.max_in_process) == (4, 1)


def test_route_shadow_overrides_are_merged_over_the_global_block() -> None:
    text = with_head(
        "shadow:\n"
        "  sample: 0.5\n"
        "  timeout: 3s\n"
        "  ignore: [body.meta.current_page_url]\n"
        "routes:\n"
        "  - id: users.list\n"
        "    match: GET|POST /users\n"
        "    mode: shadow\n"
        "    shadow:\n"
        "      sample: 0.1\n"
        "      primary: native\n"
        "      writes: dry_run\n"
        "  - id: users.count\n"
        "    match: GET /users/count\n"
        "    mode: shadow\n"
    )
    table = parse(text)
    first, second = table.routes
    assert first.shadow is not None and second.shadow is not None
    assert (first.shadow.sample, first.shadow.timeout) == (0.1, 3.0)
    assert first.shadow.primary is Side.NATIVE
    assert first.shadow.writes is Writes.DRY_RUN
    assert first.shadow.ignore == ("body.meta.current_page_url",)
    assert second.shadow == table.shadow
    assert (table.shadow.sample, table.shadow.primary) == (0.5, Side.LEGACY)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), ("1h", 3600.0), ("3", 3.0), ("1.5", 1.5)],
    ids=["ms", "s", "m", "h", "int", "float"],
)
def test_durations(written: str, seconds: float) -> None:
    table = parse(f"version: 1\nlegacy:\n  url: http://php\n  timeout: {written}\n")
    assert table.legacy.timeout == seconds


@pytest.mark.parametrize(
    ("written", "size"),
    [
        ("2048", 2048),
        ("512KiB", 512 * 1024),
        ("1MiB", 1024**2),
        ("1GiB", 1024**3),
        ("10MB", 10_000_000),
        ("64kB", 64_000),
        ("100B", 100),
    ],
    ids=["bytes", "KiB", "MiB", "GiB", "MB-is-decimal", "kB", "B"],
)
def test_sizes(written: str, size: int) -> None:
    table = parse(f"version: 1\nlegacy:\n  url: http://php\nshadow:\n  max_body: {written}\n")
    assert table.shadow.max_body == size


def test_header_names_are_lower_cased() -> None:
    table = parse("version: 1\nlegacy: {url: 'http://php'}\nshadow: {headers: [Content-Type]}\n")
    assert table.shadow.headers == ("content-type",)


@pytest.mark.parametrize(
    "path",
    ["status", "headers.etag", "body", "body.data[*].attributes.updated_at", "body.*.id"],
    ids=["status", "header", "whole-body", "list-items", "every-key"],
)
def test_valid_field_paths_are_kept(path: str) -> None:
    table = parse(f"version: 1\nlegacy: {{url: 'http://php'}}\nshadow: {{ignore: ['{path}']}}\n")
    assert table.shadow.ignore == (path,)


# ---------------------------------------------------------------- the environment


def test_legacy_url_from_the_environment_wins_over_the_file() -> None:
    table = parse(HEAD, env={"LEGACY_URL": "http://legacy:80/"})
    assert table.legacy.url == "http://legacy:80"


def test_legacy_url_from_the_environment_may_stand_in_for_the_file() -> None:
    table = parse("version: 1\n", env={"LEGACY_URL": "http://legacy"})
    assert table.legacy.url == "http://legacy"


def test_a_bad_legacy_url_in_the_environment_is_a_problem_at_the_url_line() -> None:
    found = problems_of(HEAD, env={"LEGACY_URL": "ftp://legacy"})
    assert found == [
        "routing.yaml:3: LEGACY_URL: bad URL 'ftp://legacy': scheme must be http or https"
    ]


def test_store_from_the_environment_wins_over_the_file_and_every_route() -> None:
    text = with_head(
        "shadow: {store: 'sqlite:///a.db'}\n"
        "routes:\n"
        "  - {id: a, match: GET /a, mode: shadow, shadow: {store: 'sqlite:///b.db'}}\n"
    )
    table = parse(text, env={"STRANGLER_STORE": "mysql+pymysql://root@db/parity"})
    assert table.shadow.store == "mysql+pymysql://root@db/parity"
    assert table.routes[0].shadow is not None
    assert table.routes[0].shadow.store == "mysql+pymysql://root@db/parity"


def test_a_bad_store_in_the_environment_is_one_problem() -> None:
    text = with_head(
        "shadow: {store: 'sqlite:///a.db'}\n"
        "routes:\n"
        "  - {id: a, match: GET /a, mode: shadow}\n"
        "  - {id: b, match: GET /b, mode: shadow}\n"
    )
    assert problems_of(text, env={"STRANGLER_STORE": "parity.db"}) == [
        "routing.yaml:6: STRANGLER_STORE: bad store 'parity.db' "
        "(expected an SQLAlchemy URL, e.g. sqlite:///parity.db)"
    ]


def test_parse_reads_no_environment_unless_given_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACY_URL", "http://elsewhere")
    assert parse(HEAD).legacy.url == "http://127.0.0.1:8080"


def test_load_reads_the_file_and_the_given_environment(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(HEAD, encoding="utf-8")
    table = load(path, env={"LEGACY_URL": "http://legacy"})
    assert (table.legacy.url, table.source) == ("http://legacy", str(path))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/parity.db", "sqlite:////srv/gw/var/parity.db"),
        ("sqlite+pysqlite:///../p.db?timeout=5", "sqlite+pysqlite:////srv/p.db?timeout=5"),
        ("sqlite:////data/parity.db", "sqlite:////data/parity.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("mysql+pymysql://root@db/parity", "mysql+pymysql://root@db/parity"),
    ],
    ids=["relative", "parent-and-query", "absolute", "memory", "memory-named", "server"],
)
def test_a_relative_sqlite_store_is_beside_the_table(url: str, expected: str) -> None:
    text = with_head(f"shadow: {{store: '{url}'}}\nroutes:\n")
    assert parse(text, "/srv/gw/routing.yaml").shadow.store == expected


def test_the_default_store_and_a_routes_store_are_beside_the_table_too() -> None:
    route = ROUTE.replace("legacy", "shadow") + "    shadow: {store: 'sqlite:///r.db'}\n"
    table = parse(with_routes(route), "conf/routing.yaml")
    assert table.shadow.store == "sqlite:///conf/parity.db"
    assert table.routes[0].shadow is not None
    assert table.routes[0].shadow.store == "sqlite:///conf/r.db"


def test_a_store_from_the_environment_is_taken_as_it_is() -> None:
    env = {"STRANGLER_STORE": "sqlite:///var/parity.db"}
    assert parse(with_routes(ROUTE), "/srv/gw/routing.yaml", env).shadow.store == (
        "sqlite:///var/parity.db"
    )


def test_a_missing_file_named_relatively_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TableError) as caught:
        load("routing.yaml", env={})
    assert str(caught.value) == (
        "routing.yaml:0: cannot read the file: No such file or directory "
        f"(tried {tmp_path / 'routing.yaml'})"
    )


def test_load_of_a_missing_file_is_a_table_error(tmp_path: Path) -> None:
    with pytest.raises(TableError) as caught:
        load(tmp_path / "nope.yaml", env={})
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}:0: cannot read the file: " + (
        "No such file or directory"
    )


def test_load_of_a_file_that_is_not_utf8_is_a_table_error(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_bytes(b"version: 1\nlegacy: {url: 'http://caf\xe9'}\n")
    with pytest.raises(TableError) as caught:
        load(path, env={})
    [problem] = caught.value.problems
    assert (problem.line, problem.reason.startswith("cannot read the file: 'utf-8' codec")) == (
        0,
        True,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, Path("routing.yaml")), ({"STRANGLER_CONFIG": "/etc/edge.yaml"}, Path("/etc/edge.yaml"))],
    ids=["default", "from-env"],
)
def test_default_config_path(env: dict[str, str], expected: Path) -> None:
    assert default_config_path(env) == expected


# ---------------------------------------------------------------- every reason, with its line

NATIVE_HEAD = "version: 1\nlegacy: {url: 'http://php'}\n"
ROUTE = "  - id: r\n    match: GET /a\n    mode: legacy\n"  # lines 7-9

REJECTED = [
    ("yaml-syntax", "version: 1\nlegacy:\n\turl: x\n", "3", "invalid YAML: found character"),
    (
        "yaml-unquoted-star",
        HEAD + "shadow: {ignore: [body.data[*].id]}\n",
        "7",
        "invalid YAML: did not find expected alphabetic or numeric character (quote values",
    ),
    ("empty-file", "", "1", "expected a mapping with version, legacy and routes, got an empty"),
    (
        "not-a-mapping",
        "- a\n",
        "1",
        "expected a mapping with version, legacy and routes, got a list",
    ),
    ("version-missing", "legacy: {url: 'http://php'}\n", "1", "missing key 'version'"),
    ("version-2", "version: 2\nlegacy: {url: 'http://php'}\n", "1", "unsupported version 2"),
    ("version-bool", "version: true\nlegacy: {url: 'http://p'}\n", "1", "unsupported version True"),
    ("unknown-top-key", HEAD + "roots: []\n", "7", "unknown key 'roots' (did you mean 'routes'?)"),
    (
        "unknown-legacy-key",
        HEAD + "legacy:\n  timout: 3s\n",
        "8",
        "unknown key 'timout' in legacy (did you mean 'timeout'?)",
    ),
    ("duplicate-key", HEAD + "version: 1\n", "7", "duplicate key 'version'"),
    ("legacy-missing", "version: 1\n", "1", "missing legacy url (set legacy.url or LEGACY_URL)"),
    ("legacy-url-missing", "version: 1\nlegacy:\n  timeout: 2s\n", "2", "missing legacy url"),
    ("legacy-not-mapping", "version: 1\nlegacy: http://php\n", "2", "legacy must be a mapping"),
    (
        "url-scheme",
        "version: 1\nlegacy: {url: 'ftp://php'}\n",
        "2",
        "legacy.url: bad URL 'ftp://php': scheme must be http or https",
    ),
    ("url-host", "version: 1\nlegacy: {url: 'http:///x'}\n", "2", "a host is required"),
    ("url-port", "version: 1\nlegacy: {url: 'http://php:99999'}\n", "2", "bad URL"),
    ("url-query", "version: 1\nlegacy: {url: 'http://php/?a=1'}\n", "2", "no query or fragment"),
    ("duration-unit", HEAD + "shadow: {timeout: 5x}\n", "7", "shadow.timeout: bad duration '5x'"),
    ("duration-zero", HEAD + "shadow: {timeout: 0ms}\n", "7", "duration '0ms' must be positive"),
    ("duration-negative", HEAD + "shadow: {timeout: -1}\n", "7", "duration -1 must be positive"),
    ("duration-infinite", HEAD + "shadow: {timeout: .inf}\n", "7", "duration inf must be positive"),
    ("duration-nan", HEAD + "shadow: {timeout: .nan}\n", "7", "duration nan must be positive"),
    ("sample-nan", HEAD + "shadow: {sample: .nan}\n", "7", "shadow.sample: nan is outside [0, 1]"),
    ("size-unit", HEAD + "shadow: {max_body: 1 parsec}\n", "7", "bad size '1 parsec'"),
    ("size-zero", HEAD + "shadow: {max_body: 0}\n", "7", "size 0 must be positive"),
    ("sample-high", HEAD + "shadow: {sample: 1.5}\n", "7", "shadow.sample: 1.5 is outside [0, 1]"),
    ("noise-negative", HEAD + "shadow: {noise_sample: -0.1}\n", "7", "-0.1 is outside [0, 1]"),
    ("sample-bool", HEAD + "shadow: {sample: true}\n", "7", "True is not a number"),
    ("in-flight", HEAD + "shadow: {max_in_flight: 0}\n", "7", "0 is not a positive integer"),
    ("in-process", HEAD + "shadow: {max_in_process: 0}\n", "7", "0 is not a positive integer"),
    ("share-zero", HEAD + "shadow: {in_process_share: 0}\n", "7", "0 must be above 0 (1 turns"),
    ("share-high", HEAD + "shadow: {in_process_share: 2}\n", "7", "2 is outside [0, 1]"),
    ("pool-size", "version: 1\nlegacy: {url: 'http://p', pool_size: x}\n", "2", "not a positive"),
    (
        "preserve-host",
        "version: 1\nlegacy: {url: 'http://p', preserve_host: 'yes'}\n",
        "2",
        "legacy.preserve_host: 'yes' is not true or false",
    ),
    (
        "unknown-primary",
        HEAD + "shadow: {primary: php}\n",
        "7",
        "shadow.primary: unknown value 'php' (expected legacy, native)",
    ),
    (
        "unknown-writes",
        HEAD + "shadow: {writes: yes_please}\n",
        "7",
        "shadow.writes: unknown value 'yes_please' (expected none, dry_run)",
    ),
    ("bad-store", HEAD + "shadow: {store: parity.db}\n", "7", "shadow.store: bad store"),
    ("bad-header", HEAD + "shadow: {headers: ['x y']}\n", "7", "bad header name 'x y'"),
    ("headers-not-list", HEAD + "shadow: {headers: etag}\n", "7", "expected a list of header"),
    ("ignore-prefix", HEAD + "shadow: {ignore: [data.id]}\n", "7", "bad field path 'data.id'"),
    ("ignore-index", HEAD + "shadow: {ignore: ['body.a[0]']}\n", "7", "bad field path"),
    ("redact-empty-step", HEAD + "shadow: {redact: [body..a]}\n", "7", "bad field path"),
    ("redact-bare-headers", HEAD + "shadow: {redact: [headers]}\n", "7", "bad field path"),
    (
        "native-both",
        NATIVE_HEAD + "native: {app: 'a:b', url: 'http://n'}\n",
        "3",
        "both app and url",
    ),
    ("native-app-shape", NATIVE_HEAD + "native: {app: handlers}\n", "3", "bad app 'handlers'"),
    (
        "workers-with-url",
        NATIVE_HEAD + "native:\n  url: http://n\n  workers: 2\n",
        "5",
        "native.workers runs native.app in processes of the gateway's; native.url is a service",
    ),
    (
        "workers-without-app",
        NATIVE_HEAD + "native:\n  timeout: 2s\n  workers: 2\n",
        "5",
        "native.workers runs native.app, which is not set",
    ),
    ("workers-negative", NATIVE_HEAD + "native: {app: 'a:b', workers: -1}\n", "3", "-1 is not"),
    ("workers-bool", NATIVE_HEAD + "native: {app: 'a:b', workers: yes}\n", "3", "True is not"),
    ("workers-many", NATIVE_HEAD + "native: {app: 'a:b', workers: 65}\n", "3", "65 is over 64"),
    ("nice-high", NATIVE_HEAD + "native: {app: 'a:b', nice: 20}\n", "3", "from 0 to 19"),
    ("nice-negative", NATIVE_HEAD + "native: {app: 'a:b', nice: -5}\n", "3", "from 0 to 19"),
    ("routes-not-list", HEAD.replace("routes:", "routes: 3"), "6", "routes must be a list"),
    ("route-not-mapping", with_routes("  - users\n"), "7", "a route must be a mapping"),
]


@pytest.mark.parametrize(
    ("text", "line", "reason"), [case[1:] for case in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_table_is_rejected_with_line_and_reason(text: str, line: str, reason: str) -> None:
    found = problems_of(text)
    assert any(p.startswith(f"routing.yaml:{line}: ") and reason in p for p in found), found


ROUTE_REJECTED = [
    ("id-missing", "  - match: GET /a\n    mode: legacy\n", "7", None, "missing route id"),
    ("id-empty", "  - {id: '', match: GET /a, mode: legacy}\n", "7", None, "non-empty string"),
    ("id-number", "  - {id: 3, match: GET /a, mode: legacy}\n", "7", None, "non-empty string"),
    ("id-spaces", "  - {id: 'a b', match: GET /a, mode: legacy}\n", "7", None, "only letters"),
    (
        "id-duplicate",
        ROUTE + ROUTE.replace("/a", "/b"),
        "10",
        None,
        "duplicate route id 'r' (first at line 7)",
    ),
    (
        "unknown-mode",
        ROUTE.replace("legacy", "nativ"),
        "9",
        "r",
        "unknown mode 'nativ' (expected legacy, native, shadow, canary)",
    ),
    ("mode-missing", "  - {id: r, match: GET /a}\n", "7", "r", "missing key 'mode'"),
    ("match-missing", "  - {id: r, mode: legacy}\n", "7", "r", "missing key 'match'"),
    ("unknown-route-key", ROUTE + "    mathc: x\n", "10", "r", "unknown key 'mathc' in route"),
    ("match-one-word", ROUTE.replace("GET /a", "/a"), "8", "r", "malformed match '/a'"),
    ("match-three-words", ROUTE.replace("GET /a", "GET /a /b"), "8", "r", "malformed match"),
    ("match-not-string", ROUTE.replace("GET /a", "[GET]"), "8", "r", "must be a string"),
    (
        "unknown-method",
        ROUTE.replace("GET /a", "GTE /a"),
        "8",
        "r",
        "unknown HTTP method 'GTE' (did you mean 'GET'?)",
    ),
    ("lower-case-method", ROUTE.replace("GET", "get"), "8", "r", "did you mean 'GET'?"),
    ("star-combined", ROUTE.replace("GET /a", "'GET|* /a'"), "8", "r", "'*' cannot be combined"),
    ("method-twice", ROUTE.replace("GET", "GET|GET"), "8", "r", "a method is listed twice"),
    ("relative-path", ROUTE.replace("/a", "a"), "8", "r", "path 'a' must start with '/'"),
    (
        "unknown-convertor",
        ROUTE.replace("/a", "/a/{id:float}"),
        "8",
        "r",
        "unknown convertor 'float' in '{id:float}' (expected int or path)",
    ),
    ("param-twice", ROUTE.replace("/a", "/{x}/{x:int}"), "8", "r", "parameter 'x' appears twice"),
    ("path-not-last", ROUTE.replace("/a", "/{p:path}/a"), "8", "r", "must be the last segment"),
    ("partial-segment", ROUTE.replace("/a", "/a{b}"), "8", "r", "partial segment 'a{b}'"),
    ("unclosed-brace", ROUTE.replace("/a", "/{b"), "8", "r", "partial segment '{b'"),
    ("bad-param-name", ROUTE.replace("/a", "/{1x}"), "8", "r", "bad parameter name '1x'"),
    ("empty-segment", ROUTE.replace("/a", "/a//b"), "8", "r", "empty segment"),
    ("dot-dot-segment", ROUTE.replace("/a", "/a/../b"), "8", "r", "never matches a normalised"),
    (
        "kept-shadow-block-still-checked",
        ROUTE + "    shadow: {sample: 2}\n",
        "10",
        "r",
        "shadow.sample: ",
    ),
    (
        "shadow-post-without-dry-run",
        ROUTE.replace("GET", "GET|POST").replace("legacy", "shadow"),
        "8",
        "r",
        "shadows POST but writes is none; set writes: dry_run or narrow the methods",
    ),
    (
        "shadow-star-without-dry-run",
        ROUTE.replace("GET /a", "'* /a'").replace("legacy", "shadow"),
        "8",
        "r",
        "shadows every method but writes is none",
    ),
    (
        "route-shadow-bad-value",
        ROUTE.replace("legacy", "shadow") + "    shadow:\n      sample: 2\n",
        "11",
        "r",
        "shadow.sample: 2 is outside [0, 1]",
    ),
    (
        "route-shadow-unknown-key",
        ROUTE.replace("legacy", "shadow") + "    shadow:\n      smaple: 1\n",
        "11",
        "r",
        "unknown key 'smaple' in shadow (did you mean 'sample'?)",
    ),
    (
        "route-shadow-not-mapping",
        ROUTE.replace("legacy", "shadow") + "    shadow: fast\n",
        "10",
        "r",
        "shadow must be a mapping",
    ),
]


@pytest.mark.parametrize(
    ("routes", "line", "route_id", "reason"),
    [case[1:] for case in ROUTE_REJECTED],
    ids=[case[0] for case in ROUTE_REJECTED],
)
def test_route_is_rejected_with_line_route_id_and_reason(
    routes: str, line: str, route_id: str | None, reason: str
) -> None:
    found = problems_of(with_routes(routes))
    where = f"routing.yaml:{line}: " + (f"route '{route_id}': " if route_id else "")
    assert any(p.startswith(where) and reason in p for p in found), found


@pytest.mark.parametrize("mode", ["native", "legacy"])
def test_a_flipped_route_keeps_its_shadow_and_gate_blocks_inert(mode: str) -> None:
    route = "    shadow: {sample: 0.5}\n    gate: {min_samples: 10}\n"
    shadowed = parse(with_routes(ROUTE.replace("legacy", "shadow") + route)).routes[0]
    flipped = parse(with_routes(ROUTE.replace("legacy", mode) + route)).routes[0]
    assert shadowed.shadow is not None and shadowed.shadow.sample == 0.5
    assert (shadowed.inert, flipped.inert) == ((), ("shadow", "gate"))
    assert flipped.shadow is None  # inert: nothing of shadow mode runs for it
    assert flipped.gate == shadowed.gate


def test_native_routes_need_a_native_app_or_url() -> None:
    text = "version: 1\nlegacy: {url: 'http://php'}\nroutes:\n" + ROUTE.replace("legacy", "native")
    assert problems_of(text) == [
        "routing.yaml:4: route 'r': mode native needs native.app or native.url, and neither is set"
    ]


def test_legacy_only_tables_need_no_native_side() -> None:
    text = "version: 1\nlegacy: {url: 'http://php'}\nroutes:\n" + ROUTE
    assert parse(text).native.app is None


@pytest.mark.parametrize(
    "override",
    ["    shadow: {writes: dry_run}\n", ""],
    ids=["route-sets-dry-run", "global-sets-dry-run"],
)
def test_shadowing_writes_is_allowed_with_dry_run(override: str) -> None:
    route = ROUTE.replace("GET", "GET|POST").replace("legacy", "shadow") + override
    text = with_head(("shadow: {writes: dry_run}\n" if not override else "") + "routes:\n" + route)
    assert parse(text).routes[0].shadow is not None


def test_a_shadow_route_may_narrow_writes_back_to_none_and_is_then_rejected() -> None:
    route = ROUTE.replace("GET", "PUT").replace("legacy", "shadow") + "    shadow: {writes: none}\n"
    text = with_head("shadow: {writes: dry_run}\nroutes:\n" + route)
    assert problems_of(text) == [
        "routing.yaml:9: route 'r': shadows PUT but writes is none; "
        "set writes: dry_run or narrow the methods"
    ]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = with_routes(
        "  - id: a\n"
        "    match: GET /a{b}\n"  # line 8
        "    mode: nativ\n"  # line 9
        "  - id: a\n"  # line 10
        "    match: GET /b\n"
        "    mode: legacy\n"
    ).replace("version: 1", "version: 3")
    found = problems_of(text)
    assert [p.split(":")[1] for p in found] == ["1", "8", "9", "10"]


def test_table_error_message_lists_every_problem_one_a_line() -> None:
    with pytest.raises(TableError) as caught:
        parse("version: 2\n", "edge.yaml")
    assert str(caught.value).splitlines() == [
        "edge.yaml:1: unsupported version 2 (expected 1)",
        "edge.yaml:1: missing legacy url (set legacy.url or LEGACY_URL), or legacy.fastcgi "
        "(LEGACY_FASTCGI) to reach PHP-FPM",
    ]


def test_native_workers_and_nice_are_read() -> None:
    table = parse(NATIVE_HEAD + "native: {app: 'a:b', workers: 3, nice: 0}\nroutes: []\n")
    assert (table.native.workers, table.native.nice) == (3, 0)
    default = parse(NATIVE_HEAD + "native: {app: 'a:b'}\nroutes: []\n")
    assert (default.native.workers, default.native.nice) == (0, 10)  # in process by default
