"""Manual holds: several per shipment, each with an owner; hold-until releases itself."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from warehouse_service.adapters.repository import ShipmentRepository
from warehouse_service.domain.errors import InvalidRequest, NotFound
from warehouse_service.domain.shipment import Hold, Shipment
from warehouse_service.handlers import Deps, publish, retrying
from warehouse_service.handlers.scanner import _get


async def place_hold(
    deps: Deps,
    shipment_id: str,
    reason: str,
    until: datetime | None,
    owner: str,
    bound_to: str | None,
) -> tuple[Shipment, Hold]:
    """Hold one shipment; progress stops until every hold on it is released."""

    if until is not None and until <= deps.clock.now():
        raise InvalidRequest("until must be in the future", field="until")

    async def attempt() -> tuple[Shipment, Hold]:
        async with deps.uow() as uow:
            shipment = await _get(uow, shipment_id, bound_to)
            hold = Hold(
                hold_id=f"HOLD-{uuid4().hex[:12]}",
                kind="manual",
                reason=reason,
                owner=owner,
                created_at=deps.clock.now(),
                until=until,
            )
            shipment.add_hold(hold)
            await uow.shipments.save(shipment, deps.clock.now())
            publish(uow, shipment)
            await uow.commit()
            return shipment, hold

    return await retrying(attempt)


async def release_hold(
    deps: Deps, shipment_id: str, hold_id: str, by: str, bound_to: str | None
) -> Shipment:
    """Release one manual hold; the shipment resumes if it was the last."""

    async def attempt() -> Shipment:
        async with deps.uow() as uow:
            shipment = await _get(uow, shipment_id, bound_to)
            shipment.release_manual_hold(hold_id, now=deps.clock.now(), by=by)
            await uow.shipments.save(shipment, deps.clock.now())
            publish(uow, shipment)
            await uow.commit()
            return shipment

    return await retrying(attempt)


async def release_due_holds(deps: Deps) -> int:
    """Release every hold whose `until` has passed (by the injected clock); returns how many."""
    now = deps.clock.now()
    async with deps.uow().db.reader() as session:  # a read: no write lock every tick
        due = await ShipmentRepository(session).due_hold_ids(now)
    released = 0
    for shipment_id, hold_id in due:
        try:
            await release_hold(deps, shipment_id, hold_id, "hold-until", None)
            released += 1
        except NotFound:
            continue  # released meanwhile (by hand, or by another instance's timer)
    return released
