"""Flip history: the pure diff of two tables, the store shared by several gateways, the recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.operator.history import Change, FlipRecorder, FlipStore, diff_modes, diff_tables
from proxy.table.model import RouteTable
from proxy.table.parser import parse
from tests.shadow.conftest import store_at


def table(store: str, **modes: str) -> RouteTable:
    routes = "".join(
        f"  - {{id: {route}, match: GET /{route}, mode: {mode}}}\n" for route, mode in modes.items()
    )
    return parse(
        "version: 1\nlegacy:\n  url: http://127.0.0.1:1\nnative:\n  app: handlers.app:app\n"
        f"shadow:\n  store: {store}\nroutes:\n{routes}"
    )


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        ({"a": "legacy"}, {"a": "legacy"}, ()),
        ({"a": "shadow"}, {"a": "native"}, (Change("a", "shadow", "native"),)),
        ({}, {"a": "legacy"}, (Change("a", None, "legacy"),)),
        ({"a": "legacy", "b": "native"}, {"b": "native"}, (Change("a", "legacy", None),)),
        (
            {"b": "legacy", "a": "legacy"},
            {"a": "shadow", "c": "native", "b": "shadow"},
            (
                Change("a", "legacy", "shadow"),
                Change("c", None, "native"),
                Change("b", "legacy", "shadow"),
            ),
        ),
        ({"gone": None}, {"gone": "legacy"}, (Change("gone", None, "legacy"),)),
    ],
    ids=["same", "flip", "added", "removed", "table_order", "removed_then_back"],
)
def test_diff_modes(
    before: dict[str, str | None], after: dict[str, str], changes: tuple[Change, ...]
) -> None:
    assert diff_modes(before, after) == changes


def test_diff_tables_sees_only_modes() -> None:
    old = table("sqlite://", a="legacy", b="shadow")
    new = table("sqlite:///elsewhere.db", a="legacy", b="native")
    assert diff_tables(old, new) == (Change("b", "shadow", "native"),)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/parity.db"


def test_flips_are_numbered_per_route_and_read_newest_first(url: str) -> None:
    store = FlipStore.open(url)
    store.record([Change("a", None, "shadow")], 100.0, "startup", "d1")
    store.record(
        [Change("a", "shadow", "native"), Change("b", None, "legacy")], 200.0, "file", "d2"
    )
    flips = store.read()
    assert [(f.route, f.seq, f.at, f.text, f.trigger) for f in flips] == [
        ("a", 2, 200.0, "shadow → native", "file"),
        ("b", 1, 200.0, "(none) → legacy", "file"),
        ("a", 1, 100.0, "(none) → shadow", "startup"),
    ]
    assert [f.seq for f in store.read(route="a", limit=1)] == [2]
    assert store.latest_modes() == {"a": "native", "b": "legacy"}
    store.close()


def test_the_same_flip_from_a_second_gateway_is_written_once(url: str) -> None:
    first, second = FlipStore.open(url), FlipStore.open(url)
    change = [Change("a", "shadow", "native")]
    assert len(first.record(change, 100.0, "file", "d2")) == 1
    assert second.record(change, 100.2, "file", "d2") == []
    # flipping back and forth later is a new flip each time, even to a table seen before
    assert len(second.record([Change("a", "native", "shadow")], 300.0, "admin", "d1")) == 1
    assert len(first.record(change, 400.0, "sighup", "d2")) == 1
    assert [f.seq for f in first.read(route="a")] == [3, 2, 1]
    first.close()
    second.close()


async def test_the_recorder_writes_startup_and_reload_flips(url: str) -> None:
    times = iter([50.0, 70.0, 80.0])
    recorder = FlipRecorder(clock=lambda: next(times))
    start = table(url, a="shadow", b="legacy")
    recorder.started(start)
    await recorder.drain()
    flipped = table(url, a="native", b="legacy")
    recorder.reloaded("sighup", 60.0, start, flipped)
    await recorder.drain()
    # a restart records what changed while no gateway ran, and a second one nothing more
    back = table(url, a="shadow", b="legacy")
    recorder.started(back)
    await recorder.drain()
    recorder.started(back)
    await recorder.drain()
    flips = recorder.store_for(back).read()
    assert [(f.route, f.text, f.trigger, f.at) for f in flips] == [
        ("a", "native → shadow", "startup", 70.0),
        ("a", "shadow → native", "sighup", 60.0),
        ("a", "(none) → shadow", "startup", 50.0),
        ("b", "(none) → legacy", "startup", 50.0),
    ]
    await recorder.stop()


async def test_an_all_legacy_gateway_creates_no_database(tmp_path: Path) -> None:
    recorder = FlipRecorder()
    recorder.started(table(f"sqlite:///{tmp_path}/parity.db", a="legacy"))
    await recorder.drain()
    assert not (tmp_path / "parity.db").exists()


async def test_a_failing_store_is_counted_and_never_raised(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    recorder = FlipRecorder()
    recorder.started(table(f"sqlite:///{tmp_path}/file/parity.db", a="shadow"))
    await recorder.drain()
    assert recorder.failures == 1


@pytest.mark.parametrize("kind", ["sqlite", "mariadb", "postgresql"])
def test_flips_on_every_database_the_parity_store_runs_on(kind: str, tmp_path: Path) -> None:
    with store_at(kind, tmp_path) as url:
        first, second = FlipStore.open(url), FlipStore.open(url)  # the table created twice
        try:
            first.record([Change("Users.List", None, "shadow")], 1.0, "startup", "d1")
            first.record([Change("users.list", None, "legacy")], 1.0, "startup", "d1")
            assert second.record([Change("users.list", None, "legacy")], 2.0, "file", "d1") == []
            second.record([Change("users.list", "legacy", "shadow")], 3.0, "sighup", "d2")
            # route ids are case-sensitive, whatever the server's default collation
            assert first.latest_modes() == {"Users.List": "shadow", "users.list": "shadow"}
            assert [f.trigger for f in first.read(route="users.list")] == ["sighup", "startup"]
        finally:
            first.close()
            second.close()
