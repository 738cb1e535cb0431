"""`strangler report` and `strangler noise`: the parity store, read from the command line.

The store is found as the gateway finds it: `--store`, else the table's `shadow.store` (which
STRANGLER_STORE overrides; a relative SQLite path in the table is beside the table). A command
never creates a store: one that is not there is an error naming the path it looked at, as is a
`--route` neither the table nor the store knows. What reads the store (SQLAlchemy, the
report's folding, the admin endpoint beside it) is imported when one of these commands runs,
not when `strangler` starts: `check` and `match` stay quick.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from proxy.table.model import RouteTable, ShadowConfig, TableError
from proxy.table.parser import default_config_path, load

if TYPE_CHECKING:
    from shadow.store import Store

FORMATS = ("table", "markdown", "json")
T = TypeVar("T")


def add_table_and_store(parser: argparse.ArgumentParser) -> None:
    """--config and --store, as every command that reads the parity store takes them."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="route table (default: $STRANGLER_CONFIG, else ./routing.yaml)",
    )
    parser.add_argument(
        "--store", metavar="URL", help="SQLAlchemy URL of the parity store (default: the table's)"
    )


def load_table(args: argparse.Namespace) -> RouteTable | None:
    """The table `--config` names (else the default one), or None once its problems are on
    stderr."""
    try:
        return load(args.config if args.config is not None else default_config_path())
    except TableError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return None


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    add_table_and_store(parser)
    parser.add_argument("--route", metavar="ID", help="one route only")


def configure_report(parser: argparse.ArgumentParser) -> None:
    _add_store_options(parser)
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="1h, 30m, 2d ago, or an ISO 8601 time (UTC without an offset)",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="(default: table)")
    parser.add_argument(
        "--samples",
        metavar="N",
        type=int,
        default=0,
        help="also show, for up to N differing fields per route, the newest stored pair of "
        "values side by side (stored redacted)",
    )
    parser.add_argument(
        "--run", metavar="ID", help="a replay run's report (`latest`: the newest run)"
    )


def configure_noise(parser: argparse.ArgumentParser) -> None:
    _add_store_options(parser)


@dataclass(frozen=True, slots=True)
class Found:
    """What a command that reads the store learned from the table (when it could read one)."""

    url: str  # of the store to read
    shadows: dict[str, ShadowConfig]  # the shadow routes' settings
    routes: frozenset[str]  # every route id of the table
    source: str  # the table file, or the store alone
    modes: dict[str, str]  # each route's mode, as the table says


def _routes_shadow(args: argparse.Namespace) -> Found | None:
    """The store URL to read and the table's routes; None once the error is shown."""
    path = args.config if args.config is not None else default_config_path()
    try:
        table = load(path)
    except TableError as exc:
        if args.store is None or args.config is not None:
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
            return None
        # a store named alone needs no table
        return Found(args.store, {}, frozenset(), args.store, {})
    shadows = {r.id: r.shadow for r in table.routes if r.shadow is not None}
    routes = frozenset(r.id for r in table.routes)
    modes = {r.id: r.mode.value for r in table.routes}
    return Found(args.store or table.shadow.store, shadows, routes, table.source, modes)


