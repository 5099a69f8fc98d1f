"""Transactional outbox: rows written with the state change, published by a relay.

The relay publishes unpublished rows in id order, waits for the broker's
acknowledgement, and only then marks them published. A crash between commit
and publish leaves the rows unpublished; the next relay sends them (consumers
de-duplicate by event id). With several instances of a service only the
holder of the relay lease publishes, so per-order order survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics
from shared.envelope import Envelope
from shared.messaging import MessagingTables

if TYPE_CHECKING:
    from shared.bus import Bus
    from shared.db import Database

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Stages events in the caller's transaction and wakes the relay after commit."""

    def __init__(self, tables: MessagingTables, topic_of=lambda name: name):
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


class OutboxRelay:
    """Publishes the outbox in order while holding the relay lease."""

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
    ):
        self.db, self.outbox, self.bus = db, outbox, bus
        self.name, self.owner = name, owner
        self.batch, self.idle, self.lease_seconds = batch, idle_seconds, lease_seconds
        self.send_timeout = send_timeout
        self._lease_until = datetime(1970, 1, 1, tzinfo=UTC)
        self._marking: asyncio.Task | None = None
        self._in_flight: set[int] = set()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self._marking is not None:
                self._marking.cancel()

    async def _run(self) -> None:
        backoff, next_prune = 0.1, 0.0
        while True:
            try:
                self.outbox.pending.clear()
                sent = await self.publish_once()
                backoff = 0.1
                if not sent:
                    if time.monotonic() >= next_prune and self.bus.connected:
                        await self.prune()
                        next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay %s: %s; retrying in %.1fs", self.name, exc, backoff)
                metrics.RELAY_ERRORS.labels(self.name).inc()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
            # arrives as the event is set, and shutdown then hangs on the relay.
            async with asyncio.timeout(self.idle):
                await self.outbox.pending.wait()

    async def publish_once(self) -> int:
        """Publish one batch; returns how many rows were sent (0: all sent and marked).

        Marking a batch published runs in the background while the next batch is read
        and sent (at most one mark in flight); rows sent but not yet marked are skipped.
        A failed mark only means those rows are sent again, which consumers absorb.
        """
        if not self.bus.connected or not await self._hold_lease():
            return 0
        t = self.outbox.tables.outbox
        async with self.db.reader() as session:
            rows = (
                await session.execute(
                    select(t.c.id, t.c.topic, t.c.key, t.c.value)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch + len(self._in_flight))
                )
            ).all()
        rows = [r for r in rows if r.id not in self._in_flight][: self.batch]
        if not rows:
            await self._mark_done()
            return 0
        async with asyncio.timeout(self.send_timeout):
            await self.bus.send_all([(r.topic, r.key, r.value) for r in rows])
        metrics.EVENTS_PUBLISHED.labels(self.name).inc(len(rows))
        await self._mark_done()
        ids = [r.id for r in rows]
        self._in_flight = set(ids)
        self._marking = asyncio.create_task(self._mark(ids))
        return len(rows)

    async def _mark(self, ids: list[int]) -> None:
        t = self.outbox.tables.outbox
        async with self.db.session() as session, session.begin():
            await session.execute(update(t).where(t.c.id.in_(ids)).values(published_at=_now()))

    async def _mark_done(self) -> None:
        """Wait for the mark in flight; only then may its rows be read as unsent again."""
        task, self._marking = self._marking, None
        try:
            if task is not None:
                await task
        finally:
            self._in_flight = set()

    async def _hold_lease(self) -> bool:
        """Take or renew the lease; renewals happen at a third of its length."""
        now = _now()
        if now < self._lease_until - timedelta(seconds=self.lease_seconds * 2 / 3):
            return True
        lease = self.outbox.tables.lease
        until = now + timedelta(seconds=self.lease_seconds)
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(lease)
                .where(lease.c.name == self.name)
                .where((lease.c.owner == self.owner) | (lease.c.expires_at < now))
                .values(owner=self.owner, expires_at=until)
            )
            if result.rowcount == 0:
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
