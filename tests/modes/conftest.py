"""Fixtures of the migration-control tests: the fake legacy application, a native app that
fails as a test says (every Nth request, by hanging, by raising), and the real gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from proxy.app import create_app
from proxy.dispatch import Gateway
from proxy.operator.metrics import Metrics
from proxy.settings import Settings
from proxy.table.parser import parse
from shadow.store import Store
from tests.gateway.conftest import log_lines
from tests.gateway_shadow.conftest import Legacy, events, legacy, quiet_logs, running, settle, store

__all__ = ["Legacy", "events", "legacy", "log_lines", "quiet_logs", "running", "settle", "store"]


@dataclass
class Faulty:
    """The native side: 200 {"side": "native"}, or fails as `fault` says: 500 (every
    `every`-th request), hang, raise."""

    fault: str = ""  # "", 500, hang, raise
    every: int = 1
    calls: list[str] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body", False):
            pass
        self.calls.append(f"{scope['method']} {scope['path']}")
        failing = self.fault and len(self.calls) % self.every == 0
        if failing and self.fault == "hang":
            await self.released.wait()
        if failing and self.fault == "raise":
            raise RuntimeError("the native handler broke")
        status = 500 if failing and self.fault == "500" else 200
        body = json.dumps({"side": "native", "status": status}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def native() -> Iterator[Faulty]:
    app = Faulty()
    yield app
    app.released.set()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def table(legacy_url: str, routes: str, extra: str = "", native_timeout: str = "5s") -> str:
    return (
        f"version: 1\nlegacy:\n  url: {legacy_url}\n  timeout: 5s\n"
        f"native:\n  app: tests.modes.conftest:unused\n  timeout: {native_timeout}\n"
        f"shadow:\n  max_in_process: 16\n  in_process_share: 1\n{extra}routes:\n{routes}"
    )


def gateway(
    text: str, native: Any, store: Store, metrics: Metrics, config: Path | None = None
) -> Gateway:
    settings = Settings(watch=False, config_path=config, guard_interval=3600)
    if config is not None:
        config.write_text(text)
    return create_app(
        settings, table=parse(text, str(config or "routing.yaml")), native_app=native,
        store=store, metrics=metrics,
    )  # fmt: skip


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels) if metrics.registry else None
    return value or 0.0
