"""How the lead wires the edge into `strangler serve`: a class for uvicorn's `http=`, bound to
limits and a refusal callback, that survives being sent to a spawned worker process."""

from __future__ import annotations

import ast
import multiprocessing
import pickle
from pathlib import Path

import pytest

from proxy.edge import EdgeLimits, EdgeProtocol, edge_protocol
from tests.edge.servers import Recorder, exchange, header_line, serving

ROOT = Path(__file__).resolve().parents[2]
LEAVES = {"errors", "clock", "logs", "paths", "edge"}
PURE = ["proxy/edge/scan.py", "proxy/edge/host.py", "proxy/edge/fields.py"]


def count_refusal(reason: str, peer: str) -> None:
    """A module-level callback, as a worker process needs one (pickled by reference)."""


def test_a_bound_protocol_is_rebuilt_with_its_limits_after_pickling() -> None:
    limits = EdgeLimits(max_request_line=1000, max_connections=7)
    bound = edge_protocol(limits, count_refusal)
    copy = pickle.loads(pickle.dumps(bound))
    assert issubclass(copy, EdgeProtocol)
    assert copy.edge.limits == limits
    assert copy.edge.on_refusal is count_refusal
    assert copy.edge.bound == 7


def limits_in_a_worker(bound: type[EdgeProtocol]) -> tuple[EdgeLimits, bool]:
    return bound.edge.limits, bound.edge.on_refusal is count_refusal


def test_a_spawned_worker_process_gets_the_same_bound_class() -> None:
    """uvicorn's --workers spawn processes and send them the config (this class in it)."""
    limits = EdgeLimits(max_head=4096, header_timeout=3)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got = pool.apply(limits_in_a_worker, (edge_protocol(limits, count_refusal),))
    assert got == (limits, True)


def test_the_unbound_class_serves_with_nginx_s_defaults() -> None:
    with serving(Recorder(), None) as running:
        at_limit = exchange(
            running.port, b"GET / HTTP/1.1\r\nHost: a\r\n" + header_line(8192) + b"\r\n"
        )
        over = exchange(
            running.port, b"GET / HTTP/1.1\r\nHost: a\r\n" + header_line(8193) + b"\r\n"
        )
    assert (at_limit.status, over.status) == (200, 431)


def test_a_failing_callback_does_not_stop_the_refusal() -> None:
    def broken(reason: str, peer: str) -> None:
        raise RuntimeError("the metrics are down")

    limits = EdgeLimits(lingering_timeout=0.3)
    with serving(Recorder(), limits, on_refusal=broken) as running:
        refused = exchange(running.port, b"GET / HTTP/1.1\r\n\r\n")
        served = exchange(running.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert (refused.status, refused.closed) == (400, True)
    assert served.status == 200


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "proxy" / "edge").glob("*.py")), ids=lambda p: p.name
)
def test_the_edge_uses_only_the_leaves_of_proxy(path: Path) -> None:
    rooms = {m.split(".")[1] for m in _imports(path) if m.startswith("proxy.")}
    assert rooms <= LEAVES


@pytest.mark.parametrize("relpath", PURE)
def test_the_scanners_and_rules_do_no_io(relpath: str) -> None:
    used = {m.split(".")[0] for m in _imports(ROOT / relpath)}
    assert used <= {"__future__", "re", "dataclasses", "proxy"}
