"""After-sales refund requests (SPEC §4.1): the order's own rule table decides the path.

After-sales holds no stage rule: it asks (`aftersales.refund_requested`) and this answers
with `rules.decide(order, "refund")`, the function `/capabilities` reads, then takes the
cancel that path needs exactly as a CS cancel would: `Order.cancel`, or for a refund of
lines `lines.cancel_lines`, where each line follows its shipment's rule (SPEC §2.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_service.domain.errors import DomainError, NotAllowed
from order_service.domain.lines import cancel_lines
from order_service.domain.rules import decide

if TYPE_CHECKING:
    from order_service.domain.order import Order

# Refund paths on which the money comes back through a cancel of the order.
THROUGH_A_CANCEL = ("void", "withdraw", "intercept")


def answer_refund_request(order: Order, request: dict[str, Any], actor: str) -> str:
    """Emit `order.refund_decided` (before whatever the cancel emits) and take the path;
    → what was done about the cancel: requested | pending | refused | none."""
    cap = decide(order, "refund")
    refund_id, lines = request["refund_id"], request.get("lines") or []
    mark = len(order.events)
    cancel, mode, code, reason = "none", cap.mode, cap.code, cap.reason
    if cap.allowed and cap.mode in THROUGH_A_CANCEL:
        try:
            if lines:
                cancel = _cancel_lines(order, request, actor)
            else:
                cancel, mode = _cancel(order, request, actor, cap.mode)
        except DomainError as exc:  # the cancel (or a line's rule) refused it
            cancel, code, reason = "refused", exc.code, exc.message
            order.anomaly("aftersales_cancel_refused", actor, exc.message, refund_id=refund_id)
    order.events.insert(
        mark,
        (
            "order.refund_decided",
            {
                "refund_id": refund_id,
                "allowed": cap.allowed,
                "mode": mode,
                "guaranteed": cap.guaranteed,
                "timing": cap.timing,
                "code": code,
                "reason": reason,
                "cancel": cancel,
                "lines": lines,
            },
        ),
    )
    order.record("refund_decided", actor, refund_id=refund_id, mode=mode, cancel=cancel)
    return cancel


def _cancel(order: Order, request: dict[str, Any], actor: str, mode: str) -> tuple[str, str]:
    """Cancel as CS would; → (requested | pending, the mode the cancel took)."""
    refund_id = request["refund_id"]
    try:
        cap = order.cancel(request.get("reason") or "after-sales refund", actor, refund_id)
    except NotAllowed as exc:
        if exc.code != "cancel_in_progress":
            raise
        # A cancel already under way: its `order.cancelled` releases this refund too.
        order.record("aftersales_cancel_pending", actor, refund_id=refund_id, reason=exc.message)
        return "pending", mode
    order.record("aftersales_cancel", actor, refund_id=refund_id, mode=cap.mode)
    return "requested", cap.mode


def _cancel_lines(order: Order, request: dict[str, Any], actor: str) -> str:
    """Cancel the refund's lines as CS would by line; their `order.cancelled` (with
    `lines`: at once, or when the warehouse removes them) releases the refund."""
    refund_id = request["refund_id"]
    reason = request.get("reason") or "after-sales refund"
    change = cancel_lines(order, request["lines"], reason, actor, f"L{refund_id}")
    order.record("aftersales_cancel_lines", actor, refund_id=refund_id, change=change["version"])
    return "requested"
