"""Shipping and discount (SPEC §2.3, §2.4): what the platform says the total includes is
stored on the order, shown by `GET /orders/{id}` and carried on `order.synced`, so that
after-sales refunds lines by them; a platform that says nothing leaves them unknown."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from order_service.adapters import tables as t
from tests.fixtures import fixture
from tests.integration.order_service.helpers import (
    CLERK,
    generic_order,
    post_generic,
    shopify_order,
    shopify_signed,
)

pytestmark = pytest.mark.broker

LINES = [
    {"sku": "SKU-1", "qty": 2, "unit_price": "30.00"},
    {"sku": "SKU-2", "qty": 1, "unit_price": "40.00"},
]


async def _synced(app, order_id: str) -> dict:
    async with app.state.runtime.db.reader() as s:
        rows = (await s.execute(select(t.messaging.outbox.c.value))).scalars().all()
    events = [json.loads(v) for v in rows]
    [found] = [e for e in events if e["type"] == "order.synced" and e["order_id"] == order_id]
    return found["payload"]


async def _shopify(client, body: dict):
    raw, headers = shopify_signed(body)
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()["order_id"]


def _money(doc: dict) -> tuple:
    return doc.get("shipping", "absent"), doc.get("discount", "absent")


async def test_generic_shipping_and_discount_are_stored_shown_and_carried(app, client):
    body = generic_order(lines=LINES, shipping="10.00", discount="20.00", total="90.00")
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 202, r.text
    order_id = r.json()["order_id"]
    got = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert (got["total"], *_money(got)) == ("90.00", "10.00", "20.00")
    assert _money(await _synced(app, order_id)) == ("10.00", "20.00")


async def test_generic_without_them_carries_zero_the_total_matched_the_lines(app, client):
    r = await post_generic(client, "/webhooks/generic/orders", generic_order())
    order_id = r.json()["order_id"]
    got = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert _money(got) == ("0", "0")
    assert _money(await _synced(app, order_id)) == ("0", "0")


async def test_shopify_total_shipping_and_total_discounts(app, client):
    order_id = await _shopify(client, fixture("shopify/orders_create.json"))
    got = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert _money(got) == ("10.00", "5.00")
    assert _money(await _synced(app, order_id)) == ("10.00", "5.00")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # only the shipping lines: their prices add up (a removed one does not count)
        (
            {
                "shipping_lines": [
                    {"price": "4.00", "title": "A"},
                    {"price": "2.50", "title": "B"},
                    {"price": "9.00", "title": "C", "is_removed": True},
                ],
                "total_discounts": "0.00",
            },
            ("6.50", "0.00"),
        ),
        # nulls where Shopify sends them: unknown, as when absent
        (
            {
                "total_discounts": None,
                "total_shipping_price_set": None,
                "shipping_lines": None,
            },
            (None, None),
        ),
        (
            {"total_shipping_price_set": {"shop_money": None}, "shipping_lines": []},
            (None, None),
        ),
        ({}, (None, None)),
    ],
)
async def test_shopify_shipping_lines_nulls_and_absent(app, client, extra, expected):
    order_id = await _shopify(client, shopify_order(order_id=4242, **extra))
    got = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert _money(got) == expected
    assert _money(await _synced(app, order_id)) == expected


async def test_a_bad_shopify_discount_is_422_naming_it(app, client):
    raw, headers = shopify_signed(shopify_order(order_id=4343, total_discounts="-1.00"))
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 422
    assert "total_discounts" in r.json()["error"]["message"]
