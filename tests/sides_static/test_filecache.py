"""The file cache: small files kept in memory, bounded in entries and bytes (least recently used
out first), and used only while the file on disk is the one that was read."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.sides.filecache import Descriptor, FileCache, Loaded, open_file
from proxy.sides.static import StaticRules
from tests.sides_static.harness import MTIME, etag_of, fetch, put


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the static side opens from now on."""
    opened: list[str] = []
    real: Callable[..., int] = os.open

    def counting(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fsdecode(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    return opened


async def test_a_cached_file_is_served_without_opening_it_again(
    tmp_path: Path, opens: list[str]
) -> None:
    file = put(tmp_path / "a.css", b"body{}")
    cache = FileCache(10, 1 << 20)
    first = await fetch(file, cache=cache)
    second = await fetch(file, cache=cache)
    assert first.body == second.body == b"body{}"
    assert second.header("etag") == first.header("etag")
    assert opens == [str(file)]
    assert (len(cache), cache.bytes) == (1, 6)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("rewrite", id="new-content-new-mtime"),
        pytest.param("same-size-same-mtime", id="mtime-put-back-after-write"),
        pytest.param("replace", id="renamed-over-same-size-and-mtime"),
    ],
)
async def test_a_changed_file_is_read_again(tmp_path: Path, opens: list[str], change: str) -> None:
    file = put(tmp_path / "a.txt", b"old!")
    cache = FileCache(10, 1 << 20)
    await fetch(file, cache=cache)
    if change == "rewrite":
        put(file, b"new content", MTIME + 5)
    elif change == "same-size-same-mtime":
        rewrite_until_ctime_moves(file, b"new!")
    else:
        put(tmp_path / "next.txt", b"new!")
        os.replace(tmp_path / "next.txt", file)
    answer = await fetch(file, cache=cache)
    assert answer.body != b"old!"
    assert answer.header("content-length") == str(len(answer.body))
    assert len(opens) == 2
    assert len(cache) == 1


def rewrite_until_ctime_moves(file: Path, content: bytes) -> None:
    """Rewrite `file` keeping its size and mtime; the kernel stamps ctime from a coarse clock,
    so a rewrite in the same tick as the last change can leave it as it was: write again."""
    before = os.stat(file).st_ctime_ns
    while True:
        put(file, content)
        if os.stat(file).st_ctime_ns != before:
            return
        time.sleep(0.001)


async def test_files_over_the_small_file_bound_are_not_cached(
    tmp_path: Path, opens: list[str]
) -> None:
    file = put(tmp_path / "big.bin", b"x" * 2048)
    rules = StaticRules.build(small_file=1024)
    cache = rules.new_cache()
    for _ in range(2):
        answer = await fetch(file, rules=rules, cache=cache)
        assert answer.body == b"x" * 2048
    assert len(opens) == 2
    assert len(cache) == 0


def test_entries_are_bounded_least_recently_used_out_first(tmp_path: Path) -> None:
    cache = FileCache(max_entries=2, max_bytes=1 << 20)
    files = {name: put(tmp_path / name, name.encode()) for name in ("a", "b", "c")}

    def load(name: str) -> None:
        open_file(str(files[name]), os.stat(files[name]), 1024, cache).close()

    load("a")
    load("b")
    load("a")  # a is now the most recently used
    load("c")  # b goes
    assert cache.get(str(files["b"]), os.stat(files["b"])) is None
    assert cache.get(str(files["a"]), os.stat(files["a"])) is not None
    assert cache.get(str(files["c"]), os.stat(files["c"])) is not None


def test_bytes_are_bounded_and_a_file_over_the_bound_is_never_kept(tmp_path: Path) -> None:
    cache = FileCache(max_entries=100, max_bytes=10)
    first = put(tmp_path / "first", b"123456")
    second = put(tmp_path / "second", b"7890ab")
    huge = put(tmp_path / "huge", b"x" * 11)
    for file in (first, second, huge):
        open_file(str(file), os.stat(file), 1024, cache).close()
    assert cache.bytes <= 10
    assert cache.get(str(first), os.stat(first)) is None  # pushed out by second
    assert cache.get(str(second), os.stat(second)) is not None
    assert cache.get(str(huge), os.stat(huge)) is None


async def test_serving_without_a_cache_reads_every_time(tmp_path: Path, opens: list[str]) -> None:
    file = put(tmp_path / "a.txt", b"abc")
    for _ in range(2):
        assert (await fetch(file)).body == b"abc"
    assert len(opens) == 2


def test_headers_describe_the_file_opened_not_a_stale_stat(tmp_path: Path) -> None:
    file = put(tmp_path / "a.txt", b"old")
    stale = os.stat(file)
    put(file, b"newer!", MTIME + 1)
    opened = open_file(str(file), stale, 1024, None)
    assert isinstance(opened, Loaded)
    assert opened.body == b"newer!"
    assert opened.meta.etag == etag_of(6, MTIME + 1).encode()


def test_a_large_file_is_opened_for_streaming_and_described_by_its_descriptor(
    tmp_path: Path,
) -> None:
    file = put(tmp_path / "big.bin", b"x" * 2048)
    opened = open_file(str(file), os.stat(file), 1024, FileCache(10, 1 << 20))
    try:
        assert isinstance(opened, Descriptor)
        assert os.fstat(opened.fd).st_size == opened.meta.size == 2048
    finally:
        opened.close()


def test_a_path_that_is_no_longer_a_regular_file_is_not_found(tmp_path: Path) -> None:
    file = put(tmp_path / "a.txt", b"x")
    stat = os.stat(file)
    file.unlink()
    os.mkfifo(file)  # opened without blocking, then refused
    with pytest.raises(FileNotFoundError):
        open_file(str(file), stat, 1024, None)
