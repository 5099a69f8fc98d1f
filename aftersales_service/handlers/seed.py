"""Development seed data this service owns (idempotent)."""

from __future__ import annotations

from aftersales_service.adapters.uow import AftersalesUnitOfWork

# SPEC §8.1 warehouses, so analytics name them before `warehouse.registered` arrives.
DEV_WAREHOUSES = (
    ("WH-OWN-1", "own", None),
    ("WH-DS-1", "dropship", "SUP-1"),
    ("WH-DS-2", "dropship", "SUP-2"),
)


async def seed_warehouses(uow: AftersalesUnitOfWork) -> None:
    async with uow:
        for wh, kind, supplier in DEV_WAREHOUSES:
            await uow.orders.upsert_warehouse(wh, kind, supplier, wh)
        await uow.commit()
