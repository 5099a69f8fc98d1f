"""The warehouse unit of work: one transaction with its repositories and outbox rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Self

from sqlalchemy.exc import DBAPIError as LostRace  # a unique key, a deadlock, a serialization
from sqlalchemy.exc import IntegrityError as DuplicateKey

from shared.clock import Clock
from shared.db import Database
from shared.envelope import Envelope
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.unit_of_work import UnitOfWork
from warehouse_service.adapters.registry import StopRepository, WarehouseRepository
from warehouse_service.adapters.repository import ShipmentRepository
from warehouse_service.adapters.stock import StockRepository, settle
from warehouse_service.adapters.stop_holds import StopHolds
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stock import SETTLED_BY

Hook = Callable[[], Awaitable[None]]

__all__ = ["DuplicateKey", "LostRace", "WarehouseUnitOfWork"]


class WarehouseUnitOfWork(UnitOfWork):
    shipments: ShipmentRepository
    stops: StopRepository
    warehouses: WarehouseRepository
    stop_holds: StopHolds
    stock: StockRepository
    # Emitted events that settle a task's reservation: (how, shipment_id, event), applied
    # at commit (shipping picks the reserved units, a withdrawal gives them back).
    settling: list[tuple[str, str, Envelope]]
    # New tasks waiting for the batch's reservation (handlers/intake.py).
    intake: list[tuple[Shipment, Envelope]]

    def __init__(self, db: Database, outbox: Outbox, inbox: Inbox, clock: Clock | None = None):
        super().__init__(db, outbox, inbox)
        self.clock = clock or Clock()

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.shipments = ShipmentRepository(self.session)
        self.stops = StopRepository(self.session)
        self.warehouses = WarehouseRepository(self.session)
        self.stop_holds = StopHolds(self.session)
        self.stock = StockRepository(self.session)
        self.settling = []
        self.intake = []
        self._before_commit: list[Hook] = []
        return self

    def before_commit(self, hook: Hook) -> None:
        """Run `hook` once, at commit, before anything is written (e.g. the batch's intake)."""
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    def emit(self, topic: str, envelope: Envelope) -> None:
        how = SETTLED_BY.get(envelope.type)
        if how is not None:
            self.settling.append((how, str(envelope.payload["shipment_id"]), envelope))
        super().emit(topic, envelope)

    async def commit(self) -> None:
        while self._before_commit:
            await self._before_commit.pop(0)()
        if self.settling:
            settling, self.settling = self.settling, []
            await settle(self.stock, settling, self.clock.now())
        await self.shipments.flush()
        await super().commit()
