"""Refund money rules: never more than was paid, never twice, within approval limits.

The stage path of a refund is not decided here (SPEC §4.1): the order service answers
with its own rule (`Decision`) and the refund follows what it took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.lifecycle import REFUNDS
from aftersales_service.domain.orders import OrderView

CENT = Decimal("0.01")
WHOLE_ORDER = "order"  # claim key of a whole-order refund
# Paths on which the money comes back through a cancel (then `order.cancelled`).
THROUGH_A_CANCEL = ("void", "withdraw", "intercept")
# Paths on which it comes back only with the goods: the request names the path instead.
THROUGH_GOODS = {
    "refuse_delivery": "refund_requires_refusal_or_return",
    "return": "refund_requires_return",
}


@dataclass(frozen=True)
class Decision:
    """The order service's answer to a refund request (`order.refund_decided`)."""

    allowed: bool
    mode: str
    guaranteed: bool = False
    timing: str = ""
    code: str = ""
    reason: str = ""
    cancel: str = "none"  # requested | pending | lines_pending | refused | none

    def refusal(self) -> tuple[str, str, str] | None:
        """(code, path, reason) when the refund cannot proceed on this path, else None."""
        if not self.allowed or self.cancel == "refused":
            return self.code or "refund_refused", _path(self.mode), self.reason
        if self.mode in THROUGH_GOODS:
            return THROUGH_GOODS[self.mode], self.mode, self.reason
        if self.mode not in THROUGH_A_CANCEL:
            return "refund_refused", _path(self.mode), self.reason
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "mode": self.mode,
            "guaranteed": self.guaranteed,
            "timing": self.timing,
            "code": self.code,
            "reason": self.reason,
            "cancel": self.cancel,
        }


def _path(mode: str) -> str:
    return mode if mode in ("refuse_delivery", "return") else "complaint"


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
    kind: str = "order"  # order | lines | goodwill | partial
    lines: list[dict[str, Any]] = field(default_factory=list)  # [{"sku", "qty"}] of `lines`
    decision: dict[str, Any] | None = None  # the order service's answer, as it gave it

    @property
    def open(self) -> bool:
        return self.status in ("requested", "awaiting_cancel", "awaiting_return")

    def decided(self, decision: Decision) -> tuple[str, str, str] | None:
        """Record the order service's answer; an open refund waits for the cancel it took,
        or is refused naming the path. → (code, path, reason) when refused now."""
        self.decision = decision.as_dict()
        self.mode = self.mode or decision.mode
        if self.status != "requested":  # already settled (e.g. `order.cancelled` came first)
            return None
        refusal = decision.refusal()
        if refusal is None:
            REFUNDS.fire(self, "request_cancel")
            return None
        self.refuse(refusal[0])
        return refusal

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


def goodwill_amount(amount: Decimal | None) -> Decimal:
    """A goodwill (or partial platform) refund names its amount; it claims no goods."""
    if amount is None or amount <= 0:
        raise InvalidRequest("a goodwill refund needs a positive amount", code="amount_required")
    return amount.quantize(CENT)


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
