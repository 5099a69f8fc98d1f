"""Refunds follow the stage table (SPEC §2.1); never twice, never more than was paid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.lifecycle import REFUNDS
from aftersales_service.domain.orders import IN_WAREHOUSE, PRE_WAREHOUSE, OrderView

CENT = Decimal("0.01")
WHOLE_ORDER = "order"  # claim key of a whole-order refund


@dataclass(frozen=True)
class Route:
    """How a refund for an order at this stage proceeds."""

    mode: str  # void | withdraw | intercept | cancel
    guaranteed: bool


def refund_route(order: OrderView) -> Route:
    """The stage table's refund column, or a refusal naming the path to take instead."""
    if not order.synced and order.stage is None:
        raise NotFound(
            f"order {order.order_id} is not known here yet; refunds before sync are platform-side",
            code="order_unknown",
        )
    stage = order.effective_stage
    if stage in PRE_WAREHOUSE:
        return Route("void", True)
    if order.held and stage in ("submitted", *IN_WAREHOUSE):
        return Route("withdraw", True)
    if stage == "submitted":
        return Route("withdraw", False)
    if stage in (*IN_WAREHOUSE, "intercepting"):
        return Route("intercept", False)
    if stage == "exception":
        return Route("cancel", True)
    raise _refusal(order.order_id, stage)


def _refusal(order_id: str, stage: str | None) -> Refused:
    if stage in ("shipped", "returning"):
        return Refused(
            f"order {order_id} has shipped: the refund path is refuse delivery or a return",
            code="refund_requires_refusal_or_return",
            path="refuse_delivery",
            stage=stage,
        )
    if stage in ("delivered", "returned"):
        return Refused(
            f"order {order_id} was delivered: refund through a return (POST /returns)",
            code="refund_requires_return",
            path="return",
            stage=stage,
        )
    if stage == "cancelled":
        return Refused(
            f"order {order_id} is cancelled; its refund is issued automatically",
            code="order_cancelled",
            path="none",
            stage=stage,
        )
    return Refused(
        f"order {order_id} is {stage}: only a complaint or warranty claim remains",
        code="refund_window_closed",
        path="complaint",
        stage=stage,
    )


@dataclass
class Refund:
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str
    source: str  # cs | platform | order_cancelled | return | exception
    reason: str = ""
    reason_code: str = "changed_mind"
    mode: str = ""
    status: str = "requested"
    claims: list[str] = field(default_factory=list)
    return_id: str | None = None
    platform_refund_id: str | None = None
    requested_by: str = ""
    refused_code: str | None = None
    created_at: datetime | None = None
    issued_at: datetime | None = None
    version: int = 0

    @property
    def open(self) -> bool:
        return self.status in ("requested", "awaiting_cancel", "awaiting_return")

    def request_cancel(self, route: Route) -> None:
        self.mode = route.mode
        REFUNDS.fire(self, "request_cancel")

    def await_return(self, return_id: str, mode: str) -> None:
        self.return_id, self.mode = return_id, mode
        REFUNDS.fire(self, "await_return")

    def issue(self, amount: Decimal, now: datetime) -> None:
        REFUNDS.fire(self, "issue")
        self.amount, self.issued_at = amount.quantize(CENT), now

    def refuse(self, code: str) -> None:
        REFUNDS.fire(self, "refuse")
        self.refused_code = code


def committed(refunds: list[Refund]) -> Decimal:
    """Money issued or promised (open) for an order."""
    return sum((r.amount for r in refunds if r.status != "refused"), Decimal("0"))


def issued(refunds: list[Refund]) -> Decimal:
    return sum((r.amount for r in refunds if r.status == "issued"), Decimal("0"))


def check_within_paid(order: OrderView, refunds: list[Refund], amount: Decimal) -> None:
    """Sum of refunds (issued and open) may never exceed what the buyer paid."""
    already = committed(refunds)
    if amount <= 0 or already + amount > order.total:
        raise Refused(
            f"refund of {amount} would exceed what was paid: paid {order.total}, "
            f"already refunded or pending {already}",
            code="refund_exceeds_paid",
            paid=str(order.total),
            already=str(already),
            requested=str(amount),
        )


def whole_order_claims(order: OrderView, claimed: set[str], refunds: list[Refund]) -> list[str]:
    """Claim keys of a whole-order refund: the order key plus every unit not yet claimed."""
    if WHOLE_ORDER in claimed:
        holder = next((r for r in refunds if WHOLE_ORDER in r.claims), None)
        raise Refused(
            f"order {order.order_id} already has a whole-order refund",
            code="refund_already_requested",
            refund_id=holder.refund_id if holder else None,
        )
    units = [k for line in order.lines for k in line.unit_keys() if k not in claimed]
    return [WHOLE_ORDER, *units]


def cancellation_amount(order: OrderView, refunds: list[Refund], refund_due: Decimal) -> Decimal:
    """What an `order.cancelled` still owes: `refund_due` minus refunds issued elsewhere."""
    others = issued(refunds)
    return max(Decimal("0"), min(refund_due, order.total - others)).quantize(CENT)
