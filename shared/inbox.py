"""Inbox: processed event ids, stored in the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.messaging import MessagingTables


class Inbox:
    def __init__(self, tables: MessagingTables):
        self.table = tables.inbox

    async def seen(self, session: AsyncSession, consumer: str, event_id: str) -> bool:
        t = self.table
        row = await session.execute(
            select(t.c.event_id).where(t.c.consumer == consumer, t.c.event_id == event_id)
        )
        return row.first() is not None

    async def seen_among(
        self, session: AsyncSession, consumer: str, event_ids: Sequence[str]
    ) -> set[str]:
        """Which of `event_ids` this consumer has processed (one query)."""
        t = self.table
        rows = await session.execute(
            select(t.c.event_id).where(t.c.consumer == consumer, t.c.event_id.in_(event_ids))
        )
        return set(rows.scalars())

    async def mark_all(
        self, session: AsyncSession, consumer: str, event_ids: Sequence[str]
    ) -> None:
        if event_ids:
            now = datetime.now(UTC)
            await session.execute(
                insert(self.table),
                [{"consumer": consumer, "event_id": e, "processed_at": now} for e in event_ids],
            )

    async def mark(self, session: AsyncSession, consumer: str, event_id: str) -> None:
        await session.execute(
            insert(self.table).values(
                consumer=consumer, event_id=event_id, processed_at=datetime.now(UTC)
            )
        )
