"""On a 3-node cluster: topics get replication 3 and min.insync.replicas 2 by themselves,
and one broker killed mid-stream delays events by seconds, loses and reorders none.

Needs a private cluster started by deploy/kafka/start.sh that this test may kill a node of:

    KAFKA_CLUSTER_BASE_PORT=9592 KAFKA_CLUSTER_DIR=/tmp/fulfil-kafka-relay-cluster \\
      bash deploy/kafka/start.sh --cluster
    FULFIL_TEST_KILL_CLUSTER_NODE=1 KAFKA_CLUSTER_BASE_PORT=9592 \\
      KAFKA_CLUSTER_DIR=/tmp/fulfil-kafka-relay-cluster KAFKA_IDEMPOTENCE=true \\
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9592,127.0.0.1:9593,127.0.0.1:9594 \\
      TEST_POSTGRES_URL=postgresql+asyncpg://... python -m pytest <this file>

Skipped otherwise (it must never kill a node of a cluster other tests share).
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.partitioner import DefaultPartitioner

from shared import topics
from shared.bus import ensure_topics
from tests.integration.platform import toy
from tests.integration.platform.test_relay_kafka_restart import kafka, read_topic, unpublished
from tests.support import wait_until

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not os.environ.get("FULFIL_TEST_KILL_CLUSTER_NODE"),
        reason="kills a node of a private cluster: set FULFIL_TEST_KILL_CLUSTER_NODE=1, ...",
    ),
]


async def topic_durability(settings, name: str) -> tuple[int, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([settings.topic(name)])
        replication = min(len(p["replicas"]) for p in topic["partitions"])
        (response,) = await admin.describe_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, settings.topic(name), {"min.insync.replicas": None}
                )
            ]
        )
        (entry,) = response.to_object()["resources"][0]["config_entries"]
        return replication, entry["config_value"]
    finally:
        await admin.close()


async def test_one_broker_lost_costs_a_pause_not_events(make_settings):
    assert os.environ["KAFKA_CLUSTER_BASE_PORT"] != "9192"
    producer = toy.runtime(make_settings("order", FULFIL_RELAY_BATCH=200))
    await ensure_topics(producer.settings)  # no KAFKA_REPLICATION: the cluster's default
    assert await topic_durability(producer.settings, topics.ORDERS) == (3, "2")

    await producer.db.create_schema(toy.metadata)
    tasks = [asyncio.create_task(producer.bus.run()), asyncio.create_task(producer.relay.run())]
    orders = [f"ord-{i}" for i in range(30)]

    async def write(steps: range) -> None:
        for seq in steps:
            for order in orders:
                await toy.record_step(producer, order, seq)
            await asyncio.sleep(0.005)

    try:
        await producer.bus.wait_connected()
        await write(range(1, 21))
        killed_at = time.monotonic()
        await kafka("stop.sh", "--node", "2", "--kill")
        await write(range(21, 61))  # written while the broker is down
        await wait_until(
            lambda: unpublished(producer), expect=0, timeout=90, message="drained, node 2 down"
        )
        print(f"drained {time.monotonic() - killed_at:.1f}s after node 2 was killed")
        await kafka("start.sh", "--node", "2")
        await write(range(61, 81))
        await wait_until(lambda: unpublished(producer), expect=0, timeout=90, message="drained")
        steps = await read_topic(producer.settings)
        assert steps == {o: list(range(1, 81)) for o in orders}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.bus.stop()
        await producer.db.dispose()


async def led_by(settings, node: int) -> set[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([settings.topic(topics.ORDERS)])
        return {p["partition"] for p in topic["partitions"] if p["leader"] == node}
    finally:
        await admin.close()


async def test_with_replication_one_a_lost_broker_holds_back_only_its_partitions(make_settings):
    assert os.environ["KAFKA_CLUSTER_BASE_PORT"] != "9192"
    producer = toy.runtime(make_settings("order", KAFKA_REPLICATION=1))
    await ensure_topics(producer.settings)
    stuck_partitions = await led_by(producer.settings, 2)
    orders = [f"ord-{i}" for i in range(30)]
    parts = sorted(range(producer.settings.kafka_topic_partitions))
    stuck = {
        o for o in orders if DefaultPartitioner()(o.encode(), parts, parts) in stuck_partitions
    }
    assert stuck and stuck != set(orders)

    await producer.db.create_schema(toy.metadata)
    tasks = [asyncio.create_task(producer.bus.run()), asyncio.create_task(producer.relay.run())]
    try:
        await producer.bus.wait_connected()
        await kafka("stop.sh", "--node", "2", "--kill")
        for seq in range(1, 21):
            for order in orders:
                await toy.record_step(producer, order, seq)
        # Every event of an order on a live partition goes; only node 2's wait.
        await wait_until(
            lambda: unpublished(producer), expect=20 * len(stuck), timeout=90, message="live sent"
        )
        await kafka("start.sh", "--node", "2")
        await wait_until(lambda: unpublished(producer), expect=0, timeout=90, message="drained")
        steps = await read_topic(producer.settings)
        assert steps == {o: list(range(1, 21)) for o in orders}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.bus.stop()
        await producer.db.dispose()
