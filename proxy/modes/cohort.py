"""Which side answers a canary request: sticky cohorts hashed against the share. Pure.

As LaunchDarkly buckets a percentage rollout, a cohort's key (a header's value, a cookie's, or
the client's address) is hashed with the table's salt into a bucket in [0, 1), and the native
side answers the cohorts whose bucket is below the share. So:

- the same cohort gets the same side for a given share, in every worker and gateway instance;
- raising the share only moves cohorts from legacy to native (a bucket below 0.1 is below 0.2);
- the route id is not hashed: a cohort below the share of two routes is native on both, so a
  client at 10 % sees the new list and the new detail page together, not a mix;
- a request without a key goes to legacy (a cohort of one request would flip-flop).

The key is hashed and forgotten: it is never logged, counted or stored. A `force` header lets a
trusted client (loopback, or a peer in `edge.trusted_proxies`) pick its side: `legacy` or
`native`; from anyone else it is ignored.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from proxy.sides.headers import ClientView
from proxy.table.model import CanaryConfig, CohortKind, Side

Headers = Sequence[tuple[bytes, bytes]]
_FORCED = {b"legacy": Side.LEGACY, b"native": Side.NATIVE}
_SCALE = float(2**64)


def bucket_of(salt: str, key: bytes) -> float:
    """The cohort's bucket in [0, 1)."""
    return _bucket(salt.encode() + b"\x00", key)


def _bucket(prefix: bytes, key: bytes) -> float:
    digest = hashlib.blake2b(prefix + key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def header(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def cookie(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key != b"cookie":
            continue
        for pair in value.split(b";"):
            found, sep, content = pair.strip().partition(b"=")
            if sep and found == name:
                return content.strip()
    return None


def trusted(view: ClientView) -> bool:
    """The admin rule: the socket's peer is loopback, or one of `edge.trusted_proxies`."""
    if view.trusted:
        return True
    try:
        return ipaddress.ip_address(view.peer_ip or view.client_ip).is_loopback
    except ValueError:
        return False


KeyReader = Callable[[Headers, ClientView], bytes | None]


@dataclass(frozen=True, slots=True)
class Chooser:
    """One canary route's decision, compiled once per table."""

    share: float
    salt: bytes  # the table's salt, as hashed before each key
    key: KeyReader
    force: bytes | None

    def side(self, headers: Headers, view: ClientView) -> Side:
        if self.force is not None:
            forced = header(headers, self.force)
            if forced is not None and trusted(view):
                side = _FORCED.get(forced.strip().lower())
                if side is not None:
                    return side
        if self.share <= 0.0:
            return Side.LEGACY
        key = self.key(headers, view)
        if not key:
            return Side.LEGACY
        return Side.NATIVE if _bucket(self.salt, key) < self.share else Side.LEGACY


def chooser(config: CanaryConfig) -> Chooser:
    name = config.cohort.name.encode("latin-1")
    key: KeyReader
    if config.cohort.kind is CohortKind.HEADER:

        def key(headers: Headers, _view: ClientView) -> bytes | None:
            return header(headers, name)

    elif config.cohort.kind is CohortKind.COOKIE:

        def key(headers: Headers, _view: ClientView) -> bytes | None:
            return cookie(headers, name)

    else:

        def key(_headers: Headers, view: ClientView) -> bytes | None:
            # the client's own address: behind edge.trusted_proxies, what they forwarded
            return view.client_ip.encode("latin-1")

    force = config.force.encode("latin-1") if config.force else None
    return Chooser(config.share, config.salt.encode() + b"\x00", key, force)
