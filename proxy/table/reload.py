"""Hot reload: on file change, on SIGHUP and on `POST /_strangler/reload`.

Reading, parsing, validating and compiling happen in a worker thread; only the final swap (one
attribute assignment in `TableHolder.install`) happens on the event loop, so a request sees
either the old snapshot or the new one, never a mix. A table that fails validation leaves the
one in force, is logged with file:line:reason, and the result says why; so does one whose
`native.app` cannot be imported (the gateway imports its app once, at start: a table naming
another importable app is taken with a warning, and the app changes at the next restart).
Every attempt is kept in `Reloader.history` (newest last, bounded) for the operator surface,
and told to each of `Reloader.listeners` with the tables before and after it (metrics, the
flip history).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxy.logs import get_logger
from proxy.table import checks
from proxy.table import parser as table_module
from proxy.table.model import Problem, RouteTable, TableError
from proxy.table.snapshot import ConfigState, Snapshot, TableHolder, build_snapshot

log = get_logger("proxy.table.reload")
HISTORY = 500
Listener = Callable[["ReloadResult", RouteTable, RouteTable], None]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    at: float  # wall-clock seconds
    trigger: str  # "file" | "sighup" | "admin" | ...
    ok: bool
    problems: tuple[str, ...]  # file:line: reason, for a rejected table; warnings otherwise
    old_digest: str
    new_digest: str  # the digest of the text that was tried
    in_force: str  # the digest of the table in force afterwards
    changed: bool  # a new table was swapped in

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "trigger": self.trigger,
            "at": self.at,
            "problems": list(self.problems),
            "old_digest": self.old_digest,
            "new_digest": self.new_digest,
            "digest": self.in_force,
            "changed": self.changed,
        }


def _prepare(
    path: Path, env: Mapping[str, str], running: str | None
) -> tuple[str, Snapshot | TableError]:
    """Read, validate and compile a table file (runs in a worker thread)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return "", table_module.unreadable(str(path), exc)
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
        table = table_module.parse(text, str(path), env)
    except UnicodeDecodeError as exc:
        return digest, table_module.unreadable(str(path), exc)
    except TableError as exc:
        return digest, exc
    unusable = _native_app_problem(table, running)
    if unusable is not None:
        return digest, TableError([unusable])
    return digest, build_snapshot(table)


def _native_app_problem(table: RouteTable, running: str | None) -> Problem | None:
    """A native.app other than the running one must at least import: with one that does not,
    the next start of the gateway would fail. The app is imported once, at start, so a table
    that needs an in-process app the gateway does not run must wait for a restart."""
    spec = table.native.app
    if spec is None or table.native.url is not None or spec == running:
        return None
    unusable = checks.native_app_problem(table)
    if unusable is not None or running is not None:
        return unusable
    reason = (
        f"native.app: this gateway runs no in-process app (it started without native.app); "
        f"restart it to load {spec!r}"
    )
    return Problem(table.source, table.native.line, reason)


