"""`aftersales.refund_requested` → the order's refund rule answers and takes the path."""

from __future__ import annotations

from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.refund_path import answer_refund_request
from order_service.handlers.events import _apply
from shared.envelope import Envelope

REFUND_REQUESTED = "aftersales.refund_requested"


async def on_refund_requested(uow: OrderUnitOfWork, env: Envelope) -> None:
    """Decide by `rules.decide(order, "refund")`, answer `order.refund_decided`, cancel."""
    await _apply(
        uow,
        env,
        "aftersales",
        lambda o: answer_refund_request(o, dict(env.payload), "aftersales"),
    )
