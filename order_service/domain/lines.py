"""Cancel by line (SPEC §2.4): each named line takes the path of the shipment carrying it.

`order_lines` lists an order's lines per SKU and shipment with their active units;
`line_capabilities` answers `rules.decide_line` for each; `cancel_lines` asks the same
function for each line and does exactly what it said: removed at once (not yet
submitted), or a line-removal request to the warehouse (withdrawn while queued or held,
else best effort), answered by `shipment.lines_removed` / `line_removal_pending` /
`line_removal_missed` (the `on_*` reactions here). Every cancel is one versioned change
record (`order.line_changes`) on the order, the timeline and in `order.lines_changed`;
each removed part emits `order.cancelled` with `lines`. `order.line_removals` is the
ledger of removed and requested units. A removal that takes a task's last line withdraws
it (as the warehouse does, dropping a withdrawal or interception pending on it): that is
the shipment's answer to an order cancel waiting for it (`Order.shipment_emptied`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from order_service.domain import rules
from order_service.domain.errors import InvalidRequest, NotAllowed
from order_service.domain.rules import Capability, decide_line

if TYPE_CHECKING:
    from order_service.domain.order import Order, Shipment

# Ledger states: requested (waiting for the warehouse), removed, missed (it shipped),
# superseded (its whole shipment was withdrawn or intercepted first; refunded with it).
REMOVED = ("removed", "superseded")


@dataclass(frozen=True)
class OrderLine:
    """One SKU on one shipment (or on the order before submission): `rules.LineFacts`."""

    sku: str
    shipment_id: str | None
    qty: int  # units on the line now (removed units are gone)
    requested_qty: int  # of them, waiting for a line-removal answer
    shipment_status: str | None
    shipment_held: bool
    replacement_id: str | None = None  # on a replacement shipment (`-R1`)

    @property
    def active_qty(self) -> int:
        return self.qty - self.requested_qty


def units(lines: list[dict[str, Any]]) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in lines:
        found[line["sku"]] += int(line["qty"])
    return found


def order_lines(order: Order) -> list[OrderLine]:
    """Per shipment and SKU, in order; before submission, the order's own lines."""
    requested: Counter[tuple[str | None, str]] = Counter()
    for r in order.line_removals:
        if r["state"] == "requested":
            requested[(r["shipment_id"], r["sku"])] += r["qty"]
    if not order.shipments:
        return [
            OrderLine(sku, None, qty, requested[(None, sku)], None, False)
            for sku, qty in units(order.lines).items()
        ]
    return [
        OrderLine(
            sku,
            s.shipment_id,
            qty,
            requested[(s.shipment_id, sku)],
            s.status,
            bool(s.holds) and s.live and not s.left_warehouse,
            s.replacement_id,
        )
        for s in order.shipments
        for sku, qty in units(s.lines).items()
    ]


def line_capabilities(order: Order) -> list[dict[str, Any]]:
    """The `lines` of `GET /orders/{id}/capabilities`."""
    return [
        {
            "sku": line.sku,
            "qty": line.active_qty,
            "shipment_id": line.shipment_id,
            "cancel": decide_line(order, line, "cancel").as_dict(),
            "refund": decide_line(order, line, "refund").as_dict(),
        }
        for line in order_lines(order)
    ]


def line_states(order: Order) -> list[dict[str, Any]]:
    """Every unit of the order by state: active, removal_requested, removed, shipped,
    returned (one entry per SKU, shipment and state)."""
    states: list[dict[str, Any]] = []
    for line in order_lines(order):
        if line.active_qty:
            state = "active"
            if line.shipment_status == "shipped":
                returning = order.stage in ("returning", "returned") and not line.replacement_id
                state = "returned" if returning else "shipped"
            states.append(_state(line.sku, line.shipment_id, line.active_qty, state))
        if line.requested_qty:
            states.append(
                _state(line.sku, line.shipment_id, line.requested_qty, "removal_requested")
            )
    gone: Counter[tuple[str | None, str]] = Counter()
    for r in order.line_removals:
        if r["state"] in REMOVED:
            gone[(r["shipment_id"], r["sku"])] += r["qty"]
    states += [_state(sku, sid, qty, "removed") for (sid, sku), qty in gone.items()]
    return states


