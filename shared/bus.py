"""Kafka plumbing on aiokafka: a producer that reconnects, consumers that commit after the DB.

Producer choices: acks=all; idempotence where the broker supports it
(`KAFKA_IDEMPOTENCE`, off for the embedded Tansu); a short linger to batch;
every send bounded by a timeout (aiokafka sends never time out on their own).

Consumers: manual offsets, committed as `{tp: last + 1}` only after the
handler's transaction committed, so delivery is at-least-once and the inbox
makes the effect exactly-once. A message that cannot be decoded, or whose
handler keeps failing, goes to the dead-letter topic with its error and
original bytes; the consumer carries on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError

from shared import metrics, topics
from shared.envelope import Envelope, EventRejected, decode
from shared.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]


class Bus:
    """The service's producer; connects in the background and reconnects on loss."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._connected = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def run(self) -> None:
        """Keep a started producer; retried with backoff while the broker is away."""
        backoff = 0.2
        while True:
            try:
                await ensure_topics(self.settings)
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.settings.kafka_bootstrap_servers,
                    acks="all",
                    enable_idempotence=self.settings.kafka_idempotence,
                    linger_ms=2,
                    request_timeout_ms=10000,
                )
                await producer.start()
                self._producer = producer
                self._connected.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("broker not reachable (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 3.0)

    async def send_all(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        """Send in order and wait for every acknowledgement."""
        assert self._producer is not None, "bus not connected"
        futures = [
            await self._producer.send(topic, value, key=key.encode())
            for topic, key, value in records
        ]
        await asyncio.gather(*futures)

    async def ping(self, timeout: float = 2.0) -> bool:
        if self._producer is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await self._producer.client.fetch_all_metadata()
            return True
        except Exception:
            return False

    async def dead_letter(self, consumer: str, msg: ConsumerRecord, error: str) -> None:
        body = {
            "consumer": consumer,
            "error": error,
            "topic": msg.topic,
            "partition": msg.partition,
            "offset": msg.offset,
            "key": msg.key.decode(errors="replace") if msg.key else None,
            "original_b64": base64.b64encode(msg.value or b"").decode(),
        }
        await self.send_all(
            [
                (
                    self.settings.topic(topics.DEAD_LETTER),
                    body["key"] or consumer,
                    json.dumps(body).encode(),
                )
            ]
        )
        metrics.DEAD_LETTERS.labels(consumer).inc()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()


async def ensure_topics(settings: Settings) -> None:
    """Create the project's topics if missing (idempotent)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                settings.topic(name), settings.kafka_topic_partitions, settings.kafka_replication
            )
            for name in topics.ALL
            if settings.topic(name) not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()


class EventConsumer:
    """Runs one handler over some topics in one consumer group."""

    def __init__(
        self,
        settings: Settings,
        bus: Bus,
        *,
        name: str,
        topics: Sequence[str],
        handler: Handler,
        group_id: str | None = None,
        attempts: int = 3,
    ):
        self.settings, self.bus, self.name, self.handler = settings, bus, name, handler
        self.topics = [settings.topic(t) for t in topics]
        self.group_id = group_id or f"{settings.topic_prefix}{name}"
        self.attempts = attempts
        self.consumer: AIOKafkaConsumer | None = None
        self._joined = False

    async def run(self) -> None:
        await self.bus.wait_connected()
        backoff = 0.2
        try:
            while True:
                try:
                    await self._start()
                    backoff = 0.2
                    await self._loop()
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise
                except Exception as exc:
                    log.warning("consumer %s: %s; restarting in %.1fs", self.name, exc, backoff)
                    await self._stop()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 3.0)
        finally:
            await self._stop()

    @property
    def assigned(self) -> bool:
        """Joined its group and holds partitions (or the group has more members than them)."""
        return self.consumer is not None and self._joined

    async def _start(self) -> None:
        self._joined = False
        self.consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=min(3000, self.settings.kafka_session_timeout_ms // 3),
        )
        await self.consumer.start()
        self._joined = True  # start() returns once the group join has completed

    async def _loop(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=200, max_records=100)
            for tp, messages in batches.items():
                for msg in messages:
                    await self._process(msg)
                try:
                    await self.consumer.commit({tp: messages[-1].offset + 1})
                except CommitFailedError as exc:
                    # Rebalanced mid-batch: the new owner redelivers; the inbox de-duplicates.
                    log.info("consumer %s: commit after rebalance refused: %s", self.name, exc)

    async def _process(self, msg: ConsumerRecord) -> None:
        try:
            envelope = decode(msg.value or b"")
        except EventRejected as exc:
            await self.bus.dead_letter(self.name, msg, str(exc))
            metrics.EVENTS_CONSUMED.labels(self.name, "rejected").inc()
            return
        for attempt in range(1, self.attempts + 1):
            try:
                await self.handler(envelope)
                metrics.EVENTS_CONSUMED.labels(self.name, "ok").inc()
                return
            except (asyncio.CancelledError, KafkaError):
                raise
            except Exception as exc:
                log.warning(
                    "consumer %s: %s failed (attempt %d): %r",
                    self.name,
                    envelope.type,
                    attempt,
                    exc,
                )
                if attempt == self.attempts:
                    await self.bus.dead_letter(self.name, msg, f"{type(exc).__name__}: {exc}")
                    metrics.EVENTS_CONSUMED.labels(self.name, "dead_letter").inc()
                    return
                await asyncio.sleep(0.05 * 2**attempt)

    async def _stop(self) -> None:
        self._joined = False
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.consumer.stop()
            self.consumer = None
