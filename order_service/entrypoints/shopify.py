"""Shopify's own `orders/create|updated|paid` and `orders/cancelled` payloads, mapped to the
canonical order.

Read as Shopify really sends them (tests/fixtures/shopify/): `sku` may be `""` or `null`,
phones, notes, the customer and address parts are often `null`, addresses carry `country`
and `country_code`. Bounds are generous (no real order is refused) but exist: strings are
capped, at most 5,000 line items, quantities up to 10^6, amounts within 0..10^10. Totals are
not checked against the lines: Shopify's `total_price` includes taxes, shipping, duties,
tips and discounts, and its own test notification carries a negative subtotal.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.limits import SKU_MAX

MAX_ID = 2**63 - 1
Str = Annotated[str, Field(max_length=1000)]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("10000000000"))]


class _Open(BaseModel):
    # Shopify sends many more fields than we read; unknown ones are ignored.
    model_config = ConfigDict(extra="ignore")


class ShopifyLineItem(_Open):
    id: int = Field(ge=0, le=MAX_ID)
    variant_id: int | None = Field(None, ge=0, le=MAX_ID)
    product_id: int | None = Field(None, ge=0, le=MAX_ID)
    sku: Str | None = None
    quantity: int = Field(gt=0, le=1_000_000)
    price: Amount
    variant_title: Str | None = None
    title: Str | None = ""


class ShopifyMoney(_Open):
    amount: Amount | None = None


class ShopifyMoneySet(_Open):
    shop_money: ShopifyMoney | None = None


class ShopifyShippingLine(_Open):
    price: Amount | None = None
    is_removed: bool | None = False


class ShopifyAddress(_Open):
    first_name: Str | None = ""
    last_name: Str | None = ""
    name: Str | None = ""
    company: Str | None = ""
    address1: Str | None = ""
    address2: Str | None = ""
    city: Str | None = ""
    province: Str | None = ""
    province_code: Str | None = ""
    zip: Str | None = ""
    country: Str | None = ""
    country_code: Str | None = ""
    phone: Str | None = ""

    @property
    def full_name(self) -> str:
        return self.name or " ".join(p for p in (self.first_name, self.last_name) if p)


class ShopifyCustomer(_Open):
    id: int = Field(ge=0, le=MAX_ID)
    first_name: Str | None = ""
    last_name: Str | None = ""
    phone: Str | None = ""
    email: Str | None = ""


class ShopifyOrder(_Open):
    id: int = Field(ge=0, le=MAX_ID)
    admin_graphql_api_id: Str = ""
    name: Str = ""
    email: Str | None = ""
    phone: Str | None = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: AwareDatetime | None = None
    currency: str = Field(min_length=3, max_length=3)
    total_price: Amount
    financial_status: Str | None = "paid"
    line_items: list[ShopifyLineItem] = Field(min_length=1, max_length=5000)
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    customer: ShopifyCustomer | None = None
    note: Annotated[str, Field(max_length=10_000)] | None = ""
    # What `total_price` includes besides the lines (with taxes and tips, not read).
    total_discounts: Amount | None = None
    total_shipping_price_set: ShopifyMoneySet | None = None
    shipping_lines: list[ShopifyShippingLine] | None = Field(None, max_length=100)

    @property
    def paid(self) -> bool:
        return self.financial_status in ("paid", "partially_refunded", "refunded")

    def paid_at(self) -> datetime:
        return self.processed_at or self.created_at

    def shipping(self) -> Decimal | None:
        """The shipping charged (shop currency): `total_shipping_price_set`, else the sum
        of the `shipping_lines` not removed; None when the payload says neither."""
        given = self.total_shipping_price_set
        money = given.shop_money if given is not None else None
        if money is not None and money.amount is not None:
            return money.amount
        prices = [s.price for s in self.shipping_lines or () if not s.is_removed]
        if not prices or any(p is None for p in prices):
            return None
        return sum((p for p in prices if p is not None), Decimal("0"))

    def discount(self) -> Decimal | None:
        """`total_discounts`: every discount of the order; None when absent or null."""
        return self.total_discounts

    def buyer(self) -> dict:
        c = self.customer
        ship = self.shipping_address or self.billing_address or ShopifyAddress()
        name = " ".join(p for p in ((c.first_name, c.last_name) if c else ()) if p)
        fallback_id = self.email or self.phone or f"guest-{self.id}"
        return {
            "id": str(c.id) if c else fallback_id[:100],
            "name": name or ship.full_name,
            "phone": (c.phone if c else "") or self.phone or "",
        }

    def address(self) -> dict:
        a = self.shipping_address or ShopifyAddress()
        return {
            "name": a.full_name,
            "phone": a.phone or (self.customer.phone if self.customer else "") or self.phone or "",
            "province": a.province or "",
            "city": a.city or "",
            "district": "",
            "line1": ", ".join(p for p in (a.address1, a.address2) if p),
            "postcode": a.zip or "",
            "country": a.country or "",
            "country_code": a.country_code or "",
        }

    def lines(self) -> list[dict]:
        out = []
        for li in self.line_items:
            attributes = {"variant": li.variant_title} if li.variant_title else {}
            if li.title:
                attributes["title"] = li.title
            sku = li.sku or ""
            if len(sku) > SKU_MAX:  # no catalog SKU is that long: a mapping must name it
                attributes["platform_sku"] = sku
                sku = ""
            line: dict[str, Any] = {
                "sku": sku,
                "qty": li.quantity,
                "unit_price": str(li.price),
                "attributes": attributes,
                "campaign_id": None,
            }
            if li.variant_id is not None:
                line["variant_id"] = str(li.variant_id)
            out.append(line)
        return out


class ShopifyCancelledOrder(_Open):
    """`orders/cancelled`: the whole order again; only what a cancellation needs is read."""

    id: int = Field(ge=0, le=MAX_ID)
    cancel_reason: Annotated[str, Field(max_length=100)] | None = None
    cancelled_at: AwareDatetime | None = None


def shop_from_domain(domain: str) -> str:
    """`demo-shop.myshopify.com` → `demo-shop`."""
    return domain.strip().lower().removesuffix(".myshopify.com")
