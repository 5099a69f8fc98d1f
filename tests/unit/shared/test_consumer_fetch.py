"""A consumer applies a fetch as one transaction and commits its offsets once (a fake
broker client: what the bus does with what it fetched, not the broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared.bus import EventConsumer
from shared.envelope import Envelope, new_event
from shared.events.orders import OrderStageChanged
from shared.settings import Settings

A, B = TopicPartition("orders", 0), TopicPartition("orders", 1)


def record(tp: TopicPartition, offset: int, order_id: str) -> ConsumerRecord:
    env = new_event(
        OrderStageChanged(stage="s", previous="p", trigger=str(offset)),
        producer="test",
        order_id=order_id,
    )
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, env.encode(), None, 0, 0, [])


class FakeClient:
    """Hands out the given fetches, then stops the loop; records every commit."""

    def __init__(self, *fetches: dict[TopicPartition, list[ConsumerRecord]]):
        self.fetches = list(fetches)
        self.commits: list[dict[TopicPartition, int]] = []
        self.held = {A, B}

    async def getmany(self, timeout_ms: int, max_records: int):
        if not self.fetches:
            raise asyncio.CancelledError
        return self.fetches.pop(0)

    async def commit(self, offsets):
        self.commits.append(dict(offsets))

    def assignment(self):
        return self.held


class Recorder:
    """The handlers: what went through each, as lists of order ids."""

    def __init__(self, fail_on: str | None = None, transient_on: str | None = None):
        self.batches: list[list[str]] = []
        self.singles: list[str] = []
        self.fail_on, self.transient_on = fail_on, transient_on

    def _check(self, env: Envelope) -> None:
        if env.order_id == self.fail_on:
            raise RuntimeError("cannot")
        if env.order_id == self.transient_on:
            raise ConnectionRefusedError("database away")

    async def batch(self, envelopes: Sequence[Envelope]) -> None:
        for env in envelopes:
            self._check(env)
        self.batches.append([e.order_id or "" for e in envelopes])

    async def single(self, env: Envelope) -> None:
        self._check(env)
        self.singles.append(env.order_id or "")


def consumer(handlers: Recorder, client: FakeClient) -> EventConsumer:
    c = EventConsumer(
        Settings(service="order", _env_file=None),
        bus=None,  # type: ignore[arg-type]  # nothing is dead-lettered here
        name="test",
        topics=["orders"],
        handler=handlers.single,
        batch_handler=handlers.batch,
        attempts=1,
    )
    c.consumer = client  # type: ignore[assignment]
    return c


async def run(c: EventConsumer) -> None:
    with pytest.raises(asyncio.CancelledError):
        await c._loop()


async def test_a_fetch_is_one_transaction_and_one_offset_commit():
    client = FakeClient(
        {A: [record(A, 0, "O-1"), record(A, 1, "O-1")], B: [record(B, 7, "O-2")]},
        {B: [record(B, 8, "O-2")]},
    )
    handlers = Recorder()
    await run(consumer(handlers, client))
    assert handlers.batches == [["O-1", "O-1", "O-2"]]  # then a lone event: one by one
    assert handlers.singles == ["O-2"]
    assert client.commits == [{A: 2, B: 8}, {B: 9}]


async def test_a_failing_partition_does_not_hold_back_the_others_batch():
    client = FakeClient(
        {
            A: [record(A, 0, "O-1"), record(A, 1, "O-1")],
            B: [record(B, 0, "O-BAD"), record(B, 1, "O-2")],
        }
    )
    handlers = Recorder(fail_on="O-BAD")
    dead: list[int] = []

    c = consumer(handlers, client)

    async def dead_letter(msg, error, attempts, envelope=None):
        dead.append(msg.offset)

    c._dead_letter = dead_letter  # type: ignore[method-assign]
    await run(c)
    # the fetch failed whole; A still went as one batch, B one by one around the bad one
    assert handlers.batches == [["O-1", "O-1"]]
    assert handlers.singles == ["O-2"]
    assert dead == [0]
    assert client.commits == [{A: 2, B: 2}]


async def test_a_partition_taken_away_while_retrying_is_not_committed():
    client = FakeClient(
        {A: [record(A, 0, "O-1"), record(A, 1, "O-1")], B: [record(B, 0, "O-AWAY")]}
    )
    handlers = Recorder(transient_on="O-AWAY")
    c = consumer(handlers, client)

    real = handlers.single

    async def single(env: Envelope) -> None:
        if env.order_id == "O-AWAY":
            client.held = {A}  # rebalanced while the database was away
        await real(env)

    c.handler = single
    await run(c)
    assert handlers.batches == [["O-1", "O-1"]]
    assert client.commits == [{A: 2}]
