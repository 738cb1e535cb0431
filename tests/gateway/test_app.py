"""The composition root and settings: wiring from the environment, lifespans, what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.app import app_from_env, create_app
from proxy.settings import Settings
from proxy.sides.native import Lifespan
from proxy.table.model import TableError
from tests.gateway.conftest import gateway_for, make_table, running, table_text


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "STRANGLER_CONFIG": "/etc/strangler/routing.yaml",
            "STRANGLER_ADMIN_TOKEN": "t",
            "STRANGLER_RELOAD_INTERVAL": "0.5",
            "STRANGLER_LOG_FORMAT": "console",
            "STRANGLER_GRACEFUL_TIMEOUT": "7",
        }
    )
    assert settings.config_path == Path("/etc/strangler/routing.yaml")
    assert (settings.admin_token, settings.reload_interval) == ("t", 0.5)
    assert (settings.log_json, settings.graceful_timeout) == (False, 7.0)
    defaults = Settings.from_env({})
    assert defaults.config_path == Path("routing.yaml")
    assert (defaults.admin_token, defaults.log_json) == (None, None)


def test_the_uvicorn_factory_reads_the_table_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(table_text("http://127.0.0.1:1"))
    monkeypatch.setenv("STRANGLER_CONFIG", str(config))
    monkeypatch.setenv("LEGACY_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("STRANGLER_LOG_FORMAT", "json")
    gateway = app_from_env()
    table = gateway.holder.current.table  # type: ignore[attr-defined]
    assert table.source == str(config)
    assert table.legacy.url == "http://127.0.0.1:2"  # LEGACY_URL wins over the file


def test_a_bad_table_file_is_refused_at_creation(tmp_path: Path) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text("version: 2\n")
    with pytest.raises(TableError):
        create_app(Settings(config_path=config, watch=False))


async def test_websockets_are_refused() -> None:
    gateway = gateway_for(make_table("http://127.0.0.1:1"))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1003}]


async def test_a_native_app_that_fails_to_start_fails_the_gateway_start() -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    gateway = gateway_for(make_table("http://127.0.0.1:1"), native_app=broken)
    lifespan = Lifespan(gateway)
    with pytest.raises(RuntimeError, match="no database"):
        await lifespan.startup()
    await lifespan.shutdown()


async def test_an_injected_upstream_client_is_used_and_left_open(upstream: Any) -> None:
    from proxy.sides.client import UpstreamClient

    injected = UpstreamClient(2)
    try:
        gateway = gateway_for(make_table(upstream.url), client=injected)
        async with running(gateway) as client:
            assert (await client.get("/x")).status_code == 200
        assert not injected.closed
        assert len(upstream.seen) == 1
    finally:
        await injected.close()
