"""Kafka stopped (kill -9, a clean stop, kill -9) and restarted mid-stream: the relay carries on.

Needs a private Apache Kafka started by deploy/kafka/start.sh that this test may kill:

    KAFKA_PORT=9492 KAFKA_DATA_DIR=/tmp/fulfil-kafka-relay bash deploy/kafka/start.sh
    FULFIL_TEST_RESTART_KAFKA=1 KAFKA_PORT=9492 KAFKA_DATA_DIR=/tmp/fulfil-kafka-relay \\
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9492 KAFKA_IDEMPOTENCE=true \\
      TEST_POSTGRES_URL=postgresql+asyncpg://... python -m pytest <this file>

Skipped otherwise (it must never restart a broker other tests share).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from shared import topics
from shared.envelope import decode
from tests.integration.platform import toy
from tests.support import wait_until

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not os.environ.get("FULFIL_TEST_RESTART_KAFKA"),
        reason="restarts a private Kafka: set FULFIL_TEST_RESTART_KAFKA=1, KAFKA_PORT, ...",
    ),
]
DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "kafka"


async def kafka(script: str, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "bash",
        str(DEPLOY / script),
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()


async def unpublished(rt) -> int:
    t = toy.tables.outbox
    async with rt.db.reader() as s:
        query = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        return (await s.execute(query)).scalar_one()


async def read_topic(settings) -> dict[str, list[int]]:
    """Each order's steps in topic order, first copy of each (duplicates are allowed)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topics.ORDERS),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await wait_until(lambda: consumer.assignment(), message="partitions assigned")
        ends = await consumer.end_offsets(list(consumer.assignment()))
        steps: dict[str, list[int]] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for m in messages:
                    env = decode(m.value)
                    seen = steps.setdefault(env.order_id, [])
                    if int(env.typed().trigger) not in seen:
                        seen.append(int(env.typed().trigger))
        return steps
    finally:
        await consumer.stop()


async def test_three_kafka_restarts_mid_stream_lose_and_reorder_nothing(make_settings):
    assert os.environ["KAFKA_PORT"] not in ("9092", "9192", "9193", "9194")
    producer = toy.runtime(make_settings("order", FULFIL_RELAY_BATCH=200))
    await producer.db.create_schema(toy.metadata)
    tasks = [asyncio.create_task(producer.bus.run()), asyncio.create_task(producer.relay.run())]
    orders = [f"ord-{i}" for i in range(30)]
    written = 0

    async def write(steps: range) -> None:
        nonlocal written
        for seq in steps:
            for order in orders:
                await toy.record_step(producer, order, seq)
                written += 1
            await asyncio.sleep(0.005)  # a steady stream, not one burst

    try:
        await producer.bus.wait_connected()
        for restart in range(3):
            first = restart * 40 + 1
            writer = asyncio.create_task(write(range(first, first + 40)))
            target = (first + 9) * len(orders)
            await wait_until(lambda target=target: written >= target, timeout=60)
            stopped_at = time.monotonic()
            await kafka("stop.sh", *(["--kill"] if restart != 1 else []))
            await kafka("start.sh")
            print(f"restart {restart + 1}: broker away {time.monotonic() - stopped_at:.1f}s")
            await writer
        total = 120 * len(orders)
        drained_at = time.monotonic()
        await wait_until(
            lambda: unpublished(producer), expect=0, timeout=120, message="outbox drained"
        )
        print(f"outbox drained {time.monotonic() - drained_at:.1f}s after the last writes")
        # On the wire: every step of every order, each order's first copies in order.
        steps = await read_topic(producer.settings)
        assert sum(len(v) for v in steps.values()) == total
        assert steps == {o: list(range(1, 121)) for o in orders}
        await wait_until(lambda: producer.relay.health()["ok"], message="relay healthy")
        restarts = REGISTRY.get_sample_value(
            "outbox_producer_restarts_total", {"relay": producer.relay.name}
        )
        print(f"fresh producers started: {restarts}")
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.bus.stop()
        await producer.db.dispose()
