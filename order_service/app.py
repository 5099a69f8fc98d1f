"""Composition root of order_service."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from fastapi import FastAPI

from order_service.adapters.platform import PlatformAdapter, PlatformSync, RecordingPlatformAdapter
from order_service.adapters.reads import OrderReads
from order_service.adapters.tables import anomalies, messaging, metadata
from order_service.adapters.uow import OrderUnitOfWork
from order_service.entrypoints import errors, orders, sku_mappings, webhooks
from order_service.entrypoints.consumers import consumers
from order_service.handlers import Deps
from order_service.handlers.orders import complete_due
from order_service.handlers.seed import seed_development
from order_service.handlers.webhooks import ingest_orders
from shared.anomalies import anomalies_router
from shared.batching import Batcher
from shared.clock import Clock
from shared.service import Runtime, build_runtime, create_service_app
from shared.settings import Settings

log = logging.getLogger(__name__)


async def _platform_loop(sync: PlatformSync) -> None:
    """Retries platform calls that failed or were written by requests (not consumers)."""
    while True:
        try:
            await sync.push_pending()
        except Exception as exc:  # keep the loop alive through database hiccups
            log.warning("platform sync: %s", exc)
        await asyncio.sleep(1.0)


async def _completion_loop(deps: Deps) -> None:
    while True:
        try:
            await complete_due(deps)
        except Exception as exc:
            log.warning("completion timer: %s", exc)
        await asyncio.sleep(60)


def order_deps(rt: Runtime, platform: PlatformAdapter) -> Deps:
    """The handlers' dependencies on this runtime (the intake batcher included)."""
    deps = Deps(
        uow=lambda: OrderUnitOfWork(rt),
        reads=OrderReads(rt.db),
        clock=rt.clock,
        mode=rt.settings.mode,
        interleaves=rt.db.dialect == "postgresql",
        platform=platform,
        platform_sync=PlatformSync(rt.db, platform, rt.clock),
    )
    deps.intake = Batcher(partial(ingest_orders, deps))
    return deps


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    platform: PlatformAdapter | None = None,
) -> FastAPI:
    """The order_service app; `platform` defaults to a call recorder (dev and tests)."""
    settings = settings or Settings(service="order")
    rt = build_runtime(settings, messaging, clock)
    deps = order_deps(rt, platform or RecordingPlatformAdapter())
    sync, intake = deps.platform_sync, deps.intake
    assert sync is not None and intake is not None
    app = create_service_app(
        title="order_service",
        description="Order lifecycle, platform webhooks, review, submission, CS capabilities.",
        runtime=rt,
        metadata=metadata,
        routers=[
            webhooks.router,
            orders.router,
            sku_mappings.router,
            anomalies_router(anomalies, "clerk", "ops"),
        ],
        consumers=lambda rt: consumers(deps, rt),
        on_startup=[lambda _rt: seed_development(deps)],
        on_shutdown=[lambda _rt: intake.aclose()],
        background=[lambda _rt: _platform_loop(sync), lambda _rt: _completion_loop(deps)],
    )
    app.state.deps = deps

    errors.install(app)
    return app
