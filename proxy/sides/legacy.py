"""The legacy side, as every mode reaches it: the application's public files, PHP straight
over FastCGI, or a web server over HTTP.

    legacy.fastcgi + root: resolve(path) ─┬─ StaticFile → proxy.sides.static (nginx's answers)
                                          ├─ Script     → PHP-FPM (proxy.sides.fastcgi)
                                          ├─ Redirect   → nginx's 301 to the slashed directory
                                          └─ Refused    → the gateway's JSON 403 / 404
    legacy.url + root:   a StaticFile as above; anything else → the URL (try_files $uri @app)
    legacy.url alone:    the URL (proxy.sides.forwarder)

`LegacySide.answer` answers the client (legacy mode, the primary of shadow mode, a fallback);
`LegacySide.observe` calls the side only to compare its answer (a shadow candidate, or the
primary's second call), and lets upstream failures raise, as `proxy.sides.observe` does.

A PHP request's body goes to STDIN as it arrives when it has a length and
`limits.buffer_request` is 0; otherwise it is read whole first (memory, then a temporary file),
and always when it has no length: PHP-FPM needs CONTENT_LENGTH. The response streams back with
the same code and back-pressure as an HTTP upstream's (`forwarder.stream_back`). Failures map
as the forwarder maps them (502 refused, reset or invalid; 504 past `legacy.timeout`); a param
too large for a FastCGI record (a header over 64 KiB) is a 431.
"""

from __future__ import annotations

import time

from starlette.types import Message, Receive, Scope, Send

from proxy import errors
from proxy.clock import with_date
from proxy.logs import get_logger
from proxy.sides import static
from proxy.sides.capture import Capture, replay
from proxy.sides.client import Body, BytesBody
from proxy.sides.fastcgi.cgi import cgi_request, cgi_response_headers
from proxy.sides.fastcgi.connection import FastCGIClient, FastCGIStream, request_records
from proxy.sides.fastcgi.disk import stat_or_none
from proxy.sides.fastcgi.params import build_params
from proxy.sides.fastcgi.records import ParamTooLarge
from proxy.sides.fastcgi.resolve import Redirect, Refused, Script, Site, StaticFile, resolve
from proxy.sides.filecache import FileCache
from proxy.sides.forwarder import (
    BodyReader,
    Exchange,
    Forwarder,
    ResponseTap,
    fail,
    stream_back,
    tapped,
)
from proxy.sides.headers import ClientView, body_framing
from proxy.sides.observe import call_upstream
from proxy.sides.pool import UpstreamError
from proxy.sides.spool import ClientGone, Spool
from proxy.table.model import Limits
from proxy.table.targets import DocumentRoot, FastCGITarget, LegacyTarget, Target
from shadow.observation import Observation, Side

log = get_logger("proxy.sides.legacy")
HEADER_TOO_LARGE = 431
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
# memory part of a spool for a body without a length when the table reads bodies as they come
_SPOOL_MEMORY = Limits().buffer_request
# a large file is read and sent this much at a time, two pieces in flight per download: 32 at
# once grew RSS by 15 MiB at 128 KiB and 29 MiB at 256 KiB, for about the same CPU per byte
FILE_CHUNK = 128 * 1024


