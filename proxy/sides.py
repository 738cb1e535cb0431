"""Calling one side of a shadow route only to observe it: its answer goes to the comparison.

The candidate (and the primary's second call for A/A) are called here, never through the
client's `send`: the in-process native app through ASGI with a `Capture` as its `send`, an
upstream (PHP, or `native.url`) with one aiohttp request on the gateway's session. Both get
the request body the client sent, replayed from memory, and the request headers the client's
own call would carry. Failures are not mapped to 502/504 here: they raise, and the experiment
records them as errored observations (`shadow.experiment.observe`).
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from starlette.types import ASGIApp, Scope
from yarl import URL

from proxy import paths
from proxy.capture import Capture, replay
from proxy.forwarder import Target
from proxy.headers import DRY_RUN, ClientView, Headers, request_headers, response_headers
from proxy.native import native_scope
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
    session: aiohttp.ClientSession,
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
    """An upstream's answer, read up to `limit` bytes; aiohttp's errors propagate."""
    upstream = target.upstream
    url = upstream.url + paths.encode(path)
    if query := scope["query_string"]:
        url += "?" + query.decode("latin-1")
    headers = request_headers(scope["headers"], view, upstream)
    if dry_run:
        headers.append((DRY_RUN.decode("latin-1"), DRY_RUN_VALUE.decode("latin-1")))
    capture = Capture(limit)
    started = time.perf_counter()
    async with session.request(
        scope["method"],
        URL(url, encoded=True),
        headers=headers,
        data=body,
        allow_redirects=False,
        timeout=target.timeout,
    ) as response:
        capture.start(response.status, response_headers(response.raw_headers, view, upstream))
        async for chunk in response.content.iter_any():
            capture.chunk(chunk)
            if capture.truncated:
                break  # over the cap: the answer will not be compared, stop reading it
        capture.end(True)
    return capture.observation(side, time.perf_counter() - started)
