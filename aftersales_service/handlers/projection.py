"""Keep the order projection from order and warehouse events; drive refunds and tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aftersales_service.adapters.rows import utc
from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.care import out_of_stock_task
from aftersales_service.domain.errors import Conflict, DomainError
from aftersales_service.domain.refunds import Decision
from aftersales_service.handlers import new_id
from aftersales_service.handlers.refund_outcomes import (
    on_delivered,
    on_interception_missed,
    on_order_cancelled,
)
from aftersales_service.handlers.refunds import RequestRefund, on_refund_decided, platform_refund
from aftersales_service.handlers.replacements import (
    on_replacement_created,
    on_replacement_refused,
    on_shipment_shipped,
)
from shared.envelope import Envelope

Handler = Callable[[AftersalesUnitOfWork, Envelope, object, datetime], Awaitable[None]]


async def _synced(uow, env, p, now):
    await uow.orders.sync(
        env.order_id,
        [ln.model_dump() for ln in p.lines],
        synced=True,
        shop_id=p.shop_id,
        platform=p.platform,
        buyer_id=p.buyer.id,
        currency=p.currency,
        total=p.total,
        shipping=p.shipping,
        discount=p.discount,
        paid_at=p.paid_at,
    )


async def _stage_changed(uow, env, p, now):
    await uow.orders.update(env.order_id, stage=p.stage, held=p.held)


async def _submitted(uow, env, p, now):
    # A replacement shipment (`<order>-R1`) carries no line of the order: its SKUs keep
    # the warehouse (and shipped state) of the shipment that first carried them.
    skus = [] if p.replacement_id else [ln.sku for ln in p.lines]
    await uow.orders.add_shipment(
        env.order_id, p.shipment_id, p.warehouse_id, skus, utc(env.occurred_at)
    )
    if p.replacement_id:
        await uow.replacements.link_shipments(env.order_id, p.replacement_id, [p.shipment_id])


async def _cancelled(uow, env, p, now):
    await uow.orders.update(env.order_id, stage="cancelled", cancelled_at=utc(env.occurred_at))
    lines = [(ln.sku, ln.qty) for ln in p.lines]
    await on_order_cancelled(uow, env.order_id, p.refund_due, p.mode, p.reason, now, env, lines)


async def _delivered(uow, env, p, now):
    await uow.orders.update(env.order_id, delivered_at=utc(p.delivered_at))
    await on_delivered(uow, env.order_id, now, env)


async def _refund_requested(uow, env, p, now):
    cmd = RequestRefund(
        env.order_id,
        p.reason or "platform refund request",
        "changed_mind",
        p.amount,
        requested_by="platform",
        source="platform",
        platform_refund_id=p.platform_refund_id,
        lines=tuple((sku, 1) for sku in p.skus),
    )
    await platform_refund(uow, cmd, now, env)


async def _refund_decided(uow, env, p, now):
    decision = Decision(p.allowed, p.mode, p.guaranteed, p.timing, p.code, p.reason, p.cancel)
    await on_refund_decided(uow, p.refund_id, decision, now, env)


async def _shipped(uow, env, p, now):
    await uow.orders.shipment_status(
        env.order_id, p.shipment_id, p.warehouse_id, "shipped", shipped_at=utc(p.shipped_at)
    )
    await on_shipment_shipped(uow, p.shipment_id, now)


async def _out_of_stock(uow, env, p, now):
    await uow.orders.shipment_status(env.order_id, p.shipment_id, p.warehouse_id, "exception")
    policy = await uow.policies.get()
    task = out_of_stock_task(new_id("TK"), env.order_id, p.shipment_id, p.skus, now, policy)
    await uow.care.add_task(task)


async def _intercepted(uow, env, p, now):
    await uow.orders.shipment_status(env.order_id, p.shipment_id, p.warehouse_id, "intercepted")


async def _missed(uow, env, p, now):
    await uow.orders.shipment_status(
        env.order_id, p.shipment_id, p.warehouse_id, "interception_missed"
    )
    await on_interception_missed(uow, env.order_id, now, env)


async def _replacement_created(uow, env, p, now):
    await on_replacement_created(uow, p, now, env)


async def _replacement_refused(uow, env, p, now):
    await on_replacement_refused(uow, p, now, env)


async def _warehouse(uow, env, p, now):
    await uow.orders.upsert_warehouse(p.warehouse_id, p.kind, p.supplier_id, p.name)


HANDLERS: dict[str, Handler] = {
    "order.synced": _synced,
    "order.stage_changed": _stage_changed,
    "order.submitted": _submitted,
    "order.cancelled": _cancelled,
    "order.delivered": _delivered,
    "order.refund_requested": _refund_requested,
    "order.refund_decided": _refund_decided,
    "order.replacement_created": _replacement_created,
    "order.replacement_refused": _replacement_refused,
    "shipment.shipped": _shipped,
    "shipment.out_of_stock": _out_of_stock,
    "shipment.intercepted": _intercepted,
    "shipment.interception_missed": _missed,
    "warehouse.registered": _warehouse,
}


# Handlers that only project (they raise no DomainError): no savepoint around them.
PROJECTION_ONLY = (
    "order.synced",
    "order.stage_changed",
    "order.submitted",
    "shipment.shipped",
    "shipment.intercepted",
    "warehouse.registered",
)

# On the orders topic, keyed by order id, `order.synced` comes before every other event of
# its order: one of these before it is about an order this service does not know. Warehouse
# events may overtake it (another topic) and land on a placeholder instead.
AFTER_SYNC = (
    "order.stage_changed",
    "order.submitted",
    "order.cancelled",
    "order.delivered",
    "order.refund_decided",
    "order.replacement_created",
    "order.replacement_refused",
)
ANSWERED = ("order.refund_requested",)  # unknown too, but refused and announced as well
# A parcel that leaves (or is still on its way) cannot belong to a cancelled order.
NOT_WHEN_CANCELLED = ("shipment.shipped", "shipment.interception_missed", "order.delivered")


async def _not_applicable(uow: AftersalesUnitOfWork, env: Envelope) -> tuple[str, str] | None:
    """(kind, reason) when the projection cannot apply `env`: unknown order, or a stage that
    makes it impossible; None when it applies (or lands early on a placeholder)."""
    if env.order_id is None:
        return "unknown_order", f"{env.type} without an order id"
    if env.type not in (*AFTER_SYNC, *ANSWERED, *NOT_WHEN_CANCELLED):
        return None
    status = await uow.orders.status(env.order_id)  # (synced, stage) or None
    if env.type in (*AFTER_SYNC, *ANSWERED) and (status is None or not status[0]):
        return "unknown_order", f"{env.type} for an order this service has not seen synced"
    if env.type in NOT_WHEN_CANCELLED and status is not None and status[1] == "cancelled":
        return "impossible_stage", f"{env.type} for a cancelled order"
    return None


async def apply_event(uow: AftersalesUnitOfWork, env: Envelope, now: datetime) -> None:
    """Inside the consumer's transaction: route one event; unknown types are ignored.

    An event about an order this service does not know, or one its stage makes impossible,
    is recorded as an anomaly and not applied (a platform refund for it is still refused
    and announced); a rule that refuses (e.g. nothing left to refund) is recorded too.
    Neither fails the consumer.
    """
    handler = HANDLERS.get(env.type)
    if handler is None:
        return
    if env.type != "warehouse.registered":
        found = await _not_applicable(uow, env)
        if found is not None:
            kind, reason = found
            sid = env.payload.get("shipment_id")
            await uow.orders.record_anomaly(
                env.order_id, env.type, env.event_id, reason, now, kind=kind, shipment_id=sid
            )
            if env.type not in ANSWERED or env.order_id is None:
                return
    if env.type in PROJECTION_ONLY:
        await handler(uow, env, env.typed(), now)
        return
    try:
        async with uow.savepoint():
            await handler(uow, env, env.typed(), now)
    except Conflict:
        raise  # a concurrent change won: the consumer retries the event
    except DomainError as exc:
        uow.orders.forget()  # what the projection knew may have been rolled back
        await uow.orders.record_anomaly(
            env.order_id, env.type, env.event_id, f"{exc.code}: {exc.message}", now
        )
