"""Unit of work: one transaction for the state change, its events and its inbox row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.envelope import Envelope
from shared.inbox import Inbox
from shared.outbox import Outbox


class UnitOfWork:
    """`async with uow:` opens a write transaction; `commit()` writes the outbox too.

    Services subclass it to add repositories built on `self.session`.
    """

    def __init__(self, db: Database, outbox: Outbox, inbox: Inbox):
        self.db, self.outbox, self.inbox = db, outbox, inbox
        self.session: AsyncSession
        self._events: list[tuple[str, Envelope]] = []

    async def __aenter__(self) -> Self:
        self.session = self.db.session()
        await self.session.begin()
        self._events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session.in_transaction():
            await self.session.rollback()
        await self.session.close()

    def emit(self, topic: str, envelope: Envelope) -> None:
        self._events.append((topic, envelope))

    async def prepare(self, envelopes: Sequence[Envelope]) -> None:
        """Before `envelopes` are handled in this transaction (e.g. read and lock their
        rows in one query); nothing by default."""

    async def flush(self) -> None:
        """Write what repositories held back for the commit; nothing by default."""

    async def commit(self) -> None:
        await self.flush()
        await self.outbox.add(self.session, self._events)
        await self.session.commit()
        if self._events:
            self.outbox.notify()
        self._events = []


def idempotent(
    consumer: str,
    uow_factory: Callable[[], UnitOfWork],
    handle: Callable[[Any, Envelope], Awaitable[None]],
) -> Callable[[Envelope], Awaitable[None]]:
    """Wrap `handle(uow, envelope)` so its effect and the inbox row commit together.

    A redelivered event finds its inbox row and changes nothing; two instances
    racing on one event collide on the inbox key and the loser rolls back.
    """

    async def run(envelope: Envelope) -> None:
        async with uow_factory() as uow:
            if await uow.inbox.seen(uow.session, consumer, envelope.event_id):
                return
            await uow.prepare([envelope])
            await handle(uow, envelope)
            await uow.inbox.mark(uow.session, consumer, envelope.event_id)
            try:
                await uow.commit()
            except IntegrityError:
                await uow.session.rollback()
                if not await _seen_since(uow, consumer, envelope.event_id):
                    raise

    return run


def idempotent_batch(
    consumer: str,
    uow_factory: Callable[[], UnitOfWork],
    handle: Callable[[Any, Envelope], Awaitable[None]],
) -> Callable[[Sequence[Envelope]], Awaitable[None]]:
    """`idempotent` for a partition's fetched events at once: `handle` runs for each new
    one, in order, after `uow.prepare` saw them all, and all their effects and inbox rows
    commit in one transaction (one commit and one fsync instead of one per event; a
    repository may hold its writes back for the commit). Any failure rolls the whole batch
    back; the consumer then applies the events one by one through `idempotent`."""

    async def run(envelopes: Sequence[Envelope]) -> None:
        async with uow_factory() as uow:
            ids = [e.event_id for e in envelopes]
            done = await uow.inbox.seen_among(uow.session, consumer, ids)
            fresh: list[str] = []
            await uow.prepare([e for e in envelopes if e.event_id not in done])
            for envelope in envelopes:
                if envelope.event_id in done:
                    continue  # applied before, or earlier in this batch (a redelivery)
                await handle(uow, envelope)
                done.add(envelope.event_id)
                fresh.append(envelope.event_id)
            await uow.inbox.mark_all(uow.session, consumer, fresh)
            await uow.commit()

    return run


async def _seen_since(uow: UnitOfWork, consumer: str, event_id: str) -> bool:
    async with uow.db.reader() as session:
        return await uow.inbox.seen(session, consumer, event_id)
