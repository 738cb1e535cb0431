"""The edge protocol bound to its limits and refusal callback: the class for uvicorn's `http=`.

`edge_protocol(limits, on_refusal)` makes a subclass of EdgeProtocol carrying both. uvicorn
sends its config, this class in it, to each worker process it spawns by pickling; a bound
class pickles as the call that makes it, so every worker rebuilds the same class (and derives
its own connection bound from its own descriptor limit).
"""

from __future__ import annotations

import copyreg
from typing import Any

from proxy.edge.connection import Edge
from proxy.edge.limits import EdgeLimits, RefusalCallback
from proxy.edge.protocol import EdgeProtocol


class _Bound(type):
    """The class of bound protocols: pickled as `edge_protocol(limits, on_refusal)`."""


def edge_protocol(
    limits: EdgeLimits | None = None, on_refusal: RefusalCallback | None = None
) -> type[EdgeProtocol]:
    """The protocol class for `uvicorn.Config(http=...)`, bound to `limits` and `on_refusal`.

    `on_refusal(reason, peer)` runs once per refusal on the event loop: keep it quick. With
    several workers it must be picklable (a module-level function), as the class is.
    """
    edge = Edge.of(limits or EdgeLimits(), on_refusal)
    bound = _Bound("EdgeProtocol", (EdgeProtocol,), {"edge": edge, "__module__": __name__})
    return bound  # type: ignore[return-value]


def _pickle_bound(cls: _Bound) -> tuple[Any, tuple[EdgeLimits, RefusalCallback | None]]:
    edge: Edge = cls.edge  # type: ignore[attr-defined]
    return edge_protocol, (edge.limits, edge.on_refusal)


copyreg.pickle(_Bound, _pickle_bound)
