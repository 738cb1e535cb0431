"""Canary cohorts: a share of sticky cohorts to native, hashed against the share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.modes.cohort import bucket_of, chooser
from proxy.sides.headers import ClientView
from proxy.table.model import CanaryConfig, Cohort, CohortKind, Side


def view(client: str, *, peer: str = "", trusted: bool = False) -> ClientView:
    """As dispatch reads a request: `client` the client's address, `peer` the socket's when a
    trusted proxy stands between."""
    return ClientView("x", "http", client, "rid", False, trusted=trusted, peer_ip=peer)


BY_HEADER = Cohort(CohortKind.HEADER, "authorization")


def pick(share: float, key: str | None, salt: str = "s", peer: str = "203.0.113.9") -> Side:
    headers = [] if key is None else [(b"authorization", key.encode())]
    return chooser(CanaryConfig(share, BY_HEADER, salt=salt)).side(headers, view(peer))


@pytest.mark.parametrize("share", [0.05, 0.1, 0.25, 0.5, 0.9], ids=lambda s: f"share-{s}")
@pytest.mark.parametrize("salt", ["strangler", "another-table"])
def test_the_native_share_of_2000_cohorts_is_within_3_percent(share: float, salt: str) -> None:
    native = sum(pick(share, f"Bearer user-{i}", salt) is Side.NATIVE for i in range(2000))
    assert abs(native / 2000 - share) <= 0.03


@given(key=st.text(min_size=1, max_size=64), share=st.floats(0, 1), salt=st.text(min_size=1))
def test_a_cohort_gets_the_same_side_over_20_requests(key: str, share: float, salt: str) -> None:
    sides = {pick(share, key, salt) for _ in range(20)}
    assert len(sides) == 1


@given(
    key=st.text(min_size=1, max_size=64),
    shares=st.lists(st.floats(0, 1), min_size=2, max_size=6).map(sorted),
)
def test_raising_the_share_never_moves_a_cohort_back_to_legacy(
    key: str, shares: list[float]
) -> None:
    sides = [pick(share, key) for share in shares]
    first_native = next((i for i, s in enumerate(sides) if s is Side.NATIVE), len(sides))
    assert all(s is Side.NATIVE for s in sides[first_native:])


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("key", [None, ""], ids=["absent", "empty"])
def test_a_request_without_a_cohort_key_goes_to_legacy(share: float, key: str | None) -> None:
    assert pick(share, key) is Side.LEGACY


def test_share_one_sends_every_keyed_cohort_to_native() -> None:
    assert all(pick(1.0, f"k{i}") is Side.NATIVE for i in range(500))


def test_the_salt_reshuffles_cohorts() -> None:
    a = [pick(0.5, f"k{i}", "one") for i in range(200)]
    b = [pick(0.5, f"k{i}", "two") for i in range(200)]
    assert a != b


def test_buckets_lie_in_the_unit_interval() -> None:
    assert all(0.0 <= bucket_of("s", str(i).encode()) < 1.0 for i in range(1000))


def test_a_cookie_cohort_reads_its_own_cookie_among_others() -> None:
    config = CanaryConfig(0.5, Cohort(CohortKind.COOKIE, "sid"))
    choose = chooser(config).side
    headers = [(b"cookie", b"theme=dark; sid=abc123; lang=en")]
    native = [
        i
        for i in range(200)
        if choose([(b"cookie", f"sid=u{i}".encode())], view("203.0.113.1")).value == "native"
    ]
    assert native  # some cohorts are native at 0.5
    x = view("203.0.113.1")
    assert choose(headers, x) is choose([(b"cookie", b"sid=abc123")], x)
    assert choose([(b"cookie", b"sidx=abc123")], x) is Side.LEGACY


def test_a_client_ip_cohort_is_the_clients_address_even_behind_a_trusted_proxy() -> None:
    choose = chooser(CanaryConfig(0.5, Cohort(CohortKind.CLIENT_IP))).side
    for i in range(50):
        client = f"198.51.100.{i}"
        direct = choose([], view(client))
        assert choose([], view(client, peer="10.0.0.1", trusted=True)) is direct


FORCE = CanaryConfig(0.0, BY_HEADER, force="x-strangler-side")


@pytest.mark.parametrize(
    ("seen", "value", "side"),
    [
        (view("127.0.0.1"), b"native", Side.NATIVE),
        (view("::1"), b"Native", Side.NATIVE),
        (view("203.0.113.9", peer="10.0.0.5", trusted=True), b"native", Side.NATIVE),
        (view("203.0.113.9"), b"native", Side.LEGACY),
        (view("127.0.0.1", peer="203.0.113.9"), b"native", Side.LEGACY),
        (view("127.0.0.1"), b"sideways", Side.LEGACY),
    ],
    ids=["loopback", "loopback-v6", "trusted-proxy", "stranger", "forged-loopback", "nonsense"],
)
def test_only_a_trusted_peer_may_force_its_side(seen: ClientView, value: bytes, side: Side) -> None:
    assert chooser(FORCE).side([(b"x-strangler-side", value)], seen) is side


def test_a_trusted_peer_may_force_legacy_on_a_full_share() -> None:
    config = CanaryConfig(1.0, BY_HEADER, force="x-strangler-side")
    headers = [(b"authorization", b"k"), (b"x-strangler-side", b"legacy")]
    assert chooser(config).side(headers, view("127.0.0.1")) is Side.LEGACY
