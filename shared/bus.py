"""Kafka plumbing on aiokafka: a producer that reconnects, consumers that commit after the DB.

Producer choices: acks=all; idempotence where the broker supports it
(`KAFKA_IDEMPOTENCE`, off for the embedded Tansu); a short linger to batch;
requests capped at the broker's 1 MiB so an oversized event fails client-side;
a producer a fatal error left unusable is replaced by a fresh one. Topics get
the cluster's replication (see `ensure_topics`).

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
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    CommitFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAlreadyExistsError,
)

from shared import metrics, topics
from shared.envelope import Envelope, EventRejected, decode
from shared.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]


class Bus:
    """The service's producer; connects in the background and reconnects on loss.

    `restart_producer` replaces a producer left unusable by a fatal error (such as
    OutOfOrderSequenceNumber after a broker restart) with a fresh one: a new producer
    id, so its sequence numbers start over.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._connected = asyncio.Event()
        self.recovering = False  # a fresh producer is being started after a fatal error

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def run(self, *, topics_too: bool = True) -> None:
        """Keep a started producer; retried with backoff while the broker is away."""
        backoff = 0.2
        while True:
            try:
                if topics_too:
                    await ensure_topics(self.settings)
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.settings.kafka_bootstrap_servers,
                    acks="all",
                    enable_idempotence=self.settings.kafka_idempotence,
                    linger_ms=2,
                    request_timeout_ms=self.settings.kafka_request_timeout_ms,
                    max_request_size=self.settings.kafka_max_request_bytes,
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

    async def restart_producer(self, reason: str, close_timeout: float = 2.0) -> None:
        """Drop the producer (whatever it still holds is abandoned) and start a fresh one."""
        log.warning("producer unusable (%s): starting a fresh one", reason)
        self.recovering = True
        self._connected.clear()
        old, self._producer = self._producer, None
        try:
            if old is not None:
                await _close_producer(old, close_timeout)
            await self.run(topics_too=False)
        finally:
            self.recovering = False

    async def send(self, topic: str, key: str, value: bytes) -> asyncio.Future:
        """Queue one record; the future resolves with its acknowledgement (RecordMetadata)."""
        return await self._started().send(topic, value, key=key.encode())

    async def partitions(self, topic: str) -> list[int]:
        """The topic's partitions (one, if the broker does not say yet)."""
        try:
            async with asyncio.timeout(1.0):
                return sorted(await self._started().partitions_for(topic)) or [0]
        except Exception:
            return [0]

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise KafkaConnectionError("producer not started")
        return self._producer

    async def send_all(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        """Send in order and wait for every acknowledgement."""
        await self.wait_connected()
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


async def _close_producer(producer: AIOKafkaProducer, timeout: float) -> None:
    """Stop a producer; one that cannot flush (a broken one) is closed without flushing."""
    try:
        async with asyncio.timeout(timeout):
            await producer.stop()
    except Exception as exc:
        log.info("old producer did not stop cleanly (%r); closing it", exc)
        sender = getattr(producer, "_sender", None)
        with contextlib.suppress(Exception):
            if sender is not None:
                await sender.close()
        with contextlib.suppress(Exception):
            await producer.client.close()


async def ensure_topics(settings: Settings) -> None:
    """Create the project's missing topics with the cluster's replication; log existing ones.

    Replication: `KAFKA_REPLICATION`, else the broker's `default.replication.factor`
    (aiokafka's CreateTopics cannot ask for "broker default", -1), else min(3, brokers).
    `min.insync.replicas` 2 when that is 3 or more, unless `KAFKA_MIN_INSYNC_REPLICAS`.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000
    )
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        replication = topics.replication_for(
            settings.kafka_replication,
            await _broker_default_replication(admin, cluster),
            len(cluster["brokers"]),
        )
        min_isr = topics.min_insync_for(settings.kafka_min_insync_replicas, replication)
        if min_isr is not None and min_isr > replication:
            log.error(
                "min.insync.replicas %d > replication %d would refuse every send; not set",
                min_isr,
                replication,
            )
            min_isr = None
        configs = {"min.insync.replicas": str(min_isr)} if min_isr is not None else {}
        names = [settings.topic(name) for name in topics.ALL]
        existing = {t["topic"]: t for t in await admin.describe_topics()}
        wanted = [
            NewTopic(name, settings.kafka_topic_partitions, replication, topic_configs=configs)
            for name in names
            if name not in existing
        ]
        if wanted:
            response = await admin.create_topics(wanted)
            for topic, code, *rest in response.topic_errors:
                if code not in (0, TopicAlreadyExistsError.errno):
                    log.error("could not create topic %s: error %d %s", topic, code, rest)
            log.info(
                "created topics %s: replication %d, min.insync.replicas %s",
                [t.name for t in wanted],
                replication,
                min_isr or "broker default",
            )
        for name in names:
            if name in existing:
                _check_replication(existing[name], replication)
    finally:
        await admin.close()


async def _broker_default_replication(admin: AIOKafkaAdminClient, cluster: dict) -> int | None:
    """The cluster's `default.replication.factor`, or None if the broker will not say."""
    try:
        broker = str(cluster.get("controller_id") or cluster["brokers"][0]["node_id"])
        async with asyncio.timeout(5):
            (response,) = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.BROKER, broker, {_DEFAULT_RF: None})]
            )
        for resource in response.to_object()["resources"]:
            for entry in resource["config_entries"]:
                if entry["config_names"] == _DEFAULT_RF:
                    return int(entry["config_value"])
    except Exception as exc:  # Tansu closes the connection on DescribeConfigs
        log.info("broker default replication unknown (%r)", exc)
    return None


_DEFAULT_RF = "default.replication.factor"


def _check_replication(topic: dict, wanted: int) -> None:
    """Log an existing topic's replication; warn when it is below what new topics get."""
    replicas = min((len(p["replicas"]) for p in topic["partitions"]), default=0)
    if replicas < wanted:
        log.warning(
            "topic %s has replication %d, below %d: losing one broker can stop its partitions",
            topic["topic"],
            replicas,
            wanted,
        )
    else:
        log.info("topic %s: replication %d", topic["topic"], replicas)


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
