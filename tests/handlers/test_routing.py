"""Routes: declared per resource (so routers and `strangler check` see them), with the legacy
side's answers for unknown paths, unknown methods and OPTIONS."""

from __future__ import annotations

import pytest
from starlette.routing import Match, Route

from handlers.app import create_app
from handlers.errors import ApiError
from handlers.routing import Options, Target, match

PATHS = ["users", "services", "orders", "invoices", "invoice-items", "tickets",
         "ticket-messages", "credits", "products", "categories"]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_every_resource_route_is_declared_before_the_catch_all(path: str) -> None:
    app = create_app("sqlite:///:memory:")
    try:
        routes = [r for r in app.routes if isinstance(r, Route)]
        for method, url in (
            ("GET", f"/api/v1/admin/{path}"),
            ("DELETE", f"/api/v1/admin/{path}/7"),
        ):
            scope = {"type": "http", "method": method, "path": url, "path_params": {}}
            first = next(r for r in routes if r.matches(scope)[0] is Match.FULL)
            assert first.path != "/{path:path}"
    finally:
        app.state.engines.dispose()


def test_member_route_binds_the_key() -> None:
    found = match("PATCH", "/api/v1/admin/invoice-items/12", "api/v1/admin/invoice-items/12")
    assert isinstance(found, Target)
    assert (found.resource.type, found.action, found.key) == ("invoiceItems", "update", "12")


def test_options_lists_the_other_verbs() -> None:
    assert match("OPTIONS", "/api/v1/admin/users", "api/v1/admin/users") == Options("GET,HEAD,POST")


@pytest.mark.parametrize("path", ["/api/v1/admin/", "/api/v1/admin/users/1/x", "/health"])
def test_unknown_paths_are_404(path: str) -> None:
    with pytest.raises(ApiError) as caught:
        match("GET", path, path.strip("/"))
    assert caught.value.status == 404
