"""Native coverage: the native app's own router is asked whether it serves each routed request."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router
from starlette.types import Receive, Scope, Send

from proxy.table.checks import (
    AppImportError,
    check_native_coverage,
    import_app,
    inert_blocks,
    sample_path,
)
from proxy.table.matcher import parse_template
from proxy.table.model import RouteTable
from proxy.table.parser import parse

ADMIN = "not an app"


async def ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("never called: the check serves nothing")


admin = Router(
    routes=[
        Route("/users", ok, methods=["GET"]),
        Route("/users/{user:int}", ok, methods=["GET", "PUT", "DELETE"]),
        Route("/invoices", ok, methods=["GET"]),
    ]
)
app = Starlette(
    routes=[
        Mount("/api/v1/admin", app=admin),
        Mount("/static", app=raw_asgi),
        Route("/health", ok),
    ]
)


def table_with(routes: str, native: str = "app: tests.proxy.test_checks:app") -> RouteTable:
    return parse(
        "version: 1\n"
        "legacy: {url: 'http://php'}\n"
        f"native: {{{native}}}\n"
        "shadow: {writes: dry_run}\n"
        "routes:\n" + routes
    )


def route(route_id: str, match: str, mode: str, extra: str = "") -> str:
    return f"  - {{id: {route_id}, match: '{match}', mode: {mode}{extra}}}\n"


def reasons(table: RouteTable, target: object | None = app) -> list[tuple[str, bool]]:
    return [(str(p), p.warning) for p in check_native_coverage(table, target)]


SERVED = [
    ("literal", "GET /api/v1/admin/users"),
    ("int-param", "GET|PUT|DELETE /api/v1/admin/users/{id:int}"),
    ("head-with-get", "GET|HEAD /api/v1/admin/users/{id:int}"),
    ("plain-route", "GET /health"),
    ("mounted-asgi-app", "GET /static/{p:path}"),
]


@pytest.mark.parametrize("match", [case[1] for case in SERVED], ids=[c[0] for c in SERVED])
def test_served_routes_raise_no_problem(match: str) -> None:
    assert reasons(table_with(route("r", match, "native"))) == []


def test_an_unserved_path_is_an_error_naming_route_method_and_path() -> None:
    table = table_with(route("tickets.show", "GET /api/v1/admin/tickets/{id:int}", "native"))
    assert reasons(table) == [
        (
            "routing.yaml:6: route 'tickets.show': GET /api/v1/admin/tickets/1 is not served by "
            "tests.proxy.test_checks:app",
            False,
        )
    ]


def test_an_unserved_method_is_an_error_for_that_method_only() -> None:
    table = table_with(route("users.write", "POST|PUT /api/v1/admin/users/{id:int}", "native"))
    assert [reason.split(": ", 2)[2] for reason, _ in reasons(table)] == [
        "POST /api/v1/admin/users/1 is not served by tests.proxy.test_checks:app"
    ]


def test_a_path_under_a_mount_is_looked_up_inside_the_mounted_router() -> None:
    table = table_with(route("users.me", "GET /api/v1/admin/users/me", "native"))
    assert len(reasons(table)) == 1


def test_star_routes_are_checked_for_every_api_method() -> None:
    table = table_with(route("invoices", "* /api/v1/admin/invoices", "native"))
    methods = [reason.split(": ")[2].split()[0] for reason, _ in reasons(table)]
    assert methods == ["POST", "PUT", "PATCH", "DELETE"]


@pytest.mark.parametrize(
    ("extra", "warning"),
    [("", True), (", shadow: {primary: native}", False)],
    ids=["legacy-primary-warns", "native-primary-errs"],
)
def test_unserved_shadow_routes(extra: str, warning: bool) -> None:
    table = table_with(route("tickets", "GET /api/v1/admin/tickets", "shadow", extra))
    assert [w for _, w in reasons(table)] == [warning]


def test_legacy_routes_are_not_checked() -> None:
    assert reasons(table_with(route("php", "GET /login", "legacy"))) == []


def test_middleware_is_looked_through() -> None:
    wrapped = CORSMiddleware(app, allow_origins=["*"])
    table = table_with(route("tickets", "GET /api/v1/admin/tickets", "native"))
    assert len(reasons(table, wrapped)) == 1


def test_an_app_that_cannot_be_introspected_gives_one_warning() -> None:
    table = table_with(route("a", "GET /a", "native") + route("b", "GET /b", "native"))
    assert reasons(table, raw_asgi) == [
        (
            "routing.yaml:6: tests.proxy.test_checks:app is not a Starlette or FastAPI app: "
            "coverage cannot be verified",
            True,
        )
    ]


@pytest.mark.parametrize(
    "catch_all",
    [
        Starlette(routes=[Route("/{path:path}", ok, methods=["GET", "POST"])]),
        Starlette(routes=[Route("/health", ok), Mount("/", app=raw_asgi)]),
    ],
    ids=["path-route", "root-mount"],
)
def test_an_app_that_takes_every_path_gives_one_warning(catch_all: Starlette) -> None:
    table = table_with(route("a", "GET /a", "native") + route("b", "GET /b", "native"))
    [(reason, warning)] = reasons(table, catch_all)
    assert warning
    assert "routes every path to a catch-all" in reason
    assert "coverage cannot be verified" in reason


def test_the_app_is_imported_from_native_app_when_not_given() -> None:
    table = table_with(route("tickets", "GET /api/v1/admin/tickets", "native"))
    assert len(reasons(table, None)) == 1
    served = table_with(route("users", "GET /api/v1/admin/users", "native"))
    assert reasons(served, None) == []


@pytest.mark.parametrize("mode", ["native", "legacy"])
def test_an_app_that_cannot_be_imported_is_an_error_at_the_line_of_native_app(mode: str) -> None:
    table = table_with(route("a", "GET /a", mode), native="app: no_such_module_q:app")
    assert reasons(table, None) == [
        (
            "routing.yaml:3: native.app: no module named 'no_such_module_q' (from "
            "'no_such_module_q:app')",
            False,
        )
    ]


def test_native_app_that_is_not_an_asgi_app_is_an_error() -> None:
    table = table_with(route("a", "GET /a", "legacy"), native="app: tests.proxy.test_checks:ADMIN")
    assert reasons(table, None) == [
        ("routing.yaml:3: native.app: 'tests.proxy.test_checks:ADMIN' is not an ASGI app "
         "(not callable)", False)
    ]  # fmt: skip


def test_native_url_is_skipped_with_a_warning_and_no_call() -> None:
    table = table_with(route("a", "GET /a", "native"), native="url: 'http://127.0.0.1:1'")
    found = check_native_coverage(table)
    assert [(p.warning, "coverage is not verified" in p.reason) for p in found] == [(True, True)]


# ---------------------------------------------------------------- import_app and sample_path


def test_import_app_returns_the_named_attribute() -> None:
    assert import_app("tests.proxy.test_checks:admin.routes") is admin.routes


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_q:app", "no module named 'no_such_module_q'"),
        ("tests.proxy.no_such_q:app", "no module named 'tests.proxy.no_such_q'"),
        ("json:nope", "module 'json' has no attribute 'nope'"),
        ("json", "'json' is not of the form module:attribute"),
        ("json:", "is not of the form module:attribute"),
    ],
    ids=["missing-module", "missing-submodule", "missing-attribute", "no-colon", "no-attribute"],
)
def test_import_app_failures_say_what_is_missing(spec: str, message: str) -> None:
    with pytest.raises(AppImportError, match=message):
        import_app(spec)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import no_such_dependency_q\n", "importing 'broken_app_q' failed: No module named"),
        ("raise RuntimeError('no DATABASE_URL')\n", "RuntimeError: no DATABASE_URL"),
    ],
    ids=["missing-dependency", "error-at-import"],
)
def test_import_app_reports_the_apps_own_import_errors(
    source: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_app_q.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_app_q", raising=False)
    with pytest.raises(AppImportError, match=message):
        import_app("broken_app_q:app")


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/", "/"),
        ("/users", "/users"),
        ("/users/", "/users/"),
        ("/users/{id:int}", "/users/1"),
        ("/users/{name}/posts", "/users/x/posts"),
        ("/files/{p:path}", "/files/x/y"),
    ],
    ids=["root", "literal", "trailing-slash", "int", "str", "path"],
)
def test_sample_path(template: str, path: str) -> None:
    assert sample_path(parse_template(template)) == path


def test_routes_taken_only_by_a_trailing_catch_all_are_not_served() -> None:
    # the shape of an app that declares its endpoints and answers the rest with its own 404
    declared = Starlette(
        routes=[
            Route("/api/v1/admin/users", ok, methods=["GET"]),
            Route("/{path:path}", ok, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    table = table_with(
        route("users", "GET /api/v1/admin/users", "native")
        + route("typo", "GET /api/v1/admin/userz", "native")
    )
    assert reasons(table, declared) == [
        (
            "routing.yaml:7: route 'typo': GET /api/v1/admin/userz is not served by "
            "tests.proxy.test_checks:app",
            False,
        )
    ]


def test_blocks_a_flipped_route_keeps_are_noted_not_refused() -> None:
    blocks = ", shadow: {sample: 0.5}, gate: {min_samples: 10}"
    table = table_with(
        route("a", "GET /api/v1/admin/users", "native", blocks)
        + route("b", "GET /api/v1/admin/invoices", "shadow", blocks)
        + route("c", "GET /health", "legacy", ", shadow: {sample: 0.5}")
    )
    found = inert_blocks(table)
    assert [(str(p), p.warning) for p in found] == [
        ("routing.yaml:6: route 'a': shadow: and gate: are kept but unused in mode native", True),
        ("routing.yaml:8: route 'c': shadow: is kept but unused in mode legacy", True),
    ]
