"""Whose forwarded headers are believed: `edge.trusted_proxies`, compiled once per table.

The gateway is the edge unless the table names the proxies in front of it. From any other peer,
X-Forwarded-* say only what a client chose to write, so they are replaced; from a trusted peer
they are believed, and the client is the first address from the right of X-Forwarded-For that
is not itself a trusted proxy (nginx's `real_ip_recursive on`, uvicorn's
`--forwarded-allow-ips`). Pure: no I/O, no clock; a peer's verdict is remembered (bounded).
"""

from __future__ import annotations

import ipaddress

from proxy.table.units import Network

_REMEMBERED = 4096  # peers whose verdict is kept; past it the memory starts over


class Trust:
    __slots__ = ("_seen", "networks")

    def __init__(self, networks: tuple[Network, ...] = ()) -> None:
        self.networks = networks
        self._seen: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        """Whether `address` (a peer, or an address in X-Forwarded-For) is a trusted proxy."""
        if not self.networks:
            return False
        known = self._seen.get(address)
        if known is None:
            known = _within(address, self.networks)
            if len(self._seen) >= _REMEMBERED:
                self._seen.clear()
            self._seen[address] = known
        return known

    def client_of(self, peer: str, forwarded_for: bytes) -> str:
        """The client behind a trusted `peer`: the rightmost X-Forwarded-For address that is not
        a trusted proxy (the leftmost when all are), or the peer when the list is empty or
        holds something that is not an address."""
        client = peer
        for item in reversed(forwarded_for.split(b",")):
            candidate = item.strip().decode("latin-1")
            if not _is_address(candidate):
                break  # a value no proxy of ours wrote: stop believing the list here
            client = candidate
            if not self.trusts(candidate):
                break
        return client


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