def _state(sku: str, shipment_id: str | None, qty: int, state: str) -> dict[str, Any]:
    return {"sku": sku, "shipment_id": shipment_id, "qty": qty, "state": state}


def removed_value(order: Order) -> Decimal:
    """What the removed lines were worth: a later cancel of the rest refunds the rest."""
    return sum(
        (Decimal(r["value"]) for r in order.line_removals if r["state"] == "removed"), Decimal("0")
    )


def removal_pending(order: Order) -> bool:
    """Some units wait for a line-removal answer (item edits would race it)."""
    return any(r["state"] == "requested" for r in order.line_removals)


def supersede_requests(order: Order) -> None:
    """The whole order is cancelled: removals still waiting are refunded with it."""
    waiting = {r["request_id"] for r in order.line_removals if r["state"] == "requested"}
    for r in order.line_removals:
        if r["state"] == "requested":
            r["state"] = "superseded"
    for change in order.line_changes:
        if change["request_id"] in waiting:
            for entry in change["lines"]:
                if entry["outcome"] == "pending":
                    entry["outcome"] = "removed"  # with the whole order
            _settle_change(order, change)


def capabilities(order: Order) -> dict[str, Any]:
    """`GET /orders/{id}/capabilities`: the order table (`rules.capabilities`) and `lines`."""
    return {**rules.capabilities(order), "lines": line_capabilities(order)}


# ---- the action ---------------------------------------------------------------------------
def cancel_lines(
    order: Order, wanted: list[dict[str, Any]], reason: str, actor: str, request_id: str
) -> dict[str, Any]:
    """Cancel some units by line; every part is decided by `decide_line` and done as it
    said, or nothing is done (a refused line refuses the request). → the change record."""
    parts = _parts(order, wanted)
    decided = [(line, qty, decide_line(order, line, "cancel")) for line, qty in parts]
    for line, _qty, cap in decided:
        if not cap.allowed:
            raise NotAllowed(
                f"{line.sku}: {cap.reason}",
                code=cap.code,
                action="cancel",
                sku=line.sku,
                shipment_id=line.shipment_id,
                mode=cap.mode,
            )
    change: dict[str, Any] = {
        "version": len(order.line_changes) + 1,
        "kind": "cancel_lines",
        "request_id": request_id,
        "by": actor,
        "reason": reason,
        "lines": [],
        "outcome": "pending",
    }
    order.line_changes.append(change)
    removed_now: list[dict[str, Any]] = []
    requests: dict[str, list[tuple[OrderLine, int, Capability]]] = {}
    for line, qty, cap in decided:
        entry = {
            "sku": line.sku,
            "qty": qty,
            "shipment_id": line.shipment_id,
            "mode": cap.mode,
            "guaranteed": cap.guaranteed,
            "outcome": "removed" if cap.mode == "remove" else "pending",
        }
        change["lines"].append(entry)
        ledger = _ledger(order, line.sku, qty, line.shipment_id, request_id, cap)
        if cap.mode == "remove":
            ledger["state"] = "removed"
            order.lines = _without(order.lines, [ledger])
            removed_now.append(ledger)
        else:
            requests.setdefault(line.shipment_id or "", []).append((line, qty, cap))
    for shipment_id, asked in requests.items():
        order.emit(
            "order.line_removal_requested",
            shipment_id=shipment_id,
            request_id=request_id,
            lines=[{"sku": line.sku, "qty": qty} for line, qty, _ in asked],
            reason=reason,
            guaranteed=all(cap.guaranteed for _, _, cap in asked),
        )
    order.record(
        "lines_cancel_requested",
        actor,
        request_id=request_id,
        change=change["version"],
        lines=change["lines"],
        reason=reason,
    )
    _settle_change(order, change)
    if removed_now:
        _refund(order, removed_now, "remove", reason)
        if not order.lines:  # nothing left to ship: the order is void
            order.fire("void", actor, reason=reason)
            order._cancelled(reason, "void", actor, request_id)
        elif order.stage == "reviewed":
            order.fire("back_to_review", actor, reason="items changed")
            order.review = {"status": "pending", "reason": "items changed after review"}
    return change


