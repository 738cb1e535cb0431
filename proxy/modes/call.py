"""What a mode is given: one request on its way through dispatch, and the sides it may call.

A mode's behaviour is a `ModeHandler`, an async function of one `Call`. It reaches the two
sides through `Sides` (the gateway implements it): `legacy(call, tap)` and `native(call, tap)`
answer the client through exactly the code of legacy and native mode; a side can be given its
own receive (a replayed body), send and Exchange with `dataclasses.replace(call, ...)`, and a
`ResponseTap` observes what it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from proxy import paths
from proxy.sides.forwarder import Exchange, Forwarder, ResponseTap
from proxy.sides.headers import ClientView
from proxy.sides.legacy import LegacySide
from proxy.sides.workers import NativeWorkers
from proxy.table.model import Route
from proxy.table.snapshot import Snapshot, TableHolder


@dataclass(slots=True)
class Call:
    """One request on its way through dispatch."""

    scope: Scope
    receive: Receive
    send: Send
    path: str  # normalised: what was matched and what is forwarded
    view: ClientView
    snapshot: Snapshot  # the table this request started with, to its end
    route: Route | None  # None: no route matched (the request goes to legacy)
    exchange: Exchange
    # the path a side is sent when the route's legacy_path / native_path fills in another
    legacy_path: str | None = None
    native_path: str | None = None

    def path_for(self, native: bool) -> str:
        """The path the native side (or legacy, for False) is sent."""
        sent = self.native_path if native else self.legacy_path
        return self.path if sent is None else sent

    def scope_for(self, native: bool) -> Scope:
        """The scope a side is called with: when the route sends it another path, `raw_path`
        is that path, so that a FastCGI side's REQUEST_URI is the request as it receives it."""
        sent = self.native_path if native else self.legacy_path
        if sent is None:
            return self.scope
        return {**self.scope, "raw_path": paths.encode(sent).encode("ascii")}


ModeHandler = Callable[[Call], Awaitable[None]]


class Sides(Protocol):
    """The two sides as a mode calls them, and what calling them needs."""

    holder: TableHolder
    forwarder: Forwarder
    legacy_side: LegacySide
    native_app: ASGIApp | None
    native_state: dict[str, Any] | None
    workers: NativeWorkers | None

    async def legacy(self, call: Call, tap: ResponseTap | None = None) -> None: ...

    async def native(self, call: Call, tap: ResponseTap | None = None) -> None: ...
