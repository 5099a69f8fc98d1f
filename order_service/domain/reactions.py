"""How an order reacts to warehouse and after-sales facts (mixed into `Order`).

Impossible or out-of-order facts are recorded as anomalies, never raised, so a
consumer never crashes on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from order_service.domain import lifecycle, lines
from order_service.domain.errors import IllegalTransition, NotAllowed

if TYPE_CHECKING:
    from order_service.domain.order import Order, Shipment

PROGRESS = {
    "queued": "queued",
    "allocated": "allocated",
    "labelled": "labelled",
    "packed": "packed",
    "shipped": "shipped",
}
CLOSED = ("cancelled", "completed", "returned")


class Reactions:
    """Warehouse / after-sales event handling for the Order aggregate."""

    # The `Order` fields these methods assign (declared here, or mypy infers them from
    # the assignments below); the methods take `self: Order`.
    pending_edit: dict[str, Any] | None
    pending_cancel: dict[str, Any] | None
    last_edit: dict[str, Any] | None
    last_cancel: dict[str, Any] | None
    resume_stage: str | None
    delivered_at: datetime | None
    delivery_reported_at: datetime | None

    def on_shipment_event(self: Order, kind: str, data: dict[str, Any], actor: str) -> None:
        """Apply one `shipment.*` event (kind without the prefix)."""
        ship = self.shipment(data.get("shipment_id", ""))
        if ship is None:
            self.anomaly(
                "unknown_shipment",
                actor,
                f"{kind} for an unknown shipment",
                shipment_id=data.get("shipment_id"),
                event=kind,
            )
            return
        if kind in PROGRESS:
            self._progress(ship, kind, data, actor)
        else:
            handler = getattr(self, f"_on_{kind}", None)
            if kind in lines.ON_SHIPMENT:  # cancel by line
                lines.ON_SHIPMENT[kind](self, ship, data, actor)
                return
            if handler is None:
                self.record(f"shipment_{kind}", actor, shipment_id=ship.shipment_id)
                return
            handler(ship, data, actor)

    # ---- progress ----------------------------------------------------------------------
    def _progress(self: Order, ship: Shipment, kind: str, data: dict[str, Any], actor: str) -> None:
        from order_service.domain.order import SHIPMENT_RANK

        if not ship.live:
            self.anomaly(
                "event_after_withdrawal",
                actor,
                f"{kind} for a shipment already {ship.status}",
                shipment_id=ship.shipment_id,
                event=kind,
            )
            return
        if ship.status in SHIPMENT_RANK and SHIPMENT_RANK[kind] <= SHIPMENT_RANK[ship.status]:
            if kind != ship.status:
                self.record(
                    "stale_event_ignored",
                    actor,
                    shipment_id=ship.shipment_id,
                    event=kind,
                    status=ship.status,
                )
            if kind == "queued":
                self._add_queued_holds(ship, data, actor)
            return
        previous = ship.status
        ship.status = kind
        if data.get("tracking_number"):
            ship.carrier, ship.tracking_number = data.get("carrier"), data["tracking_number"]
        self.record(
            f"shipment_{kind}",
            actor,
            shipment_id=ship.shipment_id,
            warehouse_id=ship.warehouse_id,
            **_facts(data),
        )
        if kind == "queued":
            self._add_queued_holds(ship, data, actor)
        if self.stage in CLOSED:
            self.anomaly(
                "event_after_close",
                actor,
                f"{kind} for a {self.stage} order",
                shipment_id=ship.shipment_id,
                event=kind,
                was=previous,
            )
        if kind == "shipped" and self.stage != "cancelled":
            self.tracking_sync.append(
                {
                    "shipment_id": ship.shipment_id,
                    "carrier": ship.carrier,
                    "tracking_number": ship.tracking_number,
                }
            )
        if self.stage == "exception" and previous == "exception":
            self.fire("requeue", actor, shipment_id=ship.shipment_id)
        self.advance(actor)

    def _add_queued_holds(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        for stop_id in data.get("held_by") or []:
            if not any(h["hold_id"] == stop_id for h in ship.holds):
                ship.holds.append({"hold_id": stop_id, "stop_id": stop_id, "reason": "stop"})
                self.record("held", actor, shipment_id=ship.shipment_id, stop_id=stop_id)

    def advance(self: Order, actor: str) -> None:
        """Move the stage up to the least advanced shipment, step by step, until a guard stops."""
        from order_service.domain.order import NEXT_TRIGGER

        target = self.shipments_stage()
        if target is None or self.stage not in lifecycle.WAREHOUSE_STAGES:
            return
        order_ = lifecycle.WAREHOUSE_STAGES
        while order_.index(self.stage) < order_.index(target):
            trigger = NEXT_TRIGGER[self.stage]
            try:
                self.fire(trigger, actor)
            except IllegalTransition as exc:
                self.record(
                    "progress_blocked",
                    actor,
                    trigger=trigger,
                    rule=exc.details["rule"],
                    held_by=self.held_by,
                )
                return
        if self.stage == "shipped" and self.delivery_reported_at:
            self._deliver(self.delivery_reported_at, "platform", actor)

    # ---- holds, stock ------------------------------------------------------------------
    def _on_held(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        if not ship.live or ship.left_warehouse:
            self.anomaly(
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
        self.record(
            "held",
            actor,
            shipment_id=ship.shipment_id,
            hold_id=data["hold_id"],
            stop_id=data.get("stop_id"),
            reason=data.get("reason", ""),
        )

    def _on_released(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        ship.holds = [h for h in ship.holds if h["hold_id"] != data["hold_id"]]
        if not data.get("still_held"):
            ship.holds = []
        self.record(
            "released",
            actor,
            shipment_id=ship.shipment_id,
            hold_id=data["hold_id"],
            still_held=bool(ship.holds),
        )
        self.advance(actor)

    def _on_out_of_stock(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        if not ship.live or ship.left_warehouse:
            self.anomaly(
                "out_of_stock_late",
                actor,
                f"out of stock for a {ship.status} shipment",
                shipment_id=ship.shipment_id,
            )
            return
        ship.status = "exception"
        self.record(
            "shipment_out_of_stock",
            actor,
            shipment_id=ship.shipment_id,
            skus=data.get("skus", []),
            note=data.get("note", ""),
        )
        if lifecycle.can_fire(self.stage, "out_of_stock"):
            self.fire("out_of_stock", actor, skus=data.get("skus", []))

    # ---- edits ---------------------------------------------------------------------------
    def _on_edit_applied(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        self._edit_answer(ship, data["request_id"], None, actor)

    def _on_edit_rejected(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        self._edit_answer(ship, data["request_id"], data.get("reason", "rejected"), actor)

    def _edit_answer(
        self: Order, ship: Shipment, request_id: str, rejection: str | None, actor: str
    ) -> None:
        pending = self.pending_edit
        if (
            not pending
            or pending["request_id"] != request_id
            or (ship.shipment_id not in pending["waiting"])
        ):
            self.anomaly(
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
        self.pending_edit = None
        if pending["rejections"]:
            outcome = {
                "request_id": request_id,
                "outcome": "rejected",
                "reasons": pending["rejections"],
                "changes": pending["changes"],
            }
            self.record("edit_rejected", actor, **outcome)
        else:
            self._apply_changes(pending["changes"], actor)
            outcome = {
                "request_id": request_id,
                "outcome": "applied",
                "changes": pending["changes"],
            }
            self.record("edit_applied", actor, **outcome)
        self.last_edit = outcome

    # ---- withdrawals and interceptions -----------------------------------------------
    def _left_already(self: Order, ship: Shipment, kind: str, actor: str) -> bool:
        """A withdrawal or interception of a parcel that has left cannot be: noted, ignored."""
        if ship.left_warehouse:
            self.anomaly(
                "event_after_shipping",
                actor,
                f"{kind} for a shipment already shipped",
                shipment_id=ship.shipment_id,
                event=kind,
            )
        return ship.left_warehouse

    def _unasked(self: Order, ship: Shipment, kind: str, actor: str) -> bool:
        """An interception answer no pending cancel waits for: noted, ignored."""
        pending = self.pending_cancel
        if pending and ship.shipment_id in pending["waiting"]:
            return False
        self.anomaly(
            "unexpected_cancel_answer",
            actor,
            f"{kind}: no pending cancel waits for this shipment",
            shipment_id=ship.shipment_id,
            event=kind,
        )
        return True

    def _on_withdrawn(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        if self._left_already(ship, "withdrawn", actor):
            return
        ship.status = "withdrawn"
        self.record("shipment_withdrawn", actor, shipment_id=ship.shipment_id)
        self._cancel_answer(ship, actor)

    def _on_interception_pending(
        self: Order, ship: Shipment, data: dict[str, Any], actor: str
    ) -> None:
        if self._unasked(ship, "interception_pending", actor):
            return
        self.record("interception_pending", actor, shipment_id=ship.shipment_id)
        if self.pending_cancel:
            self.pending_cancel["mode"] = "intercept"
            self.pending_cancel["guaranteed"] = False
        if lifecycle.can_fire(self.stage, "intercept"):
            self.resume_stage = self.stage
            self.fire("intercept", actor, reason="withdrawal arrived after import")

    def _on_intercepted(self: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
        if self._left_already(ship, "intercepted", actor):
            return
        ship.status = "intercepted"
        self.record("shipment_intercepted", actor, shipment_id=ship.shipment_id)
        self._cancel_answer(ship, actor)

    def _on_interception_missed(
        self: Order, ship: Shipment, data: dict[str, Any], actor: str
    ) -> None:
        if self._unasked(ship, "interception_missed", actor):
            return
        ship.interception_missed = True
        self.record("interception_missed", actor, shipment_id=ship.shipment_id)
        self._refuse_delivery_for([ship], actor)
        self._cancel_answer(ship, actor)

    def _cancel_answer(self: Order, ship: Shipment, actor: str) -> None:
        pending = self.pending_cancel
        if not pending or ship.shipment_id not in pending["waiting"]:
            if self.stage not in ("cancelled",):
                self.anomaly(
                    "unexpected_cancel_answer",
                    actor,
                    "no pending cancel for it",
                    shipment_id=ship.shipment_id,
                )
            return
        pending["waiting"].remove(ship.shipment_id)
        if pending["waiting"]:
            return
        if not self.live_shipments():
            trigger = (
                "intercepted"
                if self.stage == "intercepting"
                and any(s.status == "intercepted" for s in self.shipments)
                else "withdrawn"
            )
            self.fire(trigger, actor, reason=pending["reason"])
            self._cancelled(pending["reason"], pending["mode"], actor, pending["request_id"])
            return
        self.pending_cancel = None
        self.last_cancel = {
            "request_id": pending["request_id"],
            "outcome": "missed",
            "mode": pending["mode"],
            "instruction": "refuse_delivery",
        }
        if self.stage == "intercepting":
            self.resume_stage = self.shipments_stage() or self.resume_stage
            self.fire("interception_missed", actor)
        self.advance(actor)

    # ---- delivery, returns, after-sales ------------------------------------------------
    def deliver(self: Order, at: datetime, source: str, actor: str) -> str:
        """Delivery reported (webhook or carrier); early reports wait for `shipped`."""
        if self.stage in ("delivered", "completed") or self.delivery_reported_at:
            self.record("duplicate_delivery", actor, source=source)
            return "duplicate"
        if self.stage == "shipped":
            self._deliver(at, source, actor)
            return "delivered"
        if self.stage in (*lifecycle.WAREHOUSE_STAGES, "intercepting"):
            self.delivery_reported_at = at
            self.record("delivery_reported_early", actor, source=source, at=at.isoformat())
            return "parked"
        self.anomaly(
            "delivery_unexpected",
            actor,
            f"delivery reported for a {self.stage} order",
            source=source,
        )
        return "anomaly"

    def _deliver(self: Order, at: datetime, source: str, actor: str) -> None:
        self.delivered_at = at
        self.delivery_reported_at = None
        self.fire("deliver", actor, source=source)
        self.emit("order.delivered", delivered_at=at.isoformat(), source=source)

    def on_aftersales(self: Order, kind: str, data: dict[str, Any], actor: str) -> None:
        if kind == "aftersales.cancel_requested":
            try:
                cap = self.cancel(data.get("reason", "after-sales"), actor, data["refund_id"])
                self.record("aftersales_cancel", actor, refund_id=data["refund_id"], mode=cap.mode)
            except NotAllowed as exc:
                facts = {"refund_id": data["refund_id"], "code": exc.code}
                if exc.code == "cancel_in_progress":  # its `order.cancelled` answers this too
                    self.record("aftersales_cancel_refused", actor, reason=exc.message, **facts)
                else:  # the stage makes the request impossible
                    self.anomaly("aftersales_cancel_refused", actor, exc.message, **facts)
        elif kind == "refund.issued":
            self.record("refund_issued", actor, **_facts(data))
        elif kind in ("return.opened", "return.received"):
            trigger = "open_return" if kind == "return.opened" else "receive_return"
            try:
                self.fire(trigger, actor, return_id=data.get("return_id"), kind=data.get("kind"))
            except IllegalTransition as exc:
                self.anomaly("return_unexpected", actor, exc.message, event=kind)

    def complete(self: Order, actor: str) -> None:
        self.fire("complete", actor)


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in data.items() if k not in ("shipment_id", "warehouse_id") and v is not None
    }
