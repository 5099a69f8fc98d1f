"""The warehouse registry: create and seed; each registration is announced once."""

from __future__ import annotations

from shared import topics
from shared.envelope import new_event
from shared.events.warehouse import WarehouseRegistered
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import AlreadyExists
from warehouse_service.domain.warehouse import DEV_WAREHOUSES, Warehouse
from warehouse_service.handlers import PRODUCER, Deps


async def _register(deps: Deps, uow: WarehouseUnitOfWork, wh: Warehouse) -> None:
    await uow.warehouses.add(wh, deps.clock.now())
    event = WarehouseRegistered(
        warehouse_id=wh.warehouse_id, kind=wh.kind, supplier_id=wh.supplier_id, name=wh.name
    )
    uow.emit(topics.WAREHOUSE, new_event(event, producer=PRODUCER, key=wh.warehouse_id))


async def register_warehouse(deps: Deps, wh: Warehouse) -> Warehouse:
    """Create a warehouse and publish `warehouse.registered` (the order service routes by it)."""
    async with deps.uow() as uow:
        if await uow.warehouses.get(wh.warehouse_id) is not None:
            raise AlreadyExists(f"warehouse {wh.warehouse_id} exists", warehouse_id=wh.warehouse_id)
        await _register(deps, uow, wh)
        await uow.commit()
    return wh


async def seed_dev_warehouses(deps: Deps) -> None:
    """SPEC §8.1 warehouses; idempotent, so each is announced only when first stored."""
    async with deps.uow() as uow:
        for wid, kind, supplier, name in DEV_WAREHOUSES:
            if await uow.warehouses.get(wid) is None:
                await _register(deps, uow, Warehouse(wid, kind, supplier, name))
        await uow.commit()
