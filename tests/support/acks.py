"""Broker-side checks for "the consumer survives and acknowledges": raw sends on one key,
the group's committed offsets, and what reached the dead-letter topic."""

from __future__ import annotations

import json
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from shared import topics
from shared.settings import Settings


async def send_raw(settings: Settings, topic: str, key: str, values: list[bytes]) -> list:
    """Send `values` in order on one key (one partition): what the broker stored each at."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        return [
            await producer.send_and_wait(settings.topic(topic), v, key=key.encode()) for v in values
        ]
    finally:
        await producer.stop()


async def committed_past(settings: Settings, consumer: str, sent: list[RecordMetadata]) -> bool:
    """The consumer group `consumer` has committed an offset beyond every sent record."""
    probe = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{settings.topic_prefix}{consumer}",
        enable_auto_commit=False,
    )
    await probe.start()  # not subscribed: it reads the group's offsets without joining it
    try:
        for meta in sent:
            offset = await probe.committed(TopicPartition(meta.topic, meta.partition))
            if offset is None or offset <= meta.offset:
                return False
        return True
    finally:
        await probe.stop()


async def dead_letters(settings: Settings) -> list[dict]:
    """Everything on the dead-letter topic so far (its JSON bodies)."""
    reader = AIOKafkaConsumer(
        settings.topic(topics.DEAD_LETTER),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"dead-{uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        found = []
        while batch := await reader.getmany(timeout_ms=500):
            found += [json.loads(m.value) for msgs in batch.values() for m in msgs]
        return found
    finally:
        await reader.stop()
