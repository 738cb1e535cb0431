"""A replay's progress on stderr: a rich progress bar on a terminal, plain lines otherwise.

The bar shows requests done of those to send, the rate, matched / mismatched / errored so far
and the time left; it is redrawn a few times a second. Without a terminal (CI, a pipe, a log
file) a line is written at each tenth of the run and at its end, never a control character.
Both read `shadow.replay.Progress`, which the run updates as results come.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from shadow.replay import Progress as RunProgress

REDRAW = 0.2  # seconds between redraws of the bar
STEPS = 10  # plain lines over a run


def rate(p: RunProgress, now: float) -> float:
    elapsed = now - p.started
    return p.done / elapsed if elapsed > 0 else 0.0


def plain_line(run: str, p: RunProgress, now: float) -> str:
    """One line of progress, for a log: no colour, no control character."""
    total = "?" if p.total is None else f"{p.total:,}"
    per_second = rate(p, now)
    left = ""
    if p.total is not None and per_second > 0 and p.done < p.total:
        left = f", about {timedelta(seconds=round((p.total - p.done) / per_second))} left"
    return (
        f"replay {run}: {p.done:,}/{total} requests, {per_second:,.1f}/s, {p.matched:,} matched, "
        f"{p.mismatched:,} mismatched, {p.errored:,} errored{left}"
    )


@contextlib.asynccontextmanager
async def shown(
    run: str,
    p: RunProgress,
    console: Console,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncIterator[None]:
    """Show the run's progress while the body runs (a bar on a terminal, else lines)."""
    task = asyncio.create_task(
        _bar(run, p, console) if console.is_terminal else _lines(run, p, console, monotonic)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if not console.is_terminal:
            console.print(plain_line(run, p, monotonic()), markup=False, highlight=False)


async def _lines(
    run: str, p: RunProgress, console: Console, monotonic: Callable[[], float]
) -> None:
    printed = 0
    while True:
        await asyncio.sleep(REDRAW)
        if p.total:
            step = min(STEPS, p.done * STEPS // p.total)
            if step > printed and p.done < p.total:
                printed = step
                console.print(plain_line(run, p, monotonic()), markup=False, highlight=False)


async def _bar(run: str, p: RunProgress, console: Console) -> None:
    columns = (
        TextColumn(f"replay {run}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}/s"),
        TextColumn(
            "[green]✓ {task.fields[matched]}[/] [red]✗ {task.fields[mismatched]}[/] "
            "[yellow]! {task.fields[errored]}[/]"
        ),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("replay", total=p.total, **_fields(p))
        try:
            while True:
                _update(bar, task, p)
                await asyncio.sleep(REDRAW)
        finally:
            _update(bar, task, p)


def _update(bar: Progress, task: TaskID, p: RunProgress) -> None:
    bar.update(task, completed=p.done, total=p.total, **_fields(p))


def _fields(p: RunProgress) -> dict[str, Any]:
    return {
        "rate": f"{rate(p, time.monotonic()):,.1f}",
        "matched": f"{p.matched:,}",
        "mismatched": f"{p.mismatched:,}",
        "errored": f"{p.errored:,}",
    }