class Reloader:
    def __init__(
        self,
        holder: TableHolder,
        path: Path | None,
        env: Mapping[str, str],
        *,
        clock: Callable[[], float] = time.time,
        native_app: str | None = None,
    ) -> None:
        self.holder = holder
        self.path = path
        self.env = env
        self.native_app = native_app  # the `module:attribute` the gateway runs, if any
        self.clock = clock
        self.history: deque[ReloadResult] = deque(maxlen=HISTORY)
        self.loaded_at = clock()  # when the table in force was put in force
        self.rejected: ReloadResult | None = None  # the newest attempt, while it refused the file
        self.listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self._signature: str | None = None
        self._last_tried = holder.current.table.digest
        self._tasks: set[asyncio.Task[Any]] = set()

    async def reload(self, trigger: str) -> ReloadResult:
        async with self._lock:
            old = self.holder.current
            if self.path is None:
                return self._record(trigger, old, "", ("no table file to reload from",))
            digest, prepared = await asyncio.to_thread(
                _prepare, self.path, self.env, self.native_app
            )
            tried, self._last_tried = self._last_tried, digest
            if trigger == "file" and digest == tried:
                # e.g. the admin endpoint already tried this very text: say nothing twice
                return self._record(trigger, old, digest, (), changed=False, keep=False)
            if isinstance(prepared, TableError):
                problems = tuple(str(p) for p in prepared.problems)
                log.error("reload_rejected", trigger=trigger, problems=list(problems))
                return self._record(trigger, old, digest, problems)
            if prepared.table.digest == old.table.digest:
                return self._record(trigger, old, digest, (), changed=False)
            warnings = (
                _warnings(prepared, self.native_app)
                + rules_changed(old.table, prepared.table)
                + edge_changed(old.table, prepared.table)
                + workers_changed(old.table, prepared.table)
            )
            installed = self.holder.install(prepared)
            log.info(
                "reload_applied",
                trigger=trigger,
                old_digest=old.table.digest,
                new_digest=installed.table.digest,
                routes=len(installed.table.routes),
                warnings=list(warnings),
            )
            return self._record(trigger, old, digest, warnings, ok=True, changed=True)

    def _record(
        self,
        trigger: str,
        old: Snapshot,
        digest: str,
        problems: tuple[str, ...],
        *,
        ok: bool | None = None,
        changed: bool = False,
        keep: bool = True,
    ) -> ReloadResult:
        result = ReloadResult(
            at=self.clock(),
            trigger=trigger,
            ok=(not problems) if ok is None else ok,
            problems=problems,
            old_digest=old.table.digest,
            new_digest=digest,
            in_force=self.holder.current.table.digest,
            changed=changed,
        )
        if keep:
            self.history.append(result)
            if changed:
                self.loaded_at = result.at
            if self.path is not None:
                self.rejected = None if result.ok else result
            for listener in self.listeners:
                try:
                    listener(result, old.table, self.holder.current.table)
                except Exception as exc:  # an observer's fault must not fail the reload
                    log.error("reload_listener_failed", error=repr(exc))
        return result

    def config_state(self) -> ConfigState:
        """Is the file on disk in force, and if not, why not and which table is."""
        table = self.holder.current.table
        source = str(self.path) if self.path is not None else table.source
        refused = self.rejected
        if refused is None:
            return ConfigState(source, table.digest, self.loaded_at)
        return ConfigState(
            source, table.digest, self.loaded_at, refused.problems, refused.new_digest,
            refused.at, refused.trigger,
        )  # fmt: skip

    # ------------------------------------------------------------ triggers

    def _stat(self) -> str | None:
        """The file's content digest: an edit that keeps size and mtime (`cp -p`, `rsync -t`)
        is still an edit, so the text is read, not only stat'ed (the table is small)."""
        assert self.path is not None
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    async def watch(self, interval: float = 1.0) -> None:
        """Poll the file; a new content triggers a reload."""
        if self.path is None:
            return
        # the text in force is the first one seen: an edit made since it was read is a change
        self._signature = self.holder.current.table.digest
        while True:
            await asyncio.sleep(interval)
            signature = await asyncio.to_thread(self._stat)
            if signature is not None and signature != self._signature:
                self._signature = signature
                await self.reload("file")

    def start(self, interval: float) -> None:
        """Start the file watcher and the SIGHUP handler on the running loop."""
        self._spawn(self.watch(interval))
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload("sighup")))
        except (ValueError, RuntimeError, NotImplementedError) as exc:
            # not the main thread (tests run servers in threads) or no signals on this platform
            log.info("sighup_unavailable", detail=str(exc))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


# what decides whether two answers match: a change makes the stored evidence a different test
COMPARISON_KEYS = ("primary", "headers", "ignore", "max_body", "writes")


def rules_changed(old: RouteTable, new: RouteTable) -> tuple[str, ...]:
    """A line per shadow route whose comparison rules the new table changes, saying which, and
    that the evidence gathered under the old rules still counts until the route is reset."""
    before = {r.id: r.shadow for r in old.routes if r.shadow is not None}
    lines = []
    for route in new.routes:
        previous = before.get(route.id)
        if route.shadow is None or previous is None or route.mode.value != "shadow":
            continue
        changed = [k for k in COMPARISON_KEYS if getattr(previous, k) != getattr(route.shadow, k)]
        if changed:
            lines.append(
                f"route {route.id!r}: comparison rules changed ({', '.join(changed)}); the "
                "evidence stored under the old rules still counts: start it over with "
                f"`strangler reset {route.id}` or the route page's button"
            )
    return tuple(lines)


def edge_changed(old: RouteTable, new: RouteTable) -> tuple[str, ...]:
    """The client-facing server reads its limits when it starts: say so when a reload changes
    them, rather than let the operator believe they are in force."""
    if old.limits.edge_keys() == new.limits.edge_keys():
        return ()
    return (
        "limits: the head limits, timeouts and connection bound take effect when the gateway "
        "restarts (the client-facing server reads them at start); the rest of the table is in "
        "force",
    )


def workers_changed(old: RouteTable, new: RouteTable) -> tuple[str, ...]:
    """The native worker processes are started with the gateway: a reload does not restart them."""
    before, after = old.native, new.native
    if (before.workers, before.nice) == (after.workers, after.nice) and (
        not before.workers or before.timeout == after.timeout
    ):
        return ()
    return (
        f"native: workers, nice and (with workers) timeout take effect when the gateway "
        f"restarts; it runs {before.workers} worker(s) at nice {before.nice} until then",
    )


def _warnings(new: Snapshot, running: str | None) -> tuple[str, ...]:
    spec = new.table.native.app
    if running is not None and spec is not None and spec != running:
        return (f"native.app is {spec!r} but this gateway runs {running!r} until it restarts",)
    return ()
