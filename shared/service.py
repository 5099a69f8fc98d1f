"""The composition root every service uses: database, bus, outbox relay, consumers, API.

One process is a complete unit (API + consumers + relay) and can be started
several times for scale-out; only the holder of the relay lease publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, FastAPI
from sqlalchemy import MetaData

from shared.bus import Bus, EventConsumer
from shared.clock import Clock
from shared.db import Database
from shared.errors import install_error_handlers
from shared.inbox import Inbox
from shared.limits import RequestLimits
from shared.messaging import MessagingTables
from shared.migrations import prepare_schema
from shared.observability import LatencyMiddleware
from shared.observability import router as ops_router
from shared.openapi import install_openapi
from shared.outbox import Outbox, OutboxRelay
from shared.parked import router as parked_router
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a service's handlers and consumers are wired with."""

    settings: Settings
    db: Database
    bus: Bus
    outbox: Outbox
    inbox: Inbox
    relay: OutboxRelay
    clock: Clock
    instance_id: str
    consumers: list[EventConsumer] = field(default_factory=list)


def build_runtime(
    settings: Settings, tables: MessagingTables, clock: Clock | None = None
) -> Runtime:
    instance_id = settings.instance_id or f"{settings.service}-{uuid4().hex[:8]}"
    db = Database(settings.database_url)
    bus = Bus(settings)
    outbox = Outbox(tables, settings.topic)
    relay = OutboxRelay(
        db,
        outbox,
        bus,
        name=f"{settings.service}-relay",
        owner=instance_id,
        batch=settings.relay_batch,
        idle_seconds=settings.relay_idle_ms / 1000,
        send_timeout=settings.relay_send_timeout_ms / 1000,
        stale_seconds=settings.relay_stale_seconds,
    )
    return Runtime(settings, db, bus, outbox, Inbox(tables), relay, clock or Clock(), instance_id)


Task = Callable[[Runtime], Coroutine[Any, Any, None]]  # an async function of the runtime


def create_service_app(
    *,
    title: str,
    runtime: Runtime,
    metadata: MetaData,
    routers: Sequence[APIRouter],
    consumers: Callable[[Runtime], list[EventConsumer]] = lambda rt: [],
    on_startup: Sequence[Task] = (),
    background: Sequence[Task] = (),
    on_shutdown: Sequence[Task] = (),
    description: str = "",
) -> FastAPI:
    """A FastAPI app whose lifespan runs the relay, consumers and background loops;
    `on_shutdown` hooks run after those stop, before the database is disposed."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await prepare_schema(runtime.db, runtime.settings, metadata)
        for hook in on_startup:
            await hook(runtime)
        runtime.consumers = consumers(runtime)
        coros: list[Coroutine[Any, Any, None]] = [runtime.bus.run(), runtime.relay.run()]
        coros += [c.run() for c in runtime.consumers]
        coros += [task(runtime) for task in background]
        tasks = [asyncio.create_task(c) for c in coros]
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for hook in on_shutdown:
                await hook(runtime)
            await runtime.bus.stop()
            await runtime.db.dispose()

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.state.settings = runtime.settings
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_bytes=runtime.settings.api_max_bytes)
    install_openapi(app)
    app.add_middleware(LatencyMiddleware, service=runtime.settings.service)
    # The routers' routes go straight into the app's route table (the routers use no
    # include-time prefix or dependencies). With `include_router`, each router is matched
    # twice per request, once to pick it and once to pick its route (FastAPI 0.16x), which
    # was a tenth of a capabilities read.
    app.router.routes.extend(
        route for r in (ops_router, parked_router, *routers) for route in r.routes
    )
    return app
