"""The platform's guarantees, on the real database and the real broker (SPEC §5)."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from shared import topics
from shared.envelope import new_event
from shared.events.orders import OrderStageChanged
from tests.integration.platform import toy
from tests.support import wait_until

pytestmark = pytest.mark.broker


@pytest.fixture
def settings(make_settings):
    return make_settings("order")


async def started(rt, *consumers):
    await rt.db.create_schema(toy.metadata)
    tasks = [asyncio.create_task(rt.bus.run()), asyncio.create_task(rt.relay.run())]
    tasks += [asyncio.create_task(c.run()) for c in consumers]
    await rt.bus.wait_connected()
    return tasks


async def stopped(rt, tasks) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rt.bus.stop()
    await rt.db.dispose()


async def unpublished(rt) -> int:
    t = toy.tables.outbox
    async with rt.db.reader() as s:
        return (
            await s.execute(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))
        ).scalar_one()


async def test_outbox_survives_a_crash_between_commit_and_publish(settings):
    # A separate process commits three state changes and dies before any publish.
    payload = settings.model_dump_json(by_alias=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.platform.toy",
        payload,
        "3",
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 137, stderr.decode()
    rt = toy.runtime(settings)
    assert await unpublished(rt) == 3  # committed, never published

    tasks = await started(rt, toy.consumer(rt))  # the restart
    try:
        await wait_until(lambda: toy.count(rt), expect=3, message="3 steps applied downstream")
        await wait_until(lambda: unpublished(rt), expect=0, message="outbox drained")
        # Exactly once even if the events are sent again: resend, then a marker step on
        # the same order (same partition, so it is handled after the resent ones).
        await rt.bus.send_all(await _outbox_records(rt))
        await toy.record_step(rt, "crash-order", 4)
        await wait_until(lambda: toy.count(rt, toy.applied.c.seq == 4), message="marker")
        assert await toy.count(rt) == 4
        assert await toy.count(rt, toy.applied.c.in_order == 1) == 4
        await wait_until(lambda: unpublished(rt), expect=0, message="marker published")
        await rt.relay.prune(older_than=timedelta(0))  # published rows are pruned, not kept
        assert await _outbox_records(rt) == []
    finally:
        await stopped(rt, tasks)


async def _outbox_records(rt):
    t = toy.tables.outbox
    async with rt.db.reader() as s:
        rows = (await s.execute(select(t.c.topic, t.c.key, t.c.value).order_by(t.c.id))).all()
    return [(r.topic, r.key, r.value) for r in rows]


async def _all_inbox(rt, n: int) -> bool:
    t = toy.tables.inbox
    async with rt.db.reader() as s:
        return (await s.execute(select(func.count()).select_from(t))).scalar_one() == n


def published(relay_name: str) -> float:
    return REGISTRY.get_sample_value("events_published_total", {"relay": relay_name}) or 0


async def caught_up(event_consumer) -> bool:
    """The consumer has read and committed everything on its assigned partitions."""
    c = event_consumer.consumer
    if c is None or not c.assignment():
        return False
    ends = await c.end_offsets(list(c.assignment()))
    for tp, end in ends.items():
        if (await c.committed(tp) or 0) != end:
            return False
    return True


async def test_redelivered_and_replayed_events_change_nothing(settings, make_settings):
    rt = toy.runtime(settings)
    tasks = await started(rt, toy.consumer(rt))
    try:
        for seq in (1, 2):
            await toy.record_step(rt, "dup-order", seq)
        await wait_until(lambda: toy.count(rt), expect=2)
        await rt.bus.send_all(await _outbox_records(rt))  # redelivery of both events
        await toy.record_step(rt, "dup-order", 3)  # marker, same partition, after them
        await wait_until(lambda: toy.count(rt, toy.applied.c.seq == 3), message="marker")
        assert await toy.count(rt) == 3

        # Replay the whole topic from offset 0 in a new group sharing the inbox.
        replay = toy.consumer(rt, group_id=f"replay-{uuid.uuid4().hex}")
        tasks.append(asyncio.create_task(replay.run()))
        await wait_until(lambda: caught_up(replay), message="replay reached the end")
        assert await toy.count(rt) == 3
        assert await toy.count(rt, toy.applied.c.in_order == 1) == 3
    finally:
        await stopped(rt, tasks)


async def test_per_order_order_survives_two_relays_and_a_rebalance(make_settings):
    # Two instances of the producing service share a database; both run relays.
    producer_a = toy.runtime(make_settings("order", FULFIL_INSTANCE_ID="a"))
    producer_b = toy.runtime(make_settings("order", FULFIL_INSTANCE_ID="b"))
    downstream_1 = toy.runtime(make_settings("warehouse", FULFIL_INSTANCE_ID="c1"))
    downstream_2 = toy.runtime(make_settings("warehouse", FULFIL_INSTANCE_ID="c2"))
    tasks_a = await started(producer_a)
    tasks_b = await started(producer_b)
    tasks_1 = await started(downstream_1, toy.consumer(downstream_1))
    tasks_2: list = []
    orders, steps_per_order = [f"ord-{i}" for i in range(12)], 25
    published_before = published(producer_a.relay.name)
    try:
        for seq in range(1, steps_per_order + 1):
            for i, order in enumerate(orders):
                await toy.record_step(producer_a if (seq + i) % 2 else producer_b, order, seq)
            if seq == 8:  # a second consumer joins the group: rebalance mid-stream
                tasks_2 = await started(downstream_2, toy.consumer(downstream_2))
            if seq == 16:  # and the first leaves: another rebalance
                await stopped(downstream_1, tasks_1)
                tasks_1 = []
        total = len(orders) * steps_per_order
        await wait_until(
            lambda: toy.count(downstream_2),
            expect=total,
            timeout=60,
            message=f"{total} steps applied",
        )
        assert await toy.count(downstream_2, toy.applied.c.in_order == 0) == 0
        async with downstream_2.db.reader() as s:
            per_order = dict(
                (await s.execute(select(toy.steps.c.order_id, toy.steps.c.last))).all()
            )
        assert per_order == {o: steps_per_order for o in orders}
        # One relay at a time: each event went on the wire once, not once per instance.
        assert published(producer_a.relay.name) - published_before == total
    finally:
        await stopped(producer_a, tasks_a)
        await stopped(producer_b, tasks_b)
        if tasks_1:
            await stopped(downstream_1, tasks_1)
        await stopped(downstream_2, tasks_2)


async def test_poison_messages_go_to_the_dead_letter_topic(settings, broker):
    rt = toy.runtime(settings)
    tasks = await started(rt, toy.consumer(rt, fail_on="bad-order"))
    dlq = AIOKafkaConsumer(
        settings.topic(topics.DEAD_LETTER),
        bootstrap_servers=broker,
        group_id=f"dlq-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await dlq.start()
    await producer.start()
    try:
        orders_topic = settings.topic(topics.ORDERS)
        unknown = new_event(
            OrderStageChanged(stage="s", previous="p", trigger="1"), producer="t", order_id="x"
        ).model_dump(mode="json")
        unknown["type"] = "order.teleported"
        for raw in (b"not json at all", json.dumps(unknown).encode()):
            await producer.send_and_wait(orders_topic, raw, key=b"x")
        await toy.record_step(rt, "bad-order", 1)  # valid, but its handler keeps failing
        await toy.record_step(rt, "good-order", 1)
        await wait_until(
            lambda: toy.count(rt, toy.applied.c.order_id == "good-order"),
            expect=1,
            message="the consumer carried on past the poison",
        )
        letters = []
        while len(letters) < 3:
            batch = await asyncio.wait_for(dlq.getmany(timeout_ms=500), 20)
            letters += [json.loads(m.value) for msgs in batch.values() for m in msgs]
        errors = sorted(letter["error"].split(":")[0] for letter in letters)
        assert errors == [
            "RuntimeError",
            "invalid envelope",
            "unknown event type 'order.teleported'",
        ]
        originals = {base64.b64decode(letter["original_b64"]) for letter in letters}
        assert b"not json at all" in originals
    finally:
        await dlq.stop()
        await producer.stop()
        await stopped(rt, tasks)
