"""The table in force: an immutable snapshot, swapped whole by one attribute assignment.

A request reads `holder.current` once and uses that snapshot to the end, so it finishes on the
table it started with, whatever reloads happen meanwhile. Everything forwarding needs that
depends only on the table (upstream hosts, timeouts, the compiled matcher) is built here, once.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from dataclasses import dataclass

from proxy.table.matcher import Matcher, compile_table
from proxy.table.model import FastCGIAddress, RouteTable
from proxy.table.targets import (
    DocumentRoot,
    FastCGITarget,
    LegacyTarget,
    Target,
    fastcgi_params,
    upstream_of,
)
from proxy.table.trust import Trust

UNMATCHED = "(unmatched)"  # the counter key of requests no route claimed (they go to legacy)


@dataclass(frozen=True, slots=True)
class Snapshot:
    table: RouteTable
    matcher: Matcher
    legacy: LegacyTarget  # over HTTP (Target) or straight to PHP-FPM (FastCGITarget)
    native_url: Target | None  # set when native.url is configured
    native_timeout: float
    trust: Trust  # edge.trusted_proxies: whose X-Forwarded-* are believed
    generation: int  # 1 for the first table, +1 per successful reload


def build_snapshot(table: RouteTable, generation: int = 1) -> Snapshot:
    """Compile a validated table into what the hot path reads (pure CPU; may run in a thread)."""
    buffer = table.limits.buffer_request
    legacy = legacy_target(table)
    native_url = None
    if table.native.url is not None:
        upstream = upstream_of(table.native.url, preserve_host=True)
        native_url = Target(upstream, table.native.timeout, buffer)
    return Snapshot(
        table=table,
        matcher=compile_table(table),
        legacy=legacy,
        native_url=native_url,
        native_timeout=table.native.timeout,
        trust=Trust(table.edge.trusted_proxies),
        generation=generation,
    )


@dataclass(frozen=True, slots=True)
class ConfigState:
    """Whether the table file on disk is the table in force, as the newest reload found it.

    `problems` is empty while the file is in force; otherwise it says why the file was refused
    (file:line: reason), and `rejected_*` which text was refused, when and on what trigger.
    """

    source: str  # the table file
    digest: str  # of the table in force
    loaded_at: float  # wall-clock seconds: when the table in force was put in force
    problems: tuple[str, ...] = ()
    rejected_digest: str = ""  # "" also when the file could not be read at all
    rejected_at: float = 0.0
    rejected_trigger: str = ""

    @property
    def in_force(self) -> bool:
        return not self.problems

    def as_json(self, *, details: bool = True) -> dict[str, object]:
        """`details`: the file's name and the reasons, which quote its text (URLs, store
        credentials): only for those the admin surface lets in."""
        in_force: dict[str, object] = {"digest": self.digest, "loaded_at": self.loaded_at}
        out: dict[str, object] = {
            "state": "in_force" if self.in_force else "file_rejected",
            "in_force": in_force,
        }
        if details:
            in_force["source"] = self.source
        if not self.in_force:
            rejected: dict[str, object] = {
                "digest": self.rejected_digest,
                "at": self.rejected_at,
                "trigger": self.rejected_trigger,
            }
            if details:
                rejected["problems"] = list(self.problems)
            out["rejected"] = rejected
        return out


def legacy_target(table: RouteTable) -> LegacyTarget:
    """The legacy side of a validated table: relative paths (read against the directory of a
    table named by a relative path) made absolute once, here."""
    config = table.legacy
    files = None
    if config.root is not None:
        files = DocumentRoot(
            os.path.abspath(config.root), config.index, config.execute, table.static.cache
        )
    buffer = table.limits.buffer_request
    if config.fastcgi is None:
        assert config.url is not None, "a validated table has url or fastcgi"
        upstream = upstream_of(config.url, preserve_host=config.preserve_host)
        return Target(upstream, config.timeout, buffer, files)
    assert files is not None, "a validated table has root with fastcgi"
    address = config.fastcgi
    if address.path:
        address = FastCGIAddress(path=os.path.abspath(address.path))
    params = fastcgi_params(config.params)
    return FastCGITarget(address, files, params, config.timeout, config.pool_size, buffer)


class TableHolder:
    """Holds the snapshot in force, and the request counts per route since start."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.current = snapshot
        # counts survive reloads: they are keyed by route id, not by table
        self.counts: Counter[str] = Counter()

    def install(self, snapshot: Snapshot) -> Snapshot:
        """Put a snapshot built elsewhere (e.g. in a thread) in force."""
        snapshot = dataclasses.replace(snapshot, generation=self.current.generation + 1)
        self.current = snapshot  # the one atomic step
        return snapshot

    def swap(self, table: RouteTable) -> Snapshot:
        return self.install(build_snapshot(table))
