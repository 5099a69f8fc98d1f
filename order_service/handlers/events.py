"""Reactions to other services' events (run inside `idempotent(...)`: effect + inbox row commit
together). An event for an unknown order, or one the order's stage makes impossible, becomes
an anomaly row (and, for a known order, an entry on the order), never an exception."""

from __future__ import annotations

from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.errors import DomainError
from order_service.domain.refund_path import answer_refund_request
from shared.envelope import Envelope
from shared.events.warehouse import ShipmentsHeld, ShipmentsReleased, StockLevels


async def on_warehouse_event(uow: OrderUnitOfWork, env: Envelope) -> None:
    """`shipment.*` → the order's shipments and stage; `warehouse.registered` → routing."""
    if env.type == "warehouse.registered":
        await _register_warehouse(uow, env)
        return
    actor = f"warehouse:{env.payload.get('warehouse_id', '?')}"
    await _apply(
        uow,
        env,
        actor,
        lambda o: o.on_shipment_event(env.type.removeprefix("shipment."), dict(env.payload), actor),
    )


async def on_shipments_held(uow: OrderUnitOfWork, env: Envelope) -> None:
    """`shipments.held`: a stop held many tasks at once; each listed order gets its hold as
    from `shipment.held` (the batch shares each listed order's partition, so order holds)."""
    p: ShipmentsHeld = env.typed()
    base = {
        "warehouse_id": p.warehouse_id,
        "stop_id": p.stop_id,
        "reason": p.reason,
        "owner": p.owner,
    }
    tasks = [
        (x.order_id, base | {"shipment_id": x.shipment_id, "hold_id": x.hold_id}) for x in p.tasks
    ]
    await _each_task(uow, env, "held", p.warehouse_id, tasks)


async def on_shipments_released(uow: OrderUnitOfWork, env: Envelope) -> None:
    """`shipments.released`: a lifted stop released many tasks at once; each listed order
    hears it as from `shipment.released`."""
    p: ShipmentsReleased = env.typed()
    base = {"warehouse_id": p.warehouse_id, "stop_id": p.stop_id}
    tasks = [
        (
            x.order_id,
            base | {"shipment_id": x.shipment_id, "hold_id": x.hold_id, "still_held": x.still_held},
        )
        for x in p.tasks
    ]
    await _each_task(uow, env, "released", p.warehouse_id, tasks)


async def _each_task(
    uow: OrderUnitOfWork, env: Envelope, kind: str, warehouse_id: str, tasks: list[tuple]
) -> None:
    """A batched event applied to each listed order as the per-task `shipment.<kind>`."""
    actor = f"warehouse:{warehouse_id}"
    for order_id, data in tasks:
        await _apply(
            uow,
            env,
            actor,
            lambda o, data=data: o.on_shipment_event(kind, data, actor),
            order_id=order_id,
            shipment_id=data["shipment_id"],
        )


async def on_aftersales_event(uow: OrderUnitOfWork, env: Envelope) -> None:
    """Cancel requests, refunds issued and returns from after-sales."""
    await _apply(
        uow, env, "aftersales", lambda o: o.on_aftersales(env.type, dict(env.payload), "aftersales")
    )


REFUND_REQUESTED = "aftersales.refund_requested"


async def on_refund_requested(uow: OrderUnitOfWork, env: Envelope) -> None:
    """Decide by `rules.decide(order, "refund")`, answer `order.refund_decided`, cancel."""
    await _apply(
        uow,
        env,
        "aftersales",
        lambda o: answer_refund_request(o, dict(env.payload), "aftersales"),
    )


async def _apply(
    uow: OrderUnitOfWork,
    env: Envelope,
    actor: str,
    react,
    order_id: str | None = None,
    shipment_id: str | None = None,
) -> None:
    """React on the order, or record why not: an unknown order, an impossible fact the
    order noted (`order.anomaly`), or a rule that refused the event (nothing stored)."""
    order_id = order_id or env.order_id
    shipment_id = shipment_id or env.payload.get("shipment_id")
    order = await uow.orders.get(order_id) if order_id else None
    if order is None:
        reason = f"{env.type} for an order this service does not know"
        await uow.anomaly("unknown_order", env, reason, order_id=order_id, shipment_id=shipment_id)
        return
    noted = len(order.anomalies)
    try:
        react(order)
    except DomainError as exc:
        await uow.anomaly(exc.code, env, exc.message, order_id=order.id, shipment_id=shipment_id)
        return
    for entry in order.anomalies[noted:]:
        await uow.anomaly(
            entry["kind"],
            env,
            f"{entry['message']} (stage {entry['stage']})",
            order_id=order.id,
            shipment_id=entry.get("shipment_id") or shipment_id,
        )
    for entry in order.timeline:
        entry["detail"].setdefault("event_id", env.event_id)
    await uow.store(order, cause=env)


async def on_stock_levels(uow: OrderUnitOfWork, env: Envelope) -> None:
    """`stock.levels`: the stock projection auto-review reads (an older batch loses)."""
    p: StockLevels = env.typed()
    await uow.reference.put_stock([(x.sku, x.available) for x in p.levels], p.as_of)


async def _register_warehouse(uow: OrderUnitOfWork, env: Envelope) -> None:
    p = env.payload
    await uow.reference.put_warehouse(
        p["warehouse_id"], p["kind"], p.get("supplier_id"), p.get("name", "")
    )


apply_to_order = _apply  # for the handlers of other modules (handlers/replacements.py)
