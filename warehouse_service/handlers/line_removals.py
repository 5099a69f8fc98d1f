"""Cancel by line: removal requests from the order service and the scanner's answer.

Removed units also leave the task's stock reservation (SPEC §3.2): the reservation is
given back and the remaining lines reserved again, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from shared import topics
from shared.envelope import Envelope, new_event, payload_type
from shared.events import orders as ev
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain import line_removal
from warehouse_service.domain.errors import NotFound
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.warehouse import check_access
from warehouse_service.handlers import PRODUCER, Deps, intake, retrying


async def line_removal_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Removed at once while queued or held (or guaranteed), else recorded on the task."""
    p: ev.LineRemovalRequested = env.typed()
    shipment = await uow.shipments.get(p.shipment_id)
    if shipment is None:
        reason = f"{env.type} for an unknown shipment"
        now = deps.clock.now()
        await record_anomaly(
            uow.session, "unknown_shipment", env, reason, now, shipment_id=p.shipment_id
        )
        return
    lines = [line.model_dump() for line in p.lines]
    line_removal.request_removal(shipment, p.request_id, lines, p.reason, guaranteed=p.guaranteed)
    await _store(deps, uow, shipment, env)


async def answer_line_removal(
    deps: Deps,
    shipment_id: str,
    outcome: str,
    lines: list[dict[str, Any]] | None,
    bound_to: str | None,
) -> Shipment:
    """The warehouse's answer (`removed` | `missed`) to the task's pending requests."""

    async def attempt() -> Shipment:
        async with deps.uow() as uow:
            found = await uow.shipments.find(shipment_ids=[shipment_id], lock=True)
            if not found:
                raise NotFound(f"no shipment {shipment_id}", shipment_id=shipment_id)
            shipment = found[0]
            check_access(bound_to, shipment.warehouse_id)
            line_removal.answer_removal(shipment, outcome, lines)
            await _store(deps, uow, shipment, None)
            await uow.commit()
            return shipment

    return await retrying(attempt)


async def _store(
    deps: Deps, uow: WarehouseUnitOfWork, shipment: Shipment, cause: Envelope | None
) -> None:
    """Save, emit, and re-reserve the remaining lines when units came off the task."""
    await uow.shipments.save(shipment, deps.clock.now())
    removed: Envelope | None = None
    for type_name, data in shipment.events:
        payload = payload_type(type_name).model_validate(data)
        env = new_event(payload, producer=PRODUCER, order_id=shipment.order_id, cause=cause)
        uow.emit(topics.WAREHOUSE, env)
        if type_name == "shipment.lines_removed" and shipment.status != "intercepted":
            removed = env
    shipment.events.clear()
    if removed is not None:
        await intake.reserve_edited(deps, uow, shipment, removed)
