"""proxy.table.trust: which peers' forwarded headers are believed, and who the client is."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from proxy.table import TableError, parse
from proxy.table.trust import Trust

TRUST = Trust((ip_network("10.0.0.0/8"), ip_network("::1/128"), ip_network("127.0.0.1/32")))


@pytest.mark.parametrize(
    ("address", "trusted"),
    [
        ("10.1.2.3", True),
        ("11.1.2.3", False),
        ("::1", True),
        ("::ffff:10.0.0.5", True),  # an IPv4 peer on a dual-stack socket
        ("127.0.0.1", True),
        ("127.0.0.2", False),
        ("not-an-ip", False),
        ("", False),
    ],
)
def test_peers_are_trusted_by_network(address: str, trusted: bool) -> None:
    assert TRUST.trusts(address) is trusted


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        (b"198.51.100.7", "198.51.100.7"),
        (b"198.51.100.7, 10.0.0.2", "198.51.100.7"),  # skips the trusted hops
        (b"203.0.113.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"),  # stops at the first untrusted
        (b"10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all trusted: the leftmost
        (b"", "10.0.0.1"),
        (b"unknown, 10.0.0.2", "10.0.0.2"),  # garbage ends the chain
        (b"198.51.100.7,garbage", "10.0.0.1"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_address(forwarded_for: bytes, client: str) -> None:
    assert TRUST.client_of("10.0.0.1", forwarded_for) == client


def test_an_empty_list_trusts_no_one() -> None:
    assert not Trust()
    assert Trust().trusts("127.0.0.1") is False


def test_the_table_reads_trusted_proxies() -> None:
    table = parse(
        "version: 1\nlegacy: {url: 'http://127.0.0.1:1'}\n"
        "edge: {trusted_proxies: [10.0.0.0/8, '::1', 127.0.0.1]}\nroutes: []\n"
    )
    assert [str(n) for n in table.edge.trusted_proxies] == ["10.0.0.0/8", "::1/128", "127.0.0.1/32"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[10.0.0.0/33]", "'10.0.0.0/33' is not an IP address or CIDR block"),
        ("[proxy.local]", "'proxy.local' is not an IP address or CIDR block"),
        ("10.0.0.1", "expected a list of addresses or CIDR blocks"),
    ],
)
def test_a_bad_trusted_proxy_is_refused_with_its_line(value: str, reason: str) -> None:
    text = (
        "version: 1\nlegacy: {url: 'http://127.0.0.1:1'}\n"
        f"edge:\n  trusted_proxies: {value}\nroutes: []\n"
    )
    with pytest.raises(TableError) as caught:
        parse(text)
    (problem,) = caught.value.problems
    assert problem.line == 4
    assert reason in problem.reason
