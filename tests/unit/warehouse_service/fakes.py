"""An in-memory warehouse unit of work (no database, no broker) for handler unit tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from shared.clock import ManualClock
from warehouse_service.domain.errors import Conflict
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stops import Stop
from warehouse_service.handlers import Deps


@dataclass
class FakeDatabase:
    """What survives between units of work: shipments (with a version), stops, the outbox."""

    shipments: dict[str, tuple[Shipment, int]] = field(default_factory=dict)
    stops: dict[str, Stop] = field(default_factory=dict)
    epoch: int = 0
    outbox: list[tuple[str, Any]] = field(default_factory=list)  # (topic, envelope)

    def add(self, shipment: Shipment) -> None:
        self.shipments[shipment.shipment_id] = (copy.deepcopy(shipment), 1)

    def shipment(self, shipment_id: str) -> Shipment:
        return copy.deepcopy(self.shipments[shipment_id][0])

    def event_types(self) -> list[str]:
        return [env.type for _, env in self.outbox]


class FakeShipments:
    def __init__(self, db: FakeDatabase):
        self.db = db
        self._versions: dict[str, int] = {}
        self._staged: list[Shipment] = []

    def _load(self, shipment_id: str) -> Shipment:
        shipment, version = self.db.shipments[shipment_id]
        self._versions[shipment_id] = version
        return copy.deepcopy(shipment)

    async def get(self, shipment_id: str) -> Shipment | None:
        return self._load(shipment_id) if shipment_id in self.db.shipments else None

    async def find(self, *, warehouse_ids=None, statuses=None, shipment_ids=None, lock=False, **_):
        ids = shipment_ids if shipment_ids is not None else list(self.db.shipments)
        found = [self._load(i) for i in ids if i in self.db.shipments]
        return [
            s
            for s in found
            if (warehouse_ids is None or s.warehouse_id in warehouse_ids)
            and (statuses is None or s.status in statuses)
        ]

    async def save(self, shipment: Shipment, now: Any) -> None:
        current = self.db.shipments[shipment.shipment_id][1]
        if current != self._versions.get(shipment.shipment_id, current):
            raise Conflict(f"shipment {shipment.shipment_id} changed")
        self.db.shipments[shipment.shipment_id] = (copy.deepcopy(shipment), current + 1)
        self._versions[shipment.shipment_id] = current + 1

    def stage(self, shipment: Shipment, now: Any) -> None:
        self._staged.append(shipment)

    async def flush(self) -> None:
        for shipment in self._staged:
            await self.save(shipment, None)
        self._staged = []

    async def tracking_in_use(self, numbers) -> set[str]:
        used = {s.tracking_number for s, _ in self.db.shipments.values()}
        return set(numbers) & used


class FakeStops:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def lock_shared(self) -> int:
        return self.db.epoch

    async def active(self) -> list[Stop]:
        return [s for s in self.db.stops.values() if s.active]


class FakeWarehouseUnitOfWork:
    """The `WarehouseUnitOfWork` surface the scanner handlers use, on a FakeDatabase."""

    def __init__(self, db: FakeDatabase):
        self.db = db
        self._events: list[tuple[str, Any]] = []

    async def __aenter__(self) -> FakeWarehouseUnitOfWork:
        self.shipments = FakeShipments(self.db)
        self.stops = FakeStops(self.db)
        self._events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._events = []

    def emit(self, topic: str, envelope: Any) -> None:
        self._events.append((topic, envelope))

    async def commit(self) -> None:
        await self.shipments.flush()
        self.db.outbox += self._events
        self._events = []


def fake_deps(db: FakeDatabase | None = None) -> tuple[Deps, FakeDatabase]:
    db = db or FakeDatabase()
    deps = Deps(
        uow=lambda: FakeWarehouseUnitOfWork(db),  # type: ignore[arg-type,return-value]
        clock=ManualClock(),
        instance="wh-test",
    )
    return deps, db
