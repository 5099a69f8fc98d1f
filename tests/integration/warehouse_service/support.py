"""Helpers for the warehouse_service integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import select

from shared import topics
from shared.envelope import Envelope, decode, new_event
from shared.events.common import Address, Line
from shared.events.orders import ShipmentSubmitted
from shared.settings import Settings
from shared.unit_of_work import idempotent
from warehouse_service.adapters import tables
from warehouse_service.entrypoints.consumers import ORDERS_CONSUMER
from warehouse_service.handlers.orders import order_events

ADDRESS = Address(name="Li Lei", phone="13800000000", city="Hangzhou", line1="1 West Lake Rd")


def submitted(
    warehouse_id: str,
    skus: Sequence[tuple[str, int]] = (("SKU-1", 1),),
    *,
    order_id: str | None = None,
    supplier_id: str | None = None,
    campaign_id: str | None = None,
) -> Envelope:
    order_id = order_id or f"ORD-{uuid4().hex[:8]}"
    lines = [
        Line(sku=sku, qty=qty, supplier_id=supplier_id, campaign_id=campaign_id)
        for sku, qty in skus
    ]
    payload = ShipmentSubmitted(
        shipment_id=f"SHP-{order_id}",
        warehouse_id=warehouse_id,
        lines=lines,
        address=ADDRESS,
        platform="taobao",
        buyer_id="B-1",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return new_event(payload, producer="order_service", order_id=order_id)


async def publish(settings: Settings, *envelopes: Envelope, topic: str = topics.ORDERS) -> None:
    """Send events as the order service would (keyed by order id)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(
                settings.topic(topic), env.encode(), key=env.partition_key.encode()
            )
    finally:
        await producer.stop()


async def deliver(app: FastAPI, *envelopes: Envelope) -> None:
    """Run order events through the consumer's own handler (no broker): used where two
    instances with separate databases would otherwise split the shared orders group."""
    deps = app.state.deps
    handle = idempotent(ORDERS_CONSUMER, deps.uow, order_events(deps))
    for env in envelopes:
        await handle(env)


async def emitted(app: FastAPI, type_name: str | None = None) -> list[Envelope]:
    """What the service wrote to its outbox (published or not), in order; the listing
    timer's `stock.levels` (written at any moment) only when asked for by type."""
    o = tables.messaging.outbox
    async with app.state.runtime.db.reader() as session:
        rows = (await session.execute(select(o.c.value).order_by(o.c.id))).all()
    found = [decode(r.value) for r in rows]
    if type_name is None:
        return [e for e in found if e.type != "stock.levels"]
    return [e for e in found if e.type == type_name]


async def consume_until(settings: Settings, topic: str, done, timeout: float = 20.0) -> list:
    """Read a topic from the start (own group) until `done(envelopes)` holds."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"probe-{uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    seen: list[tuple[bytes | None, Envelope]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done([env for _, env in seen]):
            if loop.time() > deadline:
                raise AssertionError(f"timed out reading {topic}: {[e.type for _, e in seen]}")
            batches = await consumer.getmany(timeout_ms=200)
            seen += [(m.key, decode(m.value)) for msgs in batches.values() for m in msgs]
    finally:
        await consumer.stop()
    return seen
