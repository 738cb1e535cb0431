"""Process settings, read once from the environment (the route table holds everything else)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proxy.table.parser import default_config_path


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path | None = None  # None: the table is given to create_app directly
    admin_token: str | None = None  # STRANGLER_ADMIN_TOKEN; None: loopback-only admin
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    reload_interval: float = 1.0  # seconds between checks of the table file
    watch: bool = True  # watch the file and SIGHUP
    log_json: bool | None = None  # None: JSON unless stderr is a terminal
    log_level: str = "info"
    graceful_timeout: float = 30.0  # seconds in-flight requests get to finish on SIGTERM
    guard_interval: float = 1.0  # seconds between a worker's looks at the shared rollbacks
    env: Mapping[str, str] = field(default_factory=dict)  # LEGACY_URL, STRANGLER_STORE, ...

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        log_format = env.get("STRANGLER_LOG_FORMAT", "").lower()
        return cls(
            config_path=default_config_path(env),
            admin_token=env.get("STRANGLER_ADMIN_TOKEN") or None,
            host=env.get("STRANGLER_HOST", "127.0.0.1"),
            port=int(env.get("STRANGLER_PORT", "8000")),
            workers=int(env.get("STRANGLER_WORKERS", "1")),
            reload_interval=float(env.get("STRANGLER_RELOAD_INTERVAL", "1.0")),
            watch=env.get("STRANGLER_WATCH", "1") not in ("0", "false", "no"),
            log_json={"json": True, "console": False}.get(log_format),
            log_level=env.get("STRANGLER_LOG_LEVEL", "info"),
            graceful_timeout=float(env.get("STRANGLER_GRACEFUL_TIMEOUT", "30")),
            guard_interval=float(env.get("STRANGLER_GUARD_INTERVAL", "1.0")),
            env=env,
        )
