"""`strangler export-tests`: each difference a replay found, as a pytest test to fix it by.

    strangler export-tests -o tests/parity/                 # the latest replay run
    strangler export-tests --run 20250611-142233-3fa2 -o tests/parity/
    strangler export-tests --route users.list -o tests/parity/   # the route's live evidence

Writes, per route that differs, `test_parity_<route>.py` and its cases beside it in
`test_parity_<route>.json` (see shadow.export for which pairs, shadow.cases for what a test
checks): one test per distinct differing field, `--limit-per-field` requests each. The rules
(compared headers, `ignore:`, `redact:`) and the native side are the table's now; the noise is
what the evidence learned. Exporting again rewrites the files, and removes the generated files
of routes that no longer differ, so after a fix the tests of fields that now match pass, and
those of routes at parity are gone. Files in the directory that export did not write are left.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from proxy.cli import parity as parity_cli
from proxy.modes.shadow import shadow_settings
from proxy.table.model import Route, RouteTable
from shadow.cases import RouteRules, StoredRequest
from shadow.export import MARK, Chosen, RouteExport, choose, file_stem, header_names, render
from shadow.noise import rates_from_rows
from shadow.records import Rows
from shadow.report import Report, build_report
from shadow.runs import RunInfo
from shadow.runstore import read_run, recorded_by_id
from shadow.store import Store, open_store


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--run", metavar="ID", help="a replay run (default: the latest)")
    source.add_argument(
        "--route", metavar="ID", help="this route's live shadow evidence, instead of a run"
    )
    parser.add_argument(
        "--limit-per-field", type=int, default=1, metavar="N",
        help="requests tested per differing field, at most (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", metavar="DIR", default="tests/parity",
        help="where the test files go (default: %(default)s)",
    )  # fmt: skip
    parity_cli.add_table_and_store(parser)


def run(args: argparse.Namespace) -> int:
    if args.limit_per_field < 1:
        sys.stderr.write("--limit-per-field must be at least 1\n")
        return 2
    table = parity_cli.load_table(args)
    if table is None:
        return 1
    store = parity_cli.open_existing(args.store or table.shadow.store, open_store)
    if store is None:
        return 1
    try:
        found = _evidence(store, args, table)
        if isinstance(found, int):
            return found
        source, rows, info = found
        exports = _exports(store, table, rows, source, info, args.limit_per_field)
    finally:
        store.close()
    return _write(Path(args.output), exports)


def _evidence(
    store: Store, args: argparse.Namespace, table: RouteTable
) -> tuple[str, Rows, RunInfo | None] | int:
    if args.route is not None:
        if args.route not in {r.id for r in table.routes}:
            sys.stderr.write(f"{table.source}: no such route {args.route!r}\n")
            return 1
        return f"the live shadow evidence of {args.route}", store.read_rows(route=args.route), None
    info = read_run(store, args.run or "latest")
    if info is None:
        which = f"no replay run {args.run!r}" if args.run else "no replay run"
        sys.stderr.write(f"{which} in this store: `strangler replay` stores one\n")
        return 1
    return f"replay run {info.id} ({info.source})", store.read_rows(run=info.id), info


def _exports(
    store: Store, table: RouteTable, rows: Rows, source: str, info: RunInfo | None, per_field: int
) -> dict[str, tuple[RouteExport, list[Chosen]]]:
    report: Report = build_report(rows, bucket_seconds=store.bucket_seconds)
    routes = {r.id: r for r in table.routes}
    requests = _requests(store, rows, info)
    rates = rates_from_rows(rows.counts, rows.fields)
    out: dict[str, tuple[RouteExport, list[Chosen]]] = {}
    for r in report.routes:
        route = routes.get(r.route)
        if route is None:
            sys.stderr.write(f"{r.route}: not in {table.source} any more: no tests for it\n")
            continue
        noise = {n.field: tuple(sorted(rates[r.route][n.field].aa_kinds)) for n in r.noise}
        export = _route_export(table, route, noise, source, info)
        chosen = choose(r, rows.samples, export.rules, requests, per_field)
        if chosen:
            out[route.id] = (export, chosen)
    return out


def _route_export(
    table: RouteTable,
    route: Route,
    noise: Mapping[str, tuple[str, ...]],
    source: str,
    info: RunInfo | None,
) -> RouteExport:
    settings = shadow_settings(route.shadow or table.shadow)
    rules = RouteRules(settings.headers, settings.ignore, dict(noise), settings.redact)
    native = table.native.url or table.native.app or ""
    names = header_names(info.options) if info is not None else ()
    methods = "*" if route.methods is None else "|".join(sorted(route.methods))
    match = f"{methods} {route.template.source}"
    return RouteExport(route.id, match, rules, native, table.native.url is not None, source, names)


_RECORDED_ID = re.compile(r"\.r(\d+)$")


def _requests(store: Store, rows: Rows, info: RunInfo | None) -> dict[str, StoredRequest]:
    """Each sample's whole request: a recorded one's headers and body, the run's Host."""
    host = str(info.options["host"]) if info is not None and info.options.get("host") else None
    wanted = {
        int(m[1]): s.request_id for s in rows.samples if (m := _RECORDED_ID.search(s.request_id))
    }
    kept = recorded_by_id(store, sorted(wanted)) if info is not None else {}
    out = {}
    for s in rows.samples:
        m = _RECORDED_ID.search(s.request_id)
        r = kept.get(int(m[1])) if m and info is not None else None
        headers = r.headers if r is not None else ()
        body = r.body if r is not None else b""
        out[s.request_id] = StoredRequest(s.method, s.request_path, s.query, headers, body, host)
    return out


def _write(directory: Path, exports: Mapping[str, tuple[RouteExport, list[Chosen]]]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()
    for route, (export, chosen) in sorted(exports.items()):
        files = render(export, chosen)
        stem = directory / file_stem(route)
        for path, text in ((stem.with_suffix(".py"), files.test),
                           (stem.with_suffix(".json"), files.cases)):  # fmt: skip
            path.write_text(text, encoding="utf-8")
            written.add(path)
        fields = sorted({c.field for c in chosen})
        print(f"{stem.with_suffix('.py')}: {len(chosen)} tests ({', '.join(fields)})")
    removed = [p for p in _generated(directory) if p not in written]
    for path in removed:
        path.unlink()
        print(f"{path}: removed (its route no longer differs)")
    if not exports:
        print("nothing differs: no tests to write")
    else:
        print(f"run them: python -m pytest {directory}")
    return 0


def _generated(directory: Path) -> list[Path]:
    """Files an earlier export wrote here (they start with its mark)."""
    found = []
    for path in sorted(directory.glob("test_parity_*")):
        if path.suffix in (".py", ".json") and MARK in path.read_text(encoding="utf-8")[:300]:
            found.append(path)
    return found
