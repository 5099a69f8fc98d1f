"""Request bodies (pydantic v2). Money is a Decimal given as a string."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from shared.limits import (
    LINES_MAX,
    BoundedBody,
    Code,
    Id,
    Money,
    Name,
    PositiveMoney,
    Qty,
    Sku,
    Text,
)
from shared.settings import Role

EVIDENCE_MAX = 20  # photos or evidence references on one case
CATEGORIES_MAX = 20  # entries of a policy's reason and category lists
DAYS_MAX = 365  # return and claim windows
MINUTES_MAX = 7 * 24 * 60  # SLA and notification deadlines: at most a week
REVIEWS_MAX = 1_000_000_000  # review counts of one SKU

Rate = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
Minutes = Annotated[int, Field(ge=1, le=MINUTES_MAX)]
Days = Annotated[int, Field(ge=0, le=DAYS_MAX)]
Codes = Annotated[list[Code], Field(max_length=CATEGORIES_MAX)]


class Body(BoundedBody):
    pass


class ReturnLineIn(Body):
    sku: Sku
    qty: Qty = 1


class RefundIn(Body):
    """`kind`: `order` (the whole order; `amount` defaults to what is left to refund),
    `lines` (the units named in `lines`; amount computed), `goodwill` (`amount` required;
    cancels nothing, issued at once). Omitted: `lines` when lines are given, else `order`."""

    order_id: Id
    reason: Text = ""
    reason_code: Code = "changed_mind"
    amount: PositiveMoney | None = None
    kind: Literal["order", "lines", "goodwill"] | None = None
    lines: list[ReturnLineIn] = Field(default_factory=list, max_length=LINES_MAX)

    @model_validator(mode="after")
    def _kind_fits(self) -> RefundIn:
        if self.kind is None:
            self.kind = "lines" if self.lines else "order"
        if self.kind == "lines" and not self.lines:
            raise ValueError("a `lines` refund names at least one line")
        if self.kind != "lines" and self.lines:
            raise ValueError(f"a `{self.kind}` refund names no lines")
        if self.kind == "goodwill" and self.amount is None:
            raise ValueError("a goodwill refund needs an `amount`")
        if self.kind == "lines" and self.amount is not None:
            raise ValueError("a `lines` refund's amount is computed from its lines")
        return self


class Evidence(Body):
    photos: list[Text] = Field(default_factory=list, max_length=EVIDENCE_MAX)
    order_number: Id | None = None
    chat_record: Text | None = None


class ReturnIn(Body):
    """`resolution`: `refund` (default) or `exchange`: the returned `lines` for the
    `replacement_lines` (any SKU, e.g. another size), refunding nothing for them."""

    order_id: Id
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=LINES_MAX)
    reason_code: Code
    evidence: Evidence = Field(default_factory=Evidence)
    opened: bool = False
    method: Literal["pickup", "self_send"] = "self_send"
    resolution: Literal["refund", "exchange"] = "refund"
    replacement_lines: list[ReturnLineIn] = Field(default_factory=list, max_length=LINES_MAX)

    @model_validator(mode="after")
    def _replacement_fits(self) -> ReturnIn:
        if self.resolution == "exchange" and not self.replacement_lines:
            raise ValueError("an exchange names at least one of `replacement_lines`")
        if self.resolution == "refund" and self.replacement_lines:
            raise ValueError("`replacement_lines` are for `resolution: exchange`")
        return self


class ReshipIn(Body):
    """补发 without a return: units the order shipped. `missing_item` and `wrong_item`:
    the warehouse carries the loss; `transit_damage`: the carrier."""

    order_id: Id
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=LINES_MAX)
    reason_code: Literal["missing_item", "transit_damage", "wrong_item"]
    note: Text = ""


class DecisionIn(Body):
    approve: bool = True
    note: Text = ""


class GradeIn(Body):
    sku: Sku
    qty: Qty | None = None
    grade: Literal["new", "minor_flaw", "severe_flaw", "damaged"]
    flaw_note: Text = ""
    repair_cost: Money | None = None


class InspectIn(Body):
    lines: list[GradeIn] = Field(min_length=1, max_length=LINES_MAX)


class EvidenceRef(Body):
    kind: Literal["photo", "chat", "warehouse_weight", "carrier_signoff", "other"]
    ref: Text
    note: Text = ""


class ComplaintIn(Body):
    tier: Literal["L1", "L2", "L3"] = "L1"
    subject: Name = Field(min_length=1)
    order_id: Id | None = None
    description: Text = ""
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=EVIDENCE_MAX)


class RespondIn(Body):
    message: Text = Field(min_length=1)


class ResolveIn(Body):
    option: Literal["wait", "substitute", "cancel_and_refund"]
    note: Text = ""


class OverrideIn(Body):
    party: Literal["supplier", "warehouse", "carrier", "customer", "seller"]
    amount: Money | None = None
    reason: Text = Field(min_length=1)


class PolicyIn(Body):
    """The full policy; omitted fields take their defaults. Changed by admin only."""

    no_reason_days: Days = 7
    claim_days: Days = 15
    no_reason_categories: Codes = ["customer"]
    evidence_required_categories: Codes = ["quality"]
    evidence_fields: list[Literal["photos", "order_number", "chat_record"]] = [
        "photos",
        "order_number",
        "chat_record",
    ]
    resale_neutral_reasons: Codes = ["missing_item"]
    refund_only_reasons: Codes = ["missing_item"]
    approval_limits: dict[Role, Money] = {
        "cs_agent": Decimal("200.00"),
        "cs_supervisor": Decimal("2000.00"),
    }
    return_address: Name = "Returns Centre, 1 Depot Road, Hangzhou 310000"
    methods: list[Literal["pickup", "self_send"]] = ["pickup", "self_send"]
    minor_flaw_discount: Rate = Decimal("0.30")
    seller_return_shipping_cost: Money = Decimal("12.00")
    oos_notify_minutes: Minutes = 120
    sla_minutes: dict[Literal["L1", "L2", "L3"], Minutes] = {"L1": 60, "L2": 240, "L3": 120}
    delist_return_rate: Rate = Decimal("0.15")
    delist_bad_review_rate: Rate = Decimal("0.05")
    exchange_ship_first: bool = False
    exchange_ship_first_reasons: Codes = ["wrong_item"]


class ReviewsIn(Body):
    reviews: int = Field(ge=0, le=REVIEWS_MAX)
    bad_reviews: int = Field(ge=0, le=REVIEWS_MAX)

    @model_validator(mode="after")
    def _bad_within_reviews(self) -> ReviewsIn:
        if self.bad_reviews > self.reviews:
            raise ValueError(
                f"bad_reviews ({self.bad_reviews}) may not exceed reviews ({self.reviews})"
            )
        return self
