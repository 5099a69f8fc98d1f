"""Transactional outbox: rows written with the state change, published by a relay.

The relay publishes unpublished rows in id order and marks each row published
once the broker acknowledged it. A crash between commit and publish leaves the
rows unpublished; the next relay sends them (consumers de-duplicate by event
id). With several instances of a service only the holder of the relay lease
publishes, so per-order order survives.

Per-key order: at most one row per key is in flight at a time, and a key's
next row is sent only once the one before is acknowledged, so no producer
failure can reorder an order's events. Rows are marked per acknowledgement:
a partition whose leader is away holds back only its own keys.

Reads are paced: newly committed rows are read at most every `fill_seconds`
(25 ms), and every `stream_fill_seconds` (100 ms) while reads keep finding
`stream_rows` or more, so a stream of small commits (the webhook group commit,
scans) costs a read per interval, not one per commit or per acknowledgement: a
read cycle (query, sends, acknowledgements) has a fixed cost, 250 µs an event at
1,000 events/s read every 25 ms, under 100 µs read every 100 ms. A commit after
a quiet spell is read at once. A key's rows read behind its row in flight wait in
memory and go as it is acknowledged, without another read. The relay also reads
when the window is half free after a full read, and when the lease is due.

Marks are writes, and SQLite has one writer, shared with the intake's group
commit: one mark at a time, at most one every `mark_seconds` (an acknowledged
row is not sent again meanwhile, and its key's next row may go; a crash before
the mark only sends it again, and consumers de-duplicate).

Producer errors (see `refused_for_good`):
- refused for good (too large): the row is parked (`parked_at`, `error`, a
  log, `outbox_parked_total`) and the key's later rows are held back, not
  sent, until an operator retries or discards it (`retry_parked`,
  `discard_parked`); other keys carry on.
- anything else (OutOfOrderSequenceNumber, UnknownProducerId, fenced, a
  send timeout...): the producer is replaced by a fresh one (a new producer
  id) and every unacknowledged row is sent again, from the first unmarked.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import Select, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics
from shared.db import rowcount
from shared.envelope import Envelope
from shared.messaging import MessagingTables

if TYPE_CHECKING:
    from shared.bus import Bus
    from shared.db import Database

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 60.0
_PARTITIONER = DefaultPartitioner()  # the producer's own: grouping only, not placement
_REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)


def refused_for_good(exc: BaseException) -> bool:
    """The broker (or the client, checking its limits) will never take this record."""
    return isinstance(exc, _REFUSED)


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Stages events in the caller's transaction and wakes the relay after commit."""

    def __init__(
        self, tables: MessagingTables, topic_of: Callable[[str], str] = lambda name: name
    ) -> None:
        self.tables = tables
        self.topic_of = topic_of
        self.pending = asyncio.Event()

    async def add(self, session: AsyncSession, items: Iterable[tuple[str, Envelope]]) -> None:
        rows = [
            {
                "event_id": env.event_id,
                "topic": self.topic_of(topic),
                "key": env.partition_key,
                "value": env.encode(),
                "created_at": _now(),
            }
            for topic, env in items
        ]
        if rows:
            await session.execute(insert(self.tables.outbox), rows)

    def notify(self) -> None:
        self.pending.set()


@dataclass(frozen=True)
class _Row:
    id: int
    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class _Flight:
    row: _Row
    deadline: float  # monotonic; unacknowledged by then counts as a producer failure


