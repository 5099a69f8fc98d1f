"""Request bodies (pydantic, I/O only) and their mapping to the domain's plain dicts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events.common import Address, Buyer
from shared.limits import (
    LINES_MAX,
    MONEY_MAX,
    NAME_MAX,
    QTY_MAX,
    BoundedBody,
    Code,
    Id,
    Instant,
    Money,
    Qty,
    Text,
)

MERGE_MAX = 50  # orders merged into one shipment
CAMPAIGNS_MAX = 1_000  # campaigns with their own per-buyer limit
ATTRIBUTES_MAX = 20  # attributes of one line (size, colour, ...)


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


class GenericRefund(BoundedBody):
    """A refund request pushed by the platform."""

    event_id: Id
    platform: Code
    platform_order_id: Id
    platform_refund_id: Id
    amount: Money
    reason: Text = ""
    skus: list[Id] = Field(default_factory=list, max_length=LINES_MAX)


class GenericDelivery(BoundedBody):
    """A delivery confirmation pushed by the platform or carrier."""

    event_id: Id
    platform: Code
    platform_order_id: Id
    delivered_at: Instant
    source: Code = "platform"


class AddressIn(Address):
    """An address as CS edits it: every part at most NAME_MAX characters."""

    model_config = ConfigDict(str_max_length=NAME_MAX)


class EditLine(LineIn):
    """A line as CS edits it: bounded SKU, quantity, price and attributes."""

    model_config = ConfigDict(str_max_length=NAME_MAX)

    sku: Id
    qty: Qty
    unit_price: Money = Decimal("0")
    attributes: dict[str, str] = Field(default_factory=dict, max_length=ATTRIBUTES_MAX)
    campaign_id: Id | None = None


class EditBody(BoundedBody):
    """PATCH /orders/{id}: any of address, note, lines."""

    address: AddressIn | None = None
    note: Text | None = None
    lines: list[EditLine] | None = Field(default=None, min_length=1, max_length=LINES_MAX)

    @model_validator(mode="after")
    def _something(self) -> EditBody:
        if self.address is None and self.note is None and self.lines is None:
            raise ValueError("send at least one of address, note, lines")
        if self.lines and sum(ln.qty * ln.unit_price for ln in self.lines) > MONEY_MAX:
            raise ValueError(f"lines: the lines' value may be at most {MONEY_MAX}")
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


class ReviewBody(BoundedBody):
    approve: bool
    reason: Text = ""

    @model_validator(mode="after")
    def _reason_on_reject(self) -> ReviewBody:
        if not self.approve and not self.reason.strip():
            raise ValueError("a rejection needs a reason")
        return self


class SubmitBody(BoundedBody):
    warehouse_id: Id | None = None


class CancelBody(BoundedBody):
    reason: Text = Field(min_length=1)


class MergeBody(BoundedBody):
    order_ids: list[Id] = Field(min_length=2, max_length=MERGE_MAX)


CampaignLimit = Annotated[int, Field(ge=1, le=QTY_MAX)]


class ReviewPolicyBody(BoundedBody):
    """Per-buyer flash-sale limits: units of a campaign one buyer may hold (1..QTY_MAX)."""

    auto_review: bool = False
    default_campaign_limit: CampaignLimit = 1
    campaign_limits: dict[Id, CampaignLimit] = Field(default_factory=dict, max_length=CAMPAIGNS_MAX)


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
