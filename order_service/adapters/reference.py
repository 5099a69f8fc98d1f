"""Reference data the order rules read: catalog, warehouse routing, review policy, stock
per SKU (from `stock.levels`); and the campaign purchases that per-buyer limits count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.adapters import tables as t
from order_service.domain.review import ReviewPolicy
from order_service.domain.routing import CatalogItem, Warehouse

CAMPAIGN_LOCKS = 0x0C4A  # advisory lock class of per-campaign checks (the key is the id's hash)


class ReferenceData:
    """Catalog, warehouses and the review policy in one unit of work's session."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def catalog(self) -> dict[str, CatalogItem]:
        rows = (await self.session.execute(select(t.catalog))).all()
        return {r.sku: CatalogItem(r.sku, r.category, r.supplier_id, r.unit_price) for r in rows}

    async def warehouses(self) -> list[Warehouse]:
        rows = (await self.session.execute(select(t.warehouses))).all()
        return [Warehouse(r.warehouse_id, r.kind, r.supplier_id) for r in rows]

    async def stock(self, skus: Iterable[str]) -> dict[str, int]:
        """Available units of these SKUs over all warehouses; a SKU never announced is absent."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        s = t.sku_stock.c
        rows = await self.session.execute(select(s.sku, s.available).where(s.sku.in_(wanted)))
        return {r.sku: r.available for r in rows}

    async def put_stock(self, levels: Iterable[tuple[str, int]], as_of: datetime) -> None:
        """Upsert announced levels; an older announcement than the stored one changes nothing."""
        rows = [{"sku": sku, "available": n, "as_of": as_of} for sku, n in levels]
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(t.sku_stock)
        stmt = upsert.on_conflict_do_update(
            index_elements=["sku"],
            set_={"available": upsert.excluded.available, "as_of": upsert.excluded.as_of},
            where=t.sku_stock.c.as_of < upsert.excluded.as_of,
        )
        await self.session.execute(stmt, rows)

    async def review_policy(self) -> ReviewPolicy:
        row = (
            await self.session.execute(select(t.config.c.value).where(t.config.c.key == "review"))
        ).first()
        return ReviewPolicy(**row.value) if row else ReviewPolicy()

    async def set_review_policy(self, policy: ReviewPolicy) -> None:
        c = t.config
        row = (await self.session.execute(select(c.c.key).where(c.c.key == "review"))).first()
        stmt = (
            c.update().where(c.c.key == "review").values(value=asdict(policy))
            if row
            else c.insert().values(key="review", value=asdict(policy))
        )
        await self.session.execute(stmt)

    async def put_warehouse(
        self, warehouse_id: str, kind: str, supplier_id: str | None, name: str
    ) -> None:
        """Insert or update one warehouse of the routing projection."""
        w = t.warehouses
        exists = (
            await self.session.execute(
                select(w.c.warehouse_id).where(w.c.warehouse_id == warehouse_id)
            )
        ).first()
        values = {"kind": kind, "supplier_id": supplier_id, "name": name}
        stmt = (
            w.update().where(w.c.warehouse_id == warehouse_id).values(**values)
            if exists
            else w.insert().values(warehouse_id=warehouse_id, **values)
        )
        await self.session.execute(stmt)

    async def add_missing(
        self, catalog: Iterable[CatalogItem], warehouses: Iterable[Warehouse]
    ) -> None:
        """Insert the catalog items and warehouses not stored yet, and a price where none
        was stored (rows from before prices); leave the others."""
        c_ = t.catalog.c
        found = await self.session.execute(select(c_.sku, c_.unit_price))
        stored = {r.sku: r.unit_price for r in found}
        rows = [
            {
                "sku": c.sku,
                "category": c.category,
                "supplier_id": c.supplier_id,
                "unit_price": c.unit_price,
            }
            for c in catalog
            if c.sku not in stored
        ]
        if rows:
            await self.session.execute(t.catalog.insert(), rows)
        for c in catalog:
            if c.sku in stored and stored[c.sku] is None and c.unit_price is not None:
                await self.session.execute(
                    t.catalog.update()
                    .where(c_.sku == c.sku, c_.unit_price.is_(None))
                    .values(unit_price=c.unit_price)
                )
        have = set((await self.session.execute(select(t.warehouses.c.warehouse_id))).scalars())
        rows = [
            {
                "warehouse_id": w.warehouse_id,
                "kind": w.kind,
                "supplier_id": w.supplier_id,
                "name": w.warehouse_id,
            }
            for w in warehouses
            if w.warehouse_id not in have
        ]
        if rows:
            await self.session.execute(t.warehouses.insert(), rows)


class CampaignPurchases:
    """Quantities bought per (campaign, buyer identity), with per-campaign locks."""

    def __init__(self, session: AsyncSession, dialect: str):
        self.session, self.dialect = session, dialect

    async def lock(self, campaign_ids: Iterable[str]) -> None:
        """Hold these campaigns' per-buyer checks until commit, so that orders taken by two
        instances at once are checked one after the other: the second sees the first's
        purchases. PostgreSQL advisory locks, taken in sorted order (no deadlock between
        batches); a SQLite write transaction is exclusive already."""
        if self.dialect != "postgresql":
            return
        for campaign_id in sorted(set(campaign_ids)):
            key = func.hashtext(f"campaign:{campaign_id}")
            await self.session.execute(select(func.pg_advisory_xact_lock(CAMPAIGN_LOCKS, key)))

    async def bought(
        self, campaigns: list[str], identities: set[tuple[str, str]]
    ) -> list[tuple[str, str, str, int, str]]:
        """(campaign, key kind, key value, qty, order stage) of stored purchases."""
        cp = t.campaign_purchases
        match = or_(*[and_(cp.c.key_kind == k, cp.c.key_value == v) for k, v in sorted(identities)])
        rows = (
            await self.session.execute(
                select(cp.c.campaign_id, cp.c.key_kind, cp.c.key_value, cp.c.qty, t.orders.c.stage)
                .join(t.orders, t.orders.c.id == cp.c.order_id)
                .where(cp.c.campaign_id.in_(campaigns), match)
            )
        ).all()
        return [(r.campaign_id, r.key_kind, r.key_value, r.qty, r.stage) for r in rows]

    async def add(self, rows: list[dict]) -> None:
        if rows:
            await self.session.execute(insert(t.campaign_purchases), rows)
