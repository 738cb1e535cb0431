"""The native handlers, with the fault a request's `X-Test-Fault` header asks for: the candidate
of the live shadow test (`native.app: tests.e2e.faulty:app`, database from DATABASE_URL)."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.app import create_app

native = create_app()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
    fault = headers.get(b"x-test-fault", b"").decode()
    if fault == "hang":
        await asyncio.sleep(3600)
    elif fault == "raise":
        raise RuntimeError("the candidate broke")
    elif fault == "garbage":
        start = [(b"content-type", b"application/vnd.api+json")]
        await send({"type": "http.response.start", "status": 200, "headers": start})
        await send({"type": "http.response.body", "body": b'{"data": [{"id": "1", "ty'})
        return
    await native(scope, receive, send)
