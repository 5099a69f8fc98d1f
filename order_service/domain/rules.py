"""SPEC §2.1 as code: what CS may do to an order, by stage, held or not.

`capability(stage, held, action)` is the table (action `address_change`: an address-only edit,
a relabel once the warehouse has it); `decide(order, action)` adds what
the order itself knows (a cancel or edit already pending). Both the
`/capabilities` answer and the actions call `decide`, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from order_service.domain.lifecycle import IN_WAREHOUSE

ACTIONS = ("edit", "cancel", "refund")
CANCEL_MODES = ("void", "withdraw", "intercept", "refuse_delivery", "return", "none")
# Stages where a hold matters: the task exists and has not left the warehouse.
HOLDABLE = ("submitted", *IN_WAREHOUSE)
# Stages after the order's own parcels left, where a replacement (`-R1`) may still be in the
# warehouse: an address change then relabels the replacement.
AFTER_SHIPPING = ("shipped", "delivered", "completed", "returning", "returned")


@dataclass(frozen=True)
class Capability:
    """One answer of the table. `mode` for edits: apply | request | relabel | none;
    for cancels: one of CANCEL_MODES; for refunds: the path the money takes back
    (void | withdraw | intercept | refuse_delivery | return | none) and `timing`."""

    allowed: bool
    mode: str
    guaranteed: bool
    pending_confirmation: bool
    reason: str
    code: str = ""
    timing: str = ""

    def as_dict(self) -> dict[str, Any]:
        # Built by hand: `dataclasses.asdict` deep-copies and was 5% of a capabilities request.
        data: dict[str, Any] = {
            "allowed": self.allowed,
            "mode": self.mode,
            "guaranteed": self.guaranteed,
            "pending_confirmation": self.pending_confirmation,
            "reason": self.reason,
        }
        if self.code:
            data["code"] = self.code
        if self.timing:
            data["timing"] = self.timing
        return data


def _ok(mode: str, reason: str, *, guaranteed: bool, pending: bool, timing: str = "") -> Capability:
    return Capability(True, mode, guaranteed, pending, reason, "", timing)


def _no(mode: str, reason: str, code: str, timing: str = "") -> Capability:
    return Capability(False, mode, False, False, reason, code, timing)


def _edit(stage: str) -> Capability:
    if stage in ("synced", "reviewed"):
        return _ok(
            "apply",
            "applied at once; item changes send a reviewed order back to review",
            guaranteed=True,
            pending=False,
        )
    if stage == "submitted":
        return _ok(
            "request",
            "pending warehouse confirmation: applied only if the warehouse has not imported it",
            guaranteed=False,
            pending=True,
        )
    if stage in IN_WAREHOUSE:
        return _no("none", "refused: already in warehouse processing", "in_warehouse_processing")
    if stage == "intercepting":
        return _no("none", "refused: a cancellation is being intercepted", "cancel_in_progress")
    if stage == "exception":
        return _no("none", "refused: warehouse exception, handled by after-sales", "exception")
    if stage in ("shipped", "delivered"):
        return _no("none", f"refused: the order is {stage}", "already_shipped")
    return _no("none", f"refused: the order is {stage}", "closed")


def _address(stage: str, held: bool) -> Capability:
    """An address-only edit (SPEC §2.4): as any edit before import; in the warehouse a
    relabel (guaranteed before packing, best effort once packed unless held)."""
    if stage in ("allocated", "labelled"):
        return _ok(
            "relabel",
            "relabel: the warehouse holds the shipment, voids the label and prints a new one "
            "with the new address",
            guaranteed=True,
            pending=True,
        )
    if stage == "packed":
        return _ok(
            "relabel",
            "relabel, "
            + ("guaranteed: the held parcel cannot leave" if held else "best effort")
            + ": the packed parcel gets a new label unless it has already left",
            guaranteed=held,
            pending=True,
        )
    return _edit(stage)


def edit_action(changes: dict[str, Any]) -> str:
    """Which rule an edit takes: `address_change` for an address-only edit, else `edit`."""
    return "address_change" if set(changes) == {"address"} else "edit"


def _cancel(stage: str, held: bool) -> Capability:
    if stage in ("synced", "reviewed"):
        return _ok("void", "cancelled at once (void), guaranteed", guaranteed=True, pending=False)
    if held and stage in HOLDABLE:
        return _ok(
            "withdraw",
            "guaranteed: a held shipment cannot leave, so the cancel withdraws it",
            guaranteed=True,
            pending=True,
        )
    if stage in ("submitted", "exception"):
        return _ok(
            "withdraw",
            "withdraw: guaranteed if the warehouse has not imported it, "
            "otherwise it becomes an interception",
            guaranteed=False,
            pending=True,
        )
    if stage in IN_WAREHOUSE:
        return _ok(
            "intercept",
            "best effort interception: the warehouse reports intercepted (cancelled, refund) "
            "or missed (it ships; the customer is asked to refuse delivery)",
            guaranteed=False,
            pending=True,
        )
    if stage == "intercepting":
        return _no("none", "a cancellation is already being intercepted", "cancel_in_progress")
    if stage == "shipped":
        return _no(
            "refuse_delivery", "refused: shipped; the path is refuse delivery or return", "shipped"
        )
    if stage == "delivered":
        return _no(
            "return", "refused: delivered; the path is a return under the policy", "delivered"
        )
    if stage in ("returning", "returned"):
        return _no("return", f"refused: a return is {stage}", "returning")
    return _no("none", f"refused: the order is {stage}", "closed")


def _refund(stage: str, held: bool) -> Capability:
    if stage in ("synced", "reviewed"):
        return _ok("void", "issued at once", guaranteed=True, pending=False, timing="at_once")
    if held and stage in HOLDABLE:
        return _ok(
            "withdraw",
            "issued at once: the held shipment is withdrawn",
            guaranteed=True,
            pending=False,
            timing="at_once",
        )
    if stage in ("submitted", "exception"):
        return _ok(
            "withdraw",
            "issued on the warehouse's confirmation of the withdrawal",
            guaranteed=False,
            pending=True,
            timing="on_confirmation",
        )
    if stage in (*IN_WAREHOUSE, "intercepting"):
        return _ok(
            "intercept",
            "after interception, or after the refused parcel returns",
            guaranteed=False,
            pending=True,
            timing="after_interception",
        )
    if stage in ("shipped", "returning", "returned"):
        return _ok(
            "refuse_delivery" if stage == "shipped" else "return",
            "when the parcel is back and inspected",
            guaranteed=False,
            pending=True,
            timing="after_return",
        )
    if stage == "delivered":
        return _ok(
            "return", "per return policy", guaranteed=False, pending=True, timing="return_policy"
        )
    return _no("none", "complaint / warranty only", "closed", timing="complaint_only")


def capability(stage: str, held: bool, action: str) -> Capability:
    """The bare SPEC §2.1 table for one stage, hold flag and action."""
    if action == "edit":
        return _edit(stage)
    if action == "address_change":
        return _address(stage, held)
    if action == "cancel":
        return _cancel(stage, held)
    if action == "refund":
        return _refund(stage, held)
    raise ValueError(f"unknown action {action!r}")


class OrderFacts(Protocol):
    """What the rules read of an order (read-only: a field or a property satisfies it)."""

    @property
    def stage(self) -> str: ...
    @property
    def held(self) -> bool: ...
    @property
    def fully_held(self) -> bool: ...
    @property
    def pending_cancel(self) -> dict[str, Any] | None: ...
    @property
    def pending_edit(self) -> dict[str, Any] | None: ...
    @property
    def unshipped_tasks(self) -> list[tuple[str, bool]]: ...


def decide(order: OrderFacts, action: str) -> Capability:
    """The table for this order, including what is already pending on it."""
    if order.pending_cancel and action in ("edit", "address_change", "cancel"):
        return _no(
            "none",
            f"a cancellation ({order.pending_cancel['mode']}) is already pending",
            "cancel_in_progress",
        )
    if order.pending_edit and action in ("edit", "address_change"):
        return _no(
            "none",
            f"edit {order.pending_edit['request_id']} awaits the warehouse's answer",
            "edit_in_progress",
        )
    if action == "address_change" and (
        order.stage in IN_WAREHOUSE or (order.stage in AFTER_SHIPPING and order.unshipped_tasks)
    ):
        return relabel_of(order.unshipped_tasks)
    # The hold guarantee needs every live shipment held (a split order may be partly held).
    return capability(order.stage, order.fully_held, action)


def relabel_task(status: str, held: bool) -> Capability:
    """What a relabel asks of one task: the address table for its status, except that a
    task not yet imported (a replacement, while the order's own parcels are further on;
    waiting for stock too) just takes the new address in the warehouse."""
    if status in ("submitted", "queued", "exception"):
        return _ok(
            "relabel",
            "relabel: the warehouse gives the task the new address before it is labelled",
            guaranteed=True,
            pending=True,
        )
    return _address(status, held)


def relabel_of(tasks: list[tuple[str, bool]]) -> Capability:
    """A relabel asks every unshipped shipment (status, held): guaranteed only if each is."""
    caps = [relabel_task(status, held) for status, held in tasks]
    refused = next((c for c in caps if not c.allowed), None)
    if refused or not caps:
        return refused or _no("none", "refused: no shipment left to relabel", "already_shipped")
    return min(caps, key=lambda c: c.guaranteed)


def capabilities(order: OrderFacts) -> dict[str, Any]:
    """The `GET /orders/{id}/capabilities` body."""
    body: dict[str, Any] = {"stage": order.stage, "held": order.held}
    for action in ACTIONS:
        body[action] = decide(order, action).as_dict()
    body["address_change"] = decide(order, "address_change").as_dict()  # address only, §2.4
    return body


# ---- SPEC §2.4: cancel and refund by line ------------------------------------------------
# A line takes the path of the shipment that carries it. `line_stage` names that path's
# stage from the order's stage and the shipment's status; `line_capability` is the table.
LINE_STAGES = (
    "unsubmitted",
    "submitted",
    "exception",
    "allocated",
    "labelled",
    "packed",
    "shipped",
    "delivered",
    "closed",
)
# Line stages where the task exists and has not left: a hold makes removal guaranteed.
LINE_HOLDABLE = ("submitted", "exception", "allocated", "labelled", "packed")
LINE_CANCEL_MODES = ("remove", "withdraw", "removal_request", "refuse_delivery", "return", "none")


def line_stage(order_stage: str, shipment_status: str | None) -> str:
    """The stage of the shipment that carries a line, as the line table reads it."""
    if order_stage in ("cancelled", "completed"):
        return "closed"
    if shipment_status is None:
        return "unsubmitted" if order_stage in ("synced", "reviewed") else "closed"
    if shipment_status in ("withdrawn", "intercepted"):
        return "closed"
    if shipment_status in ("submitted", "queued"):
        return "submitted"
    if shipment_status == "shipped":
        return "delivered" if order_stage in ("delivered", "returning", "returned") else "shipped"
    return shipment_status if shipment_status in LINE_STAGES else "closed"


def _line_cancel(stage: str, held: bool) -> Capability:
    if stage == "unsubmitted":
        return _ok(
            "remove",
            "removed at once, guaranteed (a reviewed order goes back to review)",
            guaranteed=True,
            pending=False,
        )
    if held and stage in LINE_HOLDABLE:
        return _ok(
            "withdraw",
            "guaranteed: the held shipment cannot leave, so the line is removed from it",
            guaranteed=True,
            pending=True,
        )
    if stage in ("submitted", "exception"):
        return _ok(
            "withdraw",
            "withdrawn from the task: guaranteed if the warehouse has not imported it, "
            "otherwise a line-removal request",
            guaranteed=False,
            pending=True,
        )
    if stage in ("allocated", "labelled"):
        return _ok(
            "removal_request",
            "best effort line-removal request: the warehouse removes it before packing "
            "(removed, refund) or reports missed (it ships; the path is a return)",
            guaranteed=False,
            pending=True,
        )
    if stage in ("packed", "shipped"):
        return _no(
            "refuse_delivery",
            f"refused: the line is {stage}; the path is refusal or return of that item",
            stage,
        )
    if stage == "delivered":
        return _no("return", "refused: delivered; the path is a return of that item", "delivered")
    return _no("none", "refused: the line's shipment is closed", "closed")


def _line_refund(stage: str, held: bool) -> Capability:
    if stage == "unsubmitted":
        return _ok("remove", "issued at once", guaranteed=True, pending=False, timing="at_once")
    if held and stage in LINE_HOLDABLE:
        return _ok(
            "withdraw",
            "issued at once: the line is removed from the held shipment",
            guaranteed=True,
            pending=False,
            timing="at_once",
        )
    if stage in ("submitted", "exception"):
        return _ok(
            "withdraw",
            "issued on the warehouse's confirmation of the removal",
            guaranteed=False,
            pending=True,
            timing="on_confirmation",
        )
    if stage in ("allocated", "labelled"):
        return _ok(
            "removal_request",
            "issued after the warehouse removes the line",
            guaranteed=False,
            pending=True,
            timing="after_removal",
        )
    if stage in ("packed", "shipped", "delivered"):
        return _ok(
            "return" if stage == "delivered" else "refuse_delivery",
            "after the item is back (refusal or return)",
            guaranteed=False,
            pending=True,
            timing="after_return",
        )
    return _no("none", "complaint / warranty only", "closed", timing="complaint_only")


def line_capability(stage: str, held: bool, action: str) -> Capability:
    """The bare SPEC §2.4 table for one line: its shipment's stage, held or not, and action."""
    if stage not in LINE_STAGES:
        raise ValueError(f"unknown line stage {stage!r}")
    if action == "cancel":
        return _line_cancel(stage, held)
    if action == "refund":
        return _line_refund(stage, held)
    raise ValueError(f"unknown line action {action!r}")


class LineFacts(Protocol):
    """What the rules read of one order line (per SKU and shipment)."""

    @property
    def sku(self) -> str: ...
    @property
    def shipment_status(self) -> str | None: ...
    @property
    def shipment_held(self) -> bool: ...
    @property
    def active_qty(self) -> int: ...


def decide_line(order: OrderFacts, line: LineFacts, action: str) -> Capability:
    """The §2.4 table for one line of this order, including what is pending on the order."""
    if action == "cancel":
        if order.pending_cancel:
            return _no(
                "none",
                f"a cancellation ({order.pending_cancel['mode']}) is already pending",
                "cancel_in_progress",
            )
        if order.pending_edit:
            return _no(
                "none",
                f"edit {order.pending_edit['request_id']} awaits the warehouse's answer",
                "edit_in_progress",
            )
        if line.active_qty <= 0:
            return _no("none", "refused: no active units left on this line", "line_not_active")
    stage = line_stage(order.stage, line.shipment_status)
    return line_capability(stage, line.shipment_held, action)
