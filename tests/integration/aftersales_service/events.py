"""Builders for the order/warehouse events that drive the after-sales projection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shared.envelope import Envelope, new_event
from shared.events.common import Address, Buyer, Line
from shared.events.orders import (
    LineQty,
    OrderCancelled,
    OrderDelivered,
    OrderStageChanged,
    OrderSynced,
    RefundDecided,
    RefundRequested,
    ReplacementCreated,
    ReplacementRefused,
    ReplacementShipment,
    ShipmentSubmitted,
)
from shared.events.warehouse import (
    InterceptionMissed,
    ShipmentIntercepted,
    ShipmentOutOfStock,
    ShipmentShipped,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ADDRESS = Address(name="Li Lei", phone="13800000000", city="Hangzhou", line1="1 Road")


def line(sku: str, qty: int = 1, price: str = "59.00", **kw) -> Line:
    return Line(sku=sku, qty=qty, unit_price=Decimal(price), **kw)


def synced(
    order_id: str,
    lines: list[Line],
    total: str | None = None,
    buyer="B1",
    shipping: str | None = None,
    discount: str | None = None,
) -> Envelope:
    amount = Decimal(total) if total else sum((ln.unit_price * ln.qty for ln in lines), Decimal(0))
    known = {k: Decimal(v) for k, v in (("shipping", shipping), ("discount", discount)) if v}
    return new_event(
        OrderSynced(
            shop_id="demo-shop",
            platform="taobao",
            platform_order_id=f"P-{order_id}",
            buyer=Buyer(id=buyer),
            address=ADDRESS,
            lines=lines,
            total=amount,
            currency="CNY",
            paid_at=T0,
            **known,
        ),
        producer="order",
        order_id=order_id,
    )


def stage(order_id: str, to: str, previous: str = "synced", held: bool = False) -> Envelope:
    return new_event(
        OrderStageChanged(stage=to, previous=previous, trigger=f"to_{to}", held=held),
        producer="order",
        order_id=order_id,
    )


def submitted(
    order_id: str,
    shipment_id: str,
    warehouse: str,
    lines: list[Line],
    at: datetime = T0,
    replacement_id: str | None = None,
) -> Envelope:
    return new_event(
        ShipmentSubmitted(
            shipment_id=shipment_id,
            warehouse_id=warehouse,
            lines=lines,
            address=ADDRESS,
            platform="taobao",
            buyer_id="B1",
            paid_at=T0,
            replacement_id=replacement_id,
        ),
        producer="order",
        order_id=order_id,
        occurred_at=at,
    )


def shipped(order_id: str, shipment_id: str, warehouse: str, at: datetime) -> Envelope:
    return new_event(
        ShipmentShipped(
            shipment_id=shipment_id,
            warehouse_id=warehouse,
            carrier="SF",
            tracking_number="SF1",
            shipped_at=at,
        ),
        producer="warehouse",
        order_id=order_id,
    )


def delivered(order_id: str, at: datetime) -> Envelope:
    return new_event(OrderDelivered(delivered_at=at), producer="order", order_id=order_id)


def cancelled(
    order_id: str, refund_due: str, mode: str = "void", lines: list[tuple[str, int]] = ()
) -> Envelope:
    cancelled_lines = [LineQty(sku=sku, qty=qty) for sku, qty in lines]
    return new_event(
        OrderCancelled(
            reason="cs", mode=mode, refund_due=Decimal(refund_due), lines=cancelled_lines
        ),
        producer="order",
        order_id=order_id,
    )


# The order service's answers by mode, as `rules.decide(order, "refund")` gives them.
DECISIONS = {
    "void": dict(allowed=True, guaranteed=True, timing="at_once", cancel="requested"),
    "withdraw": dict(allowed=True, timing="on_confirmation", cancel="requested"),
    "intercept": dict(allowed=True, timing="after_interception", cancel="requested"),
    "refuse_delivery": dict(allowed=True, timing="after_return"),
    "return": dict(allowed=True, timing="return_policy"),
    "none": dict(allowed=False, code="closed", reason="complaint / warranty only"),
}


def decided(order_id: str, refund_id: str, mode: str, **over) -> Envelope:
    """`order.refund_decided` as the order service answers a refund request."""
    fields = {"refund_id": refund_id, "mode": mode, **DECISIONS[mode], **over}
    return new_event(RefundDecided(**fields), producer="order", order_id=order_id)


def refund_requested(order_id: str, platform_refund_id: str, amount: str) -> Envelope:
    return new_event(
        RefundRequested(platform_refund_id=platform_refund_id, amount=Decimal(amount)),
        producer="order",
        order_id=order_id,
    )


def out_of_stock(order_id: str, shipment_id: str, warehouse: str, skus: list[str]) -> Envelope:
    return new_event(
        ShipmentOutOfStock(shipment_id=shipment_id, warehouse_id=warehouse, skus=skus),
        producer="warehouse",
        order_id=order_id,
    )


def intercepted(order_id: str, shipment_id: str, warehouse: str) -> Envelope:
    return new_event(
        ShipmentIntercepted(shipment_id=shipment_id, warehouse_id=warehouse),
        producer="warehouse",
        order_id=order_id,
    )


def missed(order_id: str, shipment_id: str, warehouse: str) -> Envelope:
    return new_event(
        InterceptionMissed(shipment_id=shipment_id, warehouse_id=warehouse),
        producer="warehouse",
        order_id=order_id,
    )


def replacement_created(
    order_id: str, replacement_id: str, kind: str, value: str, lines: list[Line], wh: str
) -> Envelope:
    """The order service's answer: one replacement shipment `<order>-R1` from `wh`."""
    shipment = ReplacementShipment(shipment_id=f"{order_id}-R1", warehouse_id=wh, lines=lines)
    return new_event(
        ReplacementCreated(
            replacement_id=replacement_id, kind=kind, shipments=[shipment], value=Decimal(value)
        ),
        producer="order",
        order_id=order_id,
    )


def replacement_refused(order_id: str, replacement_id: str, kind: str, code: str) -> Envelope:
    return new_event(
        ReplacementRefused(replacement_id=replacement_id, kind=kind, code=code),
        producer="order",
        order_id=order_id,
    )
