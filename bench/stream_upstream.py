"""A tiny upstream for the large-body test: it sinks uploads and generates downloads, streamed.

    POST|PUT /sink          reads the body to the end, answers {"bytes": N}
    GET /source?bytes=N     answers N bytes (chunked), generated, never held whole
    anything else           a small JSON answer

Run: python -m bench.stream_upstream --port PORT (listens on 127.0.0.1 only). `--client` mode
pushes and pulls a body through a URL and prints what it measured, as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from aiohttp import ClientSession, ClientTimeout, web

CHUNK = 256 * 1024
_BLOCK = bytes(range(256)) * (CHUNK // 256)


async def sink(request: web.Request) -> web.Response:
    total = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        total += len(chunk)
    return web.json_response({"bytes": total})


async def source(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("bytes", "0"))
    resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    left = size
    while left > 0:
        piece = _BLOCK if left >= CHUNK else _BLOCK[:left]
        await resp.write(piece)
        left -= len(piece)
    await resp.write_eof()
    return resp


async def other(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "path": request.path})


def serve(port: int) -> None:
    app = web.Application(client_max_size=1 << 40)
    app.router.add_route("POST", "/sink", sink)
    app.router.add_route("PUT", "/sink", sink)
    app.router.add_get("/source", source)
    app.router.add_route("*", "/{tail:.*}", other)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _body(size: int):  # type: ignore[no-untyped-def]
    left = size
    while left > 0:
        piece = _BLOCK if left >= CHUNK else _BLOCK[:left]
        yield piece
        left -= len(piece)
        await asyncio.sleep(0)


async def client(base: str, size: int) -> dict[str, object]:
    out: dict[str, object] = {"bytes": size}
    timeout = ClientTimeout(total=None, sock_read=120)
    async with ClientSession(timeout=timeout, auto_decompress=False) as session:
        t0 = time.perf_counter()
        async with session.post(f"{base}/sink", data=_body(size)) as resp:
            answer = await resp.json(content_type=None)
            out["up_status"] = resp.status
            out["up_received"] = answer.get("bytes") if isinstance(answer, dict) else None
        t1 = time.perf_counter()
        got = 0
        async with session.get(f"{base}/source", params={"bytes": str(size)}) as resp:
            out["down_status"] = resp.status
            async for chunk in resp.content.iter_chunked(CHUNK):
                got += len(chunk)
        t2 = time.perf_counter()
        out["down_received"] = got
        out["up_s"] = round(t1 - t0, 3)
        out["down_s"] = round(t2 - t1, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--client", metavar="BASE_URL")
    parser.add_argument("--bytes", type=int, default=1 << 30)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(client(args.client, args.bytes))), flush=True)
    else:
        serve(args.port)


if __name__ == "__main__":
    main()