class LegacySide:
    """The legacy side of a gateway process; `fastcgi` is opened by the lifespan."""

    def __init__(self, forwarder: Forwarder, fastcgi: FastCGIClient | None = None) -> None:
        self.forwarder = forwarder
        self.fastcgi = fastcgi
        self.file_cache: FileCache = static.StaticRules().new_cache()  # one per process
        self._roots: dict[DocumentRoot, tuple[Site, static.StaticRules]] = {}
        self._last: tuple[DocumentRoot | None, tuple[Site, static.StaticRules] | None] = (
            None,
            None,
        )

    def _root(self, files: DocumentRoot) -> tuple[Site, static.StaticRules]:
        last_files, last = self._last
        if last_files is files and last is not None:  # the table in force: no hashing
            return last
        found = self._roots.get(files)
        if found is None:
            if len(self._roots) >= 8:  # a few tables' worth, across reloads
                self._roots.clear()
            rules = static.StaticRules.build(dict(files.cache_control), chunk_size=FILE_CHUNK)
            found = self._roots[files] = (Site(files.root, files.index, files.execute), rules)
        self._last = (files, found)
        return found

    # ------------------------------------------------------------ answering the client

    async def answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        view: ClientView,
        target: LegacyTarget,
        exchange: Exchange,
        tap: ResponseTap | None = None,
    ) -> None:
        files = target.files
        if files is None:
            assert isinstance(target, Target)
            await self._forward(scope, receive, send, path, view, target, exchange, tap)
            return
        site, rules = self._root(files)
        outcome = resolve(path, site, stat_or_none)
        if isinstance(outcome, StaticFile):
            out = _counted(send if tap is None else tapped(send, tap), exchange)
            await static.serve_file(
                scope, receive, out, outcome.path, outcome.stat, rules,
                cache=self.file_cache, url_path=path, request_id=view.request_id,
            )  # fmt: skip
        elif isinstance(target, Target):
            await self._forward(scope, receive, send, path, view, target, exchange, tap)
        elif isinstance(outcome, Script):
            await self._php(scope, receive, send, view, target, outcome, exchange, tap)
        else:
            out = _counted(send if tap is None else tapped(send, tap), exchange)
            await _local(scope, out, view, outcome, rules)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, path: str, view: ClientView,
        target: Target, exchange: Exchange, tap: ResponseTap | None,
    ) -> None:  # fmt: skip
        await self.forwarder.forward(scope, receive, send, path, view, target, exchange, tap)

    async def _php(
        self, scope: Scope, receive: Receive, send: Send, view: ClientView,
        target: FastCGITarget, script: Script, exchange: Exchange, tap: ResponseTap | None,
    ) -> None:  # fmt: skip
        spool: Spool | None = None
        reading: BodyReader | None = None
        body: Body | None = None
        declared, chunked = body_framing(scope["headers"])
        length: int | None = None
        try:
            if chunked or (declared is not None and target.buffer_request):
                # the whole body first: its length for CONTENT_LENGTH, and no PHP worker held
                # while a slow client uploads
                memory = target.buffer_request or _SPOOL_MEMORY
                spool = body = await Spool.read_from(receive, memory)
                length = spool.length
            elif declared is not None:
                length = int(declared)  # the server has checked it is a number
                if length:
                    reading = body = BodyReader(receive)
        except ClientGone as exc:
            await fail(send, exchange, exc, None)
            return
        try:
            params = build_params(
                cgi_request(scope, view, length), script, target.files.root, target.params
            )
            try:
                head = request_records(params, body is not None)
            except ParamTooLarge:
                await _too_large_header(send, exchange, view.request_id)
                return
            method = scope["method"]
            retry = method in _SAFE and (body is None or spool is not None)
            client = self.fastcgi
            assert client is not None, "the gateway's lifespan opens the FastCGI client"
            try:
                response = await client.send(
                    target, head, body, retry=retry, head_only=method == "HEAD",
                    request_id=view.request_id,
                )  # fmt: skip
            except (UpstreamError, ClientGone) as exc:
                await fail(send, exchange, exc, reading)
                return
            try:
                # PHP sends no Date; the web server in front adds it (as nginx does)
                headers = with_date(cgi_response_headers(response.headers, view))
                await stream_back(
                    response, response.status, headers, receive, send, exchange, reading, tap
                )
            finally:
                response.finish()
        finally:
            if spool is not None:
                spool.close()

    # ------------------------------------------------------------ observing (shadow mode)

    async def observe(
        self,
        target: LegacyTarget,
        scope: Scope,
        path: str,
        view: ClientView,
        body: bytes | None,
        *,
        side: Side,
        limit: int,
    ) -> Observation:
        """The legacy side's answer, read up to `limit` bytes, for a comparison; upstream
        failures raise (the experiment records them as errored)."""
        files = target.files
        outcome = None
        if files is not None:
            outcome = resolve(path, self._root(files)[0], stat_or_none)
        if isinstance(target, Target) and not isinstance(outcome, StaticFile):
            client = self.forwarder.client
            assert client is not None, "the gateway's lifespan opens the client"
            return await call_upstream(
                client, target, scope, path, view, body, side=side, limit=limit, dry_run=False
            )
        if isinstance(target, FastCGITarget) and isinstance(outcome, Script):
            return await self._observe_php(target, scope, view, body, outcome, side, limit)
        # a file, a redirect or a refusal: answered here, as the client would be
        capture = Capture(limit)
        started = time.perf_counter()
        exchange = Exchange(view.request_id)
        chunks = (body,) if body else ()
        await self.answer(scope, replay(chunks, None), capture, path, view, target, exchange)
        return capture.observation(side, time.perf_counter() - started)

    async def _observe_php(
        self, target: FastCGITarget, scope: Scope, view: ClientView, body: bytes | None,
        script: Script, side: Side, limit: int,
    ) -> Observation:  # fmt: skip
        client = self.fastcgi
        assert client is not None, "the gateway's lifespan opens the FastCGI client"
        data = BytesBody(body) if body else None
        length = len(body) if body is not None else None
        params = build_params(
            cgi_request(scope, view, length), script, target.files.root, target.params
        )
        capture = Capture(limit)
        started = time.perf_counter()
        head = request_records(params, data is not None)
        method = scope["method"]
        response: FastCGIStream = await client.send(
            target, head, data, retry=method in _SAFE, head_only=method == "HEAD",
            request_id=view.request_id,
        )  # fmt: skip
        try:
            await capture.read_from(response, cgi_response_headers(response.headers, view))
        finally:
            response.finish()
        return capture.observation(side, time.perf_counter() - started)


async def _local(
    scope: Scope,
    send: Send,
    view: ClientView,
    outcome: Redirect | Refused,
    rules: static.StaticRules,
) -> None:
    """The answers the resolver gives without PHP: a directory's redirect, a refusal."""
    if isinstance(outcome, Redirect):
        await static.redirect_to_directory(
            scope, send, outcome.location_path, rules=rules, request_id=view.request_id
        )
        return
    message = _REFUSALS.get(outcome.status, outcome.reason)
    await errors.send_error(send, outcome.status, message, view.request_id)


_REFUSALS = {403: "forbidden", 404: "not found"}


async def _too_large_header(send: Send, exchange: Exchange, request_id: str) -> None:
    message = "request header too large for FastCGI"
    exchange.status, exchange.error = HEADER_TOO_LARGE, message
    log.warning("fastcgi_param_too_large")
    exchange.bytes_out = await errors.send_error(send, HEADER_TOO_LARGE, message, request_id)


def _counted(send: Send, exchange: Exchange) -> Send:
    """`send`, recording the status and body bytes of an answer made here in `exchange`."""

    async def counting(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "http.response.body":
            exchange.bytes_out += len(message.get("body", b""))
        await send(message)

    return counting
