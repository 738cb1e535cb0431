"""`strangler import-nginx`: a routing.yaml from the nginx configuration in front of the
application, and `--check`, which compares nginx's choice of location with the table's route.

    strangler import-nginx FILE [--server-name NAME] [--port N] [--native-upstream URL]
                                [--legacy-url URL] [-o OUT]
    strangler import-nginx --check FILE [PATHS... | --access-log LOG] [--table routing.yaml]

Exit codes: 0 written (or every path agrees), 1 the configuration cannot be imported, the
written table does not validate, or a path disagrees; 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from proxy.table.matcher import compile_table
from proxy.table.model import RouteTable, TableError
from proxy.table.nginx import NginxError, load
from proxy.table.nginx.check import check, targets_in_log
from proxy.table.nginx.importer import Imported, import_server
from proxy.table.nginx.pcre import UnsupportedRegex
from proxy.table.nginx.report import Status
from proxy.table.parser import load as load_table
from proxy.table.parser import parse

# the sides take no part in choosing a route: --check reads the imported routes under this
# head, padded so that every route keeps the line it has in the file import-nginx writes
_CHECK_HEAD = "version: 1\nlegacy: {url: 'http://legacy'}\nnative: {url: 'http://native'}\n"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="nginx.conf, a site file, or nginx -T output")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="with --check: request targets")
    parser.add_argument("--server-name", metavar="NAME", help="the server block answering NAME")
    parser.add_argument("--port", type=int, metavar="N", help="... on this listen port")
    parser.add_argument(
        "--native-upstream",
        metavar="URL",
        help="the Python service among the proxy_pass targets (an upstream name or URL)",
    )
    parser.add_argument(
        "--legacy-url",
        metavar="URL",
        help="the legacy application's URL, when nginx passes to none (or to override)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write routing.yaml here")
    parser.add_argument(
        "--check", action="store_true", help="compare nginx's location with the table's route"
    )
    parser.add_argument("--access-log", metavar="LOG", help="with --check: targets from a log")
    parser.add_argument(
        "--table", metavar="FILE", help="with --check: this routing.yaml instead of a fresh import"
    )
    parser.set_defaults(trailing="paths")  # PATHS may also follow the options


def run(args: argparse.Namespace) -> int:
    if not args.check and (args.paths or args.access_log or args.table):
        _err("PATHS, --access-log and --table go with --check")
        return 2
    try:
        imported = import_server(
            load(args.file),
            server_name=args.server_name,
            port=args.port,
            native_upstream=args.native_upstream,
            legacy_url=args.legacy_url,
            source=args.file,
        )
    except (NginxError, UnsupportedRegex) as exc:
        _err(f"strangler import-nginx: {exc}")
        return 1
    if args.check:
        return _check(args, imported)
    return _write(args, imported)


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _write(args: argparse.Namespace, imported: Imported) -> int:
    out = args.output
    if out is None:
        sys.stdout.write(imported.text)
    else:
        try:
            Path(out).write_text(imported.text, encoding="utf-8")
        except OSError as exc:
            _err(f"strangler import-nginx: cannot write {out}: {exc.strerror or exc}")
            return 1
    counts = Counter(e.status for e in imported.report)
    tell = sys.stdout.write if out is not None else sys.stderr.write
    tell(
        f"{out or 'routing.yaml'}: {len(imported.routes)} routes from "
        f"{imported.server.label}; directives: {counts[Status.MAPPED]} mapped, "
        f"{counts[Status.APPROXIMATED]} approximated, {counts[Status.NOT_IMPORTED]} not "
        "imported (the report is at the end of the file)\n"
    )
    for e in imported.report:
        if e.status is not Status.MAPPED:
            tell(f"  {e.where}: {e.status.value}: {e.text}: {e.note}\n")
    try:
        parse(imported.text, out or "routing.yaml", {})
    except TableError as exc:
        _err("the table written does not validate:")
        for problem in exc.problems:
            _err(f"  {problem}")
        return 1
    return 0


def _check(args: argparse.Namespace, imported: Imported) -> int:
    targets = list(args.paths)
    if args.access_log:
        try:
            with open(args.access_log, encoding="utf-8", errors="surrogateescape") as log:
                targets += targets_in_log(log)
        except OSError as exc:
            _err(f"strangler import-nginx: cannot read {args.access_log}: {exc.strerror or exc}")
            return 1
    if not targets:
        _err("--check needs PATHS or --access-log")
        return 2
    table = _table(args, imported)
    if table is None:
        return 1
    disagreements = 0
    for verdict in check(imported, compile_table(table), targets):
        word = "same" if verdict.agree else "DIFFERENT"
        if verdict.deliberate:
            word = f"deliberate: {verdict.deliberate}"
        print(f"{verdict.target}\n  nginx: {verdict.nginx}\n  table: {verdict.table}\n  {word}")
        disagreements += not verdict.agree
    print(f"{len(targets)} paths, {disagreements} disagreeing")
    return 1 if disagreements else 0


def _table(args: argparse.Namespace, imported: Imported) -> RouteTable | None:
    try:
        if args.table is not None:
            return load_table(args.table)
        lines = imported.text.splitlines()
        at = lines.index("routes:")  # the routes section's first line, counted from 0
        head = _CHECK_HEAD + "\n" * (at - _CHECK_HEAD.count("\n"))
        return parse(head + imported.routes_text, args.output or "routing.yaml", {})
    except TableError as exc:
        for problem in exc.problems:
            _err(str(problem))
        return None