def _copy_outcome(target: asyncio.Future[Any], source: asyncio.Future[Any]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.set_exception(KafkaError("send cancelled by the producer"))
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


def unsent_rows(t: Table, busy: set[str], skip: set[int], limit: int) -> Select[Any]:
    """Unmarked rows in id order, leaving out keys in flight, keys with a parked row and
    the rows in `skip` (acknowledged, not yet marked). It walks the partial indexes of
    unsent and parked rows (`messaging_tables`), however many rows the outbox keeps."""
    parked_keys = select(t.c.key).where(t.c.parked_at.is_not(None), t.c.published_at.is_(None))
    query = (
        select(t.c.id, t.c.topic, t.c.key, t.c.value)
        .where(t.c.published_at.is_(None), t.c.parked_at.is_(None))
        .where(t.c.key.not_in(parked_keys))
        .order_by(t.c.id)
        .limit(limit)
    )
    if busy:
        query = query.where(t.c.key.not_in(busy))
    return query.where(t.c.id.not_in(skip)) if skip else query


class OutboxRelay:
    """Publishes the outbox in per-key order while holding the relay lease."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        bus: Bus,
        *,
        name: str,
        owner: str,
        batch: int = 500,
        idle_seconds: float = 0.2,
        lease_seconds: float = 10.0,
        send_timeout: float = 15.0,
        stale_seconds: float = 30.0,
        mark_seconds: float = 0.25,
        fill_seconds: float = 0.025,
        stream_fill_seconds: float = 0.1,
        stream_rows: int = 8,
    ):
        self.db, self.outbox, self.bus = db, outbox, bus
        self.name, self.owner = name, owner
        self.batch, self.idle, self.lease_seconds = batch, idle_seconds, lease_seconds
        self.send_timeout, self.stale_seconds = send_timeout, stale_seconds
        self.mark_seconds, self.fill_seconds = mark_seconds, fill_seconds
        self.stream_fill_seconds, self.stream_rows = stream_fill_seconds, stream_rows
        self._filled_at = -fill_seconds  # monotonic; the last read of the outbox
        self._found = 0  # rows the last read returned
        self._full = False  # the last read found more rows than it could send
        # Rows read behind their key's row in flight, sent as it is acknowledged
        self._next: dict[str, deque[_Row]] = {}
        self._done: list[asyncio.Future[Any]] = []  # settled sends, not yet collected
        self._marked_at = -mark_seconds  # monotonic; the last mark's start
        self._lease_until = datetime(1970, 1, 1, tzinfo=UTC)
        self._sending: dict[asyncio.Future[Any], _Flight] = {}  # a row's acknowledgement
        self._senders: set[asyncio.Task[None]] = set()  # one per partition and fill
        self._changed = asyncio.Event()  # a send or a mark settled
        self._acked: list[_Row] = []  # acknowledged, not yet marked
        self._marking: asyncio.Task[None] | None = None
        self._marking_ids: set[int] = set()
        self._first_try: dict[int, float] = {}  # row id → first send (until acked)
        self._failures = 0  # consecutive fatal producer errors
        self._recovering = False
        self._waiting = 0
        self._progress_at = time.monotonic()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await self._abandon()
            if self._marking is not None:  # awaited: it holds a connection until it ends
                self._marking.cancel()
                await asyncio.gather(self._marking, return_exceptions=True)

    async def _run(self) -> None:
        backoff, next_prune = 0.1, 0.0
        while True:
            try:
                sent = await self._fill() if self._fill_wanted() else 0
                if self._sending or self._marking is not None:
                    await self._wait_any(until_fill=True)
                elif not sent:
                    if time.monotonic() >= next_prune and self.bus.connected:
                        await self.prune()
                        next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    await self._idle()
                await self._settle()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay %s: %s; retrying in %.1fs", self.name, exc, backoff)
                metrics.RELAY_ERRORS.labels(self.name).inc()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _idle(self) -> None:
        """Until a commit or `idle`; then until the next read is due."""
        with contextlib.suppress(TimeoutError):
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
            # arrives as the event is set, and shutdown then hangs on the relay.
            async with asyncio.timeout(self.idle):
                await self.outbox.pending.wait()
        if (wait := self._next_fill_at() - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def _next_fill_at(self) -> float:
        """When new commits may be read (monotonic): sooner after a read that found few."""
        streaming = self._found >= self.stream_rows
        return self._filled_at + (self.stream_fill_seconds if streaming else self.fill_seconds)

    def _fill_wanted(self) -> bool:
        """Read the outbox now? See the module's docstring."""
        due = time.monotonic() >= self._next_fill_at()
        if self._lease_due():
            return True
        if not self._sending:
            return due
        if self._full and len(self._sending) <= self.batch // 2:
            return True
        return due and self.outbox.pending.is_set()

    async def _wait_any(self, *, until_fill: bool = False) -> None:
        """Until a send or the mark settles, or the idle time; new commits wake it only
        when nothing is in flight (under load, acknowledgements pace the reads), or,
        `until_fill`, once the next read is due."""
        timeout = self.idle
        if until_fill and self.outbox.pending.is_set():
            due = self._next_fill_at() - time.monotonic()
            timeout = min(timeout, max(due, 0.0))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                if self._sending or self._marking is not None:
                    await self._changed.wait()
                else:
                    await self.outbox.pending.wait()
        self._changed.clear()

    async def publish_once(self) -> int:
        """Send what may go now and wait for its acknowledgements; returns how many were sent.

        0 means nothing is left to send (and every mark has been written).
        """
        sent = await self._fill()
        while self._sending:
            await self._wait_any()
            await self._settle(mark_now=True)
        if not sent:
            while self._marking is not None or self._acked:
                await self._mark_done()
                await self._settle(mark_now=True)
        return sent

    async def _fill(self) -> int:
        """Start sending the next rows: per key only its first unmarked row, none in flight."""
        self.outbox.pending.clear()
        self._filled_at = time.monotonic()
        if not self.bus.connected:
            return 0
        if not await self._hold_lease():
            self._next.clear()
            self._waiting, self._progress_at = 0, time.monotonic()
            self._first_try.clear()
            return 0
        # rows waiting behind their key count against the window too
        room = self.batch - len(self._sending) - sum(map(len, self._next.values()))
        if room <= 0:
            return 0
        busy = {flight.row.key for flight in self._sending.values()}
        # acknowledged rows are left out, so the key's next row may go
        skip = self._marking_ids | {row.id for row in self._acked}
        fresh: list[_Row] = []
        unsent = await self._unsent(busy, skip, room)
        self._found = len(unsent)
        self._full = len(unsent) == room
        for row in unsent:
            if row.key not in busy:
                busy.add(row.key)
                fresh.append(row)
                if len(fresh) == room:
                    self._full = True
                    break
            else:
                self._next.setdefault(row.key, deque()).append(row)
        await self._start_sending(fresh)
        self._waiting = len(self._sending)
        if not self._sending:
            self._progress_at, self._recovering = time.monotonic(), False
            self._first_try.clear()
        return len(fresh)

    async def _start_sending(self, rows: list[_Row]) -> None:
        """One sender per partition, each sending its rows in order: a partition whose
        batches wait for an absent leader holds up only its own sender."""
        groups: dict[tuple[str, int], list[_Row]] = {}
        partitions: dict[str, list[int]] = {}
        for row in rows:
            if row.topic not in partitions:
                partitions[row.topic] = await self.bus.partitions(row.topic)
            part = _PARTITIONER(row.key.encode(), partitions[row.topic], partitions[row.topic])
            groups.setdefault((row.topic, part), []).append(row)
        loop, now = asyncio.get_running_loop(), time.monotonic()
        for group in groups.values():
            futures = []
            for row in group:
                future = loop.create_future()
                future.add_done_callback(self._on_done)
                self._sending[future] = _Flight(row, now + self.send_timeout)
                self._first_try.setdefault(row.id, now)
                futures.append(future)
            sender = asyncio.create_task(self._send_rows(group, futures))
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)

    def _on_done(self, future: asyncio.Future[Any]) -> None:
        self._done.append(future)
        self._changed.set()

    async def _send_rows(self, rows: list[_Row], futures: list[asyncio.Future[Any]]) -> None:
        for row, future in zip(rows, futures, strict=True):
            if future.done():  # abandoned
                continue
            try:
                ack = await self.bus.send(row.topic, row.key, row.value)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                continue
            ack.add_done_callback(functools.partial(_copy_outcome, future))

    async def _unsent(self, busy: set[str], skip: set[int], limit: int) -> list[_Row]:
        query = unsent_rows(self.outbox.tables.outbox, busy, skip, limit)
        async with self.db.reader() as session:
            return [_Row(*r) for r in (await session.execute(query)).all()]

    async def _settle(self, *, mark_now: bool = False) -> None:
        """Collect finished sends: mark the acknowledged (not before `mark_seconds` since
        the last mark, unless `mark_now`), park the refused, recover on the rest."""
        fatal: BaseException | None = None
        acked, follow = 0, []
        done, self._done = self._done, []
        now = time.monotonic()
        for future, flying in self._sending.items():  # in send order, so by deadline
            if now < flying.deadline:
                break
            if not future.done():
                future.set_exception(TimeoutError(f"no acknowledgement in {self.send_timeout}s"))
                done.append(future)
        for future in done:
            if (flight := self._sending.pop(future, None)) is None:
                continue  # abandoned, or collected already
            exc = future.exception()
            if exc is None:
                self._acked.append(flight.row)
                self._first_try.pop(flight.row.id, None)
                if queued := self._next.get(flight.row.key):
                    follow.append(queued.popleft())
                    if not queued:
                        del self._next[flight.row.key]
                acked += 1
            elif refused_for_good(exc):
                self._next.pop(flight.row.key, None)  # they wait for the parked row
                await self._park(flight.row, exc)
            else:
                fatal = fatal or exc
        if acked:
            metrics.EVENTS_PUBLISHED.labels(self.name).inc(acked)
            self._progress_at, self._failures = time.monotonic(), 0
            if fatal is None:
                self._recovering = False
        if self._marking is not None and self._marking.done():
            await self._mark_done()
        due = mark_now or time.monotonic() - self._marked_at >= self.mark_seconds
        if self._acked and self._marking is None and due:
            rows, self._acked = self._acked, []
            self._marked_at = time.monotonic()
            self._marking_ids = {row.id for row in rows}
            self._marking = asyncio.create_task(self._mark([row.id for row in rows]))
            self._marking.add_done_callback(lambda _: self._changed.set())
        if fatal is not None:
            await self._recover(fatal)
        elif follow and _now() < self._lease_until:
            await self._start_sending(follow)
        elif follow:
            self._next.clear()  # read again, in order, once the lease is held

    async def _recover(self, exc: BaseException) -> None:
        """Abandon what is in flight, start a fresh producer; the rows go again in order."""
        self._recovering = True
        self._failures += 1
        metrics.RELAY_ERRORS.labels(self.name).inc()
        metrics.PRODUCER_RESTARTS.labels(self.name).inc()
        await self._abandon()
        log.warning(
            "outbox relay %s: producer failed (%s: %s); resending with a fresh producer",
            self.name,
            type(exc).__name__,
            exc,
        )
        await self.bus.restart_producer(f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(min(0.1 * 2 ** (self._failures - 1), 5.0))

    async def _abandon(self) -> None:
        """Stop waiting for the sends in flight; those acknowledged meanwhile still count."""
        senders, self._senders = self._senders, set()
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        sending, self._sending = self._sending, {}
        self._done, self._next = [], {}
        for future, flight in sending.items():
            if not future.done():
                future.cancel()
            elif future.exception() is None:
                self._acked.append(flight.row)

    async def _park(self, row: _Row, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        t = self.outbox.tables.outbox
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(t).where(t.c.id == row.id).values(parked_at=_now(), error=error)
            )
        self._first_try.pop(row.id, None)
        metrics.OUTBOX_PARKED.labels(self.name).inc()
        log.error(
            "outbox relay %s: event %d (key %s, %d bytes) refused for good, parked: %s; "
            "the key's later events wait until it is retried or discarded",
            self.name,
            row.id,
            row.key,
            len(row.value),
            error,
        )

    async def _mark(self, ids: list[int]) -> None:
        t = self.outbox.tables.outbox
        async with self.db.session() as session, session.begin():
            await session.execute(update(t).where(t.c.id.in_(ids)).values(published_at=_now()))

    async def _mark_done(self) -> None:
        """Wait for the mark in flight; a failed mark only means its rows are sent again."""
        task, self._marking = self._marking, None
        try:
            if task is not None:
                await task
        finally:
            self._marking_ids = set()

    def health(self) -> dict[str, Any]:
        """For /readyz: not ok while the producer recovers, or rows wait without progress."""
        now = time.monotonic()
        oldest = now - min(self._first_try.values(), default=now)
        since = now - self._progress_at
        stale = oldest > self.stale_seconds or (self._waiting > 0 and since > self.stale_seconds)
        recovering = self._recovering or self.bus.recovering
        return {
            "ok": not (stale or recovering),
            "recovering": recovering,
            "waiting": self._waiting,
            "seconds_since_progress": round(since, 1),
        }

    async def parked(self) -> list[dict[str, Any]]:
        """Parked events (an anomaly for operators), each with how many rows wait behind it."""
        t = self.outbox.tables.outbox
        async with self.db.reader() as session:
            rows = (
                await session.execute(
                    select(t.c.id, t.c.event_id, t.c.topic, t.c.key, t.c.error, t.c.parked_at)
                    .where(t.c.parked_at.is_not(None), t.c.published_at.is_(None))
                    .order_by(t.c.id)
                )
            ).all()
            held: dict[str, int] = (
                dict(
                    (
                        await session.execute(
                            select(t.c.key, func.count())
                            .where(t.c.key.in_(sorted({r.key for r in rows})))
                            .where(t.c.published_at.is_(None), t.c.parked_at.is_(None))
                            .group_by(t.c.key)
                        )
                    ).all()
                )
                if rows
                else {}
            )
        return [{**r._asdict(), "held_back": held.get(r.key, 0)} for r in rows]

    async def retry_parked(self, row_id: int) -> bool:
        """Send a parked event again (say, after raising the broker's limit)."""
        return await self._resolve(row_id, parked_at=None, error=None)

    async def discard_parked(self, row_id: int) -> bool:
        """Give a parked event up (recorded as published, error kept); its key carries on."""
        log.warning("outbox relay %s: parked event %d discarded", self.name, row_id)
        return await self._resolve(row_id, published_at=_now())

    async def _resolve(self, row_id: int, **values: Any) -> bool:
        t = self.outbox.tables.outbox
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(t)
                .where(t.c.id == row_id, t.c.parked_at.is_not(None), t.c.published_at.is_(None))
                .values(**values)
            )
        self.outbox.notify()
        return rowcount(result) == 1

    def _lease_due(self) -> bool:
        """Renewals happen at a third of the lease's length."""
        return _now() >= self._lease_until - timedelta(seconds=self.lease_seconds * 2 / 3)

    async def _hold_lease(self) -> bool:
        """Take or renew the lease when due."""
        if not self._lease_due():
            return True
        now = _now()
        lease = self.outbox.tables.lease
        until = now + timedelta(seconds=self.lease_seconds)
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(lease)
                .where(lease.c.name == self.name)
                .where((lease.c.owner == self.owner) | (lease.c.expires_at < now))
                .values(owner=self.owner, expires_at=until)
            )
            if rowcount(result) == 0:
                try:
                    async with session.begin_nested():
                        await session.execute(
                            insert(lease).values(name=self.name, owner=self.owner, expires_at=until)
                        )
                except IntegrityError:
                    self._lease_until = now
                    return False
        self._lease_until = until
        return True

    async def prune(self, older_than: timedelta = timedelta(hours=1)) -> None:
        """Drop published rows past the retention window (the lease holder does it when idle)."""
        if not await self._hold_lease():
            return
        t = self.outbox.tables.outbox
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(t)
                .where(t.c.published_at.is_not(None))
                .where(t.c.published_at < _now() - older_than)
            )
