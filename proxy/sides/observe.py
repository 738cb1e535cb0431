"""Calling one side of a shadow route only to observe it: its answer goes to the comparison.

The candidate (and the primary's second call for A/A) are called here, never through the
client's `send`: the in-process native app through ASGI with a `Capture` as its `send`, an
upstream (PHP, or `native.url`) with one request on the gateway's `UpstreamClient`. Both get
the request body the client sent, replayed from memory, and the request headers the client's
own call would carry. Failures are not mapped to 502/504 here: they raise, and the experiment
records them as errored observations (`shadow.experiment.observe`).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Scope

from proxy.sides.capture import Capture, replay
from proxy.sides.client import BytesBody, UpstreamClient
from proxy.sides.forwarder import outgoing
from proxy.sides.headers import DRY_RUN, ClientView, Headers, response_headers
from proxy.sides.native import native_scope
from proxy.table.targets import Target
from shadow.observation import Observation, Side

DRY_RUN_VALUE = b"1"


def marked(headers: Headers) -> Headers:
    """The request headers with the dry-run mark the native side rolls back on."""
    return [*(pair for pair in headers if pair[0] != DRY_RUN), (DRY_RUN, DRY_RUN_VALUE)]


async def call_app(
    app: ASGIApp,
    scope: Scope,
    path: str,
    request_id: str,
    body: tuple[bytes, ...],
    *,
    side: Side,
    limit: int,
    dry_run: bool,
    state: dict[str, Any] | None = None,
) -> Observation:
    """The in-process app's answer; an exception it raises propagates (errored, upstream)."""
    headers = marked(scope["headers"]) if dry_run else scope["headers"]
    seen = native_scope({**scope, "headers": headers}, path, request_id, state)
    capture = Capture(limit)
    started = time.perf_counter()
    await app(seen, replay(body, None), capture)
    return capture.observation(side, time.perf_counter() - started)


async def call_upstream(
    client: UpstreamClient,
    target: Target,
    scope: Scope,
    path: str,
    view: ClientView,
    body: bytes | None,
    *,
    side: Side,
    limit: int,
    dry_run: bool,
) -> Observation:
    """An upstream's answer, read up to `limit` bytes; the client's `UpstreamError`s propagate."""
    upstream = target.upstream
    extra = ((DRY_RUN, DRY_RUN_VALUE),) if dry_run else ()
    request = outgoing(scope, path, view, upstream, extra)
    capture = Capture(limit)
    started = time.perf_counter()
    data = BytesBody(body) if request.has_body and body is not None else None
    response = await request.send(client, target, data)
    try:
        await capture.read_from(response, response_headers(response.headers, view, upstream))
    finally:
        response.finish()
    return capture.observation(side, time.perf_counter() - started)
