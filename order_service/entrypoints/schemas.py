"""Request bodies (pydantic, I/O only) and their mapping to the domain's plain dicts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events.common import Address, Buyer


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Body):
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)
    unit_price: Decimal = Field(default=Decimal("0"), ge=0)
    attributes: dict[str, str] = Field(default_factory=dict)
    campaign_id: str | None = None

    def as_line(self) -> dict:
        return {
            "sku": self.sku,
            "qty": self.qty,
            "unit_price": str(self.unit_price),
            "attributes": self.attributes,
            "campaign_id": self.campaign_id,
        }


class GenericOrder(Body):
    """SPEC §2.3 canonical order webhook; `updated_at` (optional) orders updates."""

    event_id: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    platform_order_id: str = Field(min_length=1)
    buyer: Buyer
    address: Address
    lines: list[LineIn] = Field(min_length=1)
    total: Decimal = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    paid_at: AwareDatetime
    note: str = ""
    updated_at: AwareDatetime | None = None


class GenericRefund(Body):
    """A refund request pushed by the platform."""

    event_id: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    platform_order_id: str = Field(min_length=1)
    platform_refund_id: str = Field(min_length=1)
    amount: Decimal = Field(ge=0)
    reason: str = ""
    skus: list[str] = Field(default_factory=list)


class GenericDelivery(Body):
    """A delivery confirmation pushed by the platform or carrier."""

    event_id: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    platform_order_id: str = Field(min_length=1)
    delivered_at: AwareDatetime
    source: str = "platform"


class EditBody(Body):
    """PATCH /orders/{id}: any of address, note, lines."""

    address: Address | None = None
    note: str | None = None
    lines: list[LineIn] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _something(self) -> EditBody:
        if self.address is None and self.note is None and self.lines is None:
            raise ValueError("send at least one of address, note, lines")
        return self

    def changes(self) -> dict:
        out: dict = {}
        if self.address is not None:
            out["address"] = self.address.model_dump()
        if self.note is not None:
            out["note"] = self.note
        if self.lines is not None:
            out["lines"] = [ln.as_line() for ln in self.lines]
        return out


class ReviewBody(Body):
    approve: bool
    reason: str = ""

    @model_validator(mode="after")
    def _reason_on_reject(self) -> ReviewBody:
        if not self.approve and not self.reason.strip():
            raise ValueError("a rejection needs a reason")
        return self


class SubmitBody(Body):
    warehouse_id: str | None = None


class CancelBody(Body):
    reason: str = Field(min_length=1)


class MergeBody(Body):
    order_ids: list[str] = Field(min_length=2)


class ReviewPolicyBody(Body):
    auto_review: bool = False
    default_campaign_limit: int = Field(1, ge=1)
    campaign_limits: dict[str, int] = Field(default_factory=dict)


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
