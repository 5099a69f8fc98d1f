"""Events from the order service: new tasks, edits, withdrawals, interceptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import uuid4

from shared import topics
from shared.envelope import Envelope, new_event
from shared.events import orders as ev
from shared.events.warehouse import AddressChangeMissed, EditRejected
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.errors import Conflict, DomainError
from warehouse_service.domain.shipment import Hold, Shipment
from warehouse_service.handlers import PRODUCER, Deps, intake, publish
from warehouse_service.handlers.line_removals import line_removal_requested

Handle = Callable[[WarehouseUnitOfWork, Envelope], Awaitable[None]]


async def task_submitted(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """A shipment sent to a warehouse becomes a queued task (held at once if a stop matches)
    that reserves its lines, or an out-of-stock `exception` at once (handlers/intake.py)."""
    p: ev.ShipmentSubmitted = env.typed()
    now = deps.clock.now()
    if intake.is_pending(uow, p.shipment_id) or await uow.shipments.get(p.shipment_id):
        # Submitted once per shipment (a redelivery stops at the inbox): another event for
        # it is impossible, and the task stays as it is.
        reason = f"shipment {p.shipment_id} was submitted before; this one is ignored"
        await _anomaly(uow, env, p.shipment_id, "duplicate_shipment", reason, now)
        return
    wh = await uow.warehouses.get(p.warehouse_id)
    if wh is None:
        # Kept as a task (the warehouse may be registered later) and surfaced.
        reason = f"unknown warehouse {p.warehouse_id}; the task is queued unrouted"
        await _anomaly(uow, env, p.shipment_id, "unknown_warehouse", reason, now)
    shipment = Shipment(
        shipment_id=p.shipment_id,
        order_id=env.order_id or p.shipment_id,
        warehouse_id=p.warehouse_id,
        warehouse_kind=wh.kind if wh else None,
        warehouse_supplier=wh.supplier_id if wh else None,
        lines=[line.model_dump(mode="json") for line in p.lines],
        address=p.address.model_dump(mode="json"),
        submitted_at=env.occurred_at,
        replacement_id=p.replacement_id,
    )
    for stop in await uow.stops.active():
        if shipment.matches(stop):
            shipment.add_hold(_stop_hold(stop.stop_id, stop.reason, now))
    shipment.announce_queued()
    intake.submit(deps, uow, shipment, env)  # reserved, stored and announced with its batch


def _stop_hold(stop_id: str, reason: str, now) -> Hold:
    return Hold(
        hold_id=f"HOLD-{uuid4().hex[:12]}",
        kind="stop",
        reason=reason,
        owner=f"stop:{stop_id}",
        created_at=now,
        stop_id=stop_id,
    )


async def edit_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Applied only while queued; otherwise answered with `shipment.edit_rejected`."""
    p: ev.EditRequested = env.typed()
    shipment = await uow.shipments.get(p.shipment_id)
    if shipment is None:
        reason = "edit for an unknown shipment; answered edit_rejected"
        await _anomaly(uow, env, p.shipment_id, "unknown_shipment", reason, deps.clock.now())
        reject = EditRejected(
            shipment_id=p.shipment_id,
            warehouse_id="",
            request_id=p.request_id,
            reason="unknown shipment",
        )
        uow.emit(
            topics.WAREHOUSE, new_event(reject, producer=PRODUCER, order_id=env.order_id, cause=env)
        )
        return
    applied = shipment.apply_edit(
        p.request_id,
        address=p.address.model_dump(mode="json") if p.address else None,
        note=p.note,
        lines=[line.model_dump(mode="json") for line in p.lines] if p.lines else None,
    )
    if applied and p.lines:
        await intake.reserve_edited(deps, uow, shipment, env)
    await _save(deps, uow, shipment, env)


async def address_change_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """A relabel (SPEC §2.4, domain/relabel.py); an unknown task answers missed."""
    p: ev.AddressChangeRequested = env.typed()
    shipment = await _known(deps, uow, env, p.shipment_id)
    if shipment is None:
        missed = AddressChangeMissed(
            shipment_id=p.shipment_id,
            warehouse_id="",
            request_id=p.request_id,
            reason="unknown shipment",
        )
        uow.emit(
            topics.WAREHOUSE, new_event(missed, producer=PRODUCER, order_id=env.order_id, cause=env)
        )
        return
    shipment.request_relabel(
        p.request_id,
        p.address.model_dump(mode="json"),
        hold_id=f"HOLD-{uuid4().hex[:12]}",
        now=deps.clock.now(),
    )
    await _save(deps, uow, shipment, env)


async def withdraw_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Withdraw while queued, or whenever guaranteed (held order); else an interception."""
    p: ev.WithdrawRequested = env.typed()
    shipment = await _known(deps, uow, env, p.shipment_id)
    if shipment:
        shipment.request_withdrawal(p.request_id, p.reason, guaranteed=p.guaranteed)
        await _save(deps, uow, shipment, env)


async def intercept_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Best-effort cancel after import; shown on the worklist until the warehouse answers."""
    p: ev.InterceptRequested = env.typed()
    shipment = await _known(deps, uow, env, p.shipment_id)
    if shipment:
        shipment.request_interception(p.request_id, p.reason)
        await _save(deps, uow, shipment, env)


async def _known(deps: Deps, uow, env: Envelope, shipment_id: str) -> Shipment | None:
    shipment = await uow.shipments.get(shipment_id)
    if shipment is None:
        reason = f"{env.type} for an unknown shipment"
        await _anomaly(uow, env, shipment_id, "unknown_shipment", reason, deps.clock.now())
    return shipment


async def _save(deps: Deps, uow: WarehouseUnitOfWork, shipment: Shipment, env: Envelope) -> None:
    await uow.shipments.save(shipment, deps.clock.now())
    publish(uow, shipment, cause=env)


async def _anomaly(uow, env: Envelope, shipment_id: str | None, kind: str, reason: str, now):
    await record_anomaly(uow.session, kind, env, reason, now, shipment_id=shipment_id)


HANDLERS = {
    "order.submitted": task_submitted,
    "order.edit_requested": edit_requested,
    "order.address_change_requested": address_change_requested,
    "order.withdraw_requested": withdraw_requested,
    "order.intercept_requested": intercept_requested,
    "order.line_removal_requested": line_removal_requested,
}


def order_events(deps: Deps) -> Handle:
    """The consumer's handler: dispatch by type; other order events are not ours."""

    async def handle(uow: WarehouseUnitOfWork, env: Envelope) -> None:
        handler = HANDLERS.get(env.type)
        if handler is None:
            return
        if env.type != "order.submitted":
            await intake.flush(deps, uow)  # this event may be about a task of the batch
        try:
            await handler(deps, uow, env)
        except Conflict:
            raise  # retried by the consumer with a fresh transaction
        except DomainError as exc:  # a rule refused it: recorded, acknowledged
            sid = env.payload.get("shipment_id")
            await _anomaly(uow, env, sid, exc.code, exc.message, deps.clock.now())

    return handle
