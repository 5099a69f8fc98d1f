"""Scanner use cases: import, label, pack, ship, out-of-stock, interception outcome.

Single-parcel steps are group-committed: scans arriving together share one transaction
(the shipments and their holds loaded by one query, the stops and the guard read once,
one commit), applied in arrival order so each gets the answer it would have had alone.
A batch that loses a race (a version conflict, a tracking number taken meanwhile) is
replayed one scan per transaction.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from warehouse_service.adapters.uow import DuplicateKey, LostRace, WarehouseUnitOfWork
from warehouse_service.domain.errors import Conflict, DomainError, DuplicateTracking, NotFound
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stops import Stop
from warehouse_service.domain.warehouse import check_access
from warehouse_service.handlers import Deps, publish, retrying


@dataclass
class Context:
    """What a batch of scans reads once: the time, the guard epoch, the active stops and
    the tracking numbers already in use (grown by the labels of the batch)."""

    now: datetime
    epoch: int | None
    stops: list[Stop]
    taken: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Scan:
    """One scanner step on one parcel, as queued for its batch."""

    shipment_id: str
    bound_to: str | None  # the caller's warehouse (a scanner key), None for any
    act: Callable[[Shipment, Context], None]
    ship: bool = False  # needs the stop guard
    tracking: str | None = None  # a label's tracking number, checked for uniqueness


async def _get(uow: WarehouseUnitOfWork, shipment_id: str, bound_to: str | None) -> Shipment:
    shipment = await uow.shipments.get(shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}", shipment_id=shipment_id)
    check_access(bound_to, shipment.warehouse_id)
    return shipment


async def _scan(deps: Deps, scan: Scan) -> Shipment:
    if deps.scans is None:
        return await _alone(deps, scan)
    return await deps.scans.submit(scan)


async def run_scans(deps: Deps, scans: list[Scan]) -> list[Shipment | Exception]:
    """The batcher's worker: all scans in one transaction, else one by one."""
    try:
        return await _together(deps, scans)
    except (Conflict, LostRace):  # a lost race: a version, a unique key, a deadlock
        pass
    results: list[Shipment | Exception] = []
    for scan in scans:
        try:
            results.append(await _alone(deps, scan))
        except Exception as exc:  # handed to that scan's caller
            results.append(exc)
    return results


async def _alone(deps: Deps, scan: Scan) -> Shipment:
    """One scan in its own transaction, retried on a version conflict."""

    async def attempt() -> Shipment:
        try:
            [result] = await _together(deps, [scan])
        except DuplicateKey:
            if scan.tracking is None:
                raise
            raise DuplicateTracking(
                f"tracking number {scan.tracking} is already on another shipment",
                tracking_number=scan.tracking,
            ) from None
        if isinstance(result, Exception):
            raise result
        return result

    return await retrying(attempt)


async def _together(deps: Deps, scans: list[Scan]) -> list[Shipment | Exception]:
    """Apply scans in order in one transaction. A refused scan (domain error, wrong
    warehouse) gets its error and changes nothing; the others commit together. With a
    ship among them the guard lock comes first, so a stop recorded before this
    transaction is always seen, and one recorded after it carries a higher epoch."""
    async with deps.uow() as uow:
        epoch = await uow.stops.lock_shared() if any(s.ship for s in scans) else None
        ids = Counter(s.shipment_id for s in scans)
        locked = await uow.shipments.find(shipment_ids=list(ids), lock=True)
        found = {s.shipment_id: s for s in locked}
        labels = [s.tracking for s in scans if s.tracking]
        ctx = Context(
            now=deps.clock.now(),
            epoch=epoch,
            stops=await uow.stops.active(),
            taken=await uow.shipments.tracking_in_use(labels) if labels else set(),
        )
        results: list[Shipment | Exception] = []
        for scan in scans:
            ids[scan.shipment_id] -= 1
            again = ids[scan.shipment_id] > 0  # the same parcel is scanned later in the batch
            try:
                shipment = _act(found, scan, ctx, again)
            except DomainError as exc:  # refused (wrong warehouse too): this scan's answer
                results.append(exc)
                continue
            uow.shipments.stage(shipment, ctx.now)  # saved together at commit
            publish(uow, shipment)
            results.append(copy.deepcopy(shipment) if again else shipment)
        await uow.commit()
    return results


