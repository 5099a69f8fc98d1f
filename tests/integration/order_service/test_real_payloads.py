"""Real platform payloads (SPEC §2.3): documented Shopify bodies with their nulls and
international addresses land; a line without a SKU lands flagged `unknown_sku` and waits
for a clerk's SKU mapping; bounds refuse hostile bodies naming the field, storing nothing."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from order_service.adapters import tables as t
from order_service.adapters.uow import OrderUnitOfWork
from order_service.handlers import webhooks as wh
from order_service.handlers.webhooks import IncomingOrder
from tests.fixtures import fixture
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    generic_order,
    post_generic,
    shopify_signed,
)
from tests.support import bearer

pytestmark = pytest.mark.broker
ADMIN = bearer("dev-admin")


async def _count(app, table) -> int:
    async with app.state.runtime.db.reader() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


async def _shopify(client, body: dict, **kw):
    raw, headers = shopify_signed(body, **kw)
    return await client.post("/webhooks/shopify/orders", content=raw, headers=headers)


async def _order(client, order_id: str) -> dict:
    return (await client.get(f"/orders/{order_id}", headers=CLERK)).json()


def _codes(order: dict) -> list[str]:
    return [f["code"] for f in order["flags"]]


@pytest.mark.parametrize("missing", ["", None])
async def test_shopify_order_without_sku_lands_flagged_and_waits_for_review(client, missing):
    body = fixture("shopify/orders_create.json")
    body["line_items"][1]["sku"] = missing
    r = await _shopify(client, body)
    assert r.status_code == 202, r.text
    order = await _order(client, r.json()["order_id"])
    assert order["stage"] == "synced"
    assert _codes(order) == ["unknown_sku"]
    flag = order["flags"][0]
    assert flag["lines"] == [{"line": 1, "variant_id": "49148385", "title": "Gift wrap"}]
    assert [ln["sku"] for ln in order["lines"]] == ["SKU-2", ""]
    assert order["lines"][1]["variant_id"] == "49148385"
    assert order["address"]["country"] == "United States"
    assert order["address"]["country_code"] == "US"
    assert order["address"]["line1"] == "123 Shipping Street"  # no country folded in
    assert order["total"] == "239.00"
    refused = await client.post(
        f"/orders/{order['order_id']}/review", json={"approve": True}, headers=CLERK
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "unknown_sku"


async def test_shopify_sku_longer_than_any_catalog_sku_lands_flagged(client):
    """Shopify allows 255-character SKUs; ours are at most 64, so a longer one can only be
    matched by a mapping: the order lands flagged, keeping what the platform sent."""
    body = fixture("shopify/orders_create.json")
    body["line_items"][1]["sku"] = "X" * 255
    r = await _shopify(client, body)
    assert r.status_code == 202, r.text
    order = await _order(client, r.json()["order_id"])
    assert _codes(order) == ["unknown_sku"]
    assert order["lines"][1]["sku"] == ""
    assert order["lines"][1]["attributes"]["platform_sku"] == "X" * 255


async def test_auto_review_never_takes_an_order_with_an_unknown_sku(client):
    r = await client.put("/review-policy", json={"auto_review": True}, headers=ADMIN)
    assert r.status_code == 200
    clean = fixture("shopify/orders_create.json")
    clean["line_items"][1]["sku"] = "SKU-3"
    clean["id"] += 1
    assert (await _order(client, (await _shopify(client, clean)).json()["order_id"]))[
        "stage"
    ] == "reviewed"
    r = await _shopify(client, fixture("shopify/orders_create.json"))
    order = await _order(client, r.json()["order_id"])
    assert order["stage"] == "synced" and _codes(order) == ["unknown_sku"]


async def test_guest_checkout_international_with_nulls_lands(client):
    body = fixture("shopify/orders_create_guest_de.json")
    r = await _shopify(client, body)
    assert r.status_code == 202, r.text
    order = await _order(client, r.json()["order_id"])
    assert order["buyer"] == {"id": "anna@example.de", "name": "Anna Müller", "phone": ""}
    address = order["address"]
    assert (address["country"], address["country_code"], address["city"]) == (
        "Germany",
        "DE",
        "Berlin",
    )
    assert address["phone"] == "" and address["province"] == ""
    assert order["note"] == "" and order["currency"] == "EUR"
    assert _codes(order) == ["unknown_sku"]
    assert order["lines"][0]["qty"] == 2


async def test_generic_payload_with_nulls_lands_with_country(app, client):
    body = fixture("generic/order_with_nulls.json")
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 202, r.text
    order = await _order(client, r.json()["order_id"])
    assert order["address"]["country"] == "France"
    assert order["address"]["country_code"] == "FR"
    assert order["buyer"]["phone"] == "" and order["note"] == ""
    assert _codes(order) == ["unknown_sku"]
    assert order["lines"][1]["variant_id"] == "TB-VAR-77"
    async with app.state.runtime.db.reader() as s:
        rows = (await s.execute(select(t.messaging.outbox.c.value))).scalars().all()
    synced = [json.loads(v) for v in rows if json.loads(v)["type"] == "order.synced"]
    assert synced[0]["payload"]["address"]["country"] == "France"


async def test_sku_mapping_resolves_waiting_orders_and_maps_later_ones(app, client):
    first = await _shopify(client, fixture("shopify/orders_create.json"))
    waiting = first.json()["order_id"]
    assert (await client.get("/sku-mappings", headers=CLERK)).json() == {"mappings": []}
    mapping = {"platform": "shopify", "variant_id": "49148385", "sku": "SKU-3"}
    denied = await client.put("/sku-mappings", json=mapping, headers=CS)
    assert denied.status_code == 403
    unknown = await client.put("/sku-mappings", json={**mapping, "sku": "NOPE"}, headers=CLERK)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_sku"
    r = await client.put("/sku-mappings", json=mapping, headers=CLERK)
    assert r.status_code == 200, r.text
    assert r.json()["mapping"]["sku"] == "SKU-3"
    assert r.json()["resolved_orders"] == [waiting]
    order = await _order(client, waiting)
    assert [ln["sku"] for ln in order["lines"]] == ["SKU-2", "SKU-3"]
    assert order["lines"][1]["category"] == "apparel"
    assert _codes(order) == [] and order["stage"] == "synced"
    timeline = (await client.get(f"/orders/{waiting}/timeline", headers=CLERK)).json()
    assert "sku_mapped" in [e["kind"] for e in timeline["entries"]]
    approved = await client.post(f"/orders/{waiting}/review", json={"approve": True}, headers=CLERK)
    assert approved.status_code == 200 and approved.json()["stage"] == "reviewed"

    later = fixture("shopify/orders_create.json")
    later["id"] += 7
    later["line_items"][1]["sku"] = None
    r = await _shopify(client, later)
    order = await _order(client, r.json()["order_id"])
    assert [ln["sku"] for ln in order["lines"]] == ["SKU-2", "SKU-3"] and _codes(order) == []
    listed = (await client.get("/sku-mappings", headers=CLERK)).json()["mappings"]
    assert [(m["platform"], m["variant_id"], m["sku"]) for m in listed] == [
        ("shopify", "49148385", "SKU-3")
    ]
    # Changed by an admin: the mapping is replaced, not duplicated.
    r = await client.put("/sku-mappings", json={**mapping, "sku": "SKU-4"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["resolved_orders"] == []
    assert await _count(app, t.sku_mappings) == 1


async def test_an_order_update_keeps_the_mapped_sku(client):
    body = fixture("shopify/orders_create.json")
    order_id = (await _shopify(client, body)).json()["order_id"]
    mapping = {"platform": "shopify", "variant_id": "49148385", "sku": "SKU-3"}
    assert (await client.put("/sku-mappings", json=mapping, headers=CLERK)).status_code == 200
    body["updated_at"] = "2026-01-01T08:00:00-05:00"
    body["note"] = "leave at the door"
    r = await _shopify(client, body, topic="orders/updated")
    assert r.status_code == 200, r.text
    order = await _order(client, order_id)
    assert order["note"] == "leave at the door"
    assert [ln["sku"] for ln in order["lines"]] == ["SKU-2", "SKU-3"] and _codes(order) == []


# ---- bounds ----------------------------------------------------------------------------
def _line(**over) -> dict:
    return {"sku": "SKU-1", "qty": 1, "unit_price": "59.00", **over}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [_line(qty=10_001)], "total": "590059.00"}, "lines.0.qty"),
        ({"lines": [_line(qty=10**30)]}, "lines.0.qty"),
        ({"lines": [_line(unit_price="1e100")]}, "lines.0.unit_price"),
        ({"lines": [_line(unit_price="59.001")], "total": "59.001"}, "lines.0.unit_price"),
        ({"lines": [_line(unit_price="-1.00")], "total": "0.00"}, "lines.0.unit_price"),
        ({"total": "1000000000.01"}, "total"),
        ({"total": "58.00"}, "total"),
        ({"lines": [_line() for _ in range(501)], "total": "29559.00"}, "lines"),
        ({"lines": [_line(sku="S" * 65)]}, "lines.0.sku"),
        ({"lines": [_line(attributes={f"k{i}": "v" for i in range(21)})]}, "lines.0.attributes"),
        ({"note": "n" * 2001}, "note"),
        ({"platform_order_id": "P" * 101}, "platform_order_id"),
        ({"event_id": "E" * 201}, "event_id"),
        ({"currency": "usd"}, "currency"),
        ({"buyer": {"id": "b" * 101}}, "buyer.id"),
        ({"discount": "60.00", "total": "-1.00"}, "total"),
    ],
)
async def test_generic_order_over_a_bound_is_422_naming_the_field(app, client, change, field):
    body = generic_order(**change)
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(field), r.json()
    assert await _count(app, t.orders) == 0
    assert await _count(app, t.webhook_receipts) == 0


async def test_generic_address_line_over_its_bound_is_422(app, client):
    body = generic_order()
    body["address"]["line1"] = "x" * 501
    r = await post_generic(client, "/webhooks/generic/orders", body)
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("address.line1")
    assert await _count(app, t.orders) == 0


async def test_generic_total_counts_shipping_and_discount(client):
    body = generic_order(shipping="8.00", discount="3.00", total="64.00")
    assert (await post_generic(client, "/webhooks/generic/orders", body)).status_code == 202


async def test_shopify_bounds_are_generous_but_exist(app, client):
    body = fixture("shopify/orders_create.json")
    # Shopify's own test notification carries a negative subtotal and a long SKU is legal.
    body["subtotal_price"] = "-5.00"
    body["line_items"][0]["sku"] = "SKU-2"
    body["line_items"][1]["sku"] = "X" * 255
    body["total_price"] = "1.00"  # taxes, shipping and discounts: not ours to second-guess
    assert (await _shopify(client, body)).status_code == 202
    hostile = fixture("shopify/orders_create.json")
    hostile["id"] += 1
    hostile["line_items"][0]["quantity"] = 10**30
    r = await _shopify(client, hostile)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("line_items.0.quantity")
    hostile = fixture("shopify/orders_create.json")
    hostile["id"] += 2
    hostile["line_items"][0]["price"] = "1e100"
    r = await _shopify(client, hostile)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("line_items.0.price")
    assert await _count(app, t.orders) == 1


async def test_a_mapping_set_while_its_order_commits_still_resolves_it(app, client, databases):
    """PostgreSQL interleaving: the order's transaction looked up the mapping before it was
    set, and the mapping's transaction could not see the uncommitted waiting order."""
    if not databases.postgres:
        pytest.skip("SQLite write transactions are exclusive: this interleaving cannot occur")
    rt = app.state.runtime
    body = fixture("generic/order_with_nulls.json")
    cmd = IncomingOrder(
        source="generic:demo-shop",
        webhook_id=body["event_id"],
        shop_id="demo-shop",
        platform="taobao",
        platform_order_id=body["platform_order_id"],
        buyer={"id": "buyer-intl-1", "name": "", "phone": ""},
        address={**body["address"], "phone": "", "province": "", "district": ""},
        lines=[
            {"sku": "SKU-1", "qty": 2, "unit_price": "59.00"},
            {"sku": "", "variant_id": "TB-VAR-77", "qty": 1, "unit_price": "20.50"},
        ],
        total=Decimal(body["total"]),
        currency="EUR",
        paid_at=datetime.fromisoformat(body["paid_at"]),
    )
    mapping = {"platform": "taobao", "variant_id": "TB-VAR-77", "sku": "SKU-5"}
    async with OrderUnitOfWork(rt) as uow:
        [order] = await wh._create(uow, [cmd])
        r = await client.put("/sku-mappings", json=mapping, headers=CLERK)
        assert r.status_code == 200 and r.json()["resolved_orders"] == []
        await uow.commit()
    await wh._settle(app.state.deps, [order])
    got = await _order(client, order.id)
    assert [ln["sku"] for ln in got["lines"]] == ["SKU-1", "SKU-5"] and _codes(got) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform_order_id": "TB-\x00"}, "platform_order_id"),
        ({"event_id": "e\x01"}, "event_id"),
        ({"note": "a\x00b"}, "note"),
        ({"buyer": {"id": "b\x00"}}, "buyer.id"),
    ],
)
async def test_control_characters_in_ids_and_nul_anywhere_are_422(app, client, change, field):
    """PostgreSQL text refuses NUL: refused here, naming the field, not a 500 later."""
    r = await post_generic(client, "/webhooks/generic/orders", generic_order(**change))
    assert r.status_code == 422 and r.json()["error"]["message"].startswith(field)
    bad = {"platform": "shopify", "variant_id": "v\x00", "sku": "SKU-1"}
    r = await client.put("/sku-mappings", json=bad, headers=CLERK)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("variant_id")
    assert await _count(app, t.orders) == 0
