"""Outbox relay vs a raw aiokafka loop, on the same broker in the same run.

Throughput: N events already committed to the outbox → time until the relay
has them acknowledged and marked published; raw: N sends awaited together.
Latency: events committed one by one (each its own transaction) → time until a
plain consumer reads them; raw: send → read. The ratio is the figure to watch.
Stream: 16 events a commit at about 1,000 events/s (a webhook group commit's
shape) → the process's CPU per event with the relay publishing them, against the
same commits with no relay running.

    .venv/bin/python -m bench.relay                      # SQLite + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://... KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
        KAFKA_IDEMPOTENCE=true .venv/bin/python -m bench.relay
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import MetaData, func, select

from bench.common import broker, command, database_url, pct
from shared import topics
from shared.envelope import decode, new_event
from shared.events.orders import OrderStageChanged
from shared.messaging import messaging_tables
from shared.service import build_runtime
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork

N_THROUGHPUT = int(os.environ.get("BENCH_EVENTS", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
N_LATENCY = int(os.environ.get("BENCH_LATENCY_EVENTS", "300"))
STREAM_COMMITS = int(os.environ.get("BENCH_STREAM_COMMITS", "600"))


def event(i: int):
    return new_event(
        OrderStageChanged(stage="packed", previous="labelled", trigger=str(i)),
        producer="bench",
        order_id=f"O-{i % 1000}",
    )


async def raw_throughput(bootstrap: str, topic: str, idempotent: bool, batch: int) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=2, enable_idempotence=idempotent
    )
    await producer.start()
    values = [(event(i).encode(), f"O-{i % 1000}".encode()) for i in range(N_THROUGHPUT)]
    start = time.perf_counter()
    for chunk in range(0, N_THROUGHPUT, batch):  # same batch size as the relay
        futs = [await producer.send(topic, v, key=k) for v, k in values[chunk : chunk + batch]]
        await asyncio.gather(*futs)
    elapsed = time.perf_counter() - start
    await producer.stop()
    return N_THROUGHPUT / elapsed


async def relay_throughput(rt, tables) -> float:
    async with UnitOfWork(rt.db, rt.outbox, rt.inbox) as uow:
        for i in range(N_THROUGHPUT):
            uow.emit(topics.ORDERS, event(i))
        await uow.commit()
    start = time.perf_counter()
    while await rt.relay.publish_once():
        pass
    elapsed = time.perf_counter() - start
    async with rt.db.reader() as s:
        left = (
            await s.execute(
                select(func.count())
                .select_from(tables.outbox)
                .where(tables.outbox.c.published_at.is_(None))
            )
        ).scalar_one()
    assert left == 0, f"{left} rows left unpublished"
    return N_THROUGHPUT / elapsed


async def reader(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=uuid.uuid4().hex,
        auto_offset_reset="latest",
        fetch_max_wait_ms=50,
        session_timeout_ms=int(os.environ.get("BENCH_SESSION_MS", "10000")),
    )
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for tp in consumer.assignment():
        await consumer.seek_to_end(tp)
    return consumer


async def latencies(consumer: AIOKafkaConsumer, n: int, sent_at: dict[str, float]) -> list[float]:
    out: list[float] = []
    while len(out) < n:
        for msgs in (await consumer.getmany(timeout_ms=1000)).values():
            now = time.perf_counter()
            for m in msgs:  # earlier phases' events may still be read: skip them
                if (sent := sent_at.get(decode(m.value).event_id)) is not None:
                    out.append((now - sent) * 1000)
    return out


async def raw_latency(bootstrap: str, topic: str, idempotent: bool) -> list[float]:
    consumer = await reader(bootstrap, topic)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent
    )
    await producer.start()
    sent: dict[str, float] = {}
    collect = asyncio.create_task(latencies(consumer, N_LATENCY, sent))
    for i in range(N_LATENCY):
        env = event(i)
        sent[env.event_id] = time.perf_counter()
        await producer.send_and_wait(topic, env.encode(), key=env.partition_key.encode())
        await asyncio.sleep(0.002)
    result = await collect
    await producer.stop()
    await consumer.stop()
    return result


async def relay_latency(rt, bootstrap: str, topic: str) -> list[float]:
    consumer = await reader(bootstrap, topic)
    relay = asyncio.create_task(rt.relay.run())
    sent: dict[str, float] = {}
    collect = asyncio.create_task(latencies(consumer, N_LATENCY, sent))
    for i in range(N_LATENCY):
        env = event(i)
        async with UnitOfWork(rt.db, rt.outbox, rt.inbox) as uow:
            uow.emit(topics.ORDERS, env)
            sent[env.event_id] = time.perf_counter()  # from the commit on
            await uow.commit()
        await asyncio.sleep(0.002)
    result = await collect
    relay.cancel()
    await consumer.stop()
    return result


async def stream_cpu(settings: Settings, relay: bool) -> float:
    """Process CPU seconds per event for STREAM_COMMITS commits of 16 events (two per key,
    as an order's synced and reviewed), with or without the relay publishing them."""
    metadata = MetaData()
    tables = messaging_tables(metadata)
    url, _ = database_url(f"stream{uuid.uuid4().hex[:6]}")
    rt = build_runtime(settings.model_copy(update={"order_database_url": url}), tables)
    await rt.db.create_schema(metadata)
    tasks = [asyncio.create_task(rt.bus.run())]
    await rt.bus.wait_connected()
    if relay:
        tasks.append(asyncio.create_task(rt.relay.run()))
    await asyncio.sleep(1.0)
    unsent = select(func.count()).where(tables.outbox.c.published_at.is_(None))
    start, n = time.process_time(), 0
    for _ in range(STREAM_COMMITS):
        async with UnitOfWork(rt.db, rt.outbox, rt.inbox) as uow:
            for _ in range(16):
                uow.emit(topics.ORDERS, event(n // 2))
                n += 1
            await uow.commit()
        await asyncio.sleep(0.012)
    while relay:
        async with rt.db.reader() as s:
            if not (await s.execute(unsent)).scalar_one():
                break
        await asyncio.sleep(0.02)
    cpu = time.process_time() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rt.bus.stop()
    await rt.db.dispose()
    return cpu / n


async def main() -> None:
    with broker() as (bootstrap, broker_kind):
        url, db_kind = database_url("relay")
        idempotent = os.environ.get("KAFKA_IDEMPOTENCE", "false") == "true"
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        settings = Settings(
            service="order",
            kafka_bootstrap_servers=bootstrap,
            order_database_url=url,
            topic_prefix=prefix,
            kafka_idempotence=idempotent,
        )
        metadata = MetaData()
        tables = messaging_tables(metadata)
        rt = build_runtime(settings, tables)
        await rt.db.create_schema(metadata)
        bus_task = asyncio.create_task(rt.bus.run())
        await rt.bus.wait_connected()
        topic = settings.topic(topics.ORDERS)

        # Alternate rounds so a noisy moment hits both; the median ratio is the figure.
        rounds = []
        for _ in range(ROUNDS):
            raw = await raw_throughput(bootstrap, topic, idempotent, settings.relay_batch)
            rounds.append((raw, await relay_throughput(rt, tables)))
        raw_eps, relay_eps = (statistics.median(r[i] for r in rounds) for i in (0, 1))
        ratio = statistics.median(relay / raw for raw, relay in rounds)
        raw_lat = await raw_latency(bootstrap, topic, idempotent)
        relay_lat = await relay_latency(rt, bootstrap, topic)
        alone, published = [], []
        for _ in range(2):
            alone.append(await stream_cpu(settings, relay=False))
            published.append(await stream_cpu(settings, relay=True))
        bus_task.cancel()
        await rt.bus.stop()
        await rt.db.dispose()

    print(
        f"# outbox relay vs raw aiokafka — {db_kind} + {broker_kind}, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"throughput  raw {raw_eps:8.0f} ev/s   relay {relay_eps:8.0f} ev/s   "
        f"ratio {ratio:.2f}   (medians of {ROUNDS} alternating rounds of {N_THROUGHPUT} events; "
        f"ratios {', '.join(f'{relay / raw:.2f}' for raw, relay in rounds)})"
    )
    for name, lat in (("raw  ", raw_lat), ("relay", relay_lat)):
        print(
            f"latency {name} p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms   "
            f"({len(lat)} events, one commit each)"
        )
    relay_us = ", ".join(f"{(p - a) * 1e6:.0f}" for a, p in zip(alone, published, strict=True))
    print(
        f"stream      CPU per event: commits alone {min(alone) * 1e6:.0f} µs, with the relay "
        f"{min(published) * 1e6:.0f} µs; the relay's part {relay_us} µs "
        f"({STREAM_COMMITS} commits of 16 events, ~1,000 events/s, two rounds)"
    )
    print(f"command: {command()}")


if __name__ == "__main__":
    asyncio.run(main())
