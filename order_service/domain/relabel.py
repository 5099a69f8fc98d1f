"""Address change once the warehouse has the order (SPEC §2.4): a relabel.

`request` is what `Order.edit` does when `rules.decide(order, "address_change")` answers mode
`relabel`: one `order.address_change_requested` per unshipped shipment (a replacement's
too, also once the order's own parcels have left: `Order.relabel_targets`), the edit kept
pending (like an edit at `submitted`) and one versioned change record (kind
`address_change`, in `order.line_changes`, emitted as `order.lines_changed`). The
warehouse answers per shipment: `shipment.address_changed` (the task has the new address,
its label is voided and an `address_change` hold waits for the new label) or
`shipment.address_change_missed` (the parcel left with the old address). Once every
shipment answered, the order takes the new address if any shipment did. The new label
arrives as `shipment.labelled` for a shipment whose label was voided (`new_label`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_service.domain import rules
from order_service.domain.lines import units

if TYPE_CHECKING:
    from order_service.domain.order import Order, Shipment

MODE = "relabel"


def request(order: Order, address: dict[str, Any], actor: str, request_id: str) -> dict[str, Any]:
    """Ask every unshipped shipment to relabel → the change record."""
    targets = order.relabel_targets()
    order.pending_edit = {
        "request_id": request_id,
        "mode": MODE,
        "changes": {"address": address},
        "by": actor,
        "waiting": [s.shipment_id for s in targets],
        "rejections": [],
    }
    change: dict[str, Any] = {
        "version": len(order.line_changes) + 1,
        "kind": "address_change",
        "request_id": request_id,
        "by": actor,
        "reason": "address change",
        "address": address,
        "lines": [],
        "outcome": "pending",
    }
    for s in targets:
        guaranteed = rules.relabel_task(s.status, bool(s.holds)).guaranteed
        change["lines"] += [
            {
                "sku": sku,
                "qty": qty,
                "shipment_id": s.shipment_id,
                "mode": MODE,
                "guaranteed": guaranteed,
                "outcome": "pending",
            }
            for sku, qty in units(s.lines).items()
        ]
        order.emit(
            "order.address_change_requested",
            shipment_id=s.shipment_id,
            request_id=request_id,
            address=address,
            guaranteed=guaranteed,
        )
    order.line_changes.append(change)
    order.record(
        "address_change_requested",
        actor,
        request_id=request_id,
        change=change["version"],
        address=address,
        shipments=order.pending_edit["waiting"],
        pending_confirmation=True,
    )
    order.emit("order.lines_changed", **change)
    return change


def _waiting(order: Order, ship: Shipment, data: dict[str, Any], kind: str, actor: str) -> bool:
    pending = order.pending_edit
    if (
        pending
        and pending.get("mode") == MODE
        and pending["request_id"] == data.get("request_id")
        and ship.shipment_id in pending["waiting"]
    ):
        return True
    order.anomaly(
        "unexpected_edit_answer",
        actor,
        f"{kind}: no address change waits for this shipment",
        request_id=data.get("request_id"),
        shipment_id=ship.shipment_id,
    )
    return False


def on_address_changed(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    """The task has the new address; its old label (if any) is void until the new one."""
    if not _waiting(order, ship, data, "address_changed", actor):
        return
    voided = data.get("voided_tracking_number")
    if voided:
        ship.voided_tracking_numbers.append(voided)
        ship.tracking_number = None
    order.record(
        "shipment_address_changed",
        actor,
        shipment_id=ship.shipment_id,
        request_id=data["request_id"],
        voided_tracking_number=voided,
    )
    _answer(order, ship, data["request_id"], "relabelled", actor)


def on_address_change_missed(
    order: Order, ship: Shipment, data: dict[str, Any], actor: str
) -> None:
    """Too late: the parcel left with the old address (a task withdrawn or intercepted
    meanwhile sends nothing: its part is `superseded`)."""
    if not _waiting(order, ship, data, "address_change_missed", actor):
        return
    if not ship.live:
        order.record("address_change_superseded", actor, shipment_id=ship.shipment_id)
        _answer(order, ship, data["request_id"], "superseded", actor)
        return
    reason = data.get("reason") or "the parcel had left"
    rejections = order.pending_edit["rejections"] if order.pending_edit else []
    rejections.append({"shipment_id": ship.shipment_id, "reason": reason})
    order.instructions.append(
        {
            "kind": "left_with_old_address",
            "shipment_id": ship.shipment_id,
            "text": "the parcel left with the old address: contact the carrier or the customer",
        }
    )
    order.record(
        "address_change_missed",
        actor,
        shipment_id=ship.shipment_id,
        request_id=data["request_id"],
        reason=reason,
    )
    _answer(order, ship, data["request_id"], "missed", actor)


def _answer(order: Order, ship: Shipment, request_id: str, outcome: str, actor: str) -> None:
    pending = order.pending_edit
    assert pending is not None
    pending["waiting"].remove(ship.shipment_id)
    change = next(c for c in order.line_changes if c["request_id"] == request_id)
    for entry in change["lines"]:
        if entry["shipment_id"] == ship.shipment_id:
            entry["outcome"] = outcome
    if not pending["waiting"]:
        outcomes = {entry["outcome"] for entry in change["lines"]} - {"superseded"}
        change["outcome"] = (
            "superseded"
            if not outcomes
            else "done"
            if outcomes == {"relabelled"}
            else "missed"
            if outcomes == {"missed"}
            else "partly_missed"
        )
        order.pending_edit = None
        if "relabelled" in outcomes:
            order.address = pending["changes"]["address"]
        applied = "applied" if change["outcome"] == "done" else change["outcome"]
        order.last_edit = {
            "request_id": request_id,
            "outcome": applied,
            "mode": MODE,
            "changes": pending["changes"],
            "reasons": pending["rejections"],
        }
        order.record(
            "edit_applied" if applied == "applied" else "edit_missed", actor, **order.last_edit
        )
    order.emit("order.lines_changed", **change)


def new_label(order: Order, ship: Shipment, kind: str, data: dict[str, Any], actor: str) -> bool:
    """A `labelled` for a shipment whose label was voided by a relabel: its new label."""
    if kind != "labelled" or ship.tracking_number or not ship.voided_tracking_numbers:
        return False
    if not data.get("tracking_number"):
        return False
    ship.carrier, ship.tracking_number = data.get("carrier"), data["tracking_number"]
    order.record(
        "shipment_relabelled",
        actor,
        shipment_id=ship.shipment_id,
        carrier=ship.carrier,
        tracking_number=ship.tracking_number,
        voided=ship.voided_tracking_numbers[-1],
    )
    return True


ON_SHIPMENT = {
    "address_changed": on_address_changed,
    "address_change_missed": on_address_change_missed,
}
