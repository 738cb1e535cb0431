"""Recording: a sample of a route's requests kept in the parity store, for `strangler replay`.

A route with `record: {sample, max_body}` (its own, or the table's) in any mode: dispatch asks
`Recorder.start` about each of its requests. The request id decides which are kept (the hash
shadow sampling uses, salted, so the two choose independently of each other); a kept request's
body is teed as the side reads it, never read ahead and never held past `max_body` (a larger
body is not kept). When the exchange ends, the request (method, target, headers, body), the
status the client got and the side that gave it go to the parity store's writer: batched and
written off the request path like shadow results, dropped and counted when the store cannot
keep up. Nothing kept holds a credential or a `redact:` field (see shadow.recording); a failure
here is logged and never reaches the client.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from starlette.types import Message

from proxy.logs import get_logger
from proxy.modes.call import Call
from proxy.sides.headers import has_body
from proxy.table.model import RecordConfig
from proxy.table.snapshot import Snapshot
from shadow.recording import keepable
from shadow.records import Recorded
from shadow.settings import compiled, sampled

log = get_logger("proxy.modes.recording")
Keep = Callable[[Snapshot, Recorded], object]


class Recorder:
    def __init__(self, keep: Keep, *, clock: Callable[[], float] = time.time) -> None:
        self.keep = keep  # hands a kept request to the store of the snapshot's table
        self.clock = clock
        self.kept = 0
        self.failures = 0

    def start(self, call: Call, config: RecordConfig) -> Recording | None:
        """A recording of this request, when the sample takes it; its `call` is the one to
        hand to the mode (its receive tees the body)."""
        if not sampled(call.view.request_id + "#record", config.sample):
            return None
        return Recording(self, call, config, self.clock())


class Recording:
    __slots__ = ("_receive", "at", "call", "chunks", "complete", "config", "original", "over",
                 "recorder", "size")  # fmt: skip

    def __init__(self, recorder: Recorder, call: Call, config: RecordConfig, at: float) -> None:
        self.recorder = recorder
        self.config = config
        self.at = at
        self.original = call
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = not has_body(call.scope["headers"])
        self.over = False
        self._receive = call.receive
        self.call = dataclasses.replace(call, receive=self.receive)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and not (self.complete or self.over):
            body = message.get("body", b"")
            self.size += len(body)
            if self.size > self.config.max_body:
                self.over = True
                self.chunks.clear()
            elif body:
                self.chunks.append(body)
            self.complete = not message.get("more_body", False)
        return message

    def finish(self, status: int, side: str | None) -> None:
        """The exchange ended: keep the request when its body was read whole and under the cap."""
        if self.over or not self.complete:
            return
        try:
            self._keep(status, side)
        except Exception:  # a recording must never cost the client anything
            self.recorder.failures += 1
            log.exception("recording_failed")

    def _keep(self, status: int, side: str | None) -> None:
        call = self.original
        scope = call.scope
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        kept = keepable(
            call.route.id if call.route is not None else "",
            self.at,
            call.view.request_id,
            scope["method"],
            raw.decode("latin-1"),
            scope["query_string"].decode("latin-1"),
            headers,
            b"".join(self.chunks),
            compiled(self.config.redact),
            status=status or None,
            side=side,
        )
        if kept is not None:
            self.recorder.keep(call.snapshot, kept)
            self.recorder.kept += 1