def _act(found: dict[str, Shipment], scan: Scan, ctx: Context, again: bool) -> Shipment:
    shipment = found.get(scan.shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {scan.shipment_id}", shipment_id=scan.shipment_id)
    check_access(scan.bound_to, shipment.warehouse_id)
    before = copy.deepcopy(shipment) if again else None
    try:
        scan.act(shipment, ctx)
    except DomainError:
        if before is not None:  # a later scan of this parcel starts from the untouched state
            found[scan.shipment_id] = before
        raise
    return shipment


@dataclass
class Imported:
    """What an import did: allocated ids, requested ids with no task, refused tasks."""

    allocated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    refused: list[tuple[str, DomainError]] = field(default_factory=list)


async def import_shipments(
    deps: Deps, warehouse_id: str, shipment_ids: list[str] | None, all_queued: bool
) -> Imported:
    """Allocate queued tasks of one warehouse; held or out-of-step tasks are refused."""
    async with deps.uow() as uow:
        if all_queued:
            tasks = await uow.shipments.find(warehouse_ids=[warehouse_id], statuses=["queued"])
        else:
            tasks = await uow.shipments.find(shipment_ids=shipment_ids or [])
        found = {s.shipment_id for s in tasks}
        result = Imported(missing=[sid for sid in (shipment_ids or []) if sid not in found])
        for s in tasks:
            try:
                if s.warehouse_id != warehouse_id:
                    raise NotFound(f"shipment {s.shipment_id} is not in {warehouse_id}")
                s.allocate()
                await uow.shipments.save(s, deps.clock.now())
            except DomainError as exc:
                s.events.clear()
                result.refused.append((s.shipment_id, exc))
                continue
            publish(uow, s)
            result.allocated.append(s.shipment_id)
        await uow.commit()
    return result


async def label(
    deps: Deps, shipment_id: str, carrier: str, tracking_number: str | None, bound_to: str | None
) -> Shipment:
    """Record the carrier label; generate a unique tracking number or refuse a duplicate."""
    tracking = tracking_number or f"{carrier[:4].upper()}{uuid4().hex[:14].upper()}"

    def act(s: Shipment, ctx: Context) -> None:
        s.ensure_not_stopped("label", ctx.stops)
        if tracking in ctx.taken:
            raise DuplicateTracking(
                f"tracking number {tracking} is already on another shipment",
                tracking_number=tracking,
            )
        s.label(carrier, tracking, now=ctx.now)
        ctx.taken.add(tracking)

    return await _scan(deps, Scan(shipment_id, bound_to, act, tracking=tracking))


async def pack(
    deps: Deps, shipment_id: str, scanned: list[str], weight_grams: int, bound_to: str | None
) -> Shipment:
    """Pack after the SKU scan check; the weight is kept as evidence."""

    def act(s: Shipment, ctx: Context) -> None:
        s.ensure_not_stopped("pack", ctx.stops)
        s.pack(scanned, weight_grams)

    return await _scan(deps, Scan(shipment_id, bound_to, act))


async def ship(deps: Deps, shipment_id: str, bound_to: str | None) -> Shipment:
    """Hand over to the carrier, checked against the active stops under the guard lock."""

    def act(s: Shipment, ctx: Context) -> None:
        assert ctx.epoch is not None
        s.ship(now=ctx.now, epoch=ctx.epoch, active_stops=ctx.stops)

    return await _scan(deps, Scan(shipment_id, bound_to, act, ship=True))


async def report_out_of_stock(
    deps: Deps, shipment_id: str, skus: list[str], note: str, bound_to: str | None
) -> Shipment:
    """Out of stock → `exception`; after-sales tells the customer first."""
    return await _scan(
        deps, Scan(shipment_id, bound_to, lambda s, _ctx: s.report_out_of_stock(skus, note))
    )


async def report_interception(
    deps: Deps, shipment_id: str, outcome: str, bound_to: str | None
) -> Shipment:
    """The warehouse's answer to a pending interception request."""
    return await _scan(
        deps, Scan(shipment_id, bound_to, lambda s, _ctx: s.report_interception(outcome))
    )
