"""How an order reacts to warehouse and after-sales facts: plain functions on an `Order`
(its methods `on_shipment_event`, `advance`, `deliver` and `on_aftersales` call them).

Impossible or out-of-order facts are recorded as anomalies, never raised, so a
consumer never crashes on them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from order_service.domain import lifecycle, lines, relabel
from order_service.domain.errors import IllegalTransition, NotAllowed

if TYPE_CHECKING:
    from order_service.domain.order import Order, Shipment

PROGRESS = ("queued", "allocated", "labelled", "packed", "shipped")  # shipment.<kind> steps


def on_shipment_event(order: Order, kind: str, data: dict[str, Any], actor: str) -> None:
    """Apply one `shipment.*` event (kind without the prefix)."""
    ship = order.shipment(data.get("shipment_id", ""))
    if ship is None:
        order.anomaly(
            "unknown_shipment",
            actor,
            f"{kind} for an unknown shipment",
            shipment_id=data.get("shipment_id"),
            event=kind,
        )
        return
    if kind in PROGRESS:
        _progress(order, ship, kind, data, actor)
    else:
        react = ON_SHIPMENT.get(kind)
        if react is None:
            order.record(f"shipment_{kind}", actor, shipment_id=ship.shipment_id)
            return
        react(order, ship, data, actor)


# ---- progress ----------------------------------------------------------------------
def _progress(order: Order, ship: Shipment, kind: str, data: dict[str, Any], actor: str) -> None:
    if not ship.live:
        order.anomaly(
            "event_after_withdrawal",
            actor,
            f"{kind} for a shipment already {ship.status}",
            shipment_id=ship.shipment_id,
            event=kind,
        )
        return
    if (
        ship.status in lifecycle.SHIPMENT_RANK
        and lifecycle.SHIPMENT_RANK[kind] <= lifecycle.SHIPMENT_RANK[ship.status]
    ):
        if relabel.new_label(order, ship, kind, data, actor):
            return
        if kind != ship.status:
            order.record(
                "stale_event_ignored",
                actor,
                shipment_id=ship.shipment_id,
                event=kind,
                status=ship.status,
            )
        if kind == "queued":
            _add_queued_holds(order, ship, data, actor)
        return
    previous = ship.status
    ship.status = kind
    if data.get("tracking_number"):
        ship.carrier, ship.tracking_number = data.get("carrier"), data["tracking_number"]
    order.record(
        f"shipment_{kind}",
        actor,
        shipment_id=ship.shipment_id,
        warehouse_id=ship.warehouse_id,
        **_facts(data),
    )
    if kind == "queued":
        _add_queued_holds(order, ship, data, actor)
    if ship.replacement_id:  # a replacement follows its warehouse, never the order's stage
        return
    if order.stage in lifecycle.TERMINAL:
        order.anomaly(
            "event_after_close",
            actor,
            f"{kind} for a {order.stage} order",
            shipment_id=ship.shipment_id,
            event=kind,
            was=previous,
        )
    if kind == "shipped" and order.stage != "cancelled":
        order.tracking_sync.append(
            {
                "shipment_id": ship.shipment_id,
                "carrier": ship.carrier,
                "tracking_number": ship.tracking_number,
            }
        )
    if order.stage == "exception" and previous == "exception":
        order.fire("requeue", actor, shipment_id=ship.shipment_id)
    advance(order, actor)


def _add_queued_holds(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    for stop_id in data.get("held_by") or []:
        if not any(h["hold_id"] == stop_id for h in ship.holds):
            ship.holds.append({"hold_id": stop_id, "stop_id": stop_id, "reason": "stop"})
            order.record("held", actor, shipment_id=ship.shipment_id, stop_id=stop_id)


def advance(order: Order, actor: str) -> None:
    """Move the stage up to the least advanced shipment, step by step, until a guard stops."""
    target = order.shipments_stage()
    if target is None or order.stage not in lifecycle.WAREHOUSE_STAGES:
        return
    order_ = lifecycle.WAREHOUSE_STAGES
    while order_.index(order.stage) < order_.index(target):
        trigger = lifecycle.NEXT_TRIGGER[order.stage]
        try:
            order.fire(trigger, actor)
        except IllegalTransition as exc:
            order.record(
                "progress_blocked",
                actor,
                trigger=trigger,
                rule=exc.details["rule"],
                held_by=order.held_by,
            )
            return
    if order.stage == "shipped" and order.delivery_reported_at:
        _deliver(order, order.delivery_reported_at, "platform", actor)


# ---- holds, stock ------------------------------------------------------------------
def _on_held(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    if not ship.live or ship.left_warehouse:
        order.anomaly(
            "hold_after_close",
            actor,
            f"held for a shipment already {ship.status}",
            shipment_id=ship.shipment_id,
            hold_id=data["hold_id"],
        )
        return
    if not any(h["hold_id"] == data["hold_id"] for h in ship.holds):
        ship.holds.append(
            {
                "hold_id": data["hold_id"],
                "stop_id": data.get("stop_id"),
                "reason": data.get("reason", ""),
            }
        )
    order.record(
        "held",
        actor,
        shipment_id=ship.shipment_id,
        hold_id=data["hold_id"],
        stop_id=data.get("stop_id"),
        reason=data.get("reason", ""),
    )


def _on_released(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    ship.holds = [h for h in ship.holds if h["hold_id"] != data["hold_id"]]
    if not data.get("still_held"):
        ship.holds = []
    order.record(
        "released",
        actor,
        shipment_id=ship.shipment_id,
        hold_id=data["hold_id"],
        still_held=bool(ship.holds),
    )
    advance(order, actor)


def _on_out_of_stock(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    if not ship.live or ship.left_warehouse:
        order.anomaly(
            "out_of_stock_late",
            actor,
            f"out of stock for a {ship.status} shipment",
            shipment_id=ship.shipment_id,
        )
        return
    ship.status = "exception"
    order.record(
        "shipment_out_of_stock",
        actor,
        shipment_id=ship.shipment_id,
        skus=data.get("skus", []),
        note=data.get("note", ""),
    )
    if not ship.replacement_id and lifecycle.can_fire(order.stage, "out_of_stock"):
        order.fire("out_of_stock", actor, skus=data.get("skus", []))


# ---- edits ---------------------------------------------------------------------------
def _on_edit_applied(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    _edit_answer(order, ship, data["request_id"], None, actor)


def _on_edit_rejected(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    _edit_answer(order, ship, data["request_id"], data.get("reason", "rejected"), actor)


def _edit_answer(
    order: Order, ship: Shipment, request_id: str, rejection: str | None, actor: str
) -> None:
    pending = order.pending_edit
    if (
        not pending
        or pending["request_id"] != request_id
        or (ship.shipment_id not in pending["waiting"])
    ):
        order.anomaly(
            "unexpected_edit_answer",
            actor,
            "no such pending edit",
            request_id=request_id,
            shipment_id=ship.shipment_id,
        )
        return
    pending["waiting"].remove(ship.shipment_id)
    if rejection:
        pending["rejections"].append({"shipment_id": ship.shipment_id, "reason": rejection})
    if pending["waiting"]:
        return
    order.pending_edit = None
    if pending["rejections"]:
        outcome = {
            "request_id": request_id,
            "outcome": "rejected",
            "reasons": pending["rejections"],
            "changes": pending["changes"],
        }
        order.record("edit_rejected", actor, **outcome)
    else:
        order._apply_changes(pending["changes"], actor)
        outcome = {
            "request_id": request_id,
            "outcome": "applied",
            "changes": pending["changes"],
        }
        order.record("edit_applied", actor, **outcome)
    order.last_edit = outcome


# ---- withdrawals and interceptions -----------------------------------------------
def _left_already(order: Order, ship: Shipment, kind: str, actor: str) -> bool:
    """A withdrawal or interception of a parcel that has left cannot be: noted, ignored."""
    if ship.left_warehouse:
        order.anomaly(
            "event_after_shipping",
            actor,
            f"{kind} for a shipment already shipped",
            shipment_id=ship.shipment_id,
            event=kind,
        )
    return ship.left_warehouse


def _unasked(order: Order, ship: Shipment, kind: str, actor: str) -> bool:
    """An interception answer no pending cancel waits for: noted, ignored."""
    pending = order.pending_cancel
    if pending and ship.shipment_id in pending["waiting"]:
        return False
    order.anomaly(
        "unexpected_cancel_answer",
        actor,
        f"{kind}: no pending cancel waits for this shipment",
        shipment_id=ship.shipment_id,
        event=kind,
    )
    return True


def _gone_already(order: Order, ship: Shipment, kind: str, actor: str) -> bool:
    """The warehouse answers a withdrawal or interception asked of a task already gone
    (emptied by line removal before the request reached it) for the gone task; nothing
    waits for it any more: noted, the shipment keeps its status."""
    pending = order.pending_cancel
    if ship.live or (pending and ship.shipment_id in pending["waiting"]):
        return False
    order.record("gone_shipment_answered", actor, shipment_id=ship.shipment_id, event=kind)
    return True


def shipment_emptied(order: Order, ship: Shipment, actor: str) -> bool:
    """A line removal took the last line of a task and withdrew it: for a pending cancel
    that is the shipment's answer (the warehouse drops a withdrawal or interception of an
    emptied task). → whether a cancel waited for it."""
    pending = order.pending_cancel
    if ship.live or not pending or ship.shipment_id not in pending["waiting"]:
        return False
    order.record("shipment_withdrawn", actor, shipment_id=ship.shipment_id, by="line_removal")
    _cancel_answer(order, ship, actor)
    return True


def _on_withdrawn(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    if _left_already(order, ship, "withdrawn", actor) or _gone_already(
        order, ship, "withdrawn", actor
    ):
        return
    ship.status = "withdrawn"
    order.record("shipment_withdrawn", actor, shipment_id=ship.shipment_id)
    _cancel_answer(order, ship, actor)


def _on_interception_pending(
    order: Order, ship: Shipment, data: dict[str, Any], actor: str
) -> None:
    if _unasked(order, ship, "interception_pending", actor):
        return
    order.record("interception_pending", actor, shipment_id=ship.shipment_id)
    if order.pending_cancel:
        order.pending_cancel["mode"] = "intercept"
        order.pending_cancel["guaranteed"] = False
    if lifecycle.can_fire(order.stage, "intercept"):
        order.resume_stage = order.stage
        order.fire("intercept", actor, reason="withdrawal arrived after import")


def _on_intercepted(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    if _left_already(order, ship, "intercepted", actor) or _gone_already(
        order, ship, "intercepted", actor
    ):
        return
    ship.status = "intercepted"
    order.record("shipment_intercepted", actor, shipment_id=ship.shipment_id)
    _cancel_answer(order, ship, actor)


def _on_interception_missed(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    if _unasked(order, ship, "interception_missed", actor):
        return
    ship.interception_missed = True
    order.record("interception_missed", actor, shipment_id=ship.shipment_id)
    order._refuse_delivery_for([ship], actor)
    _cancel_answer(order, ship, actor)


def _cancel_answer(order: Order, ship: Shipment, actor: str) -> None:
    pending = order.pending_cancel
    if not pending or ship.shipment_id not in pending["waiting"]:
        if order.stage not in ("cancelled",):
            order.anomaly(
                "unexpected_cancel_answer",
                actor,
                "no pending cancel for it",
                shipment_id=ship.shipment_id,
            )
        return
    pending["waiting"].remove(ship.shipment_id)
    if pending["waiting"]:
        return
    if not order.live_shipments():
        trigger = (
            "intercepted"
            if order.stage == "intercepting"
            and any(s.status == "intercepted" for s in order.shipments)
            else "withdrawn"
        )
        order.fire(trigger, actor, reason=pending["reason"])
        order._cancelled(pending["reason"], pending["mode"], actor, pending["request_id"])
        return
    order.pending_cancel = None
    order.last_cancel = {
        "request_id": pending["request_id"],
        "outcome": "missed",
        "mode": pending["mode"],
        "instruction": "refuse_delivery",
    }
    if order.stage == "intercepting":
        order.resume_stage = order.shipments_stage() or order.resume_stage
        order.fire("interception_missed", actor)
    advance(order, actor)


# ---- delivery, returns, after-sales ------------------------------------------------
def deliver(order: Order, at: datetime, source: str, actor: str) -> str:
    """Delivery reported (webhook or carrier); early reports wait for `shipped`."""
    if order.stage in ("delivered", "completed") or order.delivery_reported_at:
        order.record("duplicate_delivery", actor, source=source)
        return "duplicate"
    if order.stage == "shipped":
        _deliver(order, at, source, actor)
        return "delivered"
    if order.stage in (*lifecycle.WAREHOUSE_STAGES, "intercepting"):
        order.delivery_reported_at = at
        order.record("delivery_reported_early", actor, source=source, at=at.isoformat())
        return "parked"
    order.anomaly(
        "delivery_unexpected",
        actor,
        f"delivery reported for a {order.stage} order",
        source=source,
    )
    return "anomaly"


def _deliver(order: Order, at: datetime, source: str, actor: str) -> None:
    order.delivered_at = at
    order.delivery_reported_at = None
    order.fire("deliver", actor, source=source)
    order.emit("order.delivered", delivered_at=at.isoformat(), source=source)


def on_aftersales(order: Order, kind: str, data: dict[str, Any], actor: str) -> None:
    if kind == "aftersales.cancel_requested":
        try:
            cap = order.cancel(data.get("reason", "after-sales"), actor, data["refund_id"])
            order.record("aftersales_cancel", actor, refund_id=data["refund_id"], mode=cap.mode)
        except NotAllowed as exc:
            facts = {"refund_id": data["refund_id"], "code": exc.code}
            if exc.code == "cancel_in_progress":  # its `order.cancelled` answers this too
                order.record("aftersales_cancel_refused", actor, reason=exc.message, **facts)
            else:  # the stage makes the request impossible
                order.anomaly("aftersales_cancel_refused", actor, exc.message, **facts)
    elif kind == "refund.issued":
        order.record("refund_issued", actor, **_facts(data))
    elif kind in ("return.opened", "return.received"):
        trigger = "open_return" if kind == "return.opened" else "receive_return"
        try:
            order.fire(trigger, actor, return_id=data.get("return_id"), kind=data.get("kind"))
        except IllegalTransition as exc:
            order.anomaly("return_unexpected", actor, exc.message, event=kind)


Reaction = Callable[["Order", "Shipment", dict[str, Any], str], None]
ON_SHIPMENT: dict[str, Reaction] = {
    "held": _on_held,
    "released": _on_released,
    "out_of_stock": _on_out_of_stock,
    "edit_applied": _on_edit_applied,
    "edit_rejected": _on_edit_rejected,
    "withdrawn": _on_withdrawn,
    "interception_pending": _on_interception_pending,
    "intercepted": _on_intercepted,
    "interception_missed": _on_interception_missed,
    **lines.ON_SHIPMENT,  # cancel by line: the warehouse's answers to line removals
    **relabel.ON_SHIPMENT,  # address change as a relabel: the warehouse's answers
}


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in data.items() if k not in ("shipment_id", "warehouse_id") and v is not None
    }
