"""SQL for SKU mappings (platform variant → SKU) and the orders waiting for one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.adapters import tables as t
from shared.db import Database, insert_ignoring_conflicts, rowcount


async def lookup(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[str, dict]:
    """{platform: {variant_id: sku}} for these (platform, variant id) pairs."""
    m = t.sku_mappings
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = await session.execute(
        select(m.c.platform, m.c.variant_id, m.c.sku).where(
            tuple_(m.c.platform, m.c.variant_id).in_(keys)
        )
    )
    found: dict[str, dict] = {}
    for r in rows:
        found.setdefault(r.platform, {})[r.variant_id] = r.sku
    return found


class SkuMappings:
    """Mappings and waiting orders in one unit of work's session."""

    def __init__(self, session: AsyncSession, dialect: str):
        self.session, self.dialect = session, dialect

    async def lookup(self, keys: Iterable[tuple[str, str]]) -> dict[str, dict]:
        """{platform: {variant_id: sku}} for these (platform, variant id) pairs."""
        return await lookup(self.session, keys)

    async def put(self, platform: str, variant_id: str, sku: str, by: str, at: datetime) -> None:
        """Insert or replace one mapping (a concurrent insert raises DuplicateKey: retry)."""
        m = t.sku_mappings
        values = {"sku": sku, "updated_by": by, "updated_at": at}
        result = await self.session.execute(
            update(m).where(m.c.platform == platform, m.c.variant_id == variant_id).values(**values)
        )
        if rowcount(result) == 0:
            await self.session.execute(
                m.insert().values(platform=platform, variant_id=variant_id, **values)
            )

    async def waiting_orders(self, platform: str, variant_id: str) -> list[str]:
        w = t.sku_waiting
        rows = await self.session.execute(
            select(w.c.order_id)
            .where(w.c.platform == platform, w.c.variant_id == variant_id)
            .order_by(w.c.order_id)
        )
        return list(rows.scalars())

    async def add_waiting(self, rows: list[dict]) -> None:
        """Note orders whose lines wait for a variant's mapping (rows already noted are kept)."""
        if rows:
            await self.session.execute(insert_ignoring_conflicts(t.sku_waiting, self.dialect), rows)

    async def clear_waiting(self, platform: str, variant_id: str) -> None:
        w = t.sku_waiting
        await self.session.execute(
            delete(w).where(w.c.platform == platform, w.c.variant_id == variant_id)
        )


async def listing(
    db: Database, platform: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    m = t.sku_mappings
    q = select(m).order_by(m.c.platform, m.c.variant_id).limit(limit).offset(offset)
    if platform is not None:
        q = q.where(m.c.platform == platform)
    async with db.reader() as session:
        rows = (await session.execute(q)).all()
    return [
        {
            "platform": r.platform,
            "variant_id": r.variant_id,
            "sku": r.sku,
            "updated_by": r.updated_by,
            "updated_at": r.updated_at.isoformat(),
        }
        for r in rows
    ]
