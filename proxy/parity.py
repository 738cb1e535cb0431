"""Reading the parity store: `strangler report`, `strangler noise` and `GET /_strangler/parity`.

`parity_json` is the one function behind both `strangler report --format json` and the admin
endpoint, so the two print the same JSON for the same store, route and `since`. The store is
found as the gateway finds it: `--store`, else the table's `shadow.store` (which STRANGLER_STORE
overrides), else the default of DESIGN.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy import units
from proxy.admin import PREFIX, AdminContext, protect
from proxy.model import ShadowConfig, TableError
from proxy.table import default_config_path, load
from shadow.noise import propose_from_rows, render_ignore_yaml
from shadow.report import Report, build_report, render_markdown, render_table, to_json
from shadow.settings import ShadowSettings
from shadow.store import Store, open_store

FORMATS = ("table", "markdown", "json")


def parse_since(text: str | None, now: float) -> float | None:
    """`1h`, `30m`, `2d`... ago, or an ISO 8601 time; raises ValueError."""
    if not text:
        return None
    if text[-1:] == "d" and text[:-1].isdigit():
        return now - int(text[:-1]) * 86400.0
    try:
        return now - units.parse_duration(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        reason = f"bad since {text!r} (expected e.g. 1h, 30m, 2d, or an ISO 8601 time)"
        raise ValueError(reason) from None
    if when.tzinfo is None:  # the store keeps UTC, and a report must not depend on the machine
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def read_report(store: Store, since: float | None = None, route: str | None = None) -> Report:
    rows = store.read_rows(since, route)
    return build_report(rows, since=since, route=route, bucket_seconds=store.bucket_seconds)


def parity_json(store: Store, since: float | None = None, route: str | None = None) -> Any:
    """The report as plain JSON types: what `report --format json` prints and /parity answers."""
    return to_json(read_report(store, since, route))


# ---------------------------------------------------------------- the admin endpoint


def parity_route(ctx: AdminContext, store: Callable[[], Store]) -> Route:
    """`GET /_strangler/parity[?route=ID&since=1h]`; `store()` (called in a worker thread, it
    may open the store) gives the Store to read."""

    async def parity(request: Request) -> Response:
        try:
            since = parse_since(request.query_params.get("since"), time.time())
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        route = request.query_params.get("route") or None
        opened: Store = await asyncio.to_thread(store)
        body = await asyncio.to_thread(parity_json, opened, since, route)
        return JSONResponse(body)

    return Route(f"{PREFIX}/parity", protect(ctx, parity), methods=["GET"])


# ---------------------------------------------------------------- the CLI commands


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="route table (default: $STRANGLER_CONFIG, else ./routing.yaml)",
    )
    parser.add_argument(
        "--store", metavar="URL", help="SQLAlchemy URL of the parity store (default: the table's)"
    )
    parser.add_argument("--route", metavar="ID", help="one route only")


def configure_report(parser: argparse.ArgumentParser) -> None:
    _add_store_options(parser)
    parser.add_argument("--since", metavar="WHEN", help="e.g. 1h, 30m, 2d, or an ISO time")
    parser.add_argument("--format", choices=FORMATS, default="table", help="(default: table)")


def configure_noise(parser: argparse.ArgumentParser) -> None:
    _add_store_options(parser)


def _routes_shadow(args: argparse.Namespace) -> tuple[str, dict[str, ShadowConfig]] | None:
    """The store URL to read and the shadow routes' settings; None once the error is shown."""
    path = args.config if args.config is not None else default_config_path()
    try:
        table = load(path)
    except TableError as exc:
        if args.store is None or args.config is not None:
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
            return None
        return args.store, {}  # a store named alone needs no table
    shadows = {r.id: r.shadow for r in table.routes if r.shadow is not None}
    return (args.store or table.shadow.store), shadows


def _open(url: str) -> Store | None:
    try:
        return open_store(url)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        sys.stderr.write(f"cannot open the parity store {url!r}: {exc}\n")
        return None


def run_report(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since, time.time())
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    found = _routes_shadow(args)
    store = _open(found[0]) if found is not None else None
    if store is None:
        return 1
    try:
        if args.format == "json":
            print(json.dumps(parity_json(store, since, args.route), indent=2))
            return 0
        report = read_report(store, since, args.route)
    finally:
        store.close()
    if args.format == "markdown":
        sys.stdout.write(render_markdown(report))
    else:
        console = Console() if sys.stdout.isatty() else Console(width=200)
        console.print(render_table(report))
    return 0


def run_noise(args: argparse.Namespace) -> int:
    found = _routes_shadow(args)
    store = _open(found[0]) if found is not None else None
    if found is None or store is None:
        return 1
    try:
        rows = store.read_rows(None, args.route)
    finally:
        store.close()
    shadows = found[1]
    proposals = propose_from_rows(rows, ShadowSettings().thresholds)
    existing = {route: config.ignore for route, config in shadows.items()}
    sys.stdout.write(render_ignore_yaml(proposals, existing))
    return 0
