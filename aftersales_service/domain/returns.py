"""Return cases, inspection grades and their dispositions, and the liability they produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.lifecycle import RETURNS
from aftersales_service.domain.policy import LIABLE_PARTY, ReturnPolicy, reason_category

CENT = Decimal("0.01")
GRADES = ("new", "minor_flaw", "severe_flaw", "damaged")


@dataclass
class ReturnLine:
    sku: str
    qty: int
    unit_price: Decimal
    category: str | None = None
    supplier_id: str | None = None
    warehouse_id: str | None = None

    @property
    def value(self) -> Decimal:
        return (self.unit_price * self.qty).quantize(CENT)


@dataclass
class ReturnCase:
    return_id: str
    order_id: str
    kind: str  # return | refused_delivery
    reason_code: str
    lines: list[ReturnLine]
    opened_at: datetime
    method: str = "self_send"
    opened: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = "pending_review"
    shipping_payer: str = "buyer"
    return_address: str = ""
    refund_id: str | None = None
    delivered_at: datetime | None = None
    approved_by: str | None = None
    decision_note: str = ""
    received_at: datetime | None = None
    inspected_at: datetime | None = None
    version: int = 0
    resolution: str = "refund"  # refund | exchange
    replacement_id: str | None = None  # an exchange's replacement

    @property
    def amount(self) -> Decimal:
        return sum((line.value for line in self.lines), Decimal("0"))

    @property
    def reason_category(self) -> str:
        return reason_category(self.reason_code)

    def approve(self, by: str, note: str = "") -> None:
        RETURNS.fire(self, "approve")
        self.approved_by, self.decision_note = by, note

    def reject(self, by: str, note: str) -> None:
        RETURNS.fire(self, "reject")
        self.approved_by, self.decision_note = by, note

    def receive(self, now: datetime) -> None:
        RETURNS.fire(self, "receive")
        self.received_at = now

    def inspect(self, now: datetime) -> None:
        RETURNS.fire(self, "inspect")
        self.inspected_at = now

    def close(self) -> None:
        RETURNS.fire(self, "close")


@dataclass(frozen=True)
class Grading:
    """One inspected line: grade → disposition and what the goods are still worth."""

    sku: str
    qty: int
    grade: str
    disposition: str  # restock | discounted_resale | repair | scrap
    value: Decimal
    recovered: Decimal
    repair_cost: Decimal | None = None
    flaw_note: str = ""

    @property
    def loss(self) -> Decimal:
        return (self.value - self.recovered).quantize(CENT)


def grade_line(
    line: ReturnLine,
    grade: str,
    policy: ReturnPolicy,
    *,
    qty: int | None = None,
    flaw_note: str = "",
    repair_cost: Decimal | None = None,
) -> Grading:
    """SPEC §4: new → restock; minor flaw → discounted resale with the flaw described;
    severe flaw → repair if repair cost < value, else scrap; damaged → scrap, recorded."""
    qty = line.qty if qty is None else qty
    value = (line.unit_price * qty).quantize(CENT)
    if grade == "new":
        return Grading(line.sku, qty, grade, "restock", value, value)
    if grade == "minor_flaw":
        if not flaw_note.strip():
            raise InvalidRequest(
                "minor_flaw needs flaw_note describing the flaw for the resale listing",
                code="flaw_note_required",
                sku=line.sku,
            )
        recovered = (value * (1 - policy.minor_flaw_discount)).quantize(CENT)
        return Grading(line.sku, qty, grade, "discounted_resale", value, recovered, None, flaw_note)
    if grade == "severe_flaw":
        if repair_cost is None:
            raise InvalidRequest(
                "severe_flaw needs repair_cost to choose repair or scrap",
                code="repair_cost_required",
                sku=line.sku,
            )
        if repair_cost < value:
            return Grading(
                line.sku, qty, grade, "repair", value, value - repair_cost, repair_cost, flaw_note
            )
        return Grading(line.sku, qty, grade, "scrap", value, Decimal("0"), repair_cost, flaw_note)
    if grade == "damaged":
        return Grading(line.sku, qty, grade, "scrap", value, Decimal("0"), None, flaw_note)
    raise InvalidRequest(
        f"unknown grade {grade!r}; use one of {list(GRADES)}", code="unknown_grade", sku=line.sku
    )


@dataclass(frozen=True)
class Liability:
    """One loss assigned to a party, with what it came from."""

    party: str
    amount: Decimal
    basis: str
    sku: str | None = None
    supplier_id: str | None = None
    warehouse_id: str | None = None


def liabilities_for(
    case: ReturnCase, gradings: list[Grading], policy: ReturnPolicy
) -> list[Liability]:
    """Losses from a graded case: goods lost to the reason's party, plus seller-paid shipping."""
    party = LIABLE_PARTY[case.reason_category]
    by_sku = {line.sku: line for line in case.lines}
    out = [
        Liability(
            party,
            g.loss,
            f"{case.reason_code}: {g.grade} → {g.disposition}",
            g.sku,
            by_sku[g.sku].supplier_id,
            by_sku[g.sku].warehouse_id,
        )
        for g in gradings
        if g.loss > 0
    ]
    if case.shipping_payer == "seller" and policy.seller_return_shipping_cost > 0:
        first = case.lines[0]
        out.append(
            Liability(
                party,
                policy.seller_return_shipping_cost,
                f"{case.reason_code}: seller-paid return shipping",
                None,
                first.supplier_id,
                first.warehouse_id,
            )
        )
    return out


def refund_only_liabilities(case: ReturnCase) -> list[Liability]:
    """Nothing comes back (e.g. missing item): the whole value is the party's loss."""
    party = LIABLE_PARTY[case.reason_category]
    return [
        Liability(
            party,
            line.value,
            f"{case.reason_code}: nothing to return",
            line.sku,
            line.supplier_id,
            line.warehouse_id,
        )
        for line in case.lines
    ]


def match_inspection(
    case: ReturnCase, items: list[dict[str, Any]]
) -> list[tuple[ReturnLine, dict[str, Any]]]:
    """Pair inspected items with the case's lines; every returned unit must be graded."""
    lines = {line.sku: line for line in case.lines}
    seen: dict[str, int] = {}
    pairs = []
    for item in items:
        line = lines.get(item["sku"])
        if line is None:
            raise InvalidRequest(
                f"{item['sku']} is not in return {case.return_id}", code="unknown_line"
            )
        seen[line.sku] = seen.get(line.sku, 0) + item.get("qty", line.qty)
        pairs.append((line, item))
    missing = {s: ln.qty - seen.get(s, 0) for s, ln in lines.items() if seen.get(s, 0) != ln.qty}
    if missing:
        raise Refused(
            f"grade every returned unit exactly once; mismatch per sku: {missing}",
            code="inspection_incomplete",
            mismatch=missing,
        )
    return pairs
