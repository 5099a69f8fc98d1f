"""SPEC §2.1 as code: what CS may do to an order, by stage, held or not.

`capability(stage, held, action)` is the table; `decide(order, action)` adds what
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


@dataclass(frozen=True)
class Capability:
    """One answer of the table. `mode` for edits: apply | request | none;
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


def decide(order: OrderFacts, action: str) -> Capability:
    """The table for this order, including what is already pending on it."""
    if order.pending_cancel and action in ("edit", "cancel"):
        return _no(
            "none",
            f"a cancellation ({order.pending_cancel['mode']}) is already pending",
            "cancel_in_progress",
        )
    if order.pending_edit and action == "edit":
        return _no(
            "none",
            f"edit {order.pending_edit['request_id']} awaits the warehouse's answer",
            "edit_in_progress",
        )
    # The hold guarantee needs every live shipment held (a split order may be partly held).
    return capability(order.stage, order.fully_held, action)


def capabilities(order: OrderFacts) -> dict[str, Any]:
    """The `GET /orders/{id}/capabilities` body."""
    body: dict[str, Any] = {"stage": order.stage, "held": order.held}
    for action in ACTIONS:
        body[action] = decide(order, action).as_dict()
    return body
