"""SQL for platform notices parked until their order is applied (`parked_webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.adapters import tables as t

Key = tuple[str, str]  # (platform, platform order id)


class ParkedNotices:
    """Parked refund, delivery and cancellation notices in one unit of work's session."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(
        self,
        kind: str,
        platform: str,
        platform_order_id: str,
        external_id: str,
        body: dict[str, Any],
        at: datetime,
    ) -> bool:
        """Store a notice once; False if one with this kind and external id exists."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(t.parked).values(
                        kind=kind,
                        platform=platform,
                        platform_order_id=platform_order_id,
                        external_id=external_id,
                        body=body,
                        received_at=at,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def body(self, kind: str, platform: str, external_id: str) -> dict | None:
        """The stored body of a notice (with `result` once applied), None if unknown."""
        p = t.parked
        return (
            await self.session.execute(
                select(p.c.body).where(
                    p.c.kind == kind, p.c.platform == platform, p.c.external_id == external_id
                )
            )
        ).scalar_one_or_none()

    async def waiting(self, keys: list[Key]) -> dict[Key, list]:
        """Unapplied notices for these orders, in arrival order, by (platform, order id)."""
        return await waiting(self.session, keys)

    async def mark_applied(
        self, notice_id: int, at: datetime, order_id: str, body: dict[str, Any]
    ) -> None:
        p = t.parked
        await self.session.execute(
            update(p).where(p.c.id == notice_id).values(applied_at=at, order_id=order_id, body=body)
        )


async def waiting(session: AsyncSession, keys: list[Key]) -> dict[Key, list]:
    """Unapplied notices (rows with id, kind, external_id, body) for these orders."""
    p = t.parked
    rows = (
        await session.execute(
            select(p)
            .where(
                tuple_(p.c.platform, p.c.platform_order_id).in_(keys),
                p.c.applied_at.is_(None),
            )
            .order_by(p.c.id)
        )
    ).all()
    found: dict[Key, list] = {}
    for row in rows:
        found.setdefault((row.platform, row.platform_order_id), []).append(row)
    return found


async def waiting_keys(session: AsyncSession, keys: list[Key]) -> list[Key]:
    """Which of these orders have unapplied notices."""
    p = t.parked
    rows = await session.execute(
        select(p.c.platform, p.c.platform_order_id)
        .where(
            tuple_(p.c.platform, p.c.platform_order_id).in_(keys),
            p.c.applied_at.is_(None),
        )
        .distinct()
    )
    return [(r.platform, r.platform_order_id) for r in rows]
