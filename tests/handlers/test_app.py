"""The application's own edge: the answer is sent with Starlette's header bytes, requests run in
the caller's context on a few worker threads, and a bug answers 500 before it is re-raised."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest
from starlette.responses import Response

from handlers import app as app_module
from handlers.app import create_app, in_worker, raw_headers
from handlers.db import POOL_SIZE, WORKERS

REPLIES = {
    "json": (200, {"content-type": "application/vnd.api+json"}, b'{"data":[]}'),
    "created": (201, {"content-type": "application/json", "location": "/x"}, b"{}"),
    "empty head": (200, {"content-type": "application/json"}, b""),
    "no content": (204, {"cache-control": "no-cache, private"}, b""),
    "not modified": (304, {}, b""),
    "redirect": (302, {"Location": "http://h/é", "content-type": "text/html"}, b"<html>"),
    "length given": (200, {"Content-Length": "3"}, b"abc"),
}


@pytest.mark.parametrize("reply", list(REPLIES.values()), ids=list(REPLIES))
def test_headers_are_the_bytes_starlettes_response_sends(
    reply: tuple[int, dict[str, str], bytes],
) -> None:
    status, headers, body = reply
    assert raw_headers(status, headers, body) == Response(body, status, headers).raw_headers


async def test_work_runs_on_a_worker_thread_in_the_callers_context() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")
    marker.set("request 7")

    def work(suffix: str) -> tuple[str, str]:
        return marker.get() + suffix, threading.current_thread().name

    value, thread = await in_worker(work, "!")
    assert value == "request 7!"
    assert thread.startswith("handlers")


def test_the_pool_holds_a_connection_for_every_worker() -> None:
    assert POOL_SIZE >= WORKERS


async def test_a_bug_answers_500_then_is_re_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app_module, "_route", broken)
    app = create_app("sqlite:///:memory:")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/admin/users", "headers": []}
    try:
        with pytest.raises(RuntimeError, match="boom"):
            await app(scope, receive, send)
    finally:
        app.state.engines.dispose()
    assert [m.get("status") for m in sent] == [500, None]
    assert sent[1]["body"] == b"Internal Server Error"
