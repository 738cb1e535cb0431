"""`strangler gate` and `strangler history`: is a route ready to flip, and what flipped when.

`gate` lists every shadow route as ready or blocked, with the reason, by the same verdicts the
dashboard shows (proxy.evidence.verdicts). Its exit code is for pipelines: 0 when every listed
route is ready, 1 when any is blocked (or the table or the store cannot be read), 2 for bad
usage. So a deployment that flips a route can run `strangler gate --route users.list` first and
stop there.

`history` lists the flips recorded in the parity store's database, oldest first.

What reads the store (SQLAlchemy, the gate's folding) is imported when a command runs, not when
`strangler` starts, so `check` and `match` stay quick.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from proxy.cli.parity import add_table_and_store, open_existing
from proxy.table.model import Mode, RouteTable, TableError
from proxy.table.parser import default_config_path, load

if TYPE_CHECKING:
    from proxy.operator.history import Flip
    from shadow.gate import Verdict

FORMATS = ("table", "json")


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=200)


def _configure(parser: argparse.ArgumentParser) -> None:
    add_table_and_store(parser)
    parser.add_argument("--route", metavar="ID", help="one route only")
    parser.add_argument("--format", choices=FORMATS, default="table", help="(default: table)")


configure_gate = _configure
configure_history = _configure


def _table(args: argparse.Namespace, needed: bool) -> tuple[RouteTable | None, bool]:
    """The table (None when it is not needed and cannot be read); False once errors are shown."""
    path = args.config if args.config is not None else default_config_path()
    try:
        return load(path), True
    except TableError as exc:
        if not needed and args.store is not None and args.config is None:
            return None, True  # a store named alone needs no table
        for problem in exc.problems:
            _err(str(problem))
        return None, False


# ---------------------------------------------------------------- gate


def run_gate(args: argparse.Namespace) -> int:
    from proxy.operator.evidence import verdicts
    from shadow.store import open_store

    table, ok = _table(args, needed=True)
    if table is None or not ok:
        return 1
    shadow = [r for r in table.routes if r.mode is Mode.SHADOW]
    if args.route is not None:
        found = next((r for r in table.routes if r.id == args.route), None)
        if found is None or found.mode is not Mode.SHADOW:
            what = "no such route" if found is None else f"its mode is {found.mode.value}"
            _err(f"{table.source}: route {args.route!r} is not a shadow route ({what})")
            return 1
        shadow = [found]
    if not shadow:
        print(f"{table.source}: no shadow routes, nothing to gate")
        return 0
    url = args.store or table.shadow.store
    now = time.time()
    store = open_existing(url, open_store)
    if store is None:
        return 1
    try:
        since = now - max(r.gate.window for r in shadow)
        rows = store.read_rows(since, args.route)
        judged = verdicts(table, rows, now, store.bucket_seconds)
    except Exception as exc:  # a server gone away: one line, no traceback
        _err(f"cannot read the parity store {url!r}: {exc}")
        return 1
    finally:
        store.close()
    listed = [judged[r.id] for r in shadow]
    if args.format == "json":
        print(json.dumps({"routes": [_verdict_json(v) for v in listed]}, indent=2))
    else:
        _console().print(_verdict_table(listed))
    return 0 if all(v.ready for v in listed) else 1


def _verdict_json(v: Verdict) -> dict[str, Any]:
    return {
        "route": v.route,
        "status": v.status.value,
        "reasons": list(v.reasons),
        "compared": v.compared,
        "failed": v.failed,
        "mismatch_rate": v.mismatch_rate,
        "new_fields": [{"field": n.field, "first_seen": n.first_seen} for n in v.new_fields],
        "gate": {
            "min_samples": v.rule.min_samples,
            "max_mismatch_rate": v.rule.max_mismatch_rate,
            "window": v.rule.window,
            "quiet_for": v.rule.quiet_for,
        },
    }


def _verdict_table(listed: list[Verdict]) -> Table:
    from shadow.gate import format_duration
    from shadow.report import fmt_percent

    view = Table(title="Flip gates", title_justify="left")
    for heading in ("route", "gate", "compared", "mismatch rate", "window", "why"):
        view.add_column(heading, justify="right" if heading == "compared" else "left")
    for v in listed:
        status = Text(v.status.value, style="green" if v.ready else "red")
        rate = fmt_percent(v.mismatch_rate)
        bar = f"{rate} (≤{fmt_percent(v.rule.max_mismatch_rate)})"
        view.add_row(
            Text(v.route), status, f"{v.compared}/{v.rule.min_samples}", bar,
            format_duration(v.rule.window), Text("\n".join(v.reasons) or "-"),
        )  # fmt: skip
    return view


# ---------------------------------------------------------------- history


def run_history(args: argparse.Namespace) -> int:
    from proxy.operator.history import FlipStore

    table, ok = _table(args, needed=False)
    if not ok:
        return 1
    url = args.store or (table.shadow.store if table is not None else "")
    store = open_existing(url, FlipStore.open, "flip history")
    if store is None:
        return 1
    try:
        flips = list(reversed(store.read(route=args.route)))
    except Exception as exc:  # a server gone away: one line, no traceback
        _err(f"cannot read the flip history in {url!r}: {exc}")
        return 1
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps({"flips": [_flip_json(f) for f in flips]}, indent=2))
        return 0
    if not flips:
        print("no flips recorded" + (f" for route {args.route!r}" if args.route else ""))
        return 0
    view = Table(title="Flip history (oldest first)", title_justify="left")
    for heading in ("when (UTC)", "route", "mode", "trigger", "table"):
        view.add_column(heading)
    for f in flips:
        view.add_row(_when(f.at), Text(f.route), f.text, f.trigger, f.digest[:12])
    _console().print(view)
    return 0


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _flip_json(f: Flip) -> dict[str, Any]:
    return {
        "route": f.route, "seq": f.seq, "at": f.at, "old_mode": f.old, "new_mode": f.new,
        "trigger": f.trigger, "digest": f.digest,
    }  # fmt: skip
