"""Response bodies of the after-sales API, as documented in its OpenAPI (output only).

Money is a decimal string, times ISO 8601. Documentation models: the routes serialise
their views as before; the fuzzer (tests/fuzz) checks the answers against these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Money = str


class RefundLine(BaseModel):
    sku: str
    qty: int


class RefundDecision(BaseModel):
    """The order service's answer on the refund path (`order.refund_decided`)."""

    allowed: bool
    mode: str
    guaranteed: bool
    timing: str
    code: str
    reason: str
    cancel: str


class RefundView(BaseModel):
    """`status`: requested (waiting for the order service's decision) → awaiting_cancel
    (waiting for the cancel it took) → issued; or awaiting_return, refused.
    `mode`: the path the order service took (void | withdraw | intercept | refuse_delivery |
    return | none); null until it has answered (goodwill and partial refunds: null)."""

    id: str
    refund_id: str
    order_id: str
    kind: str
    lines: list[RefundLine]
    amount: Money
    currency: str
    source: str
    reason: str
    reason_code: str
    mode: str | None
    decision: RefundDecision | None
    status: str
    return_id: str | None
    platform_refund_id: str | None
    requested_by: str
    refused_code: str | None
    created_at: str | None
    issued_at: str | None
    version: int


class ReturnLineView(BaseModel):
    sku: str
    qty: int
    unit_price: Money
    category: str | None
    supplier_id: str | None
    warehouse_id: str | None


class ReplacementLine(BaseModel):
    sku: str
    qty: int


class ReplacementShipmentView(BaseModel):
    shipment_id: str
    warehouse_id: str
    lines: list[dict[str, Any]]


class ExchangeView(BaseModel):
    """An exchange's replacement. `status`: waiting (for the return to be received) →
    requested (asked of the order service) → created (`shipments` known) → shipped;
    or refused (`refused_code`; the return then refunds), cancelled (return rejected).
    `price_difference` = `value` (replacement at catalog price) - `returned_value` (what
    was paid for the returned units): negative → refunded (`refund_id`), positive →
    `due_from_customer` (shown, not collected)."""

    replacement_id: str
    status: str
    lines: list[ReplacementLine]
    shipments: list[ReplacementShipmentView]
    shipment_ids: list[str]
    shipped: list[str]
    returned_value: Money
    value: Money | None
    price_difference: Money | None
    due_from_customer: Money
    refund_id: str | None
    refused_code: str | None
    refused_reason: str
    requested_at: str | None
    shipped_at: str | None


class ReturnView(BaseModel):
    """A return case: policy outcome, return address, status and amount. `resolution`
    `exchange`: `exchange` shows the replacement."""

    id: str
    return_id: str
    order_id: str
    kind: str
    reason_code: str
    reason_category: str | None
    lines: list[ReturnLineView]
    method: str
    opened: bool
    evidence: dict[str, Any]
    status: str
    shipping_payer: str
    return_address: str
    refund_id: str | None
    amount: Money
    resolution: str
    replacement_id: str | None
    exchange: ExchangeView | None


class ReshipLiability(BaseModel):
    liability_id: str
    party: str
    amount: Money
    basis: str
    sku: str | None
    warehouse_id: str | None


class ReshipView(BaseModel):
    """A reship (补发). `status`: requested → created (`shipment_ids`) → shipped; or
    refused (`refused_code`; its liability is struck). `value`: the units' paid price (what
    the approval limit and the liability count)."""

    id: str
    reship_id: str
    order_id: str
    status: str
    lines: list[ReplacementLine]
    reason_code: str
    liable_party: str | None
    note: str
    value: Money
    catalog_value: Money | None
    shipments: list[ReplacementShipmentView]
    shipment_ids: list[str]
    shipped: list[str]
    refused_code: str | None
    refused_reason: str
    requested_by: str
    created_at: str
    shipped_at: str | None
    liabilities: list[ReshipLiability]


class LiabilityRow(BaseModel):
    liability_id: str
    return_id: str | None
    order_id: str
    party: str
    amount: Money
    basis: str
    created_at: str | None


class InspectedReturn(ReturnView):
    gradings: list[dict[str, Any]]
    liabilities: list[LiabilityRow]


class PolicyRead(BaseModel):
    policy: dict[str, Any]
    version: int
    updated_at: str | None
    updated_by: str | None


class PolicyWritten(BaseModel):
    policy: dict[str, Any]
    version: int


class ComplaintView(BaseModel):
    id: str
    complaint_id: str
    tier: str
    subject: str
    order_id: str | None
    status: str
    owner: str
    opened_at: str
    due_at: str
    breached_at: str | None
    first_response_at: str | None
    responses: list[dict[str, Any]]


class ComplaintRow(BaseModel):
    complaint_id: str
    tier: str
    subject: str
    order_id: str | None
    status: str
    due_at: str
    overdue: bool


class TaskRow(BaseModel):
    """A customer-notification task (out of stock): deadline and the options."""

    task_id: str
    order_id: str
    shipment_id: str
    skus: list[str]
    deadline: str
    status: str
    overdue: bool
    options: list[str]


class ResolvedTask(BaseModel):
    id: str
    task_id: str
    order_id: str
    status: str
    option: str | None
    refund_id: str | None


class ReturnedGood(BaseModel):
    return_id: str
    order_id: str
    sku: str
    qty: int
    grade: str
    disposition: str
    value: Money
    recovered_value: Money


class AnomalyRow(BaseModel):
    order_id: str | None
    event_type: str | None = None
    recorded_at: str | None = None


class ReturnsBy(BaseModel):
    by: str
    rows: list[dict[str, Any]]


class ReturnTimes(BaseModel):
    buckets: list[dict[str, Any]]


class ComplaintRate(BaseModel):
    orders: int
    complaints: int
    complaints_per_10k_orders: Any


class WarehouseFigures(BaseModel):
    warehouses: list[dict[str, Any]]
    supplier_losses: dict[str, Money]


class Flagged(BaseModel):
    sku: str
    reasons: list[str]


class Delisting(BaseModel):
    flagged: list[Flagged]


class Reviews(BaseModel):
    sku: str
    reviews: int
    bad_reviews: int
