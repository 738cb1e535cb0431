"""`strangler replay`: yesterday's traffic against both sides, compared as shadow mode compares.

    strangler replay --access-log /var/log/nginx/access.log.1 [--access-log ...2.gz]
    strangler replay --recorded [--since 1d] [--route users.list ...]

Requests come from access logs (nginx `combined`, or the gateway's JSON log; gzip too) or from
what routes recorded (`record:`). Each is sent to the legacy side and the native side (see
shadow.replay for what is compared, and for writes), and the run is stored under its own id in
the parity store (`--store`, else the table's): `strangler report --run ID` and the dashboard
show it; live reports and gates never count it. The store is created when it is missing, except
for `--recorded`, which reads from it.

A progress bar (a line per tenth of the run without a terminal) goes to stderr; the report of
the run, its differing values and what was left out go to stdout. Ctrl-C stops after the
requests in flight, keeps what was compared and exits 130 (a second Ctrl-C stops at once).
Otherwise the exit is 1 when a route differs at a field that is not noise, or a comparison
errored, and 0 when every compared request matched; 2 for bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from proxy.cli import parity as parity_cli
from proxy.cli import progress
from proxy.cli.runs import render_run
from proxy.modes.replay import GatewaySides, replay_host
from proxy.modes.shadow import shadow_settings
from proxy.operator.parity import parse_since
from proxy.sides.probe import header_lines
from proxy.table.model import RouteTable
from proxy.table.snapshot import build_snapshot
from shadow.experiment import Experiment
from shadow.replay import Limits, Replay
from shadow.runs import RunInfo, RunState, Totals, run_id
from shadow.runstore import RunSink, begin, end, read_recorded
from shadow.sources import Line, from_recorded, read_access_log
from shadow.store import Store, StoreWriter, open_store

INTERRUPTED = 130


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--access-log", metavar="FILE", action="append",
        help="an access log (nginx combined, or the gateway's JSON log; .gz too); repeat for "
        "several files, read in the order given",
    )  # fmt: skip
    source.add_argument(
        "--recorded", action="store_true", help="the requests routes recorded (record:)"
    )
    parity_cli.add_table_and_store(parser)
    parser.add_argument(
        "--route", metavar="ID", action="append", default=[], help="only this route (repeatable)"
    )
    parser.add_argument("--limit", type=int, metavar="N", help="send at most N requests")
    parser.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="start at most R requests a second (default: no limit)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="C",
        help="requests in flight at most (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--header", metavar="'NAME: VALUE'", action="append", default=[],
        help="add a header to every request, e.g. your own credentials (repeatable; never stored)",
    )  # fmt: skip
    parser.add_argument("--since", metavar="WHEN", help="requests served from then (1d, ISO)")
    parser.add_argument("--until", metavar="WHEN", help="requests served until then (1h, ISO)")
    parser.add_argument(
        "--writes", choices=("none", "dry_run"), default="none",
        help="dry_run: replay writes too, as dry runs of the native side; the legacy side is "
        "not called for them, its status then is compared (default: none)",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Asked:
    table: RouteTable
    store_url: str
    limits: Limits
    headers: list[tuple[str, str]]


def run(args: argparse.Namespace) -> int:
    asked = _asked(args)
    if isinstance(asked, int):
        return asked
    missing = parity_cli.missing_store(asked.store_url) if args.recorded else None
    if missing is not None:
        sys.stderr.write(missing + "\n")
        return 1
    try:
        store = open_store(asked.store_url)
    except Exception as exc:
        sys.stderr.write(f"cannot open the parity store {asked.store_url!r}: {exc}\n")
        return 1
    try:
        return _replay(args, asked, store)
    finally:
        store.close()


def _asked(args: argparse.Namespace) -> Asked | int:
    """What the command was asked, checked; an exit code once a problem is on stderr."""
    for name in ("limit", "concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return _usage(f"--{name} must be at least 1")
    if args.rate is not None and args.rate <= 0:
        return _usage("--rate must be above 0")
    for path in args.access_log or ():
        if not Path(path).is_file():
            return _usage(f"--access-log {path}: no such file")
    try:
        now = time.time()
        since, until = parse_since(args.since, now), parse_since(args.until, now)
        headers = header_lines(args.header)
    except ValueError as exc:
        return _usage(str(exc))
    table = parity_cli.load_table(args)
    if table is None:
        return 1
    known = {route.id for route in table.routes}
    if unknown := [r for r in args.route if r not in known]:
        sys.stderr.write(f"{table.source}: no such route {', '.join(map(repr, unknown))}\n")
        return 1
    limits = Limits(
        args.concurrency, args.rate, args.limit, args.writes == "dry_run", since, until,
        frozenset(args.route),
    )  # fmt: skip
    return Asked(table, args.store or table.shadow.store, limits, headers)


def _usage(message: str) -> int:
    sys.stderr.write(message + "\n")
    return 2


def _replay(args: argparse.Namespace, asked: Asked, store: Store) -> int:
    started = time.time()
    info = RunInfo(
        run_id(started, secrets.token_hex(2)), started, _source(args), _options(args, asked)
    )
    begin(store, info)
    lines = _lines(args, asked, store)
    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:  # a log: one line each, never wrapped
        err = Console(stderr=True, highlight=False, width=10_000)
    try:
        state, totals = asyncio.run(_main(info.id, asked, store, lines, err))
    except BaseException:
        end(store, info.id, RunState.FAILED, time.time(), Totals())
        raise
    end(store, info.id, state, time.time(), totals)
    out = Console() if sys.stdout.isatty() else Console(width=200)
    failing = render_run(out, store, info.id)
    if state is RunState.STOPPED:
        return INTERRUPTED
    return 1 if failing else 0


def _source(args: argparse.Namespace) -> str:
    if args.recorded:
        return "recorded requests"
    return "access log " + ", ".join(args.access_log)


def _options(args: argparse.Namespace, asked: Asked) -> dict[str, object]:
    """What the run was asked, as stored with it: header names, never their values."""
    limits = asked.limits
    return {
        "table": asked.table.source, "table_digest": asked.table.digest,
        "routes": sorted(limits.routes), "limit": limits.limit, "rate": limits.rate,
        "concurrency": limits.concurrency, "writes": "dry_run" if limits.writes else "none",
        "since": limits.since, "until": limits.until,
        "headers": sorted({name.lower() for name, _ in asked.headers}),
        "host": replay_host(build_snapshot(asked.table), asked.headers),  # not a secret
        "native": asked.table.native.url or asked.table.native.app,
    }  # fmt: skip


def _lines(args: argparse.Namespace, asked: Asked, store: Store) -> Callable[[], Iterator[Line]]:
    """The source, as something that reads it from the start each time it is called."""
    if args.recorded:
        limits = asked.limits

        def recorded() -> Iterator[Line]:
            rows = read_recorded(
                store, since=limits.since, until=limits.until, routes=sorted(limits.routes)
            )
            return from_recorded(rows)

        return recorded
    files: list[str] = list(args.access_log)
    return lambda: itertools.chain.from_iterable(read_access_log(f) for f in files)


async def _main(
    run: str,
    asked: Asked,
    store: Store,
    lines: Callable[[], Iterable[Line]],
    err: Console,
) -> tuple[RunState, Totals]:
    sides = GatewaySides(asked.table, asked.headers)
    writer = StoreWriter(RunSink(store, run))
    writer.start()
    experiment = Experiment(writer, shadow_settings(asked.table.shadow), tree_diffs_per_second=None)
    replay = Replay(experiment, sides, run, asked.limits, backlog=writer)
    totals = Totals()
    stop = asyncio.Event()
    state = RunState.FINISHED
    await sides.open()
    try:
        replay.progress.total = replay.count(lines())
        err.print(_heading(run, asked, replay.progress.total), markup=False)
        with _interrupts(stop, asyncio.current_task()):
            async with progress.shown(run, replay.progress, err):
                try:
                    await replay.run(lines(), totals, stop)
                except asyncio.CancelledError:  # the second Ctrl-C: what was compared stays
                    stop.set()
                    if (task := asyncio.current_task()) is not None:
                        task.uncancel()
        if stop.is_set():
            state = RunState.STOPPED
    finally:
        await experiment.close()
        stats = await writer.close(30.0)
        await sides.close()
    if stats.dropped or stats.in_doubt:
        err.print(
            f"{stats.dropped} results could not be stored ({stats.error or 'store too slow'})"
        )
    totals.failed = experiment.faults
    if experiment.faults:
        err.print(f"{experiment.faults} comparisons failed inside the replay (see the log above)")
    return state, totals


def _heading(run: str, asked: Asked, total: int) -> str:
    table = asked.table
    native = table.native.url or f"{table.native.app}, in process"
    return (
        f"replay {run}: {total:,} requests to send to legacy ({table.legacy.url}) and native "
        f"({native}), {asked.limits.concurrency} at a time"
        + (f", {asked.limits.rate:g}/s at most" if asked.limits.rate else "")
    )


class _interrupts:
    """Ctrl-C: the first stops after the requests in flight, the second at once."""

    def __init__(self, stop: asyncio.Event, task: asyncio.Task[object] | None) -> None:
        self.stop = stop
        self.task = task

    def __enter__(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._interrupted)
        loop.add_signal_handler(signal.SIGTERM, self._interrupted)

    def _interrupted(self) -> None:
        if self.stop.is_set() and self.task is not None:
            self.task.cancel()
        self.stop.set()

    def __exit__(self, *_: object) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
