"""legacy/deploy/run-fpm.sh under more concurrent clients than php-fpm has workers: nginx may
keep no more connections to php-fpm than there are workers to own them (each worker stays on
its connection, fastcgi_keep_conn), or requests sent on the rest wait for a worker that never
comes. Found by a replay at concurrency 16 against 8 workers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.legacy.test_deploy import docroot, run_fpm

__all__ = ["docroot"]


async def test_more_clients_than_workers_are_all_answered(tmp_path: Path, docroot: Path) -> None:
    with run_fpm(tmp_path / "work", docroot) as base:  # two workers
        limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
        room = asyncio.Semaphore(6)  # a steady flow, three clients a worker

        async def one(client: httpx.AsyncClient, i: int) -> int:
            async with room:
                return (await client.get(f"/r{i}")).status_code

        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0) as client:
            answers = await asyncio.gather(*(one(client, i) for i in range(300)))
        assert answers == [200] * 300
