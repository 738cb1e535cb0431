"""Reaching the native side from outside any gateway: how an exported parity test sends its
stored request (see shadow.cases).

    with NativeSide.open(app="handlers.app:app", url=None) as native:
        observation = native.send(stored_request)

The side named in the table at export time: the app in this process, through httpx's
`ASGITransport` (its lifespan run first, as a server runs it, on an event loop of its own on a
thread, so that a plain, synchronous pytest test can call it), or `native.url` through an httpx
client. STRANGLER_NATIVE_URL, when set, names a running native service instead of either.
Every request carries the dry-run mark, as the gateway's candidate calls do (a write rolls
back), the request's stored headers, its Host when the replay sent one, and the headers of
STRANGLER_TEST_HEADERS ("Name: value", one a line): the credentials no stored pair holds.

`header_lines` reads headers as `--header` and STRANGLER_TEST_HEADERS give them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy import paths
from proxy.sides.headers import DRY_RUN
from proxy.sides.native import Lifespan, load_app
from shadow.cases import StoredRequest
from shadow.observation import Observation, Side

NATIVE_URL_ENV = "STRANGLER_NATIVE_URL"
TEST_HEADERS_ENV = "STRANGLER_TEST_HEADERS"
_TOKEN_SPECIALS = set('()<>@,;\\"/[]?={}')
T = TypeVar("T")


def header_lines(values: Iterable[str]) -> list[tuple[str, str]]:
    """`Name: value` lines as pairs; ValueError naming the one that is not a header."""
    pairs = []
    for value in values:
        name, sep, rest = value.partition(":")
        name = name.strip()
        if not sep or not name or any(c.isspace() or c in _TOKEN_SPECIALS for c in name):
            raise ValueError(f"header {value!r}: expected 'Name: value'")
        pairs.append((name, rest.strip()))
    return pairs


class NativeSide:
    """The native side, called synchronously; open it with `NativeSide.open`."""

    def __init__(self, client: httpx.AsyncClient, headers: list[tuple[str, str]]) -> None:
        self.client = client
        self.headers = headers
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, *, app: str | None, url: str | None, timeout: float = 30.0
    ) -> Iterator[NativeSide]:
        """The native side `app` or `url` names (STRANGLER_NATIVE_URL wins over both)."""
        url = os.environ.get(NATIVE_URL_ENV) or url
        headers = header_lines(os.environ.get(TEST_HEADERS_ENV, "").splitlines())
        if url:
            side = cls(httpx.AsyncClient(base_url=url, timeout=timeout), headers)
            lifespan = None
        else:
            if app is None:
                raise ValueError(
                    f"no native side: the table names none, and {NATIVE_URL_ENV} is unset"
                )
            asgi = load_app(app)
            lifespan = Lifespan(asgi)
            transport = httpx.ASGITransport(app=_with_state(asgi, lifespan))
            side = cls(httpx.AsyncClient(transport=transport, base_url="http://native"), headers)
        try:
            if lifespan is not None:
                side._run(lifespan.startup())
            yield side
        finally:
            try:
                if lifespan is not None:
                    side._run(lifespan.shutdown())
                side._run(side.client.aclose())
            finally:
                side._stop()

    def send(self, request: StoredRequest) -> Observation:
        return self._run(self._send(request))

    async def _send(self, request: StoredRequest) -> Observation:
        headers = [(k, v) for k, v in request.headers if k.lower() != "host"]
        if request.host:
            headers.append(("host", request.host))
        given = {k.lower() for k, _ in self.headers}
        headers = [(k, v) for k, v in headers if k.lower() not in given] + self.headers
        headers.append((DRY_RUN.decode("ascii"), "1"))
        target = paths.encode(request.path) + (f"?{request.query}" if request.query else "")
        started = time.perf_counter()
        try:
            response = await self.client.request(
                request.method, target, headers=headers, content=request.body or None
            )
        except httpx.HTTPError as exc:
            error = f"raised {type(exc).__name__}: {exc}"
            return Observation.failed(Side.CANDIDATE, error, time.perf_counter() - started)
        return Observation.of(
            Side.CANDIDATE, response.status_code, response.headers.multi_items(),
            response.content, time.perf_counter() - started,
        )  # fmt: skip

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _with_state(app: ASGIApp, lifespan: Lifespan) -> ASGIApp:
    """The app, given its lifespan's state in each request's scope, as a server gives it."""

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": dict(lifespan.state)}, receive, send)

    return with_state
