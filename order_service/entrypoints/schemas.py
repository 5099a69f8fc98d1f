"""Request bodies (pydantic, I/O only) and their mapping to the domain's plain dicts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.events.common import Address
from shared.limits import (
    LINES_MAX,
    MONEY_MAX,
    NAME_MAX,
    QTY_MAX,
    BoundedBody,
    Id,
    Money,
    Qty,
    Sku,
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


# ---- webhook bodies (SPEC §2.3): nulls where platforms send them, a bound on everything ----


def _blank(value: Any) -> Any:
    """Platforms send `null` for empty optional strings; it means ""."""
    return "" if value is None else value


KEY_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_CHARS = r"^[^\x00]*$"

# An optional string (null → "") of at most N characters, without NUL.
Chars20 = Annotated[str, BeforeValidator(_blank), Field(max_length=20, pattern=_CHARS)]
Chars40 = Annotated[str, BeforeValidator(_blank), Field(max_length=40, pattern=_CHARS)]
Chars100 = Annotated[str, BeforeValidator(_blank), Field(max_length=100, pattern=_CHARS)]
Chars200 = Annotated[str, BeforeValidator(_blank), Field(max_length=200, pattern=_CHARS)]
Chars500 = Annotated[str, BeforeValidator(_blank), Field(max_length=500, pattern=_CHARS)]
Chars2000 = Annotated[str, BeforeValidator(_blank), Field(max_length=2000, pattern=_CHARS)]
# An identifier: 1..N characters, no control characters (PostgreSQL text refuses NUL; an
# id with one would fail at the database, not here).
Key40 = Annotated[str, Field(min_length=1, max_length=40, pattern=KEY_PATTERN)]
Key64 = Annotated[str, Field(min_length=1, max_length=64, pattern=KEY_PATTERN)]
Key100 = Annotated[str, Field(min_length=1, max_length=100, pattern=KEY_PATTERN)]
Key200 = Annotated[str, Field(min_length=1, max_length=200, pattern=KEY_PATTERN)]
Attributes = Annotated[
    dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=200)]],
    BeforeValidator(lambda v: {} if v is None else v),
    Field(max_length=20),
]


class WebhookBuyer(Body):
    id: Key100
    name: Chars200 = ""
    phone: Chars40 = ""


class WebhookAddress(Body):
    """The canonical address; `country` / `country_code` (ISO 3166-1 alpha-2) optional."""

    name: Chars200
    phone: Chars40 = ""
    province: Chars100 = ""
    city: Chars100 = ""
    district: Chars100 = ""
    line1: Chars500 = ""
    postcode: Chars20 = ""
    country: Chars100 = ""
    country_code: Annotated[str, BeforeValidator(_blank), Field(pattern=r"^([A-Za-z]{2})?$")] = ""


class WebhookLine(Body):
    """A line; `sku` may be empty or null (flagged `unknown_sku`, matched by `variant_id`)."""

    sku: Annotated[
        str, BeforeValidator(_blank), Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")
    ] = ""
    variant_id: Key100 | None = None
    qty: int = Field(ge=1, le=QTY_MAX)
    unit_price: Money = Decimal("0")
    attributes: Attributes = Field(default_factory=dict)
    campaign_id: Key100 | None = None

    def as_line(self) -> dict:
        line = {
            "sku": self.sku,
            "qty": self.qty,
            "unit_price": str(self.unit_price),
            "attributes": self.attributes,
            "campaign_id": self.campaign_id,
        }
        if self.variant_id:
            line["variant_id"] = self.variant_id
        return line


class GenericOrder(Body):
    """SPEC §2.3 canonical order webhook; `updated_at` (optional) orders updates.

    `total` must equal the sum of qty * unit_price over the lines, plus `shipping`, less
    `discount` (both optional, default 0), to the cent."""

    event_id: Key200
    platform: Key40
    platform_order_id: Key100
    buyer: WebhookBuyer
    address: WebhookAddress
    lines: list[WebhookLine] = Field(min_length=1, max_length=LINES_MAX)
    shipping: Money = Decimal("0")
    discount: Money = Decimal("0")
    total: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_at: AwareDatetime
    note: Chars2000 = ""
    updated_at: AwareDatetime | None = None

    @field_validator("total")
    @classmethod
    def _total_matches_lines(cls, total: Decimal, info: ValidationInfo) -> Decimal:
        data = info.data
        if not all(k in data for k in ("lines", "shipping", "discount")):
            return total  # a part is invalid: that error is reported instead
        lines = sum((ln.qty * ln.unit_price for ln in data["lines"]), Decimal("0"))
        expected = lines + data["shipping"] - data["discount"]
        if total != expected:
            raise ValueError(
                f"total {total} does not match the lines: {lines} + shipping "
                f"{data['shipping']} - discount {data['discount']} = {expected}"
            )
        return total


class GenericRefund(Body):
    """A refund request pushed by the platform."""

    event_id: Key200
    platform: Key40
    platform_order_id: Key100
    platform_refund_id: Key200
    amount: Money
    reason: Chars500 = ""
    skus: list[Key64] = Field(default_factory=list, max_length=LINES_MAX)


class GenericDelivery(Body):
    """A delivery confirmation pushed by the platform or carrier."""

    event_id: Key200
    platform: Key40
    platform_order_id: Key100
    delivered_at: AwareDatetime
    source: str = Field("platform", min_length=1, max_length=40)


class GenericCancellation(Body):
    """An order cancelled on the platform: takes the CS cancel's stage path."""

    event_id: Key200
    platform: Key40
    platform_order_id: Key100
    reason: Chars500 = ""
    cancelled_at: AwareDatetime | None = None


class AddressIn(Address):
    """An address as CS edits it: every part at most NAME_MAX characters, no unknown field
    (the event's `Address` ignores them)."""

    model_config = ConfigDict(str_max_length=NAME_MAX, extra="forbid")


class EditLine(LineIn):
    """A line as CS edits it: bounded SKU, quantity, price and attributes."""

    model_config = ConfigDict(str_max_length=NAME_MAX)

    sku: Sku
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


class CancelLine(Body):
    sku: Sku
    qty: Qty
    # Only this shipment's units (a replacement `-R1` may carry the same SKU as `-S1`).
    shipment_id: Id | None = None


class CancelBody(BoundedBody):
    """`lines` (optional): cancel only these units, each by its shipment's stage (SPEC §2.4)."""

    reason: Text = Field(min_length=1)
    lines: list[CancelLine] | None = Field(None, min_length=1, max_length=LINES_MAX)


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
