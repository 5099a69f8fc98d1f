"""The warehouse unit of work: one transaction with its repositories and outbox rows."""

from __future__ import annotations

from typing import Self

from sqlalchemy.exc import DBAPIError as LostRace  # a unique key, a deadlock, a serialization
from sqlalchemy.exc import IntegrityError as DuplicateKey

from shared.unit_of_work import UnitOfWork
from warehouse_service.adapters.registry import StopRepository, WarehouseRepository
from warehouse_service.adapters.repository import ShipmentRepository
from warehouse_service.adapters.stop_holds import StopHolds

__all__ = ["DuplicateKey", "LostRace", "WarehouseUnitOfWork"]


class WarehouseUnitOfWork(UnitOfWork):
    shipments: ShipmentRepository
    stops: StopRepository
    warehouses: WarehouseRepository
    stop_holds: StopHolds

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.shipments = ShipmentRepository(self.session)
        self.stops = StopRepository(self.session)
        self.warehouses = WarehouseRepository(self.session)
        self.stop_holds = StopHolds(self.session)
        return self

    async def commit(self) -> None:
        await self.shipments.flush()
        await super().commit()