def missing_store(url: str) -> str | None:
    """Why a command must not open the store at `url`: opening it would create an empty one
    (a SQLite file that is not there) and then read nothing from it; None when it exists."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the opening says what is wrong with it
    if parsed.get_backend_name() != "sqlite":
        return None  # a server's database: opening it never creates one
    database = parsed.database or ":memory:"
    if database == ":memory:":
        return f"{url!r} is an in-memory store: it holds nothing for a command to read"
    path = os.path.abspath(database)
    if os.path.exists(path):
        return None
    return (
        f"no parity store at {path} ({url}): nothing was recorded there; a gateway creates it "
        "when it first runs a shadow route. Name the gateway's store with --config or --store"
    )


def open_existing(url: str, opener: Callable[[str], T], what: str = "parity store") -> T | None:
    """The store at `url` opened by `opener`, or None once the error is on stderr: read
    commands never create a store."""
    missing = missing_store(url)
    if missing is not None:
        sys.stderr.write(missing + "\n")
        return None
    try:
        return opener(url)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        sys.stderr.write(f"cannot open the {what} {url!r}: {exc}\n")
        return None


def _open(url: str) -> Store | None:
    from shadow.store import open_store

    return open_existing(url, open_store)


def unknown_route(found: Found, route: str | None, store: Store) -> bool:
    """True (once it is on stderr) when --route names a route neither the table nor the
    store knows: an empty answer would read as "no differences"."""
    if route is None or route in found.routes or any(store.read_rows(None, route).counts):
        return False
    sys.stderr.write(
        f"{found.source}: no such route {route!r} (not in the table, and nothing is stored "
        "for it)\n"
    )
    return True


def run_report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from proxy.operator.parity import parse_since
    from shadow.report import build_report, render_markdown, render_table, to_json
    from shadow.samples import (
        pick_samples,
        render_samples_markdown,
        render_samples_table,
        samples_json,
    )

    try:
        since = parse_since(args.since, time.time())
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.samples < 0:
        sys.stderr.write("--samples must be 0 or more\n")
        return 2
    found = _routes_shadow(args)
    store = _open(found.url) if found is not None else None
    if found is None or store is None:
        return 1
    try:
        if args.run is not None:
            return _run_report(store, args)
        if unknown_route(found, args.route, store):
            return 1
        rows = store.read_rows(since, args.route)
        report = build_report(
            rows, since=since, route=args.route, bucket_seconds=store.bucket_seconds
        )
    finally:
        store.close()
    pairs = {r.route: pick_samples(r, rows.samples, args.samples) for r in report.routes}
    if args.format == "json":
        document = to_json(report)
        if args.samples:
            document["samples"] = {route: samples_json(p) for route, p in pairs.items()}
        print(json.dumps(document, indent=2))
        return 0
    if args.format == "markdown":
        sys.stdout.write(render_markdown(report))
        for r in report.routes if args.samples else ():
            primary, candidate = _sides(found, r.route)
            sys.stdout.write(f"\n### {r.route}: differing values\n\n")
            sys.stdout.write(
                render_samples_markdown(pairs[r.route], primary=primary, candidate=candidate)
            )
        return 0
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(render_table(report))
    for r in report.routes if args.samples else ():
        primary, candidate = _sides(found, r.route)
        title = f"{r.route}: differing values"
        console.print(
            render_samples_table(pairs[r.route], primary=primary, candidate=candidate, title=title)
        )
    return 0


def _sides(found: Found, route: str) -> tuple[str, str]:
    """(primary, candidate) of a route, as the table says (legacy first when it says nothing)."""
    shadow = found.shadows.get(route)
    if shadow is not None and shadow.primary.value == "native":
        return ("native", "legacy")
    return ("legacy", "native")


def _run_report(store: Store, args: argparse.Namespace) -> int:
    """A replay run's report; its exit code says whether the run differs, as replay's does."""
    from rich.console import Console

    from proxy.cli.runs import failing, render_run, run_json, run_report
    from shadow.report import render_markdown
    from shadow.runstore import read_run

    info = read_run(store, args.run)
    if info is None:
        sys.stderr.write(f"no replay run {args.run!r} in this store\n")
        return 1
    if args.format == "json":
        print(json.dumps(run_json(store, info.id), indent=2))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(run_report(store, info.id), f"Replay {info.id}"))
    else:
        render_run(Console() if sys.stdout.isatty() else Console(width=200), store, info.id)
    return 1 if failing(run_report(store, info.id), info) else 0


def run_noise(args: argparse.Namespace) -> int:
    from shadow.noise import propose_from_rows, render_ignore_yaml, withheld_from_rows
    from shadow.settings import ShadowSettings

    found = _routes_shadow(args)
    store = _open(found.url) if found is not None else None
    if found is None or store is None:
        return 1
    try:
        if unknown_route(found, args.route, store):
            return 1
        rows = store.read_rows(None, args.route)
    finally:
        store.close()
    shadows = found.shadows
    thresholds = ShadowSettings().thresholds
    proposals = propose_from_rows(rows, thresholds)
    existing = {route: config.ignore for route, config in shadows.items()}
    withheld = withheld_from_rows(rows, thresholds)
    sys.stdout.write(render_ignore_yaml(proposals, existing, withheld))
    return 0


def configure_reset(parser: argparse.ArgumentParser) -> None:
    add_table_and_store(parser)
    parser.add_argument("route", metavar="ROUTE", help="the route whose evidence starts over")


def run_reset(args: argparse.Namespace) -> int:
    """Start a new evidence epoch of a route: reports and gates count from now on."""
    from proxy.operator.resets import describe, reset_evidence
    from shadow.store import open_store

    found = _routes_shadow(args)
    if found is None:
        return 1
    if args.route not in found.routes:
        sys.stderr.write(f"{found.source}: no such route {args.route!r}\n")
        return 1
    # the store must exist (a reset of nothing would create it); opening it for writing adds
    # the epochs table to an older store
    store = open_existing(found.url, open_store)
    if store is None:
        return 1
    try:
        epoch = reset_evidence(store, args.route, found.modes[args.route], time.time(), "cli")
    finally:
        store.close()
    print(describe(epoch))
    return 0


def configure_prune(parser: argparse.ArgumentParser) -> None:
    add_table_and_store(parser)
    parser.add_argument(
        "--older-than",
        metavar="AGE",
        required=True,
        help="delete counts, fields and samples older than this (30d, 12h, 90m)",
    )


def run_prune(args: argparse.Namespace) -> int:
    """Delete what the parity store holds from before a cutoff (flip history is kept)."""
    from datetime import UTC, datetime

    from sqlalchemy.engine import make_url

    from proxy.table.units import parse_duration

    try:
        age = parse_duration(args.older_than)
    except ValueError as exc:
        sys.stderr.write(f"--older-than: {exc}\n")
        return 2
    found = _routes_shadow(args)
    store = _open(found.url) if found is not None else None
    if found is None or store is None:
        return 1
    cutoff = time.time() - age
    try:
        deleted = store.prune(cutoff)
    finally:
        store.close()
    when = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    shown = make_url(found.url).render_as_string(hide_password=True)
    print(f"{shown}: deleted {deleted} rows from before {when}")
    return 0