def _parts(order: Order, wanted: list[dict[str, Any]]) -> list[tuple[OrderLine, int]]:
    """Named units → (line, qty) parts, a SKU spread over its lines in shipment order (or
    only the named `shipment_id`'s, e.g. a replacement's that also carries the SKU)."""
    lines = order_lines(order)
    parts: list[tuple[OrderLine, int]] = []
    named: Counter[tuple[str, str | None]] = Counter()
    for w in wanted:
        named[(w["sku"], w.get("shipment_id"))] += int(w["qty"])
    for (sku, shipment_id), qty in named.items():
        carrying = [
            line for line in lines if line.sku == sku and shipment_id in (None, line.shipment_id)
        ]
        if not carrying:
            raise InvalidRequest(
                f"{sku} is not a line of this order", code="unknown_line", field="lines", sku=sku
            )
        active = sum(line.active_qty for line in carrying)
        if not active:
            parts.append((carrying[0], qty))  # refused by its rule (nothing active)
            continue
        if qty > active:
            raise NotAllowed(
                f"{sku}: {qty} asked, {active} active (the others are removed or awaiting removal)",
                code="qty_exceeds_active",
                sku=sku,
                qty=qty,
                active_qty=active,
            )
        for line in carrying:
            take = min(qty, line.active_qty)
            if take:
                parts.append((line, take))
                qty -= take
    return parts


def _ledger(
    order: Order, sku: str, qty: int, shipment_id: str | None, request_id: str, cap: Capability
) -> dict[str, Any]:
    price = next(
        (Decimal(str(ln.get("unit_price", 0))) for ln in order.lines if ln["sku"] == sku),
        Decimal("0"),
    )
    ship = order.shipment(shipment_id) if shipment_id else None
    if ship is not None and ship.replacement_id:
        price = Decimal("0")  # a replacement was not paid for: removing it refunds nothing
    entry = {
        "request_id": request_id,
        "shipment_id": shipment_id,
        "sku": sku,
        "qty": qty,
        "mode": cap.mode,
        "guaranteed": cap.guaranteed,
        "value": str(price * qty),
        "state": "requested",
    }
    order.line_removals.append(entry)
    return entry


