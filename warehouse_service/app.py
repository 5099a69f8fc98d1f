"""Composition root of warehouse_service: `create_app(settings, clock)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from shared.anomalies import anomalies_router
from shared.batching import Batcher
from shared.clock import Clock
from shared.service import Runtime, build_runtime, create_service_app
from shared.settings import Mode, Settings
from warehouse_service.adapters import tables
from warehouse_service.adapters.listing import ListingAdapter, ListingSync, RecordingListingAdapter
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.entrypoints import api, consumers, errors, inventory
from warehouse_service.handlers import Deps
from warehouse_service.handlers.holds import release_due_holds
from warehouse_service.handlers.inventory import seed_dev_stock
from warehouse_service.handlers.scanner import run_scans
from warehouse_service.handlers.warehouses import seed_dev_warehouses

log = logging.getLogger(__name__)
HOLD_TIMER_SECONDS = 1.0
LISTING_TIMER_SECONDS = 0.25  # how soon a stock that reached zero reaches the listing


def instance_name(settings: Settings) -> str:
    """`FULFIL_INSTANCE_ID`, else derived from the served warehouses (stable across restarts)."""
    return settings.instance_id or "wh-" + "-".join(sorted(settings.served_warehouses)).lower()


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    listing: ListingAdapter | None = None,
) -> FastAPI:
    settings = settings or Settings(service="warehouse")
    runtime = build_runtime(settings, tables.messaging, clock)
    listing_sync = ListingSync(
        runtime.db, listing or RecordingListingAdapter(), runtime.clock, outbox=runtime.outbox
    )
    deps = Deps(
        uow=lambda: WarehouseUnitOfWork(runtime.db, runtime.outbox, runtime.inbox, runtime.clock),
        clock=runtime.clock,
        instance=instance_name(settings),
        served=settings.served_warehouses,
        partitions=settings.kafka_topic_partitions,
    )
    scans = deps.scans = Batcher(partial(run_scans, deps))

    async def prepare(rt: Runtime) -> None:
        with contextlib.suppress(IntegrityError):
            async with deps.uow() as uow:
                await uow.stops.ensure_guard()
                await uow.commit()
        with contextlib.suppress(IntegrityError):  # an instance sharing the database won
            async with deps.uow() as uow:
                await uow.stop_holds.backfill_keys()  # tasks stored before shipment_keys
                await uow.commit()
        if settings.mode is Mode.development:
            await seed_dev_warehouses(deps)
            await seed_dev_stock(deps)

    async def hold_timer(rt: Runtime) -> None:
        while True:
            try:
                await release_due_holds(deps)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hold-until timer failed; retrying")
            await asyncio.sleep(HOLD_TIMER_SECONDS)

    async def listing_timer(rt: Runtime) -> None:
        while True:
            try:
                await listing_sync.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("listing sync failed; retrying")
            await asyncio.sleep(LISTING_TIMER_SECONDS)

    app = create_service_app(
        title="warehouse_service",
        description="Shipment tasks, scanner API, holds and the stop-shipment broadcast.",
        runtime=runtime,
        metadata=tables.metadata,
        routers=[api.router, inventory.router, anomalies_router(tables.anomalies, "clerk", "ops")],
        consumers=lambda rt: consumers.build(deps, rt),
        on_startup=[prepare],
        on_shutdown=[lambda _rt: scans.aclose()],
        background=[hold_timer, listing_timer],
    )
    app.state.deps = deps
    app.state.listing_sync = listing_sync
    errors.install(app)
    return app
