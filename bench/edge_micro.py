"""The edge protocol's own CPU per request, in process: what wrk's figure is made of, less noise.

One protocol object of each kind (stock httptools, the edge) on a transport that only counts
writes, fed the same request head again and again on one kept-alive connection, the ASGI
app answering each (bench.edge_cost's trivial app). Process CPU time per request, best of
`repeats` runs, alternating the two kinds; the socket and kernel work (the same for both) is
not in it, so the difference is the whole of what the edge adds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from proxy.edge import edge_protocol

HEADS = {
    "wrk's request (1 header)": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
    "a browser's request (10 headers)": (
        b"GET /api/v1/admin/users?page=2 HTTP/1.1\r\nHost: shop.example.test\r\n"
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        b"Chrome/120.0 Safari/537.36\r\n"
        b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        b"Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n"
        b"Cookie: session=abcdef0123456789abcdef0123456789; theme=dark\r\n"
        b"Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n"
        b"Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n\r\n"
    ),
}


class _Sink(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _per_request(repeats: int, count: int, head: bytes) -> dict[str, float]:
    from bench.edge_cost import app

    kinds: dict[str, type[asyncio.Protocol]] = {
        "stock": HttpToolsProtocol,
        "edge": edge_protocol(),
    }
    protocols = {}
    for kind, cls in kinds.items():
        config = Config(app, http=cls, lifespan="off", access_log=False, proxy_headers=False)
        config.load()
        protocol = cls(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
        protocol.connection_made(_Sink())
        protocols[kind] = protocol
    best = dict.fromkeys(kinds, float("inf"))
    for _ in range(repeats):
        for kind, protocol in protocols.items():
            started = time.process_time()
            for _ in range(count):
                protocol.data_received(head)
                await asyncio.sleep(0)  # the app's task answers
            best[kind] = min(best[kind], (time.process_time() - started) / count * 1e6)
    return best


def measure(repeats: int = 30, count: int = 3000) -> dict[str, dict[str, float]]:
    """Request shape → kind → best CPU µs per request."""
    import uvloop

    return {name: uvloop.run(_per_request(repeats, count, head)) for name, head in HEADS.items()}


def lines(results: dict[str, dict[str, float]]) -> list[str]:
    out = [
        "In process (bench/edge_micro.py: best of 30 runs of 3000 requests, no socket work):",
        "",
        "| request | stock µs | edge µs | edge adds |",
        "|---|---:|---:|---:|",
    ]
    for name, best in results.items():
        out.append(
            f"| {name} | {best['stock']:.2f} | {best['edge']:.2f} "
            f"| {best['edge'] - best['stock']:.2f} µs |"
        )
    return [*out, ""]
