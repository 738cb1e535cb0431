"""Reaching a side: how one request gets to legacy or native and back.

`legacy` is the legacy side as every mode calls it: the document root's files (`static`),
PHP straight over FastCGI (`fastcgi/`: records, params, what a path runs, connections), or HTTP.
`pool` holds the connection pools, deadline sweep and back-pressure both upstream protocols share;
`client` is the gateway's own HTTP/1.1 client on them; `forwarder` streams raw ASGI messages
through it; `headers` holds the header rules of a proxied exchange; `limits` bounds request
bodies; `native` calls the in-process ASGI app; `capture` and `observe` call a side only to
observe its answer (shadow mode's candidate); `probe` reaches the native side from an exported
parity test. This room may use table/ and the leaves; it knows nothing of modes, the operator
surface or the CLI.
"""

from proxy.sides.client import UpstreamClient
from proxy.sides.forwarder import Exchange, Forwarder, ResponseTap

__all__ = ["Exchange", "Forwarder", "ResponseTap", "UpstreamClient"]
