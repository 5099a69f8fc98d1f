"""Signing, payload builders and event publishing for order_service integration tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared import topics
from shared.envelope import Payload, decode, new_event
from shared.settings import Settings
from tests.support import bearer

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CLERK, CS, OPS = bearer("dev-clerk"), bearer("dev-cs_agent"), bearer("dev-ops")


def generic_order(pid: str | None = None, **over: Any) -> dict:
    body = {
        "event_id": f"evt-{uuid4().hex[:8]}",
        "platform": "taobao",
        "platform_order_id": pid or f"TB-{uuid4().hex[:8]}",
        "buyer": {"id": "buyer-1", "name": "Li Lei", "phone": "13800000000"},
        "address": {
            "name": "Li Lei",
            "phone": "13800000000",
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "line1": "1 West Lake Rd",
            "postcode": "310000",
        },
        "lines": [
            {
                "sku": "SKU-1",
                "qty": 1,
                "unit_price": "59.00",
                "attributes": {"size": "M"},
                "campaign_id": None,
            }
        ],
        "total": "59.00",
        "currency": "CNY",
        "paid_at": START.isoformat(),
        "note": "",
    }
    body.update(over)
    return body


def signed(
    body: dict | bytes,
    *,
    secret: str = "dev-shop-secret",
    shop: str = "demo-shop",
    ts: int | None = None,
) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(ts if ts is not None else int(START.timestamp()))
    sig = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return raw, {
        "X-Shop-Id": shop,
        "X-Timestamp": stamp,
        "X-Signature": f"sha256={sig}",
        "Content-Type": "application/json",
    }


def shopify_order(order_id: int = 820982911946154508, **over: Any) -> dict:
    """Shopify's documented `orders/create` shape (trimmed of fields we ignore)."""
    body = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": "#1001",
        "email": "jon@example.com",
        "created_at": "2026-01-01T07:00:00-05:00",
        "updated_at": "2026-01-01T07:00:00-05:00",
        "processed_at": "2026-01-01T07:00:00-05:00",
        "currency": "USD",
        "total_price": "118.00",
        "subtotal_price": "118.00",
        "financial_status": "paid",
        "fulfillment_status": None,
        "line_items": [
            {
                "id": 866550311766439020,
                "variant_id": 808950810,
                "title": "Tee",
                "quantity": 1,
                "sku": "SKU-2",
                "variant_title": "M / Blue",
                "vendor": None,
                "price": "59.00",
                "requires_shipping": True,
                "taxable": True,
                "gift_card": False,
                "properties": [],
                "product_id": 632910392,
            },
            {
                "id": 141249953214522974,
                "variant_id": 808950811,
                "title": "Speaker",
                "quantity": 1,
                "sku": "SKU-7",
                "variant_title": None,
                "price": "59.00",
                "product_id": 632910393,
            },
        ],
        "shipping_address": {
            "first_name": "Steve",
            "last_name": "Shipper",
            "address1": "123 Shipping Street",
            "address2": None,
            "city": "Shippington",
            "province": "Kentucky",
            "zip": "40003",
            "country": "United States",
            "phone": "555-555-SHIP",
            "company": "Shipping Company",
            "country_code": "US",
            "province_code": "KY",
            "name": "Steve Shipper",
        },
        "customer": {
            "id": 115310627314723954,
            "email": "john@example.com",
            "first_name": "John",
            "last_name": "Smith",
            "phone": None,
            "state": "disabled",
            "currency": "USD",
        },
        "note": None,
    }
    body.update(over)
    return body


def shopify_signed(
    body: dict,
    *,
    secret: str = "dev-shopify-secret",
    webhook_id: str | None = None,
    topic: str = "orders/create",
) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return raw, {
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid4()),
        "X-Shopify-API-Version": "2025-01",
        "Content-Type": "application/json",
    }


async def post_generic(client, path: str, body: dict, **kw):
    raw, headers = signed(body, **kw)
    return await client.post(path, content=raw, headers=headers)


class Publisher:
    """Publishes envelopes as another service would."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)

    async def __aenter__(self) -> Publisher:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.producer.stop()

    async def send(
        self, topic: str, payload: Payload, order_id: str, producer: str = "warehouse_service"
    ) -> str:
        env = new_event(payload, producer=producer, order_id=order_id)
        await self.producer.send_and_wait(
            self.settings.topic(topic), env.encode(), key=order_id.encode()
        )
        return env.event_id


async def read_topic(settings: Settings, topic: str = topics.ORDERS) -> list:
    """Everything on a topic so far (decoded envelopes)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"reader-{uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        out = []
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            if not batch:
                return out
            out += [decode(m.value) for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
