"""Stop-shipment: issue, lift, and apply the broadcast on every instance.

Ordering against ship scans: recording a stop takes the guard row exclusively
and advances its epoch in the same transaction; a ship takes it shared first.
So in one database every ship either committed before the stop (its epoch is
lower: it is "already shipped") or sees the stop and is refused.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from shared import topics
from shared.envelope import Envelope, Payload, new_event
from shared.events.stops import StopAcknowledged, StopIssued, StopLifted, StopScope
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import NotFound
from warehouse_service.domain.lifecycle import HOLDABLE
from warehouse_service.domain.stops import Scope, Stop, validate_scope
from warehouse_service.handlers import PRODUCER, Deps, publish
from warehouse_service.handlers.orders import Handle, _stop_hold

# How far back "already shipped" looks, for tracking and recall.
RECALL_WINDOW = timedelta(days=30)


def _emit_stop_event(uow: WarehouseUnitOfWork, stop_id: str, payload: Payload, cause=None) -> None:
    uow.emit(topics.STOPS, new_event(payload, producer=PRODUCER, key=stop_id, cause=cause))


async def issue_stop(deps: Deps, scope: Scope, reason: str, by: str) -> Stop:
    """Record the stop at once (ships in this database are blocked from the commit on)
    and broadcast `stop.issued` through the outbox."""
    validate_scope(scope)
    async with deps.uow() as uow:
        epoch = await uow.stops.lock_and_advance()
        stop = Stop(f"STOP-{uuid4().hex[:12]}", scope, reason, by, deps.clock.now(), epoch)
        await uow.stops.add(stop)
        issued = StopIssued(
            stop_id=stop.stop_id,
            scope=StopScope(**scope.to_dict()),
            reason=reason,
            issued_by=by,
            issued_at=stop.issued_at,
        )
        _emit_stop_event(uow, stop.stop_id, issued)
        await uow.commit()
    return stop


async def lift_stop(deps: Deps, stop_id: str, by: str) -> Stop:
    """Lift a stop: release its holds here and broadcast `stop.lifted` to the others."""
    async with deps.uow() as uow:
        stop = await uow.stops.get(stop_id)
        if stop is None:
            raise NotFound(f"no stop-shipment {stop_id}", stop_id=stop_id)
        if stop.active:
            stop.lifted_at, stop.lifted_by = deps.clock.now(), by
            await uow.stops.mark_lifted(stop_id, stop.lifted_at, by)
            await _release_holds_of(deps, uow, stop_id, by)
            lifted = StopLifted(stop_id=stop_id, lifted_by=by, lifted_at=stop.lifted_at)
            _emit_stop_event(uow, stop_id, lifted)
        await uow.commit()
    return stop


async def _release_holds_of(deps: Deps, uow: WarehouseUnitOfWork, stop_id: str, by: str) -> int:
    released = await uow.shipments.release_stop_holds(stop_id, deps.clock.now(), by)
    for shipment in {s.shipment_id: s for s, _ in released}.values():
        publish(uow, shipment)
    return len(released)


async def stop_issued(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Broadcast receipt: record the stop if new, hold matching tasks of the served
    warehouses, and acknowledge per warehouse with what had already shipped."""
    p: StopIssued = env.typed()
    epoch = await uow.stops.lock_and_advance()
    stop = await uow.stops.get(p.stop_id)
    if stop is None:
        scope = Scope.from_dict(p.scope.model_dump())
        stop = Stop(p.stop_id, scope, p.reason, p.issued_by, p.issued_at, epoch)
        await uow.stops.add(stop)
    now = deps.clock.now()
    reached = [w for w in deps.served if await _reaches(uow, stop, w)]
    since = stop.issued_at - RECALL_WINDOW
    tasks = await uow.shipments.stop_candidates(reached, HOLDABLE, stop.stop_id, since)
    matching = [s for s in tasks if s.matches(stop)]
    to_hold = [
        s
        for s in matching
        if stop.active and s.status in HOLDABLE and stop.stop_id not in s.held_by_stops
    ]
    pairs = []
    for s in to_hold:
        hold = _stop_hold(stop.stop_id, stop.reason, now)
        s.add_hold(hold)
        pairs.append((s, hold))
    await uow.shipments.hold_many(pairs, now)
    # Acknowledgements go first in the outbox: the holds commit with them, and ops waits
    # on the acks, not on thousands of per-task `shipment.held` events behind them.
    for wh in deps.served:
        here = [s for s in matching if s.warehouse_id == wh]
        ack = StopAcknowledged(
            stop_id=stop.stop_id,
            warehouse_id=wh,
            instance_id=deps.instance,
            held_count=sum(1 for s in here if stop.stop_id in s.held_by_stops),
            already_shipped=sorted({s.order_id for s in here if _shipped_before(s, stop)}),
        )
        _emit_stop_event(uow, stop.stop_id, ack, cause=env)
    for s in to_hold:
        publish(uow, s, cause=env)


async def _reaches(uow: WarehouseUnitOfWork, stop: Stop, warehouse_id: str) -> bool:
    """Skip warehouses the scope cannot reach (an unregistered one is checked task by task)."""
    wh = await uow.warehouses.get(warehouse_id)
    return wh is None or stop.scope.reaches(wh.warehouse_id, wh.kind)


def _shipped_before(shipment, stop: Stop) -> bool:
    """Left before the stop was recorded here (lower epoch); candidates are already limited
    to the recall window."""
    return (
        shipment.status == "shipped"
        and shipment.shipped_epoch is not None
        and shipment.shipped_epoch < stop.epoch
    )


async def stop_lifted(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Broadcast receipt: mark lifted and release this stop's holds (others stay)."""
    p: StopLifted = env.typed()
    stop = await uow.stops.get(p.stop_id)
    if stop is None:
        await record_anomaly(
            uow.session,
            event_type=env.type,
            detail=f"lift of unknown stop {p.stop_id}",
            now=deps.clock.now(),
        )
        return
    await uow.stops.mark_lifted(p.stop_id, p.lifted_at, p.lifted_by)
    await _release_holds_of(deps, uow, p.stop_id, p.lifted_by)


async def stop_acknowledged(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Every instance keeps every acknowledgement, so any of them can answer GET."""
    p: StopAcknowledged = env.typed()
    await uow.stops.record_ack(p.model_dump(mode="python") | {"acknowledged_at": env.occurred_at})


HANDLERS = {
    "stop.issued": stop_issued,
    "stop.lifted": stop_lifted,
    "stop.acknowledged": stop_acknowledged,
}


def broadcast_events(deps: Deps) -> Handle:
    """The broadcast consumer's handler (one consumer group per instance)."""

    async def handle(uow: WarehouseUnitOfWork, env: Envelope) -> None:
        handler = HANDLERS.get(env.type)
        if handler is not None:
            await handler(deps, uow, env)

    return handle
