"""Kafka plumbing on aiokafka: a producer that reconnects, consumers that commit after the DB.

Producer choices: acks=all; idempotence where the broker supports it
(`KAFKA_IDEMPOTENCE`, off for the embedded Tansu); a short linger to batch;
requests capped at the broker's 1 MiB so an oversized event fails client-side;
a producer a fatal error left unusable is replaced by a fresh one. Topics get
the cluster's replication (see `ensure_topics`).

Consumers: manual offsets, committed as `{tp: last + 1}` only after the
handler's transaction committed, so delivery is at-least-once and the inbox
makes the effect exactly-once. A handler failing for a transient cause
(database or broker away) is retried until it passes, holding its partition;
a message that cannot be decoded, or whose handler keeps failing otherwise,
goes to the dead-letter topic (`shared.dead_letters`); the consumer carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    CommitFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAlreadyExistsError,
)

from shared import metrics, topics
from shared.dead_letters import DeadLetter
from shared.envelope import Envelope, EventRejected, decode
from shared.failures import is_transient
from shared.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]
BATCH = 500  # records per fetch, across partitions (as many as are there, up to this)
RETRY_CAP_SECONDS = 2.0  # the longest wait between two tries of a transiently failing event


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

    async def send(self, topic: str, key: str, value: bytes) -> asyncio.Future[Any]:
        """Queue one record; the future resolves with its acknowledgement (RecordMetadata)."""
        sent: asyncio.Future[Any] = await self._started().send(topic, value, key=key.encode())
        return sent

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


@dataclass
class Retrying:
    """An event a consumer keeps retrying (transient cause), for `/readyz`."""

    event: str
    since: float
    attempts: int
    error: str

    def __str__(self) -> str:
        seconds = time.monotonic() - self.since
        return f"{self.event} failing for {seconds:.1f}s ({self.attempts} attempts): {self.error}"


async def _broker_default_replication(
    admin: AIOKafkaAdminClient, cluster: dict[str, Any]
) -> int | None:
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


def _check_replication(topic: dict[str, Any], wanted: int) -> None:
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
    """Runs one handler over some topics in one consumer group.

    A fetch (every partition's new records, up to BATCH) is applied in offset order
    within each partition. With a `batch_handler`, all its events go through it as
    one transaction first; if that fails, each partition's events do (a partition's
    events in order; partitions are independent), and if that fails too, its events
    are applied one by one with `handler`. The offsets of the partitions applied are
    committed together, once per fetch, after the database commit. One event that
    fails for a transient cause (`shared.failures`) is retried with capped
    backoff for as long as it takes: nothing after it in its partition is applied
    and no offset passes it, and since a consumer applies its partitions in turn,
    its other partitions wait too (it says so on `/readyz` and in
    `consumer_retrying`). It gives up only if the partition is taken away (the
    group rebalanced, e.g. after `max_poll_interval`); the new owner redelivers.
    An event that fails otherwise is tried `attempts` times, then dead-lettered.
    """

    def __init__(
        self,
        settings: Settings,
        bus: Bus,
        *,
        name: str,
        topics: Sequence[str],
        handler: Handler,
        batch_handler: BatchHandler | None = None,
        group_id: str | None = None,
        attempts: int = 3,
    ):
        self.settings, self.bus, self.name, self.handler = settings, bus, name, handler
        self.batch_handler = batch_handler
        self.topics = [settings.topic(t) for t in topics]
        self.group_id = group_id or f"{settings.topic_prefix}{name}"
        self.attempts = attempts
        self.consumer: AIOKafkaConsumer | None = None
        self.retrying: Retrying | None = None
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
            self._clear_retrying()
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
            batches = await self.consumer.getmany(timeout_ms=200, max_records=BATCH)
            if not batches:
                continue
            offsets = await self._apply_fetch(batches)
            if not offsets:
                continue
            try:
                await self.consumer.commit(offsets)
            except CommitFailedError as exc:
                # Rebalanced mid-batch: the new owner redelivers; the inbox de-duplicates.
                log.info("consumer %s: commit after rebalance refused: %s", self.name, exc)

    async def _apply_fetch(
        self, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, int]:
        """Apply a fetch; the offsets to commit (a partition taken away meanwhile is left
        out: its new owner redelivers)."""
        decoded = {tp: await self._decode(messages) for tp, messages in batches.items()}
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batches.items()}
        if len(decoded) > 1:
            envelopes = [env for pairs in decoded.values() for _, env in pairs]
            if len(envelopes) > 1 and await self._apply_batch(envelopes):
                return offsets
        for tp, pairs in decoded.items():
            if not await self._apply(tp, pairs):
                del offsets[tp]
        return offsets

    async def _decode(
        self, messages: list[ConsumerRecord]
    ) -> list[tuple[ConsumerRecord, Envelope]]:
        """The partition's decodable messages; the others are dead-lettered."""
        decoded: list[tuple[ConsumerRecord, Envelope]] = []
        for msg in messages:
            try:
                decoded.append((msg, decode(msg.value or b"")))
            except EventRejected as exc:
                await self._dead_letter(msg, str(exc), 1)
                metrics.EVENTS_CONSUMED.labels(self.name, "rejected").inc()
        return decoded

    async def _apply(
        self, tp: TopicPartition, decoded: list[tuple[ConsumerRecord, Envelope]]
    ) -> bool:
        """Apply one partition's messages in order; False if the partition was lost."""
        if len(decoded) > 1 and await self._apply_batch([env for _, env in decoded]):
            return True
        for msg, envelope in decoded:
            if not await self._process(tp, msg, envelope):
                return False
        return True

    async def _apply_batch(self, envelopes: list[Envelope]) -> bool:
        """All in one transaction; False (nothing applied) if there is no batch handler or
        it failed, and then the events are applied one by one."""
        if self.batch_handler is None:
            return False
        try:
            await self.batch_handler(envelopes)
        except (asyncio.CancelledError, KafkaError):
            raise
        except Exception as exc:
            log.info(
                "consumer %s: batch of %d failed (%r); one by one", self.name, len(envelopes), exc
            )
            metrics.CONSUMER_BATCH_FALLBACKS.labels(self.name).inc()
            return False
        metrics.EVENTS_CONSUMED.labels(self.name, "ok").inc(len(envelopes))
        return True

    async def _process(self, tp: TopicPartition, msg: ConsumerRecord, envelope: Envelope) -> bool:
        """Apply one event: retried while the cause is transient, else dead-lettered after
        `attempts`. False if the partition was taken away meanwhile."""
        failures = transient = 0
        while True:
            try:
                await self.handler(envelope)
                metrics.EVENTS_CONSUMED.labels(self.name, "ok").inc()
                self._clear_retrying()
                return True
            except (asyncio.CancelledError, KafkaError):
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if is_transient(exc):
                    transient += 1
                    self._note_retrying(msg, envelope, transient, error)
                    if not self._holds(tp):
                        self._clear_retrying()
                        return False
                    await asyncio.sleep(min(0.1 * 2 ** min(transient, 5), RETRY_CAP_SECONDS))
                    continue
                failures += 1
                log.warning(
                    "consumer %s: %s failed (attempt %d): %r",
                    self.name,
                    envelope.type,
                    failures,
                    exc,
                )
                if failures >= self.attempts:
                    await self._dead_letter(msg, error, failures, envelope)
                    metrics.EVENTS_CONSUMED.labels(self.name, "dead_letter").inc()
                    self._clear_retrying()
                    return True
                await asyncio.sleep(0.05 * 2**failures)

    def _note_retrying(self, msg: ConsumerRecord, env: Envelope, attempts: int, error: str) -> None:
        metrics.CONSUMER_TRANSIENT_FAILURES.labels(self.name).inc()
        if self.retrying is None:
            where = f"{env.type} {env.event_id} ({msg.topic}[{msg.partition}]@{msg.offset})"
            self.retrying = Retrying(where, time.monotonic(), attempts, error)
            metrics.CONSUMER_RETRYING.labels(self.name).set(1)
            log.warning("consumer %s: %s failed, transient, retrying: %s", self.name, where, error)
        else:
            self.retrying.attempts, self.retrying.error = attempts, error

    def _clear_retrying(self) -> None:
        if self.retrying is not None:
            log.warning("consumer %s: %s passed after retrying", self.name, self.retrying)
            self.retrying = None
            metrics.CONSUMER_RETRYING.labels(self.name).set(0)

    def _holds(self, tp: TopicPartition) -> bool:
        return self.consumer is not None and tp in self.consumer.assignment()

    async def _dead_letter(
        self, msg: ConsumerRecord, error: str, attempts: int, envelope: Envelope | None = None
    ) -> None:
        letter = DeadLetter.of(
            msg,
            service=self.settings.service,
            consumer=self.name,
            group_id=self.group_id,
            error=error,
            attempts=attempts,
            envelope=envelope,
        )
        dlq = self.settings.topic(topics.DEAD_LETTER)
        await self.bus.send_all([(dlq, letter.key or self.name, letter.encode())])
        metrics.DEAD_LETTERS.labels(self.name).inc()

    async def _stop(self) -> None:
        self._joined = False
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.consumer.stop()
            self.consumer = None