def _without(lines: list[dict[str, Any]], removed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    left = units(removed)
    kept = []
    for line in lines:
        take = min(left[line["sku"]], int(line["qty"]))
        left[line["sku"]] -= take
        if int(line["qty"]) > take:
            kept.append({**line, "qty": int(line["qty"]) - take})
    return kept


def _refund(order: Order, removed: list[dict[str, Any]], mode: str, reason: str) -> None:
    order.emit(
        "order.cancelled",
        reason=reason,
        mode=mode,
        refund_due=str(sum((Decimal(r["value"]) for r in removed), Decimal("0"))),
        currency=order.currency,
        lines=[{"sku": sku, "qty": qty} for sku, qty in units(removed).items()],
    )


def _settle_change(order: Order, change: dict[str, Any]) -> None:
    """Emit the change record as it stands; `outcome` once no line waits."""
    outcomes = {entry["outcome"] for entry in change["lines"]}
    if "pending" not in outcomes:
        change["outcome"] = "done" if outcomes == {"removed"} else "partly_missed"
        if outcomes == {"missed"}:
            change["outcome"] = "missed"
    order.emit("order.lines_changed", **change)


# ---- the warehouse's answers --------------------------------------------------------------
def _requested(order: Order, ship: Shipment, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in order.line_removals
        if r["request_id"] == data.get("request_id")
        and r["shipment_id"] == ship.shipment_id
        and r["state"] == "requested"
    ]


def _superseded(order: Order, ship: Shipment, data: dict[str, Any]) -> bool:
    return any(
        r["request_id"] == data.get("request_id") and r["state"] == "superseded"
        for r in order.line_removals
    )


def _unexpected(order: Order, ship: Shipment, kind: str, data: dict[str, Any], actor: str) -> None:
    order.anomaly(
        "unexpected_line_removal_answer",
        actor,
        f"{kind}: no line-removal request waits for it",
        shipment_id=ship.shipment_id,
        request_id=data.get("request_id"),
        event=kind,
    )


def on_lines_removed(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    """The units are off the task: refunded now (unless the whole shipment went first)."""
    waiting = _requested(order, ship, data)
    if not waiting:
        if _superseded(order, ship, data):  # the whole order was cancelled first
            order.record("lines_removed_with_order", actor, request_id=data.get("request_id"))
        else:
            _unexpected(order, ship, "lines_removed", data, actor)
        return
    gone_first = not ship.live
    for r in waiting:
        r["state"] = "superseded" if gone_first else "removed"
    if not gone_first:
        ship.lines = _without(ship.lines, waiting)
        if data.get("task_withdrawn") or not ship.lines:
            ship.status = "withdrawn"
        if not ship.replacement_id:  # a replacement's units were never the order's, nor paid
            order.lines = _without(order.lines, waiting)
            reason = _change(order, data["request_id"])["reason"]
            _refund(order, waiting, waiting[0]["mode"], reason)
    _answer(order, ship, data, "removed", actor)
    if not gone_first and order.shipment_emptied(ship, actor):  # a pending cancel's answer
        if order.pending_cancel or order.stage == "cancelled":
            return
    elif not gone_first and not order.live_shipments():  # every line removed: cancelled
        reason = _change(order, data["request_id"])["reason"]
        order.fire("withdrawn", actor, reason=reason)
        order._cancelled(reason, waiting[0]["mode"], actor, data["request_id"])
        return
    own = order.own_shipments()  # a replacement's stock-out never holds the order's stage
    if order.stage == "exception" and all(s.status != "exception" for s in own):
        order.fire("requeue", actor, shipment_id=ship.shipment_id)  # the stuck task went
    order.advance(actor)


def on_line_removal_pending(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    """The task was imported before the request: now best effort (a removal request)."""
    waiting = _requested(order, ship, data)
    if not waiting:
        _unexpected(order, ship, "line_removal_pending", data, actor)
        return
    for r in waiting:
        r["mode"], r["guaranteed"] = "removal_request", False
    change = _change(order, data["request_id"])
    for entry in change["lines"]:
        if entry["shipment_id"] == ship.shipment_id and entry["outcome"] == "pending":
            entry["mode"], entry["guaranteed"] = "removal_request", False
    order.record(
        "line_removal_pending",
        actor,
        shipment_id=ship.shipment_id,
        request_id=data["request_id"],
        change=change["version"],
    )
    order.emit("order.lines_changed", **change)


def on_line_removal_missed(order: Order, ship: Shipment, data: dict[str, Any], actor: str) -> None:
    """Not removed in time: the units ship; the path is a return of those items."""
    waiting = _requested(order, ship, data)
    if not waiting:
        _unexpected(order, ship, "line_removal_missed", data, actor)
        return
    for r in waiting:
        r["state"] = "missed"
    order.instructions.append(
        {
            "kind": "return_items",
            "shipment_id": ship.shipment_id,
            "lines": [{"sku": r["sku"], "qty": r["qty"]} for r in waiting],
            "text": "the items ship: ask the customer to refuse or return them",
        }
    )
    _answer(order, ship, data, "missed", actor)


def _change(order: Order, request_id: str) -> dict[str, Any]:
    return next(c for c in order.line_changes if c["request_id"] == request_id)


def _answer(order: Order, ship: Shipment, data: dict[str, Any], outcome: str, actor: str) -> None:
    change = _change(order, data["request_id"])
    for entry in change["lines"]:
        if entry["shipment_id"] == ship.shipment_id and entry["outcome"] == "pending":
            entry["outcome"] = outcome
    order.record(
        f"lines_{outcome}",
        actor,
        shipment_id=ship.shipment_id,
        request_id=data["request_id"],
        change=change["version"],
        lines=[{"sku": line["sku"], "qty": line["qty"]} for line in data.get("lines", [])],
    )
    _settle_change(order, change)


ON_SHIPMENT = {
    "lines_removed": on_lines_removed,
    "line_removal_pending": on_line_removal_pending,
    "line_removal_missed": on_line_removal_missed,
}
