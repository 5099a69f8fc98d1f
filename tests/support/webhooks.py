"""Build platform webhook requests the way the platforms sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def generic_order(
    platform_order_id: str | None = None,
    *,
    skus=("SKU-1",),
    qty: int = 1,
    price: str = "59.00",
    buyer: str = "buyer-1",
    note: str = "",
    campaign_id: str | None = None,
) -> dict[str, Any]:
    """A canonical order body (SPEC §2.3) with every field filled in."""
    lines = [
        {
            "sku": sku,
            "qty": qty,
            "unit_price": price,
            "attributes": {"size": "M"},
            "campaign_id": campaign_id,
        }
        for sku in skus
    ]
    total = f"{float(price) * qty * len(skus):.2f}"
    return {
        "event_id": str(uuid.uuid4()),
        "platform": "taobao",
        "platform_order_id": platform_order_id or f"TB-{uuid.uuid4().hex[:12]}",
        "buyer": {"id": buyer, "name": "Li Lei", "phone": "13800000000"},
        "address": {
            "name": "Li Lei",
            "phone": "13800000000",
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "line1": "1 Wensan Rd",
            "postcode": "310000",
        },
        "lines": lines,
        "total": total,
        "currency": "CNY",
        "paid_at": "2026-11-23T08:00:00+00:00",
        "note": note,
    }


def generic_cancellation(
    platform_order_id: str, *, reason: str = "buyer cancelled", platform: str = "taobao"
) -> dict[str, Any]:
    """A `POST /webhooks/generic/cancellations` body (signed like an order)."""
    return {
        "event_id": str(uuid.uuid4()),
        "platform": platform,
        "platform_order_id": platform_order_id,
        "reason": reason,
        "cancelled_at": None,
    }


def sign_generic(
    body: dict | bytes,
    *,
    secret: str = "dev-shop-secret",
    shop: str = "demo-shop",
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {
        "X-Shop-Id": shop,
        "X-Timestamp": ts,
        "X-Signature": f"sha256={digest}",
        "Content-Type": "application/json",
    }
    return headers, raw


def sign_shopify(
    body: dict | bytes,
    *,
    secret: str = "dev-shopify-secret",
    shop_domain: str = "demo-shop.myshopify.com",
    topic: str = "orders/create",
    webhook_id: str | None = None,
) -> tuple[dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    headers = {
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    return headers, raw
