"""`strangler report` and `strangler noise`: the parity store, read from the command line.

The store is found as the gateway finds it: `--store`, else the table's `shadow.store` (which
STRANGLER_STORE overrides). What reads the store (SQLAlchemy, the report's folding, the admin
endpoint beside it) is imported when one of these commands runs, not when `strangler` starts:
`check` and `match` stay quick.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from proxy.table.model import ShadowConfig, TableError
from proxy.table.parser import default_config_path, load

if TYPE_CHECKING:
    from shadow.store import Store

FORMATS = ("table", "markdown", "json")


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
    from shadow.store import open_store

    try:
        return open_store(url)
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        sys.stderr.write(f"cannot open the parity store {url!r}: {exc}\n")
        return None


def run_report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from proxy.operator.parity import parity_json, parse_since, read_report
    from shadow.report import render_markdown, render_table

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
    from shadow.noise import propose_from_rows, render_ignore_yaml
    from shadow.settings import ShadowSettings

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
    store = _open(found[0]) if found is not None else None
    if found is None or store is None:
        return 1
    cutoff = time.time() - age
    try:
        deleted = store.prune(cutoff)
    finally:
        store.close()
    when = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    shown = make_url(found[0]).render_as_string(hide_password=True)
    print(f"{shown}: deleted {deleted} rows from before {when}")
    return 0
