"""The parity store of a gateway process: opened in the lifespan on the table's URL, moved when a
reload names another, kept when the other cannot be opened, never created without shadow routes."""

from __future__ import annotations

from pathlib import Path

from proxy.modes.shadow import ShadowMode
from proxy.table.parser import parse
from shadow.report import build_report
from shadow.store import open_store
from tests.gateway_shadow.conftest import Legacy, Native, running, settle, shadow_gateway
from tests.gateway_shadow.conftest import table_text as text_of

QUIET = "  noise_sample: 0\n"
LEGACY_ONLY = "  - id: users.list\n    match: GET /users\n    mode: legacy\n"


def compared(url: str) -> int:
    store = open_store(url)
    try:
        return sum(r.compared for r in build_report(store.read_rows()).routes)
    finally:
        store.close()


async def test_a_reload_naming_another_store_moves_the_results_there(
    legacy: Legacy, native: Native, tmp_path: Path
) -> None:
    first, second = f"sqlite:///{tmp_path}/one.db", f"sqlite:///{tmp_path}/two.db"
    gateway = shadow_gateway(legacy.url, native, None, QUIET + f"  store: {first}\n")
    mode: ShadowMode = gateway.shadow
    async with running(gateway) as client:
        await client.get("/users")
        await settle(gateway)
        gateway.holder.swap(parse(text_of(legacy.url, QUIET + f"  store: {second}\n")))
        await client.get("/users")  # the first request on the new table starts the move
        await mode.stores.opened()
        assert mode.stores.url == second
        await client.get("/users")
        await settle(gateway)
    # the request that started the move may land in either store: none is lost
    assert compared(first) >= 1 and compared(first) + compared(second) == 3


async def test_a_store_that_cannot_be_opened_on_reload_leaves_the_one_in_use(
    legacy: Legacy, native: Native, tmp_path: Path
) -> None:
    first = f"sqlite:///{tmp_path}/one.db"
    unreachable = "mysql+pymysql://root@127.0.0.1:1/parity"
    gateway = shadow_gateway(legacy.url, native, None, QUIET + f"  store: {first}\n")
    mode: ShadowMode = gateway.shadow
    async with running(gateway) as client:
        gateway.holder.swap(parse(text_of(legacy.url, QUIET + f"  store: {unreachable}\n")))
        await client.get("/users")
        await mode.stores.opened()
        assert mode.stores.url == first
        assert (await client.get("/users")).status_code == 200
        await settle(gateway)
    assert compared(first) == 2


async def test_a_gateway_without_shadow_routes_creates_no_store(
    legacy: Legacy, native: Native, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/never.db"
    gateway = shadow_gateway(legacy.url, native, None, f"  store: {url}\n", LEGACY_ONLY)
    async with running(gateway) as client:
        assert (await client.get("/users")).status_code == 200
    assert not (tmp_path / "never.db").exists()
