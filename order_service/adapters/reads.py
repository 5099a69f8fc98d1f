"""Reads outside a write transaction (timers, the after-commit look-again of the intake)."""

from __future__ import annotations

from sqlalchemy import select

from order_service.adapters import parked
from order_service.adapters import sku_mappings as skumap
from order_service.adapters import tables as t
from shared.db import Database


class OrderReads:
    """Point reads on a read-only session of the order database."""

    def __init__(self, db: Database):
        self.db = db

    async def delivered_ids(self) -> list[str]:
        async with self.db.reader() as session:
            rows = await session.execute(
                select(t.orders.c.id).where(t.orders.c.stage == "delivered")
            )
            return list(rows.scalars().all())

    async def unsettled(
        self, keys: list[tuple[str, str]], variants: set[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], dict[str, dict]]:
        """Of these orders, those with unapplied notices; and the mappings of these
        (platform, variant) pairs ({platform: {variant: sku}}), in one read session."""
        async with self.db.reader() as session:
            pending = await parked.waiting_keys(session, keys)
            mapped = await skumap.lookup(session, variants) if variants else {}
        return pending, mapped
