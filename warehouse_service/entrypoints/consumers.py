"""Kafka consumers: order events in the shared group, the stop broadcast per instance."""

from __future__ import annotations

from shared import topics
from shared.bus import EventConsumer
from shared.service import Runtime
from shared.unit_of_work import idempotent, idempotent_batch
from warehouse_service.handlers import Deps
from warehouse_service.handlers.orders import order_events
from warehouse_service.handlers.restock import aftersales_events
from warehouse_service.handlers.stops import broadcast_events

ORDERS_CONSUMER = "warehouse-orders"
AFTERSALES_CONSUMER = "warehouse-aftersales"  # graded returns restock (handlers/restock.py)


def broadcast_consumer_name(instance: str) -> str:
    """Stable per instance, so a restarted instance resumes where it stopped."""
    return f"warehouse-stops-{instance}"


def build(deps: Deps, rt: Runtime) -> list[EventConsumer]:
    stops_name = broadcast_consumer_name(deps.instance)
    return [
        EventConsumer(
            rt.settings,
            rt.bus,
            name=ORDERS_CONSUMER,
            topics=[topics.ORDERS],
            handler=idempotent(ORDERS_CONSUMER, deps.uow, order_events(deps)),
            batch_handler=idempotent_batch(ORDERS_CONSUMER, deps.uow, order_events(deps)),
        ),
        EventConsumer(
            rt.settings,
            rt.bus,
            name=AFTERSALES_CONSUMER,
            topics=[topics.AFTERSALES],
            handler=idempotent(AFTERSALES_CONSUMER, deps.uow, aftersales_events(deps)),
        ),
        EventConsumer(
            rt.settings,
            rt.bus,
            name=stops_name,
            topics=[topics.STOPS],
            handler=idempotent(stops_name, deps.uow, broadcast_events(deps)),
            group_id=f"{rt.settings.topic_prefix}{stops_name}",
        ),
    ]
