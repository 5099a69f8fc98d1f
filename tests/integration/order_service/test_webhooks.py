"""Webhooks: signatures, replay window, size limit, shape errors, idempotency, ordering."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from order_service.adapters import tables as t
from tests.integration.order_service.helpers import (
    CLERK,
    generic_order,
    post_generic,
    shopify_order,
    shopify_signed,
    signed,
)

pytestmark = pytest.mark.broker


async def _count(app, table) -> int:
    async with app.state.runtime.db.reader() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


async def _outbox_types(app) -> list[str]:
    async with app.state.runtime.db.reader() as s:
        rows = (await s.execute(select(t.messaging.outbox.c.value))).scalars().all()
    return [json.loads(v)["type"] for v in rows]


async def test_generic_order_lands_once_and_duplicates_answer_200(app, client):
    body = generic_order("TB-1")
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 202, r.text
    order_id = r.json()["order_id"]
    assert r.json()["stage"] == "synced"
    again = await post_generic(client, "/webhooks/generic/orders", body)
    other_event = await post_generic(
        client, "/webhooks/generic/orders", {**body, "event_id": "another-delivery"}
    )
    for dup in (again, other_event):
        assert dup.status_code == 200
        assert dup.json()["order_id"] == order_id
    assert await _count(app, t.orders) == 1
    assert (await _outbox_types(app)).count("order.synced") == 1
    got = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert got["lines"][0]["category"] == "apparel"
    assert got["platform_order_id"] == "TB-1"


async def test_bad_signature_401_and_nothing_stored(app, client):
    raw, headers = signed(generic_order(), secret="wrong")
    r = await client.post("/webhooks/generic/orders", content=raw, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"
    raw, headers = signed(generic_order(), ts=1_000)  # far outside the replay window
    r = await client.post("/webhooks/generic/orders", content=raw, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "stale_timestamp"
    assert await _count(app, t.orders) == 0
    assert await _count(app, t.messaging.outbox) == 0


@pytest.mark.parametrize("stamp", ["9" * 5000, "²".encode(), "-1", "1e9"])
async def test_a_timestamp_that_is_no_unix_seconds_is_401(app, client, stamp):
    raw, headers = signed(generic_order())
    headers["X-Timestamp"] = stamp  # int() fails on 5,000 digits and on "²" (isdigit is true)
    r = await client.post("/webhooks/generic/orders", content=raw, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
    assert await _count(app, t.orders) == 0


async def test_malformed_body_422_names_the_field(client):
    body = generic_order()
    body["lines"][0]["qty"] = 0
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 422
    assert "lines.0.qty" in r.json()["error"]["message"]


async def test_body_size_limit_413(client):
    body = generic_order(note="x" * (300 * 1024))
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 413


async def test_shopify_orders_create_good_bad_and_duplicate(app, client):
    body = shopify_order()
    raw, headers = shopify_signed(body, secret="nope")
    assert (
        await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    ).status_code == 401
    raw, headers = shopify_signed(body)
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 202, r.text
    order_id = r.json()["order_id"]
    again = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert again.status_code == 200 and again.json()["order_id"] == order_id
    order = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert order["platform"] == "shopify"
    assert order["platform_order_id"] == str(body["id"])
    assert order["buyer"]["id"] == str(body["customer"]["id"])
    assert order["address"]["city"] == "Shippington"
    assert [ln["supplier_id"] for ln in order["lines"]] == [None, "SUP-1"]
    assert order["total"] == "118.00"
    bad = shopify_order(line_items=[{"id": 1, "sku": "SKU-1", "quantity": "many", "price": "1.00"}])
    raw, headers = shopify_signed(bad)
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 422
    assert "line_items.0.quantity" in r.json()["error"]["message"]


async def test_shopify_updates_out_of_order_never_overwrite_newer(client):
    first = shopify_order(updated_at="2026-01-01T08:00:00-05:00")
    raw, headers = shopify_signed(first)
    order_id = (await client.post("/webhooks/shopify/orders", content=raw, headers=headers)).json()[
        "order_id"
    ]
    newer = shopify_order(
        updated_at="2026-01-01T09:00:00-05:00",
        shipping_address={**first["shipping_address"], "city": "Newtown"},
    )
    older = shopify_order(
        updated_at="2026-01-01T08:30:00-05:00",
        shipping_address={**first["shipping_address"], "city": "Oldtown"},
    )
    for body in (newer, older):
        raw, headers = shopify_signed(body, topic="orders/updated")
        r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
        assert r.status_code == 200
    order = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert order["address"]["city"] == "Newtown"
    timeline = (await client.get(f"/orders/{order_id}/timeline", headers=CLERK)).json()
    assert "stale_platform_update_ignored" in [e["kind"] for e in timeline["entries"]]


async def test_refund_before_its_order_is_parked_then_applied(app, client):
    refund = {
        "event_id": "r-1",
        "platform": "taobao",
        "platform_order_id": "TB-LATE",
        "platform_refund_id": "RF-1",
        "amount": "59.00",
        "reason": "changed mind",
    }
    r = await post_generic(client, "/webhooks/generic/refunds", refund)
    assert r.status_code == 202
    assert r.json()["parked"] is True and r.json()["order_id"] is None
    dup = await post_generic(client, "/webhooks/generic/refunds", refund)
    assert dup.status_code == 200
    r = await post_generic(client, "/webhooks/generic/orders", generic_order("TB-LATE"))
    order_id = r.json()["order_id"]
    types = await _outbox_types(app)
    assert types.count("order.refund_requested") == 1
    assert types.index("order.synced") < types.index("order.refund_requested")
    timeline = (await client.get(f"/orders/{order_id}/timeline", headers=CLERK)).json()
    assert "refund_requested" in [e["kind"] for e in timeline["entries"]]
