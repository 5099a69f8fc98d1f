"""Use-case handlers: load through the unit of work, call the domain, emit, commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared import topics
from shared.batching import Batcher
from shared.clock import Clock
from shared.envelope import Envelope, new_event, payload_type
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import Conflict
from warehouse_service.domain.shipment import Shipment

PRODUCER = "warehouse_service"
T = TypeVar("T")


@dataclass
class Deps:
    """What handlers are wired with (built once by the composition root)."""

    uow: Callable[[], WarehouseUnitOfWork]
    clock: Clock
    instance: str
    served: list[str] = field(default_factory=list)
    partitions: int = 1  # of the warehouse topic: batched events group orders by partition
    scans: Batcher[Any, Shipment] | None = None  # group commit of scanner steps (app wires it)


def publish(uow: WarehouseUnitOfWork, shipment: Shipment, cause: Envelope | None = None) -> None:
    """Turn the aggregate's recorded events into outbox envelopes keyed by order id."""
    for type_name, data in shipment.events:
        payload = payload_type(type_name).model_validate(data)
        uow.emit(
            topics.WAREHOUSE,
            new_event(payload, producer=PRODUCER, order_id=shipment.order_id, cause=cause),
        )
    shipment.events.clear()


async def retrying(attempt: Callable[[], Awaitable[T]], tries: int = 3) -> T:
    """Re-run a whole unit of work when an optimistic version check lost."""
    for n in range(1, tries + 1):
        try:
            return await attempt()
        except Conflict:
            if n == tries:
                raise
    raise AssertionError("unreachable")
