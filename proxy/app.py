"""The composition root: every edge of the gateway is wired here, and can be injected.

    create_app(settings)                       # production: table from settings.config_path
    create_app(settings, table=t, client=c)    # tests: a table value, an upstream client
    create_app(settings, store=open_store(url)) # a parity store of one's own (shadow mode)

`app_from_env` is the factory uvicorn calls in each worker (`--factory`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from proxy import logs
from proxy.dispatch import Gateway, Hook
from proxy.modes.call import ModeHandler
from proxy.modes.controls import Controls
from proxy.modes.guards import Guards
from proxy.modes.recording import Recorder
from proxy.modes.shadow import ShadowMode
from proxy.operator.admin import AdminContext, create_admin
from proxy.operator.controls import control_routes, describe
from proxy.operator.history import record_flip
from proxy.operator.insight import Insight
from proxy.operator.metrics import Metrics, default_metrics
from proxy.operator.parity import parity_route
from proxy.settings import Settings
from proxy.sides import native
from proxy.sides.client import UpstreamClient
from proxy.sides.fastcgi.connection import FastCGIClient
from proxy.sides.forwarder import Forwarder
from proxy.sides.workers import NativeWorkers
from proxy.table import parser as table_module
from proxy.table.model import Mode, RouteTable
from proxy.table.reload import Reloader, ReloadResult
from proxy.table.snapshot import TableHolder, build_snapshot
from shadow.store import Store


def create_app(
    settings: Settings,
    *,
    table: RouteTable | None = None,
    client: UpstreamClient | None = None,
    fastcgi: FastCGIClient | None = None,
    native_app: ASGIApp | None = None,
    mode_handlers: Mapping[Mode, ModeHandler] | None = None,
    admin_routes: Callable[[AdminContext], Sequence[BaseRoute]] | None = None,
    store: Store | None = None,
    metrics: Metrics | None = None,
) -> Gateway:
    """The gateway, wired. Raises TableError for a bad table, AppImportError for a bad app."""
    logs.configure_once()
    if table is None:
        if settings.config_path is None:
            raise ValueError("no route table: pass table= or set settings.config_path")
        table = table_module.load(settings.config_path, settings.env)
    holder = TableHolder(build_snapshot(table))
    workers: NativeWorkers | None = None
    if native_app is None and table.native.app is not None and table.native.url is None:
        if table.native.workers:
            # the app runs in processes of its own, started by the lifespan: not imported here
            workers = NativeWorkers(
                table.native.app,
                table.native.workers,
                nice=table.native.nice,
                timeout=table.native.timeout,
                grace=settings.graceful_timeout,
                log_json=settings.log_json,
                log_level=settings.log_level,
            )
        else:
            native_app = native.load_app(table.native.app)
    running = table.native.app if native_app is not None or workers is not None else None
    reloader = Reloader(holder, settings.config_path, settings.env, native_app=running)
    context = AdminContext(holder, reloader, settings.admin_token)
    # None: the table's shadow.store, opened in the background from the lifespan; at shutdown
    # a store that hangs gets the graceful timeout, then the process goes on
    shadow = ShadowMode(store, close_deadline=settings.graceful_timeout)
    context.store_state = shadow.stores.state
    if workers is not None:
        context.native_workers = workers.status
    parity = parity_route(context, lambda: shadow.stores.reader(holder.current.table))
    extra = admin_routes(context) if admin_routes is not None else ()
    # metrics, flip history and the dashboard, reading the store shadow mode writes to
    insight = Insight(metrics, parity_store=shadow.stores.reader)
    insight.watch_shadow(shadow.experiment, shadow.stores.dropped)
    if workers is not None:
        insight.metrics.workers.status = workers.status
    reloader.listeners.append(insight.reloaded)
    # migration controls: rollbacks and their evidence live beside the parity tables
    stores = shadow.stores
    guards = Guards(
        holder,
        lambda: stores.store.engine if stores.store is not None else None,
        flips=record_flip,
        on_rollback=insight.metrics.guard_rolled_back,
        interval=settings.guard_interval,
    )
    controls = Controls(guards, shadow, insight.metrics)
    insight.guards = guards
    context.describe = describe(guards)

    def controls_reloaded(result: ReloadResult, _old: RouteTable, new: RouteTable) -> None:
        if result.changed:
            stores.follow(new)  # a table that starts keeping evidence opens its store
        guards.reloaded(result.changed, result.trigger, new)

    reloader.listeners.append(controls_reloaded)
    extra = (*extra, *control_routes(context, guards))
    admin = create_admin(context, (parity, *extra, *insight.routes(context)))
    forwarder = Forwarder(client)
    lifespan = native.Lifespan(native_app) if native_app is not None else None
    owns_client = client is None
    owns_fastcgi = fastcgi is None

    async def start() -> None:
        table = holder.current.table
        if forwarder.client is None:
            forwarder.client = UpstreamClient(
                table.legacy.pool_size, read_ahead=table.limits.buffer_response
            )
        if gateway.legacy_side.fastcgi is None:
            # opened whatever the table says: a reload may turn the legacy side to PHP-FPM
            gateway.legacy_side.fastcgi = FastCGIClient(table.limits.buffer_response)
        if workers is not None:
            assert forwarder.client is not None
            workers.on_gone = forwarder.client.forget
            try:
                await workers.start()
            except BaseException:
                await stop(native_started=False)
                raise
        if settings.watch and settings.config_path is not None:
            reloader.start(settings.reload_interval)
        if lifespan is not None:
            try:
                await lifespan.startup()
            except BaseException:
                await stop(native_started=False)  # no shutdown follows a failed startup
                raise
            gateway.native_state = lifespan.state

    async def stop(native_started: bool = True) -> None:
        if lifespan is not None and native_started:
            await lifespan.shutdown()
        if workers is not None:
            await workers.stop()
        await reloader.stop()
        await insight.stop()
        if owns_client and forwarder.client is not None:
            await forwarder.client.close()
            forwarder.client = None
        if owns_fastcgi and gateway.legacy_side.fastcgi is not None:
            await gateway.legacy_side.fastcgi.close()
            gateway.legacy_side.fastcgi = None

    startup: tuple[Hook, ...] = (start,)
    shutdown: tuple[Hook, ...] = (stop,)
    if Mode.SHADOW not in (mode_handlers or {}):  # else shadow mode was replaced whole
        startup = (start, shadow.start)
        # experiments finish (their candidates use the client) and the store is flushed first
        shutdown = (shadow.stop, stop)
    # the guards read and write the store shadow mode opened, and stop before it closes
    startup, shutdown = (*startup, guards.start), (guards.stop, *shutdown)

    async def record_startup() -> None:
        # last: shadow mode has opened its store, which the flips share (two first openings of
        # one SQLite file at once could fail one of them)
        insight.started(holder.current.table)

    startup = (*startup, record_startup)
    gateway = Gateway(
        holder,
        forwarder,
        admin,
        native_app=native_app,
        mode_handlers={
            Mode.SHADOW: shadow.handle,
            Mode.NATIVE: controls.native,
            Mode.CANARY: controls.canary,
            **(mode_handlers or {}),
        },
        on_startup=startup,
        on_shutdown=shutdown,
        metrics=insight.metrics,
    )
    gateway.legacy_side.fastcgi = fastcgi
    gateway.workers = workers
    gateway.reloader = reloader
    gateway.shadow = shadow
    gateway.guards = guards
    gateway.recorder = Recorder(shadow.keep)
    shadow.attach(gateway)
    controls.attach(gateway)
    return gateway


def edge_refused(reason: str, peer: str) -> None:
    """The client-facing server's refusal callback (proxy.edge): counted and logged once with
    the peer's address, never with the offending bytes. Module-level: with several workers the
    server's protocol class, this included, is sent to each by pickling."""
    default_metrics().refused(reason)
    logs.get_logger("proxy.edge").warning("refused", reason=reason, peer=peer)


def app_from_env() -> ASGIApp:
    """uvicorn's factory: settings from the environment, the table from STRANGLER_CONFIG."""
    settings = Settings.from_env()
    logs.configure(json=settings.log_json, level=settings.log_level)
    return create_app(settings)
