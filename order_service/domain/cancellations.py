"""A cancellation that arrives from the platform (SPEC §2.3): the CS cancel's stage path.

It calls the same `Order.cancel` (hence `rules.decide`) as `POST /orders/{id}/cancel`, so
it voids, withdraws or intercepts exactly as a CS cancel would, and is refused once the
order has shipped. It is never raised: the outcome is recorded on the timeline and
reported back to the platform (`cancelled`, `pending`, `refused`, `already_cancelled`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_service.domain.errors import NotAllowed

if TYPE_CHECKING:
    from order_service.domain.order import Order


def platform_cancel(order: Order, reason: str, actor: str, request_id: str) -> dict[str, Any]:
    """Cancel `order` as the platform asked; → the outcome to report back."""
    if order.stage == "cancelled":
        result = {"outcome": "already_cancelled", "mode": (order.last_cancel or {}).get("mode")}
    elif order.pending_cancel:
        result = {
            "outcome": "pending",
            "mode": order.pending_cancel["mode"],
            "guaranteed": order.pending_cancel["guaranteed"],
            "reason": "a cancellation is already pending",
        }
    else:
        try:
            cap = order.cancel(reason, actor, request_id)
        except NotAllowed as exc:
            result = {
                "outcome": "refused",
                "mode": exc.details.get("mode", "none"),
                "code": exc.code,
                "reason": exc.message,
            }
        else:
            result = {
                "outcome": "pending" if cap.pending_confirmation else "cancelled",
                "mode": cap.mode,
                "guaranteed": cap.guaranteed,
                "reason": cap.reason,
            }
    order.record(
        "platform_cancellation", actor, request_id=request_id, cancel_reason=reason, **result
    )
    return result
