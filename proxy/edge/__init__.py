"""The edge: the client-facing HTTP/1.1 server, as hard to abuse as the nginx it replaces.

What it enforces, with nginx's defaults (EdgeLimits): head limits (request line → 414, header
line, head size, header count → 431), refused while reading, with memory and CPU bounded per
connection; the head, body and keep-alive timeouts; a bound on open client connections (503);
request-head validity (Host rules, absolute-form targets, header names nginx drops). It is a
protocol class for uvicorn (`edge_protocol(limits, on_refusal)` → `uvicorn.Config(http=...)`),
and reports each refusal once to `on_refusal(reason, peer)`.

It may use leaves (proxy.errors, proxy.clock, proxy.logs), uvicorn and httptools; nothing of
table/, sides/, modes/, operator/ or cli/, which build on it rather than the other way round.
"""

from proxy.edge.binding import edge_protocol
from proxy.edge.limits import EdgeLimits, Refusal, RefusalCallback, derived_connection_bound
from proxy.edge.protocol import EdgeProtocol

__all__ = [
    "EdgeLimits",
    "EdgeProtocol",
    "Refusal",
    "RefusalCallback",
    "derived_connection_bound",
    "edge_protocol",
]
