"""A dead-lettered event is replayed once its cause is fixed (`python -m services.replay`)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from services.replay import dead_letters
from shared.envelope import decode
from tests.integration.platform import toy
from tests.integration.platform.test_delivery_guarantees import started, stopped
from tests.support import wait_until

pytestmark = pytest.mark.broker


async def run_replay(settings, *args: str) -> str:
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        FULFIL_TOPIC_PREFIX=settings.topic_prefix,
        KAFKA_IDEMPOTENCE=str(settings.kafka_idempotence).lower(),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.replay",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def applied(rt, order_id: str, seq: int):
    return lambda: toy.count(rt, toy.applied.c.order_id == order_id, toy.applied.c.seq == seq)


async def test_dead_lettered_events_are_replayed_once_the_cause_is_fixed(make_settings):
    settings = make_settings("order")
    rt = toy.runtime(settings)
    consumer = toy.consumer(rt)
    handler, broken = consumer.handler, {"bad-1", "bad-2"}

    async def handle(envelope):
        if envelope.order_id in broken:
            raise ValueError(f"no rule for {envelope.order_id}")  # deterministic: a bug
        await handler(envelope)

    consumer.handler, consumer.batch_handler = handle, None  # every event through `handle`
    tasks = await started(rt, consumer)
    try:
        for order in ("bad-1", "bad-2", "good"):
            await toy.record_step(rt, order, 1)
        await wait_until(applied(rt, "good", 1), expect=1, message="good applied")
        letters = await wait_until(_two(settings), message="both bad events dead-lettered")
        by_order = {decode(x.original).order_id: x for x in letters}
        assert set(by_order) == {"bad-1", "bad-2"}
        first = by_order["bad-1"]
        assert (first.service, first.consumer, first.type, first.attempts) == (
            "order",
            "toy",
            "order.stage_changed",
            3,
        )
        assert first.error == "ValueError: no rule for bad-1"
        assert first.topic == settings.topic("orders") and first.original_key == b"bad-1"
        assert first.event_id == decode(first.original).event_id and first.dead_lettered_at

        broken.clear()  # the cause is fixed (a release with the bug fixed)
        out = await run_replay(settings, "--service", "order", "--event-id", first.event_id)
        assert "1 event(s) replayed" in out
        await wait_until(applied(rt, "bad-1", 1), expect=1, message="bad-1 replayed")
        out = await run_replay(settings, "--service", "warehouse", "--all")
        assert "0 event(s) replayed" in out  # another service's letters are not touched
        out = await run_replay(settings, "--service", "order", "--all")
        assert "2 event(s) replayed" in out  # bad-1 again: the inbox drops it
        await wait_until(applied(rt, "bad-2", 1), expect=1, message="bad-2 replayed")
        for order in ("bad-1", "bad-2"):  # markers behind the replays, same partitions
            await toy.record_step(rt, order, 2)
            await wait_until(applied(rt, order, 2), expect=1, message=f"{order} marker")
        assert await toy.count(rt, toy.applied.c.seq == 1) == 3  # each once
        assert await toy.count(rt, toy.applied.c.in_order == 1) == 5
    finally:
        await stopped(rt, tasks)


def _two(settings):
    async def letters():
        found = await dead_letters(settings)
        return found if len(found) == 2 else None

    return letters
