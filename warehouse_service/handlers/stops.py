"""Stop-shipment: issue, lift, and apply the broadcast on every instance.

Ordering against ship scans: recording a stop takes the guard row exclusively
and advances its epoch in the same transaction; a ship takes it shared first.
So in one database every ship either committed before the stop (its epoch is
lower: it is "already shipped") or sees the stop and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TypeVar
from uuid import uuid4

from shared import topics
from shared.envelope import Envelope, Payload, new_event
from shared.events.stops import StopAcknowledged, StopIssued, StopLifted, StopScope
from shared.events.warehouse import HeldTask as HeldTaskRef
from shared.events.warehouse import ReleasedTask as ReleasedTaskRef
from shared.events.warehouse import ShipmentsHeld, ShipmentsReleased
from warehouse_service.adapters.partitions import partition_of
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.stop_holds import HeldTask
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import NotFound
from warehouse_service.domain.lifecycle import HOLDABLE
from warehouse_service.domain.stops import Scope, Stop, validate_scope
from warehouse_service.handlers import PRODUCER, Deps
from warehouse_service.handlers.orders import Handle

T = TypeVar("T", bound=HeldTask)

# How far back "already shipped" looks, for tracking and recall.
RECALL_WINDOW = timedelta(days=30)
# Tasks per `shipments.held` / `shipments.released` event (well under the broker's message size).
BATCH = 500


def _emit_stop_event(
    uow: WarehouseUnitOfWork, stop_id: str, payload: Payload, cause=None
) -> Envelope:
    env = new_event(payload, producer=PRODUCER, key=stop_id, cause=cause)
    uow.emit(topics.STOPS, env)
    return env


def _ack_row(env: Envelope) -> dict:
    """The `stop_acks` row of an acknowledgement event."""
    p: StopAcknowledged = env.typed()
    return p.model_dump(mode="python") | {"acknowledged_at": env.occurred_at}


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


async def _release_holds_of(
    deps: Deps, uow: WarehouseUnitOfWork, stop_id: str, by: str, cause: Envelope | None = None
) -> None:
    """Release this stop's holds set-based; the order service hears of them in a few
    `shipments.released` batches, not one event per task."""
    released = await uow.stop_holds.release(stop_id, deps.clock.now(), by)
    for wh, chunk in _batches(deps, released):
        payload = ShipmentsReleased(
            warehouse_id=wh,
            stop_id=stop_id,
            tasks=[
                ReleasedTaskRef(
                    shipment_id=x.shipment_id,
                    order_id=x.order_id,
                    hold_id=x.hold_id,
                    still_held=x.still_held,
                )
                for x in chunk
            ],
        )
        key = chunk[0].order_id
        uow.emit(topics.WAREHOUSE, new_event(payload, producer=PRODUCER, key=key, cause=cause))


async def stop_issued(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Broadcast receipt: record the stop if new, hold matching tasks of the served
    warehouses (set-based), and acknowledge per warehouse with what had already shipped.

    The order service learns of the holds from a few `shipments.held` batches (written
    after the acknowledgements in the same transaction), not one event per task."""
    p: StopIssued = env.typed()
    stop = await uow.stops.get(p.stop_id)
    if stop is None:
        # First sight in this database: record it in order against ship scans. Already
        # recorded (the issuing instance, or a shared database): the recording took the
        # guard then, so the holds need not wait for it (instances apply in parallel).
        epoch = await uow.stops.lock_and_advance()
        stop = await uow.stops.get(p.stop_id)
        if stop is None:
            scope = Scope.from_dict(p.scope.model_dump())
            stop = Stop(p.stop_id, scope, p.reason, p.issued_by, p.issued_at, epoch)
            await uow.stops.add(stop)
    served = deps.served
    held = []
    if stop.active:
        held = await uow.stop_holds.hold_matching(stop, served, HOLDABLE, deps.clock.now())
    counts = await uow.stop_holds.held_counts(stop.stop_id, served, HOLDABLE)
    shipped = await uow.stop_holds.shipped_before(stop, served, stop.issued_at - RECALL_WINDOW)
    acks = []
    for wh in served:
        ack = StopAcknowledged(
            stop_id=stop.stop_id,
            warehouse_id=wh,
            instance_id=deps.instance,
            held_count=counts.get(wh, 0),
            already_shipped=shipped.get(wh, []),
        )
        acks.append(_ack_row(_emit_stop_event(uow, stop.stop_id, ack, cause=env)))
    # Recorded here too, with the holds: a database this instance shares with others
    # shows the acknowledgement at once, not after the broadcast comes back round.
    await uow.stops.record_acks(acks)
    _announce_holds(deps, uow, stop, held, env)


def _batches(deps: Deps, tasks: Sequence[T]) -> Iterator[tuple[str, list[T]]]:
    """Tasks per warehouse and partition of their order, at most BATCH at a time: each
    batch is one event keyed by a listed order, so it shares the partition of every order
    it lists and per-order event order is kept."""
    groups: dict[tuple[str, int], list[T]] = {}
    for task in tasks:
        part = partition_of(task.order_id, deps.partitions)
        groups.setdefault((task.warehouse_id, part), []).append(task)
    for (wh, _), group in sorted(groups.items()):
        for i in range(0, len(group), BATCH):
            yield wh, group[i : i + BATCH]


def _announce_holds(
    deps: Deps, uow: WarehouseUnitOfWork, stop: Stop, held: list[HeldTask], env: Envelope
) -> None:
    """One `shipments.held` per batch of held tasks."""
    for wh, chunk in _batches(deps, held):
        payload = ShipmentsHeld(
            warehouse_id=wh,
            stop_id=stop.stop_id,
            reason=stop.reason,
            owner=f"stop:{stop.stop_id}",
            tasks=[
                HeldTaskRef(shipment_id=x.shipment_id, order_id=x.order_id, hold_id=x.hold_id)
                for x in chunk
            ],
        )
        key = chunk[0].order_id
        uow.emit(topics.WAREHOUSE, new_event(payload, producer=PRODUCER, key=key, cause=env))


async def stop_lifted(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Broadcast receipt: mark lifted and release this stop's holds (others stay)."""
    p: StopLifted = env.typed()
    stop = await uow.stops.get(p.stop_id)
    if stop is None:
        reason = f"lift of unknown stop {p.stop_id}"
        await record_anomaly(uow.session, "unknown_stop", env, reason, deps.clock.now())
        return
    await uow.stops.mark_lifted(p.stop_id, p.lifted_at, p.lifted_by)
    await _release_holds_of(deps, uow, p.stop_id, p.lifted_by, cause=env)


async def stop_acknowledged(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Every instance keeps every acknowledgement, so any of them can answer GET; one for a
    stop never issued here cannot be (`stop.issued` comes first on its key): an anomaly."""
    p: StopAcknowledged = env.typed()
    if await uow.stops.get(p.stop_id) is None:
        reason = f"acknowledgement of unknown stop {p.stop_id}"
        await record_anomaly(uow.session, "unknown_stop", env, reason, deps.clock.now())
        return
    await uow.stops.record_acks([_ack_row(env)])


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
