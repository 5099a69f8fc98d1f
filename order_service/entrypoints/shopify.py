"""Shopify's own `orders/create` / `orders/updated` payload, mapped to the canonical order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Open(BaseModel):
    # Shopify sends many more fields than we read; unknown ones are ignored.
    model_config = ConfigDict(extra="ignore")


class ShopifyLineItem(_Open):
    id: int
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    price: Decimal = Field(ge=0)
    variant_title: str | None = None
    title: str = ""


class ShopifyAddress(_Open):
    first_name: str | None = ""
    last_name: str | None = ""
    address1: str | None = ""
    address2: str | None = ""
    city: str | None = ""
    province: str | None = ""
    zip: str | None = ""
    country: str | None = ""
    phone: str | None = ""


class ShopifyCustomer(_Open):
    id: int
    first_name: str | None = ""
    last_name: str | None = ""
    phone: str | None = ""
    email: str | None = ""


class ShopifyOrder(_Open):
    id: int
    admin_graphql_api_id: str = ""
    name: str = ""
    email: str | None = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: AwareDatetime | None = None
    currency: str = Field(min_length=3, max_length=3)
    total_price: Decimal = Field(ge=0)
    financial_status: str = "paid"
    line_items: list[ShopifyLineItem] = Field(min_length=1)
    shipping_address: ShopifyAddress | None = None
    customer: ShopifyCustomer | None = None
    note: str | None = ""

    @property
    def paid(self) -> bool:
        return self.financial_status in ("paid", "partially_refunded", "refunded")

    def paid_at(self) -> datetime:
        return self.processed_at or self.created_at

    def buyer(self) -> dict:
        c = self.customer
        name = " ".join(p for p in ((c.first_name or "", c.last_name or "") if c else ()) if p)
        return {
            "id": str(c.id) if c else (self.email or f"guest-{self.id}"),
            "name": name,
            "phone": (c.phone or "") if c else "",
        }

    def address(self) -> dict:
        a = self.shipping_address or ShopifyAddress()
        line1 = ", ".join(p for p in (a.address1, a.address2) if p)
        return {
            "name": " ".join(p for p in (a.first_name, a.last_name) if p),
            "phone": a.phone or (self.customer.phone if self.customer else "") or "",
            "province": a.province or "",
            "city": a.city or "",
            "district": "",
            "line1": f"{line1}, {a.country}" if a.country and line1 else line1,
            "postcode": a.zip or "",
        }

    def lines(self) -> list[dict]:
        return [
            {
                "sku": li.sku,
                "qty": li.quantity,
                "unit_price": str(li.price),
                "attributes": {"variant": li.variant_title} if li.variant_title else {},
                "campaign_id": None,
            }
            for li in self.line_items
        ]


def shop_from_domain(domain: str) -> str:
    """`demo-shop.myshopify.com` → `demo-shop`."""
    return domain.strip().lower().removesuffix(".myshopify.com")
