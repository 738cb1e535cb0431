"""The client's answer in shadow mode is the one it gets in legacy mode, byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shadow.report import build_report
from shadow.store import Store
from tests.gateway_shadow.conftest import Legacy, Native, running, shadow_gateway

LEGACY_ROUTES = """\
  - id: echo.legacy
    match: "GET|POST|PUT /echo/{rest:path}"
    mode: legacy
"""
# headers that differ between any two requests, whatever the mode
PER_REQUEST = {"date"}
BIG = b"0123456789abcdef" * 8192  # 128 KiB, over the 1 KiB max_body below


async def chunked() -> AsyncIterator[bytes]:
    for i in range(5):
        yield f"part {i};".encode()


CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # (method, path, httpx arguments, compared)
    ("GET", "/echo/a?x=1&x=2&y=%C3%A9", {}, True),
    ("HEAD", "/echo/a", {}, True),
    ("POST", "/echo/form", {"json": {"name": "Ann", "tags": [1, 2]}}, True),
    ("PUT", "/echo/chunked", {"content": chunked}, True),
    ("POST", "/echo/huge-request", {"content": BIG}, False),
    ("GET", "/echo/huge-response?big=3", {}, False),
]


def seen(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in PER_REQUEST]
    return response.status_code, headers, response.content


async def send(client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    if callable(kwargs.get("content")):
        kwargs["content"] = kwargs["content"]()
    headers = {"X-Request-ID": "same-request-1", "Cookie": "sid=1", "Authorization": "Bearer t"}
    return await client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "compared"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES]
)
async def test_shadow_answers_the_client_with_the_bytes_of_legacy_mode(
    legacy: Legacy,
    native: Native,
    store: Store,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    compared: bool,
) -> None:
    plain = shadow_gateway(legacy.url, native, store, routes=LEGACY_ROUTES)
    async with running(plain) as client:
        in_legacy_mode = await send(client, method, path, kwargs)
    upstream_saw = legacy.seen[-1]
    shadowed = shadow_gateway(
        legacy.url, native, store, shadow="  max_body: 1KiB\n  noise_sample: 0\n"
    )
    async with running(shadowed) as client:
        in_shadow_mode = await send(client, method, path, kwargs)

    assert seen(in_shadow_mode) == seen(in_legacy_mode)
    assert legacy.seen[-1] == upstream_saw  # and PHP saw the same request
    assert len(legacy.seen) == 2  # once per mode: the shadow side never repeats a write
    if "huge-request" in path:
        assert upstream_saw["body_sha256"] == hashlib.sha256(BIG).hexdigest()
    # the shadow route did shadow: the candidate ran when the request could be compared
    assert len(native.seen) == (1 if compared else 0)
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.skipped) == ((1, 0) if compared else (0, 1))


NATIVE_ROUTES = '  - id: n\n    match: "GET|POST /native-first"\n    mode: native\n'


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_with_primary_native_the_client_gets_the_bytes_of_native_mode(
    legacy: Legacy, native: Native, store: Store, method: str
) -> None:
    kwargs: dict[str, Any] = {"json": {"a": 1}} if method == "POST" else {}
    async with running(shadow_gateway(legacy.url, native, store, routes=NATIVE_ROUTES)) as c:
        in_native_mode = await send(c, method, "/native-first", kwargs)
    async with running(shadow_gateway(legacy.url, native, store, "  noise_sample: 0\n")) as c:
        in_shadow_mode = await send(c, method, "/native-first", kwargs)
    assert seen(in_shadow_mode) == seen(in_native_mode)
    assert len(native.seen) == 2 and len(legacy.seen) == (1 if method == "GET" else 0)
