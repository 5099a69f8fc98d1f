"""Value types that several event contracts share."""

from decimal import Decimal

from pydantic import BaseModel, Field

from shared.envelope import TOLERANT


class Value(BaseModel):
    """A value inside an event payload: unknown fields ignored, like the payload's."""

    model_config = TOLERANT


class Address(Value):
    name: str
    phone: str
    province: str = ""
    city: str = ""
    district: str = ""
    line1: str = ""
    postcode: str = ""
    # Optional since issue 12 (international orders); events without them still parse.
    country: str = ""
    country_code: str = ""


class Line(Value):
    """One order line. Money is a Decimal serialised as a string."""

    sku: str
    qty: int = Field(gt=0)
    unit_price: Decimal = Decimal("0")
    attributes: dict[str, str] = Field(default_factory=dict)
    campaign_id: str | None = None
    supplier_id: str | None = None
    category: str | None = None
    # The platform's variant: how a line without a SKU is matched later (SKU mapping).
    variant_id: str | None = None


class Buyer(Value):
    id: str
    name: str = ""
    phone: str = ""
