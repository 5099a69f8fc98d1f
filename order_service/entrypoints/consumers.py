"""Kafka consumer: warehouse and after-sales events → order handlers, then platform calls."""

from __future__ import annotations

from order_service.adapters.uow import OrderUnitOfWork
from order_service.handlers import Deps
from order_service.handlers.common import retry_on_conflict
from order_service.handlers.events import (
    REFUND_REQUESTED,
    on_aftersales_event,
    on_refund_requested,
    on_shipments_held,
    on_shipments_released,
    on_stock_levels,
    on_warehouse_event,
)
from order_service.handlers.replacements import REPLACEMENT_REQUESTED, on_replacement_requested
from shared import topics
from shared.bus import EventConsumer
from shared.envelope import Envelope
from shared.service import Runtime
from shared.unit_of_work import idempotent

CONSUMER = "order-service"


async def dispatch(uow: OrderUnitOfWork, env: Envelope) -> None:
    """One consumed event to its handler, inside the consumer's unit of work."""
    if env.type == "shipments.held":
        await on_shipments_held(uow, env)  # a stop's holds, batched
    elif env.type == "shipments.released":
        await on_shipments_released(uow, env)  # a lifted stop's releases, batched
    elif env.type == "stock.levels":
        await on_stock_levels(uow, env)  # the stock auto-review reads
    elif env.type.startswith(("shipment.", "warehouse.")):
        await on_warehouse_event(uow, env)
    elif env.type == REFUND_REQUESTED:
        await on_refund_requested(uow, env)  # after-sales asks for the refund path
    elif env.type == REPLACEMENT_REQUESTED:
        await on_replacement_requested(uow, env)  # an exchange or reship ships: `-R1`
    elif env.type.startswith(("aftersales.", "refund.", "return.")):
        await on_aftersales_event(uow, env)
    # anything else on these topics is not ours to act on


def consumers(deps: Deps, rt: Runtime) -> list[EventConsumer]:
    handle = idempotent(CONSUMER, deps.uow, dispatch)
    sync = deps.platform_sync
    assert sync is not None  # wired by create_app

    async def handler(env: Envelope) -> None:
        await retry_on_conflict(lambda: handle(env))
        if env.type == "shipment.shipped":
            await sync.push_pending()  # after the commit, never inside it

    return [
        EventConsumer(
            rt.settings,
            rt.bus,
            name=CONSUMER,
            topics=[topics.WAREHOUSE, topics.AFTERSALES],
            handler=handler,
        )
    ]
