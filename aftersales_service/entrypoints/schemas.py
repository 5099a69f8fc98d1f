"""Request bodies (pydantic v2). Money is a Decimal given as a string."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RefundIn(Body):
    order_id: str
    reason: str = ""
    reason_code: str = "changed_mind"
    amount: Decimal | None = Field(None, gt=0, decimal_places=2)


class ReturnLineIn(Body):
    sku: str
    qty: int = Field(1, gt=0)


class Evidence(Body):
    photos: list[str] = Field(default_factory=list)
    order_number: str | None = None
    chat_record: str | None = None


class ReturnIn(Body):
    order_id: str
    lines: list[ReturnLineIn] = Field(min_length=1)
    reason_code: str
    evidence: Evidence = Field(default_factory=Evidence)
    opened: bool = False
    method: Literal["pickup", "self_send"] = "self_send"


class DecisionIn(Body):
    approve: bool = True
    note: str = ""


class GradeIn(Body):
    sku: str
    qty: int | None = Field(None, gt=0)
    grade: Literal["new", "minor_flaw", "severe_flaw", "damaged"]
    flaw_note: str = ""
    repair_cost: Decimal | None = Field(None, ge=0)


class InspectIn(Body):
    lines: list[GradeIn] = Field(min_length=1)


class EvidenceRef(Body):
    kind: Literal["photo", "chat", "warehouse_weight", "carrier_signoff", "other"]
    ref: str
    note: str = ""


class ComplaintIn(Body):
    tier: Literal["L1", "L2", "L3"] = "L1"
    subject: str = Field(min_length=1)
    order_id: str | None = None
    description: str = ""
    evidence: list[EvidenceRef] = Field(default_factory=list)


class RespondIn(Body):
    message: str = Field(min_length=1)


class ResolveIn(Body):
    option: Literal["wait", "substitute", "cancel_and_refund"]
    note: str = ""


class OverrideIn(Body):
    party: Literal["supplier", "warehouse", "carrier", "customer", "seller"]
    amount: Decimal | None = Field(None, ge=0)
    reason: str = Field(min_length=1)


class PolicyIn(Body):
    """The full policy; omitted fields take their defaults."""

    no_reason_days: int = Field(7, ge=0)
    claim_days: int = Field(15, ge=0)
    no_reason_categories: list[str] = ["customer"]
    evidence_required_categories: list[str] = ["quality"]
    evidence_fields: list[Literal["photos", "order_number", "chat_record"]] = [
        "photos",
        "order_number",
        "chat_record",
    ]
    resale_neutral_reasons: list[str] = ["missing_item"]
    refund_only_reasons: list[str] = ["missing_item"]
    approval_limits: dict[str, Decimal] = {
        "cs_agent": Decimal("200.00"),
        "cs_supervisor": Decimal("2000.00"),
    }
    return_address: str = "Returns Centre, 1 Depot Road, Hangzhou 310000"
    methods: list[Literal["pickup", "self_send"]] = ["pickup", "self_send"]
    minor_flaw_discount: Decimal = Field(Decimal("0.30"), ge=0, le=1)
    seller_return_shipping_cost: Decimal = Field(Decimal("12.00"), ge=0)
    oos_notify_minutes: int = Field(120, gt=0)
    sla_minutes: dict[Literal["L1", "L2", "L3"], int] = {"L1": 60, "L2": 240, "L3": 120}
    delist_return_rate: Decimal = Field(Decimal("0.15"), ge=0, le=1)
    delist_bad_review_rate: Decimal = Field(Decimal("0.05"), ge=0, le=1)


class ReviewsIn(Body):
    reviews: int = Field(ge=0)
    bad_reviews: int = Field(ge=0)
