"""Development data (SPEC §8.1): the catalog and the warehouse routing projection."""

from __future__ import annotations

from sqlalchemy import select

from order_service.adapters import tables as t
from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES
from shared.service import Runtime
from shared.settings import Mode


async def seed_development(rt: Runtime) -> None:
    """Idempotent: inserts what is missing, leaves what exists (events may have updated it)."""
    if rt.settings.mode is not Mode.development:
        return
    async with OrderUnitOfWork(rt) as uow:
        have = set((await uow.session.execute(select(t.catalog.c.sku))).scalars())
        rows = [
            {"sku": c.sku, "category": c.category, "supplier_id": c.supplier_id}
            for c in DEV_CATALOG
            if c.sku not in have
        ]
        if rows:
            await uow.session.execute(t.catalog.insert(), rows)
        have = set((await uow.session.execute(select(t.warehouses.c.warehouse_id))).scalars())
        rows = [
            {
                "warehouse_id": w.warehouse_id,
                "kind": w.kind,
                "supplier_id": w.supplier_id,
                "name": w.warehouse_id,
            }
            for w in DEV_WAREHOUSES
            if w.warehouse_id not in have
        ]
        if rows:
            await uow.session.execute(t.warehouses.insert(), rows)
        await uow.commit()
