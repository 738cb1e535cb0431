"""Hot reload: file changes and SIGHUP, bad tables keep the running one, the history."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from proxy.settings import Settings
from proxy.table.parser import load, parse
from proxy.table.reload import Reloader, rules_changed, workers_changed
from proxy.table.snapshot import ConfigState, TableHolder, build_snapshot
from tests.gateway.conftest import FakeUpstream, gateway_for, running, table_text

ROUTES = "  - id: r\n    match: GET /r\n    mode: legacy\n"


async def wait_for(predicate: Any) -> None:
    # the watcher polls a file: there is no event to wait on, so poll too, with a deadline
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_changed_file_is_picked_up_and_a_bad_one_is_not(
    upstream: FakeUpstream, tmp_path: Path, log_lines: Any
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(table_text(upstream.url, ROUTES))
    settings = Settings(config_path=path, reload_interval=0.05)
    gateway = gateway_for(load(path), settings=settings)
    holder = gateway.holder
    async with running(gateway):
        path.write_text(table_text(upstream.url, ROUTES.replace("/r", "/s")))
        await wait_for(lambda: holder.current.table.routes[0].template.source == "/s")
        good = holder.current.table.digest
        path.write_text(table_text(upstream.url, ROUTES.replace("id: r", "id: [")))
        await wait_for(lambda: len(gateway.reloader.history) == 2)
        assert holder.current.table.digest == good
    history = list(gateway.reloader.history)
    assert [(h.trigger, h.ok, h.changed) for h in history] == [
        ("file", True, True),
        ("file", False, False),
    ]
    assert history[1].problems[0].startswith(f"{path}:")
    assert history[1].in_force == good
    rejected = [line for line in log_lines() if line["event"] == "reload_rejected"]
    assert rejected and str(path) in rejected[0]["problems"][0]


async def test_an_edit_that_keeps_size_and_mtime_is_noticed(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    """`cp -p` and `rsync -t` copy a table with its old mtime; same size, new content."""
    path = tmp_path / "routing.yaml"
    path.write_text(table_text(upstream.url, ROUTES))
    stat = path.stat()
    settings = Settings(config_path=path, reload_interval=0.05)
    gateway = gateway_for(load(path), settings=settings)
    async with running(gateway):
        await asyncio.sleep(0.15)  # the watcher has read the file as it was
        path.write_text(table_text(upstream.url, ROUTES.replace("/r", "/q")))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        await wait_for(lambda: gateway.holder.current.table.routes[0].template.source == "/q")
    assert [h.trigger for h in gateway.reloader.history] == ["file"]


async def test_sighup_reloads(upstream: FakeUpstream, tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(table_text(upstream.url, ROUTES))
    # a long poll interval: only the signal can explain the reload
    gateway = gateway_for(load(path), settings=Settings(config_path=path, reload_interval=60))
    async with running(gateway):
        path.write_text(table_text(upstream.url, ROUTES.replace("/r", "/t")))
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_for(lambda: len(gateway.reloader.history) == 1)
    assert gateway.reloader.history[0].trigger == "sighup"
    assert gateway.holder.current.table.routes[0].template.source == "/t"


async def test_an_unreadable_file_keeps_the_table(tmp_path: Path) -> None:
    table = parse(table_text("http://127.0.0.1:1", ROUTES))
    holder = TableHolder(build_snapshot(table))
    reloader = Reloader(holder, tmp_path / "missing.yaml", {})
    result = await reloader.reload("admin")
    assert not result.ok
    assert "cannot read the file" in result.problems[0]
    assert holder.current.table is table


async def test_the_same_text_is_not_swapped_again(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(table_text("http://127.0.0.1:1", ROUTES))
    holder = TableHolder(build_snapshot(load(path)))
    result = await Reloader(holder, path, {}).reload("admin")
    assert (result.ok, result.changed, holder.current.generation) == (True, False, 1)


def native_table(app: str) -> str:
    return table_text("http://127.0.0.1:1", ROUTES, native=f"  app: {app}\n")


async def test_a_native_app_that_cannot_be_imported_is_rejected_at_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(native_table("handlers.app:app"))
    holder = TableHolder(build_snapshot(load(path)))
    reloader = Reloader(holder, path, {}, native_app="handlers.app:app")
    in_force = holder.current.table
    path.write_text(native_table("handlers.no_such_module:app"))
    result = await reloader.reload("admin")
    assert (result.ok, holder.current.table) == (False, in_force)
    assert result.problems == (
        f"{path}:6: native.app: no module named 'handlers.no_such_module' "
        "(from 'handlers.no_such_module:app')",
    )


async def test_another_importable_native_app_is_taken_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(native_table("handlers.app:app"))
    holder = TableHolder(build_snapshot(load(path)))
    reloader = Reloader(holder, path, {}, native_app="handlers.app:app")
    path.write_text(native_table("tests.e2e.faulty:app"))
    result = await reloader.reload("admin")
    assert (result.ok, result.changed) == (True, True)
    assert result.problems == (
        "native.app is 'tests.e2e.faulty:app' but this gateway runs 'handlers.app:app' until "
        "it restarts",
    )


async def test_a_native_app_the_gateway_does_not_run_waits_for_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(table_text("http://127.0.0.1:1", ROUTES))
    holder = TableHolder(build_snapshot(load(path)))
    path.write_text(native_table("handlers.app:app"))
    result = await Reloader(holder, path, {}, native_app=None).reload("file")
    assert not result.ok
    assert result.problems == (
        f"{path}:6: native.app: this gateway runs no in-process app (it started without "
        "native.app); restart it to load 'handlers.app:app'",
    )


async def test_the_config_state_says_a_refused_file_until_it_is_put_back_or_fixed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "routing.yaml"
    good = table_text("http://127.0.0.1:1", ROUTES)
    path.write_text(good)
    clock = iter(range(100, 200)).__next__
    holder = TableHolder(build_snapshot(load(path)))
    reloader = Reloader(holder, path, {}, clock=lambda: float(clock()))
    digest = holder.current.table.digest
    assert reloader.config_state() == ConfigState(str(path), digest, 100.0)
    path.write_text(good.replace("mode: legacy", "mode: nativ"))
    await reloader.reload("file")
    refused = reloader.config_state()
    assert (refused.in_force, refused.digest, refused.loaded_at) == (False, digest, 100.0)
    assert (refused.rejected_at, refused.rejected_trigger) == (101.0, "file")
    assert "unknown mode 'nativ'" in refused.problems[0]
    path.write_text(good)  # put back: the table in force, unchanged
    await reloader.reload("file")
    assert reloader.config_state() == ConfigState(str(path), digest, 100.0)
    path.unlink()
    await reloader.reload("admin")
    assert reloader.config_state().problems[0].startswith(f"{path}:0: cannot read the file")
    path.write_text(good.replace("/r", "/s"))  # fixed: another table, now in force
    await reloader.reload("admin")
    fixed = reloader.config_state()
    assert (fixed.in_force, fixed.loaded_at) == (True, 104.0)
    assert fixed.digest == holder.current.table.digest != digest


def test_a_change_of_comparison_rules_says_which_and_offers_a_reset() -> None:
    route = "  - id: users.list\n    match: GET /users\n    mode: shadow\n"

    def table(shadow: str) -> Any:
        native = "  url: http://127.0.0.1:10\n"
        text = table_text("http://127.0.0.1:9", route, native=native, extra=f"shadow:\n{shadow}")
        return parse(text)

    old = table("  ignore: []\n")
    (line,) = rules_changed(old, table("  ignore: [body.at]\n  sample: 0.5\n"))
    assert "route 'users.list': comparison rules changed (ignore)" in line
    assert "strangler reset users.list" in line
    assert rules_changed(old, table("  sample: 0.5\n")) == ()  # sampling compares the same way


def test_a_change_of_native_workers_says_it_waits_for_a_restart() -> None:
    def table(native: str) -> Any:
        return parse(table_text("http://127.0.0.1:9", native=native))

    running = table("  app: handlers.app:app\n  workers: 2\n")
    (line,) = workers_changed(running, table("  app: handlers.app:app\n  workers: 4\n"))
    assert "take effect when the gateway restarts" in line and "2 worker(s) at nice 10" in line
    assert workers_changed(running, table("  app: handlers.app:app\n  workers: 2\n  nice: 3\n"))
    assert workers_changed(running, table("  app: handlers.app:app\n  workers: 2\n  timeout: 3s\n"))
    in_process = table("  app: handlers.app:app\n")
    assert workers_changed(in_process, table("  app: handlers.app:app\n  timeout: 3s\n")) == ()
