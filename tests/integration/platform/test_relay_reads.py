"""The relay reads the outbox paced, not once per acknowledgement (issue 14, bench.scanner).

A stream of small commits while earlier rows wait for their acknowledgements made
the relay read the outbox on every acknowledgement: 5.5 times the reads per scan of the
old relay. With rows in flight it reads new commits at most every `fill_seconds`;
every row is still sent, in per-key order.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import select

from tests.integration.platform import toy
from tests.integration.platform.fake_producer import HANG, Wire
from tests.integration.platform.test_relay_recovery import started, stopped, unpublished
from tests.support import wait_until


def ack_seconds(key: str) -> float:
    """Acknowledgements come 5 to 30 ms after the send, as partitions answer in turn."""
    return 0.005 * (1 + int(key.rsplit("-", 1)[1]) % 6)


def slow_acks(rt, monkeypatch) -> None:
    send, loop = rt.bus.send, asyncio.get_running_loop()

    async def delayed(topic: str, key: str, value: bytes) -> asyncio.Future:
        ack, later = await send(topic, key, value), loop.create_future()

        def answer() -> None:
            if not later.done():
                later.set_result(ack.result())

        loop.call_later(ack_seconds(key), answer)
        return later

    monkeypatch.setattr(rt.bus, "send", delayed)


async def test_a_stream_of_commits_is_read_in_few_queries(make_settings, monkeypatch):
    wire = Wire(lambda producer, key, value: None)
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order"))
    slow_acks(rt, monkeypatch)
    reads: list[int] = []  # rows in flight at each read of the outbox
    unsent = rt.relay._unsent

    async def counted(busy, limit):
        reads.append(len(rt.relay._sending))
        return await unsent(busy, limit)

    monkeypatch.setattr(rt.relay, "_unsent", counted)
    tasks = await started(rt)
    try:
        start = time.monotonic()
        for seq in range(1, 201):  # commits back to back, twenty keys: rows in flight
            await toy.record_step(rt, f"ord-{seq % 20}", seq // 20 + 1)
        await wait_until(lambda: unpublished(rt), expect=0, message="every row marked")
        seconds = time.monotonic() - start
        for key in range(20):
            steps = wire.steps(f"ord-{key}")
            assert steps == sorted(steps), (key, steps)  # per-key order kept
        assert len({(k, s) for k, s in wire.records}) == 200
        # with rows in flight: one read per fill_seconds (0.025) for new commits, and a
        # few that a held-back key's acknowledgement triggers; not one per acknowledgement
        # (a commit finding nothing in flight is read at once: slow commits, PostgreSQL)
        paced = [n for n in reads if n]
        assert len(paced) <= seconds / 0.025 + 10, (len(paced), len(reads), seconds)
    finally:
        await stopped(rt, tasks)


async def test_the_lease_is_renewed_while_rows_wait_for_acks(make_settings, monkeypatch):
    Wire(lambda producer, key, value: HANG).install(monkeypatch)  # never acknowledged
    rt = toy.runtime(make_settings("order"))
    rt.relay.lease_seconds = 0.6  # renewed every 0.2 s
    tasks = await started(rt)
    try:
        await toy.record_step(rt, "ord-1", 1)
        await wait_until(lambda: len(rt.relay._sending), expect=1, message="row in flight")
        await asyncio.sleep(1.5)  # the lease's length, twice over: paced reads skip none
        lease = toy.tables.lease
        async with rt.db.reader() as s:
            expires = (await s.execute(select(lease.c.expires_at))).scalar_one()
        assert rt.relay._sending, "still in flight"
        assert expires.replace(tzinfo=expires.tzinfo or UTC) > datetime.now(UTC), expires
    finally:
        await stopped(rt, tasks)
