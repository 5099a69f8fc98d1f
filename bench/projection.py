"""The after-sales projection's cost per event: an in-process replay through the consumer's
batch handler (no broker, no HTTP), events/s and SQL statements per event.

Orders arrive as on the orders topic: `order.synced`, two `order.stage_changed`, one
`order.submitted` each, several orders interleaved in every partition batch of 100.

    .venv/bin/python -m bench.projection                        # SQLite (temporary file)
    BENCH_DATABASE_URL=postgresql+asyncpg://fulfil:fulfil@127.0.0.1:5432/postgres \
      .venv/bin/python -m bench.projection                      # fresh `bench_projection`

A statement is one round trip: an executemany (the projection writes what it held back
for the batch that way, shared.unit_of_work `flush`) counts once.

BENCH_ORDERS (default 1000: 4,000 events), BENCH_BATCH (default 100), BENCH_PROFILE=1
prints the top of a cProfile of the replay (BENCH_PROFILE=tottime: by own time).
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from collections import Counter
from decimal import Decimal

import asyncpg
from sqlalchemy import event

from aftersales_service.adapters import tables as t
from aftersales_service.entrypoints.consumers import PROJECTION
from aftersales_service.handlers.projection import apply_event
from bench.common import command
from shared.clock import Clock
from shared.db import Database
from shared.envelope import Envelope, new_event
from shared.events.common import Address, Buyer, Line
from shared.events.orders import OrderStageChanged, OrderSynced, ShipmentSubmitted
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.unit_of_work import idempotent_batch

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000"))
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
INTERLEAVE = 8  # orders in flight at once in one partition
ADDRESS = Address(name="Li Lei", phone="13800000000", city="Hangzhou", line1="1 Road")


def order_events(i: int) -> list[Envelope]:
    oid = f"O-{i:06d}"
    lines = [
        Line(sku=f"SKU-{i % 50}", qty=1, unit_price=Decimal("59.00")),
        Line(sku=f"SKU-{(i + 7) % 50}", qty=2, unit_price=Decimal("12.50")),
    ]
    synced = OrderSynced(
        shop_id="demo-shop",
        platform="taobao",
        platform_order_id=f"P-{oid}",
        buyer=Buyer(id=f"B{i % 97}"),
        address=ADDRESS,
        lines=lines,
        total=Decimal("84.00"),
        currency="CNY",
        paid_at=Clock().now(),
    )
    sub = ShipmentSubmitted(
        shipment_id=f"S-{oid}",
        warehouse_id=f"WH-{i % 3}",
        lines=lines,
        address=ADDRESS,
        platform="taobao",
        buyer_id="B1",
        paid_at=Clock().now(),
    )
    return [
        new_event(synced, producer="order", order_id=oid),
        new_event(
            OrderStageChanged(stage="synced", previous="", trigger="sync", held=False),
            producer="order",
            order_id=oid,
        ),
        new_event(
            OrderStageChanged(stage="submitted", previous="synced", trigger="submit", held=False),
            producer="order",
            order_id=oid,
        ),
        new_event(sub, producer="order", order_id=oid),
    ]


def stream(orders: int) -> list[Envelope]:
    """Each order's events in order, INTERLEAVE orders at a time (as one partition holds)."""
    out: list[Envelope] = []
    for start in range(0, orders, INTERLEAVE):
        group = [order_events(i) for i in range(start, min(start + INTERLEAVE, orders))]
        for step in range(4):
            out.extend(events[step] for events in group)
    return out


async def database() -> tuple[Database, str]:
    admin = os.environ.get("BENCH_DATABASE_URL")
    if not admin:
        path = os.path.join(tempfile.mkdtemp(prefix="bench-projection-"), "aftersales.db")
        return Database(f"sqlite+aiosqlite:///{path}"), "SQLite"
    conn = await asyncpg.connect(admin.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute('DROP DATABASE IF EXISTS "bench_projection" WITH (FORCE)')
        await conn.execute('CREATE DATABASE "bench_projection"')
    finally:
        await conn.close()
    return Database(admin.rsplit("/", 1)[0] + "/bench_projection"), "PostgreSQL"


async def replay() -> None:
    from aftersales_service.adapters.uow import AftersalesUnitOfWork

    db, kind = await database()
    await db.create_schema(t.metadata)
    outbox, inbox, clock = Outbox(t.messaging), Inbox(t.messaging), Clock()
    statements: Counter[str] = Counter()

    def count(conn, cursor, sql, params, context, executemany):
        statements[sql.split(None, 1)[0].upper()] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)

    async def handle(uow, env):
        await apply_event(uow, env, clock.now())

    run = idempotent_batch(PROJECTION, lambda: AftersalesUnitOfWork(db, outbox, inbox), handle)
    events = stream(ORDERS)
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for i in range(0, len(events), BATCH):
        await run(events[i : i + BATCH])
    if profile:
        profile.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await db.dispose()
    n = len(events)
    total = sum(statements.values())
    print(f"command: {command()}")
    print(f"{kind}: {n} events ({ORDERS} orders) in batches of {BATCH}")
    print(f"  {n / wall:,.0f} events/s, {cpu / n * 1000:.2f} ms CPU per event")
    print(f"  {total / n:.2f} SQL statements per event ({total} in all)")
    print("  by verb: " + ", ".join(f"{k} {v / n:.2f}" for k, v in statements.most_common()))
    if profile:
        order = os.environ["BENCH_PROFILE"]
        pstats.Stats(profile).sort_stats("cumulative" if order == "1" else order).print_stats(30)


def main() -> None:
    asyncio.run(replay())


if __name__ == "__main__":
    main()
