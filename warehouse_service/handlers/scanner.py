"""Scanner use cases: import, label, pack, ship, out-of-stock, interception outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from sqlalchemy.exc import IntegrityError

from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import DomainError, DuplicateTracking, NotFound
from warehouse_service.domain.shipment import Shipment
from warehouse_service.handlers import Deps, publish, retrying

Check = Callable[[str], None]


async def _get(uow: WarehouseUnitOfWork, shipment_id: str, check: Check) -> Shipment:
    shipment = await uow.shipments.get(shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}", shipment_id=shipment_id)
    check(shipment.warehouse_id)
    return shipment


async def _step(deps: Deps, shipment_id: str, check: Check, act) -> Shipment:
    """Load, act (with the active stops), save, publish — retried on a version conflict."""

    async def attempt() -> Shipment:
        async with deps.uow() as uow:
            shipment = await _get(uow, shipment_id, check)
            act(shipment, await uow.stops.active())
            await uow.shipments.save(shipment, deps.clock.now())
            publish(uow, shipment)
            await uow.commit()
            return shipment

    return await retrying(attempt)


async def import_shipments(
    deps: Deps, warehouse_id: str, shipment_ids: list[str] | None, all_queued: bool
) -> dict[str, Any]:
    """Allocate queued tasks of one warehouse; held or out-of-step tasks are refused."""
    async with deps.uow() as uow:
        if all_queued:
            tasks = await uow.shipments.find(warehouse_ids=[warehouse_id], statuses=["queued"])
        else:
            tasks = await uow.shipments.find(shipment_ids=shipment_ids or [])
        found = {s.shipment_id for s in tasks}
        refused: list[dict[str, Any]] = [
            {"shipment_id": sid, "code": "not_found", "message": f"no shipment {sid}"}
            for sid in (shipment_ids or [])
            if sid not in found
        ]
        allocated = []
        for s in tasks:
            try:
                if s.warehouse_id != warehouse_id:
                    raise NotFound(f"shipment {s.shipment_id} is not in {warehouse_id}")
                s.allocate()
                await uow.shipments.save(s, deps.clock.now())
            except DomainError as exc:
                s.events.clear()
                refused.append(
                    {"shipment_id": s.shipment_id, "code": exc.code, "message": exc.message}
                    | {"details": exc.details}
                )
                continue
            publish(uow, s)
            allocated.append(s.shipment_id)
        await uow.commit()
    return {"allocated": allocated, "refused": refused}


async def label(
    deps: Deps, shipment_id: str, carrier: str, tracking_number: str | None, check: Check
) -> Shipment:
    """Record the carrier label; generate a unique tracking number or refuse a duplicate."""
    tracking = tracking_number or f"{carrier[:4].upper()}{uuid4().hex[:14].upper()}"

    async def attempt() -> Shipment:
        async with deps.uow() as uow:
            shipment = await _get(uow, shipment_id, check)
            shipment.ensure_not_stopped("label", await uow.stops.active())
            if await uow.shipments.tracking_taken(tracking):
                raise DuplicateTracking(
                    f"tracking number {tracking} is already on another shipment",
                    tracking_number=tracking,
                )
            shipment.label(carrier, tracking)
            await uow.shipments.save(shipment, deps.clock.now())
            publish(uow, shipment)
            try:
                await uow.commit()
            except IntegrityError:
                raise DuplicateTracking(
                    f"tracking number {tracking} is already on another shipment",
                    tracking_number=tracking,
                ) from None
            return shipment

    return await retrying(attempt)


async def pack(
    deps: Deps, shipment_id: str, scanned: list[str], weight_grams: int, check: Check
) -> Shipment:
    """Pack after the SKU scan check; the weight is kept as evidence."""

    def act(s: Shipment, stops) -> None:
        s.ensure_not_stopped("pack", stops)
        s.pack(scanned, weight_grams)

    return await _step(deps, shipment_id, check, act)


async def ship(deps: Deps, shipment_id: str, check: Check) -> Shipment:
    """Hand over to the carrier. The guard lock comes first, so a stop recorded before this
    transaction is always seen, and one recorded after it carries a higher epoch."""

    async def attempt() -> Shipment:
        async with deps.uow() as uow:
            epoch = await uow.stops.lock_shared()
            shipment = await _get(uow, shipment_id, check)
            now = deps.clock.now()
            shipment.ship(now=now, epoch=epoch, active_stops=await uow.stops.active())
            await uow.shipments.save(shipment, now)
            publish(uow, shipment)
            await uow.commit()
            return shipment

    return await retrying(attempt)


async def report_out_of_stock(
    deps: Deps, shipment_id: str, skus: list[str], note: str, check: Check
) -> Shipment:
    """Out of stock → `exception`; after-sales tells the customer first."""
    return await _step(
        deps, shipment_id, check, lambda s, _stops: s.report_out_of_stock(skus, note)
    )


async def report_interception(deps: Deps, shipment_id: str, outcome: str, check: Check) -> Shipment:
    """The warehouse's answer to a pending interception request."""
    return await _step(deps, shipment_id, check, lambda s, _stops: s.report_interception(outcome))
