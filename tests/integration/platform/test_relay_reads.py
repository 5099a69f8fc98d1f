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


def count_reads(rt, monkeypatch, reads: list, note) -> None:
    """Append `note()` to `reads` at each read of the outbox."""
    unsent = rt.relay._unsent

    async def counted(busy, skip, limit):
        reads.append(note())
        return await unsent(busy, skip, limit)

    monkeypatch.setattr(rt.relay, "_unsent", counted)


async def test_a_stream_of_commits_is_read_in_few_queries(make_settings, monkeypatch):
    wire = Wire(lambda producer, key, value: None)
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order"))
    slow_acks(rt, monkeypatch)
    reads: list[int] = []  # rows in flight at each read of the outbox
    count_reads(rt, monkeypatch, reads, lambda: len(rt.relay._sending))
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


async def test_rows_read_behind_their_keys_go_without_another_read(make_settings, monkeypatch):
    """An order's events committed together (synced and reviewed, in the webhook intake):
    the rows behind the first of each key were read with it, and go as it is acknowledged.
    Reading again on each such acknowledgement made a read per event at webhook rates."""
    wire = Wire(lambda producer, key, value: None)
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order"))
    slow_acks(rt, monkeypatch)
    await rt.db.create_schema(toy.metadata)
    for step in range(1, 5):  # four rows for each of thirty keys, before the relay starts
        for key in range(30):
            await toy.record_step(rt, f"ord-{key}", step)
    reads: list[int] = []  # rows in flight at each read of the outbox
    count_reads(rt, monkeypatch, reads, lambda: len(rt.relay._sending))
    tasks = await started(rt)
    try:
        await wait_until(lambda: unpublished(rt), expect=0, message="every row marked")
        for key in range(30):
            assert wire.steps(f"ord-{key}") == [1, 2, 3, 4], key
        # the first read found them all; with rows in flight none is needed (before: one
        # per acknowledgement of a key with rows behind it, 90 here)
        assert len([n for n in reads if n]) <= 2, reads
    finally:
        await stopped(rt, tasks)


async def test_commits_acknowledged_at_once_are_read_paced_too(make_settings, monkeypatch):
    """With acknowledgements as fast as commits nothing is in flight when the next commit
    lands, and each commit was read at once: a read per group commit of the webhook
    intake (a third of the order service's time at 500 webhooks/s). Now at most one read
    per `fill_seconds`; a commit after a quiet spell is still read at once."""
    wire = Wire(lambda producer, key, value: None)
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order"))
    reads: list[float] = []
    count_reads(rt, monkeypatch, reads, time.monotonic)
    tasks = await started(rt)
    try:
        await asyncio.sleep(0.3)  # the relay's first reads, before any commit
        start = time.monotonic()
        for seq in range(1, 101):
            await toy.record_step(rt, f"ord-{seq % 10}", seq)
            await asyncio.sleep(0.005)
        await wait_until(lambda: unpublished(rt), expect=0, message="every row marked")
        seconds = time.monotonic() - start
        streamed = [at for at in reads if at >= start]
        assert len(streamed) <= seconds / rt.relay.fill_seconds + 5, (len(streamed), seconds)
        assert len({(k, s) for k, s in wire.records}) == 100
        await asyncio.sleep(0.3)  # quiet: the next commit is read at once
        committed = time.monotonic()
        await toy.record_step(rt, "ord-1", 101)
        await wait_until(lambda: unpublished(rt), expect=0, message="the lone row marked")
        first = min(at for at in reads if at >= committed) - committed
        assert first < rt.relay.fill_seconds, first
    finally:
        await stopped(rt, tasks)
