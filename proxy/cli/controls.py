"""`strangler status` and `strangler resume`: where each route stands, and lifting a rollback.

`status` lists every route's stage (legacy → shadow → canary n % → native → legacy code
removed, with LaunchDarkly's name for it), whether a guard rolled it back, and the evidence for
the next step: the gate verdict, each side's error rate and p99, the guard's reason.

`resume ROUTE` lifts a guard's rollback in the parity store: every worker and gateway instance
sharing it serves the route in its table's mode again within a few seconds, and the flip is
recorded (trigger `resume`). Exit 0 also when the route was not rolled back (nothing to do).

`rollback_of` serves `strangler match`: a route's rollback, read without creating a database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from proxy.cli.parity import add_table_and_store, load_table
from proxy.table.model import RouteTable, keeps_evidence

if TYPE_CHECKING:
    from proxy.modes.rollbacks import Rollback
    from proxy.operator.stages import RouteStatus


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def configure_status(parser: argparse.ArgumentParser) -> None:
    add_table_and_store(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")


def configure_resume(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("route", metavar="ROUTE", help="the id of the route to resume")
    add_table_and_store(parser)


def run_status(args: argparse.Namespace) -> int:
    from proxy.operator.status import statuses
    from shadow.store import create_store_engine, open_store

    table = load_table(args)
    if table is None:
        return 1
    url = args.store or table.shadow.store
    now = time.time()
    try:
        if (not keeps_evidence(table) and args.store is None) or _absent(url):
            found = statuses(table, None, None, now)  # no store yet: the table alone
        else:
            engine = create_store_engine(url)
            store = open_store(url)
            try:
                found = statuses(table, engine, lambda since: store.read_rows(since), now)
            finally:
                store.close()
                engine.dispose()
    except Exception as exc:  # a bad URL or an unreachable server: one line, no traceback
        _err(f"cannot read the parity store {url!r}: {exc}")
        return 1
    if args.format == "json":
        print(json.dumps({"routes": [_status_json(s) for s in found]}, indent=2))
        return 0
    console = Console() if sys.stdout.isatty() else Console(width=200)
    view = Table(title=f"{table.source} · migration stages", title_justify="left")
    for heading in ("route", "stage", "LaunchDarkly", "answers now", "evidence / next step"):
        view.add_column(heading)
    for s in found:
        now_text = Text(s.effective, style="red" if s.rollback else "")
        view.add_row(
            Text(s.id), f"{s.stage.step} {s.stage.name}", s.stage.launchdarkly, now_text,
            Text(s.next),
        )  # fmt: skip
    console.print(view)
    return 0


def _status_json(s: RouteStatus) -> dict[str, Any]:
    verdict = None
    if s.verdict is not None:
        verdict = {"status": s.verdict.status.value, "reasons": list(s.verdict.reasons)}
    return {
        "route": s.id, "mode": s.mode, "effective_mode": s.effective,
        "stage": {"step": s.stage.step, "name": s.stage.name, "launchdarkly": s.stage.launchdarkly},
        "rolled_back": _rollback_json(s.rollback) if s.rollback else None,
        "gate": verdict, "window": s.window, "sides": [asdict(side) for side in s.sides],
        "next": s.next,
    }  # fmt: skip


def _rollback_json(r: Rollback) -> dict[str, Any]:
    return {"at": r.at, "reason": r.reason, "from_mode": r.mode, "trigger": r.trigger}


def run_resume(args: argparse.Namespace) -> int:
    from proxy.modes.rollbacks import RollbackStore, lift
    from proxy.operator.history import record_flip
    from shadow.store import create_store_engine

    table = load_table(args)
    if table is None:
        return 1
    route = next((r for r in table.routes if r.id == args.route), None)
    url = args.store or table.shadow.store
    try:
        engine = create_store_engine(url)
        try:
            lifted = lift(
                RollbackStore.on(engine), args.route, at=time.time(), trigger="resume",
                mode=route.mode.value if route is not None else None, digest=table.digest,
                flips=record_flip,
            )  # fmt: skip
        finally:
            engine.dispose()
    except Exception as exc:
        _err(f"cannot write the parity store {url!r}: {exc}")
        return 1
    if lifted is None:
        print(f"route {args.route!r} is not rolled back: nothing to resume")
        return 0
    mode = route.mode.value if route is not None else lifted.mode
    print(
        f"resumed {args.route!r}: {mode} again in every gateway sharing {_safe(url)} within a "
        f"few seconds (it was rolled back for: {lifted.reason})"
    )
    return 0


def rollback_of(table: RouteTable, route_id: str) -> tuple[Rollback | None, str | None]:
    """The route's rollback in the table's store, and a problem reading it (None: read)."""

    from proxy.modes.rollbacks import RollbackStore, rollbacks
    from shadow.store import create_store_engine

    url = table.shadow.store
    try:
        if _absent(url):
            return None, None  # no store yet: nothing was ever rolled back
        engine = create_store_engine(url)
        try:
            from sqlalchemy import inspect

            if not inspect(engine).has_table(rollbacks.name):
                return None, None
            row = RollbackStore(engine).read(route_id).get(route_id)
        finally:
            engine.dispose()
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return (row if row is not None and row.active else None), None


def _absent(url: str) -> bool:
    """A SQLite store whose file does not exist (a read command never creates one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    return not parsed.database or not Path(parsed.database).exists()


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the parity store"
