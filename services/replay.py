"""Replay dead-lettered events once their cause is fixed.

    python -m services.replay --service aftersales --all
    python -m services.replay --service warehouse --event-id <id> [--event-id <id> ...]
    python -m services.replay --service order --all --since 2026-12-01T10:00:00+00:00 --dry-run

Reads the whole dead-letter topic, keeps the records of that service's consumers
(and the chosen event ids, and those dead-lettered at or after `--since`), and
publishes each one's original bytes to its original topic with its original key,
once per event. The consuming service's inbox drops an event it already applied,
so replaying twice changes nothing; an event that fails again is dead-lettered
again. Broker and topic prefix come from the environment, as for the services
(`KAFKA_BOOTSTRAP_SERVERS`, `FULFIL_TOPIC_PREFIX`, `KAFKA_IDEMPOTENCE`).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services import SERVICES
from shared import topics
from shared.dead_letters import DeadLetter
from shared.settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m services.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--service", required=True, choices=sorted(SERVICES))
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every dead letter of the service")
    which.add_argument("--event-id", action="append", help="only this event (repeatable)")
    p.add_argument("--since", type=_utc, help="dead-lettered at or after (ISO 8601; UTC if bare)")
    p.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    return p.parse_args(argv)


def _utc(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def chosen(letter: DeadLetter, args: argparse.Namespace) -> bool:
    if (letter.service or _service_of(letter.consumer)) != args.service:
        return False
    if args.event_id and letter.event_id not in args.event_id:
        return False
    if args.since:
        at = datetime.fromisoformat(letter.dead_lettered_at) if letter.dead_lettered_at else None
        return at is not None and at >= args.since
    return True


def _service_of(consumer: str) -> str:
    """Records written before they named their service: by consumer name."""
    if consumer == "order-service":
        return "order"
    return consumer.split("-", 1)[0]


async def dead_letters(settings: Settings) -> list[DeadLetter]:
    """Every record on the dead-letter topic, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        topic = settings.topic(topics.DEAD_LETTER)
        tps = [TopicPartition(topic, p) for p in await _partitions(settings, topic)]
        consumer.assign(tps)  # even none: stopping a consumer never assigned fails
        if not tps:
            return []
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        letters: list[DeadLetter] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            letters += [DeadLetter.parse(m.value) for msgs in batch.values() for m in msgs]
        return letters
    finally:
        await consumer.stop()


async def _partitions(settings: Settings, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return [p["partition"] for p in described["partitions"]]
    finally:
        await admin.close()


def once_per_event(letters: list[DeadLetter]) -> list[DeadLetter]:
    """An event dead-lettered more than once (by several consumers, or again after a
    replay) is published once; undecodable records by their original position."""
    seen: dict[object, DeadLetter] = {}
    for letter in letters:
        seen.setdefault(letter.event_id or (letter.topic, letter.partition, letter.offset), letter)
    return list(seen.values())


async def replay(settings: Settings, letters: list[DeadLetter]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
    )
    await producer.start()
    try:
        for letter in letters:  # in dead-letter order, each acknowledged before the next
            await producer.send_and_wait(letter.topic, letter.original, key=letter.original_key)
    finally:
        await producer.stop()


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(service=args.service)
    letters = once_per_event([x for x in await dead_letters(settings) if chosen(x, args)])
    for x in letters:
        print(
            f"{'would replay' if args.dry_run else 'replay'} {x.type or '?'} {x.event_id or '-'} "
            f"→ {x.topic} key {x.key} (dead-lettered {x.dead_lettered_at or '?'} by {x.consumer}: "
            f"{x.error})"
        )
    if not args.dry_run:
        await replay(settings, letters)
    print(f"{len(letters)} event(s) {'to replay' if args.dry_run else 'replayed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
