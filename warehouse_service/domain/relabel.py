"""Address change as a relabel (SPEC §2.4) on the warehouse side.

`request_relabel` answers an `order.address_change_requested`: once shipped (or the task
withdrawn / intercepted) it is missed; while queued (or in exception) the address is just
applied; otherwise (allocated, labelled, packed) the task takes the new address, its
label is voided (the voided number kept in `relabels`) and an `address_change` hold stops
pack and ship. Only the next label, printed with the new address, releases that hold
(`labelled`); other holds stay and refuse the label as usual. Lines, status and stock
reservations are untouched: a packed parcel is re-labelled, not packed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_service.domain.shipment import Hold, Shipment

HOLD_KIND = "relabel"
HOLD_REASON = "address_change"
GONE = ("shipped", "withdrawn", "intercepted")
NOT_IMPORTED = ("queued", "exception")


def awaiting(shipment: Shipment) -> list[dict[str, Any]]:
    """Relabels whose new label is not printed yet."""
    return [r for r in shipment.relabels if r["state"] == "awaiting_label"]


def request_relabel(
    shipment: Shipment, request_id: str, address: dict[str, Any], hold: Hold
) -> str:
    """→ relabelled | changed (not imported: no label, no hold) | missed (it left).
    `hold` is placed unless a relabel hold is already waiting for the new label."""
    if shipment.status in GONE:
        shipment._record(
            "shipment.address_change_missed",
            request_id=request_id,
            reason=f"the task is {shipment.status}; it keeps the old address",
        )
        return "missed"
    shipment.address = address
    if shipment.status in NOT_IMPORTED:
        shipment._record("shipment.address_changed", request_id=request_id)
        return "changed"
    voided, shipment.tracking_number = shipment.tracking_number, None
    current = next((h for h in shipment.active_holds if h.kind == HOLD_KIND), None)
    if current is None:
        current = hold
        shipment.add_hold(hold)
    shipment.relabels.append(
        {
            "request_id": request_id,
            "status": shipment.status,
            "voided_tracking_number": voided,
            "hold_id": current.hold_id,
            "state": "awaiting_label",
            "tracking_number": None,
        }
    )
    shipment._record(
        "shipment.address_changed",
        request_id=request_id,
        voided_tracking_number=voided,
        hold_id=current.hold_id,
    )
    return "relabelled"


def labelled(shipment: Shipment, now: datetime | None) -> None:
    """The new label is on: the relabels are done and their hold released."""
    waiting = awaiting(shipment)
    if not waiting:
        return
    if now is None:
        raise ValueError("a relabel's hold is released at a known time: pass `now`")
    for r in waiting:
        r["state"], r["tracking_number"] = "labelled", shipment.tracking_number
    for h in [h for h in shipment.active_holds if h.kind == HOLD_KIND]:
        shipment.release_hold(h.hold_id, now=now, by="label")


def relabelling(shipment: Shipment) -> bool:
    """A label is due again at a step past labelling (labelled, packed)."""
    return bool(awaiting(shipment)) and shipment.status in ("labelled", "packed")
