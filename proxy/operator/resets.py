"""Starting a route's evidence over: one action behind `strangler reset` and the dashboard's
button. The parity store records a new epoch (reports and gates count the route from there;
the old rows stay, for history), and the flip history records the reset beside the flips, with
the trigger `reset` and the route's mode on both sides."""

from __future__ import annotations

from datetime import UTC, datetime

from proxy.operator.history import Change, FlipStore
from shadow.records import Epoch
from shadow.store import Store


def reset_evidence(store: Store, route: str, mode: str, at: float, digest: str) -> Epoch:
    """Record the reset of `route` at `at` (blocking: the store's I/O)."""
    epoch = store.reset(route, at)
    FlipStore.on(store.engine).record([Change(route, mode, mode)], at, "reset", digest)
    return epoch


def describe(epoch: Epoch) -> str:
    """What the operator is told, in the store's own terms (it counts whole minutes)."""
    when = datetime.fromtimestamp(epoch.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"{epoch.route}: evidence reset at {when}; reports and gates count from the next whole "
        "minute, the earlier rows stay in the store"
    )
